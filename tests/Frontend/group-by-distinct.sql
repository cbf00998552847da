-- GROUP BY DISTINCT (removing duplicate grouping sets) is not supported.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

-- ERR:{{.*}}group-by-distinct.sql:[[@LINE+3]]:26: error: GROUP BY DISTINCT is not supported
-- ERR-NEXT:select a from t group by distinct a
-- ERR-NEXT:                         ^~~~~~~~
select a from t group by distinct a
