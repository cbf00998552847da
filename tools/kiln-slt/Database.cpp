#include "Database.h"

#include "SqlText.h"
#include "kiln/Binder/Binder.h"
#include "kiln/Binder/Literals.h"
#include "kiln/Frontend/Parser.h"
#include "kiln/IR/TimeZone.h"

#include <algorithm>
#include <cstring>
#include <regex>
#include <set>

namespace kiln::slt {
namespace {

// Bytes that are equal exactly when two values of one column are the same stored value.
std::string rowKey(const Row &row, const std::vector<int32_t> *columns = nullptr) {
  std::string key;
  auto add = [&](const ir::Value &v) {
    key += v.is_null ? 'N' : v.b ? 'T' : 'V';
    key.append(reinterpret_cast<const char *>(&v.i), sizeof v.i);
    key.append(reinterpret_cast<const char *>(&v.f), sizeof v.f);
    key.append(reinterpret_cast<const char *>(&v.n), sizeof v.n);
    int64_t length = static_cast<int64_t>(v.s.size());
    key.append(reinterpret_cast<const char *>(&length), sizeof length);
    key += v.s;
  };
  if (columns) {
    for (int32_t c : *columns)
      add(row[c]);
  } else {
    for (const ir::Value &v : row)
      add(v);
  }
  return key;
}

std::string firstError(const DiagnosticEngine &diags, const std::string &fallback) {
  for (const Diagnostic &d : diags.diagnostics())
    if (d.severity == Severity::Error && !d.message.empty())
      return d.message;
  return fallback;
}

// NOT NULL and primary key constraints, with PostgreSQL's messages.
bool checkConstraints(const Table &table, const std::vector<Row> &rows, std::string &error) {
  for (const Row &row : rows) {
    for (size_t c = 0; c < table.schema.size(); ++c) {
      if (!table.schema[c].nullable && row[c].is_null) {
        error = "null value in column \"" + table.schema[c].name + "\" of relation \"" +
                table.name + "\" violates not-null constraint";
        return false;
      }
    }
  }
  if (table.key.empty())
    return true;
  std::set<std::string> keys;
  for (const Row &row : rows) {
    if (!keys.insert(rowKey(row, &table.key)).second) {
      error = "duplicate key value violates unique constraint \"" + table.name + "_pkey\"";
      return false;
    }
  }
  return true;
}

// Removes one row equal to `row`; false if there is none.
bool removeRow(std::vector<Row> &rows, const Row &row) {
  std::string key = rowKey(row);
  for (auto it = rows.begin(); it != rows.end(); ++it) {
    if (rowKey(*it) == key) {
      rows.erase(it);
      return true;
    }
  }
  return false;
}

} // namespace

std::string joinName(const std::vector<std::string> &names) {
  std::string name;
  for (const std::string &part : names)
    name += (name.empty() ? "" : ".") + part;
  return name;
}

std::optional<bool> executeIndexStatement(Database &db, const std::string &sql,
                                          std::string &error) {
  static const std::regex create(
      R"(^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+(\w+))",
      std::regex::icase);
  static const std::regex drop(R"(^\s*DROP\s+INDEX\s+(IF\s+EXISTS\s+)?(\w+))", std::regex::icase);
  std::smatch m;
  if (std::regex_search(sql, m, create)) {
    if (db.findTable(m[4]) < 0) {
      error = "relation \"" + m[4].str() + "\" does not exist";
      return false;
    }
    if (db.indexes.count(m[3]) && !m[2].matched) {
      error = "relation \"" + m[3].str() + "\" already exists";
      return false;
    }
    db.indexes.emplace(m[3], m[4]);
    return true;
  }
  if (std::regex_search(sql, m, drop)) {
    if (db.indexes.erase(m[2]) == 0 && !m[1].matched) {
      error = "index \"" + m[2].str() + "\" does not exist";
      return false;
    }
    return true;
  }
  return std::nullopt;
}

std::optional<bool> executeSessionStatement(Database &db, const std::string &sql,
                                            std::string &error) {
  static const std::regex set_zone(
      R"(^\s*SET\s+(SESSION\s+)?(TIME\s+ZONE\s+|timezone\s*(=|TO)\s*)('([^']*)'|LOCAL|DEFAULT)\s*;?\s*$)",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_search(sql, m, set_zone))
    return std::nullopt;
  std::string name = m[5].matched ? m[5].str() : "";
  if (!ir::timeZone(name, &error) && !error.empty())
    return false;
  db.time_zone = ir::isUtcZone(name) ? "" : name;
  return true;
}

int32_t Database::findTable(const std::string &name) const {
  for (size_t i = 0; i < tables.size(); ++i)
    if (tables[i].name == name)
      return static_cast<int32_t>(i);
  return -1;
}

std::optional<std::vector<ast::Statement>> Executor::parse(const std::string &sql, uint32_t offset,
                                                           std::string &error) {
  DiagnosticEngine diags(sources_);
  FileId file = file_;
  auto mapper = [file, offset](uint32_t at, uint32_t length) {
    return SourceRange{SourceLoc{file, offset + at}, length};
  };
  auto statements = frontend::parseScript(sql, mapper, diags);
  if (!statements || diags.hasErrors()) {
    error = firstError(diags, "cannot parse the statement");
    return std::nullopt;
  }
  return statements;
}

bool Executor::createTable(Database &db, const ast::Statement &stmt, std::string &error) {
  Table table;
  table.name = joinName(stmt.name);
  if (db.findTable(table.name) >= 0) {
    error = "relation \"" + table.name + "\" already exists";
    return false;
  }
  DiagnosticEngine diags(sources_);
  for (const ast::ColumnDef &column : stmt.columns) {
    std::optional<ir::Type> type = binder::resolveType(column.type, sources_, diags);
    if (!type) {
      error = firstError(diags, "unsupported column type");
      return false;
    }
    table.schema.push_back({column.name, *type, !column.not_null});
  }
  for (const std::string &key : stmt.primary_key) {
    for (size_t c = 0; c < table.schema.size(); ++c)
      if (table.schema[c].name == key)
        table.key.push_back(static_cast<int32_t>(c));
  }
  db.tables.push_back(std::move(table));
  return true;
}

bool Executor::insertValues(Database &db, int32_t table_index, const ast::Statement &stmt,
                            std::vector<Row> &rows, std::string &error) {
  const Table &table = db.tables[table_index];
  std::vector<int32_t> targets;
  for (const std::string &name : stmt.insert_columns) {
    auto it = std::find_if(table.schema.begin(), table.schema.end(),
                           [&](const ir::Column &c) { return c.name == name; });
    if (it == table.schema.end()) {
      error = "column \"" + name + "\" of relation \"" + table.name + "\" does not exist";
      return false;
    }
    targets.push_back(static_cast<int32_t>(it - table.schema.begin()));
  }
  if (targets.empty())
    for (size_t c = 0; c < table.schema.size(); ++c)
      targets.push_back(static_cast<int32_t>(c));
  DiagnosticEngine diags(sources_);
  for (const auto &values : stmt.values) {
    if (values.size() != targets.size()) {
      error = values.size() > targets.size() ? "INSERT has more expressions than target columns"
                                             : "INSERT has more target columns than expressions";
      return false;
    }
    Row row(table.schema.size()); // columns not named are NULL (Kiln has no defaults)
    for (size_t k = 0; k < values.size(); ++k) {
      std::optional<ir::Value> value = binder::bindConstant(
          *values[k], table.schema[targets[k]].type, sources_, diags, db.time_zone);
      if (!value) {
        // Constants whose text only the runtime writes (arrays of floats or dates) are not
        // evaluated at compile time.
        error = firstError(diags, "kiln-slt cannot evaluate this value at compile time: insert "
                                  "its text into a text column and cast it in the view");
        return false;
      }
      row[targets[k]] = std::move(*value);
    }
    rows.push_back(std::move(row));
  }
  return true;
}

bool Executor::evaluate(const Database &db, const std::string &sql, bool with_views, Rows &rows,
                        ir::Schema &schema, std::string &error) {
  std::vector<ViewSource> views = with_views ? db.views : std::vector<ViewSource>{};
  views.push_back({"__rows", sql, true});
  Compiled compiled = compileViews(db.tables, views, db.time_zone);
  if (!compiled.program) {
    error = compiled.error;
    return false;
  }
  schema = compiled.program->sink_schemas.back();
  Instance instance(*compiled.program->jit->program(), /*keep_typed=*/true);
  std::vector<Change> all;
  for (size_t t = 0; t < db.tables.size(); ++t)
    for (const Row &row : db.tables[t].rows)
      all.push_back({static_cast<int32_t>(t), row, 1});
  if (!instance.tick(all)) {
    error = instance.error();
    return false;
  }
  int32_t sink = static_cast<int32_t>(instance.total().size()) - 1;
  for (const auto &[text, weight] : instance.total()[sink])
    rows.emplace_back(instance.typed(sink, text), weight);
  return true;
}

bool Executor::execute(Database &db, const ast::Statement &stmt, const std::string &sql,
                       uint32_t offset, std::vector<Change> &changes, std::string &error) {
  using Kind = ast::Statement::Kind;
  std::string name = joinName(stmt.name);
  // The statement's own text, for cutting it into clauses.
  std::string text = sql;
  if (stmt.range.valid() && stmt.range.begin.offset >= offset)
    text = sql.substr(stmt.range.begin.offset - offset, stmt.range.length);
  std::vector<SqlToken> tokens = lexSql(text);

  switch (stmt.kind) {
  case Kind::CreateTable:
    return createTable(db, stmt, error);
  case Kind::CreateView: {
    auto same = [&](const ViewSource &v) { return v.name == name; };
    if (db.findTable(name) >= 0 || std::any_of(db.views.begin(), db.views.end(), same)) {
      error = "relation \"" + name + "\" already exists";
      return false;
    }
    int as = findTopLevel(text, tokens, "as");
    std::string query = tokenText(text, tokens, as + 1, static_cast<int>(tokens.size()) - 1);
    // CREATE VIEW v (a, b) AS q: the parser made it SELECT * FROM (q) AS v (a, b).
    const ast::SelectStmt &select = *stmt.select;
    if (select.from.size() == 1 && select.from[0]->kind == ast::TableRef::Kind::Subquery &&
        select.from[0]->alias == stmt.name.back() && !select.from[0]->column_aliases.empty()) {
      std::string columns;
      for (const std::string &c : select.from[0]->column_aliases)
        columns += (columns.empty() ? "" : ", ") + c;
      query = "SELECT * FROM (" + query + ") AS " + stmt.name.back() + " (" + columns + ")";
    }
    db.views.push_back({name, query, false});
    return true;
  }
  case Kind::DropTable:
  case Kind::DropView: {
    if (stmt.kind == Kind::DropTable) {
      int32_t table = db.findTable(name);
      if (table >= 0) {
        db.tables.erase(db.tables.begin() + table);
        std::erase_if(db.indexes, [&](const auto &index) { return index.second == name; });
        return true;
      }
    } else {
      auto it = std::find_if(db.views.begin(), db.views.end(),
                             [&](const ViewSource &v) { return v.name == name; });
      if (it != db.views.end()) {
        db.views.erase(it);
        return true;
      }
    }
    if (stmt.if_exists)
      return true;
    error = std::string(stmt.kind == Kind::DropTable ? "table" : "view") + " \"" + name +
            "\" does not exist";
    return false;
  }
  case Kind::Select: {
    Rows result;
    ir::Schema schema;
    return evaluate(db, text, /*with_views=*/true, result, schema, error);
  }
  default:
    break;
  }

  // DML.
  int32_t table_index = db.findTable(name);
  if (table_index < 0) {
    error = "relation \"" + name + "\" does not exist";
    return false;
  }
  Table &table = db.tables[table_index];
  const size_t width = table.schema.size();
  std::vector<Row> rows = table.rows; // the table after the statement
  std::vector<Row> inserted, deleted;

  if (stmt.kind == Kind::Insert && stmt.select == nullptr) {
    if (!insertValues(db, table_index, stmt, inserted, error))
      return false;
  } else if (stmt.kind == Kind::Insert) {
    int start = findTopLevel(text, tokens, "select");
    int with = findTopLevel(text, tokens, "with");
    if (with >= 0 && (start < 0 || with < start))
      start = with;
    Rows result;
    ir::Schema schema;
    std::string query = tokenText(text, tokens, start, static_cast<int>(tokens.size()) - 1);
    if (!evaluate(db, query, /*with_views=*/true, result, schema, error))
      return false;
    // INSERT ... SELECT converts the query's values to the column types, as assignments do.
    std::vector<int32_t> targets;
    for (const std::string &column : stmt.insert_columns)
      for (size_t c = 0; c < width; ++c)
        if (table.schema[c].name == column)
          targets.push_back(static_cast<int32_t>(c));
    if (stmt.insert_columns.empty())
      for (size_t c = 0; c < width; ++c)
        targets.push_back(static_cast<int32_t>(c));
    if (targets.size() != stmt.insert_columns.size() && !stmt.insert_columns.empty()) {
      error = "a column named in INSERT does not exist";
      return false;
    }
    if (schema.size() != targets.size()) {
      error = schema.size() > targets.size() ? "INSERT has more expressions than target columns"
                                             : "INSERT has more target columns than expressions";
      return false;
    }
    for (const auto &[values, weight] : result) {
      Row row(width);
      for (size_t k = 0; k < targets.size(); ++k) {
        std::optional<ir::Value> value = binder::castLiteral(
            values[k], schema[k].type, table.schema[targets[k]].type, error, db.time_zone);
        if (!value)
          return false;
        row[targets[k]] = std::move(*value);
      }
      for (int64_t i = 0; i < weight; ++i)
        inserted.push_back(row);
    }
  } else if (stmt.kind == Kind::Delete) {
    if (!stmt.where) {
      deleted = rows;
    } else {
      int where = findTopLevel(text, tokens, "where");
      std::string sql_rows =
          "SELECT * FROM " + name + " WHERE " +
          tokenText(text, tokens, where + 1, static_cast<int>(tokens.size()) - 1);
      Rows result;
      ir::Schema schema;
      if (!evaluate(db, sql_rows, /*with_views=*/false, result, schema, error))
        return false;
      for (const auto &[row, weight] : result)
        for (int64_t i = 0; i < weight; ++i)
          deleted.push_back(row);
    }
  } else if (stmt.kind == Kind::Update) {
    int set = findTopLevel(text, tokens, "set");
    int where = findTopLevel(text, tokens, "where", set + 1);
    int last = (where >= 0 ? where : static_cast<int>(tokens.size())) - 1;
    // The new values are computed next to the old row: SELECT *, (e1), (e2) FROM t WHERE ...
    std::string select = "SELECT *";
    std::vector<int32_t> targets;
    for (int begin = set + 1; begin <= last;) {
      int end = begin;
      while (end <= last && !(tokens[end].depth == 0 && text[tokens[end].begin] == ','))
        ++end;
      int eq = begin;
      while (eq < end && text[tokens[eq].begin] != '=')
        ++eq;
      if (eq == end) {
        error = "cannot find the assignment in UPDATE";
        return false;
      }
      size_t value_begin = tokens[eq].begin + 1;
      select += ", (" + text.substr(value_begin, tokens[end - 1].end - value_begin) + ")";
      begin = end + 1;
    }
    for (const auto &[column, value] : stmt.assignments) {
      auto it = std::find_if(table.schema.begin(), table.schema.end(),
                             [&](const ir::Column &c) { return c.name == column; });
      if (it == table.schema.end()) {
        error = "column \"" + column + "\" of relation \"" + name + "\" does not exist";
        return false;
      }
      targets.push_back(static_cast<int32_t>(it - table.schema.begin()));
    }
    select += " FROM " + name;
    if (where >= 0)
      select += " WHERE " + tokenText(text, tokens, where + 1, static_cast<int>(tokens.size()) - 1);
    Rows result;
    ir::Schema schema;
    if (!evaluate(db, select, /*with_views=*/false, result, schema, error))
      return false;
    for (const auto &[values, weight] : result) {
      Row old_row(values.begin(), values.begin() + width), new_row = old_row;
      for (size_t k = 0; k < targets.size(); ++k) {
        std::optional<ir::Value> value =
            binder::castLiteral(values[width + k], schema[width + k].type,
                                table.schema[targets[k]].type, error, db.time_zone);
        if (!value)
          return false;
        new_row[targets[k]] = std::move(*value);
      }
      for (int64_t i = 0; i < weight; ++i) {
        deleted.push_back(old_row);
        inserted.push_back(new_row);
      }
    }
  }

  for (const Row &row : deleted) {
    if (!removeRow(rows, row)) {
      error = "internal error: a row to delete is not in the table";
      return false;
    }
  }
  rows.insert(rows.end(), inserted.begin(), inserted.end());
  if (!checkConstraints(table, inserted, error) || !checkConstraints(table, rows, error))
    return false;
  table.rows = std::move(rows);
  for (Row &row : deleted)
    changes.push_back({table_index, std::move(row), -1});
  for (Row &row : inserted)
    changes.push_back({table_index, std::move(row), 1});
  return true;
}

} // namespace kiln::slt
