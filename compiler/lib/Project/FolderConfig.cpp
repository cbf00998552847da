#include "Loader.h"

#include "kiln/Support/Spelling.h"

namespace kiln::project {

namespace {

bool isDbtConfigKey(std::string_view name) {
  for (std::string_view key : kDbtConfigKeys)
    if (key == name)
      return true;
  return false;
}

} // namespace

std::optional<Materialization> parseMaterialization(std::string_view name) {
  // dbt's table and incremental models are kept up to date like views: every Kiln model is
  // maintained incrementally.
  static const std::pair<std::string_view, Materialization> kinds[] = {
      {"view", Materialization::View},        {"table", Materialization::View},
      {"incremental", Materialization::View}, {"ephemeral", Materialization::Ephemeral},
      {"sink", Materialization::Sink},        {"index", Materialization::Index}};
  for (const auto &[spelling, kind] : kinds)
    if (name == spelling)
      return kind;
  return std::nullopt;
}

const char *kMaterializationHint =
    "Kiln maintains every model incrementally: use 'view', 'table' or 'incremental' (kept inside "
    "the program), 'ephemeral' (inlined into its users), 'sink' (its changes are written out) or "
    "'index' (served for lookups)";

void readFolderConfig(YamlFile &yaml, const YAML::Node &key, const YAML::Node &value,
                      FolderConfig &into) {
  std::string name = key.Scalar();
  if (!name.empty() && name[0] == '+')
    name.erase(0, 1);
  if (name == "materialized") {
    std::string text = value.IsScalar() ? value.Scalar() : "";
    if (std::optional<Materialization> kind = parseMaterialization(text)) {
      into.materialized = kind;
      into.materialized_range = yaml.range(value);
    } else {
      yaml.diags().error(yaml.range(value), "unsupported materialization \"" + text + "\"").hint =
          kMaterializationHint;
    }
  } else if (name == "enabled") {
    if (std::optional<bool> enabled = yaml.expectBool(YamlField{key, value}, "enabled"))
      into.enabled = enabled;
  } else if (name == "alias" || name == "schema" || name == "database") {
    yaml.diags().warning(yaml.range(key), "config \"" + name + "\" is ignored by Kiln").hint =
        "a model's changes are named after its file in Kiln's output";
  } else if (!isDbtConfigKey(name)) {
    Diagnostic &warning =
        yaml.diags().warning(yaml.range(key), "unknown config \"" + name + "\"; it is ignored");
    if (auto suggestion = closestMatch(name, {"materialized", "enabled"}))
      warning.hint = "did you mean \"" + *suggestion + "\"?";
  }
}

void readFolderConfigs(YamlFile &yaml, const YAML::Node &map, FolderConfig &into) {
  if (map.IsNull() || !yaml.expectMap(map, "a folder's configs", yaml.range(map)))
    return;
  std::map<std::string, YAML::Node> seen;
  for (const auto &entry : map) {
    const YAML::Node &key = entry.first, &value = entry.second;
    if (!key.IsScalar()) {
      yaml.diags().error(yaml.range(key),
                         std::string("keys must be strings, not ") + describeKind(key));
      continue;
    }
    const std::string &name = key.Scalar();
    if (auto previous = seen.find(name); previous != seen.end()) {
      yaml.diags()
          .error(yaml.range(key), "duplicate key \"" + name + "\"")
          .notes.emplace_back(yaml.range(previous->second), "first given here");
      continue;
    }
    seen.emplace(name, key);
    // `+key` is a config; a mapping is a folder (or a model, by name); a known config may go
    // without its `+`, as in dbt.
    if (!name.empty() && name[0] != '+' && value.IsMap())
      readFolderConfigs(yaml, value, into.children[name]);
    else
      readFolderConfig(yaml, key, value, into);
  }
}

ModelConfig configFor(const FolderConfig &root, const std::vector<std::string> &segments) {
  ModelConfig config;
  const FolderConfig *folder = &root;
  auto take = [&](const FolderConfig &level) {
    if (level.materialized) {
      config.materialized = level.materialized;
      config.materialized_range = level.materialized_range;
    }
    if (level.enabled)
      config.enabled = level.enabled;
  };
  take(*folder);
  for (const std::string &segment : segments) {
    auto child = folder->children.find(segment);
    if (child == folder->children.end())
      break;
    folder = &child->second;
    take(*folder);
  }
  return config;
}

} // namespace kiln::project
