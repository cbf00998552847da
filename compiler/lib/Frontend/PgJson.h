// Reading libpg_query's JSON parse tree.
//
// A node is an object with a single key, its type: {"ColumnRef": {"fields": [...], "location": 7}}.
// The writer omits every field that holds its type's zero value (false, 0, empty string, empty
// list, null pointer), so each accessor returns that zero value for a missing field. Note that
// this makes a missing "location" 0, while -1 means "unknown".
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::frontend::pg {

using Json = simdjson::dom::element;
using Object = simdjson::dom::object;

struct Node {
  std::string_view type;
  Object fields;
  bool is(std::string_view t) const { return type == t; }
};

// The node held by `json`; nullopt for `{}` (a NULL entry in a list) or a non-node value.
inline std::optional<Node> asNode(Json json) {
  Object object;
  if (json.get(object) != simdjson::SUCCESS)
    return std::nullopt;
  for (auto [key, value] : object) {
    Object fields;
    if (value.get(fields) != simdjson::SUCCESS)
      return std::nullopt;
    return Node{key, fields};
  }
  return std::nullopt;
}

inline std::optional<Json> field(Object object, std::string_view key) {
  Json value;
  if (object[key].get(value) != simdjson::SUCCESS)
    return std::nullopt;
  return value;
}

// A field holding a node, e.g. "whereClause".
inline std::optional<Node> node(Object object, std::string_view key) {
  auto value = field(object, key);
  return value ? asNode(*value) : std::nullopt;
}

// A field holding a struct inline, without the node wrapper (e.g. "typeName", "alias").
inline std::optional<Object> object(Object object, std::string_view key) {
  Object value;
  if (object[key].get(value) != simdjson::SUCCESS)
    return std::nullopt;
  return value;
}

inline std::string_view string(Object object, std::string_view key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS)
    return {};
  return value;
}

inline int64_t integer(Object object, std::string_view key) {
  int64_t value;
  if (object[key].get(value) != simdjson::SUCCESS)
    return 0;
  return value;
}

inline bool flag(Object object, std::string_view key) {
  bool value;
  if (object[key].get(value) != simdjson::SUCCESS)
    return false;
  return value;
}

inline std::vector<Json> list(Object object, std::string_view key) {
  simdjson::dom::array array;
  if (object[key].get(array) != simdjson::SUCCESS)
    return {};
  std::vector<Json> items;
  for (Json item : array)
    items.push_back(item);
  return items;
}

// The values of a list of String nodes, e.g. a qualified name: [{"String": {"sval": "t"}}, ...].
inline std::vector<std::string> strings(Object object, std::string_view key) {
  std::vector<std::string> result;
  for (Json item : list(object, key)) {
    auto n = asNode(item);
    if (n && n->is("String"))
      result.emplace_back(string(n->fields, "sval"));
  }
  return result;
}

} // namespace kiln::frontend::pg
