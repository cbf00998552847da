-- A model must be a SELECT (or VALUES) query.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

-- ERR:{{.*}}not-a-query.sql:[[@LINE+3]]:1: error: expected a SELECT query, found INSERT
-- ERR-NEXT:insert into t values (1)
-- ERR-NEXT:^~~~~~
insert into t values (1)
