#include "kiln/Binder/Binder.h"

#include "kiln/Binder/Literals.h"
#include "kiln/Support/Spelling.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <set>

namespace kiln::binder {

using ir::Expr;
using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

void Catalog::add(Relation relation) {
  std::string key = relation.name;
  relations_[key] = std::move(relation);
}

const Relation *Catalog::find(const std::vector<std::string> &names) const {
  std::string key;
  for (const std::string &part : names) key += (key.empty() ? "" : ".") + part;
  auto it = relations_.find(key);
  return it == relations_.end() ? nullptr : &it->second;
}

std::vector<std::string> Catalog::names() const {
  std::vector<std::string> result;
  for (const auto &[name, relation] : relations_) result.push_back(name);
  return result;
}

std::optional<ir::Type> resolveType(const ast::TypeName &type, const SourceManager &sources,
                                    DiagnosticEngine &diags) {
  if (type.is_array) {
    diags.error(type.range, "array types are not supported yet");
    return std::nullopt;
  }
  const std::string &name = type.name;
  if (name == "bool" || name == "boolean") return Type::boolean();
  if (name == "int4" || name == "integer" || name == "int") return Type::int32();
  if (name == "int8" || name == "bigint") return Type::int64();
  if (name == "float8" || name == "double precision" || name == "float") return Type::float64();
  if (name == "text" || name == "varchar" || name == "bpchar" || name == "character varying") {
    if (name == "bpchar") {
      diags.error(type.range, "type char(n) is not supported yet").hint =
          "use text or varchar: blank-padded semantics are not implemented";
      return std::nullopt;
    }
    return Type::text();  // varchar(n) length limits are not enforced yet
  }
  if (name == "date") return Type::date();
  if (name == "timestamp") return Type::timestamp();
  if (name == "numeric" || name == "decimal") {
    int64_t precision = ir::kMaxNumericPrecision, scale = 0;
    if (type.modifiers.size() >= 1) precision = type.modifiers[0];
    if (type.modifiers.size() >= 2) scale = type.modifiers[1];
    if (type.modifiers.empty()) scale = 6;  // unconstrained NUMERIC: see README (fixed scale)
    if (precision < 1 || precision > ir::kMaxNumericPrecision) {
      diags.error(type.range, "NUMERIC precision " + std::to_string(precision) +
                                  " is out of range").hint =
          "Kiln stores NUMERIC as a 128-bit scaled integer: precision must be 1 to 38";
      return std::nullopt;
    }
    if (scale < 0 || scale > precision) {
      diags.error(type.range, "NUMERIC scale " + std::to_string(scale) +
                                  " must be between 0 and precision " + std::to_string(precision));
      return std::nullopt;
    }
    return Type::numeric(static_cast<int32_t>(precision), static_cast<int32_t>(scale));
  }
  std::string shown = name;
  if (name == "int2") shown = "smallint";
  if (name == "float4") shown = "real";
  if (name == "timestamptz") shown = "timestamp with time zone";
  Diagnostic &d = diags.error(type.range, "type " + shown + " is not supported yet");
  if (name == "int2") d.hint = "use integer";
  else if (name == "float4") d.hint = "use double precision";
  else if (name == "timestamptz") d.hint = "use timestamp (without time zone)";
  else
    d.hint = "supported types: boolean, integer, bigint, double precision, numeric(p,s), text, "
             "varchar, date, timestamp";
  return std::nullopt;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Scopes: the columns visible to an expression.

struct ScopeColumn {
  std::string name;
  Type type;
  bool nullable = true;
  int32_t index = 0;          // in the row the expression is evaluated over
  bool hidden = false;        // the right side of JOIN ... USING: found only when qualified
};

struct ScopeRelation {
  std::string alias;                 // how the relation may be qualified ("o", "orders")
  std::vector<std::string> names;    // full name parts ("shop", "orders") when not aliased
  std::vector<ScopeColumn> columns;
};

struct Scope {
  std::vector<ScopeRelation> relations;
  int32_t width = 0;
};

// Collects the column indexes an expression reads.
void collectColumns(const Expr &expr, std::set<int32_t> &out) {
  if (expr.op == ExprOp::Column) out.insert(expr.column);
  for (const ExprPtr &arg : expr.args) collectColumns(*arg, out);
}

void shiftColumns(Expr &expr, int32_t delta) {
  if (expr.op == ExprOp::Column) expr.column += delta;
  for (ExprPtr &arg : expr.args) shiftColumns(*arg, delta);
}

void remapColumns(Expr &expr, const std::vector<int32_t> &to) {
  if (expr.op == ExprOp::Column) expr.column = to[expr.column];
  for (ExprPtr &arg : expr.args) remapColumns(*arg, to);
}

// The order in which to join a comma-separated FROM list: FROM order, except that each next item
// is the first one an equality in WHERE connects with the items already joined. Only when no
// equality connects any remaining item does a cross product follow. `item_of` maps each column of
// the FROM row to its item.
std::vector<size_t> joinOrder(size_t item_count, const std::vector<size_t> &item_of,
                              const std::vector<ExprPtr> &where) {
  std::vector<std::set<size_t>> equalities;  // the items each equality refers to
  for (const ExprPtr &c : where) {
    if (c->op != ExprOp::Eq) continue;
    std::set<int32_t> columns;
    collectColumns(*c, columns);
    std::set<size_t> items;
    bool from_items_only = true;  // not a scalar subquery's column, past the FROM row
    for (int32_t column : columns) {
      if (static_cast<size_t>(column) >= item_of.size()) from_items_only = false;
      else items.insert(item_of[column]);
    }
    if (from_items_only && items.size() >= 2) equalities.push_back(std::move(items));
  }
  std::vector<size_t> order = {0};
  std::vector<bool> joined(item_count, false);
  joined[0] = true;
  while (order.size() < item_count) {
    auto connected = [&](size_t candidate) {
      for (const std::set<size_t> &items : equalities) {
        if (!items.count(candidate)) continue;
        bool reachable = true, touches_joined = false;
        for (size_t item : items) {
          reachable &= item == candidate || joined[item];
          touches_joined |= item != candidate && joined[item];
        }
        if (reachable && touches_joined) return true;
      }
      return false;
    };
    size_t next = item_count;
    for (size_t i = 0; i < item_count && next == item_count; ++i)
      if (!joined[i] && connected(i)) next = i;
    for (size_t i = 0; i < item_count && next == item_count; ++i)
      if (!joined[i]) next = i;
    joined[next] = true;
    order.push_back(next);
  }
  return order;
}

bool sameExpr(const Expr &a, const Expr &b) {
  if (a.op != b.op || a.type != b.type || a.args.size() != b.args.size()) return false;
  if (a.op == ExprOp::Column && a.column != b.column) return false;
  if (a.op == ExprOp::Literal) {
    const ir::Value &x = a.literal, &y = b.literal;
    if (x.is_null != y.is_null || x.b != y.b || x.i != y.i || x.n != y.n || x.s != y.s ||
        !(x.f == y.f || (x.f != x.f && y.f != y.f)))
      return false;
  }
  if (a.op == ExprOp::Call && a.function != b.function) return false;
  if (a.flag != b.flag) return false;
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!sameExpr(*a.args[i], *b.args[i])) return false;
  return true;
}

void splitConjuncts(ExprPtr expr, std::vector<ExprPtr> &out) {
  if (expr->op == ExprOp::And) {
    for (ExprPtr &arg : expr->args) splitConjuncts(std::move(arg), out);
    return;
  }
  out.push_back(std::move(expr));
}

ExprPtr conjunction(std::vector<ExprPtr> conjuncts) {
  if (conjuncts.empty()) return nullptr;
  if (conjuncts.size() == 1) return std::move(conjuncts[0]);
  bool nullable = false;
  for (const ExprPtr &c : conjuncts) nullable |= c->nullable;
  ExprPtr result = ir::makeCall(ExprOp::And, Type::boolean(), std::move(conjuncts));
  result->nullable = nullable;
  return result;
}

// A bound expression and whether it is an untyped literal ('text' or NULL) that takes the type
// its context wants, as in PostgreSQL.
struct Bound {
  ExprPtr expr;
  bool unknown = false;
  explicit operator bool() const { return expr != nullptr; }
};

// How aggregate queries bind the select list and HAVING: group expressions and aggregate calls
// become columns of the aggregate's output.
struct AggregateContext {
  std::vector<ExprPtr> group_exprs;      // over the FROM row
  std::vector<ExprPtr> agg_args;         // over the FROM row, one per aggregate with an argument
  std::vector<ir::AggCall> aggs;         // arg indexes into [group_exprs..., agg_args...]
};

bool isAggregateName(const std::string &name) {
  return name == "count" || name == "sum" || name == "avg" || name == "min" || name == "max";
}

bool containsAggregate(const ast::Expr &expr) {
  if (expr.kind == ast::ExprKind::FuncCall && expr.names.size() == 1 &&
      isAggregateName(expr.names[0]))
    return true;
  for (const ast::ExprPtr &arg : expr.args)
    if (arg && containsAggregate(*arg)) return true;
  if (expr.case_operand && containsAggregate(*expr.case_operand)) return true;
  if (expr.case_else && containsAggregate(*expr.case_else)) return true;
  return false;
}

plan::NodePtr makeNode(plan::NodeKind kind, ir::Schema schema, ir::Location loc,
                       std::vector<plan::NodePtr> inputs) {
  auto node = std::make_shared<plan::Node>(kind);
  node->schema = std::move(schema);
  node->loc = std::move(loc);
  node->inputs = std::move(inputs);
  return node;
}

// ---------------------------------------------------------------------------------------------

class Binder {
 public:
  Binder(const Catalog &catalog, const SourceManager &sources, DiagnosticEngine &diags)
      : catalog_(catalog), sources_(sources), diags_(diags) {}

  plan::NodePtr bindSelect(const ast::SelectStmt &stmt);
  std::optional<ir::Value> bindConstant(const ast::Expr &expr, const Type &target);

 private:
  // ---- diagnostics and locations ----
  Diagnostic &error(SourceRange range, std::string message) {
    ++quiet_errors_;
    if (quiet_ > 0) {
      scratch_ = Diagnostic{};
      return scratch_;
    }
    return diags_.error(range, std::move(message));
  }
  ir::Location location(SourceRange range) const {
    if (!range.valid()) return {};
    LineCol lc = sources_.lineCol(range.begin);
    return {sources_.path(range.begin.file), lc.line, lc.column};
  }

  // ---- FROM ----
  struct FromItem {
    plan::NodePtr plan;
    Scope scope;
  };
  std::optional<FromItem> bindTableRef(const ast::TableRef &ref);
  std::optional<FromItem> bindFrom(const ast::SelectStmt &stmt, std::vector<ExprPtr> &where);
  plan::NodePtr semiJoin(const FromItem &input, const ast::Expr &sublink, bool negated);
  bool refersToOuterQuery(const std::vector<std::string> &qualifier, const std::string &column) const;
  std::vector<const Scope *> outer_scopes_;  // of the queries enclosing a WHERE subquery
  // Scalar subqueries of the WHERE being bound: the column of the FROM row (extended past its
  // end) that carries each one's value.
  std::map<const ast::Expr *, std::pair<int32_t, ir::Column>> scalar_columns_;
  plan::NodePtr bindScalarSubquery(const ast::Expr &subquery, const Scope &outer);
  plan::NodePtr makeJoin(FromItem &left, FromItem &right, std::vector<ExprPtr> conjuncts,
                         ir::Location loc);
  static FromItem concatScopes(FromItem left, const FromItem &right);

