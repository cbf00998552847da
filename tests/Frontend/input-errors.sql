-- Text with no statement (here, only a comment), and text that is not UTF-8.
-- RUN: printf -- '-- nothing here\n' > %t.sql
-- RUN: not kiln-parse %t.sql 2>&1 | FileCheck %s --check-prefix=EMPTY --strict-whitespace --match-full-lines
-- RUN: printf "select 'caf\351' from t\n" > %t.sql
-- RUN: not kiln-parse %t.sql 2>&1 | FileCheck %s --check-prefix=UTF8 --strict-whitespace --match-full-lines

-- EMPTY:{{.*}}.sql:1:1: error: expected a SELECT query, found nothing
-- EMPTY-NEXT:-- nothing here
-- EMPTY-NEXT:^

-- UTF8:{{.*}}.sql:1:12: error: the query text is not valid UTF-8
