#include "Loader.h"

#include "kiln/Support/Spelling.h"

#include <algorithm>

namespace kiln::project {
namespace {

// What a column's YAML says beyond ColumnDecl, needed to check the table as a whole.
struct ColumnExtras {
  SourceRange nullable_true;  // `nullable: true`, if given
  SourceRange key_constraint; // a `primary_key` constraint on the column, if given
};

class SchemaReader {
public:
  SchemaReader(YamlFile &yaml, SchemaContents &into)
      : yaml_(yaml), diags_(yaml.diags()), tables_(into.tables), catalog_(into.catalog),
        catalog_failed_(into.catalog_failed), tests_(into.tests), seeds_(into.seeds),
        docs_(into.docs), unit_tests_(into.unit_tests) {}

  void readFile() {
    std::optional<YAML::Node> root = yaml_.parse();
    if (!root || root->IsNull())
      return;
    if (!yaml_.expectMap(*root, "a YAML file under the model paths"))
      return;
    auto fields = yaml_.fields(*root,
                               {"version", "sources", "models", "seeds", "macros", "exposures",
                                "metrics", "semantic_models", "saved_queries", "unit_tests",
                                "groups", "analyses", "snapshots"},
                               "at the top level");
    if (auto sources = fields.find("sources"); sources != fields.end())
      if (auto entries = yaml_.expectList(sources->second, "sources"))
        for (const YAML::Node &entry : *entries)
          readSource(entry);
    // Of `models:`, Kiln reads the data tests (descriptions are for `kiln graph`).
    if (auto models = fields.find("models"); models != fields.end())
      if (auto entries = yaml_.expectList(models->second, "models"))
        for (const YAML::Node &entry : *entries)
          readModelEntry(entry, false);
    if (auto unit_tests = fields.find("unit_tests"); unit_tests != fields.end())
      readUnitTests(yaml_, unit_tests->second, unit_tests_);
    // Seeds: their configs (column_types, enabled) and data tests.
    if (auto seeds = fields.find("seeds"); seeds != fields.end())
      if (auto entries = yaml_.expectList(seeds->second, "seeds"))
        for (const YAML::Node &entry : *entries)
          readModelEntry(entry, true);
  }

private:
  // tests: and data_tests: (dbt 1.8's name) of an entry.
  void readTests(const std::map<std::string, YamlField> &fields, const TestTarget &target) {
    for (const char *key : {"tests", "data_tests"})
      if (auto found = fields.find(key); found != fields.end())
        readDataTests(yaml_, found->second, target, tests_);
  }

  void readModelEntry(const YAML::Node &entry, bool seed) {
    if (!yaml_.expectMap(entry, seed ? "a seed entry" : "a model entry"))
      return;
    auto fields = yaml_.fields(entry,
                               {"name", "description", "columns", "tests", "data_tests", "config",
                                "meta", "tags", "docs", "access", "group", "latest_version",
                                "versions", "constraints", "deprecation_date"},
                               seed ? "in a seed entry" : "in a model entry");
    std::optional<std::string> model = name(fields, entry, seed ? "a seed entry" : "a model entry");
    if (!model)
      return;
    if (auto config = fields.find("config"); seed && config != fields.end())
      readSeedSettings(yaml_, config->second.value, seeds_[*model]);
    ModelDocs &docs = docs_[*model];
    if (auto description = fields.find("description"); description != fields.end())
      docs.description = yaml_.expectString(description->second, "description").value_or("");
    if (auto tags = fields.find("tags"); tags != fields.end())
      for (const std::string &tag : readTags(tags->second.value))
        docs.tags.push_back(tag);
    if (auto config = fields.find("config"); config != fields.end() && config->second.value.IsMap())
      for (const auto &entry : config->second.value)
        if (entry.first.IsScalar() && entry.first.Scalar() == "tags")
          for (const std::string &tag : readTags(entry.second))
            docs.tags.push_back(tag);
    TestTarget target{"ref('" + *model + "')", *model, false, ""};
    readTests(fields, target);
    if (auto columns = fields.find("columns"); columns != fields.end())
      if (auto entries = yaml_.expectList(columns->second, "columns"))
        for (const YAML::Node &column : *entries) {
          if (!yaml_.expectMap(column, "a column entry"))
            continue;
          auto column_fields =
              yaml_.fields(column,
                           {"name", "description", "data_type", "tests", "data_tests", "meta",
                            "tags", "quote", "constraints", "policy_tags", "granularity"},
                           "in a column entry");
          if (std::optional<std::string> column_name =
                  name(column_fields, column, "a column entry")) {
            target.column = *column_name;
            readTests(column_fields, target);
            std::string description;
            if (auto text = column_fields.find("description"); text != column_fields.end())
              description = yaml_.expectString(text->second, "description").value_or("");
            docs.columns.emplace_back(*column_name, description);
          }
        }
  }

