-- Query clauses the AST cannot represent.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:6: error: WITH RECURSIVE is not supported yet
-- ERR-NEXT:with recursive r (n) as (select 1 union all select n + 1 from r),
-- ERR-NEXT:     ^~~~~~~~~
with recursive r (n) as (select 1 union all select n + 1 from r),
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:3: error: data-modifying statements in WITH are not supported
-- ERR-NEXT:  m as (insert into t values (1) returning *),
-- ERR-NEXT:  ^
  m as (insert into t values (1) returning *),
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:3: error: SEARCH and CYCLE clauses are not supported
-- ERR-NEXT:  s as (select 1 as a) search depth first by a set ordercol
-- ERR-NEXT:  ^
  s as (select 1 as a) search depth first by a set ordercol
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:15: error: SELECT INTO is not supported
-- ERR-NEXT:select a into new_table
-- ERR-NEXT:              ^~~~~~~~~
select a into new_table
from t
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:10: error: CUBE of more than 12 elements is not supported
-- ERR-NEXT:group by cube (a, b, c, d, e, f, g, h, i, j, k, l, m)
-- ERR-NEXT:         ^~~~
group by cube (a, b, c, d, e, f, g, h, i, j, k, l, m)
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:18: error: ORDER BY ... USING is not supported
-- ERR-NEXT:order by a using <
-- ERR-NEXT:                 ^
order by a using <
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:25: error: FETCH ... WITH TIES is not supported
-- ERR-NEXT:fetch first 3 rows with ties
-- ERR-NEXT:                        ^~~~
fetch first 3 rows with ties
-- ERR:{{.*}}unsupported-clauses.sql:[[@LINE+3]]:1: error: FOR UPDATE and FOR SHARE are not supported
-- ERR-NEXT:for update
-- ERR-NEXT:^~~
for update
