-- Subqueries in expressions: scalar, EXISTS, IN (a subquery keeps its operand in args; NOT IN is
-- NOT over it), and comparisons with ANY/SOME/ALL (`= ANY` is IN, `<> ALL` NOT IN). Each query
-- starts a deeper-indented line.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select (select max(b) from u where u.a = t.a) as m,
  exists (select 1),
  a in (select b from u),
  a not in (select c from v),
  a = any (select b from u),
  a > some (select b from u),
  a <> all (select b from u)
from t
where not exists (select 1 from u where u.a = t.a) and a > 0

-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (subquery scalar
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (call max (column b))))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table u))
-- CHECK-NEXT:        (where (binary "=" (column u.a) (column t.a))))) as m)
-- CHECK-NEXT:    (item (subquery exists
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (literal integer "1"))))))
-- CHECK-NEXT:    (item (subquery in (column a)
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column b)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table u)))))
-- CHECK-NEXT:    (item (unary "NOT" (subquery in (column a)
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column c)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table v))))))
-- CHECK-NEXT:    (item (subquery in (column a)
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column b)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table u)))))
-- CHECK-NEXT:    (item (subquery any ">" (column a)
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column b)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table u)))))
-- CHECK-NEXT:    (item (unary "NOT" (subquery in (column a)
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column b)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table u)))))))
-- CHECK-NEXT:  (from
-- CHECK-NEXT:    (table t))
-- CHECK-NEXT:  (where (binary "AND" (unary "NOT" (subquery exists
-- CHECK-NEXT:    (select
-- CHECK-NEXT:      (targets
-- CHECK-NEXT:        (item (literal integer "1")))
-- CHECK-NEXT:      (from
-- CHECK-NEXT:        (table u))
-- CHECK-NEXT:      (where (binary "=" (column u.a) (column t.a)))))) (binary ">" (column a) (literal integer "0")))))
