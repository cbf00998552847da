-- Operators: arithmetic, comparison (`!=` is PostgreSQL's `<>`), concatenation, prefix operators,
-- AND/OR chains flattened into one node however they nest, NOT, IS [NOT] DISTINCT FROM, the IS
-- tests, BETWEEN, IN lists and LIKE. Other operators keep their spelling for the binder to judge.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select a + b * c, (a + b) * c, a - b / c % d, a = b, a != b, a <> b, a < b, a <= b, a > b, a >= b,
  s || 't', -a, +a, a<-1, a ^ b,
  a and b and c, a or (b or c), (a and b) and (c and d), a and b or c, not a, not (a or b),
  a is distinct from b, a is not distinct from b,
  a is null, a isnull, a is not null, a notnull,
  a is true, a is not true, a is false, a is not false, a is unknown, a is not unknown,
  a between 1 and 2, a not between 1 and 2, a between symmetric 2 and 1,
  a not between symmetric 2 and 1,
  a in (1, 2, 3), a not in ('x'),
  s like 'a%', s not like 'b_', s ilike 'C%', s not ilike 'd', s ~~ 'e'

-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (binary "+" (column a) (binary "*" (column b) (column c))))
-- CHECK-NEXT:    (item (binary "*" (binary "+" (column a) (column b)) (column c)))
-- CHECK-NEXT:    (item (binary "-" (column a) (binary "%" (binary "/" (column b) (column c)) (column d))))
-- CHECK-NEXT:    (item (binary "=" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "<>" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "<>" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "<" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "<=" (column a) (column b)))
-- CHECK-NEXT:    (item (binary ">" (column a) (column b)))
-- CHECK-NEXT:    (item (binary ">=" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "||" (column s) (literal string "t")))
-- CHECK-NEXT:    (item (unary "-" (column a)))
-- CHECK-NEXT:    (item (unary "+" (column a)))
-- CHECK-NEXT:    (item (binary "<" (column a) (literal integer "-1")))
-- CHECK-NEXT:    (item (binary "^" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "AND" (column a) (column b) (column c)))
-- CHECK-NEXT:    (item (binary "OR" (column a) (column b) (column c)))
-- CHECK-NEXT:    (item (binary "AND" (column a) (column b) (column c) (column d)))
-- CHECK-NEXT:    (item (binary "OR" (binary "AND" (column a) (column b)) (column c)))
-- CHECK-NEXT:    (item (unary "NOT" (column a)))
-- CHECK-NEXT:    (item (unary "NOT" (binary "OR" (column a) (column b))))
-- CHECK-NEXT:    (item (binary "IS DISTINCT FROM" (column a) (column b)))
-- CHECK-NEXT:    (item (binary "IS NOT DISTINCT FROM" (column a) (column b)))
-- CHECK-NEXT:    (item (is-null (column a)))
-- CHECK-NEXT:    (item (is-null (column a)))
-- CHECK-NEXT:    (item (is-not-null (column a)))
-- CHECK-NEXT:    (item (is-not-null (column a)))
-- CHECK-NEXT:    (item (is-true (column a)))
-- CHECK-NEXT:    (item (is-not-true (column a)))
-- CHECK-NEXT:    (item (is-false (column a)))
-- CHECK-NEXT:    (item (is-not-false (column a)))
-- CHECK-NEXT:    (item (is-unknown (column a)))
-- CHECK-NEXT:    (item (is-not-unknown (column a)))
-- CHECK-NEXT:    (item (between (column a) (literal integer "1") (literal integer "2")))
-- CHECK-NEXT:    (item (not-between (column a) (literal integer "1") (literal integer "2")))
-- CHECK-NEXT:    (item (between symmetric (column a) (literal integer "2") (literal integer "1")))
-- CHECK-NEXT:    (item (not-between symmetric (column a) (literal integer "2") (literal integer "1")))
-- CHECK-NEXT:    (item (in (column a) (literal integer "1") (literal integer "2") (literal integer "3")))
-- CHECK-NEXT:    (item (not-in (column a) (literal string "x")))
-- CHECK-NEXT:    (item (like (column s) (literal string "a%")))
-- CHECK-NEXT:    (item (not-like (column s) (literal string "b_")))
-- CHECK-NEXT:    (item (ilike (column s) (literal string "C%")))
-- CHECK-NEXT:    (item (not-ilike (column s) (literal string "d")))
-- CHECK-NEXT:    (item (binary "~~" (column s) (literal string "e")))))
