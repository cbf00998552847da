-- Node ranges (--locations prints them as @line:column+length). A node covers its token, a name
-- its dotted parts, a folded negative number its minus sign. Nodes the tree gives no location
-- get a keyword: SELECT (or WITH, VALUES) for a query, the join words, UNION [ALL] for a set
-- operation. A typed literal takes the range of its type name.
-- RUN: kiln-parse --locations %s | FileCheck %s --strict-whitespace --match-full-lines

with w as (select 1)
select o.amount + -1 as x, "Mixed Case".col, o.*, count(*), x::int, date '2024-01-01',
  café, 'a' || 'b', a in (select b from u), pg_catalog.lower(s)
from shop.orders o natural left outer join (values (1)) v (a)
union all select 2, 3, 4, 5, 6, 7, 8, 9, 10, 11

-- CHECK:(union all @11:1+9
-- CHECK-NEXT:  (with
-- CHECK-NEXT:    (cte @7:6+1 w
-- CHECK-NEXT:      (select @7:12+6
-- CHECK-NEXT:        (targets
-- CHECK-NEXT:          (item @7:19+1 (literal @7:19+1 integer "1"))))))
-- CHECK-NEXT:  (select @8:1+6
-- CHECK-NEXT:    (targets
-- CHECK-NEXT:      (item @8:8+8 (binary @8:17+1 "+" (column @8:8+8 o.amount) (literal @8:19+2 integer "-1")) as x)
-- CHECK-NEXT:      (item @8:28+16 (column @8:28+16 "Mixed Case".col))
-- CHECK-NEXT:      (item @8:46+3 (star @8:46+3 o))
-- CHECK-NEXT:      (item @8:51+5 (call @8:51+5 count *))
-- CHECK-NEXT:      (item @8:61+1 (cast @8:62+2 (column @8:61+1 x) int4 @8:64+3))
-- CHECK-NEXT:      (item @8:69+4 (cast @8:69+4 (literal @8:74+12 string "2024-01-01") date @8:69+4))
-- CHECK-NEXT:      (item @9:3+5 (column @9:3+5 "café"))
-- CHECK-NEXT:      (item @9:10+3 (binary @9:14+2 "||" (literal @9:10+3 string "a") (literal @9:17+3 string "b")))
-- CHECK-NEXT:      (item @9:22+1 (subquery @9:24+2 in (column @9:22+1 a)
-- CHECK-NEXT:        (select @9:28+6
-- CHECK-NEXT:          (targets
-- CHECK-NEXT:            (item @9:35+1 (column @9:35+1 b)))
-- CHECK-NEXT:          (from
-- CHECK-NEXT:            (table @9:42+1 u)))))
-- CHECK-NEXT:      (item @9:46+16 (call @9:46+16 pg_catalog.lower (column @9:63+1 s))))
-- CHECK-NEXT:    (from
-- CHECK-NEXT:      (join left natural @10:20+23
-- CHECK-NEXT:        (table @10:6+11 shop.orders as o)
-- CHECK-NEXT:        (subquery @10:45+6 as v (columns a)
-- CHECK-NEXT:          (values @10:45+6
-- CHECK-NEXT:            (row (literal @10:53+1 integer "1")))))))
-- CHECK-NEXT:  (select @11:11+6
-- CHECK-NEXT:    (targets
-- CHECK-NEXT:      (item @11:18+1 (literal @11:18+1 integer "2"))
-- CHECK-NEXT:      (item @11:21+1 (literal @11:21+1 integer "3"))
-- CHECK-NEXT:      (item @11:24+1 (literal @11:24+1 integer "4"))
-- CHECK-NEXT:      (item @11:27+1 (literal @11:27+1 integer "5"))
-- CHECK-NEXT:      (item @11:30+1 (literal @11:30+1 integer "6"))
-- CHECK-NEXT:      (item @11:33+1 (literal @11:33+1 integer "7"))
-- CHECK-NEXT:      (item @11:36+1 (literal @11:36+1 integer "8"))
-- CHECK-NEXT:      (item @11:39+1 (literal @11:39+1 integer "9"))
-- CHECK-NEXT:      (item @11:42+2 (literal @11:42+2 integer "10"))
-- CHECK-NEXT:      (item @11:46+2 (literal @11:46+2 integer "11")))))
