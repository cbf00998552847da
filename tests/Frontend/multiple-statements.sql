-- A model is one query: a second statement is an error at its first token (a trailing semicolon
-- is fine).
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

select 1;
-- ERR:{{.*}}multiple-statements.sql:[[@LINE+4]]:3: error: expected one query, found a second statement
-- ERR-NEXT:  select 2;
-- ERR-NEXT:  ^~~~~~
-- ERR-NEXT:hint: a model is a single SELECT statement
  select 2;
