// Internal pieces of the project loader, one per file they read or render.
#pragma once

#include "Yaml.h"
#include "kiln/Jinja/Jinja.h"
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

// --- Connectors.cpp: where sources' changes come from and sinks' go.

// One connector setting as written (connector, format, topic, brokers, path, key; postgres:
// dsn, slot, publication, table).
struct ConnectorSetting {
  std::string value;            // key: the columns joined by commas
  std::vector<std::string> key; // key: the columns
  SourceRange key_range;        // the setting's name
  SourceRange value_range;
};
using ConnectorSettings = std::map<std::string, ConnectorSetting>;
bool isConnectorSetting(std::string_view name);
// One setting (`key: value`, a leading `+` allowed), into `into` (replacing one of its name).
void readConnectorSetting(YamlFile &yaml, const YAML::Node &key, const YAML::Node &value,
                          ConnectorSettings &into);
// The connector settings of a `config:` or `meta:` mapping (meta's other keys are the user's;
// config's other keys get a warning if `warn_unknown` and they are not dbt's).
void readConnectorSettings(YamlFile &yaml, const YAML::Node &map, bool warn_unknown,
                           ConnectorSettings &into);
// Whether `value` holds only text and {{ env_var('NAME'[, 'default']) }} calls; reports anything
// else in {{ }} at `range`.
bool checkEnvVarTemplate(std::string_view value, SourceRange range, DiagnosticEngine &diags);
struct ConnectorTarget {
  bool sink = false;
  std::string name;          // the table (shop.orders) or model
  std::string default_topic; // a Kafka topic's (a postgres table's) name when none is given
  bool has_primary_key = false;
};
// The address the settings describe, with their key columns; reports (at the settings) what is
// missing or wrong. An empty config for no settings; nullopt after an error.
std::optional<ConnectorConfig> buildConnector(const ConnectorSettings &settings,
                                              const ConnectorTarget &target,
                                              DiagnosticEngine &diags);

// --- ProjectFile.cpp: kiln_project.yml.

struct ModelPath {
  std::string path;  // relative to the project root
  SourceRange range; // the entry in the project file; invalid for a default
};

// What the project file says about where things are, and its vars.
struct ProjectLayout {
  std::vector<ModelPath> model_paths; // default: models
  std::vector<ModelPath> macro_paths; // default: macros (which need not exist)
  std::vector<ModelPath> test_paths;  // default: tests (which need not exist)
  std::vector<ModelPath> seed_paths;  // default: seeds (which need not exist)
  YAML::Node seeds;                   // dbt_project.yml's `seeds:` configs
  FileId project_file = -1;
  std::map<std::string, YAML::Node> vars;
};

// dbt_project.yml's `models:` configs, as a tree of folders (and models, by name) under the
// model paths.
struct FolderConfig {
  std::optional<Materialization> materialized;
  SourceRange materialized_range;
  std::optional<bool> enabled;
  ConnectorSettings connector; // sinks' connector settings
  std::vector<std::string> tags;
  std::optional<std::string> alias; // the name of a sink's or index's output
  SourceRange alias_range;
  std::map<std::string, FolderConfig> children;
};

// Fills name, version, tick_size and the layout. Returns false if the file could not be used at
// all.
bool readProjectFile(YamlFile &yaml, Project &project, ProjectLayout &layout);
// dbt_project.yml: name, version, model-paths, macro-paths, vars (also scoped to the project's
// name) and the `models:` configs of this project; dbt's other keys are accepted and unused.
bool readDbtProjectFile(YamlFile &yaml, Project &project, ProjectLayout &layout,
                        FolderConfig &models);
// kiln_project.yml next to dbt_project.yml: Kiln's own settings only (tick-size).
bool readKilnSettings(YamlFile &yaml, Project &project);

// --- FolderConfig.cpp: materializations and dbt's model configs.

