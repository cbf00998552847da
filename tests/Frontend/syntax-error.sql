-- A syntax error is reported with PostgreSQL's message, the caret under the offending token.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

select a, b
from orders
-- ERR:{{.*}}syntax-error.sql:[[@LINE+3]]:17: error: syntax error at or near "and"
-- ERR-NEXT:where a > 1 and and b < 2
-- ERR-NEXT:                ^~~
where a > 1 and and b < 2
