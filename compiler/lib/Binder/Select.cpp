// Queries: the entry points, WITH (CTEs, optionally renaming columns), SELECT over FROM with
// WHERE, the select list (stars expanded), GROUP BY (expressions, output names or ordinals) with
// the aggregate's plan and HAVING, DISTINCT; set operations as Z-set arithmetic over distinct
// rows; and constants (bindConstant). Clauses a maintained view cannot have yet (LIMIT, OFFSET,
// VALUES, DISTINCT ON, no FROM) are rejected here.
#include "BinderImpl.h"

#include "kiln/Binder/Literals.h"
#include "kiln/IR/Utils.h"

#include <charconv>

#include <functional>

namespace kiln::binder {

using ir::Expr;
using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

namespace {
// An integer literal's value as a position (GROUP BY 2, ORDER BY 1), or -1 beyond 64 bits.
int64_t integerText(const std::string &text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : -1;
}
} // namespace

bool Binder::rejectUnsupportedClauses(const ast::SelectStmt &stmt) {
  if (stmt.limit && !stmt.offset && correlation_ && correlation_->stmt == &stmt &&
      correlation_->exists && stmt.op == ast::SetOp::None && stmt.values.empty()) {
    // EXISTS (... LIMIT 1): the rows' number does not matter, only whether there are any.
    int saved = quiet_;
    quiet_ = 1; // (a bad LIMIT is reported below)
    std::optional<int64_t> limit = bindRowCount(*stmt.limit, "LIMIT");
    quiet_ = saved;
    if (limit && (*limit >= 1 || *limit == -1)) {
      limited_.insert(&stmt);
      return true;
    }
  }
  if ((stmt.limit || stmt.offset) && correlation_ && correlation_->stmt == &stmt &&
      !correlation_->lateral) { // (a LATERAL subquery's are per key: bindTopK)
    // A scalar subquery's ORDER BY ... LIMIT 1: the first row per key (bindSimpleSelect).
    bool first_row = correlation_->scalar && !correlation_->exists_count && stmt.limit &&
                     !stmt.offset && stmt.op == ast::SetOp::None && stmt.values.empty();
    if (first_row) {
      int saved = quiet_;
      quiet_ = 1; // (a bad LIMIT is reported below)
      std::optional<int64_t> limit = bindRowCount(*stmt.limit, "LIMIT");
      quiet_ = saved;
      first_row = limit == 1;
    }
    if (first_row)
      return true;
    error((stmt.limit ? stmt.limit : stmt.offset)->range,
          "LIMIT and OFFSET in a correlated subquery are not supported yet")
        .hint = "a correlated scalar subquery may take its first row: ORDER BY ... LIMIT 1";
    return false;
  }
  return true;
}

// LIMIT or OFFSET's count: a constant bigint, NULL meaning none (-1 for LIMIT).
std::optional<int64_t> Binder::bindRowCount(const ast::Expr &expr, const char *clause) {
  std::optional<ir::Value> value = bindConstant(expr, Type::int64());
  if (!value)
    return std::nullopt;
  if (value->is_null)
    return std::string_view(clause) == "LIMIT" ? -1 : 0;
  if (value->i < 0) {
    error(expr.range, std::string(clause) + " must not be negative");
    return std::nullopt;
  }
  return value->i;
}

// The statement's (LIMIT, OFFSET): -1 and 0 where it has none.
std::optional<std::pair<int64_t, int64_t>> Binder::bindLimitOffset(const ast::SelectStmt &stmt) {
  std::optional<int64_t> limit = -1, offset = 0;
  if (stmt.limit)
    limit = bindRowCount(*stmt.limit, "LIMIT");
  if (stmt.offset)
    offset = bindRowCount(*stmt.offset, "OFFSET");
  if (!limit || !offset)
    return std::nullopt;
  return std::make_pair(*limit, *offset);
}

// The first `width` columns of `rows`: a query's result without the hidden sort columns.
plan::NodePtr Binder::leadingColumns(plan::NodePtr rows, size_t width, const ir::Location &loc) {
  if (width == rows->schema.size())
    return rows;
  ir::Schema output(rows->schema.begin(), rows->schema.begin() + static_cast<ptrdiff_t>(width));
  plan::NodePtr narrowed = makeNode(plan::NodeKind::Project, output, loc, {rows});
  for (size_t c = 0; c < width; ++c)
    narrowed->exprs.push_back(
        ir::makeColumn(static_cast<int32_t>(c), output[c].type, output[c].nullable));
  return narrowed;
}

// ORDER BY ... LIMIT ... OFFSET over a query's result: a top-k of its rows. The ORDER BY items
// name the result's columns (by name or position) or are expressions over them; the sort keys
// that are not columns are computed into extra columns, which a projection drops again.
plan::NodePtr Binder::bindTopK(const ast::SelectStmt &stmt, plan::NodePtr result) {
  std::optional<std::pair<int64_t, int64_t>> window = bindLimitOffset(stmt);
  if (!window)
    return nullptr;
  // The ORDER BY items bindSimpleSelect computed as hidden columns, and the result without them.
  std::vector<int32_t> hidden;
  if (auto it = hidden_order_.find(&stmt); it != hidden_order_.end())
    hidden = it->second;
  // A correlated LATERAL subquery's rows carry their key (and the columns its other conditions
  // read) last: its LIMIT is per key, and they stay.
  size_t carried = 0, key_count = 0;
  if (correlation_ && correlation_->stmt == &stmt && correlation_->lateral) {
    key_count = correlation_->inner_keys.size();
    carried = key_count + correlation_->residual_columns.size();
    if (carried > key_count) {
      error(stmt.limit ? stmt.limit->range : stmt.offset->range,
            "LIMIT in a LATERAL subquery correlated by conditions other than equalities is not "
            "supported yet")
          .hint = "compare its columns with the outer query's by = in its WHERE";
      return nullptr;
    }
  }
  size_t visible = result->schema.size() - carried -
                   static_cast<size_t>(std::count_if(hidden.begin(), hidden.end(),
                                                     [](int32_t c) { return c >= 0; }));
  ir::Schema output(result->schema.begin(),
                    result->schema.begin() + static_cast<ptrdiff_t>(visible));
  Scope scope;
  ScopeRelation relation;
  for (size_t i = 0; i < output.size(); ++i)
    relation.columns.push_back(
        {output[i].name, output[i].type, output[i].nullable, static_cast<int32_t>(i)});
  scope.relations.push_back(std::move(relation));
  scope.width = static_cast<int32_t>(result->schema.size());
  ir::Schema extended = result->schema;
  std::vector<ExprPtr> extra;
  std::vector<ir::SortKey> keys;
  for (size_t i = 0; i < stmt.order_by.size(); ++i) {
    const ast::SortItem &item = stmt.order_by[i];
    ir::SortKey key;
    key.descending = item.descending;
    key.nulls_first = item.nulls == 0 ? item.descending : item.nulls == 1;
    if (i < hidden.size() && hidden[i] >= 0) {
      key.column = hidden[i];
      keys.push_back(key);
      continue;
    }
    const ast::Expr &e = *item.expr;
    if (e.kind == ast::ExprKind::Literal && e.literal_kind == ast::LiteralKind::Integer) {
      int64_t position = integerText(e.text);
      if (position < 1 || position > static_cast<int64_t>(output.size())) {
        error(e.range, "ORDER BY position " + e.text + " is not in select list");
        return nullptr;
      }
      key.column = static_cast<int32_t>(position - 1);
      keys.push_back(key);
      continue;
    }
    // Set operations and DISTINCT or aggregate queries sort by their result's columns.
    bool readable = true;
    std::function<void(const ast::Expr &)> check = [&](const ast::Expr &x) {
      if (!readable)
        return;
      if (x.kind == ast::ExprKind::ColumnRef) {
        bool found = x.names.size() == 1 &&
                     std::any_of(output.begin(), output.end(),
                                 [&](const ir::Column &c) { return c.name == x.names[0]; });
        if (!found) {
          std::string name = x.names.empty() ? "" : x.names.back();
          for (size_t n = x.names.size() - 1; n-- > 0;)
            name = x.names[n] + "." + name;
          error(x.range, "ORDER BY with LIMIT or OFFSET of a query with " +
                             std::string(stmt.op != ast::SetOp::None ? "UNION, INTERSECT or EXCEPT"
                                         : stmt.distinct             ? "DISTINCT"
                                                                     : "aggregates") +
                             " reads its result: \"" + name + "\" is not one of its columns")
              .hint = "select the value too (a column of the result), and order by its name";
          readable = false;
          return;
        }
      }
      if (x.subquery || containsAggregate(x)) {
        error(x.range, "ORDER BY with LIMIT or OFFSET takes the result's columns and "
                       "expressions of them here")
            .hint = "select the value too, and order by its name";
        readable = false;
        return;
      }
      for (const ast::ExprPtr &arg : x.args)
        if (arg)
          check(*arg);
      if (x.case_operand)
        check(*x.case_operand);
      if (x.case_else)
        check(*x.case_else);
    };
    check(e);
    if (!readable)
      return nullptr;
    Bound bound = bindExpr(e, scope);
    if (!bound)
      return nullptr;
    if (bound.expr->op == ExprOp::Column) {
      key.column = bound.expr->column;
    } else {
      if (bound.unknown)
        bound.expr = coerce(std::move(bound), Type::text(), e.range);
      if (!bound.expr)
        return nullptr;
      key.column = static_cast<int32_t>(extended.size());
      extended.push_back({"?order?", bound.expr->type, bound.expr->nullable});
      extra.push_back(std::move(bound.expr));
    }
    keys.push_back(key);
  }
  ir::Location loc = location(stmt.limit ? stmt.limit->range : stmt.offset->range);
  plan::NodePtr input = result;
  if (!extra.empty()) {
    plan::NodePtr project = makeNode(plan::NodeKind::Project, extended, loc, {result});
    for (size_t c = 0; c < result->schema.size(); ++c)
      project->exprs.push_back(ir::makeColumn(static_cast<int32_t>(c), result->schema[c].type,
                                              result->schema[c].nullable));
    for (ExprPtr &e : extra)
      project->exprs.push_back(std::move(e));
    input = project;
  }
  plan::NodePtr top = makeNode(plan::NodeKind::TopK, extended, loc, {input});
  top->sort_keys = std::move(keys);
  top->limit = window->first;
  top->offset = window->second;
  if (carried == 0)
    return leadingColumns(top, output.size(), loc);
  // Per key; the visible columns, then the carried ones.
  size_t first_carried = result->schema.size() - carried;
  for (size_t k = 0; k < key_count; ++k)
    top->group_keys.push_back(static_cast<int32_t>(first_carried + k));
  std::vector<int32_t> kept(visible);
  for (size_t c = 0; c < visible; ++c)
    kept[c] = static_cast<int32_t>(c);
  for (size_t c = first_carried; c < result->schema.size(); ++c)
    kept.push_back(static_cast<int32_t>(c));
  ir::Schema schema;
  for (int32_t c : kept)
    schema.push_back(extended[static_cast<size_t>(c)]);
  plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, loc, {top});
  for (int32_t c : kept)
    project->exprs.push_back(ir::makeColumn(c, extended[static_cast<size_t>(c)].type,
                                            extended[static_cast<size_t>(c)].nullable));
  return project;
}

