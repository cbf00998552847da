// The runner's model of the database: tables with their rows, and what statements do to them.
//
// Statements are parsed with Kiln's parser. Constants (INSERT ... VALUES) are typed with Kiln's
// binder; everything that needs evaluating over rows (DELETE/UPDATE conditions, UPDATE's new
// values, INSERT ... SELECT) is compiled with Kiln itself as a view over the current contents.
#pragma once

#include "Engine.h"
#include "kiln/Frontend/AST.h"
#include "kiln/Support/Diagnostics.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::slt {

struct Database {
  std::vector<Table> tables;
  std::vector<ViewSource> views; // CREATE VIEW, in order (compiled before a query's own view)
  std::map<std::string, std::string> indexes; // index name -> table (indexes change no result)
  std::string time_zone; // SET TIME ZONE: the session's (empty: UTC), for the views after it

  int32_t findTable(const std::string &name) const;
};

class Executor {
public:
  // Statements come from the text of `file` (registered in `sources`), so errors point into it.
  Executor(SourceManager &sources, FileId file) : sources_(sources), file_(file) {}

  // Parses the statements of `sql`, which starts at byte `offset` of the file.
  std::optional<std::vector<ast::Statement>> parse(const std::string &sql, uint32_t offset,
                                                   std::string &error);

  // Executes one statement of `sql` (as returned by parse(sql, offset)). DML changes the rows of
  // `db` and appends what it did to `changes`; a failing statement (a SQL runtime error while
  // evaluating included) leaves `db` unchanged.
  bool execute(Database &db, const ast::Statement &stmt, const std::string &sql, uint32_t offset,
               std::vector<Change> &changes, std::string &error);

private:
  bool createTable(Database &db, const ast::Statement &stmt, std::string &error);
  bool insertValues(Database &db, int32_t table, const ast::Statement &stmt, std::vector<Row> &rows,
                    std::string &error);
  using Rows = std::vector<std::pair<Row, int64_t>>;
  // The rows of `sql`, a SELECT over db's tables (and views), compiled with Kiln, and its schema.
  bool evaluate(const Database &db, const std::string &sql, bool with_views, Rows &rows,
                ir::Schema &schema, std::string &error);

  SourceManager &sources_;
  FileId file_;
};

// CREATE INDEX and DROP INDEX, which Kiln's parser does not take: only their names are kept, so
// that dropping a missing index fails. nullopt if `sql` is not one of them; else whether it worked.
std::optional<bool> executeIndexStatement(Database &db, const std::string &sql, std::string &error);

// SET TIME ZONE 'zone' (also SET timezone TO/= 'zone', and LOCAL/DEFAULT for UTC): nullopt if
// `sql` is not one; else whether the zone is known. It applies to the views compiled after it.
std::optional<bool> executeSessionStatement(Database &db, const std::string &sql,
                                            std::string &error);

// "t", or "s.t" for a qualified name.
std::string joinName(const std::vector<std::string> &names);

} // namespace kiln::slt
