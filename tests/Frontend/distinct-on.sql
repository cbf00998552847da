-- DISTINCT ON is parsed and flagged for the binder to reject.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select distinct on (a) a, b from t

-- CHECK:(select distinct-on
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (column a))
-- CHECK-NEXT:    (item (column b)))
-- CHECK-NEXT:  (from
-- CHECK-NEXT:    (table t)))
