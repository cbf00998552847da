// Internal pieces of the project loader, one per file they read or render.
#pragma once

#include "Yaml.h"
#include "kiln/Project/Project.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::project {

// --- SqlText.cpp: spelling names and values as SQL text.

// The name as an SQL identifier: as-is when it is a plain lower-case identifier that is not a
// reserved keyword, double-quoted otherwise.
std::string sqlIdentifier(std::string_view name);
// A YAML scalar as Jinja prints the value dbt reads from it (var()): strings and numbers as they
// are, booleans True/False, null None.
std::string jinjaText(const YAML::Node &scalar);

// --- ProjectFile.cpp: kiln_project.yml.

struct ModelPath {
  std::string path;  // relative to the project root
  SourceRange range; // the entry in kiln_project.yml; invalid for the default "models"
};

// dbt_project.yml's `models:` configs, as a tree of folders (and models, by name) under the
// model paths.
struct FolderConfig {
  std::optional<Materialization> materialized;
  SourceRange materialized_range;
  std::optional<bool> enabled;
  std::map<std::string, FolderConfig> children;
};

// Fills name, version, vars and tick_size. Returns false if the file could not be used at all.
bool readProjectFile(YamlFile &yaml, Project &project, std::vector<ModelPath> &model_paths);
// dbt_project.yml: name, version, model-paths, vars (also scoped to the project's name) and the
// `models:` configs of this project; dbt's other keys are accepted and unused.
bool readDbtProjectFile(YamlFile &yaml, Project &project, std::vector<ModelPath> &model_paths,
                        FolderConfig &models);
// kiln_project.yml next to dbt_project.yml: Kiln's own settings only (tick-size).
bool readKilnSettings(YamlFile &yaml, Project &project);

// --- FolderConfig.cpp: materializations and dbt's model configs.

// How Kiln takes a key of a model's config (in config() or dbt_project.yml's `models:`).
enum class ConfigKey {
  Materialized, // honoured
  Enabled,      // honoured
  Renames,      // alias, schema, database: Kiln names a model's output after its file
  UniqueKey,    // honoured by index models (the columns lookups find rows by); else unused
  Unused,       // another of dbt's model configs (tags, unique_key, ...): accepted, unused
  Unknown,
};
ConfigKey classifyConfigKey(std::string_view name);
// The hint of the warning a renaming key gets.
extern const char *kRenamingConfigHint;
// view, table and incremental (all maintained views), ephemeral, sink, index.
std::optional<Materialization> parseMaterialization(std::string_view name);
extern const char *kMaterializationHint;
// One `+key: value` of a folder (or of every model), into `into`.
void readFolderConfig(YamlFile &yaml, const YAML::Node &key, const YAML::Node &value,
                      FolderConfig &into);
// A folder's mapping: its configs and its subfolders.
void readFolderConfigs(YamlFile &yaml, const YAML::Node &map, FolderConfig &into);

struct ModelConfig {
  std::optional<Materialization> materialized;
  SourceRange materialized_range;
  std::optional<bool> enabled;
};
// What applies to the model at `segments` (its folders under its model path, then its name): the
// deepest level that sets a config wins.
ModelConfig configFor(const FolderConfig &root, const std::vector<std::string> &segments);

// --- SchemaFile.cpp: the *.yml files under the model paths.

// Appends the file's source tables to `tables` (which holds those of earlier files, to find
// tables declared twice).
void readSchemaFile(YamlFile &yaml, std::vector<SourceTable> &tables);

// --- Jinja.cpp: rendering a model.

// Renders `text` (the model file's contents) into model.rendered_sql and model.offsets, and
// records its refs, sources and config. Errors are reported at their construct; rendering goes
// on past them where it can, to report more than one.
void renderModel(Model &model, std::string_view text,
                 const std::map<std::string, std::string> &vars, DiagnosticEngine &diags);

} // namespace kiln::project
