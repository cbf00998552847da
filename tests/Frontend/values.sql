-- VALUES as a query: one row per line.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

values (1, 'a', null), (2, 'b', 1.5)

-- CHECK:(values
-- CHECK-NEXT:  (row (literal integer "1") (literal string "a") (literal null))
-- CHECK-NEXT:  (row (literal integer "2") (literal string "b") (literal numeric "1.5")))
