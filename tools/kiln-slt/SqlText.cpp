#include "SqlText.h"

#include <cctype>
#include <cstring>

namespace kiln::slt {

std::vector<SqlToken> lexSql(std::string_view sql) {
  std::vector<SqlToken> tokens;
  int depth = 0;
  size_t i = 0, n = sql.size();
  auto isWord = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c & 0x80;
  };
  while (i < n) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n')
        ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t close = sql.find("*/", i + 2);
      i = close == std::string_view::npos ? n : close + 2;
    } else {
      size_t begin = i;
      if (c == '\'' || c == '"') { // quotes inside are doubled, which this loop handles
        for (++i; i < n && sql[i] != c; ++i) {
        }
        ++i;
      } else if (isWord(c) || c == '.') {
        while (i < n && (isWord(sql[i]) || sql[i] == '.'))
          ++i;
      } else if (std::strchr("+-*/<>=~!@#%^&|`?", c)) {
        while (i < n && std::strchr("+-*/<>=~!@#%^&|`?", sql[i]) && sql[i] != '\0')
          ++i;
      } else {
        ++i;
      }
      if (c == ')')
        --depth;
      tokens.push_back({begin, std::min(i, n), depth});
      if (c == '(')
        ++depth;
    }
  }
  return tokens;
}

int findTopLevel(std::string_view sql, const std::vector<SqlToken> &tokens, std::string_view word,
                 int from) {
  for (int i = from; i < static_cast<int>(tokens.size()); ++i) {
    const SqlToken &t = tokens[i];
    if (t.depth != 0 || t.end - t.begin != word.size())
      continue;
    bool same = true;
    for (size_t k = 0; k < word.size(); ++k)
      same &= std::tolower(static_cast<unsigned char>(sql[t.begin + k])) ==
              std::tolower(static_cast<unsigned char>(word[k]));
    if (same)
      return i;
  }
  return -1;
}

std::string tokenText(std::string_view sql, const std::vector<SqlToken> &tokens, int first,
                      int last) {
  if (first < 0 || first > last || last >= static_cast<int>(tokens.size()))
    return "";
  return std::string(sql.substr(tokens[first].begin, tokens[last].end - tokens[first].begin));
}

} // namespace kiln::slt
