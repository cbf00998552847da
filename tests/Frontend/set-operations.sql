-- UNION [ALL], INTERSECT (binding tighter) and EXCEPT; parentheses group operands and may carry
-- their own ORDER BY and LIMIT; ORDER BY after the last operand applies to the whole.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select a from t
union all
select b from u intersect select c from v
except
(select d from w order by d limit 1)
union
values (1), (2)
order by 1

-- CHECK:(union
-- CHECK-NEXT:  (except
-- CHECK-NEXT:    (union all
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column a)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table t)))
-- CHECK-NEXT:      (intersect
-- CHECK-NEXT:        (select
-- CHECK-NEXT:          (targets
-- CHECK-NEXT:            (item (column b)))
-- CHECK-NEXT:          (from
-- CHECK-NEXT:            (table u)))
-- CHECK-NEXT:        (select
-- CHECK-NEXT:          (targets
-- CHECK-NEXT:            (item (column c)))
-- CHECK-NEXT:          (from
-- CHECK-NEXT:            (table v)))))
-- CHECK-NEXT:    (select
-- CHECK-NEXT:      (targets
-- CHECK-NEXT:        (item (column d)))
-- CHECK-NEXT:      (from
-- CHECK-NEXT:        (table w))
-- CHECK-NEXT:      (order-by
-- CHECK-NEXT:        (sort (column d)))
-- CHECK-NEXT:      (limit (literal integer "1"))))
-- CHECK-NEXT:  (values
-- CHECK-NEXT:    (row (literal integer "1"))
-- CHECK-NEXT:    (row (literal integer "2")))
-- CHECK-NEXT:  (order-by
-- CHECK-NEXT:    (sort (literal integer "1"))))
