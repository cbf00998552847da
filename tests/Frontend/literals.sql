-- Literals: integers as values (libpg_query's JSON drops zero and negative ones, which are read
-- back from the text), numbers with a point or exponent and integers beyond int4 as written,
-- strings unescaped, booleans and NULL. PostgreSQL folds a minus sign into a number constant.
-- Parameters ($1) are kept for the binder to reject.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select 1, 0, 007, -1, - 5, - - 7, -2147483648, 2147483647, 2147483648, 99999999999999999999,
  1.5, -1.5, .5, 1e10, 1.0E-3, 5.,
  'text', 'it''s', '', E'tab\there', $$dollar 'quoted'$$, $q$ $$ $q$, U&'d\0061t',
  'multi
line',
  true, false, null, TRUE, $1


-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (literal integer "1"))
-- CHECK-NEXT:    (item (literal integer "0"))
-- CHECK-NEXT:    (item (literal integer "7"))
-- CHECK-NEXT:    (item (literal integer "-1"))
-- CHECK-NEXT:    (item (literal integer "-5"))
-- CHECK-NEXT:    (item (literal integer "7"))
-- CHECK-NEXT:    (item (literal numeric "-2147483648"))
-- CHECK-NEXT:    (item (literal integer "2147483647"))
-- CHECK-NEXT:    (item (literal numeric "2147483648"))
-- CHECK-NEXT:    (item (literal numeric "99999999999999999999"))
-- CHECK-NEXT:    (item (literal numeric "1.5"))
-- CHECK-NEXT:    (item (literal numeric "-1.5"))
-- CHECK-NEXT:    (item (literal numeric ".5"))
-- CHECK-NEXT:    (item (literal numeric "1e10"))
-- CHECK-NEXT:    (item (literal numeric "1.0E-3"))
-- CHECK-NEXT:    (item (literal numeric "5."))
-- CHECK-NEXT:    (item (literal string "text"))
-- CHECK-NEXT:    (item (literal string "it's"))
-- CHECK-NEXT:    (item (literal string ""))
-- CHECK-NEXT:    (item (literal string "tab\there"))
-- CHECK-NEXT:    (item (literal string "dollar 'quoted'"))
-- CHECK-NEXT:    (item (literal string " $$ "))
-- CHECK-NEXT:    (item (literal string "dat"))
-- CHECK-NEXT:    (item (literal string "multi\nline"))
-- CHECK-NEXT:    (item (literal boolean "true"))
-- CHECK-NEXT:    (item (literal boolean "false"))
-- CHECK-NEXT:    (item (literal null))
-- CHECK-NEXT:    (item (literal boolean "true"))
-- CHECK-NEXT:    (item (param $1))))
