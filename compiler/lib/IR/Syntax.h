// Lexical pieces of the IR's textual form shared by the printer and the parser: how names,
// strings, dates and timestamps are spelled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::ir::syntax {

// Names that print without quotes: [A-Za-z_][A-Za-z0-9_]*. Anything else is a quoted string.
inline bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool isIdentChar(char c) { return isIdentStart(c) || (c >= '0' && c <= '9'); }
inline bool isBareName(std::string_view s) {
  if (s.empty() || !isIdentStart(s[0]))
    return false;
  for (char c : s)
    if (!isIdentChar(c))
      return false;
  return true;
}

// A double-quoted string with \" \\ \n \t \r and \xHH for other control bytes; other bytes
// (UTF-8 included) as they are.
std::string quote(std::string_view s);
// A bare name or a quoted string.
std::string name(std::string_view s);

// "YYYY-MM-DD" and "YYYY-MM-DD HH:MM:SS[.ffffff]" for years 1..9999; other values print as
// their counts (days, microseconds since 2000-01-01).
std::optional<std::string> formatDate(int64_t days);
std::optional<std::string> formatTimestamp(int64_t micros);
std::optional<int64_t> parseDate(std::string_view text);
std::optional<int64_t> parseTimestamp(std::string_view text);

} // namespace kiln::ir::syntax
