#include "kiln/Driver/Build.h"
#include "kiln/Driver/Catalog.h"
#include "kiln/Driver/Graph.h"
#include "kiln/Support/Spelling.h"

#include "Link.h"
#include "kiln/Binder/Binder.h"
#include "kiln/Driver/CompileCommand.h"
#include "kiln/Driver/Config.h"
#include "kiln/Frontend/ASTPrinter.h"
#include "kiln/Frontend/Parser.h"
#include "kiln/IR/TextFormat.h"
#include "kiln/Incremental/Lowering.h"
#include "kiln/Plan/Plan.h"
#include "kiln/Project/Project.h"
#include "kiln/Transforms/Passes.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace kiln::driver {

std::string stdlibBitcodePath() {
  if (const char *override_path = std::getenv("KILN_STDLIB_BITCODE"))
    return override_path;
  return KILN_STDLIB_BITCODE;
}

namespace {

ir::Location toLocation(const SourceManager &sources, SourceRange range) {
  if (!range.valid())
    return {};
  LineCol lc = sources.lineCol(range.begin);
  return {sources.path(range.begin.file), lc.line, lc.column};
}

// A column type written in YAML ("numeric(12,2)") goes through PostgreSQL's own grammar, so
// every spelling PostgreSQL accepts is accepted, and errors point into the YAML file.
std::optional<ir::Type> parseTypeText(const std::string &text, SourceRange where,
                                      const SourceManager &sources, DiagnosticEngine &diags) {
  static const std::string prefix = "SELECT NULL::";
  std::string sql = prefix + text;
  auto mapper = [&](uint32_t offset, uint32_t length) {
    SourceRange range = where;
    if (offset >= prefix.size() && where.valid()) {
      range.begin.offset += offset - static_cast<uint32_t>(prefix.size());
      range.length = length;
    }
    return range;
  };
  std::unique_ptr<ast::SelectStmt> query = frontend::parseQuery(sql, mapper, diags);
  if (!query || query->targets.size() != 1 || query->targets[0].expr->kind != ast::ExprKind::Cast) {
    if (query)
      diags.error(where, "\"" + text + "\" is not a type name");
    return std::nullopt;
  }
  ast::TypeName type = query->targets[0].expr->cast_type;
  if (!type.range.valid())
    type.range = where;
  return binder::resolveType(type, sources, diags);
}

class Timer {
public:
  explicit Timer(bool enabled, std::ostream &err) : enabled_(enabled), err_(err) {}
  // Wall time and this process's CPU time: on a busy machine the second is the stable one.
  // (The linker runs in a child process, so its CPU time shows only in wall time.)
  void lap(const char *stage) {
    auto now = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    if (enabled_)
      err_ << "kiln: " << stage << ": "
           << std::chrono::duration_cast<std::chrono::microseconds>(now - last_).count() / 1000.0
           << " ms (" << (cpu - last_cpu_) * 1000.0 / CLOCKS_PER_SEC << " ms cpu)\n";
    last_ = now;
    last_cpu_ = cpu;
  }

private:
  bool enabled_;
  std::ostream &err_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::clock_t last_cpu_ = std::clock();
};

// The columns an index model is looked up by: its unique_key, which must name its columns.
std::optional<std::vector<int32_t>> indexKey(const project::Model &model, const ir::Schema &schema,
                                             DiagnosticEngine &diags) {
  if (model.unique_key.empty()) {
    diags
        .error(model.materialization_range,
               "an index model needs a unique_key: the columns lookups find its rows by")
        .hint = "e.g. {{ config(materialized='index', unique_key='id') }}";
    return std::nullopt;
  }
  std::vector<int32_t> key;
  for (const std::string &name : model.unique_key) {
    auto column = std::find_if(schema.begin(), schema.end(),
                               [&](const ir::Column &c) { return c.name == name; });
    if (column == schema.end()) {
      std::string columns;
      for (const ir::Column &c : schema)
        columns += (columns.empty() ? "" : ", ") + c.name;
      diags
          .error(model.unique_key_range,
                 "unique_key column \"" + name + "\" is not a column of " + model.name)
          .hint = "its columns: " + columns;
      return std::nullopt;
    }
    key.push_back(static_cast<int32_t>(column - schema.begin()));
  }
  return key;
}

// A sink's key columns (Kafka message keys) must be its columns.
bool checkConnectorKey(const project::Model &model, const ir::Schema &schema,
                       DiagnosticEngine &diags) {
  for (const std::string &name : model.connector.key) {
    if (std::any_of(schema.begin(), schema.end(),
                    [&](const ir::Column &c) { return c.name == name; }))
      continue;
    std::string columns;
    for (const ir::Column &c : schema)
      columns += (columns.empty() ? "" : ", ") + c.name;
    diags
        .error(model.connector.key_range,
               "key column \"" + name + "\" is not a column of " + model.name)
        .hint = "its columns: " + columns;
    return false;
  }
  return true;
}

struct Frontend {
  std::vector<incremental::SourceTableInfo> sources;
  std::vector<codegen::SourceTable> tables;
  std::vector<incremental::ModelInfo> models;
  std::map<std::string, codegen::Connector> sink_connectors;
};

// A type as PostgreSQL spells it, for the casts of a unit test's rows.
std::string sqlTypeName(const ir::Type &type) {
  switch (type.kind) {
  case ir::TypeKind::Bool:
    return "boolean";
  case ir::TypeKind::Int32:
    return "integer";
  case ir::TypeKind::Int64:
    return "bigint";
  case ir::TypeKind::Float64:
    return "double precision";
  case ir::TypeKind::Numeric:
    return "numeric(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
  case ir::TypeKind::Text:
  case ir::TypeKind::Null:
    return "text";
  case ir::TypeKind::Date:
    return "date";
  case ir::TypeKind::Timestamp:
    return "timestamp";
  case ir::TypeKind::TimestampTz:
    return "timestamptz";
  case ir::TypeKind::Jsonb:
    return "jsonb";
  case ir::TypeKind::Interval:
    return "interval";
  case ir::TypeKind::Array:
    return sqlTypeName(type.elementType()) + "[]";
  }
  return "text";
}

constexpr const char *kTestResultsSink = "kiln_test_results";

std::string quotedIdentifier(const std::string &name) {
  std::string out = "\"";
  for (char c : name)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Rows of `schema` as a query: each given value cast to its column's type, the others NULL; no
// rows is a query of none. Reports a column the relation does not have.
std::optional<std::string> rowsQuery(const std::vector<project::UnitRow> &rows,
                                     const ir::Schema &schema, const std::string &what,
                                     SourceRange at, DiagnosticEngine &diags) {
  std::vector<std::string> names;
  for (const ir::Column &column : schema)
    names.push_back(column.name);
  for (const project::UnitRow &row : rows)
    for (const auto &[name, value] : row.values)
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        Diagnostic &error = diags.error(at, what + " has no column \"" + name + "\"");
        if (auto suggestion = closestMatch(name, names))
          error.hint = "did you mean \"" + *suggestion + "\"?";
        return std::nullopt;
      }
  auto literal = [](const std::optional<std::string> &value) {
    if (!value)
      return std::string("null");
    std::string out = "'";
    for (char c : *value)
      out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  std::string sql;
  for (size_t r = 0; r < std::max<size_t>(rows.size(), 1); ++r) {
    sql += r ? "\n  union all select " : "select ";
    for (size_t c = 0; c < schema.size(); ++c) {
      std::optional<std::string> value;
      if (r < rows.size())
        for (const auto &[name, given] : rows[r].values)
          if (name == schema[c].name)
            value = given;
      sql += (c ? ", " : "") + std::string("cast(") + literal(value) + " as " +
             sqlTypeName(schema[c].type) + ") as " + quotedIdentifier(schema[c].name);
    }
    if (rows.empty())
      sql += " where false";
  }
  return sql;
}

// A sink model whose SQL Kiln writes (a unit test's comparison, the test results), parsed from a
// file of its own named `path`, so that an error in it shows that SQL; `at` (if valid) is what
// the program names as its location.
void addGeneratedSink(const std::string &name, const std::string &path, const std::string &sql,
                      const std::string &connector, SourceRange at, binder::Catalog &catalog,
                      SourceManager &sources, DiagnosticEngine &diags, Frontend &front) {
  FileId file = sources.addFile(path, sql);
  std::unique_ptr<ast::SelectStmt> query =
      frontend::parseQuery(sql, frontend::identityMapper(file), diags);
  if (!query)
    return;
  plan::NodePtr plan = binder::bindQuery(*query, catalog, sources, diags);
  if (!plan)
    return;
  if (!at.valid())
    at = {{file, 0}, 0};
  front.sink_connectors[name] = {connector, toLocation(sources, at).str()};
  front.models.push_back({name, "", plan, true, std::nullopt, toLocation(sources, at)});
}

// A dbt unit test as a data test of the program: the model's SQL over its inputs' given rows,
// compared with the expected rows on the expected columns; each row whose count differs is a
// failing row (`diff` > 0: unexpected, < 0: missing).
void addUnitTest(const project::UnitTest &test, binder::Catalog &catalog, SourceManager &sources,
                 DiagnosticEngine &diags, Frontend &front) {
  std::string sql = "with ";
  for (const project::UnitTest::Input &input : test.given) {
    std::vector<std::string> names;
    if (input.source) {
      size_t dot = input.relation.find('.');
      names = {input.relation.substr(0, dot), input.relation.substr(dot + 1)};
    } else {
      names = {input.relation};
    }
    const binder::Relation *relation = catalog.find(names);
    if (!relation) {
      diags.error(test.range, "unit test \"" + test.name + "\": " + input.relation +
                                  " is not a model or source table of the project");
      return;
    }
    std::optional<std::string> rows =
        rowsQuery(input.rows, relation->schema, "input " + input.relation, test.range, diags);
    if (!rows)
      return;
    sql += input.cte + " as (" + *rows + "),\n";
  }
  const binder::Relation *model = catalog.find({test.model});
  // The expected columns, in the order the model has them.
  ir::Schema expected;
  for (const ir::Column &column : model->schema)
    for (const project::UnitRow &row : test.expect)
      if (std::any_of(row.values.begin(), row.values.end(),
                      [&](const auto &value) { return value.first == column.name; })) {
        expected.push_back(column);
        break;
      }
  if (expected.empty()) {
    for (const project::UnitRow &row : test.expect)
      if (!row.values.empty()) {
        diags.error(test.range, "the expected rows of unit test \"" + test.name +
                                    "\" name no column of " + test.model);
        return;
      }
    expected = model->schema; // no rows expected: compare every column
  }
  std::optional<std::string> expect =
      rowsQuery(test.expect, model->schema, "model " + test.model, test.range, diags);
  if (!expect)
    return;
  std::string columns;
  for (const ir::Column &column : expected)
    columns += (columns.empty() ? "" : ", ") + quotedIdentifier(column.name);
  sql += "__unit_actual as (\n" + test.rendered_sql + "\n),\n__unit_expected as (" + *expect +
         ")\nselect " + columns + ", sum(__unit_count) as diff from (\n  select " + columns +
         ", 1 as __unit_count from __unit_actual\n  union all select " + columns +
         ", -1 from __unit_expected\n) as compared group by " + columns +
         " having sum(__unit_count) <> 0\n";
  std::string path = sources.path(test.range.begin.file) + " (unit test " + test.name + ")";
  addGeneratedSink(test.name, path, sql, "test:error", test.range, catalog, sources, diags, front);
}

// The sink of test results: per data test (and unit test) of the program, its severity, its
// status (pass, or fail/warn by severity) and how many rows fail it, kept up to date like any
// model, so that each tick's changes say which tests started or stopped failing. Its connector
// is none: the executable writes it where --sink kiln_test_results=... says.
void addTestResults(const project::Project &project, binder::Catalog &catalog,
                    SourceManager &sources, DiagnosticEngine &diags, Frontend &front) {
  std::string sql;
  auto literal = [](const std::string &text) {
    std::string out = "'";
    for (char c : text)
      out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  for (const auto &[name, connector] : front.sink_connectors) { // by name
    if (!connector.address.starts_with("test:") || !catalog.find({name}))
      continue;
    std::string severity = connector.address.substr(5);
    sql += std::string(sql.empty() ? "" : "union all\n") + "select " + literal(name) +
           "::text as test, " + literal(severity) +
           "::text as severity, case when count(*) = 0 then 'pass' else " +
           literal(severity == "warn" ? "warn" : "fail") +
           " end as status, count(*) as failing_rows from " + quotedIdentifier(name) + "\n";
  }
  if (sql.empty())
    return;
  if (const project::Model *same = project.findModel(kTestResultsSink)) {
    diags
        .error({{same->file, 0}, 0}, std::string("model \"") + kTestResultsSink +
                                         "\" has the name of the sink of test results")
        .hint = "rename the model";
    return;
  }
  addGeneratedSink(kTestResultsSink, std::string("(") + kTestResultsSink + ")", sql, "none", {},
                   catalog, sources, diags, front);
}

} // namespace

int runBuild(const BuildOptions &options, std::ostream &out, std::ostream &err) {
  if (options.emit == Emit::Sql)
    return runCompileCommand(options.project_dir, options.vars, options.diagnostics, out, err,
                             options.catalog);
  Timer timer(options.timings, err);
  SourceManager sources;
  DiagnosticEngine diags(sources);
  auto fail = [&]() {
    if (options.verify_diagnostics)
      return verifyDiagnostics(sources, diags.diagnostics(), err) ? 0 : 1;
    diags.print(err, options.diagnostics);
    return 1;
  };
  project::LoadOptions load_options;
  load_options.var_overrides = options.vars;
  if (!options.catalog.empty())
    load_options.catalog = postgresCatalog(options.catalog);
  std::optional<project::Project> project =
      project::loadProject(options.project_dir, sources, diags, load_options);
  if (!project || diags.hasErrors())
    return fail();
  if (!options.select.empty() || !options.exclude.empty()) {
    std::optional<std::set<std::string>> chosen =
        selectModels(*project, options.select, options.exclude, options.select_tests, err);
    if (!chosen)
      return 1;
    std::vector<project::Model> kept;
    for (project::Model &model : project->models)
      if (chosen->count(model.name))
        kept.push_back(std::move(model));
    project->models = std::move(kept);
    if (project->models.empty()) {
      err << "kiln: error: the selection picks no model\n";
      return 1;
    }
  }
  timer.lap("load project");

  Frontend front;
  binder::Catalog catalog;
  catalog.time_zone = project->time_zone;
  for (const project::SourceTable &table : project->sources) {
    incremental::SourceTableInfo info;
    info.name = table.qualifiedName();
    info.loc = toLocation(sources, table.range);
    info.append_only = table.append_only;
    for (const project::ColumnDecl &column : table.columns) {
      std::optional<ir::Type> type =
          parseTypeText(column.type, column.type_range.valid() ? column.type_range : column.range,
                        sources, diags);
      info.schema.push_back({column.name, type.value_or(ir::Type::text()), !column.not_null});
    }
    for (const std::string &key : table.primary_key)
      for (size_t i = 0; i < table.columns.size(); ++i)
        if (table.columns[i].name == key)
          info.key.push_back(static_cast<int32_t>(i));
    catalog.add({info.name, info.schema, false, info.key});
    front.tables.push_back(
        {info.name,
         info.schema,
         info.key,
         info.loc.str(),
         {table.connector.address, toLocation(sources, table.connector.range).str()}});
    front.sources.push_back(std::move(info));
  }
  if (diags.hasErrors())
    return fail();

  std::set<std::string> failed;
  for (const project::Model &model : project->models) {
    bool blocked = false;
    for (const std::string &ref : model.refs)
      blocked |= failed.count(ref) > 0;
    if (blocked) { // its own errors would only repeat an upstream model's
      failed.insert(model.name);
      continue;
    }
    auto mapper = [&model](uint32_t offset, uint32_t length) {
      return model.mapRendered(offset, length);
    };
    std::unique_ptr<ast::SelectStmt> query =
        frontend::parseQuery(model.rendered_sql, mapper, diags);
    if (!query) {
      failed.insert(model.name);
      continue;
    }
    if (options.emit == Emit::Ast) {
      out << "-- model: " << model.name << "\n";
      frontend::printAST(*query, out, &sources);
    }
    plan::NodePtr plan = binder::bindQuery(*query, catalog, sources, diags);
    if (!plan) {
      failed.insert(model.name);
      continue;
    }
    if (options.emit == Emit::Plan) {
      out << "-- model: " << model.name << " ("
          << project::materializationName(model.materialization) << ")\n";
      plan::printPlan(*plan, out);
    }
    std::optional<std::vector<int32_t>> index_key;
    if (model.materialization == project::Materialization::Index) {
      index_key = indexKey(model, plan->schema, diags);
      if (!index_key) {
        failed.insert(model.name);
        continue;
      }
    }
    if (!checkConnectorKey(model, plan->schema, diags)) {
      failed.insert(model.name);
      continue;
    }
    if (!model.connector.address.empty())
      front.sink_connectors[model.outputName()] = {
          model.connector.address, toLocation(sources, model.connector.range).str()};
    catalog.add({model.name, plan->schema, true, {}});
    SourceRange model_start{{model.file, 0}, 0};
    front.models.push_back({model.name, model.alias, plan,
                            model.materialization == project::Materialization::Sink, index_key,
                            toLocation(sources, model_start)});
  }
  if (options.unit_tests)
    for (const project::UnitTest &test : project->unit_tests)
      if (!failed.count(test.model) && catalog.find({test.model}))
        addUnitTest(test, catalog, sources, diags, front);
  addTestResults(*project, catalog, sources, diags, front);
  if (diags.hasErrors() || options.verify_diagnostics)
    return fail();
  diags.print(err, options.diagnostics); // warnings
  if (options.emit == Emit::Ast || options.emit == Emit::Plan)
    return 0;
  timer.lap("parse and bind");

  std::unique_ptr<ir::Module> module =
      incremental::lowerProject(project->name, front.sources, front.models);
  module->time_zone = project->time_zone;
  std::vector<std::string> problems = ir::verifyModule(*module);
  if (!problems.empty()) {
    err << "kiln: internal error: lowering produced invalid IR:\n";
    for (const std::string &problem : problems)
      err << "  " << problem << "\n";
    ir::printModule(*module, err);
    return 2;
  }
  if (options.emit == Emit::Ir) {
    ir::printModule(*module, out);
    return 0;
  }
  std::string error;
  if (!transforms::runPasses(*module, transforms::defaultPipeline(), error)) {
    err << "kiln: internal error: " << error << "\n";
    return 2;
  }
  timer.lap("incremental IR");
  if (options.emit == Emit::IrInc) {
    ir::printModule(*module, out);
    return 0;
  }

  codegen::Options codegen_options;
  codegen_options.stdlib_bitcode = stdlibBitcodePath();
  codegen_options.default_tick_size = project->tick_size;
  codegen_options.sink_connectors = front.sink_connectors;
  std::unique_ptr<codegen::Artifact> artifact =
      codegen::generate(*module, front.tables, codegen_options, error);
  if (!artifact) {
    err << "kiln: error: " << error << "\n";
    return 2;
  }
  timer.lap("generate LLVM IR");
  artifact->optimize(options.opt_level);
  timer.lap("optimize");
  if (options.emit == Emit::Llvm) {
    out << artifact->llvmText();
    return 0;
  }
  fs::path target_dir = fs::path(options.project_dir) / "target";
  std::string output = options.output;
  if (output.empty()) {
    fs::create_directories(target_dir);
    std::string file = options.emit == Emit::Lib   ? "lib" + cPrefix(project->name) + ".a"
                       : options.emit == Emit::Obj ? project->name + ".o"
                                                   : project->name;
    output = (target_dir / file).string();
  }
  if (fs::path parent = fs::path(output).parent_path(); !parent.empty())
    fs::create_directories(parent);
  std::string object = options.emit == Emit::Obj ? output : output + ".o";
  if (!artifact->emitObject(object, error)) {
    err << "kiln: error: " << error << "\n";
    return 2;
  }
  timer.lap("emit object");
  if (options.emit == Emit::Obj)
    return 0;
  if (options.emit == Emit::Lib) {
    LibraryInterface interface{project->name, front.tables, codegen::sinksOf(*module),
                               codegen::indexesOf(*module)};
    std::string header =
        (fs::path(output).parent_path() / (cPrefix(project->name) + ".h")).string();
    if (!writeLibraryHeader(interface, header, error) ||
        !linkLibrary(object, interface, output, error)) {
      err << "kiln: error: " << error << "\n";
      return 2;
    }
    fs::remove(object);
    timer.lap("link library");
    return 0;
  }
  if (!linkExecutable(object, output, error)) {
    err << "kiln: error: " << error << "\n";
    return 2;
  }
  fs::remove(object);
  timer.lap("link");
  return 0;
}

std::unique_ptr<CompiledProgram> compileInMemory(const std::vector<TableDef> &tables,
                                                 const std::vector<ViewDef> &views,
                                                 SourceManager &sources, DiagnosticEngine &diags,
                                                 std::string &error, bool optimize,
                                                 const std::string &time_zone) {
  binder::Catalog catalog;
  catalog.time_zone = time_zone;
  auto result = std::make_unique<CompiledProgram>();
  std::vector<incremental::SourceTableInfo> infos;
  for (const TableDef &table : tables) {
    catalog.add({table.name, table.schema, false, table.key});
    infos.push_back({table.name, table.schema, table.key, {}, false});
    result->tables.push_back({table.name, table.schema, table.key, "", {}});
  }
  std::vector<incremental::ModelInfo> models;
  for (const ViewDef &view : views) {
    FileId file = sources.addFile(view.name + ".sql", view.sql);
    std::unique_ptr<ast::SelectStmt> query =
        frontend::parseQuery(view.sql, frontend::identityMapper(file), diags);
    if (!query)
      return nullptr;
    plan::NodePtr plan = binder::bindQuery(*query, catalog, sources, diags);
    if (!plan)
      return nullptr;
    catalog.add({view.name, plan->schema, true, {}});
    models.push_back({view.name, "", plan, view.is_sink, std::nullopt, {}});
    if (view.is_sink) {
      result->sinks.push_back(view.name);
      result->sink_schemas.push_back(plan->schema);
    }
  }
  std::unique_ptr<ir::Module> module = incremental::lowerProject("query", infos, models);
  module->time_zone = time_zone;
  std::vector<std::string> problems = ir::verifyModule(*module);
  if (!problems.empty()) {
    error = "internal error: invalid IR: " + problems[0];
    return nullptr;
  }
  if (optimize && !transforms::runPasses(*module, transforms::defaultPipeline(), error))
    return nullptr;
  codegen::Options options;
  options.stdlib_bitcode = stdlibBitcodePath();
  std::unique_ptr<codegen::Artifact> artifact =
      codegen::generate(*module, result->tables, options, error);
  if (!artifact)
    return nullptr;
  // Programs compiled here (kiln-slt) run on a few rows each: LLVM's O0 pipeline, which still
  // inlines and drops unused stdlib code, compiles 3x faster than O1 and nothing runs long
  // enough for the difference to show. `kiln build` executables are optimized at O2 instead.
  if (optimize)
    artifact->optimize(0);
  result->jit = codegen::jitCompile(std::move(artifact), error);
  if (!result->jit)
    return nullptr;
  return result;
}

} // namespace kiln::driver
