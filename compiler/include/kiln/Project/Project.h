// Loading a dbt project: dbt_project.yml (or kiln_project.yml), the YAML files' sources, data
// tests, unit tests and seed configs, the macros, the seeds (CSV), and the models rendered as
// Jinja templates with dbt's context (kiln/Jinja/Jinja.h).
//
// Rendering keeps a map from offsets in the rendered SQL back to offsets in the model file, so
// every later stage (parser, binder, code generation) reports errors in the user's file.
#pragma once

#include "kiln/Support/Diagnostics.h"
#include "kiln/runtime/abi.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::project {

enum class Materialization { View, Ephemeral, Sink, Index };
const char *materializationName(Materialization m);

struct ColumnDecl {
  std::string name;
  std::string type;       // SQL type text as written, e.g. "numeric(12,2)"; the binder parses it
  SourceRange type_range; // where the type text is in the YAML file (for type errors)
  SourceRange range;      // the column's entry in the YAML file
  bool not_null = false;  // `constraints: [not_null]`, or `nullable: false`, or a key column
  std::string description;
};

// Where a source table's changes come from or a sink model's go, as the project configures it
// (sources.yml's config/meta, a sink's config()): an address as the executable's --source/--sink
// take it, e.g. "kafka://{{ env_var('KAFKA_BROKERS', 'localhost:9092') }}/orders?format=debezium".
// env_var() calls stay in the address: the executable expands them when it starts, so brokers and
// credentials stay out of the build.
struct ConnectorConfig {
  std::string address;          // empty: none configured
  SourceRange range;            // the `connector` setting
  std::vector<std::string> key; // a sink's key columns (message keys), if given
  SourceRange key_range;
};

struct SourceTable {
  std::string source; // the `sources:` entry name, e.g. "shop"
  std::string name;   // the table name, e.g. "orders"
  std::vector<ColumnDecl> columns;
  std::vector<std::string> primary_key; // column names; empty if the table has none
  SourceRange range;                    // the table's entry in the YAML file
  std::string description;
  ConnectorConfig connector;
  // The table of a seed's changes (source "seed", the seed's name): the seed's model reads it
  // after the CSV's rows, so that a run can replace those rows (--seed) or change them.
  bool seed = false;
  // `append_only: true` in its config or meta: it only ever receives inserts (an event stream),
  // so a top-k over it keeps only the rows that can still make its window; a delete or an update
  // of one of its rows is a bad record.
  bool append_only = false;
  std::string qualifiedName() const { return source + "." + name; }
};

// The source name of the tables that receive seeds' changes.
inline constexpr const char *kSeedChangesSource = KILN_SEED_CHANGES_SOURCE;

// A contiguous piece of rendered SQL and where it came from.
struct OffsetSegment {
  uint32_t rendered_begin = 0;
  uint32_t length = 0;
  uint32_t model_begin = 0;  // offset in the model file
  bool verbatim = true;      // false: text produced by a {{ ... }} expression
  uint32_t model_length = 0; // length of the original text (the whole {{ ... }} if !verbatim)
};