// VALUES (...), (...): a constant relation, emitted at the first tick. Its columns are named
// column1, column2, ... and typed as PostgreSQL types them: each column's common type over the
// rows, as UNION resolves it, an all-unknown column ('x', NULL) being text.
plan::NodePtr Binder::bindValues(const ast::SelectStmt &stmt) {
  size_t width = stmt.values[0].size();
  std::vector<std::vector<Bound>> rows;
  const Scope no_columns;
  for (const std::vector<ast::ExprPtr> &row : stmt.values) {
    if (row.size() != width) {
      error(row.empty() ? stmt.range : row[0]->range, "VALUES lists must all be the same length")
          .hint = "the first row has " + std::to_string(width) + " values";
      return nullptr;
    }
    rows.emplace_back();
    for (const ast::ExprPtr &value : row) {
      if (containsAggregate(*value)) {
        error(value->range, "aggregate functions are not allowed in VALUES");
        return nullptr;
      }
      Bound bound = bindExpr(*value, no_columns);
      if (!bound)
        return nullptr;
      rows.back().push_back(std::move(bound));
    }
  }
  ir::Schema schema;
  for (size_t c = 0; c < width; ++c) {
    std::vector<Bound *> column;
    for (std::vector<Bound> &row : rows)
      column.push_back(&row[c]);
    std::optional<Type> type = commonType(column, stmt.range, "VALUES");
    if (!type)
      return nullptr;
    if (type->kind == TypeKind::Null)
      type = Type::text();
    ir::Column out;
    out.name = "column" + std::to_string(c + 1);
    out.type = *type;
    out.nullable = false;
    schema.push_back(out);
  }
  plan::NodePtr values = makeNode(plan::NodeKind::Values, schema, location(stmt.range), {});
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < width; ++c) {
      ExprPtr e = coerce(std::move(rows[r][c]), schema[c].type, stmt.values[r][c]->range);
      if (!e)
        return nullptr;
      values->schema[c].nullable |= e->nullable;
      values->exprs.push_back(std::move(e));
    }
  return values;
}

