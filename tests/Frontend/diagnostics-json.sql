-- --diagnostics-format=json prints one JSON object per diagnostic, for tools.
-- RUN: not kiln-parse --diagnostics-format=json %s 2>&1 | FileCheck %s --check-prefix=ERR

select sum(x) over nowhere from t
-- ERR: {"severity":"error","file":"{{.*}}diagnostics-json.sql","line":[[@LINE-1]],"column":8,"length":3,"message":"window \"nowhere\" does not exist"{{.*}}}
