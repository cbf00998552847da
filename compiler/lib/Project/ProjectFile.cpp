#include "Loader.h"

#include "kiln/IR/TimeZone.h"

#include <cctype>
#include <charconv>

namespace kiln::project {
namespace {

// The project name becomes file and symbol names (target/<name>, lib<name>.a, <name>.h).
bool isValidProjectName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

void readVarMap(YamlFile &yaml, const YAML::Node &map, std::map<std::string, YAML::Node> &vars,
                std::string_view project_name) {
  // yaml-cpp's iterators yield key/value pairs by value: bind the pair, not its members.
  for (const auto &entry : map) {
    const YAML::Node &key = entry.first, &value = entry.second;
    if (!key.IsScalar()) {
      yaml.diags().error(yaml.range(key), "var names must be strings");
      continue;
    }
    // dbt scopes vars to a package by nesting them under its name.
    if (!project_name.empty() && key.Scalar() == project_name && value.IsMap()) {
      readVarMap(yaml, value, vars, "");
      continue;
    }
    vars[key.Scalar()] = value;
  }
}

// vars: names to values (in dbt_project.yml also `project_name: {names: values}`).
void readVars(YamlFile &yaml, const YamlField &field, std::map<std::string, YAML::Node> &vars,
              std::string_view project_name) {
  if (field.value.IsNull())
    return;
  if (yaml.expectMap(field.value, "\"vars\"", yaml.range(field)))
    readVarMap(yaml, field.value, vars, project_name);
}

// The keys of dbt_project.yml that are dbt's own and mean nothing to Kiln (profiles, paths of
// things Kiln does not build, hooks, dbt Cloud): accepted without a word.
constexpr std::string_view kDbtProjectKeys[] = {"name",
                                                "version",
                                                "config-version",
                                                "profile",
                                                "model-paths",
                                                "seed-paths",
                                                "macro-paths",
                                                "test-paths",
                                                "analysis-paths",
                                                "snapshot-paths",
                                                "docs-paths",
                                                "asset-paths",
                                                "target-path",
                                                "log-path",
                                                "packages-install-path",
                                                "clean-targets",
                                                "require-dbt-version",
                                                "quoting",
                                                "vars",
                                                "models",
                                                "seeds",
                                                "snapshots",
                                                "tests",
                                                "data_tests",
                                                "sources",
                                                "on-run-start",
                                                "on-run-end",
                                                "dispatch",
                                                "query-comment",
                                                "flags",
                                                "dbt-cloud",
                                                "restrict-access",
                                                "metrics",
                                                "semantic-models",
                                                "saved-queries",
                                                "exposures",
                                                "analyses",
                                                "unit_tests"};

bool readName(YamlFile &yaml, const std::map<std::string, YamlField> &fields, Project &project,
              std::string_view file_name) {
  SourceRange file_start{{yaml.file(), 0}, 0};
  auto name = fields.find("name");
  if (name == fields.end()) {
    yaml.diags().error(file_start, std::string(file_name) + " has no \"name\"").hint =
        "add `name: my_project`";
    return false;
  }
  std::optional<std::string> text = yaml.expectString(name->second, "name");
  if (!text)
    return false;
  if (!isValidProjectName(*text)) {
    std::string message = "project name \"" + *text +
                          "\" must be letters, digits and underscores, not starting with a digit";
    yaml.diags().error(yaml.range(name->second), message).hint =
        "it names the executable and, with --emit=lib, C symbols";
    return false;
  }
  project.name = *text;
  return true;
}

// model-paths, macro-paths: lists of directories (a single string is a list of one).
void readPaths(YamlFile &yaml, const std::map<std::string, YamlField> &fields,
               const std::string &key, const std::string &fallback, std::vector<ModelPath> &paths) {
  auto found = fields.find(key);
  if (found == fields.end()) {
    paths.push_back({fallback, {}});
    return;
  }
  if (auto items = yaml.expectList(found->second, key, true)) {
    for (const YAML::Node &item : *items) {
      if (item.IsScalar() && !item.Scalar().empty())
        paths.push_back({item.Scalar(), yaml.range(item)});
      else
        yaml.diags().error(yaml.range(item),
                           "paths in " + key + " must be strings, not " + describeKind(item));
    }
  }
}

void readTickSize(YamlFile &yaml, const YamlField &tick, Project &project) {
  const YAML::Node &value = tick.value;
  const std::string text = value.IsScalar() ? value.Scalar() : "";
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), project.tick_size);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      project.tick_size < 0) {
    Diagnostic &error =
        yaml.diags().error(yaml.range(tick), "\"tick-size\" must be a non-negative integer");
    error.hint = "the number of input records per tick; 0 ticks at each commit record";
    project.tick_size = 0;
  }
}

// time-zone: an IANA zone name; timestamptz values are shown and read on its clock.
void readTimeZone(YamlFile &yaml, const YamlField &field, Project &project) {
  std::optional<std::string> name = yaml.expectString(field, "time-zone");
  if (!name)
    return;
  std::string error;
  if (!ir::timeZone(*name, &error) && !error.empty()) {
    yaml.diags().error(yaml.range(field.value), error).hint =
        "name a zone of the IANA database, e.g. `time-zone: Europe/Paris` or `UTC` (the "
        "default); Kiln reads it from /usr/share/zoneinfo (Debian's tzdata) when it builds";
    return;
  }
  project.time_zone = ir::isUtcZone(*name) ? "" : *name;
}