// GROUPING SETS (ROLLUP, CUBE): one aggregate of `pre` per set, grouped by the set's keys, its
// rows padded with NULL for the keys the set lacks, all added up. Each branch has the layout of
// `all`, the aggregate by every key, so HAVING and the select list read them as they read it.
plan::NodePtr Binder::groupingSets(const plan::NodePtr &all, const plan::NodePtr &pre,
                                   const std::vector<std::vector<size_t>> &sets,
                                   const std::vector<int32_t> &key_of,
                                   const std::vector<bool> &padded,
                                   const std::vector<std::vector<int32_t>> &groupings) {
  size_t nkeys = all->group_keys.size();
  std::vector<plan::NodePtr> branches;
  for (const std::vector<size_t> &set : sets) {
    std::vector<int32_t> keys;
    for (size_t item : set)
      if (std::find(keys.begin(), keys.end(), key_of[item]) == keys.end())
        keys.push_back(key_of[item]);
    plan::NodePtr aggregate = makeNode(plan::NodeKind::Aggregate, {}, all->loc, {pre});
    for (int32_t k : keys) {
      aggregate->group_keys.push_back(k);
      aggregate->schema.push_back(pre->schema[static_cast<size_t>(k)]);
    }
    aggregate->aggregates = all->aggregates;
    aggregate->schema.insert(aggregate->schema.end(), all->schema.begin() + nkeys,
                             all->schema.end());
    plan::NodePtr branch = makeNode(plan::NodeKind::Project, {}, all->loc, {aggregate});
    for (size_t k = 0; k < nkeys; ++k) {
      ir::Column column = all->schema[k];
      auto at = std::find(keys.begin(), keys.end(), static_cast<int32_t>(k));
      if (at == keys.end()) {
        column.nullable = true;
        branch->exprs.push_back(ir::makeLiteral(ir::Value{}, column.type));
      } else {
        branch->exprs.push_back(
            ir::makeColumn(static_cast<int32_t>(at - keys.begin()), column.type, column.nullable));
      }
      branch->schema.push_back(column);
    }
    for (size_t j = nkeys; j < all->schema.size(); ++j) {
      branch->exprs.push_back(ir::makeColumn(static_cast<int32_t>(keys.size() + j - nkeys),
                                             all->schema[j].type, all->schema[j].nullable));
      branch->schema.push_back(all->schema[j]);
    }
    for (const std::vector<int32_t> &grouping : groupings) { // GROUPING(...) of this set
      ir::Value bits;
      bits.is_null = false;
      for (int32_t key : grouping)
        bits.i = bits.i << 1 | (std::find(keys.begin(), keys.end(), key) == keys.end());
      branch->exprs.push_back(ir::makeLiteral(bits, Type::int32()));
      branch->schema.push_back({"grouping", Type::int32(), false});
    }
    branches.push_back(branch);
  }
  if (branches.size() == 1)
    return branches[0];
  ir::Schema schema = branches[0]->schema;
  for (size_t k = 0; k < nkeys; ++k)
    schema[k].nullable |= padded[k];
  return makeNode(plan::NodeKind::UnionAll, schema, all->loc, branches);
}

