-- A plain SELECT: targets and aliases, DISTINCT, stars, quoted and qualified names, and every
-- clause in the order the dump prints them.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select distinct a, b as total, o.amount amount, *, o.*, "Mixed Case"."Col", shop.orders.id
from shop.orders as o
where o.amount > 0
group by a, 2
having count(*) > 1
order by a desc, b nulls first, total asc nulls last
limit 10
offset 5;

-- CHECK:(select distinct
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (column a))
-- CHECK-NEXT:    (item (column b) as total)
-- CHECK-NEXT:    (item (column o.amount) as amount)
-- CHECK-NEXT:    (item (star))
-- CHECK-NEXT:    (item (star o))
-- CHECK-NEXT:    (item (column "Mixed Case"."Col"))
-- CHECK-NEXT:    (item (column shop.orders.id)))
-- CHECK-NEXT:  (from
-- CHECK-NEXT:    (table shop.orders as o))
-- CHECK-NEXT:  (where (binary ">" (column o.amount) (literal integer "0")))
-- CHECK-NEXT:  (group-by
-- CHECK-NEXT:    (column a)
-- CHECK-NEXT:    (literal integer "2"))
-- CHECK-NEXT:  (having (binary ">" (call count *) (literal integer "1")))
-- CHECK-NEXT:  (order-by
-- CHECK-NEXT:    (sort (column a) desc)
-- CHECK-NEXT:    (sort (column b) nulls-first)
-- CHECK-NEXT:    (sort (column total) nulls-last))
-- CHECK-NEXT:  (limit (literal integer "10"))
-- CHECK-NEXT:  (offset (literal integer "5")))
