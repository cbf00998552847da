// SQL text -> Kiln AST, through libpg_query (PostgreSQL 15's grammar).
//
// This is the only code that sees libpg_query's parse tree. Locations in the rendered SQL are
// mapped to the user's file through `map_range`, so a model's errors point into its .sql file.
#pragma once

#include "kiln/Frontend/AST.h"

#include <functional>
#include <optional>
#include <string_view>

namespace kiln::frontend {

// Maps (offset, length) in the parsed text to a range in the user's file.
using RangeMapper = std::function<SourceRange(uint32_t offset, uint32_t length)>;

// A mapper for text that is itself a file in the SourceManager (no rendering in between).
RangeMapper identityMapper(FileId file);

// Parses a model: exactly one SELECT statement (a trailing semicolon is allowed). Syntax errors,
// other statement kinds and constructs the AST cannot represent are reported at their location.
std::unique_ptr<ast::SelectStmt> parseQuery(std::string_view sql, const RangeMapper &map_range,
                                            DiagnosticEngine &diags);

// Parses a script of statements (sqllogictest): SELECT, CREATE TABLE, CREATE VIEW, INSERT,
// DELETE, UPDATE, DROP TABLE/VIEW.
std::optional<std::vector<ast::Statement>>
parseScript(std::string_view sql, const RangeMapper &map_range, DiagnosticEngine &diags);

} // namespace kiln::frontend