plan::NodePtr Binder::bindSetOperation(const ast::SelectStmt &stmt) {
  const char *name = stmt.op == ast::SetOp::Union       ? (stmt.all ? "UNION ALL" : "UNION")
                     : stmt.op == ast::SetOp::Intersect ? (stmt.all ? "INTERSECT ALL" : "INTERSECT")
                                                        : (stmt.all ? "EXCEPT ALL" : "EXCEPT");
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
    if (!input)
      return nullptr;
    if (!inputs.empty() && input->schema.size() != inputs[0]->schema.size()) {
      error(branch->range,
            std::string("each ") + name + " query must have the same number of columns")
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
      columns.push_back({ir::makeColumn(static_cast<int32_t>(c), input->schema[c].type,
                                        input->schema[c].nullable),
                         input->schema[c].type.kind == TypeKind::Null});
    std::vector<Bound *> operands;
    for (Bound &b : columns)
      operands.push_back(&b);
    std::optional<Type> common = commonType(operands, stmt.range, name);
    if (!common)
      return nullptr;
    schema[c].type = *common;
    for (const plan::NodePtr &input : inputs)
      schema[c].nullable |= input->schema[c].nullable;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    bool same = true;
    for (size_t c = 0; c < schema.size(); ++c)
      same &= inputs[i]->schema[c].type == schema[c].type;
    if (same)
      continue;
    plan::NodePtr project =
        makeNode(plan::NodeKind::Project, inputs[i]->schema, inputs[i]->loc, {inputs[i]});
    for (size_t c = 0; c < schema.size(); ++c) {
      const ir::Column &column = inputs[i]->schema[c];
      ExprPtr e = castExpr(ir::makeColumn(static_cast<int32_t>(c), column.type, column.nullable),
                           schema[c].type, branches[i]->range);
      if (!e)
        return nullptr;
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
      for (size_t c = 0; c < out.size(); ++c)
        out[c].nullable |= other->schema[c].nullable;
    return makeNode(kind, std::move(out), loc, std::move(in));
  };
  auto distinct = [&](plan::NodePtr in) { return node(plan::NodeKind::Distinct, {std::move(in)}); };
  auto positive = [&](plan::NodePtr in) { return node(plan::NodeKind::Positive, {std::move(in)}); };
  auto minus = [&](plan::NodePtr a, plan::NodePtr b) {
    return node(plan::NodeKind::UnionAll,
                {std::move(a), node(plan::NodeKind::Negate, {std::move(b)})});
  };
  switch (stmt.op) {
  case ast::SetOp::Union: {
    plan::NodePtr sum = node(plan::NodeKind::UnionAll, inputs);
    return stmt.all ? sum : distinct(sum);
  }
  // With ALL, a row's copies count: L EXCEPT ALL R has max(l - r, 0) copies of a row that L has
  // l times and R r times, and L INTERSECT ALL R has min(l, r) = l - max(l - r, 0).
  case ast::SetOp::Except:
    if (stmt.all)
      return positive(minus(inputs[0], inputs[1]));
    return distinct(minus(distinct(inputs[0]), distinct(inputs[1])));
  case ast::SetOp::Intersect: {
    if (stmt.all)
      return minus(inputs[0], positive(minus(inputs[0], inputs[1])));
    plan::NodePtr left = distinct(inputs[0]);
    return minus(left, distinct(minus(left, distinct(inputs[1]))));
  }
  case ast::SetOp::None:
    break;
  }
  return nullptr;
}

plan::NodePtr Binder::bindSelect(const ast::SelectStmt &stmt) {
  if (!rejectUnsupportedClauses(stmt))
    return nullptr;
  // Only the correlated subquery's own SELECT reads the enclosing query's columns.
  struct RestoreCorrelation {
    Correlation *&current;
    Correlation *saved;
    ~RestoreCorrelation() { current = saved; }
  } restore{correlation_, correlation_};
  if (correlation_ && correlation_->stmt != &stmt)
    correlation_ = nullptr;
  ctes_.emplace_back();
  struct PopCtes {
    std::vector<std::map<std::string, std::pair<plan::NodePtr, std::vector<std::string>>>> &ctes;
    ~PopCtes() { ctes.pop_back(); }
  } pop{ctes_};
  for (const ast::CommonTableExpr &cte : stmt.with) {
    plan::NodePtr query = bindSelect(*cte.query);
    if (!query)
      return nullptr;
    if (!cte.column_names.empty()) {
      if (cte.column_names.size() > query->schema.size()) {
        error(cte.range, "WITH query \"" + cte.name + "\" has " +
                             std::to_string(query->schema.size()) + " columns available but " +
                             std::to_string(cte.column_names.size()) + " columns specified");
        return nullptr;
      }
      // WITH name(a, b): an identity projection that renames the columns.
      ir::Schema renamed = query->schema;
      for (size_t i = 0; i < cte.column_names.size(); ++i)
        renamed[i].name = cte.column_names[i];
      plan::NodePtr project = makeNode(plan::NodeKind::Project, renamed, query->loc, {query});
      for (size_t i = 0; i < query->schema.size(); ++i)
        project->exprs.push_back(ir::makeColumn(static_cast<int32_t>(i), query->schema[i].type,
                                                query->schema[i].nullable));
      query = project;
    }
    ctes_.back()[cte.name] = {query, cte.column_names};
  }
  plan::NodePtr result = stmt.op != ast::SetOp::None ? bindSetOperation(stmt)
                         : !stmt.values.empty()      ? bindValues(stmt)
                                                     : bindSimpleSelect(stmt);
  // (DISTINCT ON's and a correlated subquery's first row have their own.)
  if (result && (stmt.limit || stmt.offset) && !stmt.distinct_on && !limited_.count(&stmt))
    return bindTopK(stmt, std::move(result));
  return result; // ORDER BY alone does not change a view's rows
}

plan::NodePtr Binder::bindSimpleSelect(const ast::SelectStmt &stmt) {
  // A subquery has its own select list: the enclosing query's window context is not its own.
  struct RestoreWindows {
    Binder &b;
    WindowContext *saved;
    const char *saved_reason;
    ~RestoreWindows() { b.window_ = saved, b.window_forbidden_ = saved_reason; }
  } restore_windows{*this, window_, window_forbidden_};
  window_ = nullptr;
  window_forbidden_ = nullptr;
  NoSetFunctions own_sets(*this); // (an enclosing select list's are not this one's)
  std::vector<ExprPtr> where;
  std::optional<FromItem> from = bindFrom(stmt, where);
  // The columns of the select list's scalar subqueries (bindFrom) hold until it is bound.
  struct ForgetScalars {
    Binder &binder;
    const ast::SelectStmt &stmt;
    ~ForgetScalars() {
      for (const ast::Expr *scalar : selectListScalarSubqueries(stmt))
        binder.scalar_columns_.erase(scalar);
    }
  } forget{*this, stmt};
  if (!from)
    return nullptr;
  plan::NodePtr input = from->plan;
  if (!where.empty()) {
    plan::NodePtr filter = makeNode(plan::NodeKind::Filter, input->schema, input->loc, {input});
    filter->predicate = conjunction(std::move(where));
    input = filter;
  }
  // A correlated scalar subquery's conditions beyond equalities: joined with the outer values.
  if (correlation_ && correlation_->stmt == &stmt && correlation_->scalar &&
      !correlation_->residuals.empty())
    input = joinDomain(input, static_cast<int32_t>(input->schema.size()), location(stmt.range));
  const Scope &scope = from->scope;

  // Expand the select list (stars) into (expression, name, range) items.
  struct Item {
    const ast::Expr *expr = nullptr; // null for an expanded star column
    const ScopeColumn *column = nullptr;
    std::string name;
    SourceRange range;
  };
  std::vector<Item> items;
  // An EXISTS bound as a count of rows (Correlation::exists_count) selects count(*) instead.
  ast::Expr count_rows(ast::ExprKind::FuncCall, stmt.range);
  count_rows.names = {"count"};
  count_rows.star = true;
  bool counts_rows = correlation_ && correlation_->stmt == &stmt && correlation_->exists_count;
  if (counts_rows)
    items.push_back({&count_rows, nullptr, "count", stmt.range});
  for (const ast::SelectItem &target : stmt.targets) {
    if (counts_rows)
      break;
    const ast::Expr &e = *target.expr;
    if (e.kind == ast::ExprKind::Star) {
      if (stmt.from.empty() && e.names.empty()) {
        error(e.range, "SELECT * with no tables specified is not valid").hint =
            "name the values: select 1 as id, 'a' as name";
        return nullptr;
      }
      bool matched = false;
      for (const ScopeRelation &relation : scope.relations) {
        if (!e.names.empty() && relation.alias != e.names.back())
          continue;
        matched = true;
        for (const ScopeColumn &column : relation.columns)
          if (!column.hidden)
            items.push_back({nullptr, &column, column.name, target.range});
      }
      if (!matched) {
        error(e.range, "missing FROM-clause entry for table \"" + e.names.back() + "\"");
        return nullptr;
      }
      continue;
    }
    std::string name = target.alias;
    if (name.empty()) {
      if (e.kind == ast::ExprKind::ColumnRef)
        name = e.names.back();
      else if (e.kind == ast::ExprKind::FuncCall)
        name = e.names.back();
      else if (e.kind == ast::ExprKind::Cast && e.args[0]->kind == ast::ExprKind::ColumnRef)
        name = e.args[0]->names.back();
      else if (e.kind == ast::ExprKind::Case)
        name = "case";
      else if (e.kind == ast::ExprKind::Coalesce)
        name = "coalesce";
      else
        name = "?column?";
    }
    items.push_back({&e, nullptr, name, target.range});
  }

  bool aggregated = !stmt.group_by.empty() || !stmt.grouping_sets.empty() || stmt.having;
  for (const Item &item : items)
    aggregated |= item.expr && containsAggregate(*item.expr);

  std::vector<ExprPtr> outputs;
  plan::NodePtr body = input;
  size_t body_key_offset = 0;     // a correlated scalar subquery's first key among the group keys
  bool counts = false;            // whether an aggregate is a count
  std::vector<bool> count_column; // of the aggregate's output: whether it is a count
  // Window functions may be called in the select list, DISTINCT ON and ORDER BY (Windows.cpp).
  WindowContext windows;
  SetContext sets;
  sets.node = makeNode(plan::NodeKind::Unnest, {}, location(stmt.range), {});
  if (!aggregated) {
    window_ = &windows;
    sets_ = &sets;
    for (const Item &item : items) {
      if (!item.expr) {
        outputs.push_back(
            ir::makeColumn(item.column->index, item.column->type, item.column->nullable));
        continue;
      }
      Bound bound = bindExpr(*item.expr, scope);
      if (!bound)
        return nullptr;
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), item.range)
                                : std::move(bound.expr);
      if (!e)
        return nullptr;
      outputs.push_back(std::move(e));
    }
  } else {
    AggregateContext agg;
    // GROUP BY items: expressions over the FROM row, output column names, or ordinals. Equal
    // items are one key: key_of maps each item to it.
    std::vector<int32_t> key_of;
    for (const ast::ExprPtr &key : stmt.group_by) {
      const ast::Expr *target = key.get();
      if (key->kind == ast::ExprKind::Literal && key->literal_kind == ast::LiteralKind::Integer) {
        int64_t ordinal = integerText(key->text);
        if (ordinal < 1 || ordinal > static_cast<int64_t>(items.size()) ||
            !items[ordinal - 1].expr) {
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
            if (item.expr && item.name == key->names[0])
              target = item.expr;
      }
      if (containsAggregate(*target)) {
        error(key->range, "aggregate functions are not allowed in GROUP BY");
        return nullptr;
      }
      Bound bound = bindExpr(*target, scope);
      if (!bound)
        return nullptr;
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), key->range)
                                : std::move(bound.expr);
      if (!e)
        return nullptr;
      auto existing = std::find_if(agg.group_exprs.begin(), agg.group_exprs.end(),
                                   [&](const ExprPtr &other) { return ir::sameExpr(*other, *e); });
      key_of.push_back(static_cast<int32_t>(existing - agg.group_exprs.begin()));
      if (existing == agg.group_exprs.end())
        agg.group_exprs.push_back(std::move(e));
    }
    if (!stmt.grouping_sets.empty() && correlation_ && correlation_->stmt == &stmt) {
      error(stmt.group_by.empty() ? stmt.range : stmt.group_by[0]->range,
            "GROUPING SETS, ROLLUP and CUBE in a correlated subquery are not supported yet");
      return nullptr;
    }
    // A key that some grouping set lacks reads as NULL in that set's rows.
    for (size_t k = 0; k < agg.group_exprs.size() && !stmt.grouping_sets.empty(); ++k) {
      bool in_every_set = true;
      for (const std::vector<size_t> &set : stmt.grouping_sets)
        in_every_set &= std::any_of(set.begin(), set.end(), [&](size_t item) {
          return key_of[item] == static_cast<int32_t>(k);
        });
      agg.padded.push_back(!in_every_set);
    }
    // A correlated scalar subquery's aggregates are per key of the enclosing row: its keys are
    // the GROUP BY, after any of its own.
    body_key_offset = agg.group_exprs.size();
    if (correlation_ && correlation_->stmt == &stmt &&
        (correlation_->scalar || correlation_->lateral))
      for (const ExprPtr &key : correlation_->inner_keys)
        agg.group_exprs.push_back(key->clone());
    // Scalar subqueries in HAVING (uncorrelated): one row each, joined to the aggregate's rows
    // before the HAVING filter. While HAVING is bound, the value of the n-th reads as column
    // kHavingScalar + n, renumbered once the aggregate's width is known.
    std::vector<const ast::Expr *> having_scalars;
    std::vector<plan::NodePtr> having_values;
    if (stmt.having)
      findScalarSubqueries(*stmt.having, having_scalars);
    struct ForgetHavingScalars {
      Binder &binder;
      const std::vector<const ast::Expr *> &scalars;
      ~ForgetHavingScalars() {
        for (const ast::Expr *scalar : scalars)
          binder.scalar_columns_.erase(scalar);
      }
    } forget_having{*this, having_scalars};
    for (const ast::Expr *scalar : having_scalars) {
      if (scalar->sublink == ast::SublinkKind::In || scalar->sublink == ast::SublinkKind::Any ||
          scalar->sublink == ast::SublinkKind::All) {
        error(scalar->range, std::string(scalar->sublink == ast::SublinkKind::In    ? "IN"
                                         : scalar->sublink == ast::SublinkKind::Any ? "ANY"
                                                                                    : "ALL") +
                                 " (subquery) in HAVING is not supported yet")
            .hint = "compare with EXISTS, or join the subquery's distinct values in FROM";
        return nullptr;
      }
      std::vector<ExprPtr> outer_keys;
      bool zero_if_empty = false;
      plan::NodePtr domain;
      std::vector<int32_t> domain_columns;
      plan::NodePtr value =
          bindScalarSubquery(*scalar, scope, outer_keys, zero_if_empty, domain, domain_columns);
      if (!value)
        return nullptr;
      if (!outer_keys.empty()) {
        error(scalar->range, "correlated scalar subqueries in HAVING are not supported yet").hint =
            "compute the subquery's aggregate per key in FROM and join it";
        return nullptr;
      }
      scalar_columns_[scalar] = {kHavingScalar + static_cast<int32_t>(having_values.size()),
                                 value->schema[0]};
      having_values.push_back(value);
    }
    agg_ = &agg;
    agg_from_scope_ = &scope;
    struct Reset {
      Binder &b;
      ~Reset() { b.agg_ = nullptr, b.agg_from_scope_ = nullptr; }
    } reset{*this};
    window_ = &windows;
    sets_ = &sets;
    for (const Item &item : items) {
      if (!item.expr) {
        bool found = false;
        for (size_t i = 0; i < agg.group_exprs.size(); ++i) {
          const Expr &g = *agg.group_exprs[i];
          if (g.op == ExprOp::Column && g.column == item.column->index) {
            outputs.push_back(ir::makeColumn(static_cast<int32_t>(i), g.type, agg.keyNullable(i)));
            found = true;
          }
        }
        if (!found) {
          error(item.range,
                "column \"" + item.name +
                    "\" must appear in the GROUP BY clause or be used in an aggregate function");
          return nullptr;
        }
        continue;
      }
      Bound bound = bindExpr(*item.expr, scope);
      if (!bound)
        return nullptr;
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), item.range)
                                : std::move(bound.expr);
      if (!e)
        return nullptr;
      outputs.push_back(std::move(e));
    }
    ExprPtr having;
    window_ = nullptr;
    sets_ = nullptr;
    if (stmt.having) {
      having = bindCondition(*stmt.having, scope, "HAVING");
      if (!having)
        return nullptr;
    }
    // Pre-aggregation projection: [group exprs..., aggregate arguments...].
    plan::NodePtr pre = makeNode(plan::NodeKind::Project, {}, input->loc, {input});
    std::vector<ExprPtr> pre_exprs;
    for (size_t i = 0; i < agg.group_exprs.size(); ++i) {
      const Expr &g = *agg.group_exprs[i];
      std::string name =
          g.op == ExprOp::Column ? input->schema[g.column].name : "key" + std::to_string(i);
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
      bool nullable = call.kind != ir::AggKind::CountStar && call.kind != ir::AggKind::Count &&
                      call.kind != ir::AggKind::CountDistinct;
      aggregate->schema.push_back({call.name, call.type, nullable});
    }
    // GROUPING(...) reads a column of constants past the aggregates (one per grouping set), or,
    // without grouping sets, is 0.
    int32_t grouping_base = static_cast<int32_t>(aggregate->schema.size());
    if (!stmt.grouping_sets.empty())
      aggregate =
          groupingSets(aggregate, pre, stmt.grouping_sets, key_of, agg.padded, agg.groupings);
    auto placeGroupings = [&](Expr &e) {
      if (e.op != ExprOp::Column || e.column < kGroupingColumn || e.column >= kWindowColumn)
        return;
      if (!stmt.grouping_sets.empty()) {
        e.column = grouping_base + (e.column - kGroupingColumn);
        return;
      }
      e.op = ExprOp::Literal;
      e.literal = ir::Value{};
      e.literal.is_null = false;
    };
    for (ExprPtr &output : outputs)
      ir::walkExpr(*output, placeGroupings);
    if (having)
      ir::walkExpr(*having, placeGroupings);
    count_column.assign(agg.group_exprs.size(), false);
    for (const ir::AggCall &call : agg.aggs) {
      bool count = call.kind == ir::AggKind::CountStar || call.kind == ir::AggKind::Count ||
                   call.kind == ir::AggKind::CountDistinct;
      counts |= count;
      count_column.push_back(count);
    }
    body = aggregate;
    if (!having_values.empty()) {
      int32_t width = static_cast<int32_t>(aggregate->schema.size());
      for (const plan::NodePtr &value : having_values) {
        FromItem left{body, {}}, right{value, {}};
        left.scope.width = static_cast<int32_t>(body->schema.size());
        right.scope.width = 1;
        body = makeJoin(left, right, {}, value->loc); // keyless: one row joins every group
      }
      ir::walkExpr(*having, [&](Expr &e) {
        if (e.op == ExprOp::Column && e.column >= kHavingScalar)
          e.column = width + (e.column - kHavingScalar);
      });
    }
    if (having) {
      plan::NodePtr filter =
          makeNode(plan::NodeKind::Filter, body->schema, location(stmt.having->range), {body});
      filter->predicate = std::move(having);
      body = filter;
    }
  }

  sets_ = nullptr; // (DISTINCT ON and ORDER BY may not call them)
  ir::Schema schema;
  for (size_t i = 0; i < items.size(); ++i)
    schema.push_back({items[i].name, outputs[i]->type, outputs[i]->nullable});
  // ORDER BY ... LIMIT of a plain SELECT may sort by input columns and expressions of them that
  // the select list lacks, as in PostgreSQL: they ride along as hidden columns past the result's
  // (bindTopK sorts by them and drops them). An output column's name, alone, is the output's.
  // DISTINCT ON (keys) ORDER BY keys, rest: per group of equal keys, the first row by the rest.
  std::vector<int32_t> on_columns;
  std::vector<ir::SortKey> order_keys;
  size_t visible = schema.size();
  if (stmt.distinct_on) {
    if (correlation_ && correlation_->stmt == &stmt) {
      error(stmt.distinct_on_exprs[0]->range,
            "DISTINCT ON in a correlated subquery is not supported yet")
          .hint = "take DISTINCT ON in a subquery of the outer FROM, and join it";
      return nullptr;
    }
    if (aggregated) {
      error(stmt.distinct_on_exprs[0]->range, "DISTINCT ON in a query with aggregates is not "
                                              "supported yet")
          .hint = "aggregate in a subquery, and take DISTINCT ON over it";
      return nullptr;
    }
    // A position or a name of the select list is that column; anything else an expression of
    // the input, computed into a hidden column (as PostgreSQL resolves them).
    auto resolve = [&](const ast::Expr &e) -> std::optional<int32_t> {
      if (e.kind == ast::ExprKind::Literal && e.literal_kind == ast::LiteralKind::Integer) {
        int64_t position = integerText(e.text);
        if (position < 1 || position > static_cast<int64_t>(visible)) {
          error(e.range, "position " + e.text + " is not in select list");
          return std::nullopt;
        }
        return static_cast<int32_t>(position - 1);
      }
      if (e.kind == ast::ExprKind::ColumnRef && e.names.size() == 1)
        for (size_t i = 0; i < items.size(); ++i)
          if (items[i].name == e.names[0])
            return static_cast<int32_t>(i);
      Bound bound = bindExpr(e, scope);
      if (!bound)
        return std::nullopt;
      ExprPtr value =
          bound.unknown ? coerce(std::move(bound), Type::text(), e.range) : std::move(bound.expr);
      if (!value)
        return std::nullopt;
      for (size_t c = visible; c < outputs.size(); ++c) // the same expression once
        if (ir::sameExpr(*outputs[c], *value))
          return static_cast<int32_t>(c);
      schema.push_back({"?order?", value->type, value->nullable});
      outputs.push_back(std::move(value));
      return static_cast<int32_t>(schema.size() - 1);
    };
    for (const ast::ExprPtr &on : stmt.distinct_on_exprs) {
      std::optional<int32_t> column = resolve(*on);
      if (!column)
        return nullptr;
      on_columns.push_back(*column);
    }
    for (size_t i = 0; i < stmt.order_by.size(); ++i) {
      const ast::SortItem &item = stmt.order_by[i];
      std::optional<int32_t> column = resolve(*item.expr);
      if (!column)
        return nullptr;
      if (i < on_columns.size() &&
          std::find(on_columns.begin(), on_columns.end(), *column) == on_columns.end()) {
        error(stmt.distinct_on_exprs[0]->range,
              "SELECT DISTINCT ON expressions must match initial ORDER BY expressions")
            .hint = "order by the DISTINCT ON expressions first, then by what picks the row";
        return nullptr;
      }
      ir::SortKey key;
      key.column = *column;
      key.descending = item.descending;
      key.nulls_first = item.nulls == 0 ? item.descending : item.nulls == 1;
      order_keys.push_back(key);
    }
  }
  if ((stmt.limit || stmt.offset) && !aggregated && !stmt.distinct && !limited_.count(&stmt)) {
    std::vector<int32_t> &hidden = hidden_order_[&stmt];
    hidden.clear();
    for (const ast::SortItem &order : stmt.order_by) {
      const ast::Expr &e = *order.expr;
      hidden.push_back(-1);
      if (e.kind == ast::ExprKind::Literal && e.literal_kind == ast::LiteralKind::Integer)
        continue;
      if (e.kind == ast::ExprKind::ColumnRef && e.names.size() == 1 &&
          std::any_of(items.begin(), items.end(),
                      [&](const Item &item) { return item.name == e.names[0]; }))
        continue;
      Bound bound = bindExpr(e, scope);
      if (!bound)
        return nullptr;
      ExprPtr sort =
          bound.unknown ? coerce(std::move(bound), Type::text(), e.range) : std::move(bound.expr);
      if (!sort)
        return nullptr;
      hidden.back() = static_cast<int32_t>(schema.size());
      schema.push_back({"?order?", sort->type, sort->nullable});
      outputs.push_back(std::move(sort));
    }
  }
  window_ = nullptr;
  if (!windows.specs.empty()) {
    if (correlation_ && correlation_->stmt == &stmt) {
      error(stmt.range, "window functions in a correlated subquery are not supported yet").hint =
          "compute them in a subquery of the outer FROM, and join it";
      return nullptr;
    }
    window_ = &windows;
    body = bindWindows(body, outputs, location(stmt.range));
    window_ = nullptr;
  }
  if (sets.width > 0) {
    // The set-returning functions: each row of the select list's row once per element, zipped.
    if (correlation_ && correlation_->stmt == &stmt) {
      error(stmt.range, "set-returning functions in a correlated subquery are not supported yet")
          .hint = "call them in the outer query's FROM";
      return nullptr;
    }
    auto base = static_cast<int32_t>(body->schema.size());
    sets.node->inputs = {body};
    finishUnnest(*sets.node, {});
    body = sets.node;
    for (ExprPtr &output : outputs)
      ir::walkExpr(*output, [&](Expr &e) {
        if (e.op == ExprOp::Column && e.column >= kSetColumn && e.column < kGroupingColumn)
          e.column = base + (e.column - kSetColumn);
      });
  }
  if (correlation_ && correlation_->stmt == &stmt &&
      (!correlation_->inner_keys.empty() || !correlation_->residuals.empty())) {
    bool first_row = correlation_->scalar && !aggregated && stmt.limit && !stmt.distinct;
    if (correlation_->lateral && aggregated) {
      // One row per key without a GROUP BY of its own, where PostgreSQL's counts over a key
      // without rows are 0: a column that is a count alone becomes 0 there; an expression of
      // counts would need its value over no rows.
      if (!correlation_->residuals.empty() || stmt.having || !stmt.grouping_sets.empty()) {
        error(stmt.range, "a LATERAL subquery with aggregates is supported correlated by "
                          "equalities only, without HAVING or GROUPING SETS")
            .hint = "compare its columns with the outer query's by = in its WHERE";
        return nullptr;
      }
      correlation_->one_row = stmt.group_by.empty();
      for (size_t i = 0; i < items.size() && correlation_->one_row && counts; ++i) {
        const Expr &output = *outputs[i];
        bool reads_count = false;
        for (int32_t c : ir::columnsRead(output))
          reads_count |= count_column[static_cast<size_t>(c)];
        if (output.op == ExprOp::Column && reads_count) {
          correlation_->count_columns.push_back(i);
        } else if (reads_count) {
          error(items[i].range, "an expression of count() in a correlated LATERAL subquery is "
                                "not supported yet")
              .hint = "select the count alone, and compute with it in the outer query";
          return nullptr;
        }
      }
    } else if (correlation_->lateral) {
      // Its rows, each with its key (and the columns the other conditions read, which would
      // tell rows DISTINCT keeps apart).
      if (stmt.distinct && !correlation_->residuals.empty()) {
        error(stmt.range, "DISTINCT in a LATERAL subquery correlated by conditions other than "
                          "equalities is not supported yet")
            .hint = "compare its columns with the outer query's by = in its WHERE";
        return nullptr;
      }
    } else if (aggregated != correlation_->scalar && !first_row) {
      error(stmt.range, aggregated ? "correlated subqueries with aggregates are not supported yet "
                                     "under EXISTS or IN"
                                   : "a correlated scalar subquery must compute aggregates")
          .hint = correlation_->scalar ? "compute an aggregate, or take the first row with "
                                         "ORDER BY ... LIMIT 1"
                                       : "join the tables in the outer FROM and filter there";
      return nullptr;
    }
    if (counts && !correlation_->lateral) {
      // Unnested, a key without rows has no group, so the value is NULL where PostgreSQL's count
      // over no rows is 0: a value that is the count itself becomes 0 there (zero_if_empty);
      // an expression of counts would need its value over no rows.
      bool just_a_count = items.size() == 1 && outputs[0]->op == ExprOp::Column &&
                          count_column[static_cast<size_t>(outputs[0]->column)];
      if (!just_a_count) {
        error(stmt.range,
              "a correlated scalar subquery computing with count() is not supported yet")
            .hint = "select the count alone, or compare with EXISTS or NOT EXISTS";
        return nullptr;
      }
      correlation_->zero_if_empty = true;
    }
    // The correlated keys, for the join with the enclosing query: the inner key expressions, or
    // the aggregate's group keys they became.
    for (size_t k = 0; k < correlation_->inner_keys.size(); ++k) {
      const ExprPtr &key = correlation_->inner_keys[k];
      schema.push_back({"correlated" + std::to_string(schema.size()), key->type, key->nullable});
      outputs.push_back(aggregated ? ir::makeColumn(static_cast<int32_t>(body_key_offset + k),
                                                    key->type, key->nullable)
                                   : key->clone());
    }
    // The columns the other correlated conditions read (not aggregated: EXISTS and IN only).
    for (int32_t c : correlation_->residual_columns) {
      const ir::Column &column = input->schema[static_cast<size_t>(c)];
      schema.push_back(
          {"correlated" + std::to_string(schema.size()), column.type, column.nullable});
      outputs.push_back(ir::makeColumn(c, column.type, column.nullable));
    }
  }
  plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, location(stmt.range), {body});
  project->exprs = std::move(outputs);
  plan::NodePtr result = project;
  if (correlation_ && correlation_->stmt == &stmt && correlation_->scalar && !aggregated &&
      stmt.limit)
    return firstRowPerKey(stmt, project, visible);
  if (stmt.distinct_on)
    return bindDistinctOn(stmt, project, on_columns, order_keys, visible);
  if (stmt.distinct)
    result = makeNode(plan::NodeKind::Distinct, schema, project->loc, {project});
  return result;
}