  // Types (and a primary key) from the upstream database's catalog: for every column when the
  // YAML lists none, else for the listed columns without a data_type.
  // Returns false after reporting why the catalog could not type the table.
  bool typeFromCatalog(SourceTable &table, const std::string &schema, const std::string &identifier,
                       std::vector<ColumnExtras> &extras) {
    std::string error;
    std::optional<CatalogTable> found = (*catalog_)(schema, identifier, error);
    if (!error.empty()) {
      // One line (libpq's messages run over several), and once: the other tables are not asked.
      for (size_t at; (at = error.find("\n")) != std::string::npos;)
        error.replace(at, error.find_first_not_of("\n\t ", at) - at, "; ");
      diags_.error(table.range,
                   "cannot read " + schema + "." + identifier + " from the catalog: " + error);
      catalog_failed_ = !found && error.find("connect") != std::string::npos;
      return false;
    }
    if (!found) {
      diags_.error(table.range, "the catalog has no table " + schema + "." + identifier).hint =
          "name the upstream table with `identifier:` and the source's `schema:`, or declare "
          "the columns' types";
      return false;
    }
    if (table.columns.empty()) {
      for (const CatalogTable::Column &upstream : found->columns) {
        ColumnDecl column;
        column.name = upstream.name;
        column.type = upstream.type;
        column.not_null = upstream.not_null;
        column.range = column.type_range = table.range;
        table.columns.push_back(std::move(column));
        extras.emplace_back();
      }
    } else {
      for (ColumnDecl &column : table.columns) {
        if (!column.type.empty())
          continue;
        for (const CatalogTable::Column &upstream : found->columns)
          if (upstream.name == column.name) {
            column.type = upstream.type;
            column.type_range = column.range;
            column.not_null |= upstream.not_null;
          }
      }
    }
    catalog_primary_key_ = found->primary_key;
    return true;
  }

  // The required `name` of an entry; reports its absence at the entry.
  std::optional<std::string> name(const std::map<std::string, YamlField> &fields,
                                  const YAML::Node &entry, std::string_view what) {
    auto name = fields.find("name");
    if (name == fields.end()) {
      diags_.error(yaml_.range(entry), std::string(what) + " has no \"name\"");
      return std::nullopt;
    }
    return yaml_.expectString(name->second, "name");
  }

  void readSource(const YAML::Node &entry) {
    if (!yaml_.expectMap(entry, "a source entry"))
      return;
    auto fields =
        yaml_.fields(entry,
                     {"name", "tables", "description", "schema", "database", "loader", "meta",
                      "tags", "config", "freshness", "loaded_at_field", "quoting", "overrides"},
                     "in a source entry");
    std::optional<std::string> source = name(fields, entry, "a source entry");
    if (!source)
      return;
    auto tables = fields.find("tables");
    if (tables == fields.end()) {
      diags_.warning(yaml_.range(fields.at("name")), "source \"" + *source + "\" has no tables");
      return;
    }
    // Connector settings under the source apply to its tables; a table's own override them
    // (`meta:` first, then dbt's `config:`).
    ConnectorSettings connector;
    readConnectorConfigs(fields, connector);
    // dbt's schema of a source defaults to its name: where a postgres connector finds its tables.
    std::string schema = *source;
    if (auto given = fields.find("schema"); given != fields.end())
      schema = yaml_.expectString(given->second, "schema").value_or(schema);
    if (auto entries = yaml_.expectList(tables->second, "tables"))
      for (const YAML::Node &table : *entries)
        readTable(*source, schema, table, connector);
  }

