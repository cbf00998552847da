// Subqueries in WHERE. A top-level `[NOT] IN (subquery)` or `[NOT] EXISTS (subquery)` conjunct
// becomes a join of the FROM row with the subquery (semiJoin); a scalar subquery that provably has
// one row is joined as a one-row relation whose value is a column past the FROM row's end
// (bindScalarSubquery). Subqueries are bound on their own: a reference to a column of an
// enclosing query is reported as correlated (refersToOuterQuery); subqueries anywhere else are
// rejected (bindSubqueryExpr).
#include "BinderImpl.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <functional>
#include <set>

namespace kiln::binder {

using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

namespace {
// TRUE, FALSE or NULL (nullopt) as a boolean constant.
ExprPtr booleanLiteral(std::optional<bool> b) {
  ir::Value v;
  v.is_null = !b;
  v.b = b.value_or(false);
  return ir::makeLiteral(v, Type::boolean());
}
} // namespace

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
        if (candidate.name == column)
          return true;
    }
  }
  return false;
}

// A subquery in an expression: the column that carries a scalar subquery's value (see
// bindFrom), or an error.
Bound Binder::bindSubqueryExpr(const ast::Expr &expr, const Scope &scope) {
  if (auto it = scalar_columns_.find(&expr); it != scalar_columns_.end()) {
    const ir::Column &column = it->second.second;
    ExprPtr value = ir::makeColumn(it->second.first, column.type, column.nullable);
    if (expr.sublink == ast::SublinkKind::In)
      return inFromCounts(expr, scope, it->second.first);
    if (expr.sublink == ast::SublinkKind::Any || expr.sublink == ast::SublinkKind::All)
      return quantifiedFromAggregates(expr, scope, it->second.first, column.type);
    if (expr.sublink != ast::SublinkKind::Exists)
      return {std::move(value), false};
    // EXISTS: its count of rows is not 0.
    ir::Value zero;
    zero.is_null = false;
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(value));
    operands.push_back(ir::makeLiteral(zero, column.type));
    ExprPtr exists =
        ir::makeCall(ExprOp::Gt, Type::boolean(), std::move(operands), location(expr.range));
    exists->nullable = false;
    return {std::move(exists), false};
  }
  // Top-level WHERE conditions never get here: bindFrom makes them semi-joins.
  if (expr.sublink == ast::SublinkKind::Exists || expr.sublink == ast::SublinkKind::In) {
    error(expr.range,
          std::string(expr.sublink == ast::SublinkKind::Exists ? "EXISTS" : "IN (subquery)") +
              " is not supported here yet")
        .hint = "it is supported in WHERE and in the select list of a query without aggregates";
  } else {
    error(expr.range, "subqueries in expressions are not supported yet").hint =
        "a subquery that computes aggregates is supported in WHERE and in the select list of a "
        "query without aggregates; others, in FROM";
  }
  return {};
}

// A subquery bound under `correlation` (its `outer` scope and `stmt` set): its references to the
// enclosing query's columns become the correlation's keys and residuals.
void Binder::joinedResidual(ir::Expr &residual, const std::vector<int32_t> &residual_columns,
                            int32_t carried) {
  ir::walkExpr(residual, [&](ir::Expr &e) {
    if (e.op != ExprOp::Column)
      return;
    if (e.column >= kOuterColumn) {
      e.column -= kOuterColumn;
      return;
    }
    auto at = std::find(residual_columns.begin(), residual_columns.end(), e.column);
    e.column = carried + static_cast<int32_t>(at - residual_columns.begin());
  });
}

plan::NodePtr Binder::bindCorrelated(Correlation &correlation) {
  Correlation *saved = correlation_;
  correlation_ = &correlation;
  outer_scopes_.push_back(correlation.outer);
  plan::NodePtr plan = bindSelect(*correlation.stmt);
  outer_scopes_.pop_back();
  correlation_ = saved;
  return plan;
}