// A correlated scalar subquery's ORDER BY ... LIMIT 1 (rejectUnsupportedClauses lets no other
// LIMIT through): per key of the enclosing row, the first row in that order, as a top-1 per
// group of the correlated keys (the last columns of `rows`); then [value, keys...] as
// bindScalarSubquery expects them.
plan::NodePtr Binder::firstRowPerKey(const ast::SelectStmt &stmt, plan::NodePtr rows,
                                     size_t visible) {
  ir::Location loc = location(stmt.limit->range);
  size_t keys = correlation_->inner_keys.size();
  size_t first_key = rows->schema.size() - keys;
  std::vector<int32_t> hidden;
  if (auto it = hidden_order_.find(&stmt); it != hidden_order_.end())
    hidden = it->second;
  plan::NodePtr top = makeNode(plan::NodeKind::TopK, rows->schema, loc, {rows});
  for (size_t k = 0; k < keys; ++k)
    top->group_keys.push_back(static_cast<int32_t>(first_key + k));
  for (size_t i = 0; i < stmt.order_by.size(); ++i) {
    const ast::SortItem &item = stmt.order_by[i];
    ir::SortKey key;
    key.descending = item.descending;
    key.nulls_first = item.nulls == 0 ? item.descending : item.nulls == 1;
    key.column = i < hidden.size() ? hidden[i] : -1;
    const ast::Expr &e = *item.expr;
    if (key.column < 0 && e.kind == ast::ExprKind::Literal &&
        e.literal_kind == ast::LiteralKind::Integer) {
      int64_t position = integerText(e.text);
      if (position < 1 || position > static_cast<int64_t>(visible)) {
        error(e.range, "ORDER BY position " + e.text + " is not in select list");
        return nullptr;
      }
      key.column = static_cast<int32_t>(position - 1);
    }
    for (size_t c = 0; key.column < 0 && c < visible; ++c)
      if (e.kind == ast::ExprKind::ColumnRef && e.names.size() == 1 &&
          rows->schema[c].name == e.names[0])
        key.column = static_cast<int32_t>(c);
    if (key.column < 0) {
      error(e.range, "this ORDER BY item is not supported in a correlated subquery yet");
      return nullptr;
    }
    top->sort_keys.push_back(key);
  }
  top->limit = 1;
  ir::Schema schema;
  schema.push_back(rows->schema[0]);
  schema.insert(schema.end(), rows->schema.begin() + static_cast<ptrdiff_t>(first_key),
                rows->schema.end());
  plan::NodePtr value = makeNode(plan::NodeKind::Project, schema, loc, {top});
  value->exprs.push_back(ir::makeColumn(0, schema[0].type, schema[0].nullable));
  for (size_t k = 0; k < keys; ++k)
    value->exprs.push_back(ir::makeColumn(static_cast<int32_t>(first_key + k), schema[k + 1].type,
                                          schema[k + 1].nullable));
  limited_.insert(&stmt);
  return value;
}

