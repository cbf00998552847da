// Expressions: the dispatch over expression kinds, and the kinds that are neither operators nor
// function calls: column references (resolved against the scope, with a suggestion for a
// misspelled name), literals, conditions (which must be boolean), CASE, COALESCE / NULLIF /
// GREATEST / LEAST, and CAST. In an aggregate query, bindExpr also turns an expression that
// matches a GROUP BY expression into a read of the aggregate's key column.
#include "BinderImpl.h"

#include "kiln/Binder/Literals.h"
#include "kiln/IR/Utils.h"
#include "kiln/Support/Spelling.h"

namespace kiln::binder {

using ir::Expr;
using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

Bound Binder::bindExpr(const ast::Expr &expr, const Scope &scope) {
  if (agg_ && !containsAggregate(expr)) {
    // In an aggregate query, an expression that is one of the GROUP BY expressions reads the
    // aggregate's key column; anything else must be built from such expressions and aggregates.
    // Matching is ir::sameExpr, which compares float constants bitwise as PostgreSQL's equal()
    // does: `x + '-0'::float8` is not `GROUP BY x + 0::float8` (they differ when x is -0).
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
        if (ir::sameExpr(*trial.expr, *agg_->group_exprs[i])) {
          const Expr &key = *agg_->group_exprs[i];
          return {ir::makeColumn(static_cast<int32_t>(i), key.type, agg_->keyNullable(i)), false};
        }
      }
      if (trial.expr->op == ExprOp::Literal)
        return trial;
    }
  }
  return bindExprInner(expr, scope);
}

Bound Binder::bindExprInner(const ast::Expr &expr, const Scope &scope) {
  using K = ast::ExprKind;
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
    return bindSubqueryExpr(expr, scope);
  case K::Unary:
    return bindUnary(expr, scope);
  case K::Binary:
    return bindBinary(expr, scope);
  case K::IsNull:
    return bindIsNull(expr, scope);
  case K::IsBool:
    return bindIsBool(expr, scope);
  case K::Between:
    return bindBetween(expr, scope);
  case K::InList:
    return bindInList(expr, scope);
  case K::Like:
    return bindLike(expr, scope);
  case K::Case:
    return bindCase(expr, scope);
  case K::Coalesce:
  case K::Greatest:
  case K::Least:
  case K::NullIf:
    return bindConditional(expr, scope);
  case K::Cast:
    return bindCast(expr, scope);
  case K::FuncCall:
    return bindFunction(expr, scope);
  }
  return {};
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
      bool matches =
          qualifier.size() == 1 ? relation.alias == qualifier[0] : relation.names == qualifier;
      if (!matches)
        continue;
      relation_found = true;
    }
    for (const ScopeColumn &candidate : relation.columns) {
      if (candidate.name != column || (candidate.hidden && qualifier.empty()))
        continue;
      if (found) {
        error(expr.range, "column reference \"" + column + "\" is ambiguous").hint =
            "qualify it with a table name or alias";
        return {};
      }
      found = &candidate;
    }
  }
  if (!found && correlation_ && correlation_->in_where) {
    for (const ScopeRelation &relation : correlation_->outer->relations) {
      if (!qualifier.empty() &&
          !(qualifier.size() == 1 ? relation.alias == qualifier[0] : relation.names == qualifier))
        continue;
      for (const ScopeColumn &candidate : relation.columns)
        if (candidate.name == column && !(candidate.hidden && qualifier.empty()))
          return {
              ir::makeColumn(kOuterColumn + candidate.index, candidate.type, candidate.nullable),
              false};
    }
  }
  if (!found && refersToOuterQuery(qualifier, column)) {
    std::string full;
    for (const std::string &part : expr.names)
      full += (full.empty() ? "" : ".") + part;
    error(expr.range,
          "correlated subqueries are not supported yet: \"" + full + "\" refers to the outer query")
        .hint = "a subquery in WHERE under [NOT] EXISTS or IN may compare its own columns with the "
                "outer query's by equality in its WHERE; otherwise join the tables in the outer "
                "FROM and filter there";
    return {};
  }
  if (!relation_found) {
    std::string q;
    for (const std::string &part : qualifier)
      q += (q.empty() ? "" : ".") + part;
    error(expr.range, "missing FROM-clause entry for table \"" + q + "\"");
    return {};
  }
  if (!found) {
    std::string full;
    for (const std::string &part : expr.names)
      full += (full.empty() ? "" : ".") + part;
    Diagnostic &d = error(expr.range, "column \"" + full + "\" does not exist");
    // Suggest the closest visible column.
    std::vector<std::string> visible;
    for (const ScopeRelation &relation : scope.relations)
      for (const ScopeColumn &candidate : relation.columns)
        visible.push_back(candidate.name);
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
  if (!bound)
    return nullptr;
  if (bound.unknown)
    return coerce(std::move(bound), Type::boolean(), expr.range);
  if (bound.expr->type.kind != TypeKind::Bool) {
    error(expr.range, std::string("argument of ") + clause + " must be type boolean, not type " +
                          bound.expr->type.sqlName());
    return nullptr;
  }
  return std::move(bound.expr);
}

