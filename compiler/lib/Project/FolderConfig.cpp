#include "Loader.h"

#include "kiln/Support/Spelling.h"

namespace kiln::project {

namespace {

// dbt's model config keys that Kiln accepts and does not use.
constexpr std::string_view kUnusedConfigKeys[] = {"tags",
                                                  "severity",
                                                  "where",
                                                  "store_failures",
                                                  "warn_if",
                                                  "error_if",
                                                  "fail_calc",
                                                  "limit",
                                                  "docs",
                                                  "persist_docs",
                                                  "meta",
                                                  "full_refresh",
                                                  "grants",
                                                  "contract",
                                                  "pre-hook",
                                                  "post-hook",
                                                  "pre_hook",
                                                  "post_hook",
                                                  "on_schema_change",
                                                  "incremental_strategy",
                                                  "sql_header",
                                                  "access",
                                                  "group",
                                                  "quoting",
                                                  "column_types",
                                                  "indexes",
                                                  "sort",
                                                  "dist",
                                                  "cluster_by",
                                                  "partition_by",
                                                  "transient",
                                                  "copy_grants",
                                                  "bind",
                                                  "labels",
                                                  "event_time",
                                                  "batch_size",
                                                  "lookback",
                                                  "begin",
                                                  "concurrent_batches",
                                                  "merge_update_columns",
                                                  "merge_exclude_columns",
                                                  "incremental_predicates",
                                                  "snowflake_warehouse",
                                                  "query_tag"};

} // namespace

ConfigKey classifyConfigKey(std::string_view name) {
  if (name == "materialized")
    return ConfigKey::Materialized;
  if (name == "enabled")
    return ConfigKey::Enabled;
  if (name == "alias")
    return ConfigKey::Alias;
  if (name == "schema" || name == "database")
    return ConfigKey::Placement;
  if (name == "unique_key")
    return ConfigKey::UniqueKey;
  if (isConnectorSetting(name))
    return ConfigKey::Connector;
  for (std::string_view key : kUnusedConfigKeys)
    if (key == name)
      return ConfigKey::Unused;
  return ConfigKey::Unknown;
}

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
  switch (classifyConfigKey(name)) {
  case ConfigKey::Materialized: {
    std::string text = value.IsScalar() ? value.Scalar() : "";
    if (std::optional<Materialization> kind = parseMaterialization(text)) {
      into.materialized = kind;
      into.materialized_range = yaml.range(value);
    } else {
      yaml.diags().error(yaml.range(value), "unsupported materialization \"" + text + "\"").hint =
          kMaterializationHint;
    }
    break;
  }
  case ConfigKey::Enabled:
    if (std::optional<bool> enabled = yaml.expectBool(YamlField{key, value}, "enabled"))
      into.enabled = enabled;
    break;
  case ConfigKey::Alias:
    if (value.IsScalar() && !value.Scalar().empty()) {
      into.alias = value.Scalar();
      into.alias_range = yaml.range(value);
    } else {
      yaml.diags().error(yaml.range(value), "alias must be a name");
    }
    break;
  case ConfigKey::Placement:
    break;
  case ConfigKey::Connector:
    readConnectorSetting(yaml, key, value, into.connector);
    break;
  case ConfigKey::Unused:
    if (name == "tags") // for kiln ls and kiln graph
      for (const std::string &tag : readTags(value))
        into.tags.push_back(tag);
    break;
  case ConfigKey::UniqueKey: // an index model names its key in its own config()
    break;
  case ConfigKey::Unknown: {
    Diagnostic &warning =
        yaml.diags().warning(yaml.range(key), "unknown config \"" + name + "\"; it is ignored");
    if (auto suggestion = closestMatch(name, {"materialized", "enabled"}))
      warning.hint = "did you mean \"" + *suggestion + "\"?";
    break;
  }
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
    if (level.alias) {
      config.alias = level.alias;
      config.alias_range = level.alias_range;
    }
    for (const auto &[name, setting] : level.connector)
      config.connector[name] = setting;
    // Tags accumulate down the folders, as in dbt.
    config.tags.insert(config.tags.end(), level.tags.begin(), level.tags.end());
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
