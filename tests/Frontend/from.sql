-- FROM items: tables with schema, alias and column aliases; subqueries; every join, nesting to
-- the left as written (parentheses nest to the right); CROSS JOIN is an inner join without a
-- condition.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select *
from shop.orders o, items as i (id, qty), (select 1 as one) as s,
  a join b on a.x = b.x
    left join c using (x, y)
    left outer join d on true
    right join e on e.k = d.k
    full outer join f on f.k = e.k
    natural join g
    cross join h
    inner join (j join k on j.x = k.x) on k.y = h.y

-- CHECK:(select
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (star)))
-- CHECK-NEXT:  (from
-- CHECK-NEXT:    (table shop.orders as o)
-- CHECK-NEXT:    (table items as i (columns id qty))
-- CHECK-NEXT:    (subquery as s
-- CHECK-NEXT:      (select
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item (literal integer "1") as one))))
-- CHECK-NEXT:    (join inner
-- CHECK-NEXT:      (join cross
-- CHECK-NEXT:        (join inner natural
-- CHECK-NEXT:          (join full
-- CHECK-NEXT:            (join right
-- CHECK-NEXT:              (join left
-- CHECK-NEXT:                (join left
-- CHECK-NEXT:                  (join inner
-- CHECK-NEXT:                    (table a)
-- CHECK-NEXT:                    (table b)
-- CHECK-NEXT:                    (on (binary "=" (column a.x) (column b.x))))
-- CHECK-NEXT:                  (table c)
-- CHECK-NEXT:                  (using x y))
-- CHECK-NEXT:                (table d)
-- CHECK-NEXT:                (on (literal boolean "true")))
-- CHECK-NEXT:              (table e)
-- CHECK-NEXT:              (on (binary "=" (column e.k) (column d.k))))
-- CHECK-NEXT:            (table f)
-- CHECK-NEXT:            (on (binary "=" (column f.k) (column e.k))))
-- CHECK-NEXT:          (table g))
-- CHECK-NEXT:        (table h))
-- CHECK-NEXT:      (join inner
-- CHECK-NEXT:        (table j)
-- CHECK-NEXT:        (table k)
-- CHECK-NEXT:        (on (binary "=" (column j.x) (column k.x))))
-- CHECK-NEXT:      (on (binary "=" (column k.y) (column h.y))))))