// How Kiln takes a key of a model's config (in config() or dbt_project.yml's `models:`).
enum class ConfigKey {
  Materialized, // honoured
  Enabled,      // honoured
  Alias,        // alias: the name of a sink's or index's output
  Placement,    // schema, database: where a warehouse puts the relation; nothing in Kiln
  UniqueKey,    // honoured by index models (the columns lookups find rows by); else unused
  Connector,    // a sink model's connector settings (connector, format, topic, key, ...)
  Unused,       // another of dbt's model configs (tags, unique_key, ...): accepted, unused
  Unknown,
};
ConfigKey classifyConfigKey(std::string_view name);
// The hint of the warning a renaming key gets.
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
  ConnectorSettings connector;   // per setting, the deepest level's
  std::vector<std::string> tags; // of every level
  std::optional<std::string> alias;
  SourceRange alias_range;
};
// What applies to the model at `segments` (its folders under its model path, then its name): the
// deepest level that sets a config wins.
ModelConfig configFor(const FolderConfig &root, const std::vector<std::string> &segments);

// --- SchemaFile.cpp: the *.yml files under the model paths.

// --- Seeds.cpp: CSV files as tables.

// What the project says about a seed: dbt_project.yml's `seeds:` configs (by folder and name),
// then a `seeds:` entry of a YAML file under the model paths.
struct SeedConfig {
  std::map<std::string, std::string> column_types; // column -> SQL type
  std::optional<bool> enabled;
  SourceRange range; // where column_types was given
};
// The config of the seed at `segments` (its folders under its seed path, then its name) in
// dbt_project.yml's `seeds:` (`+column_types`, `+enabled`; deeper levels win).
SeedConfig seedConfigFor(YamlFile &yaml, const YAML::Node &seeds, const std::string &project,
                         const std::vector<std::string> &segments);
// Reads `column_types` and `enabled` of a config mapping into `into` (for YAML `seeds:` entries).
void readSeedSettings(YamlFile &yaml, const YAML::Node &config, SeedConfig &into);
// The model of a seed: a VALUES list of its rows, which maps to the CSV file's lines, plus the
// rows of `changes`, the table that receives the seed's changes at run time (its rows replaced by
// --seed, or changed like a source's). Reports a malformed file.
std::optional<Model> seedModel(const std::string &name, const std::string &path, FileId file,
                               std::string_view text, const SeedConfig &config,
                               SourceTable &changes, DiagnosticEngine &diags);

// --- UnitTests.cpp: dbt's unit tests in YAML.

// A unit test as the YAML declares it, before its model is rendered.
struct UnitTestDecl {
  UnitTest test;
  std::vector<std::pair<std::string, SourceRange>> inputs; // as written: ref('x'), source(...)
};

// Reads a `unit_tests:` list into `into`.
void readUnitTests(YamlFile &yaml, const YamlField &field, std::vector<UnitTestDecl> &into);

// --- DataTests.cpp: dbt's data tests in YAML.

// One data test of a model, source table or column, as schema.yml declares it.
struct DataTest {
  std::string name;     // as dbt names it: unique_orders_id, source_not_null_shop_orders_id
  std::string test;     // unique, not_null, ... or a project's {% test %}
  std::string relation; // what it tests, as Jinja: ref('orders'), source('shop', 'orders')
  std::string column;   // empty for a test of the whole model
  std::vector<std::pair<std::string, YAML::Node>> arguments;
  std::string where; // config: where
  std::string severity = "error";
  SourceRange range; // the test's entry
};

// What a list of tests (tests: or data_tests:) is attached to.
struct TestTarget {
  std::string relation;  // ref('orders') or source('shop', 'orders')
  std::string name_part; // orders, or shop_orders for a source table ("source_" prefixes tests)
  bool source = false;
  std::string column; // empty at the model or table level
};
void readDataTests(YamlFile &yaml, const YamlField &field, const TestTarget &target,
                   std::vector<DataTest> &tests);
// The template that renders the test's SQL (the failing rows): a call of its test macro.
std::string dataTestTemplate(const DataTest &test);