Bound Binder::bindCase(const ast::Expr &expr, const Scope &scope) {
  SetFunctionsForbidden no_sets(*this, "CASE"); // (PostgreSQL's rule: they would run anyway)
  ir::Location loc = location(expr.range);
  std::vector<ExprPtr> conditions;
  std::vector<Bound> values;
  for (size_t i = 0; i + 1 < expr.args.size(); i += 2) {
    ExprPtr condition;
    if (expr.case_operand) {
      Bound eq = comparison(ExprOp::Eq, bindExpr(*expr.case_operand, scope),
                            bindExpr(*expr.args[i], scope), expr.args[i]->range);
      if (!eq)
        return {};
      condition = std::move(eq.expr);
    } else {
      condition = bindCondition(*expr.args[i], scope, "CASE/WHEN");
    }
    if (!condition)
      return {};
    conditions.push_back(std::move(condition));
    values.push_back(bindExpr(*expr.args[i + 1], scope));
    if (!values.back())
      return {};
  }
  Bound otherwise;
  if (expr.case_else) {
    otherwise = bindExpr(*expr.case_else, scope);
    if (!otherwise)
      return {};
  } else {
    otherwise = {ir::makeLiteral(ir::Value{}, Type::null()), true};
  }
  std::vector<Bound *> results;
  for (Bound &value : values)
    results.push_back(&value);
  results.push_back(&otherwise);
  std::optional<Type> common = commonType(results, expr.range, "CASE");
  if (!common)
    return {};
  ExprPtr e = ir::makeCall(ExprOp::Case, *common, {}, loc);
  bool nullable = false;
  for (size_t i = 0; i < conditions.size(); ++i) {
    e->args.push_back(std::move(conditions[i]));
    ExprPtr v = coerce(std::move(values[i]), *common, expr.args[2 * i + 1]->range);
    if (!v)
      return {};
    nullable |= v->nullable;
    e->args.push_back(std::move(v));
  }
  ExprPtr v = coerce(std::move(otherwise), *common, expr.range);
  if (!v)
    return {};
  nullable |= v->nullable;
  e->args.push_back(std::move(v));
  e->nullable = nullable;
  return {std::move(e), false};
}

// COALESCE, NULLIF, GREATEST and LEAST: operands of one common type.
Bound Binder::bindConditional(const ast::Expr &expr, const Scope &scope) {
  SetFunctionsForbidden no_sets(*this, expr.kind == ast::ExprKind::Coalesce ? "COALESCE" : nullptr);
  using K = ast::ExprKind;
  ir::Location loc = location(expr.range);
  std::vector<Bound> items;
  for (const ast::ExprPtr &arg : expr.args) {
    items.push_back(bindExpr(*arg, scope));
    if (!items.back())
      return {};
  }
  std::vector<Bound *> operands;
  for (Bound &item : items)
    operands.push_back(&item);
  const char *what = expr.kind == K::Coalesce   ? "COALESCE"
                     : expr.kind == K::NullIf   ? "NULLIF"
                     : expr.kind == K::Greatest ? "GREATEST"
                                                : "LEAST";
  std::optional<Type> common = commonType(operands, expr.range, what);
  if (!common)
    return {};
  ExprOp op = expr.kind == K::Coalesce   ? ExprOp::Coalesce
              : expr.kind == K::NullIf   ? ExprOp::NullIf
              : expr.kind == K::Greatest ? ExprOp::Greatest
                                         : ExprOp::Least;
  ExprPtr e = ir::makeCall(op, *common, {}, loc);
  bool all_nullable = true;
  for (size_t i = 0; i < items.size(); ++i) {
    ExprPtr v = coerce(std::move(items[i]), *common, expr.args[i]->range);
    if (!v)
      return {};
    all_nullable &= v->nullable;
    e->args.push_back(std::move(v));
  }
  // COALESCE is NULL only if every argument is; GREATEST/LEAST too (they skip NULLs).
  e->nullable = op == ExprOp::NullIf ? true : all_nullable;
  return {std::move(e), false};
}

Bound Binder::bindCast(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  if (expr.cast_type.name == "interval" && !expr.cast_type.is_array) {
    // interval 'text' and 'text'::interval: read now, with the type's fields (interval '3' month).
    const ast::Expr &operand = *expr.args[0];
    if (operand.kind == ast::ExprKind::Literal &&
        operand.literal_kind == ast::LiteralKind::String) {
      std::string message;
      std::optional<ir::Value> value =
          parseIntervalLiteral(operand.text, expr.cast_type.interval_fields, message);
      if (!value) {
        error(operand.range, message).hint =
            "write a number and a unit, such as '3 days', '1 year 2 months' or '02:30:00'";
        return {};
      }
      return {ir::makeLiteral(std::move(*value), Type::interval()), false};
    }
  }
  DiagnosticEngine trial_diags(sources_);
  std::optional<Type> target = resolveType(expr.cast_type, sources_, quiet_ ? trial_diags : diags_);
  if (!target) {
    ++quiet_errors_;
    return {};
  }
  Bound operand = bindExpr(*expr.args[0], scope);
  if (!operand)
    return {};
  ExprPtr e = coerce(std::move(operand), *target, expr.range);
  if (!e)
    return {};
  if (e->op == ExprOp::Cast)
    e->loc = loc;
  return {std::move(e), false};
}

} // namespace kiln::binder