  void readConnectorConfigs(const std::map<std::string, YamlField> &fields,
                            ConnectorSettings &into) {
    if (auto meta = fields.find("meta"); meta != fields.end())
      readConnectorSettings(yaml_, meta->second.value, false, into);
    if (auto config = fields.find("config"); config != fields.end())
      readConnectorSettings(yaml_, config->second.value, true, into);
  }

  void readTable(const std::string &source, const std::string &schema, const YAML::Node &entry,
                 ConnectorSettings connector) {
    if (!yaml_.expectMap(entry, "a table entry"))
      return;
    auto fields = yaml_.fields(entry,
                               {"name", "description", "primary_key", "columns", "identifier",
                                "meta", "tags", "config", "tests", "data_tests", "freshness",
                                "loaded_at_field", "quoting", "external"},
                               "in a table entry");
    std::optional<std::string> name = this->name(fields, entry, "a table entry");
    if (!name)
      return;
    TestTarget target{"source('" + source + "', '" + *name + "')", source + "_" + *name, true, ""};
    readTests(fields, target);
    SourceTable table;
    table.source = source;
    table.name = *name;
    table.range = yaml_.range(fields.at("name"));
    if (auto description = fields.find("description"); description != fields.end())
      table.description = yaml_.expectString(description->second, "description").value_or("");

    std::vector<ColumnExtras> extras;
    std::optional<std::vector<YAML::Node>> columns = std::vector<YAML::Node>{};
    if (auto field = fields.find("columns"); field != fields.end())
      columns = yaml_.expectList(field->second, "columns");
    for (const YAML::Node &column : columns.value_or(std::vector<YAML::Node>{}))
      readColumn(table, column, extras);
    // dbt's schema of a source defaults to its name; a table's identifier to its name.
    std::string identifier = table.name;
    if (auto given = fields.find("identifier"); given != fields.end())
      identifier = yaml_.expectString(given->second, "identifier").value_or(identifier);
    bool typed = std::all_of(table.columns.begin(), table.columns.end(),
                             [](const ColumnDecl &column) { return !column.type.empty(); });
    bool reported = false;
    if (catalog_ && *catalog_ && !catalog_failed_ && columns && (columns->empty() || !typed))
      reported = !typeFromCatalog(table, schema, identifier, extras);
    if (columns && columns->empty() && table.columns.empty() && !reported) {
      diags_.error(table.range, "table " + table.qualifiedName() + " declares no columns").hint =
          "declare its columns and their types (where dbt would ask the warehouse):\n"
          "  - name: " +
          table.name +
          "\n    columns:\n      - {name: id, data_type: bigint}\n"
          "or read them from the upstream database: kiln build --catalog postgres://...";
    }
    for (const ColumnDecl &column : table.columns)
      if (column.type.empty())
        diags_
            .error(column.range, "column \"" + column.name + "\" of " + table.qualifiedName() +
                                     " has no data_type")
            .hint = "add its SQL type, e.g. data_type: bigint, or read it from the upstream "
                    "database: kiln build --catalog postgres://...";
    readPrimaryKey(table, fields, extras);
    if (table.primary_key.empty() && !catalog_primary_key_.empty())
      for (const std::string &key : catalog_primary_key_)
        for (ColumnDecl &column : table.columns)
          if (column.name == key) {
            table.primary_key.push_back(key);
            column.not_null = true;
          }
    catalog_primary_key_.clear();
    readConnectorConfigs(fields, connector);
    if (auto append_only = connector.find("append_only"); append_only != connector.end()) {
      const std::string &value = append_only->second.value;
      if (value == "true" || value == "false")
        table.append_only = value == "true";
      else
        diags_.error(append_only->second.value_range, "append_only takes true or false");
      connector.erase(append_only);
    }
    // A Kafka topic is named after the table's identifier (or name); a postgres table is
    // schema.identifier.
    std::string topic = table.name;
    if (auto identifier = fields.find("identifier"); identifier != fields.end())
      topic = yaml_.expectString(identifier->second, "identifier").value_or(topic);
    if (auto kind = connector.find("connector");
        kind != connector.end() && kind->second.value == "postgres")
      topic = schema + "." + topic;
    if (std::optional<ConnectorConfig> config = buildConnector(
            connector, {false, table.qualifiedName(), topic, !table.primary_key.empty()}, diags_))
      table.connector = std::move(*config);

    auto same = std::find_if(tables_.begin(), tables_.end(), [&](const SourceTable &other) {
      return other.qualifiedName() == table.qualifiedName();
    });
    if (same != tables_.end()) {
      diags_.error(table.range, "table " + table.qualifiedName() + " is declared twice")
          .notes.emplace_back(same->range, "first declared here");
      return;
    }
    tables_.push_back(std::move(table));
  }