struct Model {
  std::string name;         // the file stem: models/marts/revenue.sql -> "revenue"
  std::string path;         // relative to the project root, e.g. "models/marts/revenue.sql"
  FileId file = -1;         // in the SourceManager
  std::string rendered_sql; // refs render as the model name, sources as source.table
  Materialization materialization = Materialization::View;
  // Where the materialization was chosen: in the model's config() or in dbt_project.yml's
  // `models:` configs; invalid for the default.
  SourceRange materialization_range;
  bool materialization_in_model = false; // config() chose it: dbt_project.yml's does not apply
  std::optional<bool> enabled;           // config(enabled=...), if given
  // config(unique_key=...): the columns an index model is looked up by.
  std::vector<std::string> unique_key;
  SourceRange unique_key_range;
  // config(alias=...) or dbt_project.yml's +alias: the name of a sink's or index's output
  // (--sink NAME=..., "sink" in change records), as dbt names the relation; refs still use the
  // model's name.
  std::string alias;
  SourceRange alias_range;
  const std::string &outputName() const { return alias.empty() ? name : alias; }
  SourceRange config_range;      // the {{ config(...) }} call, if any
  ConnectorConfig connector;     // a sink's, from config(connector=..., ...)
  std::vector<std::string> refs; // names of referenced models, in order of appearance
  std::vector<std::pair<std::string, std::string>> sources; // (source, table) pairs used
  // Where each entry of refs / sources is first used: the call from its name to the closing
  // parenthesis, e.g. `ref('orders')` (config_range spans its call the same way).
  std::vector<SourceRange> ref_ranges;
  std::vector<SourceRange> source_ranges;
  std::vector<OffsetSegment> offsets;
  // A data test (its SQL selects the failing rows): "error" or "warn", its severity; empty for a
  // model. Tests are sinks whose connector is test:SEVERITY.
  std::string test_severity;
  bool seed = false; // a CSV file under the seed paths
  // From the YAML files and configs, for kiln graph and kiln ls: its description, its columns'
  // (name, description) and its tags (config(tags=...), dbt_project.yml's +tags, YAML tags).
  std::string description;
  std::vector<std::pair<std::string, std::string>> column_docs;
  std::vector<std::string> tags;

  // Maps an offset in rendered_sql to a range in the model file (a {{ }} expression maps to the
  // whole expression).
  SourceRange mapRendered(uint32_t rendered_offset, uint32_t length = 0) const;
};

// A row of a dbt unit test (given or expected): per column given, its value as text (a YAML
// scalar or a CSV field), or nullopt for NULL. Columns not given are NULL.
struct UnitRow {
  std::vector<std::pair<std::string, std::optional<std::string>>> values;
};

// A dbt unit test (`unit_tests:` in YAML): the model's SQL over fixed input rows must give the
// expected rows (compared on the expected columns, as multisets).
struct UnitTest {
  std::string name;
  std::string model;
  struct Input {
    std::string relation; // a model's name, or a source table's qualified name
    bool source = false;
    std::string cte; // the name the test's SQL reads the rows by
    std::vector<UnitRow> rows;
  };
  std::vector<Input> given;
  std::vector<UnitRow> expect;
  // The model rendered again with its ref()s and source()s naming the inputs' CTEs.
  std::string rendered_sql;
  SourceRange range; // the test's entry in the YAML
};

struct Project {
  std::string name;
  std::string version;
  std::string root;      // absolute path of the project directory
  int64_t tick_size = 0; // default records per tick (0: commit records/end)
  // The session time zone (kiln_project.yml's time-zone; kiln/IR/TimeZone.h): empty for UTC.
  std::string time_zone;
  std::vector<SourceTable> sources;
  std::vector<Model> models; // topologically sorted: every model after the models it refs
  std::vector<UnitTest> unit_tests;

  const Model *findModel(const std::string &name) const;
  const SourceTable *findSource(const std::string &source, const std::string &table) const;
};

// A table as the upstream database describes it (kiln build --catalog).
struct CatalogTable {
  struct Column {
    std::string name;
    std::string type; // SQL type text, e.g. "numeric(12,2)"
    bool not_null = false;
  };
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
};
// Looks a table up by schema and name: nullopt if there is none; a non-empty `error` if the
// database could not be asked.
using CatalogLookup = std::function<std::optional<CatalogTable>(
    const std::string &schema, const std::string &table, std::string &error)>;

struct LoadOptions {
  // --vars on the command line. Each value is YAML, read like a var in
  // kiln_project.yml: 10 is a number, true a boolean, EU and '10' are strings.
  std::map<std::string, std::string> var_overrides;
  // Where source tables (and columns) without types in the YAML get them; empty: they are errors.
  CatalogLookup catalog;
};

// Loads and renders a project. On failure reports located diagnostics and returns nullopt.
std::optional<Project> loadProject(const std::string &directory, SourceManager &sources,
                                   DiagnosticEngine &diags, const LoadOptions &options = {});

} // namespace kiln::project
