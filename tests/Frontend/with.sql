-- Common table expressions, with column names, one referring to another, and WITH inside a
-- subquery.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

with totals (customer, amount) as (
  select customer_id, sum(amount) from orders group by customer_id
), big as (select * from totals where amount > 100)
select * from big, (with x as (select 1) select * from x) as y

-- CHECK:(select
-- CHECK-NEXT:  (with
-- CHECK-NEXT:    (cte totals (columns customer amount)
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (column customer_id))
-- CHECK-NEXT:          (item (call sum (column amount))))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table orders))
-- CHECK-NEXT:        (group-by
-- CHECK-NEXT:          (column customer_id))))
-- CHECK-NEXT:    (cte big
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (star)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table totals))
-- CHECK-NEXT:        (where (binary ">" (column amount) (literal integer "100"))))))
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (star)))
-- CHECK-NEXT:  (from
-- CHECK-NEXT:    (table big)
-- CHECK-NEXT:    (subquery as y
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (with
-- CHECK-NEXT:          (cte x
-- CHECK-NEXT:            (select
-- CHECK-NEXT:              (targets
-- CHECK-NEXT:                (item (literal integer "1"))))))
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (star)))
-- CHECK-NEXT:        (from
-- CHECK-NEXT:          (table x))))))