// `x IN (subquery)` from its three columns (bindInSubquery): FALSE over no rows; else NULL for a
// NULL x; TRUE where x is among the values; else NULL if a value is NULL; else FALSE.
// `x op ANY (subquery)` and `x op ALL (subquery)` from the subquery's least and greatest non-NULL
// values, rows and non-NULL values (bindQuantifiedSubquery, columns from `first`), as PostgreSQL
// defines them: ANY is FALSE over no rows, NULL for a NULL x, TRUE if x op some value (x < the
// greatest, x > the least, x <> the least or the greatest), else NULL if a value is NULL, else
// FALSE; ALL is TRUE over no rows, NULL for a NULL x, FALSE if x op some value fails (x < the
// least, ...; x = both), else NULL if a value is NULL, else TRUE.
Bound Binder::quantifiedFromAggregates(const ast::Expr &expr, const Scope &scope, int32_t first,
                                       const Type &type) {
  ir::Location loc = location(expr.range);
  bool any = expr.sublink == ast::SublinkKind::Any;
  Bound x = bindExpr(*expr.args[0], scope);
  if (!x)
    return {};
  ExprPtr value = coerce(std::move(x), type, expr.args[0]->range);
  if (!value)
    return {};
  std::string op = expr.op == "!=" ? "<>" : expr.op;
  auto column = [&](int32_t c, const Type &t, bool nullable) {
    return Bound{ir::makeColumn(first + c, t, nullable), false};
  };
  auto compare = [&](ExprOp cmp, int32_t extreme) {
    return comparison(cmp, Bound{value->clone(), false}, column(extreme, type, true), expr.range);
  };
  ExprOp cmp = op == "<"    ? ExprOp::Lt
               : op == "<=" ? ExprOp::Le
               : op == ">"  ? ExprOp::Gt
               : op == ">=" ? ExprOp::Ge
               : op == "="  ? ExprOp::Eq
                            : ExprOp::Ne;
  constexpr int32_t kLeast = 0, kGreatest = 1, kRows = 2, kValues = 3;
  // Whether x op some value (ANY), or x op every value (ALL), over the non-NULL values.
  Bound test;
  if (op == "<>" || op == "=") { // <> ANY: the least or the greatest differs; = ALL: both equal
    Bound a = compare(cmp, kLeast), b = compare(cmp, kGreatest);
    if (!a || !b)
      return {};
    ExprPtr both = ir::makeCall(op == "<>" ? ExprOp::Or : ExprOp::And, Type::boolean(), {}, loc);
    both->args.push_back(std::move(a.expr));
    both->args.push_back(std::move(b.expr));
    both->nullable = true;
    test = {std::move(both), false};
  } else {
    bool below = cmp == ExprOp::Lt || cmp == ExprOp::Le; // x < ANY: below the greatest
    test = compare(cmp, below == any ? kGreatest : kLeast);
  }
  if (!test)
    return {};
  auto call = [&](ExprOp op, ExprPtr a, ExprPtr b = nullptr) {
    ExprPtr e = ir::makeCall(op, Type::boolean(), {}, loc);
    e->args.push_back(std::move(a));
    if (b)
      e->args.push_back(std::move(b));
    e->nullable = false;
    return e;
  };
  ir::Value zero;
  zero.is_null = false;
  ExprPtr rows = column(kRows, Type::int64(), false).expr;
  ExprPtr e = ir::makeCall(ExprOp::Case, Type::boolean(), {}, loc);
  e->args.push_back(call(ExprOp::Eq, rows->clone(), ir::makeLiteral(zero, Type::int64())));
  e->args.push_back(booleanLiteral(!any));
  e->args.push_back(call(ExprOp::IsNull, std::move(value)));
  e->args.push_back(booleanLiteral(std::nullopt));
  if (any) {
    e->args.push_back(std::move(test.expr));
  } else {
    ExprPtr fails = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    fails->args.push_back(std::move(test.expr));
    fails->nullable = true;
    e->args.push_back(std::move(fails));
  }
  e->args.push_back(booleanLiteral(any));
  e->args.push_back(call(ExprOp::Lt, column(kValues, Type::int64(), false).expr, std::move(rows)));
  e->args.push_back(booleanLiteral(std::nullopt));
  e->args.push_back(booleanLiteral(!any));
  e->nullable = true;
  return {std::move(e), false};
}

Bound Binder::inFromCounts(const ast::Expr &expr, const Scope &scope, int32_t first) {
  ir::Location loc = location(expr.range);
  Bound x = bindExpr(*expr.args[0], scope);
  if (x && x.unknown) // only its NULLness matters here
    x.expr = coerce(std::move(x), Type::text(), expr.args[0]->range);
  if (!x)
    return {};
  auto call = [&](ExprOp op, std::vector<ExprPtr> args) {
    ExprPtr e = ir::makeCall(op, Type::boolean(), std::move(args), loc);
    e->nullable = false;
    return e;
  };
  auto two = [](ExprPtr a, ExprPtr b) {
    std::vector<ExprPtr> v;
    v.push_back(std::move(a));
    v.push_back(std::move(b));
    return v;
  };
  auto one = [](ExprPtr a) {
    std::vector<ExprPtr> v;
    v.push_back(std::move(a));
    return v;
  };
  ExprPtr matched = ir::makeColumn(first, Type::boolean(), true);
  ExprPtr rows = ir::makeColumn(first + 1, Type::int64(), false);
  ExprPtr values = ir::makeColumn(first + 2, Type::int64(), false);
  ir::Value zero;
  zero.is_null = false;
  ExprPtr e = ir::makeCall(ExprOp::Case, Type::boolean(), {}, loc);
  e->args.push_back(call(ExprOp::Eq, two(rows->clone(), ir::makeLiteral(zero, Type::int64()))));
  e->args.push_back(booleanLiteral(false));
  e->args.push_back(call(ExprOp::IsNull, one(std::move(x.expr))));
  e->args.push_back(booleanLiteral(std::nullopt));
  e->args.push_back(call(ExprOp::IsNotNull, one(std::move(matched))));
  e->args.push_back(booleanLiteral(true));
  e->args.push_back(call(ExprOp::Lt, two(std::move(values), std::move(rows))));
  e->args.push_back(booleanLiteral(std::nullopt));
  e->args.push_back(booleanLiteral(false));
  e->nullable = true;
  return {std::move(e), false};
}