// DISTINCT ON: a top-1 per group of equal DISTINCT ON columns, ordered by the ORDER BY items
// after them; then the statement's own LIMIT/OFFSET over the groups' rows in the whole ORDER BY;
// then the select list without its hidden columns.
plan::NodePtr Binder::bindDistinctOn(const ast::SelectStmt &stmt, plan::NodePtr rows,
                                     const std::vector<int32_t> &on_columns,
                                     const std::vector<ir::SortKey> &order_keys, size_t visible) {
  ir::Location loc = location(stmt.distinct_on_exprs[0]->range);
  plan::NodePtr first = makeNode(plan::NodeKind::TopK, rows->schema, loc, {rows});
  first->group_keys = on_columns;
  first->sort_keys.assign(
      order_keys.begin() + static_cast<ptrdiff_t>(std::min(order_keys.size(), on_columns.size())),
      order_keys.end());
  first->limit = 1;
  plan::NodePtr result = first;
  if (stmt.limit || stmt.offset) {
    std::optional<std::pair<int64_t, int64_t>> window = bindLimitOffset(stmt);
    if (!window)
      return nullptr;
    plan::NodePtr top = makeNode(plan::NodeKind::TopK, rows->schema, loc, {result});
    top->sort_keys = order_keys;
    top->limit = window->first;
    top->offset = window->second;
    result = top;
  }
  return leadingColumns(result, visible, loc);
}

