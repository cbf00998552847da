// Reading YAML files with located diagnostics: syntax errors from yaml-cpp and shape errors
// ("columns" must be a list) all point into the file.
#pragma once

#include "kiln/Support/Diagnostics.h"

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::project {

// One key of a mapping: the key node (to locate the key) and its value.
struct YamlField {
  YAML::Node key;
  YAML::Node value;
};

class YamlFile {
public:
  YamlFile(FileId file, const SourceManager &sources, DiagnosticEngine &diags)
      : file_(file), sources_(sources), diags_(diags) {}

  // Parses the file; a syntax error is reported at yaml-cpp's mark and yields nullopt. An empty
  // file is a null node.
  std::optional<YAML::Node> parse();

  // A scalar's whole text as written (quotes included); other nodes are a point at their start.
  SourceRange range(const YAML::Node &node) const;
  // The value's range, or the key's when the value is empty (yaml-cpp places an empty value's mark
  // at the next token, which may be on another line).
  SourceRange range(const YamlField &field) const;

  // The fields of a mapping. Duplicate keys are errors; keys outside `known` get a warning that
  // names `where` ("in a column entry") and suggests the closest known key.
  std::map<std::string, YamlField> fields(const YAML::Node &map,
                                          std::initializer_list<std::string_view> known,
                                          std::string_view where);
  std::map<std::string, YamlField>
  fields(const YAML::Node &map, std::span<const std::string_view> known, std::string_view where);

  // Shape checks: report "<what> must be a <kind>, not a <kind>" at the node and return false.
  bool expectMap(const YAML::Node &node, std::string_view what, SourceRange at = {});
  // A scalar's text; a missing or empty value is an error too.
  std::optional<std::string> expectString(const YamlField &field, std::string_view what);
  // A list's items; a missing or empty value is an empty list. A scalar is accepted as a list of
  // one when `scalar_is_one` (for `primary_key: id`).
  std::optional<std::vector<YAML::Node>> expectList(const YamlField &field, std::string_view what,
                                                    bool scalar_is_one = false);
  // YAML 1.2's true/false (any capitalisation yaml-cpp's core schema accepts).
  std::optional<bool> expectBool(const YamlField &field, std::string_view what);

  FileId file() const { return file_; }
  DiagnosticEngine &diags() { return diags_; }

private:
  FileId file_;
  const SourceManager &sources_;
  DiagnosticEngine &diags_;
};

// "a mapping", "a list", "a string" or "empty", for shape errors.
const char *describeKind(const YAML::Node &node);

} // namespace kiln::project