std::optional<Binder::ComparedSubquery> Binder::bindComparedSubquery(const ast::Expr &sublink,
                                                                     const Scope &outer) {
  ComparedSubquery q;
  q.correlation.outer = &outer;
  q.correlation.stmt = sublink.subquery.get();
  plan::NodePtr sub = bindCorrelated(q.correlation);
  if (!sub)
    return std::nullopt;
  std::string what = sublink.sublink == ast::SublinkKind::In    ? "IN (subquery)"
                     : sublink.sublink == ast::SublinkKind::Any ? sublink.op + " ANY (subquery)"
                                                                : sublink.op + " ALL (subquery)";
  // Correlated by equalities (`WHERE t.k = outer.k`): the subquery's select list carries its
  // keys after its value, and each column computed from it is per key, joined on the outer row's
  // keys (a key without rows has none: counts of 0, no match).
  if (!q.correlation.residuals.empty()) {
    error(sublink.range, "a correlated " + what +
                             " in an expression may compare the enclosing query's columns only "
                             "by equality")
        .hint = "only x IN (subquery) as a condition of WHERE, ANDed with the others, may compare "
                "them otherwise too";
    return std::nullopt;
  }
  q.keys = static_cast<int32_t>(q.correlation.inner_keys.size());
  if (static_cast<int32_t>(sub->schema.size()) != 1 + q.keys) {
    error(sublink.subquery->range, static_cast<int32_t>(sub->schema.size()) > 1 + q.keys
                                       ? "subquery has too many columns"
                                       : "subquery has too few columns")
        .hint = "a subquery compared with a value selects exactly one column";
    return std::nullopt;
  }
  // x and the values compare in their common type.
  Bound x = bindExpr(*sublink.args[0], outer);
  if (!x)
    return std::nullopt;
  Bound y{ir::makeColumn(0, sub->schema[0].type, sub->schema[0].nullable),
          sub->schema[0].type.kind == TypeKind::Null};
  std::optional<Type> type = commonType({&x, &y}, sublink.range, what, Resolution::Operator);
  if (!type)
    return std::nullopt;
  q.type = type->kind == TypeKind::Null ? Type::text() : *type;
  q.x = coerce(std::move(x), q.type, sublink.args[0]->range);
  ExprPtr value = coerce(std::move(y), q.type, sublink.subquery->range);
  if (!q.x || !value)
    return std::nullopt;
  // The compared values and their keys: [value, keys...].
  ir::Location loc = location(sublink.range);
  q.values = makeNode(plan::NodeKind::Project, {}, loc, {sub});
  q.values->schema.push_back({"value", q.type, value->nullable});
  q.values->exprs.push_back(std::move(value));
  for (int32_t k = 0; k < q.keys; ++k) {
    const ir::Column &column = sub->schema[static_cast<size_t>(1 + k)];
    q.values->schema.push_back(column);
    q.values->exprs.push_back(ir::makeColumn(1 + k, column.type, column.nullable));
  }
  return q;
}

Binder::ScalarJoin Binder::perKey(const ComparedSubquery &q, ir::AggKind kind,
                                  const ir::Location &loc) {
  plan::NodePtr aggregate = makeNode(plan::NodeKind::Aggregate, {}, loc, {q.values});
  for (int32_t k = 0; k < q.keys; ++k) {
    aggregate->group_keys.push_back(1 + k);
    aggregate->schema.push_back(q.values->schema[static_cast<size_t>(1 + k)]);
  }
  ir::AggCall call;
  call.kind = kind;
  call.arg = kind == ir::AggKind::CountStar ? -1 : 0;
  bool count = kind == ir::AggKind::CountStar || kind == ir::AggKind::Count;
  call.type = count ? Type::int64() : q.type;
  call.name = kind == ir::AggKind::CountStar ? "rows"
              : kind == ir::AggKind::Count   ? "values"
              : kind == ir::AggKind::Min     ? "least"
                                             : "greatest";
  aggregate->aggregates.push_back(call);
  aggregate->schema.push_back({call.name, call.type, !count});
  // The value, then the keys it is joined on.
  ScalarJoin join;
  plan::NodePtr value = makeNode(plan::NodeKind::Project, {}, loc, {aggregate});
  value->schema.push_back(aggregate->schema[static_cast<size_t>(q.keys)]);
  value->exprs.push_back(ir::makeColumn(q.keys, call.type, !count));
  for (int32_t k = 0; k < q.keys; ++k) {
    const ir::Column &column = aggregate->schema[static_cast<size_t>(k)];
    value->schema.push_back(column);
    value->exprs.push_back(ir::makeColumn(k, column.type, column.nullable));
  }
  join.value = value;
  join.zero_if_empty = count && q.keys > 0;
  for (const ExprPtr &outer_key : q.correlation.outer_keys)
    join.outer_keys.push_back(outer_key->clone());
  return join;
}

std::optional<std::vector<Binder::ScalarJoin>> Binder::bindInSubquery(const ast::Expr &sublink,
                                                                      const Scope &outer) {
  ir::Location loc = location(sublink.range);
  std::optional<ComparedSubquery> q = bindComparedSubquery(sublink, outer);
  if (!q)
    return std::nullopt;
  std::vector<ScalarJoin> joins;
  // Whether x is among the values (of its key): TRUE for the distinct values, matched on x.
  {
    plan::NodePtr distinct =
        makeNode(plan::NodeKind::Distinct, q->values->schema, loc, {q->values});
    plan::NodePtr matched =
        makeNode(plan::NodeKind::Project, {{"matched", Type::boolean(), false}}, loc, {distinct});
    ir::Value yes;
    yes.is_null = false;
    yes.b = true;
    matched->exprs.push_back(ir::makeLiteral(yes, Type::boolean()));
    for (size_t c = 0; c < distinct->schema.size(); ++c) {
      const ir::Column &column = distinct->schema[c];
      matched->schema.push_back(column);
      matched->exprs.push_back(
          ir::makeColumn(static_cast<int32_t>(c), column.type, column.nullable));
    }
    ScalarJoin &join = joins.emplace_back();
    join.value = matched;
    join.outer_keys.push_back(std::move(q->x));
    for (const ExprPtr &outer_key : q->correlation.outer_keys)
      join.outer_keys.push_back(outer_key->clone());
  }
  // Its rows and its non-NULL values, counted.
  joins.push_back(perKey(*q, ir::AggKind::CountStar, loc));
  joins.push_back(perKey(*q, ir::AggKind::Count, loc));
  return joins;
}

