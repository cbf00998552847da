-- DISTINCT ON keeps its expressions, for the binder's top-1 per group.
-- RUN: kiln-parse %s | FileCheck %s --strict-whitespace --match-full-lines

select distinct on (a, lower(b)) a, b from t

-- CHECK:(select distinct-on
-- CHECK-NEXT:  (distinct-on
-- CHECK-NEXT:    (column a)
-- CHECK-NEXT:    (call lower (column b)))
-- CHECK-NEXT:  (targets
-- CHECK-NEXT:    (item (column a))
-- CHECK-NEXT:    (item (column b)))
-- CHECK-NEXT:  (from
-- CHECK-NEXT:    (table t)))
