-- Statements and forms of them that scripts do not support, each reported at its location (or
-- the statement's first token), all of them in one run.
-- RUN: not kiln-parse --script %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

-- ERR:{{.*}}script-errors.sql:[[@LINE+12]]:43: error: column defaults are not supported
-- ERR-NEXT:create table t1 (x int primary key, y int default 0 check (y > 0) references t2 (a), primary key (y));
-- ERR-NEXT:                                          ^~~~~~~
-- ERR:{{.*}}script-errors.sql:[[@LINE+9]]:53: error: CHECK constraints are not supported
-- ERR-NEXT:create table t1 (x int primary key, y int default 0 check (y > 0) references t2 (a), primary key (y));
-- ERR-NEXT:                                                    ^~~~~
-- ERR:{{.*}}script-errors.sql:[[@LINE+6]]:67: error: foreign keys are not supported
-- ERR-NEXT:create table t1 (x int primary key, y int default 0 check (y > 0) references t2 (a), primary key (y));
-- ERR-NEXT:                                                                  ^~~~~~~~~~
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:86: error: multiple primary keys for table "t1" are not allowed
-- ERR-NEXT:create table t1 (x int primary key, y int default 0 check (y > 0) references t2 (a), primary key (y));
-- ERR-NEXT:                                                                                     ^~~~~~~
create table t1 (x int primary key, y int default 0 check (y > 0) references t2 (a), primary key (y));
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:25: error: column "b" named in key does not exist
-- ERR-NEXT:create table t2 (a int, primary key (b));
-- ERR-NEXT:                        ^~~~~~~
create table t2 (a int, primary key (b));
-- ERR:{{.*}}script-errors.sql:[[@LINE+9]]:24: error: identity columns are not supported
-- ERR-NEXT:create table t3 (a int generated always as identity, b text collate "C", like t1);
-- ERR-NEXT:                       ^~~~~~~~~
-- ERR:{{.*}}script-errors.sql:[[@LINE+6]]:61: error: COLLATE is not supported yet
-- ERR-NEXT:create table t3 (a int generated always as identity, b text collate "C", like t1);
-- ERR-NEXT:                                                            ^~~~~~~
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:74: error: CREATE TABLE ... (LIKE ...) is not supported
-- ERR-NEXT:create table t3 (a int generated always as identity, b text collate "C", like t1);
-- ERR-NEXT:                                                                         ^~~~
create table t3 (a int generated always as identity, b text collate "C", like t1);
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: CREATE TABLE IF NOT EXISTS is not supported
-- ERR-NEXT:create table if not exists t4 (a int);
-- ERR-NEXT:^~~~~~
create table if not exists t4 (a int);
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: CREATE TABLE with PARTITION BY is not supported
-- ERR-NEXT:create table t5 (a int) partition by range (a);
-- ERR-NEXT:^~~~~~
create table t5 (a int) partition by range (a);
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:25: error: exclusion constraints are not supported
-- ERR-NEXT:create table t6 (a int, exclude using gist (a with =));
-- ERR-NEXT:                        ^~~~~~~
create table t6 (a int, exclude using gist (a with =));
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: CREATE INDEX is not supported
-- ERR-NEXT:create index t1i1 on t1 (x);
-- ERR-NEXT:^~~~~~
create index t1i1 on t1 (x);
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: CREATE OR REPLACE VIEW is not supported
-- ERR-NEXT:create or replace view v1 (a) as select 1;
-- ERR-NEXT:^~~~~~
create or replace view v1 (a) as select 1;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: WITH CHECK OPTION is not supported
-- ERR-NEXT:create view v2 as select 1 with check option;
-- ERR-NEXT:^~~~~~
create view v2 as select 1 with check option;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: INSERT with RETURNING is not supported
-- ERR-NEXT:insert into t1 values (1) returning *;
-- ERR-NEXT:^~~~~~
insert into t1 values (1) returning *;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: INSERT ... DEFAULT VALUES is not supported
-- ERR-NEXT:insert into t1 default values;
-- ERR-NEXT:^~~~~~
insert into t1 default values;
-- ERR:{{.*}}script-errors.sql:[[@LINE+6]]:13: error: a table alias is not supported here
-- ERR-NEXT:insert into t1 as t (x) values (1) on conflict do nothing;
-- ERR-NEXT:            ^~
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: INSERT with ON CONFLICT is not supported
-- ERR-NEXT:insert into t1 as t (x) values (1) on conflict do nothing;
-- ERR-NEXT:^~~~~~
insert into t1 as t (x) values (1) on conflict do nothing;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:17: error: inserting into a field or subscript is not supported
-- ERR-NEXT:insert into t1 (x[1]) values (1);
-- ERR-NEXT:                ^
insert into t1 (x[1]) values (1);
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: UPDATE with FROM is not supported
-- ERR-NEXT:update t1 set x = 1 from t2;
-- ERR-NEXT:^~~~~~
update t1 set x = 1 from t2;
-- ERR:{{.*}}script-errors.sql:[[@LINE+6]]:16: error: assigning several columns at once is not supported
-- ERR-NEXT:update t1 set (x, y) = (1, 2), y[1] = 3;
-- ERR-NEXT:               ^
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:32: error: assigning to a field or subscript is not supported
-- ERR-NEXT:update t1 set (x, y) = (1, 2), y[1] = 3;
-- ERR-NEXT:                               ^
update t1 set (x, y) = (1, 2), y[1] = 3;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: DELETE with USING is not supported
-- ERR-NEXT:delete from t1 using t2;
-- ERR-NEXT:^~~~~~
delete from t1 using t2;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: DROP INDEX is not supported
-- ERR-NEXT:drop index t1i1;
-- ERR-NEXT:^~~~
drop index t1i1;
-- ERR:{{.*}}script-errors.sql:[[@LINE+3]]:1: error: DROP ... CASCADE is not supported
-- ERR-NEXT:drop table t1 cascade;
-- ERR-NEXT:^~~~
drop table t1 cascade;