  void readColumn(SourceTable &table, const YAML::Node &entry, std::vector<ColumnExtras> &extras) {
    if (!yaml_.expectMap(entry, "a column entry"))
      return;
    auto fields = yaml_.fields(entry,
                               {"name", "data_type", "type", "description", "constraints",
                                "nullable", "meta", "tags", "tests", "data_tests", "quote"},
                               "in a column entry");
    std::optional<std::string> name = this->name(fields, entry, "a column entry");
    if (!name)
      return;
    readTests(fields, TestTarget{"source('" + table.source + "', '" + table.name + "')",
                                 table.source + "_" + table.name, true, *name});
    ColumnDecl column;
    ColumnExtras extra;
    column.name = *name;
    column.range = yaml_.range(fields.at("name"));

    auto data_type = fields.find("data_type"), type = fields.find("type");
    if (data_type != fields.end() && type != fields.end()) {
      Diagnostic &error =
          diags_.error(yaml_.range(type->second.key),
                       "column \"" + column.name + "\" has both \"data_type\" and \"type\"");
      error.notes.emplace_back(yaml_.range(data_type->second.key), "\"data_type\" is given here");
    }
    if (data_type == fields.end())
      data_type = type;
    if (data_type == fields.end()) {
      // An error once the catalog, if any, has had its say (readTable).
    } else if (auto text = yaml_.expectString(data_type->second, data_type->first)) {
      column.type = *text;
      column.type_range = yaml_.range(data_type->second);
    }
    if (auto description = fields.find("description"); description != fields.end())
      column.description = yaml_.expectString(description->second, "description").value_or("");

    if (auto nullable = fields.find("nullable"); nullable != fields.end()) {
      if (auto value = yaml_.expectBool(nullable->second, "nullable")) {
        column.not_null |= !*value;
        if (*value)
          extra.nullable_true = yaml_.range(nullable->second);
      }
    }
    if (auto constraints = fields.find("constraints"); constraints != fields.end())
      if (auto items = yaml_.expectList(constraints->second, "constraints"))
        for (const YAML::Node &item : *items)
          readConstraint(item, column, extra);

    auto same = std::find_if(table.columns.begin(), table.columns.end(),
                             [&](const ColumnDecl &other) { return other.name == column.name; });
    if (same != table.columns.end()) {
      std::string message =
          "column \"" + column.name + "\" is declared twice in " + table.qualifiedName();
      diags_.error(column.range, message).notes.emplace_back(same->range, "first declared here");
      return;
    }
    table.columns.push_back(std::move(column));
    extras.push_back(extra);
  }

