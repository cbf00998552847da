-- PostgreSQL counts a syntax error's position in characters; ranges are in bytes, and the caret
-- still lands under the token after multi-byte characters.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

-- ERR:{{.*}}syntax-error-utf8.sql:[[@LINE+3]]:32: error: syntax error at or near "frm"
-- ERR-NEXT:select 'héllo €' as grüße frm t
-- ERR-NEXT:                          ^~~
select 'héllo €' as grüße frm t
