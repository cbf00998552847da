// Just enough SQL lexing to cut statements into clauses by their text.
//
// The runner compiles parts of statements as views (a DELETE's condition becomes
// `SELECT * FROM t WHERE <condition>`), and Kiln's AST records where a node starts, not where it
// ends, so clause boundaries are found here: at keywords outside parentheses, strings, quoted
// identifiers and comments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::slt {

struct SqlToken {
  size_t begin = 0, end = 0; // byte range in the text
  int depth = 0;             // parentheses around the token
};

std::vector<SqlToken> lexSql(std::string_view sql);

// The first token from `from` on at depth 0 whose text is `word` (case-insensitive); -1 if none.
int findTopLevel(std::string_view sql, const std::vector<SqlToken> &tokens, std::string_view word,
                 int from = 0);

// The text between tokens [first, last] (inclusive), or "" if first > last.
std::string tokenText(std::string_view sql, const std::vector<SqlToken> &tokens, int first,
                      int last);

} // namespace kiln::slt