  // A constraint is a name (`not_null`) or dbt's mapping (`{type: not_null}`).
  void readConstraint(const YAML::Node &item, ColumnDecl &column, ColumnExtras &extra) {
    YAML::Node type = item.IsMap() ? item["type"] : item;
    if (!type.IsScalar()) {
      diags_.error(yaml_.range(item), "a constraint must be a name such as not_null, or a "
                                      "mapping with a \"type\"");
      return;
    }
    const std::string &name = type.Scalar();
    SourceRange range = yaml_.range(type);
    if (name == "not_null") {
      column.not_null = true;
    } else if (name == "primary_key") {
      extra.key_constraint = range;
    } else if (name == "unique" || name == "check" || name == "foreign_key") {
      diags_.warning(range, "constraint \"" + name + "\" is not enforced by Kiln; it is ignored");
    } else {
      Diagnostic &error = diags_.error(range, "unknown constraint \"" + name + "\"");
      auto suggestion = closestMatch(name, {"not_null", "primary_key", "unique"});
      error.hint = suggestion ? "did you mean \"" + *suggestion + "\"?"
                              : "Kiln understands not_null and primary_key";
    }
  }

  // The key comes from the table's `primary_key` or from primary_key constraints on columns.
  void readPrimaryKey(SourceTable &table, const std::map<std::string, YamlField> &fields,
                      const std::vector<ColumnExtras> &extras) {
    std::vector<std::string> column_names;
    for (const ColumnDecl &column : table.columns)
      column_names.push_back(column.name);
    auto key = fields.find("primary_key");
    if (key != fields.end()) {
      auto items = yaml_.expectList(key->second, "primary_key", true);
      for (const YAML::Node &item : items.value_or(std::vector<YAML::Node>{})) {
        if (!item.IsScalar()) {
          diags_.error(yaml_.range(item),
                       std::string("key columns must be names, not ") + describeKind(item));
          continue;
        }
        const std::string &name = item.Scalar();
        if (std::find(column_names.begin(), column_names.end(), name) == column_names.end()) {
          Diagnostic &error =
              diags_.error(yaml_.range(item), "key column \"" + name + "\" is not a column of " +
                                                  table.qualifiedName());
          if (auto suggestion = closestMatch(name, column_names))
            error.hint = "did you mean \"" + *suggestion + "\"?";
        } else if (std::find(table.primary_key.begin(), table.primary_key.end(), name) !=
                   table.primary_key.end()) {
          diags_.error(yaml_.range(item), "key column \"" + name + "\" is listed twice");
        } else {
          table.primary_key.push_back(name);
        }
      }
    }
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (!extras[i].key_constraint.valid())
        continue;
      const std::string &name = table.columns[i].name;
      if (key == fields.end()) {
        table.primary_key.push_back(name);
      } else if (std::find(table.primary_key.begin(), table.primary_key.end(), name) ==
                 table.primary_key.end()) {
        Diagnostic &error = diags_.error(
            extras[i].key_constraint,
            "column \"" + name + "\" has a primary_key constraint but is not in the primary_key");
        error.notes.emplace_back(yaml_.range(key->second.key), "the table's primary_key is here");
      }
    }
    // Key columns are implicitly NOT NULL, as in SQL.
    for (size_t i = 0; i < table.columns.size(); ++i) {
      ColumnDecl &column = table.columns[i];
      if (std::find(table.primary_key.begin(), table.primary_key.end(), column.name) ==
          table.primary_key.end())
        continue;
      column.not_null = true;
      if (extras[i].nullable_true.valid())
        diags_.error(extras[i].nullable_true,
                     "key column \"" + column.name + "\" cannot be nullable");
    }
  }

  YamlFile &yaml_;
  DiagnosticEngine &diags_;
  std::vector<SourceTable> &tables_;
  const CatalogLookup *catalog_;
  bool &catalog_failed_;
  std::vector<DataTest> &tests_;
  std::map<std::string, SeedConfig> &seeds_;
  std::map<std::string, ModelDocs> &docs_;
  std::vector<UnitTestDecl> &unit_tests_;
  std::vector<std::string> catalog_primary_key_; // of the table being read, from the catalog
};

} // namespace

void readSchemaFile(YamlFile &yaml, SchemaContents &into) { SchemaReader(yaml, into).readFile(); }

std::vector<std::string> readTags(const YAML::Node &value) {
  std::vector<std::string> tags;
  if (value.IsScalar())
    tags.push_back(value.Scalar());
  else if (value.IsSequence())
    for (const YAML::Node &item : value)
      if (item.IsScalar())
        tags.push_back(item.Scalar());
  return tags;
}

} // namespace kiln::project
