-- Lexical errors are syntax errors too. A token running over several lines is quoted and
-- underlined on its first.
-- RUN: not kiln-parse %s 2>&1 | FileCheck %s --check-prefix=ERR --strict-whitespace --match-full-lines

-- ERR:{{.*}}unterminated-string.sql:[[@LINE+3]]:8: error: unterminated quoted string at or near "'abc,..."
-- ERR-NEXT:select 'abc,
-- ERR-NEXT:       ^~~~~
select 'abc,
  def
