// libpg_query's parse tree -> Kiln's AST. This is the only code that reads libpg_query's tree.
//
// Every node gets a range in the user's file: the token at the node's `location` (PostgreSQL's
// byte offset of the node's first token, often its operator or keyword), or, for nodes the tree
// gives no location (a SELECT, a JOIN), the keyword found in the text before their first located
// child. Constructs the AST cannot represent are reported at their location; the transformer then
// keeps going so that one run reports all of them, and the caller discards the result.
#pragma once

#include <map>

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "PgJson.h"
#include "Tokens.h"
#include "kiln/Frontend/Parser.h"

namespace kiln::frontend {

// One statement of the parsed text (a RawStmt): its node and its text, without surrounding
// whitespace, comments and semicolon.
struct RawStatement {
  pg::Node node;
  uint32_t begin = 0, end = 0;
};

class Transformer {
public:
  Transformer(const TokenIndex &tokens, const RangeMapper &map_range, DiagnosticEngine &diags)
      : tokens_(tokens), map_range_(map_range), diags_(diags) {}

  // `select` holds a SelectStmt's fields.
  std::unique_ptr<ast::SelectStmt> query(pg::Object select, const SourceRange &parent);
  // Appends the statement (DROP of several objects appends one per object); reports statements
  // that parseScript does not handle.
  void statement(const RawStatement &raw, std::vector<ast::Statement> &out);

  // The statement's whole text, and its first token.
  SourceRange statementRange(const RawStatement &raw) const;
  SourceRange statementStart(const RawStatement &raw) const;
  // "INSERT", "CREATE INDEX", ...: how a message names the statement.
  std::string statementName(const RawStatement &raw) const;

private:
  // Ranges.
  SourceRange tokenRange(int64_t offset, const SourceRange &fallback) const;
  SourceRange tokensRange(size_t first, size_t last) const; // tokens first..last (indexes)
  SourceRange located(pg::Object node, const SourceRange &fallback) const;
  // The range of the first located token inside `json`.
  SourceRange firstTokenRange(pg::Json json, const SourceRange &fallback) const;
  // The nearest of `keywords` before offset `before`.
  SourceRange keywordBefore(int64_t before, std::initializer_list<std::string_view> keywords,
                            const SourceRange &fallback) const;
  // The first of `keywords` at or after offset `from`.
  SourceRange keywordFrom(int64_t from, std::initializer_list<std::string_view> keywords,
                          const SourceRange &fallback) const;
  SourceRange queryRange(pg::Object select, const SourceRange &parent) const;
  SourceRange setOperatorRange(pg::Object right, const SourceRange &fallback) const;
  Diagnostic &error(const SourceRange &range, std::string message);

  // Queries.
  void plainSelect(pg::Object select, ast::SelectStmt &stmt);
  // GROUP BY's items into stmt.group_by, and GROUPING SETS, ROLLUP and CUBE into the sets of
  // them to group by (stmt.grouping_sets).
  void groupBy(ast::SelectStmt &stmt, const std::vector<pg::Json> &items, const SourceRange &range);
  void withClause(pg::Object with, ast::SelectStmt &stmt);
  std::unique_ptr<ast::TableRef> tableRef(pg::Json json, const SourceRange &parent);
  // A function in FROM (`unnest(a) AS u(x)`, `ROWS FROM (f(), g())`, WITH ORDINALITY).
  std::unique_ptr<ast::TableRef> rangeFunction(pg::Object node, const SourceRange &parent);
  std::unique_ptr<ast::TableRef> join(pg::Object join, const SourceRange &parent);
  std::vector<std::string> relationName(pg::Object range_var) const;
  void alias(pg::Object node, ast::TableRef &ref) const;
  std::vector<std::vector<ast::ExprPtr>> valuesRows(pg::Object node, const SourceRange &parent);
  ast::SortItem sortItem(pg::Json item, const SourceRange &range);
  std::unique_ptr<ast::WindowSpec> windowSpec(pg::Object def, const SourceRange &range);

  // Expressions.
  ast::ExprPtr expr(pg::Json json, const SourceRange &parent);
  std::vector<ast::ExprPtr> exprs(const std::vector<pg::Json> &list, const SourceRange &parent);
  ast::ExprPtr columnRef(pg::Object node, const SourceRange &range);
  ast::ExprPtr constant(pg::Object node, const SourceRange &parent);
  std::string integerText(pg::Object integer, int64_t location) const;
  ast::ExprPtr operatorExpr(pg::Object node, const SourceRange &range);
  ast::ExprPtr boolExpr(pg::Object node, const SourceRange &range);
  ast::ExprPtr funcCall(pg::Object node, const SourceRange &range);
  ast::ExprPtr subLink(pg::Object node, const SourceRange &range);
  ast::ExprPtr caseExpr(pg::Object node, const SourceRange &range);
  ast::ExprPtr valueFunction(pg::Object node, const SourceRange &range);
  ast::ExprPtr unsupportedExpr(const pg::Node &node, const SourceRange &parent);
  std::optional<std::string> operatorName(pg::Object node, std::string_view key,
                                          const SourceRange &range);
  ast::TypeName typeName(pg::Object node, const SourceRange &parent);
  void intervalFields(ast::TypeName &type);

  // Statements other than SELECT.
  // `start`: the statement's first token, where errors without a better location go.
  void createTable(pg::Object node, ast::Statement &stmt, const SourceRange &start);
  void createView(pg::Object node, ast::Statement &stmt, const SourceRange &start);
  void insert(pg::Object node, ast::Statement &stmt, const SourceRange &start);
  void update(pg::Object node, ast::Statement &stmt, const SourceRange &start);
  void remove(pg::Object node, ast::Statement &stmt, const SourceRange &start);
  void drop(const RawStatement &raw, std::vector<ast::Statement> &out);
  // Reports fields of a statement that this transformer does not know (options it ignores would
  // otherwise change the statement's meaning silently).
  void rejectOtherFields(pg::Object node, std::initializer_list<std::string_view> known,
                         const SourceRange &range, std::string_view statement);
  // A target table: reports an alias, which these statements do not support.
  std::vector<std::string> targetTable(pg::Object range_var, const SourceRange &start);

  const TokenIndex &tokens_;
  const RangeMapper &map_range_;
  DiagnosticEngine &diags_;
  // The WINDOW clauses of the SELECTs being transformed, innermost last.
  std::vector<std::map<std::string, pg::Object>> named_windows_;
};

} // namespace kiln::frontend
