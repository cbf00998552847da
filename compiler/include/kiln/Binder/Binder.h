// Name resolution and typing: Kiln AST -> logical plan.
//
// The binder resolves names against a catalog of source tables and models, applies PostgreSQL's
// type rules and implicit casts (making every cast explicit in the plan's expressions), detects
// aggregates, splits join conditions into equi-join keys and residuals, and pushes single-table
// conditions below joins. Everything it cannot compile yet is rejected at its location with a
// message that names the construct.
#pragma once

#include "kiln/Frontend/AST.h"
#include "kiln/IR/IR.h"
#include "kiln/Plan/Plan.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::binder {

struct Relation {
  std::string name; // "shop.orders" for a source table, the model name for a model
  ir::Schema schema;
  bool is_model = false;
  std::vector<int32_t> key; // primary key columns (sources)
};

class Catalog {
public:
  void add(Relation relation);
  // One-part names find models (and tables registered without a schema), two-part names find
  // source tables ("shop.orders").
  const Relation *find(const std::vector<std::string> &names) const;
  std::vector<std::string> names() const;

  // The session time zone (kiln/IR/TimeZone.h) constants of timestamptz are read and converted
  // in: empty for UTC.
  std::string time_zone;

private:
  std::map<std::string, Relation> relations_;
};

// Resolves a type name (as written in a CAST or in a source's YAML) to a Kiln type; reports
// unsupported types at `type.range`.
std::optional<ir::Type> resolveType(const ast::TypeName &type, const SourceManager &sources,
                                    DiagnosticEngine &diags);

// Binds a query. Returns null after reporting errors.
plan::NodePtr bindQuery(const ast::SelectStmt &query, const Catalog &catalog,
                        const SourceManager &sources, DiagnosticEngine &diags);

// Binds a constant expression (no column references), e.g. a VALUES item, coerced to `target`.
std::optional<ir::Value> bindConstant(const ast::Expr &expr, const ir::Type &target,
                                      const SourceManager &sources, DiagnosticEngine &diags,
                                      const std::string &time_zone = "");

} // namespace kiln::binder
