-- Scripts (--script, as sqllogictest runs them): one line per statement. PRIMARY KEY columns, as
-- a column or a table constraint, are NOT NULL; UNIQUE is accepted and not enforced; a plain
-- VALUES list goes to the statement's rows, any other query to its select; DROP of several
-- objects is one statement each; CREATE VIEW v (a, b) renames the query's columns through a
-- subquery.
-- RUN: kiln-parse --script %s | FileCheck %s --strict-whitespace --match-full-lines
-- RUN: kiln-parse --script --locations %s | FileCheck %s --check-prefix=LOC --strict-whitespace --match-full-lines

CREATE TABLE t1(x INTEGER PRIMARY KEY, y VARCHAR(16) NOT NULL UNIQUE, z int NULL);
create table shop.t2 (a int, b text, c numeric(12, 2), primary key (a, b), unique (c));
create view v1 as select x from t1 where x > 0;
create temp view v2 (p, q) as select x, y from t1;
insert into t1 values (1, 'true', -1), (2, null, 0);
insert into t1 (y, x) select 'a', 2;
insert into t1 (x) values (3) union values (4);
delete from t1 where x > 1;
delete from t1;
update t1 set x = x + 1, y = 'a' where y = 'b';
drop table if exists t1, shop.t2;
drop view v1;
-- Comments and empty statements between statements are skipped.
;
select *
  from t1

-- CHECK:(create-table t1 (column x int4 not-null primary-key) (column y varchar(16) not-null) (column z int4) (primary-key x))
-- CHECK-NEXT:(create-table shop.t2 (column a int4 not-null primary-key) (column b text not-null primary-key) (column c numeric(12,2)) (primary-key a b))
-- CHECK-NEXT:(create-view v1 (select (targets (item (column x))) (from (table t1)) (where (binary ">" (column x) (literal integer "0")))))
-- CHECK-NEXT:(create-view v2 (select (targets (item (star))) (from (subquery as v2 (columns p q) (select (targets (item (column x)) (item (column y))) (from (table t1)))))))
-- CHECK-NEXT:(insert t1 (row (literal integer "1") (literal string "true") (literal integer "-1")) (row (literal integer "2") (literal null) (literal integer "0")))
-- CHECK-NEXT:(insert t1 (columns y x) (select (targets (item (literal string "a")) (item (literal integer "2")))))
-- CHECK-NEXT:(insert t1 (columns x) (union (values (row (literal integer "3"))) (values (row (literal integer "4")))))
-- CHECK-NEXT:(delete t1 (where (binary ">" (column x) (literal integer "1"))))
-- CHECK-NEXT:(delete t1)
-- CHECK-NEXT:(update t1 (set x (binary "+" (column x) (literal integer "1"))) (set y (literal string "a")) (where (binary "=" (column y) (literal string "b"))))
-- CHECK-NEXT:(drop-table if-exists t1)
-- CHECK-NEXT:(drop-table if-exists shop.t2)
-- CHECK-NEXT:(drop-view v1)
-- CHECK-NEXT:(select (targets (item (star))) (from (table t1)))

-- LOC:(create-table @9:1+81 t1 (column @9:17+1 x int4 not-null primary-key) (column @9:40+1 y varchar(16) not-null) (column @9:71+1 z int4) (primary-key x))
-- LOC-NEXT:(create-table @10:1+86 shop.t2 (column @10:23+1 a int4 not-null primary-key) (column @10:30+1 b text not-null primary-key) (column @10:38+1 c numeric(12,2)) (primary-key a b))
-- LOC-NEXT:(create-view @11:1+46 v1 (select @11:19+6 (targets (item @11:26+1 (column @11:26+1 x))) (from (table @11:33+2 t1)) (where (binary @11:44+1 ">" (column @11:42+1 x) (literal @11:46+1 integer "0")))))
-- LOC-NEXT:(create-view @12:1+49 v2 (select @12:18+2 (targets (item @12:18+2 (star @12:18+2))) (from (subquery @12:31+6 as v2 (columns p q) (select @12:31+6 (targets (item @12:38+1 (column @12:38+1 x)) (item @12:41+1 (column @12:41+1 y))) (from (table @12:48+2 t1)))))))
-- LOC-NEXT:(insert @13:1+51 t1 (row (literal @13:24+1 integer "1") (literal @13:27+6 string "true") (literal @13:35+2 integer "-1")) (row (literal @13:41+1 integer "2") (literal @13:44+4 null) (literal @13:50+1 integer "0")))
-- LOC-NEXT:(insert @14:1+35 t1 (columns y x) (select @14:23+6 (targets (item @14:30+3 (literal @14:30+3 string "a")) (item @14:35+1 (literal @14:35+1 integer "2")))))
-- LOC-NEXT:(insert @15:1+46 t1 (columns x) (union @15:31+5 (values @15:20+6 (row (literal @15:28+1 integer "3"))) (values @15:37+6 (row (literal @15:45+1 integer "4")))))
-- LOC-NEXT:(delete @16:1+26 t1 (where (binary @16:24+1 ">" (column @16:22+1 x) (literal @16:26+1 integer "1"))))
-- LOC-NEXT:(delete @17:1+14 t1)
-- LOC-NEXT:(update @18:1+46 t1 (set x (binary @18:21+1 "+" (column @18:19+1 x) (literal @18:23+1 integer "1"))) (set y (literal @18:30+3 string "a")) (where (binary @18:42+1 "=" (column @18:40+1 y) (literal @18:44+3 string "b"))))
-- LOC-NEXT:(drop-table @19:1+32 if-exists t1)
-- LOC-NEXT:(drop-table @19:1+32 if-exists shop.t2)
-- LOC-NEXT:(drop-view @20:1+12 v1)
-- LOC-NEXT:(select @23:1+6 (targets (item @23:8+1 (star @23:8+1))) (from (table @24:8+2 t1)))