// --- SchemaFile.cpp: the *.yml files under the model paths.

// What the YAML files under the model paths say about a model or seed beyond its tests: for
// `kiln graph` and `kiln ls`.
struct ModelDocs {
  std::string description;
  std::vector<std::pair<std::string, std::string>> columns; // name, description
  std::vector<std::string> tags;
};

// What the YAML files declare, gathered over all of them.
struct SchemaContents {
  std::vector<SourceTable> &tables;       // of earlier files too, to find tables declared twice
  const CatalogLookup *catalog = nullptr; // types for tables and columns the YAML leaves without
  bool catalog_failed = false;            // it could not be asked (reported once)
  std::vector<DataTest> tests;
  std::vector<UnitTestDecl> unit_tests;
  std::map<std::string, SeedConfig> seeds;
  std::map<std::string, ModelDocs> docs; // by model or seed name
};

// Appends the file's source tables, the data tests of its models, seeds and sources, seeds'
// configs and models' descriptions to `into`.
void readSchemaFile(YamlFile &yaml, SchemaContents &into);

// A YAML value of tags: a string or a list of strings.
std::vector<std::string> readTags(const YAML::Node &value);

// --- DbtContext.cpp: dbt's template context.

// A YAML value as dbt's templates see it (PyYAML's resolution of plain scalars: 10 an integer,
// 0.5 a float, yes/true booleans, null None; quoted scalars strings).
jinja::Value jinjaValue(const YAML::Node &node);

// The names dbt gives templates (ref, source, config, var, env_var, this, target, adapter,
// exceptions, is_incremental, dbt.*) and the project's macros, for rendering models.
class DbtContext {
public:
  DbtContext(const SourceManager &sources, DiagnosticEngine &diags, std::string project_name,
             std::map<std::string, jinja::Value> vars);
  // The macros of a file under macro-paths, or of Kiln's copy of dbt's own (`dbt_builtin`).
  bool defineMacros(const std::shared_ptr<const jinja::Template> &file, bool dbt_builtin);
  // Renders the model's template into model.rendered_sql and model.offsets, recording its refs,
  // sources and config (its connector settings into `connector`); reports the first error.
  void renderModel(Model &model, ConnectorSettings &connector,
                   const std::shared_ptr<const jinja::Template> &file);
  // Renders `model` again with its ref()s and source()s naming `inputs` instead (by model name,
  // or by qualified source table): a unit test's SQL. nullopt after reporting an error.
  std::optional<std::string> renderWithInputs(const Model &model,
                                              const std::shared_ptr<const jinja::Template> &file,
                                              const std::map<std::string, std::string> &inputs);
  // Whether a generic test of that name is defined (dbt's or the project's {% test %}), and the
  // names of all of them.
  bool hasTest(const std::string &name) const;
  std::vector<std::string> testNames() const;

private:
  jinja::Value var(jinja::CallArgs &args);
  static jinja::Value envVar(jinja::CallArgs &args);
  jinja::Value dispatch(jinja::CallArgs &args);
  jinja::Value ref(Model &model, jinja::CallArgs &args);
  jinja::Value source(Model &model, jinja::CallArgs &args);
  void config(Model &model, ConnectorSettings &connector, jinja::CallArgs &args);
  static std::vector<std::string> columnNames(const jinja::Argument &argument,
                                              const std::string &what, const std::string &example);

  jinja::Environment env_;
  DiagnosticEngine &diags_;
  // While a unit test's model renders: the names its ref()s and source()s give.
  const std::map<std::string, std::string> *unit_inputs_ = nullptr;
  std::string project_name_;
  std::map<std::string, jinja::Value> vars_;
};

// --- DbtMacros.cpp: dbt's cross-database macros (dbt.date_trunc, dbt.type_string, ...) as dbt
// defines them for postgres, in Jinja.
extern const char *const kDbtMacrosPath;
extern const char *const kDbtMacros;

} // namespace kiln::project
