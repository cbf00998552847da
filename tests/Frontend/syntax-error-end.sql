-- At the end of the input the caret follows the last token, not the trailing comment or newline.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

select a
from orders
-- ERR:{{.*}}syntax-error-end.sql:[[@LINE+3]]:6: error: syntax error at end of input
-- ERR-NEXT:where  -- nothing follows
-- ERR-NEXT:     ^
where  -- nothing follows
