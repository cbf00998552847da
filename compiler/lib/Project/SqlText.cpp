#include "Loader.h"

#include <cctype>
#include <set>

namespace kiln::project {
namespace {

// PostgreSQL's reserved keywords, including those reserved except as function or type names:
// neither can name a table without quotes.
bool isReservedKeyword(std::string_view word) {
  // clang-format off
  static const std::set<std::string_view> keywords = {
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
      "authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
      "column", "concurrently", "constraint", "create", "cross", "current_catalog",
      "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
      "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
      "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having",
      "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral",
      "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural", "not",
      "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing",
      "primary", "references", "returning", "right", "select", "session_user", "similar", "some",
      "symmetric", "system_user", "table", "tablesample", "then", "to", "trailing", "true",
      "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
      "with"};
  // clang-format on
  return keywords.count(word) > 0;
}

bool isPlainIdentifier(std::string_view name) {
  if (name.empty() || !(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_'))
    return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

} // namespace

std::string sqlIdentifier(std::string_view name) {
  if (isPlainIdentifier(name) && !isReservedKeyword(name))
    return std::string(name);
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"')
      quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

} // namespace kiln::project