std::optional<std::vector<Binder::ScalarJoin>>
Binder::bindQuantifiedSubquery(const ast::Expr &sublink, const Scope &outer) {
  static const std::set<std::string> kComparisons = {"<", "<=", ">", ">=", "=", "<>", "!="};
  if (!kComparisons.contains(sublink.op)) {
    error(sublink.range, "operator " + sublink.op + " with " +
                             (sublink.sublink == ast::SublinkKind::Any ? "ANY" : "ALL") +
                             " (subquery) is not supported")
        .hint = "compare with =, <>, <, <=, > or >=";
    return std::nullopt;
  }
  ir::Location loc = location(sublink.range);
  std::optional<ComparedSubquery> q = bindComparedSubquery(sublink, outer);
  if (!q)
    return std::nullopt;
  // The least and greatest non-NULL values, the rows and the non-NULL values (per key).
  std::vector<ScalarJoin> joins;
  for (ir::AggKind kind :
       {ir::AggKind::Min, ir::AggKind::Max, ir::AggKind::CountStar, ir::AggKind::Count})
    joins.push_back(perKey(*q, kind, loc));
  return joins;
}

// An uncorrelated subquery in an expression, when it provably has exactly one row: one
// aggregate over its FROM without GROUP BY or HAVING (PostgreSQL would raise at run time for more
// rows, and give NULL for none).
plan::NodePtr Binder::bindScalarSubquery(const ast::Expr &subquery, const Scope &outer,
                                         std::vector<ExprPtr> &outer_keys, bool &zero_if_empty,
                                         plan::NodePtr &domain,
                                         std::vector<int32_t> &domain_columns) {
  Correlation correlation;
  correlation.outer = &outer;
  correlation.stmt = subquery.subquery.get();
  correlation.scalar = true;
  if (subquery.sublink == ast::SublinkKind::Exists) {
    // EXISTS (q) is (SELECT count(*) FROM ... WHERE ...) > 0 when q's rows are its FROM's.
    const ast::SelectStmt &q = *subquery.subquery;
    bool plain = q.op == ast::SetOp::None && q.values.empty() && q.group_by.empty() && !q.having &&
                 !q.offset && !q.distinct_on;
    for (const ast::SelectItem &item : q.targets)
      plain &= !(item.expr && containsAggregate(*item.expr));
    if (!plain) {
      error(subquery.range, "this EXISTS is supported only as a condition of WHERE, ANDed with "
                            "the others")
          .hint = "an EXISTS elsewhere (under OR, in the select list) takes a subquery without "
                  "GROUP BY, HAVING, LIMIT or aggregates";
      return nullptr;
    }
    correlation.exists_count = true;
    correlation.exists = true;
  }
  plan::NodePtr value = bindCorrelated(correlation);
  if (!value)
    return nullptr;
  const ast::SelectStmt &stmt = *subquery.subquery;
  // One row (per key of a correlated one): aggregates without GROUP BY of its own.
  // Or the first row per key (ORDER BY ... LIMIT 1, firstRowPerKey).
  const plan::NodePtr &under = value->inputs.empty() ? value : value->inputs[0];
  bool one_row = stmt.op == ast::SetOp::None && stmt.group_by.empty() && !stmt.having &&
                 !stmt.distinct && value->kind == plan::NodeKind::Project &&
                 (under->kind == plan::NodeKind::Aggregate ||
                  (under->kind == plan::NodeKind::TopK && under->limit == 1)) &&
                 under->group_keys.size() == correlation.inner_keys.size();
  outer_keys = std::move(correlation.outer_keys);
  zero_if_empty = correlation.zero_if_empty;
  domain = correlation.domain;
  domain_columns = correlation.domain_columns;
  if (!one_row) {
    error(subquery.range, "this scalar subquery is not supported yet").hint =
        "a scalar subquery must compute aggregates without GROUP BY or HAVING, so that it has "
        "exactly one row";
    return nullptr;
  }
  if (value->schema.size() != 1 + outer_keys.size()) {
    error(subquery.range, "subquery must return only one column");
    return nullptr;
  }
  return value;
}

namespace {
// Whether `e` is a comparison of operands that are NULL whenever a column they read is: then it
// is never TRUE where a column it reads is NULL.
bool nullRejecting(const ir::Expr &e) {
  switch (e.op) {
  case ExprOp::Eq:
  case ExprOp::Ne:
  case ExprOp::Lt:
  case ExprOp::Le:
  case ExprOp::Gt:
  case ExprOp::Ge:
    break;
  default:
    return false;
  }
  bool strict = true;
  for (const ExprPtr &operand : e.args)
    ir::walkExpr(*operand, [&](const ir::Expr &x) {
      switch (x.op) {
      case ExprOp::Column:
      case ExprOp::Literal:
      case ExprOp::Add:
      case ExprOp::Sub:
      case ExprOp::Mul:
      case ExprOp::Div:
      case ExprOp::Mod:
      case ExprOp::Neg:
      case ExprOp::Cast:
        break;
      default:
        strict = false;
      }
    });
  return strict;
}
} // namespace