  // ---- expressions ----
  Bound bindExpr(const ast::Expr &expr, const Scope &scope);
  Bound bindExprInner(const ast::Expr &expr, const Scope &scope);
  Bound bindColumnRef(const ast::Expr &expr, const Scope &scope);
  Bound bindLiteral(const ast::Expr &expr);
  Bound bindFunction(const ast::Expr &expr, const Scope &scope);
  Bound bindAggregateCall(const ast::Expr &expr, const Scope &scope);
  ExprPtr bindCondition(const ast::Expr &expr, const Scope &scope, const char *clause);
  ExprPtr coerce(Bound bound, const Type &target, SourceRange range);
  std::optional<Type> commonType(const std::vector<Bound *> &operands, SourceRange range,
                                 const std::string &what);
  ExprPtr castExpr(ExprPtr expr, const Type &target, SourceRange range);
  Bound arithmetic(const std::string &op, Bound left, Bound right, SourceRange range);
  Bound comparison(ExprOp op, Bound left, Bound right, SourceRange range);

  // ---- queries ----
  plan::NodePtr bindSimpleSelect(const ast::SelectStmt &stmt);
  plan::NodePtr bindSetOperation(const ast::SelectStmt &stmt);
  plan::NodePtr bindValues(const ast::SelectStmt &stmt);
  bool rejectUnsupportedClauses(const ast::SelectStmt &stmt);

