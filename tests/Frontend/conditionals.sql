-- CASE in both forms, COALESCE, NULLIF, GREATEST and LEAST.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select case when a > 0 then 'pos' when a < 0 then 'neg' else 'zero' end,
  case a when 1 then 'one' when 2 then 'two' end,
  case when a then 1 end,
  coalesce(a, b, 0), nullif(a, 0), greatest(a, b, c), least(a, 1)

-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (case (when (binary ">" (column a) (literal integer "0")) (literal string "pos")) (when (binary "<" (column a) (literal integer "0")) (literal string "neg")) (else (literal string "zero"))))
-- CHECK-NEXT:    (item (case (operand (column a)) (when (literal integer "1") (literal string "one")) (when (literal integer "2") (literal string "two"))))
-- CHECK-NEXT:    (item (case (when (column a) (literal integer "1"))))
-- CHECK-NEXT:    (item (coalesce (column a) (column b) (literal integer "0")))
-- CHECK-NEXT:    (item (nullif (column a) (literal integer "0")))
-- CHECK-NEXT:    (item (greatest (column a) (column b) (column c)))
-- CHECK-NEXT:    (item (least (column a) (literal integer "1")))))
