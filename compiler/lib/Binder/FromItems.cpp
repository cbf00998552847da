// FROM: named relations (CTEs, models, source tables), subqueries in FROM, inner and cross joins
// with ON or USING, and comma-separated lists. The WHERE conditions are bound over the whole FROM
// row and each one is placed at the first join where its columns are available: conditions on
// one item filter it, two-sided equalities become join keys, and comma joins follow the
// equalities (joinOrder). Subqueries in WHERE are bound here too, by Subqueries.cpp.
#include "BinderImpl.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <functional>
#include <set>

namespace kiln::binder {

using ir::Expr;
using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

plan::NodePtr makeNode(plan::NodeKind kind, ir::Schema schema, ir::Location loc,
                       std::vector<plan::NodePtr> inputs) {
  auto node = std::make_shared<plan::Node>(kind);
  node->schema = std::move(schema);
  node->loc = std::move(loc);
  node->inputs = std::move(inputs);
  return node;
}

void splitConjuncts(ExprPtr expr, std::vector<ExprPtr> &out) {
  if (expr->op == ExprOp::And) {
    for (ExprPtr &arg : expr->args)
      splitConjuncts(std::move(arg), out);
    return;
  }
  out.push_back(std::move(expr));
}

ExprPtr conjunction(std::vector<ExprPtr> conjuncts) {
  if (conjuncts.empty())
    return nullptr;
  if (conjuncts.size() == 1)
    return std::move(conjuncts[0]);
  bool nullable = false;
  for (const ExprPtr &c : conjuncts)
    nullable |= c->nullable;
  ExprPtr result = ir::makeCall(ExprOp::And, Type::boolean(), std::move(conjuncts));
  result->nullable = nullable;
  return result;
}

namespace {

void shiftColumns(Expr &expr, int32_t delta) {
  ir::walkExpr(expr, [&](Expr &e) {
    if (e.op == ExprOp::Column)
      e.column += delta;
  });
}

void remapColumns(Expr &expr, const std::vector<int32_t> &to) {
  ir::walkExpr(expr, [&](Expr &e) {
    if (e.op == ExprOp::Column)
      e.column = to[e.column];
  });
}

// The order in which to join a comma-separated FROM list: FROM order, except that each next item
// is the first one an equality in WHERE connects with the items already joined. Only when no
// equality connects any remaining item does a cross product follow. `item_of` maps each column of
// the FROM row to its item.
std::vector<size_t> joinOrder(size_t item_count, const std::vector<size_t> &item_of,
                              const std::vector<ExprPtr> &where) {
  std::vector<std::set<size_t>> equalities; // the items each equality refers to
  for (const ExprPtr &c : where) {
    if (c->op != ExprOp::Eq)
      continue;
    std::set<int32_t> columns = ir::columnsRead(*c);
    std::set<size_t> items;
    bool from_items_only = true; // not a scalar subquery's column, past the FROM row
    for (int32_t column : columns) {
      if (static_cast<size_t>(column) >= item_of.size())
        from_items_only = false;
      else
        items.insert(item_of[column]);
    }
    if (from_items_only && items.size() >= 2)
      equalities.push_back(std::move(items));
  }
  std::vector<size_t> order = {0};
  std::vector<bool> joined(item_count, false);
  joined[0] = true;
  while (order.size() < item_count) {
    auto connected = [&](size_t candidate) {
      for (const std::set<size_t> &items : equalities) {
        if (!items.count(candidate))
          continue;
        bool reachable = true, touches_joined = false;
        for (size_t item : items) {
          reachable &= item == candidate || joined[item];
          touches_joined |= item != candidate && joined[item];
        }
        if (reachable && touches_joined)
          return true;
      }
      return false;
    };
    size_t next = item_count;
    for (size_t i = 0; i < item_count && next == item_count; ++i)
      if (!joined[i] && connected(i))
        next = i;
    for (size_t i = 0; i < item_count && next == item_count; ++i)
      if (!joined[i])
        next = i;
    joined[next] = true;
    order.push_back(next);
  }
  return order;
}

} // namespace

Binder::FromItem Binder::concatScopes(FromItem left, const FromItem &right) {
  for (ScopeRelation relation : right.scope.relations) {
    for (ScopeColumn &column : relation.columns)
      column.index += left.scope.width;
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
    std::set<int32_t> columns = ir::columnsRead(*conjunct);
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
      for (ExprPtr &side : conjunct->args)
        side = castExpr(std::move(side), key_type, {});
    }
    if (conjunct->op == ExprOp::Eq && conjunct->args[0]->type == conjunct->args[1]->type) {
      std::set<int32_t> a = ir::columnsRead(*conjunct->args[0]);
      std::set<int32_t> b = ir::columnsRead(*conjunct->args[1]);
      auto onlyLeft = [&](const std::set<int32_t> &s) {
        return !s.empty() && *s.rbegin() < left_width;
      };
      auto onlyRight = [&](const std::set<int32_t> &s) {
        return !s.empty() && *s.begin() >= left_width;
      };
      int lhs = -1;
      if (onlyLeft(a) && onlyRight(b))
        lhs = 0;
      if (onlyLeft(b) && onlyRight(a))
        lhs = 1;
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
    if (filters.empty())
      return input;
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
  auto makeScope = [&](const ir::Schema &schema, std::string alias,
                       std::vector<std::string> names) {
    ScopeRelation relation;
    relation.alias = std::move(alias);
    relation.names = std::move(names);
    for (size_t i = 0; i < schema.size(); ++i) {
      std::string name = i < ref.column_aliases.size() ? ref.column_aliases[i] : schema[i].name;
      relation.columns.push_back(
          {name, schema[i].type, schema[i].nullable, static_cast<int32_t>(i)});
    }
    item.scope.relations.push_back(std::move(relation));
    item.scope.width = static_cast<int32_t>(schema.size());
  };
  switch (ref.kind) {
  case ast::TableRef::Kind::Named: {
    if (ref.names.size() == 1) {
      for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
        auto found = it->find(ref.names[0]);
        if (found == it->end())
          continue;
        item.plan = found->second.first;
        makeScope(item.plan->schema, ref.alias.empty() ? ref.names[0] : ref.alias,
                  ref.alias.empty() ? ref.names : std::vector<std::string>{ref.alias});
        return item;
      }
    }
    const Relation *relation = catalog_.find(ref.names);
    if (!relation) {
      std::string full;
      for (const std::string &part : ref.names)
        full += (full.empty() ? "" : ".") + part;
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
    if (!sub)
      return std::nullopt;
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
    if (!left)
      return std::nullopt;
    std::optional<FromItem> right = bindTableRef(*ref.right);
    if (!right)
      return std::nullopt;
    FromItem combined = concatScopes(*left, *right);
    std::vector<ExprPtr> conjuncts;
    if (ref.on) {
      ExprPtr on = bindCondition(*ref.on, combined.scope, "JOIN/ON");
      if (!on)
        return std::nullopt;
      splitConjuncts(std::move(on), conjuncts);
    }
    for (const std::string &name : ref.using_columns) {
      auto findIn = [&](const Scope &scope) -> const ScopeColumn * {
        const ScopeColumn *match = nullptr;
        for (const ScopeRelation &relation : scope.relations)
          for (const ScopeColumn &column : relation.columns)
            if (column.name == name && !column.hidden)
              match = &column;
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
      if (!eq)
        return std::nullopt;
      conjuncts.push_back(std::move(eq.expr));
      // The merged column is found unqualified on the left only.
      for (ScopeRelation &relation : combined.scope.relations)
        for (ScopeColumn &column : relation.columns)
          if (column.name == name && column.index == r->index + left->scope.width)
            column.hidden = true;
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
  std::vector<std::pair<const ast::Expr *, bool>> semi_joins; // (subquery, under NOT)
  std::vector<const ast::Expr *> scalars;                     // scalar subqueries in WHERE
  std::vector<plan::NodePtr> scalar_plans;
  for (const auto &ref : stmt.from) {
    std::optional<FromItem> item = bindTableRef(*ref);
    if (!item)
      return std::nullopt;
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
        if (arg)
          findScalars(*arg);
      if (e.case_operand)
        findScalars(*e.case_operand);
      if (e.case_else)
        findScalars(*e.case_else);
    };
    findScalars(*stmt.where);
    for (const ast::Expr *scalar : scalars) {
      plan::NodePtr value = bindScalarSubquery(*scalar, all);
      if (!value)
        return std::nullopt;
      int32_t index = all.width + static_cast<int32_t>(scalar_plans.size());
      scalar_columns_[scalar] = {index, value->schema[0]};
      scalar_plans.push_back(value);
    }
    // Top-level conjuncts `[NOT] x IN (subquery)` and `[NOT] EXISTS (subquery)` become joins after
    // the FROM items are joined (see semiJoin); the others are bound here.
    std::vector<const ast::Expr *> conjuncts;
    if (stmt.where->kind == ast::ExprKind::Binary && stmt.where->op == "AND") {
      for (const auto &arg : stmt.where->args)
        conjuncts.push_back(arg.get());
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
      if (!predicate)
        return std::nullopt;
      splitConjuncts(std::move(predicate), where);
    }
  }
  if (items.empty())
    return std::nullopt;

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
  for (size_t c = item_of.size(); c < joined_column.size(); ++c)
    joined_column[c] = static_cast<int32_t>(c);
  bool reordered = false;
  {
    std::vector<FromItem> in_order;
    int32_t at = 0;
    for (size_t i : order) {
      reordered |= i != in_order.size();
      for (int32_t c = 0; c < items[i].scope.width; ++c)
        joined_column[from_offsets[i] + c] = at + c;
      at += items[i].scope.width;
      in_order.push_back(std::move(items[i]));
    }
    items = std::move(in_order);
  }
  if (reordered)
    for (ExprPtr &c : where)
      remapColumns(*c, joined_column);

  std::vector<int32_t> offsets;
  int32_t width = 0;
  for (const FromItem &item : items)
    offsets.push_back(width), width += item.scope.width;
  auto maxColumn = [](const Expr &e) {
    std::set<int32_t> columns = ir::columnsRead(e);
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
      plan::NodePtr filter =
          makeNode(plan::NodeKind::Filter, acc.plan->schema, acc.plan->loc, {acc.plan});
      filter->predicate = conjunction(std::move(first));
      acc.plan = filter;
    }
  }
  for (size_t i = 1; i < items.size(); ++i) {
    int32_t end = offsets[i] + items[i].scope.width;
    std::vector<ExprPtr> now, later;
    for (ExprPtr &c : where)
      (maxColumn(*c) < end ? now : later).push_back(std::move(c));
    where = std::move(later);
    FromItem right = std::move(items[i]);
    plan::NodePtr join = makeJoin(acc, right, std::move(now), acc.plan->loc);
    acc = concatScopes(std::move(acc), right);
    acc.plan = join;
  }
  if (reordered) {
    ir::Schema schema(joined_column.size());
    for (size_t c = 0; c < joined_column.size(); ++c)
      schema[c] = acc.plan->schema[joined_column[c]];
    plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, acc.plan->loc, {acc.plan});
    for (size_t c = 0; c < joined_column.size(); ++c)
      project->exprs.push_back(
          ir::makeColumn(joined_column[c], schema[c].type, schema[c].nullable));
    acc.plan = project;
    acc.scope = all;
  }
  for (auto [sublink, negated] : semi_joins) {
    acc.plan = semiJoin(acc, *sublink, negated);
    if (!acc.plan)
      return std::nullopt;
  }
  for (const plan::NodePtr &value : scalar_plans) {
    FromItem right{value, {}};
    right.scope.width = 1;
    acc.plan = makeJoin(acc, right, {}, value->loc); // keyless: one row joins every row
  }
  // The conditions that read them are left in `where`, for the caller's filter over this row.
  for (const ast::Expr *scalar : scalars)
    scalar_columns_.erase(scalar);
  return acc;
}

} // namespace kiln::binder