  const Catalog &catalog_;
  const SourceManager &sources_;
  DiagnosticEngine &diags_;
  // CTEs visible to the query being bound, innermost last.
  std::vector<std::map<std::string, std::pair<plan::NodePtr, std::vector<std::string>>>> ctes_;
  // Set while binding the select list / HAVING of an aggregate query.
  AggregateContext *agg_ = nullptr;
  const Scope *agg_from_scope_ = nullptr;
  int quiet_ = 0;          // > 0: trial binding, errors are not reported
  int quiet_errors_ = 0;   // errors seen (reported or not)
  Diagnostic scratch_;
};

// ---------------------------------------------------------------------------------------------
// Types and coercion

int32_t numericDigitsForInteger(TypeKind kind) { return kind == TypeKind::Int32 ? 10 : 19; }

// PostgreSQL's implicit-cast lattice for the types Kiln has: integers widen to bigint, then to
// numeric, then to double precision; date widens to timestamp.
int typeRank(TypeKind kind) {
  switch (kind) {
  case TypeKind::Int32: return 1;
  case TypeKind::Int64: return 2;
  case TypeKind::Numeric: return 3;
  case TypeKind::Float64: return 4;
  default: return 0;
  }
}

std::optional<Type> Binder::commonType(const std::vector<Bound *> &operands, SourceRange range,
                                       const std::string &what) {
  std::optional<Type> result;
  for (Bound *operand : operands) {
    if (operand->unknown) continue;
    const Type &t = operand->expr->type;
    if (!result) {
      result = t;
      continue;
    }
    if (*result == t) continue;
    if (result->kind == TypeKind::Numeric && t.kind == TypeKind::Numeric) {
      result = Type::numeric(ir::kMaxNumericPrecision, std::max(result->scale, t.scale));
      continue;
    }
    int a = typeRank(result->kind), b = typeRank(t.kind);
    if (a && b) {
      TypeKind wider = a > b ? result->kind : t.kind;
      if (wider == TypeKind::Numeric)
        result = Type::numeric(ir::kMaxNumericPrecision,
                               result->kind == TypeKind::Numeric ? result->scale : t.scale);
      else
        result = Type{wider};
      continue;
    }
    if ((result->kind == TypeKind::Date && t.kind == TypeKind::Timestamp) ||
        (result->kind == TypeKind::Timestamp && t.kind == TypeKind::Date)) {
      result = Type::timestamp();
      continue;
    }
    error(range, what + " types " + result->sqlName() + " and " + t.sqlName() +
                     " cannot be matched")
        .hint = "add an explicit CAST to one side";
    return std::nullopt;
  }
  // Only untyped literals (strings or NULLs): PostgreSQL resolves them as text.
  return result ? result : Type::text();
}

ExprPtr Binder::castExpr(ExprPtr expr, const Type &target, SourceRange range) {
  if (expr->type == target) return expr;
  const Type &from = expr->type;
  auto allowed = [&]() {
    if (from.kind == TypeKind::Null) return true;
    if (typeRank(from.kind) && typeRank(target.kind)) return true;
    if (from.kind == TypeKind::Text || target.kind == TypeKind::Text) return true;
    if ((from.kind == TypeKind::Date || from.kind == TypeKind::Timestamp) &&
        (target.kind == TypeKind::Date || target.kind == TypeKind::Timestamp))
      return true;
    if ((from.kind == TypeKind::Bool && target.kind == TypeKind::Int32) ||
        (from.kind == TypeKind::Int32 && target.kind == TypeKind::Bool))
      return true;
    return false;
  };
  if (!allowed()) {
    error(range, "cannot cast type " + from.sqlName() + " to " + target.sqlName());
    return nullptr;
  }
  bool nullable = expr->nullable;
  if (expr->op == ExprOp::Literal) {
    // Constants are converted now; a conversion that fails is left to run time, where
    // PostgreSQL raises it too (only if the expression is evaluated).
    std::string ignored;
    if (std::optional<ir::Value> value = castLiteral(expr->literal, expr->type, target, ignored))
      return ir::makeLiteral(std::move(*value), target);
  }
  ExprPtr cast = ir::makeCall(ExprOp::Cast, target, {}, location(range));
  cast->args.push_back(std::move(expr));
  cast->nullable = nullable;
  return cast;
}

ExprPtr Binder::coerce(Bound bound, const Type &target, SourceRange range) {
  if (!bound) return nullptr;
  if (bound.unknown && bound.expr->op == ExprOp::Literal && !bound.expr->literal.is_null &&
      target.kind != TypeKind::Text) {
    // 'text' literal in a typed context: parse it now, like PostgreSQL's unknown-type literals.
    std::string error_message;
    std::optional<ir::Value> value = parseLiteral(bound.expr->literal.s, target, error_message);
    if (!value) {
      error(range, error_message);
      return nullptr;
    }
    return ir::makeLiteral(std::move(*value), target);
  }
  if (bound.expr->op == ExprOp::Literal && bound.expr->literal.is_null) {
    bound.expr->type = target;
    return std::move(bound.expr);
  }
  return castExpr(std::move(bound.expr), target, range);
}

// ---------------------------------------------------------------------------------------------
// Expressions

Bound Binder::bindExpr(const ast::Expr &expr, const Scope &scope) {
  if (agg_ && !containsAggregate(expr)) {
    // In an aggregate query, an expression that is one of the GROUP BY expressions reads the
    // aggregate's key column; anything else must be built from such expressions and aggregates.
    ++quiet_;
    int errors_before = quiet_errors_;
    AggregateContext *saved = agg_;
    agg_ = nullptr;
    Bound trial = bindExprInner(expr, *agg_from_scope_);
    agg_ = saved;
    --quiet_;
    bool ok = quiet_errors_ == errors_before && trial;
    quiet_errors_ = errors_before;
    if (ok) {
      for (size_t i = 0; i < agg_->group_exprs.size(); ++i) {
        if (sameExpr(*trial.expr, *agg_->group_exprs[i])) {
          const Expr &key = *agg_->group_exprs[i];
          return {ir::makeColumn(static_cast<int32_t>(i), key.type, key.nullable), false};
        }
      }
      if (trial.expr->op == ExprOp::Literal) return trial;
    }
  }
  return bindExprInner(expr, scope);
}

// Whether a column reference that the current scope cannot resolve names a column of a query that
// encloses this subquery (see semiJoin).
bool Binder::refersToOuterQuery(const std::vector<std::string> &qualifier,
                                const std::string &column) const {
  for (const Scope *outer : outer_scopes_) {
    for (const ScopeRelation &relation : outer->relations) {
      if (!qualifier.empty() &&
          !(qualifier.size() == 1 ? relation.alias == qualifier[0] : relation.names == qualifier))
        continue;
      for (const ScopeColumn &candidate : relation.columns)
        if (candidate.name == column) return true;
    }
  }
  return false;
}

Bound Binder::bindColumnRef(const ast::Expr &expr, const Scope &scope) {
  if (agg_) {
    std::string name = expr.names.back();
    error(expr.range, "column \"" + name +
                          "\" must appear in the GROUP BY clause or be used in an aggregate "
                          "function");
    return {};
  }
  const std::string &column = expr.names.back();
  std::vector<std::string> qualifier(expr.names.begin(), expr.names.end() - 1);
  const ScopeColumn *found = nullptr;
  bool relation_found = qualifier.empty();
  for (const ScopeRelation &relation : scope.relations) {
    if (!qualifier.empty()) {
      bool matches = qualifier.size() == 1 ? relation.alias == qualifier[0]
                                           : relation.names == qualifier;
      if (!matches) continue;
      relation_found = true;
    }
    for (const ScopeColumn &candidate : relation.columns) {
      if (candidate.name != column || (candidate.hidden && qualifier.empty())) continue;
      if (found) {
        error(expr.range, "column reference \"" + column + "\" is ambiguous").hint =
            "qualify it with a table name or alias";
        return {};
      }
      found = &candidate;
    }
  }
  if (!found && refersToOuterQuery(qualifier, column)) {
    std::string full;
    for (const std::string &part : expr.names) full += (full.empty() ? "" : ".") + part;
    error(expr.range, "correlated subqueries are not supported yet: \"" + full +
                          "\" refers to the outer query")
        .hint = "join the tables in the outer FROM and filter there";
    return {};
  }
  if (!relation_found) {
    std::string q;
    for (const std::string &part : qualifier) q += (q.empty() ? "" : ".") + part;
    error(expr.range, "missing FROM-clause entry for table \"" + q + "\"");
    return {};
  }
  if (!found) {
    std::string full;
    for (const std::string &part : expr.names) full += (full.empty() ? "" : ".") + part;
    Diagnostic &d = error(expr.range, "column \"" + full + "\" does not exist");
    // Suggest the closest visible column.
    std::vector<std::string> visible;
    for (const ScopeRelation &relation : scope.relations)
      for (const ScopeColumn &candidate : relation.columns) visible.push_back(candidate.name);
    if (std::optional<std::string> best = closestMatch(column, visible))
      d.hint = "did you mean \"" + *best + "\"?";
    return {};
  }
  return {ir::makeColumn(found->index, found->type, found->nullable), false};
}

Bound Binder::bindLiteral(const ast::Expr &expr) {
  ir::Value value;
  switch (expr.literal_kind) {
  case ast::LiteralKind::Null: {
    ExprPtr e = ir::makeLiteral(value, Type::null());
    return {std::move(e), true};
  }
  case ast::LiteralKind::Boolean:
    value.is_null = false;
    value.b = expr.text == "true";
    return {ir::makeLiteral(value, Type::boolean()), false};
  case ast::LiteralKind::String:
    value.is_null = false;
    value.s = expr.text;
    return {ir::makeLiteral(value, Type::text()), true};
  case ast::LiteralKind::Integer:
  case ast::LiteralKind::Numeric: {
    std::string error_message;
    std::optional<std::pair<ir::Value, Type>> number = parseNumberLiteral(expr.text, error_message);
    if (!number) {
      error(expr.range, error_message);
      return {};
    }
    return {ir::makeLiteral(number->first, number->second), false};
  }
  }
  return {};
}

ExprPtr Binder::bindCondition(const ast::Expr &expr, const Scope &scope, const char *clause) {
  Bound bound = bindExpr(expr, scope);
  if (!bound) return nullptr;
  if (bound.unknown) return coerce(std::move(bound), Type::boolean(), expr.range);
  if (bound.expr->type.kind != TypeKind::Bool) {
    error(expr.range, std::string("argument of ") + clause + " must be type boolean, not type " +
                          bound.expr->type.sqlName());
    return nullptr;
  }
  return std::move(bound.expr);
}

Bound Binder::arithmetic(const std::string &op, Bound left, Bound right, SourceRange range) {
  const Type &lt = left.expr->type, &rt = right.expr->type;
  ir::Location loc = location(range);
  bool nullable = left.expr->nullable || right.expr->nullable;
  // Date arithmetic: date +/- integer, date - date.
  if (!left.unknown && lt.kind == TypeKind::Date && (op == "+" || op == "-") &&
      (rt.isInteger() || right.unknown)) {
    ExprPtr days = coerce(std::move(right), Type::int32(), range);
    if (!days) return {};
    ExprPtr e = ir::makeCall(op == "+" ? ExprOp::Add : ExprOp::Sub, Type::date(), {}, loc);
    e->args.push_back(std::move(left.expr));
    e->args.push_back(std::move(days));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  if (lt.kind == TypeKind::Date && rt.kind == TypeKind::Date && op == "-") {
    ExprPtr e = ir::makeCall(ExprOp::Sub, Type::int32(), {}, loc);
    e->args.push_back(std::move(left.expr));
    e->args.push_back(std::move(right.expr));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  auto numberOrUnknown = [](const Bound &b) { return b.unknown || b.expr->type.isNumericLike(); };
  if (!numberOrUnknown(left) || !numberOrUnknown(right)) {
    error(range, "operator does not exist: " + (left.unknown ? std::string("unknown") : lt.sqlName()) + " " + op +
                     " " + (right.unknown ? std::string("unknown") : rt.sqlName()))
        .hint = "arithmetic needs numeric operands; add an explicit CAST";
    return {};
  }
  std::optional<Type> common = commonType({&left, &right}, range, "operator " + op);
  if (!common) return {};
  if (!common->isNumericLike()) {
    // A lone untyped literal next to a number takes the number's type (handled above); two
    // unknowns or non-numeric types have no arithmetic.
    error(range, "operator does not exist: " + lt.sqlName() + " " + op + " " + rt.sqlName())
        .hint = "arithmetic needs numeric operands; add an explicit CAST";
    return {};
  }
  Type operand_type = *common;
  // NUMERIC operands keep their own scales and integers become NUMERIC with scale 0, as in
  // PostgreSQL: the result scale then follows PostgreSQL's rules below.
  auto operandType = [&](const Bound &operand) {
    if (operand_type.kind != TypeKind::Numeric) return operand_type;
    if (!operand.unknown && operand.expr->type.kind == TypeKind::Numeric) return operand.expr->type;
    if (!operand.unknown && operand.expr->type.isInteger()) return Type::numeric(ir::kMaxNumericPrecision, 0);
    return operand_type;
  };
  Type ta = operandType(left), tb = operandType(right);
  ExprPtr a = coerce(std::move(left), ta, range);
  ExprPtr b = coerce(std::move(right), tb, range);
  if (!a || !b) return {};
  Type result = operand_type;
  ExprOp kind = ExprOp::Add;
  if (op == "+") kind = ExprOp::Add;
  else if (op == "-") kind = ExprOp::Sub;
  else if (op == "*") kind = ExprOp::Mul;
  else if (op == "/") kind = ExprOp::Div;
  else if (op == "%") kind = ExprOp::Mod;
  if (operand_type.kind == TypeKind::Numeric) {
    // PostgreSQL's result scales: + - %: the larger scale; *: the sum; /: at least 16 digits.
    // Operands keep their own scales (code generation aligns them).
    int32_t sa = a->type.scale, sb = b->type.scale;
    int32_t scale = std::max(sa, sb);
    if (kind == ExprOp::Mul) scale = sa + sb;
    if (kind == ExprOp::Div) scale = std::max({16, sa, sb});
    if (scale > ir::kMaxNumericPrecision - 1) {
      error(range, "NUMERIC result scale " + std::to_string(scale) + " exceeds Kiln's limit")
          .hint = "CAST the operands to a smaller scale first";
      return {};
    }
    result = Type::numeric(ir::kMaxNumericPrecision, scale);
  }
  ExprPtr e = ir::makeCall(kind, result, {}, loc);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  e->nullable = nullable;
  return {std::move(e), false};
}

Bound Binder::comparison(ExprOp op, Bound left, Bound right, SourceRange range) {
  std::optional<Type> common = commonType({&left, &right}, range, "comparison of");
  if (!common) return {};
  bool nullable = left.expr->nullable || right.expr->nullable;
  // Numeric operands keep their scales: code generation compares them exactly.
  Type lt = *common, rt = *common;
  if (common->kind == TypeKind::Numeric) {
    if (!left.unknown && left.expr->type.kind == TypeKind::Numeric) lt = left.expr->type;
    if (!right.unknown && right.expr->type.kind == TypeKind::Numeric) rt = right.expr->type;
    if (!left.unknown && left.expr->type.isInteger()) lt = Type::numeric(ir::kMaxNumericPrecision, 0);
    if (!right.unknown && right.expr->type.isInteger()) rt = Type::numeric(ir::kMaxNumericPrecision, 0);
  }
  ExprPtr a = coerce(std::move(left), lt, range);
  ExprPtr b = coerce(std::move(right), rt, range);
  if (!a || !b) return {};
  ExprPtr e = ir::makeCall(op, Type::boolean(), {}, location(range));
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  e->nullable = (op == ExprOp::IsDistinctFrom || op == ExprOp::IsNotDistinctFrom) ? false : nullable;
  return {std::move(e), false};
}

Bound Binder::bindAggregateCall(const ast::Expr &expr, const Scope &scope) {
  const std::string &name = expr.names[0];
  if (!agg_) {
    error(expr.range, "aggregate functions are not allowed here");
    return {};
  }
  if (expr.distinct) {
    error(expr.range, name + "(DISTINCT ...) is not supported yet").hint =
        "aggregate over a SELECT DISTINCT subquery instead";
    return {};
  }
  ir::AggCall call;
  call.name = name;
  int32_t group_count = static_cast<int32_t>(agg_->group_exprs.size());
  if (expr.star || (name == "count" && expr.args.empty())) {
    if (name != "count") {
      error(expr.range, name + "(*) is not valid").hint = "only count(*) takes *";
      return {};
    }
    call.kind = ir::AggKind::CountStar;
    call.type = Type::int64();
  } else {
    if (expr.args.size() != 1) {
      error(expr.range, "function " + name + " takes exactly one argument");
      return {};
    }
    if (containsAggregate(*expr.args[0])) {
      error(expr.args[0]->range, "aggregate function calls cannot be nested");
      return {};
    }
    AggregateContext *saved = agg_;
    agg_ = nullptr;
    Bound arg = bindExpr(*expr.args[0], *agg_from_scope_);
    agg_ = saved;
    if (!arg) return {};
    if (arg.unknown) {
      arg.expr = coerce(std::move(arg), Type::text(), expr.args[0]->range);
      if (!arg.expr) return {};
    }
    const Type &t = arg.expr->type;
    if (name == "count") {
      call.kind = ir::AggKind::Count;
      call.type = Type::int64();
    } else if (name == "min" || name == "max") {
      call.kind = name == "min" ? ir::AggKind::Min : ir::AggKind::Max;
      call.type = t;
    } else {
      if (!t.isNumericLike()) {
        error(expr.range, "function " + name + "(" + t.sqlName() + ") does not exist").hint =
            name + " takes a numeric argument";
        return {};
      }
      if (name == "sum") {
        call.kind = ir::AggKind::Sum;
        if (t.kind == TypeKind::Int32) call.type = Type::int64();
        else if (t.kind == TypeKind::Int64) call.type = Type::numeric(ir::kMaxNumericPrecision, 0);
        else if (t.kind == TypeKind::Numeric) call.type = Type::numeric(ir::kMaxNumericPrecision, t.scale);
        else call.type = Type::float64();
      } else {
        call.kind = ir::AggKind::Avg;
        if (t.kind == TypeKind::Float64) call.type = Type::float64();
        else call.type = Type::numeric(ir::kMaxNumericPrecision,
                                       std::max(16, t.kind == TypeKind::Numeric ? t.scale : 0));
      }
    }
    // Arguments are computed before the aggregate, after the group expressions.
    call.arg = group_count + static_cast<int32_t>(agg_->agg_args.size());
    agg_->agg_args.push_back(std::move(arg.expr));
  }
  agg_->aggs.push_back(call);
  int32_t column = group_count + static_cast<int32_t>(agg_->aggs.size()) - 1;
  // count never returns NULL; the others do on groups whose values are all NULL.
  bool nullable = call.kind != ir::AggKind::CountStar && call.kind != ir::AggKind::Count;
  return {ir::makeColumn(column, call.type, nullable), false};
}

Bound Binder::bindFunction(const ast::Expr &expr, const Scope &scope) {
  if (expr.names.size() != 1 && !(expr.names.size() == 2 && expr.names[0] == "pg_catalog")) {
    error(expr.range, "function " + expr.names.back() + " is not supported");
    return {};
  }
  const std::string &name = expr.names.back();
  if (isAggregateName(name)) return bindAggregateCall(expr, scope);
  if (expr.distinct || expr.star) {
    error(expr.range, "DISTINCT or * in a call to " + name + " is not valid");
    return {};
  }
  std::vector<Bound> args;
  for (const ast::ExprPtr &arg : expr.args) {
    args.push_back(bindExpr(*arg, scope));
    if (!args.back()) return {};
  }
  bool nullable = false;
  for (const Bound &arg : args) nullable |= arg.expr->nullable;
  auto call = [&](Type result, std::vector<Type> params) -> Bound {
    if (args.size() != params.size()) {
      error(expr.range, "function " + name + " takes " + std::to_string(params.size()) +
                            " argument" + (params.size() == 1 ? "" : "s"));
      return {};
    }
    ExprPtr e = ir::makeCall(ExprOp::Call, result, {}, location(expr.range));
    e->function = name;
    for (size_t i = 0; i < args.size(); ++i) {
      ExprPtr a = coerce(std::move(args[i]), params[i], expr.args[i]->range);
      if (!a) return {};
      e->args.push_back(std::move(a));
    }
    e->nullable = nullable;
    return {std::move(e), false};
  };
  auto argType = [&](size_t i) { return args[i].unknown ? Type::text() : args[i].expr->type; };
  if (name == "lower" || name == "upper" || name == "btrim" || name == "trim" ||
      name == "ltrim" || name == "rtrim") {
    std::string canonical = name == "trim" ? "btrim" : name;
    Bound b = call(Type::text(), {Type::text()});
    if (b) b.expr->function = canonical;
    return b;
  }
  if (name == "length" || name == "char_length") {
    Bound b = call(Type::int32(), {Type::text()});
    if (b) b.expr->function = "length";
    return b;
  }
  if (name == "replace") return call(Type::text(), {Type::text(), Type::text(), Type::text()});
  if (name == "substr" || name == "substring") {
    std::vector<Type> params{Type::text(), Type::int32()};
    if (args.size() == 3) params.push_back(Type::int32());
    Bound b = call(Type::text(), params);
    if (b) b.expr->function = "substr";
    return b;
  }
  if (name == "abs" && args.size() == 1) {
    Type t = argType(0);
    if (!t.isNumericLike()) t = Type::float64();
    if (t.kind == TypeKind::Numeric) t = Type::numeric(ir::kMaxNumericPrecision, t.scale);
    return call(t, {t});
  }
  if ((name == "round" || name == "floor" || name == "ceil" || name == "ceiling" ||
       name == "trunc") &&
      (args.size() == 1 || (args.size() == 2 && name != "floor" && name != "ceil" &&
                            name != "ceiling"))) {
    std::string canonical = name == "ceiling" ? "ceil" : name;
    Type t = argType(0);
    if (t.kind == TypeKind::Float64 && args.size() == 1) {
      Bound b = call(t, {t});
      if (b) b.expr->function = canonical;
      return b;
    }
    if (!t.isNumericLike() || t.kind == TypeKind::Float64) {
      if (args.size() == 2 && t.kind == TypeKind::Float64) {
        error(expr.range, "function " + name + "(double precision, integer) does not exist")
            .hint = "cast the first argument to numeric";
        return {};
      }
    }
    int32_t digits = 0;
    if (args.size() == 2) {
      const Expr &d = *args[1].expr;
      if (d.op != ExprOp::Literal || !d.type.isInteger() || d.literal.is_null) {
        error(expr.args[1]->range, "the number of digits of " + name +
                                       " must be an integer constant in Kiln");
        return {};
      }
      digits = static_cast<int32_t>(std::clamp<int64_t>(d.literal.i, 0, 30));
    }
    int32_t in_scale = t.kind == TypeKind::Numeric ? t.scale : 0;
    Type in = Type::numeric(ir::kMaxNumericPrecision, in_scale);
    Type out = Type::numeric(ir::kMaxNumericPrecision,
                             args.size() == 2 ? std::max(digits, 0) : 0);
    std::vector<Type> params{in};
    if (args.size() == 2) params.push_back(Type::int32());
    Bound b = call(out, params);
    if (b) b.expr->function = canonical;
    return b;
  }
  if (name == "date_trunc") {
    if (args.size() != 2 || args[0].expr->op != ExprOp::Literal || !args[0].unknown) {
      error(expr.range, "date_trunc takes a constant unit and a timestamp");
      return {};
    }
    static const std::set<std::string> units{"microseconds", "millisecond", "milliseconds",
                                             "second", "minute", "hour", "day", "week",
                                             "month", "quarter", "year"};
    std::string unit = args[0].expr->literal.s;
    std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
    if (!units.count(unit)) {
      error(expr.args[0]->range, "unit \"" + unit + "\" not recognized for date_trunc");
      return {};
    }
    if (!args[1].unknown && args[1].expr->type.kind == TypeKind::Date) {
      error(expr.args[1]->range, "date_trunc on a date returns timestamp with time zone in "
                                 "PostgreSQL, which Kiln does not support")
          .hint = "cast the argument to timestamp: date_trunc('" + unit + "', d::timestamp)";
      return {};
    }
    args[0].expr->literal.s = unit;
    return call(Type::timestamp(), {Type::text(), Type::timestamp()});
  }
  if (name == "mod" && args.size() == 2) {
    return arithmetic("%", std::move(args[0]), std::move(args[1]), expr.range);
  }
  error(expr.range, "function " + name + " is not supported yet").hint =
      "supported functions: lower, upper, length, trim, replace, substr, abs, round, floor, "
      "ceil, trunc, mod, date_trunc, coalesce, nullif, greatest, least";
  return {};
}

Bound Binder::bindExprInner(const ast::Expr &expr, const Scope &scope) {
  using K = ast::ExprKind;
  ir::Location loc = location(expr.range);
  switch (expr.kind) {
  case K::ColumnRef:
    return bindColumnRef(expr, scope);
  case K::Star:
    error(expr.range, "* is not allowed here");
    return {};
  case K::Literal:
    return bindLiteral(expr);
  case K::Param:
    error(expr.range, "query parameters are not supported");
    return {};
  case K::Subquery:
    if (auto it = scalar_columns_.find(&expr); it != scalar_columns_.end()) {
      const ir::Column &column = it->second.second;
      return {ir::makeColumn(it->second.first, column.type, column.nullable), false};
    }
    // Top-level WHERE conditions never get here: bindFrom makes them semi-joins.
    if (expr.sublink == ast::SublinkKind::Exists || expr.sublink == ast::SublinkKind::In) {
      error(expr.range, std::string(expr.sublink == ast::SublinkKind::Exists ? "EXISTS" : "IN (subquery)") +
                            " is supported only as a condition of WHERE, ANDed with the others")
          .hint = "not under OR or inside another expression, and not in the select list";
    } else {
      error(expr.range, "subqueries in expressions are not supported yet").hint =
          "a subquery that computes one aggregate is supported in WHERE; others, in FROM";
    }
    return {};
  case K::Unary: {
    Bound operand = bindExpr(*expr.args[0], scope);
    if (!operand) return {};
    if (expr.op == "NOT") {
      ExprPtr arg = operand.unknown ? coerce(std::move(operand), Type::boolean(), expr.range)
                                    : std::move(operand.expr);
      if (!arg) return {};
      if (arg->type.kind != TypeKind::Bool) {
        error(expr.range, "argument of NOT must be type boolean, not type " + arg->type.sqlName());
        return {};
      }
      bool nullable = arg->nullable;
      ExprPtr e = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
      e->args.push_back(std::move(arg));
      e->nullable = nullable;
      return {std::move(e), false};
    }
    if (operand.unknown) operand.expr = coerce(std::move(operand), Type::numeric(38, 6), expr.range);
    if (!operand.expr) return {};
    if (!operand.expr->type.isNumericLike()) {
      error(expr.range, "operator does not exist: " + expr.op + " " + operand.expr->type.sqlName());
      return {};
    }
    if (expr.op == "+") return operand;
    // Fold negative literals so -2147483648 stays an integer, as PostgreSQL's grammar does.
    if (operand.expr->op == ExprOp::Literal) {
      ir::Value &v = operand.expr->literal;
      if (operand.expr->type.kind == TypeKind::Numeric) {
        v.n = -v.n;
        return operand;
      }
      if (operand.expr->type.kind == TypeKind::Float64) {
        v.f = -v.f;
        return operand;
      }
      if (operand.expr->type.isInteger() && v.i != INT64_MIN) {
        v.i = -v.i;
        return operand;
      }
    }
    bool nullable = operand.expr->nullable;
    Type t = operand.expr->type;
    ExprPtr e = ir::makeCall(ExprOp::Neg, t, {}, loc);
    e->args.push_back(std::move(operand.expr));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  case K::Binary: {
    if (expr.op == "AND" || expr.op == "OR") {
      std::vector<ExprPtr> operands;
      bool nullable = false;
      for (const ast::ExprPtr &arg : expr.args) {
        ExprPtr operand = bindCondition(*arg, scope, expr.op.c_str());
        if (!operand) return {};
        nullable |= operand->nullable;
        operands.push_back(std::move(operand));
      }
      ExprPtr e = ir::makeCall(expr.op == "AND" ? ExprOp::And : ExprOp::Or, Type::boolean(),
                               std::move(operands), loc);
      e->nullable = nullable;
      return {std::move(e), false};
    }
    Bound left = bindExpr(*expr.args[0], scope);
    Bound right = bindExpr(*expr.args[1], scope);
    if (!left || !right) return {};
    static const std::map<std::string, ExprOp> comparisons{
        {"=", ExprOp::Eq},  {"<>", ExprOp::Ne}, {"<", ExprOp::Lt},
        {"<=", ExprOp::Le}, {">", ExprOp::Gt},  {">=", ExprOp::Ge},
        {"IS DISTINCT FROM", ExprOp::IsDistinctFrom},
        {"IS NOT DISTINCT FROM", ExprOp::IsNotDistinctFrom}};
    if (auto it = comparisons.find(expr.op); it != comparisons.end())
      return comparison(it->second, std::move(left), std::move(right), expr.range);
    if (expr.op == "||") {
      bool nullable = left.expr->nullable || right.expr->nullable;
      ExprPtr a = coerce(std::move(left), Type::text(), expr.args[0]->range);
      ExprPtr b = coerce(std::move(right), Type::text(), expr.args[1]->range);
      if (!a || !b) return {};
      ExprPtr e = ir::makeCall(ExprOp::Concat, Type::text(), {}, loc);
      e->args.push_back(std::move(a));
      e->args.push_back(std::move(b));
      e->nullable = nullable;
      return {std::move(e), false};
    }
    if (expr.op == "+" || expr.op == "-" || expr.op == "*" || expr.op == "/" || expr.op == "%")
      return arithmetic(expr.op, std::move(left), std::move(right), expr.range);
    error(expr.range, "operator " + expr.op + " is not supported yet");
    return {};
  }
  case K::IsNull: {
    Bound operand = bindExpr(*expr.args[0], scope);
    if (!operand) return {};
    if (operand.unknown) operand.expr = coerce(std::move(operand), Type::text(), expr.range);
    ExprPtr e = ir::makeCall(expr.negated ? ExprOp::IsNotNull : ExprOp::IsNull, Type::boolean(), {}, loc);
    e->args.push_back(std::move(operand.expr));
    e->nullable = false;
    return {std::move(e), false};
  }
  case K::IsBool: {
    // x IS TRUE = (x IS NOT DISTINCT FROM true); IS UNKNOWN = IS NULL.
    ExprPtr operand = bindCondition(*expr.args[0], scope, "IS");
    if (!operand) return {};
    ExprPtr e;
    if (expr.text == "unknown") {
      e = ir::makeCall(expr.negated ? ExprOp::IsNotNull : ExprOp::IsNull, Type::boolean(), {}, loc);
      e->args.push_back(std::move(operand));
    } else {
      ir::Value v;
      v.is_null = false;
      v.b = expr.text == "true";
      e = ir::makeCall(expr.negated ? ExprOp::IsDistinctFrom : ExprOp::IsNotDistinctFrom,
                       Type::boolean(), {}, loc);
      e->args.push_back(std::move(operand));
      e->args.push_back(ir::makeLiteral(v, Type::boolean()));
    }
    e->nullable = false;
    return {std::move(e), false};
  }
  case K::Between: {
    // a BETWEEN b AND c = a >= b AND a <= c (the operand is evaluated twice; it has no effects).
    if (expr.symmetric) {
      error(expr.range, "BETWEEN SYMMETRIC is not supported yet");
      return {};
    }
    Bound low = comparison(ExprOp::Ge, bindExpr(*expr.args[0], scope), bindExpr(*expr.args[1], scope), expr.range);
    if (!low) return {};
    Bound high = comparison(ExprOp::Le, bindExpr(*expr.args[0], scope), bindExpr(*expr.args[2], scope), expr.range);
    if (!high) return {};
    bool nullable = low.expr->nullable || high.expr->nullable;
    std::vector<ExprPtr> both;
    both.push_back(std::move(low.expr));
    both.push_back(std::move(high.expr));
    ExprPtr e = ir::makeCall(ExprOp::And, Type::boolean(), std::move(both), loc);
    e->nullable = nullable;
    if (expr.negated) {
      ExprPtr n = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
      n->args.push_back(std::move(e));
      n->nullable = nullable;
      return {std::move(n), false};
    }
    return {std::move(e), false};
  }
  case K::InList: {
    // a IN (x, y) = a = x OR a = y, with the same three-valued logic.
    std::vector<Bound> items;
    for (const ast::ExprPtr &arg : expr.args) {
      items.push_back(bindExpr(*arg, scope));
      if (!items.back()) return {};
    }
    std::vector<Bound *> operands;
    for (Bound &item : items) operands.push_back(&item);
    std::optional<Type> common = commonType(operands, expr.range, "IN");
    if (!common) return {};
    std::vector<ExprPtr> equalities;
    bool nullable = false;
    for (size_t i = 1; i < items.size(); ++i) {
      Bound lhs{items[0].expr->clone(), items[0].unknown};
      Bound eq = comparison(ExprOp::Eq, std::move(lhs), std::move(items[i]), expr.args[i]->range);
      if (!eq) return {};
      nullable |= eq.expr->nullable;
      equalities.push_back(std::move(eq.expr));
    }
    ExprPtr e = equalities.size() == 1
                    ? std::move(equalities[0])
                    : ir::makeCall(ExprOp::Or, Type::boolean(), std::move(equalities), loc);
    e->nullable = nullable;
    if (expr.negated) {
      ExprPtr n = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
      n->args.push_back(std::move(e));
      n->nullable = nullable;
      return {std::move(n), false};
    }
    return {std::move(e), false};
  }
  case K::Like: {
    Bound value = bindExpr(*expr.args[0], scope);
    Bound pattern = bindExpr(*expr.args[1], scope);
    if (!value || !pattern) return {};
    bool nullable = value.expr->nullable || pattern.expr->nullable;
    ExprPtr a = coerce(std::move(value), Type::text(), expr.args[0]->range);
    ExprPtr b = coerce(std::move(pattern), Type::text(), expr.args[1]->range);
    if (!a || !b) return {};
    if (a->type.kind != TypeKind::Text || b->type.kind != TypeKind::Text) {
      error(expr.range, "LIKE needs text operands");
      return {};
    }
    ExprPtr e = ir::makeCall(ExprOp::Like, Type::boolean(), {}, loc);
    e->flag = expr.case_insensitive;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    e->nullable = nullable;
    if (expr.negated) {
      ExprPtr n = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
      n->args.push_back(std::move(e));
      n->nullable = nullable;
      return {std::move(n), false};
    }
    return {std::move(e), false};
  }
  case K::Case: {
    std::vector<ExprPtr> conditions;
    std::vector<Bound> values;
    for (size_t i = 0; i + 1 < expr.args.size(); i += 2) {
      ExprPtr condition;
      if (expr.case_operand) {
        Bound eq = comparison(ExprOp::Eq, bindExpr(*expr.case_operand, scope),
                              bindExpr(*expr.args[i], scope), expr.args[i]->range);
        if (!eq) return {};
        condition = std::move(eq.expr);
      } else {
        condition = bindCondition(*expr.args[i], scope, "CASE/WHEN");
      }
      if (!condition) return {};
      conditions.push_back(std::move(condition));
      values.push_back(bindExpr(*expr.args[i + 1], scope));
      if (!values.back()) return {};
    }
    Bound otherwise;
    if (expr.case_else) {
      otherwise = bindExpr(*expr.case_else, scope);
      if (!otherwise) return {};
    } else {
      otherwise = {ir::makeLiteral(ir::Value{}, Type::null()), true};
    }
    std::vector<Bound *> results;
    for (Bound &value : values) results.push_back(&value);
    results.push_back(&otherwise);
    std::optional<Type> common = commonType(results, expr.range, "CASE");
    if (!common) return {};
    ExprPtr e = ir::makeCall(ExprOp::Case, *common, {}, loc);
    bool nullable = false;
    for (size_t i = 0; i < conditions.size(); ++i) {
      e->args.push_back(std::move(conditions[i]));
      ExprPtr v = coerce(std::move(values[i]), *common, expr.args[2 * i + 1]->range);
      if (!v) return {};
      nullable |= v->nullable;
      e->args.push_back(std::move(v));
    }
    ExprPtr v = coerce(std::move(otherwise), *common, expr.range);
    if (!v) return {};
    nullable |= v->nullable;
    e->args.push_back(std::move(v));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  case K::Coalesce:
  case K::Greatest:
  case K::Least:
  case K::NullIf: {
    std::vector<Bound> items;
    for (const ast::ExprPtr &arg : expr.args) {
      items.push_back(bindExpr(*arg, scope));
      if (!items.back()) return {};
    }
    std::vector<Bound *> operands;
    for (Bound &item : items) operands.push_back(&item);
    const char *what = expr.kind == K::Coalesce ? "COALESCE"
                       : expr.kind == K::NullIf ? "NULLIF"
                       : expr.kind == K::Greatest ? "GREATEST" : "LEAST";
    std::optional<Type> common = commonType(operands, expr.range, what);
    if (!common) return {};
    ExprOp op = expr.kind == K::Coalesce ? ExprOp::Coalesce
                : expr.kind == K::NullIf ? ExprOp::NullIf
                : expr.kind == K::Greatest ? ExprOp::Greatest : ExprOp::Least;
    ExprPtr e = ir::makeCall(op, *common, {}, loc);
    bool all_nullable = true;
    for (size_t i = 0; i < items.size(); ++i) {
      ExprPtr v = coerce(std::move(items[i]), *common, expr.args[i]->range);
      if (!v) return {};
      all_nullable &= v->nullable;
      e->args.push_back(std::move(v));
    }
    // COALESCE is NULL only if every argument is; GREATEST/LEAST too (they skip NULLs).
    e->nullable = op == ExprOp::NullIf ? true : all_nullable;
    return {std::move(e), false};
  }
  case K::Cast: {
    DiagnosticEngine trial_diags(sources_);
    std::optional<Type> target = resolveType(expr.cast_type, sources_, quiet_ ? trial_diags : diags_);
    if (!target) {
      ++quiet_errors_;
      return {};
    }
    Bound operand = bindExpr(*expr.args[0], scope);
    if (!operand) return {};
    ExprPtr e = coerce(std::move(operand), *target, expr.range);
    if (!e) return {};
    if (e->op == ExprOp::Cast) e->loc = loc;
    return {std::move(e), false};
  }
  case K::FuncCall:
    return bindFunction(expr, scope);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// FROM

Binder::FromItem Binder::concatScopes(FromItem left, const FromItem &right) {
  for (ScopeRelation relation : right.scope.relations) {
    for (ScopeColumn &column : relation.columns) column.index += left.scope.width;
    left.scope.relations.push_back(std::move(relation));
  }
  left.scope.width += right.scope.width;
  return left;
}

plan::NodePtr Binder::makeJoin(FromItem &left, FromItem &right, std::vector<ExprPtr> conjuncts,
                               ir::Location loc) {
  int32_t left_width = left.scope.width;
  std::vector<ExprPtr> left_filters, right_filters, residual;
  std::vector<ExprPtr> left_keys, right_keys;
  for (ExprPtr &conjunct : conjuncts) {
    std::set<int32_t> columns;
    collectColumns(*conjunct, columns);
    bool uses_left = !columns.empty() && *columns.begin() < left_width;
    bool uses_right = !columns.empty() && *columns.rbegin() >= left_width;
    if (uses_left && !uses_right) {
      left_filters.push_back(std::move(conjunct));
      continue;
    }
    if (uses_right && !uses_left) {
      shiftColumns(*conjunct, -left_width);
      right_filters.push_back(std::move(conjunct));
      continue;
    }
    if (conjunct->op == ExprOp::Eq && conjunct->args[0]->type.kind == TypeKind::Numeric &&
        conjunct->args[0]->type != conjunct->args[1]->type) {
      // Join keys are hashed, so both sides need one representation: the larger scale (exact).
      int32_t scale = std::max(conjunct->args[0]->type.scale, conjunct->args[1]->type.scale);
      Type key_type = Type::numeric(ir::kMaxNumericPrecision, scale);
      for (ExprPtr &side : conjunct->args) side = castExpr(std::move(side), key_type, {});
    }
    if (conjunct->op == ExprOp::Eq && conjunct->args[0]->type == conjunct->args[1]->type) {
      std::set<int32_t> a, b;
      collectColumns(*conjunct->args[0], a);
      collectColumns(*conjunct->args[1], b);
      auto onlyLeft = [&](const std::set<int32_t> &s) { return !s.empty() && *s.rbegin() < left_width; };
      auto onlyRight = [&](const std::set<int32_t> &s) { return !s.empty() && *s.begin() >= left_width; };
      int lhs = -1;
      if (onlyLeft(a) && onlyRight(b)) lhs = 0;
      if (onlyLeft(b) && onlyRight(a)) lhs = 1;
      if (lhs >= 0) {
        ExprPtr l = std::move(conjunct->args[lhs]);
        ExprPtr r = std::move(conjunct->args[1 - lhs]);
        shiftColumns(*r, -left_width);
        left_keys.push_back(std::move(l));
        right_keys.push_back(std::move(r));
        continue;
      }
    }
    residual.push_back(std::move(conjunct));
  }
  auto filtered = [&](plan::NodePtr input, std::vector<ExprPtr> filters) {
    if (filters.empty()) return input;
    ir::Schema schema = input->schema;
    plan::NodePtr node = makeNode(plan::NodeKind::Filter, schema, input->loc, {input});
    node->predicate = conjunction(std::move(filters));
    return node;
  };
  plan::NodePtr l = filtered(left.plan, std::move(left_filters));
  plan::NodePtr r = filtered(right.plan, std::move(right_filters));
  ir::Schema schema = l->schema;
  schema.insert(schema.end(), r->schema.begin(), r->schema.end());
  plan::NodePtr join = makeNode(plan::NodeKind::Join, schema, loc, {l, r});
  join->left_keys = std::move(left_keys);
  join->right_keys = std::move(right_keys);
  join->predicate = conjunction(std::move(residual));
  return join;
}

std::optional<Binder::FromItem> Binder::bindTableRef(const ast::TableRef &ref) {
  FromItem item;
  auto makeScope = [&](const ir::Schema &schema, std::string alias, std::vector<std::string> names) {
    ScopeRelation relation;
    relation.alias = std::move(alias);
    relation.names = std::move(names);
    for (size_t i = 0; i < schema.size(); ++i) {
      std::string name = i < ref.column_aliases.size() ? ref.column_aliases[i] : schema[i].name;
      relation.columns.push_back({name, schema[i].type, schema[i].nullable, static_cast<int32_t>(i)});
    }
    item.scope.relations.push_back(std::move(relation));
    item.scope.width = static_cast<int32_t>(schema.size());
  };
  switch (ref.kind) {
  case ast::TableRef::Kind::Named: {
    if (ref.names.size() == 1) {
      for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
        auto found = it->find(ref.names[0]);
        if (found == it->end()) continue;
        item.plan = found->second.first;
        makeScope(item.plan->schema, ref.alias.empty() ? ref.names[0] : ref.alias,
                  ref.alias.empty() ? ref.names : std::vector<std::string>{ref.alias});
        return item;
      }
    }
    const Relation *relation = catalog_.find(ref.names);
    if (!relation) {
      std::string full;
      for (const std::string &part : ref.names) full += (full.empty() ? "" : ".") + part;
      Diagnostic &d = error(ref.range, "relation \"" + full + "\" does not exist");
      if (ref.names.size() == 1)
        d.hint = "refer to models with {{ ref('name') }} and to source tables with "
                 "{{ source('source', 'table') }}";
      return std::nullopt;
    }
    plan::NodePtr scan = makeNode(plan::NodeKind::Scan, relation->schema, location(ref.range), {});
    scan->relation = relation->name;
    scan->scans_model = relation->is_model;
    scan->key = relation->key;
    item.plan = scan;
    makeScope(relation->schema, ref.alias.empty() ? ref.names.back() : ref.alias,
              ref.alias.empty() ? ref.names : std::vector<std::string>{ref.alias});
    return item;
  }
  case ast::TableRef::Kind::Subquery: {
    plan::NodePtr sub = bindSelect(*ref.subquery);
    if (!sub) return std::nullopt;
    item.plan = sub;
    makeScope(sub->schema, ref.alias, {ref.alias});
    return item;
  }
  case ast::TableRef::Kind::Join: {
    if (ref.join_kind != ast::JoinKind::Inner && ref.join_kind != ast::JoinKind::Cross) {
      const char *kind = ref.join_kind == ast::JoinKind::Left    ? "LEFT JOIN"
                         : ref.join_kind == ast::JoinKind::Right ? "RIGHT JOIN"
                                                                 : "FULL JOIN";
      error(ref.range, std::string(kind) + " is not supported yet").hint =
          "Kiln compiles inner joins so far";
      return std::nullopt;
    }
    if (ref.natural) {
      error(ref.range, "NATURAL JOIN is not supported yet").hint = "use JOIN ... USING (columns)";
      return std::nullopt;
    }
    std::optional<FromItem> left = bindTableRef(*ref.left);
    if (!left) return std::nullopt;
    std::optional<FromItem> right = bindTableRef(*ref.right);
    if (!right) return std::nullopt;
    FromItem combined = concatScopes(*left, *right);
    std::vector<ExprPtr> conjuncts;
    if (ref.on) {
      ExprPtr on = bindCondition(*ref.on, combined.scope, "JOIN/ON");
      if (!on) return std::nullopt;
      splitConjuncts(std::move(on), conjuncts);
    }
    for (const std::string &name : ref.using_columns) {
      auto findIn = [&](const Scope &scope) -> const ScopeColumn * {
        const ScopeColumn *match = nullptr;
        for (const ScopeRelation &relation : scope.relations)
          for (const ScopeColumn &column : relation.columns)
            if (column.name == name && !column.hidden) match = &column;
        return match;
      };
      const ScopeColumn *l = findIn(left->scope);
      const ScopeColumn *r = findIn(right->scope);
      if (!l || !r) {
        error(ref.range, "column \"" + name + "\" specified in USING clause does not exist in " +
                             (l ? "right" : "left") + " table");
        return std::nullopt;
      }
      Bound a{ir::makeColumn(l->index, l->type, l->nullable), false};
      Bound b{ir::makeColumn(r->index + left->scope.width, r->type, r->nullable), false};
      Bound eq = comparison(ExprOp::Eq, std::move(a), std::move(b), ref.range);
      if (!eq) return std::nullopt;
      conjuncts.push_back(std::move(eq.expr));
      // The merged column is found unqualified on the left only.
      for (ScopeRelation &relation : combined.scope.relations)
        for (ScopeColumn &column : relation.columns)
          if (column.name == name && column.index == r->index + left->scope.width) column.hidden = true;
    }
    combined.plan = makeJoin(*left, *right, std::move(conjuncts), location(ref.range));
    return combined;
  }
  }
  return std::nullopt;
}

std::optional<Binder::FromItem> Binder::bindFrom(const ast::SelectStmt &stmt,
                                                 std::vector<ExprPtr> &where) {
  std::vector<FromItem> items;
  std::vector<std::pair<const ast::Expr *, bool>> semi_joins;  // (subquery, under NOT)
  std::vector<const ast::Expr *> scalars;  // scalar subqueries in WHERE
  std::vector<plan::NodePtr> scalar_plans;
  for (const auto &ref : stmt.from) {
    std::optional<FromItem> item = bindTableRef(*ref);
    if (!item) return std::nullopt;
    items.push_back(std::move(*item));
  }
  // Bind WHERE over the whole FROM row, then place each conjunct at the first join where all
  // its columns are available: single-item conditions filter that item, two-sided equalities
  // become join keys.
  Scope all;
  for (const FromItem &item : items) {
    FromItem shifted = concatScopes(FromItem{nullptr, all}, item);
    all = shifted.scope;
  }
  if (stmt.where) {
    if (containsAggregate(*stmt.where)) {
      error(stmt.where->range, "aggregate functions are not allowed in WHERE").hint =
          "use HAVING to filter on aggregates";
      return std::nullopt;
    }
    // Scalar subqueries in WHERE: each is one row, joined to the FROM row after its items, and
    // its value is a column past the FROM row's end.
    std::function<void(const ast::Expr &)> findScalars = [&](const ast::Expr &e) {
      if (e.kind == ast::ExprKind::Subquery && e.sublink == ast::SublinkKind::Scalar) {
        scalars.push_back(&e);
        return;
      }
      for (const ast::ExprPtr &arg : e.args)
        if (arg) findScalars(*arg);
      if (e.case_operand) findScalars(*e.case_operand);
      if (e.case_else) findScalars(*e.case_else);
    };
    findScalars(*stmt.where);
    for (const ast::Expr *scalar : scalars) {
      plan::NodePtr value = bindScalarSubquery(*scalar, all);
      if (!value) return std::nullopt;
      int32_t index = all.width + static_cast<int32_t>(scalar_plans.size());
      scalar_columns_[scalar] = {index, value->schema[0]};
      scalar_plans.push_back(value);
    }
    // Top-level conjuncts `[NOT] x IN (subquery)` and `[NOT] EXISTS (subquery)` become joins after
    // the FROM items are joined (see semiJoin); the others are bound here.
    std::vector<const ast::Expr *> conjuncts;
    if (stmt.where->kind == ast::ExprKind::Binary && stmt.where->op == "AND") {
      for (const auto &arg : stmt.where->args) conjuncts.push_back(arg.get());
    } else {
      conjuncts.push_back(stmt.where.get());
    }
    auto isSemiJoin = [](const ast::Expr &e) {
      return e.kind == ast::ExprKind::Subquery &&
             (e.sublink == ast::SublinkKind::In || e.sublink == ast::SublinkKind::Exists);
    };
    for (const ast::Expr *c : conjuncts) {
      if (isSemiJoin(*c)) {
        semi_joins.push_back({c, false});
        continue;
      }
      if (c->kind == ast::ExprKind::Unary && c->op == "NOT" && isSemiJoin(*c->args[0])) {
        semi_joins.push_back({c->args[0].get(), true});
        continue;
      }
      ExprPtr predicate = bindCondition(*c, all, "WHERE");
      if (!predicate) return std::nullopt;
      splitConjuncts(std::move(predicate), where);
    }
  }
  if (items.empty()) return std::nullopt;

  // Join along the equalities (see joinOrder), so that `FROM a, b, c WHERE a.x = c.x AND
  // c.y = b.y` joins c before b instead of building a x b. The WHERE conjuncts are renumbered to
  // the joined row, and a projection at the end restores FROM order for the rest of the query.
  std::vector<int32_t> from_offsets;
  std::vector<size_t> item_of;
  for (size_t i = 0; i < items.size(); ++i) {
    from_offsets.push_back(static_cast<int32_t>(item_of.size()));
    item_of.insert(item_of.end(), items[i].scope.width, i);
  }
  std::vector<size_t> order = joinOrder(items.size(), item_of, where);
  // FROM-row column -> joined-row column; scalar subqueries' columns stay past the end.
  std::vector<int32_t> joined_column(item_of.size() + scalar_plans.size());
  for (size_t c = item_of.size(); c < joined_column.size(); ++c) joined_column[c] = static_cast<int32_t>(c);
  bool reordered = false;
  {
    std::vector<FromItem> in_order;
    int32_t at = 0;
    for (size_t i : order) {
      reordered |= i != in_order.size();
      for (int32_t c = 0; c < items[i].scope.width; ++c) joined_column[from_offsets[i] + c] = at + c;
      at += items[i].scope.width;
      in_order.push_back(std::move(items[i]));
    }
    items = std::move(in_order);
  }
  if (reordered)
    for (ExprPtr &c : where) remapColumns(*c, joined_column);

  std::vector<int32_t> offsets;
  int32_t width = 0;
  for (const FromItem &item : items) offsets.push_back(width), width += item.scope.width;
  auto maxColumn = [](const Expr &e) {
    std::set<int32_t> columns;
    collectColumns(e, columns);
    return columns.empty() ? -1 : *columns.rbegin();
  };
  // Conditions on the first item alone.
  FromItem acc = std::move(items[0]);
  {
    std::vector<ExprPtr> first, rest;
    for (ExprPtr &c : where) {
      int32_t m = maxColumn(*c);
      (m >= 0 && m < acc.scope.width ? first : rest).push_back(std::move(c));
    }
    where = std::move(rest);
    if (!first.empty()) {
      plan::NodePtr filter = makeNode(plan::NodeKind::Filter, acc.plan->schema, acc.plan->loc, {acc.plan});
      filter->predicate = conjunction(std::move(first));
      acc.plan = filter;
    }
  }
  for (size_t i = 1; i < items.size(); ++i) {
    int32_t end = offsets[i] + items[i].scope.width;
    std::vector<ExprPtr> now, later;
    for (ExprPtr &c : where) (maxColumn(*c) < end ? now : later).push_back(std::move(c));
    where = std::move(later);
    FromItem right = std::move(items[i]);
    plan::NodePtr join = makeJoin(acc, right, std::move(now), acc.plan->loc);
    acc = concatScopes(std::move(acc), right);
    acc.plan = join;
  }
  if (reordered) {
    ir::Schema schema(joined_column.size());
    for (size_t c = 0; c < joined_column.size(); ++c) schema[c] = acc.plan->schema[joined_column[c]];
    plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, acc.plan->loc, {acc.plan});
    for (size_t c = 0; c < joined_column.size(); ++c)
      project->exprs.push_back(ir::makeColumn(joined_column[c], schema[c].type, schema[c].nullable));
    acc.plan = project;
    acc.scope = all;
  }
  for (auto [sublink, negated] : semi_joins) {
    acc.plan = semiJoin(acc, *sublink, negated);
    if (!acc.plan) return std::nullopt;
  }
  for (const plan::NodePtr &value : scalar_plans) {
    FromItem right{value, {}};
    right.scope.width = 1;
    acc.plan = makeJoin(acc, right, {}, value->loc);  // keyless: one row joins every row
  }
  // The conditions that read them are left in `where`, for the caller's filter over this row.
  for (const ast::Expr *scalar : scalars) scalar_columns_.erase(scalar);
  return acc;
}

// An uncorrelated subquery in an expression, when it provably has exactly one row: one
// aggregate over its FROM without GROUP BY or HAVING (PostgreSQL would raise at run time for more
// rows, and give NULL for none).
plan::NodePtr Binder::bindScalarSubquery(const ast::Expr &subquery, const Scope &outer) {
  outer_scopes_.push_back(&outer);
  plan::NodePtr value = bindSelect(*subquery.subquery);
  outer_scopes_.pop_back();
  if (!value) return nullptr;
  const ast::SelectStmt &stmt = *subquery.subquery;
  bool one_row = stmt.op == ast::SetOp::None && stmt.group_by.empty() && !stmt.having &&
                 !stmt.distinct && value->kind == plan::NodeKind::Project &&
                 value->inputs[0]->kind == plan::NodeKind::Aggregate &&
                 value->inputs[0]->group_keys.empty();
  if (!one_row) {
    error(subquery.range, "this scalar subquery is not supported yet").hint =
        "a scalar subquery must compute aggregates without GROUP BY or HAVING, so that it has "
        "exactly one row";
    return nullptr;
  }
  if (value->schema.size() != 1) {
    error(subquery.range, "subquery must return only one column");
    return nullptr;
  }
  return value;
}

// WHERE conditions over an uncorrelated subquery, as joins (the subquery is bound on its own, so
// it cannot refer to the outer query):
// - `x IN (subquery)` keeps the rows whose x equals a row of the subquery: a join with the
//   subquery's distinct rows (so a row matches once), then the row's own columns again. NULLs need
//   no care: WHERE keeps only TRUE, and a NULL key joins nothing.
// - `EXISTS (subquery)` joins, without keys, the subquery's row count filtered to be positive:
//   one row or none. `NOT EXISTS` filters it to be zero.
// - `x NOT IN (subquery)` is TRUE when the subquery is empty, and otherwise when x is not NULL,
//   the subquery has no NULL and no row equal to x. So: the rows without a match (the input minus
//   the semi-join), joined with the subquery's count of rows and of NULLs and filtered on them.
plan::NodePtr Binder::semiJoin(const FromItem &input, const ast::Expr &sublink, bool negated) {
  ir::Location loc = location(sublink.range);
  outer_scopes_.push_back(&input.scope);
  plan::NodePtr sub = bindSelect(*sublink.subquery);
  outer_scopes_.pop_back();
  if (!sub) return nullptr;
  int32_t width = input.scope.width;
  auto column = [](int32_t index, const ir::Column &c) { return ir::makeColumn(index, c.type, c.nullable); };
  auto call = [&](ExprOp op, Type type, ExprPtr a, ExprPtr b) {
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(a));
    operands.push_back(std::move(b));
    return ir::makeCall(op, type, std::move(operands), loc);
  };
  auto int64 = [](int64_t v) {
    ir::Value value;
    value.is_null = false;
    value.i = v;
    return ir::makeLiteral(std::move(value), Type::int64());
  };
  // The input's own columns of a join of the input with something.
  auto inputColumns = [&](plan::NodePtr join) {
    ir::Schema schema(join->schema.begin(), join->schema.begin() + width);
    plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, loc, {join});
    for (int32_t c = 0; c < width; ++c) project->exprs.push_back(column(c, schema[c]));
    return project;
  };
  // Joins `plan` (the input's columns) with the subquery's one-row statistics filtered by `keep`
  // (over input ++ statistics), then drops the statistics.
  auto withStatistics = [&](plan::NodePtr plan, std::vector<ir::AggCall> stats,
                            const std::function<ExprPtr(int32_t first_stat)> &keep) {
    plan::NodePtr aggregate = makeNode(plan::NodeKind::Aggregate, {}, loc, {sub});
    for (ir::AggCall &call : stats) {
      aggregate->schema.push_back({call.name, call.type, false});
      aggregate->aggregates.push_back(std::move(call));
    }
    FromItem left{plan, input.scope};
    FromItem right{aggregate, {}};
    right.scope.width = static_cast<int32_t>(aggregate->schema.size());
    std::vector<ExprPtr> conjuncts;
    conjuncts.push_back(keep(width));
    return inputColumns(makeJoin(left, right, std::move(conjuncts), loc));
  };

  if (sublink.sublink == ast::SublinkKind::Exists) {
    return withStatistics(input.plan, {{ir::AggKind::CountStar, -1, Type::int64(), "count"}},
                          [&](int32_t count) {
                            return call(negated ? ExprOp::Eq : ExprOp::Gt, Type::boolean(),
                                        ir::makeColumn(count, Type::int64(), false), int64(0));
                          });
  }

  if (sub->schema.size() != 1) {
    error(sublink.subquery->range,
          sub->schema.size() > 1 ? "subquery has too many columns" : "subquery has too few columns")
        .hint = "an IN subquery selects exactly one column";
    return nullptr;
  }
  Bound x = bindExpr(*sublink.args[0], input.scope);
  if (!x) return nullptr;
  ExprPtr x_copy = x.expr->clone();
  const ir::Column &value = sub->schema[0];
  Bound equal = comparison(ExprOp::Eq, std::move(x),
                           Bound{column(width, value), value.type.kind == TypeKind::Null}, sublink.range);
  if (!equal) return nullptr;
  FromItem left{input.plan, input.scope};
  FromItem right{makeNode(plan::NodeKind::Distinct, sub->schema, loc, {sub}), {}};
  right.scope.width = 1;
  std::vector<ExprPtr> conjuncts;
  conjuncts.push_back(std::move(equal.expr));
  plan::NodePtr matched = inputColumns(makeJoin(left, right, std::move(conjuncts), loc));
  if (!negated) return matched;

  // NOT IN: the unmatched rows, kept if the subquery is empty, or else if x is not NULL and the
  // subquery has no NULL.
  plan::NodePtr negation = makeNode(plan::NodeKind::Negate, matched->schema, loc, {matched});
  plan::NodePtr unmatched = makeNode(plan::NodeKind::UnionAll, input.plan->schema, loc, {input.plan, negation});
  return withStatistics(
      unmatched,
      {{ir::AggKind::CountStar, -1, Type::int64(), "count"},
       {ir::AggKind::Count, 0, Type::int64(), "non_null"}},
      [&](int32_t count) {
        ExprPtr empty = call(ExprOp::Eq, Type::boolean(), ir::makeColumn(count, Type::int64(), false), int64(0));
        ExprPtr no_nulls = call(ExprOp::Eq, Type::boolean(), ir::makeColumn(count, Type::int64(), false),
                                ir::makeColumn(count + 1, Type::int64(), false));
        ExprPtr x_present = ir::makeCall(ExprOp::IsNotNull, Type::boolean(), [&] {
          std::vector<ExprPtr> operand;
          operand.push_back(x_copy->clone());
          return operand;
        }(), loc);
        ExprPtr kept = call(ExprOp::And, Type::boolean(), std::move(x_present), std::move(no_nulls));
        return call(ExprOp::Or, Type::boolean(), std::move(empty), std::move(kept));
      });
}

// ---------------------------------------------------------------------------------------------
// Queries

bool Binder::rejectUnsupportedClauses(const ast::SelectStmt &stmt) {
  if (stmt.limit || stmt.offset) {
    error((stmt.limit ? stmt.limit : stmt.offset)->range,
          "LIMIT and OFFSET are not supported in maintained views yet")
        .hint = "a top-k operator is planned; filter with WHERE instead";
    return false;
  }
  return true;
}

plan::NodePtr Binder::bindValues(const ast::SelectStmt &stmt) {
  error(stmt.range, "VALUES lists are not supported in models yet").hint =
      "declare the rows as a source table instead";
  return nullptr;
}

plan::NodePtr Binder::bindSetOperation(const ast::SelectStmt &stmt) {
  const char *name = stmt.op == ast::SetOp::Union       ? (stmt.all ? "UNION ALL" : "UNION")
                     : stmt.op == ast::SetOp::Intersect ? (stmt.all ? "INTERSECT ALL" : "INTERSECT")
                                                        : (stmt.all ? "EXCEPT ALL" : "EXCEPT");
  if (stmt.all && stmt.op != ast::SetOp::Union) {
    error(stmt.range, std::string(name) + " is not supported yet").hint =
        std::string("use ") + (stmt.op == ast::SetOp::Intersect ? "INTERSECT" : "EXCEPT") +
        " (without ALL), which compares distinct rows";
    return nullptr;
  }
  // Flatten a chain of one union kind into one n-ary union: UNION ALL is associative, and so is
  // UNION (distinct over the sum of all branches). INTERSECT and EXCEPT stay binary.
  std::vector<const ast::SelectStmt *> branches;
  std::function<void(const ast::SelectStmt &)> flatten = [&](const ast::SelectStmt &s) {
    if (stmt.op == ast::SetOp::Union && s.op == ast::SetOp::Union && s.all == stmt.all &&
        s.with.empty() && s.order_by.empty() && !s.limit) {
      flatten(*s.larg);
      flatten(*s.rarg);
    } else {
      branches.push_back(&s);
    }
  };
  flatten(*stmt.larg);
  flatten(*stmt.rarg);
  std::vector<plan::NodePtr> inputs;
  for (const ast::SelectStmt *branch : branches) {
    plan::NodePtr input = bindSelect(*branch);
    if (!input) return nullptr;
    if (!inputs.empty() && input->schema.size() != inputs[0]->schema.size()) {
      error(branch->range, std::string("each ") + name + " query must have the same number of columns")
          .hint = "add or remove columns so that every branch has as many as the first (" +
                  std::to_string(inputs[0]->schema.size()) + ")";
      return nullptr;
    }
    inputs.push_back(input);
  }
  // Column types: the common type of each column across branches; casts where they differ.
  ir::Schema schema = inputs[0]->schema;
  for (size_t c = 0; c < schema.size(); ++c) {
    std::vector<Bound> columns;
    for (const plan::NodePtr &input : inputs)
      columns.push_back({ir::makeColumn(static_cast<int32_t>(c), input->schema[c].type, input->schema[c].nullable), input->schema[c].type.kind == TypeKind::Null});
    std::vector<Bound *> operands;
    for (Bound &b : columns) operands.push_back(&b);
    std::optional<Type> common = commonType(operands, stmt.range, name);
    if (!common) return nullptr;
    schema[c].type = *common;
    for (const plan::NodePtr &input : inputs) schema[c].nullable |= input->schema[c].nullable;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    bool same = true;
    for (size_t c = 0; c < schema.size(); ++c) same &= inputs[i]->schema[c].type == schema[c].type;
    if (same) continue;
    plan::NodePtr project = makeNode(plan::NodeKind::Project, inputs[i]->schema, inputs[i]->loc, {inputs[i]});
    for (size_t c = 0; c < schema.size(); ++c) {
      const ir::Column &column = inputs[i]->schema[c];
      ExprPtr e = castExpr(ir::makeColumn(static_cast<int32_t>(c), column.type, column.nullable),
                           schema[c].type, branches[i]->range);
      if (!e) return nullptr;
      project->schema[c].type = schema[c].type;
      project->exprs.push_back(std::move(e));
    }
    inputs[i] = project;
  }
  // Set operations over Z-sets (DBSP): with D = distinct, a row is in D(L) - D(R) with weight 1
  // when only L has it, 0 when both do and -1 when only R does. So
  //   L UNION R     = D(L + R)
  //   L EXCEPT R    = D(D(L) - D(R))
  //   L INTERSECT R = D(L) - D(D(L) - D(R))   (weights 0 or 1: no outer distinct needed)
  ir::Location loc = location(stmt.range);
  // Each node's schema follows its inputs, so a branch that cannot be NULL stays NOT NULL.
  auto node = [&](plan::NodeKind kind, std::vector<plan::NodePtr> in) {
    ir::Schema out = in[0]->schema;
    for (const plan::NodePtr &other : in)
      for (size_t c = 0; c < out.size(); ++c) out[c].nullable |= other->schema[c].nullable;
    return makeNode(kind, std::move(out), loc, std::move(in));
  };
  auto distinct = [&](plan::NodePtr in) { return node(plan::NodeKind::Distinct, {std::move(in)}); };
  auto minus = [&](plan::NodePtr a, plan::NodePtr b) {
    return node(plan::NodeKind::UnionAll, {std::move(a), node(plan::NodeKind::Negate, {std::move(b)})});
  };
  switch (stmt.op) {
    case ast::SetOp::Union: {
      plan::NodePtr sum = node(plan::NodeKind::UnionAll, inputs);
      return stmt.all ? sum : distinct(sum);
    }
    case ast::SetOp::Except:
      return distinct(minus(distinct(inputs[0]), distinct(inputs[1])));
    case ast::SetOp::Intersect: {
      plan::NodePtr left = distinct(inputs[0]);
      return minus(left, distinct(minus(left, distinct(inputs[1]))));
    }
    case ast::SetOp::None: break;
  }
  return nullptr;
}

plan::NodePtr Binder::bindSelect(const ast::SelectStmt &stmt) {
  if (!rejectUnsupportedClauses(stmt)) return nullptr;
  ctes_.emplace_back();
  struct PopCtes {
    std::vector<std::map<std::string, std::pair<plan::NodePtr, std::vector<std::string>>>> &ctes;
    ~PopCtes() { ctes.pop_back(); }
  } pop{ctes_};
  for (const ast::CommonTableExpr &cte : stmt.with) {
    plan::NodePtr query = bindSelect(*cte.query);
    if (!query) return nullptr;
    if (!cte.column_names.empty()) {
      if (cte.column_names.size() > query->schema.size()) {
        error(cte.range, "WITH query \"" + cte.name + "\" has " +
                             std::to_string(query->schema.size()) + " columns available but " +
                             std::to_string(cte.column_names.size()) + " columns specified");
        return nullptr;
      }
      // WITH name(a, b): an identity projection that renames the columns.
      ir::Schema renamed = query->schema;
      for (size_t i = 0; i < cte.column_names.size(); ++i) renamed[i].name = cte.column_names[i];
      plan::NodePtr project = makeNode(plan::NodeKind::Project, renamed, query->loc, {query});
      for (size_t i = 0; i < query->schema.size(); ++i)
        project->exprs.push_back(ir::makeColumn(static_cast<int32_t>(i), query->schema[i].type, query->schema[i].nullable));
      query = project;
    }
    ctes_.back()[cte.name] = {query, cte.column_names};
  }
  if (stmt.op != ast::SetOp::None) return bindSetOperation(stmt);
  if (!stmt.values.empty()) return bindValues(stmt);
  return bindSimpleSelect(stmt);
}

plan::NodePtr Binder::bindSimpleSelect(const ast::SelectStmt &stmt) {
  if (stmt.distinct_on) {
    error(stmt.range, "SELECT DISTINCT ON is not supported yet");
    return nullptr;
  }
  if (stmt.from.empty()) {
    error(stmt.range, "SELECT without FROM is not supported in a maintained view").hint =
        "a view needs at least one source table or model to maintain";
    return nullptr;
  }
  std::vector<ExprPtr> where;
  std::optional<FromItem> from = bindFrom(stmt, where);
  if (!from) return nullptr;
  plan::NodePtr input = from->plan;
  if (!where.empty()) {
    plan::NodePtr filter = makeNode(plan::NodeKind::Filter, input->schema, input->loc, {input});
    filter->predicate = conjunction(std::move(where));
    input = filter;
  }
  const Scope &scope = from->scope;

  // Expand the select list (stars) into (expression, name, range) items.
  struct Item {
    const ast::Expr *expr = nullptr;  // null for an expanded star column
    const ScopeColumn *column = nullptr;
    std::string name;
    SourceRange range;
  };
  std::vector<Item> items;
  for (const ast::SelectItem &target : stmt.targets) {
    const ast::Expr &e = *target.expr;
    if (e.kind == ast::ExprKind::Star) {
      bool matched = false;
      for (const ScopeRelation &relation : scope.relations) {
        if (!e.names.empty() && relation.alias != e.names.back()) continue;
        matched = true;
        for (const ScopeColumn &column : relation.columns)
          if (!column.hidden) items.push_back({nullptr, &column, column.name, target.range});
      }
      if (!matched) {
        error(e.range, "missing FROM-clause entry for table \"" + e.names.back() + "\"");
        return nullptr;
      }
      continue;
    }
    std::string name = target.alias;
    if (name.empty()) {
      if (e.kind == ast::ExprKind::ColumnRef) name = e.names.back();
      else if (e.kind == ast::ExprKind::FuncCall) name = e.names.back();
      else if (e.kind == ast::ExprKind::Cast && e.args[0]->kind == ast::ExprKind::ColumnRef)
        name = e.args[0]->names.back();
      else if (e.kind == ast::ExprKind::Case) name = "case";
      else if (e.kind == ast::ExprKind::Coalesce) name = "coalesce";
      else name = "?column?";
    }
    items.push_back({&e, nullptr, name, target.range});
  }

  bool aggregated = !stmt.group_by.empty() || stmt.having;
  for (const Item &item : items) aggregated |= item.expr && containsAggregate(*item.expr);

  std::vector<ExprPtr> outputs;
  plan::NodePtr body = input;
  if (!aggregated) {
    for (const Item &item : items) {
      if (!item.expr) {
        outputs.push_back(ir::makeColumn(item.column->index, item.column->type, item.column->nullable));
        continue;
      }
      Bound bound = bindExpr(*item.expr, scope);
      if (!bound) return nullptr;
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), item.range) : std::move(bound.expr);
      if (!e) return nullptr;
      outputs.push_back(std::move(e));
    }
  } else {
    AggregateContext agg;
    // GROUP BY items: expressions over the FROM row, output column names, or ordinals.
    for (const ast::ExprPtr &key : stmt.group_by) {
      const ast::Expr *target = key.get();
      if (key->kind == ast::ExprKind::Literal && key->literal_kind == ast::LiteralKind::Integer) {
        int64_t ordinal = std::stoll(key->text);
        if (ordinal < 1 || ordinal > static_cast<int64_t>(items.size()) || !items[ordinal - 1].expr) {
          error(key->range, "GROUP BY position " + key->text + " is not in select list");
          return nullptr;
        }
        target = items[ordinal - 1].expr;
      } else if (key->kind == ast::ExprKind::ColumnRef && key->names.size() == 1) {
        // An input column wins over an output name, as in PostgreSQL.
        bool is_input = false;
        for (const ScopeRelation &relation : scope.relations)
          for (const ScopeColumn &column : relation.columns)
            is_input |= column.name == key->names[0] && !column.hidden;
        if (!is_input)
          for (const Item &item : items)
            if (item.expr && item.name == key->names[0]) target = item.expr;
      }
      if (containsAggregate(*target)) {
        error(key->range, "aggregate functions are not allowed in GROUP BY");
        return nullptr;
      }
      Bound bound = bindExpr(*target, scope);
      if (!bound) return nullptr;
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), key->range) : std::move(bound.expr);
      if (!e) return nullptr;
      bool duplicate = false;
      for (const ExprPtr &existing : agg.group_exprs) duplicate |= sameExpr(*existing, *e);
      if (!duplicate) agg.group_exprs.push_back(std::move(e));
    }
    agg_ = &agg;
    agg_from_scope_ = &scope;
    struct Reset {
      Binder &b;
      ~Reset() { b.agg_ = nullptr, b.agg_from_scope_ = nullptr; }
    } reset{*this};
    for (const Item &item : items) {
      if (!item.expr) {
        bool found = false;
        for (size_t i = 0; i < agg.group_exprs.size(); ++i) {
          const Expr &g = *agg.group_exprs[i];
          if (g.op == ExprOp::Column && g.column == item.column->index) {
            outputs.push_back(ir::makeColumn(static_cast<int32_t>(i), g.type, g.nullable));
            found = true;
          }
        }
        if (!found) {
          error(item.range, "column \"" + item.name +
                                "\" must appear in the GROUP BY clause or be used in an aggregate function");
          return nullptr;
        }
        continue;
      }
      Bound bound = bindExpr(*item.expr, scope);
      if (!bound) return nullptr;
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), item.range) : std::move(bound.expr);
      if (!e) return nullptr;
      outputs.push_back(std::move(e));
    }
    ExprPtr having;
    if (stmt.having) {
      having = bindCondition(*stmt.having, scope, "HAVING");
      if (!having) return nullptr;
    }
    // Pre-aggregation projection: [group exprs..., aggregate arguments...].
    plan::NodePtr pre = makeNode(plan::NodeKind::Project, {}, input->loc, {input});
    std::vector<ExprPtr> pre_exprs;
    for (size_t i = 0; i < agg.group_exprs.size(); ++i) {
      const Expr &g = *agg.group_exprs[i];
      std::string name = g.op == ExprOp::Column ? input->schema[g.column].name : "key" + std::to_string(i);
      pre->schema.push_back({name, g.type, g.nullable});
      pre->exprs.push_back(g.clone());
    }
    for (size_t i = 0; i < agg.agg_args.size(); ++i) {
      const Expr &a = *agg.agg_args[i];
      pre->schema.push_back({"arg" + std::to_string(i), a.type, a.nullable});
      pre->exprs.push_back(a.clone());
    }
    plan::NodePtr aggregate = makeNode(plan::NodeKind::Aggregate, {}, location(stmt.range), {pre});
    for (size_t i = 0; i < agg.group_exprs.size(); ++i) {
      aggregate->group_keys.push_back(static_cast<int32_t>(i));
      aggregate->schema.push_back(pre->schema[i]);
    }
    for (const ir::AggCall &call : agg.aggs) {
      aggregate->aggregates.push_back(call);
      bool nullable = call.kind != ir::AggKind::CountStar && call.kind != ir::AggKind::Count;
      aggregate->schema.push_back({call.name, call.type, nullable});
    }
    body = aggregate;
    if (having) {
      plan::NodePtr filter = makeNode(plan::NodeKind::Filter, body->schema, location(stmt.having->range), {body});
      filter->predicate = std::move(having);
      body = filter;
    }
  }

  ir::Schema schema;
  for (size_t i = 0; i < items.size(); ++i)
    schema.push_back({items[i].name, outputs[i]->type, outputs[i]->nullable});
  plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, location(stmt.range), {body});
  project->exprs = std::move(outputs);
  plan::NodePtr result = project;
  if (stmt.distinct) result = makeNode(plan::NodeKind::Distinct, schema, project->loc, {project});
  return result;
}