std::optional<ir::Value> Binder::bindConstant(const ast::Expr &expr, const Type &target) {
  Scope empty;
  Bound bound = bindExpr(expr, empty);
  if (!bound)
    return std::nullopt;
  ExprPtr e = coerce(std::move(bound), target, expr.range);
  if (!e)
    return std::nullopt;
  if (e->op == ExprOp::Literal)
    return e->literal;
  // A cast of a literal: evaluate the handful of constant casts sqllogictest data needs.
  if (e->op == ExprOp::Cast && e->args[0]->op == ExprOp::Literal) {
    std::string message;
    std::optional<ir::Value> v =
        castLiteral(e->args[0]->literal, e->args[0]->type, target, message, catalog_.time_zone);
    if (v)
      return v;
    error(expr.range, message);
    return std::nullopt;
  }
  error(expr.range, "expected a constant value");
  return std::nullopt;
}

plan::NodePtr bindQuery(const ast::SelectStmt &query, const Catalog &catalog,
                        const SourceManager &sources, DiagnosticEngine &diags) {
  Binder binder(catalog, sources, diags);
  size_t errors_before = diags.errorCount();
  plan::NodePtr result = binder.bindSelect(query);
  if (diags.errorCount() != errors_before)
    return nullptr;
  return result;
}

std::optional<ir::Value> bindConstant(const ast::Expr &expr, const ir::Type &target,
                                      const SourceManager &sources, DiagnosticEngine &diags,
                                      const std::string &time_zone) {
  Catalog empty;
  empty.time_zone = time_zone;
  Binder binder(empty, sources, diags);
  return binder.bindConstant(expr, target);
}

} // namespace kiln::binder
