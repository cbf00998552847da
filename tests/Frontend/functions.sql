-- Function calls: names lower-case and possibly schema-qualified, count(*), DISTINCT arguments.
-- SQL's special call syntax arrives as the pg_catalog function PostgreSQL calls, and
-- CURRENT_DATE-like keywords as calls without arguments.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select count(*), count(a), count(distinct a), COUNT(ALL a), sum(a + 1), Lower(s), pg_catalog.upper(s),
  now(), extract(year from d), substring(s from 2 for 3), position('a' in s), trim(both ' ' from s),
  current_date, current_timestamp, localtimestamp, current_user

-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (call count *))
-- CHECK-NEXT:    (item (call count (column a)))
-- CHECK-NEXT:    (item (call count distinct (column a)))
-- CHECK-NEXT:    (item (call count (column a)))
-- CHECK-NEXT:    (item (call sum (binary "+" (column a) (literal integer "1"))))
-- CHECK-NEXT:    (item (call lower (column s)))
-- CHECK-NEXT:    (item (call pg_catalog.upper (column s)))
-- CHECK-NEXT:    (item (call now))
-- CHECK-NEXT:    (item (call pg_catalog.extract (literal string "year") (column d)))
-- CHECK-NEXT:    (item (call pg_catalog.substring (column s) (literal integer "2") (literal integer "3")))
-- CHECK-NEXT:    (item (call pg_catalog.position (column s) (literal string "a")))
-- CHECK-NEXT:    (item (call pg_catalog.btrim (column s) (literal string " ")))
-- CHECK-NEXT:    (item (call current_date))
-- CHECK-NEXT:    (item (call current_timestamp))
-- CHECK-NEXT:    (item (call localtimestamp))
-- CHECK-NEXT:    (item (call current_user))))
