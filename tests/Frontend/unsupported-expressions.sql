-- Expressions the AST cannot represent, each reported at its location (and all of them in one
-- run): the caret is under the construct's keyword or, for a call, the function's name.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

select
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: window "nowhere" does not exist
-- ERR-NEXT:  sum(a) over nowhere,
-- ERR-NEXT:  ^~~
  sum(a) over nowhere,
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: WITHIN GROUP is not supported
-- ERR-NEXT:  percentile_cont(0.5) within group (order by a),
-- ERR-NEXT:  ^~~~~~~~~~~~~~~
  percentile_cont(0.5) within group (order by a),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: VARIADIC arguments are not supported
-- ERR-NEXT:  f(variadic a),
-- ERR-NEXT:  ^
  f(variadic a),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:5: error: named arguments are not supported
-- ERR-NEXT:  f(x => 1),
-- ERR-NEXT:    ^
  f(x => 1),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: field selections and subscripts of more than one dimension are not supported
-- ERR-NEXT:  a[1:2][1],
-- ERR-NEXT:  ^
  a[1:2][1],
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:4: error: field selections and subscripts of more than one dimension are not supported
-- ERR-NEXT:  (a).b,
-- ERR-NEXT:   ^
  (a).b,
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:5: error: COLLATE is not supported yet
-- ERR-NEXT:  x collate "C",
-- ERR-NEXT:    ^~~~~~~
  x collate "C",
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: row constructors are not supported
-- ERR-NEXT:  row(1, 2),
-- ERR-NEXT:  ^~~
  row(1, 2),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:16: error: LIKE ... ESCAPE is not supported yet
-- ERR-NEXT:  s like 'a!%' escape '!',
-- ERR-NEXT:               ^~~~~~
  s like 'a!%' escape '!',
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:5: error: SIMILAR TO is not supported yet
-- ERR-NEXT:  s similar to 'a',
-- ERR-NEXT:    ^~~~~~~
  s similar to 'a',
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:5: error: OPERATOR() syntax is not supported
-- ERR-NEXT:  a operator(pg_catalog.+) b,
-- ERR-NEXT:    ^~~~~~~~
  a operator(pg_catalog.+) b,
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: ARRAY(subquery) is not supported
-- ERR-NEXT:  array(select 1),
-- ERR-NEXT:  ^~~~~
  array(select 1),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: current_timestamp with a precision is not supported
-- ERR-NEXT:  current_timestamp(3),
-- ERR-NEXT:  ^~~~~~~~~~~~~~~~~
  current_timestamp(3),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: bit-string literals are not supported
-- ERR-NEXT:  b'101',
-- ERR-NEXT:  ^~~~~~
  b'101',
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: bit-string literals are not supported
-- ERR-NEXT:  x'ff',
-- ERR-NEXT:  ^~~~~
  x'ff',
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:14: error: type modifiers must be integer constants
-- ERR-NEXT:  x::numeric('a'),
-- ERR-NEXT:             ^~~
  x::numeric('a'),
-- ERR:{{.*}}unsupported-expressions.sql:[[@LINE+3]]:3: error: XML functions are not supported
-- ERR-NEXT:  xmlelement(name a)
-- ERR-NEXT:  ^~~~~~~~~~
  xmlelement(name a)
from t
group by a