plan::NodePtr Binder::joinDomain(plan::NodePtr input, int32_t width, const ir::Location &loc) {
  Correlation &correlation = *correlation_;
  std::vector<int32_t> &columns = correlation.domain_columns;
  for (const ExprPtr &residual : correlation.residuals)
    for (int32_t c : ir::columnsRead(*residual))
      if (c >= kOuterColumn &&
          std::find(columns.begin(), columns.end(), c - kOuterColumn) == columns.end())
        columns.push_back(c - kOuterColumn);
  std::sort(columns.begin(), columns.end());
  ir::Schema schema;
  for (int32_t c : columns) {
    const ScopeColumn *found = nullptr;
    for (const ScopeRelation &relation : correlation.outer->relations)
      for (const ScopeColumn &column : relation.columns)
        if (column.index == c && !found)
          found = &column;
    schema.push_back({found->name, found->type, found->nullable});
  }
  // Filled in by the enclosing query (bindFrom): Distinct(its FROM row's `columns`).
  correlation.domain = makeNode(plan::NodeKind::Distinct, schema, loc, {});
  std::vector<ExprPtr> conditions;
  for (ExprPtr &residual : correlation.residuals) {
    ir::walkExpr(*residual, [&](ir::Expr &e) {
      if (e.op == ExprOp::Column && e.column >= kOuterColumn)
        e.column = width + static_cast<int32_t>(
                               std::find(columns.begin(), columns.end(), e.column - kOuterColumn) -
                               columns.begin());
    });
    conditions.push_back(std::move(residual));
  }
  correlation.residuals.clear();
  FromItem left{input, {}}, right{correlation.domain, {}};
  left.scope.width = width;
  right.scope.width = static_cast<int32_t>(schema.size());
  plan::NodePtr joined = makeJoin(left, right, std::move(conditions), loc);
  // Aggregated per domain value too, and matched with the enclosing row's values.
  for (size_t i = 0; i < columns.size(); ++i) {
    correlation.inner_keys.push_back(
        ir::makeColumn(width + static_cast<int32_t>(i), schema[i].type, schema[i].nullable));
    correlation.outer_keys.push_back(
        ir::makeColumn(columns[i], schema[i].type, schema[i].nullable));
  }
  return joined;
}

bool Binder::takeCorrelation(const ast::Expr &conjunct, ExprPtr &predicate) {
  auto reads = [](const ir::Expr &e, bool outer) {
    std::set<int32_t> columns = ir::columnsRead(e);
    return std::any_of(columns.begin(), columns.end(),
                       [&](int32_t c) { return (c >= kOuterColumn) == outer; });
  };
  if (!reads(*predicate, true))
    return true;
  std::vector<ExprPtr> parts, kept;
  splitConjuncts(std::move(predicate), parts);
  for (ExprPtr &part : parts) {
    if (!reads(*part, true)) {
      kept.push_back(std::move(part));
      continue;
    }
    int outer_side = -1;
    if (part->op == ExprOp::Eq) {
      for (int side = 0; side < 2; ++side) {
        const ir::Expr &mine = *part->args[static_cast<size_t>(1 - side)];
        const ir::Expr &theirs = *part->args[static_cast<size_t>(side)];
        if (reads(theirs, true) && !reads(theirs, false) && reads(mine, false) &&
            !reads(mine, true))
          outer_side = side;
      }
    }
    if (outer_side < 0) {
      if (correlation_->scalar) {
        // Joined with the outer values' domain (joinDomain), which then equals the enclosing
        // row's values: only a condition that is not TRUE where one of them is NULL can take
        // that join's place (a NULL never equals the domain's NULL).
        if (!nullRejecting(*part)) {
          error(conjunct.range, "this condition on the outer query's columns is not supported "
                                "yet in a scalar subquery")
              .hint = "compare the subquery's columns with the outer query's (=, <, <=, >, >=, "
                      "<>), in conditions ANDed in its WHERE";
          return false;
        }
        correlation_->residuals.push_back(std::move(part));
        continue;
      }
      // Evaluated in the join with the enclosing row (correlatedSemiJoin).
      for (int32_t c : ir::columnsRead(*part))
        if (c < kOuterColumn &&
            std::find(correlation_->residual_columns.begin(), correlation_->residual_columns.end(),
                      c) == correlation_->residual_columns.end())
          correlation_->residual_columns.push_back(c);
      correlation_->residuals.push_back(std::move(part));
      continue;
    }
    ExprPtr outer = std::move(part->args[static_cast<size_t>(outer_side)]);
    ExprPtr inner = std::move(part->args[static_cast<size_t>(1 - outer_side)]);
    shiftColumns(*outer, -kOuterColumn);
    correlation_->inner_keys.push_back(std::move(inner));
    correlation_->outer_keys.push_back(std::move(outer));
  }
  predicate = conjunction(std::move(kept));
  return true;
}