std::optional<ir::Value> Binder::bindConstant(const ast::Expr &expr, const Type &target) {
  Scope empty;
  Bound bound = bindExpr(expr, empty);
  if (!bound) return std::nullopt;
  ExprPtr e = coerce(std::move(bound), target, expr.range);
  if (!e) return std::nullopt;
  if (e->op == ExprOp::Literal) return e->literal;
  // A cast of a literal: evaluate the handful of constant casts sqllogictest data needs.
  if (e->op == ExprOp::Cast && e->args[0]->op == ExprOp::Literal) {
    std::string message;
    std::optional<ir::Value> v = castLiteral(e->args[0]->literal, e->args[0]->type, target, message);
    if (v) return v;
    error(expr.range, message);
    return std::nullopt;
  }
  error(expr.range, "expected a constant value");
  return std::nullopt;
}

}  // namespace

plan::NodePtr bindQuery(const ast::SelectStmt &query, const Catalog &catalog,
                        const SourceManager &sources, DiagnosticEngine &diags) {
  Binder binder(catalog, sources, diags);
  size_t errors_before = diags.errorCount();
  plan::NodePtr result = binder.bindSelect(query);
  if (diags.errorCount() != errors_before) return nullptr;
  return result;
}

std::optional<ir::Value> bindConstant(const ast::Expr &expr, const ir::Type &target,
                                      const SourceManager &sources, DiagnosticEngine &diags) {
  static const Catalog empty;
  Binder binder(empty, sources, diags);
  return binder.bindConstant(expr, target);
}

}  // namespace kiln::binder
