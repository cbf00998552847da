-- FROM items the AST cannot represent.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

select *
from t,
-- ERR:{{.*}}unsupported-from.sql:[[@LINE+4]]:14: error: a column definition list inside ROWS FROM is not supported yet
-- ERR-NEXT:  rows from (jsonb_to_record(x) as (a int)),
-- ERR-NEXT:             ^~~~~~~~~~~~~~~
-- ERR-NEXT:hint: call the function alone: FROM f(...) AS r(a int, b text)
  rows from (jsonb_to_record(x) as (a int)),
-- ERR:{{.*}}unsupported-from.sql:[[@LINE+3]]:17: error: TABLESAMPLE is not supported
-- ERR-NEXT:  u tablesample system (10),
-- ERR-NEXT:                ^~~~~~
  u tablesample system (10),
-- ERR:{{.*}}unsupported-from.sql:[[@LINE+3]]:3: error: XMLTABLE is not supported
-- ERR-NEXT:  xmltable('/a' passing x columns a int),
-- ERR-NEXT:  ^~~~~~~~
  xmltable('/a' passing x columns a int),
-- ERR:{{.*}}unsupported-from.sql:[[@LINE+3]]:5: error: an alias for JOIN ... USING columns is not supported
-- ERR-NEXT:  v join w using (k) as j
-- ERR-NEXT:    ^~~~
  v join w using (k) as j