// A subquery that refers to the enclosing query, unnested into a join on its conditions:
// - `EXISTS`: the input rows that meet a subquery row; `NOT EXISTS`, the input minus those. A
//   NULL key matches nothing, as `inner = NULL` is never TRUE.
// - `x IN`: the same with `x` equal to the subquery's value among the conditions.
plan::NodePtr Binder::correlatedSemiJoin(const FromItem &input, const ast::Expr &sublink,
                                         bool negated, plan::NodePtr sub,
                                         Correlation &correlation) {
  ir::Location loc = location(sublink.range);
  int32_t width = input.scope.width;
  int32_t keys = static_cast<int32_t>(correlation.inner_keys.size());
  int32_t residual_columns = static_cast<int32_t>(correlation.residual_columns.size());
  int32_t values = static_cast<int32_t>(sub->schema.size()) - keys - residual_columns;
  bool in = sublink.sublink == ast::SublinkKind::In;
  if (in && values != 1) {
    error(sublink.subquery->range,
          values > 1 ? "subquery has too many columns" : "subquery has too few columns")
        .hint = "an IN subquery selects exactly one column";
    return nullptr;
  }
  if (in && negated) {
    if (correlation.residuals.empty())
      return correlatedNotIn(input, sublink, sub, correlation);
    error(sublink.range, "NOT IN over a subquery correlated otherwise than by equalities is not "
                         "supported yet")
        .hint = "use NOT EXISTS with the conditions in the subquery's WHERE (it also treats NULLs "
                "as most queries mean)";
    return nullptr;
  }
  // With equalities only, the join meets the subquery's distinct rows of what it compares
  // ([value,] keys), so each input row matches once. Conditions beyond equalities need the
  // subquery's rows themselves (with the columns those conditions read); the input rows that
  // meet at least one are then the semi-join (rowsHeldBy). Without equalities the join is a
  // product of the two.
  bool by_keys = correlation.residuals.empty();
  int32_t first = by_keys && !in ? values : 0; // the right side's first column, of sub's
  plan::NodePtr right_plan = sub;
  if (by_keys) {
    plan::NodePtr compared =
        projectColumns(sub, first, static_cast<int32_t>(sub->schema.size()) - first, loc);
    right_plan = makeNode(plan::NodeKind::Distinct, compared->schema, loc, {compared});
  }
  auto subColumn = [&](int32_t c) { // column c of sub, in the join's row
    const ir::Column &column = sub->schema[static_cast<size_t>(c)];
    return ir::makeColumn(width + c - first, column.type, column.nullable);
  };
  std::vector<ExprPtr> conjuncts;
  if (in) {
    Bound x = bindExpr(*sublink.args[0], input.scope);
    if (!x)
      return nullptr;
    Bound equal = comparison(ExprOp::Eq, std::move(x), Bound{subColumn(0), false}, sublink.range);
    if (!equal)
      return nullptr;
    conjuncts.push_back(std::move(equal.expr));
  }
  for (int32_t k = 0; k < keys; ++k) {
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(correlation.outer_keys[static_cast<size_t>(k)]));
    operands.push_back(subColumn(values + k));
    conjuncts.push_back(ir::makeCall(ExprOp::Eq, Type::boolean(), std::move(operands), loc));
  }
  for (ExprPtr &residual : correlation.residuals) {
    joinedResidual(*residual, correlation.residual_columns, width + values + keys);
    conjuncts.push_back(std::move(residual));
  }
  FromItem left{input.plan, input.scope};
  FromItem right{right_plan, {}};
  right.scope.width = static_cast<int32_t>(right_plan->schema.size());
  plan::NodePtr join = makeJoin(left, right, std::move(conjuncts), loc);
  plan::NodePtr matched = projectColumns(join, 0, width, loc);
  if (!by_keys)
    matched = rowsHeldBy(input.plan, matched, loc);
  return negated ? without(input.plan, matched, loc) : matched;
}