// The root must be a mapping; reports why not.
bool expectRootMap(YamlFile &yaml, const std::optional<YAML::Node> &root,
                   std::string_view file_name, std::string_view hint) {
  if (!root)
    return false;
  if (root->IsMap())
    return true;
  SourceRange file_start{{yaml.file(), 0}, 0};
  std::string message =
      root->IsNull() ? std::string(file_name) + " is empty"
                     : std::string(file_name) + " must be a mapping, not " + describeKind(*root);
  yaml.diags().error(root->IsNull() ? file_start : yaml.range(*root), message).hint =
      std::string(hint);
  return false;
}

} // namespace

bool readProjectFile(YamlFile &yaml, Project &project, ProjectLayout &layout) {
  std::optional<YAML::Node> root = yaml.parse();
  if (!expectRootMap(yaml, root, "kiln_project.yml", "start it with `name: my_project`"))
    return false;
  auto fields = yaml.fields(*root,
                            {"name", "version", "model-paths", "vars", "tick-size", "time-zone",
                             "config-version", "profile"},
                            "in kiln_project.yml");
  readName(yaml, fields, project, "kiln_project.yml");
  if (auto version = fields.find("version"); version != fields.end())
    project.version = yaml.expectString(version->second, "version").value_or("");
  readPaths(yaml, fields, "model-paths", "models", layout.model_paths);
  layout.macro_paths.push_back({"macros", {}});
  layout.test_paths.push_back({"tests", {}});
  layout.seed_paths.push_back({"seeds", {}});
  if (auto vars = fields.find("vars"); vars != fields.end())
    readVars(yaml, vars->second, layout.vars, "");
  if (auto tick = fields.find("tick-size"); tick != fields.end())
    readTickSize(yaml, tick->second, project);
  if (auto zone = fields.find("time-zone"); zone != fields.end())
    readTimeZone(yaml, zone->second, project);
  return true;
}

bool readDbtProjectFile(YamlFile &yaml, Project &project, ProjectLayout &layout,
                        FolderConfig &models) {
  std::optional<YAML::Node> root = yaml.parse();
  if (!expectRootMap(yaml, root, "dbt_project.yml", "start it with `name: my_project`"))
    return false;
  auto fields = yaml.fields(*root, kDbtProjectKeys, "in dbt_project.yml");
  readName(yaml, fields, project, "dbt_project.yml");
  if (auto version = fields.find("version"); version != fields.end())
    project.version = yaml.expectString(version->second, "version").value_or("");
  readPaths(yaml, fields, "model-paths", "models", layout.model_paths);
  readPaths(yaml, fields, "macro-paths", "macros", layout.macro_paths);
  readPaths(yaml, fields, "test-paths", "tests", layout.test_paths);
  readPaths(yaml, fields, "seed-paths", "seeds", layout.seed_paths);
  if (auto seeds = fields.find("seeds"); seeds != fields.end() && seeds->second.value.IsMap())
    layout.seeds = seeds->second.value;
  layout.project_file = yaml.file();
  if (auto vars = fields.find("vars"); vars != fields.end())
    readVars(yaml, vars->second, layout.vars, project.name);
  if (auto configs = fields.find("models");
      configs != fields.end() && !configs->second.value.IsNull() &&
      yaml.expectMap(configs->second.value, "\"models\"", yaml.range(configs->second))) {
    // Under `models:`, configs for every model, then one entry per package: this project's
    // configures its models; another package's configures models Kiln does not build.
    for (const auto &entry : configs->second.value) {
      const YAML::Node &key = entry.first, &value = entry.second;
      std::string name = key.IsScalar() ? key.Scalar() : "";
      if (!name.empty() && (name[0] == '+' || !value.IsMap())) {
        readFolderConfig(yaml, key, value, models);
      } else if (name == project.name) {
        readFolderConfigs(yaml, value, models);
      } else {
        yaml.diags()
            .warning(yaml.range(key), "models: \"" + name + "\" is not this project (\"" +
                                          project.name + "\"); its configs are ignored")
            .hint = "packages are not supported; configs of this project's models go under `" +
                    project.name + ":`";
      }
    }
  }
  return true;
}

bool readKilnSettings(YamlFile &yaml, Project &project) {
  std::optional<YAML::Node> root = yaml.parse();
  if (!expectRootMap(
          yaml, root, "kiln_project.yml",
          "next to dbt_project.yml it holds Kiln's own settings, e.g. `tick-size: 1000`"))
    return false;
  for (const auto &entry : *root) {
    const YAML::Node &key = entry.first;
    std::string name = key.IsScalar() ? key.Scalar() : "";
    if (name == "tick-size") {
      readTickSize(yaml, YamlField{key, entry.second}, project);
      continue;
    }
    if (name == "time-zone") {
      readTimeZone(yaml, YamlField{key, entry.second}, project);
      continue;
    }
    bool dbt_key = false;
    for (std::string_view candidate : kDbtProjectKeys)
      dbt_key |= candidate == name;
    Diagnostic &error = yaml.diags().error(
        yaml.range(key), dbt_key ? "\"" + name + "\" belongs in dbt_project.yml"
                                 : "unknown key \"" + name + "\" in kiln_project.yml");
    error.hint = "next to dbt_project.yml, kiln_project.yml holds only Kiln's own settings "
                 "(tick-size, time-zone)";
  }
  return true;
}

} // namespace kiln::project
