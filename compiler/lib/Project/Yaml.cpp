#include "Yaml.h"

#include "kiln/Support/Spelling.h"

namespace kiln::project {

const char *describeKind(const YAML::Node &node) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Scalar:
    return "a string";
  default:
    return "empty";
  }
}

std::optional<YAML::Node> YamlFile::parse() {
  try {
    return YAML::Load(std::string(sources_.text(file_)));
  } catch (const YAML::Exception &e) {
    SourceLoc at{file_, 0};
    if (!e.mark.is_null())
      at = sources_.locate(file_, {static_cast<uint32_t>(e.mark.line + 1),
                                   static_cast<uint32_t>(e.mark.column + 1)});
    diags_.error({at, 0}, "invalid YAML: " + e.msg);
    return std::nullopt;
  }
}

SourceRange YamlFile::range(const YAML::Node &node) const {
  YAML::Mark mark = node.Mark();
  if (mark.is_null())
    return {{file_, 0}, 0};
  SourceLoc begin = sources_.locate(
      file_, {static_cast<uint32_t>(mark.line + 1), static_cast<uint32_t>(mark.column + 1)});
  if (!node.IsScalar())
    return {begin, 0};

  std::string_view text = sources_.text(file_).substr(begin.offset);
  if (!text.empty() && (text[0] == '\'' || text[0] == '"')) {
    // A quoted scalar runs to its closing quote: '' escapes a quote in single-quoted scalars,
    // a backslash escapes anything in double-quoted ones.
    char quote = text[0];
    for (size_t i = 1; i < text.size(); ++i) {
      if (quote == '"' && text[i] == '\\') {
        ++i;
      } else if (text[i] == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'')
          ++i;
        else
          return {begin, static_cast<uint32_t>(i + 1)};
      }
    }
    return {begin, 0};
  }
  // A plain scalar on one line is its own text; folded and block scalars get a point.
  const std::string &value = node.Scalar();
  if (text.substr(0, value.size()) == value)
    return {begin, static_cast<uint32_t>(value.size())};
  return {begin, 0};
}

SourceRange YamlFile::range(const YamlField &field) const {
  return field.value.IsNull() ? range(field.key) : range(field.value);
}

std::map<std::string, YamlField> YamlFile::fields(const YAML::Node &map,
                                                  std::initializer_list<std::string_view> known,
                                                  std::string_view where) {
  return fields(map, std::span<const std::string_view>(known.begin(), known.size()), where);
}

std::map<std::string, YamlField> YamlFile::fields(const YAML::Node &map,
                                                  std::span<const std::string_view> known,
                                                  std::string_view where) {
  std::map<std::string, YamlField> result;
  // yaml-cpp's iterators yield key/value pairs by value: bind the pair, not its members.
  for (const auto &entry : map) {
    const YAML::Node &key = entry.first;
    if (!key.IsScalar()) {
      diags_.error(range(key), std::string("keys must be strings, not ") + describeKind(key));
      continue;
    }
    const std::string &name = key.Scalar();
    if (auto previous = result.find(name); previous != result.end()) {
      diags_.error(range(key), "duplicate key \"" + name + "\"")
          .notes.emplace_back(range(previous->second.key), "first given here");
      continue;
    }
    bool is_known = false;
    for (std::string_view candidate : known)
      is_known |= candidate == name;
    if (!is_known) {
      Diagnostic &warning = diags_.warning(range(key), "unknown key \"" + name + "\" " +
                                                           std::string(where) + "; it is ignored");
      if (auto suggestion = closestMatch(name, {known.begin(), known.end()}))
        warning.hint = "did you mean \"" + *suggestion + "\"?";
    }
    result.emplace(name, YamlField{key, entry.second});
  }
  return result;
}

bool YamlFile::expectMap(const YAML::Node &node, std::string_view what, SourceRange at) {
  if (node.IsMap())
    return true;
  diags_.error(at.valid() ? at : range(node),
               std::string(what) + " must be a mapping, not " + describeKind(node));
  return false;
}

std::optional<std::string> YamlFile::expectString(const YamlField &field, std::string_view what) {
  if (field.value.IsScalar())
    return field.value.Scalar();
  if (field.value.IsNull())
    diags_.error(range(field), "\"" + std::string(what) + "\" has no value");
  else
    diags_.error(range(field), "\"" + std::string(what) + "\" must be a string, not " +
                                   describeKind(field.value));
  return std::nullopt;
}

std::optional<std::vector<YAML::Node>>
YamlFile::expectList(const YamlField &field, std::string_view what, bool scalar_is_one) {
  if (field.value.IsNull())
    return std::vector<YAML::Node>{};
  if (field.value.IsScalar() && scalar_is_one)
    return std::vector<YAML::Node>{field.value};
  if (!field.value.IsSequence()) {
    diags_.error(range(field),
                 "\"" + std::string(what) + "\" must be a list, not " + describeKind(field.value));
    return std::nullopt;
  }
  return std::vector<YAML::Node>(field.value.begin(), field.value.end());
}

std::optional<bool> YamlFile::expectBool(const YamlField &field, std::string_view what) {
  if (field.value.IsScalar() && field.value.Tag() != "!") { // "!": quoted, so a string
    const std::string &text = field.value.Scalar();
    if (text == "true" || text == "True" || text == "TRUE")
      return true;
    if (text == "false" || text == "False" || text == "FALSE")
      return false;
  }
  diags_.error(range(field), "\"" + std::string(what) + "\" must be true or false");
  return std::nullopt;
}

} // namespace kiln::project