// `x NOT IN (subquery)`, the subquery correlated by equalities with the row's keys: TRUE when the
// subquery has no rows for the key, and otherwise when x is not NULL and none of the key's values
// is x or NULL. So: the rows with a non-NULL x, less those whose key has x among its values, less
// those whose key has a NULL value; and the rows with a NULL x whose key has no rows. Each part is
// a semi-join with the subquery's distinct [value,] keys, maintained as any join.
plan::NodePtr Binder::correlatedNotIn(const FromItem &input, const ast::Expr &sublink,
                                      const plan::NodePtr &sub, Correlation &correlation) {
  ir::Location loc = location(sublink.range);
  int32_t width = input.scope.width;
  auto keys = static_cast<int32_t>(correlation.inner_keys.size());
  Bound x = bindExpr(*sublink.args[0], input.scope);
  if (!x)
    return nullptr;
  ExprPtr x_value = x.expr->clone();
  auto nullTest = [&](ExprOp op, const plan::NodePtr &rows) {
    plan::NodePtr filter = makeNode(plan::NodeKind::Filter, rows->schema, loc, {rows});
    std::vector<ExprPtr> operands;
    operands.push_back(x_value->clone());
    filter->predicate = ir::makeCall(op, Type::boolean(), std::move(operands), loc);
    filter->predicate->nullable = false;
    return filter;
  };
  // The rows of `rows` (the input's columns) whose keys (and x, when `with_value`) meet a row of
  // `compared` (sub's distinct [value,] keys).
  auto semi = [&](const plan::NodePtr &rows, const plan::NodePtr &compared,
                  bool with_value) -> plan::NodePtr {
    std::vector<ExprPtr> conjuncts;
    int32_t first = with_value ? 1 : 0;
    if (with_value) {
      const ir::Column &value = compared->schema[0];
      Bound equal = comparison(ExprOp::Eq, Bound{x_value->clone(), x.unknown},
                               Bound{ir::makeColumn(width, value.type, value.nullable),
                                     value.type.kind == TypeKind::Null},
                               sublink.range);
      if (!equal)
        return nullptr;
      conjuncts.push_back(std::move(equal.expr));
    }
    for (int32_t k = 0; k < keys; ++k) {
      const ir::Column &key = compared->schema[static_cast<size_t>(first + k)];
      std::vector<ExprPtr> operands;
      operands.push_back(correlation.outer_keys[static_cast<size_t>(k)]->clone());
      operands.push_back(ir::makeColumn(width + first + k, key.type, key.nullable));
      conjuncts.push_back(ir::makeCall(ExprOp::Eq, Type::boolean(), std::move(operands), loc));
    }
    FromItem left{rows, input.scope};
    FromItem right{compared, {}};
    right.scope.width = static_cast<int32_t>(compared->schema.size());
    return projectColumns(makeJoin(left, right, std::move(conjuncts), loc), 0, width, loc);
  };
  auto distinct = [&](const plan::NodePtr &rows) {
    return makeNode(plan::NodeKind::Distinct, rows->schema, loc, {rows});
  };
  plan::NodePtr all_columns = distinct(sub);                               // [value, keys...]
  plan::NodePtr key_columns = distinct(projectColumns(sub, 1, keys, loc)); // [keys...]
  plan::NodePtr null_values = makeNode(plan::NodeKind::Filter, sub->schema, loc, {sub});
  {
    std::vector<ExprPtr> operands;
    operands.push_back(ir::makeColumn(0, sub->schema[0].type, sub->schema[0].nullable));
    null_values->predicate =
        ir::makeCall(ExprOp::IsNull, Type::boolean(), std::move(operands), loc);
    null_values->predicate->nullable = false;
  }
  plan::NodePtr null_keys = distinct(projectColumns(null_values, 1, keys, loc));

  plan::NodePtr with_x = nullTest(ExprOp::IsNotNull, input.plan);
  plan::NodePtr found = semi(with_x, all_columns, true);
  if (!found)
    return nullptr;
  plan::NodePtr not_found = without(with_x, found, loc);
  plan::NodePtr kept = without(not_found, semi(not_found, null_keys, false), loc);
  plan::NodePtr without_x = nullTest(ExprOp::IsNull, input.plan);
  plan::NodePtr no_rows = without(without_x, semi(without_x, key_columns, false), loc);
  return makeNode(plan::NodeKind::UnionAll, input.plan->schema, loc, {kept, no_rows});
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
  Correlation correlation;
  correlation.outer = &input.scope;
  correlation.stmt = sublink.subquery.get();
  correlation.exists = sublink.sublink == ast::SublinkKind::Exists;
  plan::NodePtr sub = bindCorrelated(correlation);
  if (!sub)
    return nullptr;
  if (!correlation.inner_keys.empty() || !correlation.residuals.empty())
    return correlatedSemiJoin(input, sublink, negated, sub, correlation);
  int32_t width = input.scope.width;
  auto column = [](int32_t index, const ir::Column &c) {
    return ir::makeColumn(index, c.type, c.nullable);
  };
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
  auto inputColumns = [&](plan::NodePtr join) { return projectColumns(join, 0, width, loc); };
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
  if (!x)
    return nullptr;
  ExprPtr x_copy = x.expr->clone();
  const ir::Column &value = sub->schema[0];
  Bound equal =
      comparison(ExprOp::Eq, std::move(x),
                 Bound{column(width, value), value.type.kind == TypeKind::Null}, sublink.range);
  if (!equal)
    return nullptr;
  FromItem left{input.plan, input.scope};
  FromItem right{makeNode(plan::NodeKind::Distinct, sub->schema, loc, {sub}), {}};
  right.scope.width = 1;
  std::vector<ExprPtr> conjuncts;
  conjuncts.push_back(std::move(equal.expr));
  plan::NodePtr matched = inputColumns(makeJoin(left, right, std::move(conjuncts), loc));
  if (!negated)
    return matched;

  // NOT IN: the unmatched rows, kept if the subquery is empty, or else if x is not NULL and the
  // subquery has no NULL.
  plan::NodePtr unmatched = without(input.plan, matched, loc);
  return withStatistics(
      unmatched,
      {{ir::AggKind::CountStar, -1, Type::int64(), "count"},
       {ir::AggKind::Count, 0, Type::int64(), "non_null"}},
      [&](int32_t count) {
        ExprPtr empty = call(ExprOp::Eq, Type::boolean(),
                             ir::makeColumn(count, Type::int64(), false), int64(0));
        ExprPtr no_nulls =
            call(ExprOp::Eq, Type::boolean(), ir::makeColumn(count, Type::int64(), false),
                 ir::makeColumn(count + 1, Type::int64(), false));
        ExprPtr x_present = ir::makeCall(
            ExprOp::IsNotNull, Type::boolean(),
            [&] {
              std::vector<ExprPtr> operand;
              operand.push_back(x_copy->clone());
              return operand;
            }(),
            loc);
        ExprPtr kept =
            call(ExprOp::And, Type::boolean(), std::move(x_present), std::move(no_nulls));
        return call(ExprOp::Or, Type::boolean(), std::move(empty), std::move(kept));
      });
}

// A LATERAL subquery: bound as a correlated subquery over the items before it (`outer`), whose
// WHERE equalities with their columns become its keys (and the key of its aggregates' groups or
// of its LIMIT), its other conditions on them residuals evaluated in the join (Neumann and
// Kemper's unnesting, as the other correlated subqueries are). Uncorrelated, it is a subquery.
std::optional<Binder::FromItem> Binder::bindLateralSubquery(const ast::TableRef &ref,
                                                            const Scope &outer, Lateral &pending) {
  Correlation correlation;
  correlation.outer = &outer;
  correlation.stmt = ref.subquery.get();
  correlation.lateral = true;
  plan::NodePtr plan = bindCorrelated(correlation);
  if (!plan)
    return std::nullopt;
  size_t carried = correlation.inner_keys.size() + correlation.residual_columns.size();
  size_t visible = plan->schema.size() - carried;
  if (ref.column_aliases.size() > visible) {
    error(ref.range, "table \"" + ref.alias + "\" has " + std::to_string(visible) +
                         " columns available but " + std::to_string(ref.column_aliases.size()) +
                         " columns specified");
    return std::nullopt;
  }
  FromItem item;
  ScopeRelation relation;
  relation.alias = ref.alias;
  relation.names = {ref.alias};
  for (size_t i = 0; i < visible; ++i) {
    const ir::Column &column = plan->schema[i];
    relation.columns.push_back({i < ref.column_aliases.size() ? ref.column_aliases[i] : column.name,
                                column.type, column.nullable, static_cast<int32_t>(i)});
  }
  item.scope.relations.push_back(std::move(relation));
  item.scope.width = static_cast<int32_t>(visible);
  if (correlation.inner_keys.empty() && correlation.residuals.empty()) {
    item.plan = plan;
    return item;
  }
  auto sub = std::make_shared<LateralSubquery>();
  sub->plan = plan;
  sub->visible = visible;
  sub->outer_keys = std::move(correlation.outer_keys);
  sub->one_row = correlation.one_row;
  sub->count_columns = correlation.count_columns;
  sub->residuals = std::move(correlation.residuals);
  sub->residual_columns = correlation.residual_columns;
  pending.subquery = std::move(sub);
  return item;
}

plan::NodePtr Binder::joinLateralSubquery(FromItem &left, const LateralSubquery &sub,
                                          bool keep_left, ExprPtr on) {
  ir::Location loc = sub.plan->loc;
  auto width = static_cast<int32_t>(left.plan->schema.size());
  FromItem right{sub.plan, {}};
  right.scope.width = static_cast<int32_t>(sub.plan->schema.size());
  std::vector<ExprPtr> conjuncts;
  for (size_t k = 0; k < sub.outer_keys.size(); ++k) {
    const ir::Column &key = sub.plan->schema[sub.visible + k];
    std::vector<ExprPtr> sides;
    sides.push_back(sub.outer_keys[k]->clone());
    sides.push_back(
        ir::makeColumn(width + static_cast<int32_t>(sub.visible + k), key.type, key.nullable));
    conjuncts.push_back(ir::makeCall(ExprOp::Eq, Type::boolean(), std::move(sides), loc));
  }
  for (const ExprPtr &residual : sub.residuals) {
    ExprPtr condition = residual->clone();
    joinedResidual(*condition, sub.residual_columns,
                   width + static_cast<int32_t>(sub.visible + sub.outer_keys.size()));
    conjuncts.push_back(std::move(condition));
  }
  // One row per enclosing row (aggregates without GROUP BY): a key without rows has the
  // aggregates over no rows, its counts 0; the condition then keeps or pads that one row.
  if (sub.one_row) {
    plan::NodePtr joined = makeOuterJoin(left, right, std::move(conjuncts), true, false, loc);
    ir::Schema schema(joined->schema.begin(), joined->schema.begin() + width + sub.visible);
    plan::NodePtr project = makeNode(plan::NodeKind::Project, {}, loc, {joined});
    for (size_t c = 0; c < schema.size(); ++c) {
      ExprPtr value = ir::makeColumn(static_cast<int32_t>(c), schema[c].type, schema[c].nullable);
      bool count = c >= static_cast<size_t>(width) &&
                   std::count(sub.count_columns.begin(), sub.count_columns.end(),
                              c - static_cast<size_t>(width)) > 0;
      if (count) {
        ir::Value zero;
        zero.is_null = false;
        std::vector<ExprPtr> operands;
        operands.push_back(std::move(value));
        operands.push_back(ir::makeLiteral(zero, schema[c].type));
        value = ir::makeCall(ExprOp::Coalesce, schema[c].type, std::move(operands), loc);
        value->nullable = false;
        schema[c].nullable = false;
      }
      project->exprs.push_back(std::move(value));
    }
    project->schema = schema;
    if (!on)
      return project;
    // LEFT JOIN LATERAL ... ON: where the condition does not hold, that row's columns are NULL.
    plan::NodePtr padded = makeNode(plan::NodeKind::Project, schema, loc, {project});
    for (size_t c = 0; c < schema.size(); ++c) {
      ExprPtr value = ir::makeColumn(static_cast<int32_t>(c), schema[c].type, schema[c].nullable);
      if (c >= static_cast<size_t>(width)) {
        ir::Value null;
        ExprPtr e = ir::makeCall(ExprOp::Case, schema[c].type, {}, loc);
        e->args.push_back(on->clone());
        e->args.push_back(std::move(value));
        e->args.push_back(ir::makeLiteral(null, schema[c].type));
        value = std::move(e);
        padded->schema[c].nullable = true;
      }
      padded->exprs.push_back(std::move(value));
    }
    return padded;
  }
  if (on)
    splitConjuncts(std::move(on), conjuncts);
  plan::NodePtr joined = keep_left
                             ? makeOuterJoin(left, right, std::move(conjuncts), true, false, loc)
                             : makeJoin(left, right, std::move(conjuncts), loc);
  return projectColumns(joined, 0, width + static_cast<int32_t>(sub.visible), loc);
}

} // namespace kiln::binder
