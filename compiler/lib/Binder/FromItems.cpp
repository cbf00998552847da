// FROM: named relations (CTEs, models, source tables), subqueries in FROM, inner, cross and outer
// (LEFT, RIGHT, FULL) joins with ON, USING or NATURAL, and comma-separated lists. The WHERE
// conditions are bound over the whole FROM row and each one is placed at the first join where its
// columns are available: conditions on one item filter it, two-sided equalities become join keys,
// and comma joins follow the equalities (joinOrder). Subqueries in WHERE are bound here too, by
// Subqueries.cpp.
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

void shiftColumns(Expr &expr, int32_t delta) {
  ir::walkExpr(expr, [&](Expr &e) {
    if (e.op == ExprOp::Column)
      e.column += delta;
  });
}

namespace {

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

// The columns [first, first + count) of `input`, projected.
plan::NodePtr projectColumns(const plan::NodePtr &input, int32_t first, int32_t count,
                             const ir::Location &loc) {
  ir::Schema schema(input->schema.begin() + first, input->schema.begin() + first + count);
  plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, loc, {input});
  for (int32_t c = 0; c < count; ++c)
    project->exprs.push_back(ir::makeColumn(first + c, schema[c].type, schema[c].nullable));
  return project;
}

namespace {

// Keys that compare whole rows of `schema` with NULL equal to NULL (as DISTINCT and EXCEPT do): a
// column that may be NULL becomes two keys, whether it is NULL and its value with NULL as zero, so
// that the join, where a NULL key matches nothing, still matches it.
std::vector<ExprPtr> nullSafeRowKeys(const ir::Schema &schema, const ir::Location &loc) {
  std::vector<ExprPtr> keys;
  for (int32_t c = 0; c < static_cast<int32_t>(schema.size()); ++c) {
    const ir::Column &column = schema[static_cast<size_t>(c)];
    if (!column.nullable) {
      keys.push_back(ir::makeColumn(c, column.type, false));
      continue;
    }
    std::vector<ExprPtr> operand;
    operand.push_back(ir::makeColumn(c, column.type, true));
    keys.push_back(ir::makeCall(ExprOp::IsNull, Type::boolean(), std::move(operand), loc));
    ir::Value zero;
    zero.is_null = false;
    std::vector<ExprPtr> operands;
    operands.push_back(ir::makeColumn(c, column.type, true));
    operands.push_back(ir::makeLiteral(zero, column.type));
    keys.push_back(ir::makeCall(ExprOp::Coalesce, column.type, std::move(operands), loc));
  }
  return keys;
}

plan::NodePtr makeEquiJoin(plan::NodePtr left, plan::NodePtr right, std::vector<ExprPtr> left_keys,
                           std::vector<ExprPtr> right_keys, const ir::Location &loc) {
  ir::Schema schema = left->schema;
  schema.insert(schema.end(), right->schema.begin(), right->schema.end());
  plan::NodePtr join = makeNode(plan::NodeKind::Join, schema, loc, {left, right});
  join->left_keys = std::move(left_keys);
  join->right_keys = std::move(right_keys);
  return join;
}

} // namespace

plan::NodePtr rowsHeldBy(const plan::NodePtr &input, const plan::NodePtr &rows,
                         const ir::Location &loc) {
  plan::NodePtr distinct_rows = makeNode(plan::NodeKind::Distinct, rows->schema, loc, {rows});
  ir::Schema schema = input->schema;
  for (size_t c = 0; c < schema.size(); ++c)
    schema[c].nullable = schema[c].nullable || rows->schema[c].nullable;
  plan::NodePtr join = makeEquiJoin(input, distinct_rows, nullSafeRowKeys(schema, loc),
                                    nullSafeRowKeys(schema, loc), loc);
  return projectColumns(join, 0, static_cast<int32_t>(input->schema.size()), loc);
}

plan::NodePtr without(const plan::NodePtr &input, const plan::NodePtr &part,
                      const ir::Location &loc) {
  plan::NodePtr negated = makeNode(plan::NodeKind::Negate, part->schema, loc, {part});
  return makeNode(plan::NodeKind::UnionAll, input->schema, loc, {input, negated});
}

// Outer joins are composed of inner joins, as DBSP composes them: the inner join of the two sides,
// plus, for each preserved side, its rows that match nothing, padded with NULLs. A side's
// unmatched rows are the side minus its matched rows (a semi-join: each row once, however many
// rows of the other side it matches), so a row's NULL-padded form is retracted when its first
// match arrives and comes back when its last match goes; every part is maintained incrementally.
// - With equality keys only, a row matches if the other side has its key: the semi-join meets
//   the side's rows with the other side's distinct keys.
// - Otherwise (a condition over both sides beyond equalities, or no equality), a row matches if
//   the inner join holds it: the semi-join meets the side's rows with the distinct rows of that
//   side in the inner join, comparing whole rows with NULL equal to NULL.
// Conditions on one side only restrict which rows match, as the inner join's filters of that
// side; a preserved side's rows that fail them are unmatched, not dropped.
plan::NodePtr Binder::makeOuterJoin(FromItem &left, FromItem &right, std::vector<ExprPtr> conjuncts,
                                    bool keep_left, bool keep_right, ir::Location loc) {
  const plan::NodePtr sides[2] = {left.plan, right.plan};
  const int32_t widths[2] = {left.scope.width, right.scope.width};
  plan::NodePtr inner = makeJoin(left, right, std::move(conjuncts), loc);
  bool by_keys = !inner->predicate && !inner->left_keys.empty();
  auto unmatched = [&](int side) {
    int32_t width = widths[side], first = side == 0 ? 0 : widths[0];
    plan::NodePtr matched;
    if (by_keys) {
      const std::vector<ExprPtr> &own = side == 0 ? inner->left_keys : inner->right_keys;
      const std::vector<ExprPtr> &other = side == 0 ? inner->right_keys : inner->left_keys;
      const plan::NodePtr &other_input = inner->inputs[static_cast<size_t>(1 - side)];
      ir::Schema key_schema;
      plan::NodePtr keys = makeNode(plan::NodeKind::Project, {}, loc, {other_input});
      for (const ExprPtr &key : other) {
        key_schema.push_back({"key" + std::to_string(key_schema.size()), key->type, key->nullable});
        keys->exprs.push_back(key->clone());
      }
      keys->schema = key_schema;
      plan::NodePtr distinct_keys = makeNode(plan::NodeKind::Distinct, key_schema, loc, {keys});
      std::vector<ExprPtr> own_keys, key_columns;
      for (size_t k = 0; k < own.size(); ++k) {
        own_keys.push_back(own[k]->clone());
        key_columns.push_back(
            ir::makeColumn(static_cast<int32_t>(k), key_schema[k].type, key_schema[k].nullable));
      }
      // The side's rows that pass its own conditions (the inner join's input) and have a key
      // the other side has.
      matched = projectColumns(makeEquiJoin(inner->inputs[static_cast<size_t>(side)], distinct_keys,
                                            std::move(own_keys), std::move(key_columns), loc),
                               0, width, loc);
    } else {
      matched = rowsHeldBy(sides[side], projectColumns(inner, first, width, loc), loc);
    }
    return without(sides[side], matched, loc);
  };
  ir::Schema schema = inner->schema;
  for (int32_t c = 0; c < widths[0] + widths[1]; ++c)
    if (c < widths[0] ? keep_right : keep_left)
      schema[static_cast<size_t>(c)].nullable = true;
  std::vector<plan::NodePtr> parts = {inner};
  for (int side = 0; side < 2; ++side) {
    if (!(side == 0 ? keep_left : keep_right))
      continue;
    // The unmatched rows with NULL for every column of the other side.
    plan::NodePtr rows = unmatched(side);
    plan::NodePtr padded = makeNode(plan::NodeKind::Project, schema, loc, {rows});
    int32_t first = side == 0 ? 0 : widths[0];
    for (int32_t c = 0; c < widths[0] + widths[1]; ++c) {
      const ir::Column &column = schema[static_cast<size_t>(c)];
      if (c >= first && c < first + widths[side])
        padded->exprs.push_back(ir::makeColumn(
            c - first, column.type, rows->schema[static_cast<size_t>(c - first)].nullable));
      else
        padded->exprs.push_back(ir::makeLiteral(ir::Value{}, column.type));
    }
    parts.push_back(padded);
  }
  return makeNode(plan::NodeKind::UnionAll, schema, loc, std::move(parts));
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
    if (ref.lateral) { // (nothing before it to read)
      Lateral pending;
      return bindLateralSubquery(ref, Scope{}, pending);
    }
    plan::NodePtr sub = bindSelect(*ref.subquery);
    if (!sub)
      return std::nullopt;
    item.plan = sub;
    makeScope(sub->schema, ref.alias, {ref.alias});
    return item;
  }
  case ast::TableRef::Kind::Function: {
    plan::NodePtr pending; // (an empty scope: nothing to read)
    return bindFunctionItem(ref, Scope{}, pending);
  }
  case ast::TableRef::Kind::Join: {
    bool keep_left = ref.join_kind == ast::JoinKind::Left || ref.join_kind == ast::JoinKind::Full;
    bool keep_right = ref.join_kind == ast::JoinKind::Right || ref.join_kind == ast::JoinKind::Full;
    std::optional<FromItem> left = bindTableRef(*ref.left);
    if (!left)
      return std::nullopt;
    std::optional<FromItem> right;
    Lateral pending;
    if (ref.right->kind == ast::TableRef::Kind::Function)
      right = bindFunctionItem(*ref.right, left->scope, pending.unnest);
    else if (ref.right->kind == ast::TableRef::Kind::Subquery && ref.right->lateral)
      right = bindLateralSubquery(*ref.right, left->scope, pending);
    else
      right = bindTableRef(*ref.right);
    if (right && pending)
      return bindLateralJoin(ref, std::move(*left), std::move(*right), pending);
    if (!right)
      return std::nullopt;
    std::vector<std::string> using_columns = ref.using_columns;
    if (ref.natural) {
      // The columns both sides have, in the left side's order.
      for (const ScopeRelation &l : left->scope.relations)
        for (const ScopeColumn &lc : l.columns) {
          if (lc.hidden)
            continue;
          for (const ScopeRelation &r : right->scope.relations)
            for (const ScopeColumn &rc : r.columns)
              if (!rc.hidden && rc.name == lc.name &&
                  std::find(using_columns.begin(), using_columns.end(), lc.name) ==
                      using_columns.end())
                using_columns.push_back(lc.name);
        }
    }
    FromItem combined = concatScopes(*left, *right);
    // The side an outer join pads with NULLs: its columns may be NULL above the join.
    for (size_t r = 0; r < combined.scope.relations.size(); ++r) {
      bool from_left = r < left->scope.relations.size();
      if (from_left ? keep_right : keep_left)
        for (ScopeColumn &column : combined.scope.relations[r].columns)
          column.nullable = true;
    }
    std::vector<ExprPtr> conjuncts;
    // FULL JOIN USING: each merged column is COALESCE(left, right), computed past the joined row.
    std::vector<std::pair<ScopeColumn, std::pair<Bound, Bound>>> merged;
    if (ref.on) {
      ExprPtr on = bindCondition(*ref.on, combined.scope, "JOIN/ON");
      if (!on)
        return std::nullopt;
      splitConjuncts(std::move(on), conjuncts);
    }
    for (const std::string &name : using_columns) {
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
      if (keep_left && keep_right) {
        ScopeColumn column{name, l->type, true, 0};
        // Either side is NULL-padded in a FULL join.
        merged.emplace_back(
            column, std::make_pair(Bound{ir::makeColumn(l->index, l->type, true), false},
                                   Bound{ir::makeColumn(b.expr->column, r->type, true), false}));
        for (ScopeRelation &relation : combined.scope.relations)
          for (ScopeColumn &c : relation.columns)
            if (c.name == name && (c.index == l->index || c.index == b.expr->column))
              c.hidden = true;
      }
      Bound eq = comparison(ExprOp::Eq, std::move(a), std::move(b), ref.range);
      if (!eq)
        return std::nullopt;
      conjuncts.push_back(std::move(eq.expr));
      if (keep_left && keep_right)
        continue;
      // The merged column is found unqualified on one side only: the preserved one (a RIGHT
      // JOIN's right side), whose value it always has.
      int32_t hidden_index = keep_right ? l->index : r->index + left->scope.width;
      for (ScopeRelation &relation : combined.scope.relations)
        for (ScopeColumn &column : relation.columns)
          if (column.name == name && column.index == hidden_index)
            column.hidden = true;
    }
    if (keep_left || keep_right)
      combined.plan = makeOuterJoin(*left, *right, std::move(conjuncts), keep_left, keep_right,
                                    location(ref.range));
    else
      combined.plan = makeJoin(*left, *right, std::move(conjuncts), location(ref.range));
    if (!merged.empty()) {
      // The merged columns come first in `*` and unqualified, as PostgreSQL's join alias has
      // them; the sides' own stay reachable qualified.
      ir::Location loc = location(ref.range);
      plan::NodePtr project =
          makeNode(plan::NodeKind::Project, combined.plan->schema, loc, {combined.plan});
      for (size_t c = 0; c < combined.plan->schema.size(); ++c)
        project->exprs.push_back(ir::makeColumn(static_cast<int32_t>(c),
                                                combined.plan->schema[c].type,
                                                combined.plan->schema[c].nullable));
      ScopeRelation relation;
      for (auto &[column, sides] : merged) {
        std::vector<Bound *> operands{&sides.first, &sides.second};
        std::optional<Type> type = commonType(operands, ref.range, "JOIN/USING");
        if (!type)
          return std::nullopt;
        std::vector<ExprPtr> args;
        args.push_back(coerce(std::move(sides.first), *type, ref.range));
        args.push_back(coerce(std::move(sides.second), *type, ref.range));
        if (!args[0] || !args[1])
          return std::nullopt;
        bool nullable = true; // (a side's NULL key has no match: its row is padded)
        ExprPtr value = ir::makeCall(ExprOp::Coalesce, *type, std::move(args), loc);
        value->nullable = nullable;
        column.type = *type;
        column.nullable = nullable;
        column.index = static_cast<int32_t>(project->schema.size());
        project->schema.push_back({column.name, *type, nullable});
        project->exprs.push_back(std::move(value));
        relation.columns.push_back(column);
      }
      combined.plan = project;
      combined.scope.width = static_cast<int32_t>(project->schema.size());
      combined.scope.relations.insert(combined.scope.relations.begin(), std::move(relation));
    }
    return combined;
  }
  }
  return std::nullopt;
}

void findScalarSubqueries(const ast::Expr &e, std::vector<const ast::Expr *> &out) {
  if (e.kind == ast::ExprKind::Subquery &&
      (e.sublink == ast::SublinkKind::Scalar || e.sublink == ast::SublinkKind::Exists ||
       e.sublink == ast::SublinkKind::In || e.sublink == ast::SublinkKind::Any ||
       e.sublink == ast::SublinkKind::All)) {
    out.push_back(&e);
    return;
  }
  for (const ast::ExprPtr &arg : e.args)
    if (arg)
      findScalarSubqueries(*arg, out);
  if (e.case_operand)
    findScalarSubqueries(*e.case_operand, out);
  if (e.case_else)
    findScalarSubqueries(*e.case_else, out);
}

std::vector<const ast::Expr *> selectListScalarSubqueries(const ast::SelectStmt &stmt) {
  std::vector<const ast::Expr *> scalars;
  bool aggregated = !stmt.group_by.empty() || stmt.having;
  for (const ast::SelectItem &item : stmt.targets)
    aggregated |= item.expr && containsAggregate(*item.expr);
  if (!aggregated)
    for (const ast::SelectItem &item : stmt.targets)
      if (item.expr)
        findScalarSubqueries(*item.expr, scalars);
  return scalars;
}

std::optional<Binder::FromItem> Binder::bindFrom(const ast::SelectStmt &stmt,
                                                 std::vector<ExprPtr> &where) {
  std::vector<FromItem> items;
  std::vector<std::pair<const ast::Expr *, bool>> semi_joins; // (subquery, under NOT)
  std::vector<const ast::Expr *> scalars;                     // scalar subqueries in WHERE
  std::vector<plan::NodePtr> scalar_plans;
  std::vector<std::vector<ExprPtr>> scalar_keys; // of correlated scalar subqueries: outer keys
  std::vector<bool> scalar_zero; // a correlated count: 0 for a row whose key has no rows
  // A subquery correlated beyond equalities: its outer values' domain, to fill in, and the columns
  // of the FROM row it is made of (Correlation::domain).
  std::vector<std::pair<plan::NodePtr, std::vector<int32_t>>> scalar_domains;
  // A function (implicitly LATERAL) or a LATERAL subquery reading the columns of the items before
  // it is joined with their join, in FROM order: lateral[i] holds it.
  std::vector<Lateral> lateral;
  Scope before;
  for (const auto &ref : stmt.from) {
    Lateral pending;
    std::optional<FromItem> item = ref->kind == ast::TableRef::Kind::Function
                                       ? bindFunctionItem(*ref, before, pending.unnest)
                                   : ref->kind == ast::TableRef::Kind::Subquery && ref->lateral
                                       ? bindLateralSubquery(*ref, before, pending)
                                       : bindTableRef(*ref);
    if (!item)
      return std::nullopt;
    before = concatScopes(FromItem{nullptr, before}, *item).scope;
    items.push_back(std::move(*item));
    lateral.push_back(pending);
  }
  bool any_lateral = std::any_of(lateral.begin(), lateral.end(),
                                 [](const Lateral &l) { return static_cast<bool>(l); });
  // SELECT without FROM reads one row of no columns that names can reach: a constant row of one
  // hidden column (rows of no columns would carry only a weight).
  if (stmt.from.empty()) {
    ir::Column column;
    column.name = "?row?";
    column.type = Type::boolean();
    column.nullable = false;
    plan::NodePtr row = makeNode(plan::NodeKind::Values, {column}, location(stmt.range), {});
    ir::Value true_value;
    true_value.is_null = false;
    true_value.b = true;
    row->exprs.push_back(ir::makeLiteral(true_value, Type::boolean()));
    ScopeRelation relation;
    relation.columns.push_back({column.name, column.type, false, 0, /*hidden=*/true});
    items.push_back(FromItem{row, Scope{{relation}, 1}});
    lateral.emplace_back();
  }
  // Bind WHERE over the whole FROM row, then place each conjunct at the first join where all
  // its columns are available: single-item conditions filter that item, two-sided equalities
  // become join keys.
  Scope all;
  for (const FromItem &item : items) {
    FromItem shifted = concatScopes(FromItem{nullptr, all}, item);
    all = shifted.scope;
  }
  if (stmt.where && containsAggregate(*stmt.where)) {
    error(stmt.where->range, "aggregate functions are not allowed in WHERE").hint =
        "use HAVING to filter on aggregates";
    return std::nullopt;
  }
  // Scalar subqueries in WHERE, and in the select list of a query without aggregates: each is
  // one row (per key, correlated), joined to the FROM row after its items, and its value is a
  // column past the FROM row's end.
  // (A top-level `[NOT] EXISTS` conjunct is a semi-join instead, below.)
  auto isSemiJoin = [](const ast::Expr &e) {
    return e.kind == ast::ExprKind::Subquery &&
           (e.sublink == ast::SublinkKind::In || e.sublink == ast::SublinkKind::Exists);
  };
  std::vector<const ast::Expr *> where_conjuncts;
  if (stmt.where && stmt.where->kind == ast::ExprKind::Binary && stmt.where->op == "AND") {
    for (const auto &arg : stmt.where->args)
      where_conjuncts.push_back(arg.get());
  } else if (stmt.where) {
    where_conjuncts.push_back(stmt.where.get());
  }
  for (const ast::Expr *c : where_conjuncts)
    if (!isSemiJoin(*c) &&
        !(c->kind == ast::ExprKind::Unary && c->op == "NOT" && isSemiJoin(*c->args[0])))
      findScalarSubqueries(*c, scalars);
  size_t where_scalars = scalars.size();
  for (const ast::Expr *scalar : selectListScalarSubqueries(stmt))
    scalars.push_back(scalar);
  if (stmt.where || !scalars.empty()) {
    for (const ast::Expr *scalar : scalars) {
      std::vector<ScalarJoin> joins;
      if (scalar->sublink == ast::SublinkKind::In || scalar->sublink == ast::SublinkKind::Any ||
          scalar->sublink == ast::SublinkKind::All) {
        std::optional<std::vector<ScalarJoin>> compared =
            scalar->sublink == ast::SublinkKind::In ? bindInSubquery(*scalar, all)
                                                    : bindQuantifiedSubquery(*scalar, all);
        if (!compared)
          return std::nullopt;
        joins = std::move(*compared);
      } else {
        ScalarJoin join;
        join.value = bindScalarSubquery(*scalar, all, join.outer_keys, join.zero_if_empty,
                                        join.domain, join.domain_columns);
        if (!join.value)
          return std::nullopt;
        joins.push_back(std::move(join));
      }
      // The expression reads the first join's column (and IN, ANY and ALL the next ones too).
      for (size_t j = 0; j < joins.size(); ++j) {
        ScalarJoin &join = joins[j];
        int32_t index = all.width + static_cast<int32_t>(scalar_plans.size());
        ir::Column column = join.value->schema[0];
        if (!join.outer_keys.empty() && !join.zero_if_empty)
          column.nullable = true; // NULL for a row whose key the subquery has no rows of
        if (j == 0)
          scalar_columns_[scalar] = {index, column};
        scalar_domains.emplace_back(join.domain, std::move(join.domain_columns));
        scalar_zero.push_back(join.zero_if_empty);
        scalar_plans.push_back(join.value);
        scalar_keys.push_back(std::move(join.outer_keys));
      }
    }
  }
  if (stmt.where) {
    // Top-level conjuncts `[NOT] x IN (subquery)` and `[NOT] EXISTS (subquery)` become joins after
    // the FROM items are joined (see semiJoin); the others are bound here.
    for (const ast::Expr *c : where_conjuncts) {
      if (isSemiJoin(*c)) {
        semi_joins.push_back({c, false});
        continue;
      }
      if (c->kind == ast::ExprKind::Unary && c->op == "NOT" && isSemiJoin(*c->args[0])) {
        semi_joins.push_back({c->args[0].get(), true});
        continue;
      }
      bool correlated = correlation_ && correlation_->stmt == &stmt;
      if (correlated)
        correlation_->in_where = true;
      ExprPtr predicate = bindCondition(*c, all, "WHERE");
      if (correlated)
        correlation_->in_where = false;
      if (!predicate)
        return std::nullopt;
      if (correlated && !takeCorrelation(*c, predicate))
        return std::nullopt;
      if (predicate)
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
  if (any_lateral) // a lateral function reads the FROM row as far as it: keep FROM order
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
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
    plan::NodePtr join = lateral[i]
                             ? joinLateral(acc, lateral[i], false, conjunction(std::move(now)))
                             : makeJoin(acc, right, std::move(now), acc.plan->loc);
    acc = concatScopes(std::move(acc), right);
    acc.plan = join;
  }
  if (reordered) {
    // The FROM items' columns only: the scalar subqueries' values are joined after this.
    ir::Schema schema(item_of.size());
    for (size_t c = 0; c < item_of.size(); ++c)
      schema[c] = acc.plan->schema[joined_column[c]];
    plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, acc.plan->loc, {acc.plan});
    for (size_t c = 0; c < item_of.size(); ++c)
      project->exprs.push_back(
          ir::makeColumn(joined_column[c], schema[c].type, schema[c].nullable));
    acc.plan = project;
    acc.scope = all;
    // The conditions left for the caller (they read scalar subqueries' values) go back to FROM
    // order too: TPC-H Q2 compared the wrong column before.
    std::vector<int32_t> from_column(joined_column.size());
    for (size_t c = 0; c < joined_column.size(); ++c)
      from_column[static_cast<size_t>(joined_column[c])] = static_cast<int32_t>(c);
    for (ExprPtr &c : where)
      remapColumns(*c, from_column);
  }
  for (auto [sublink, negated] : semi_joins) {
    acc.plan = semiJoin(acc, *sublink, negated);
    if (!acc.plan)
      return std::nullopt;
  }
  for (size_t s = 0; s < scalar_plans.size(); ++s) {
    const plan::NodePtr &value = scalar_plans[s];
    if (auto &[domain, columns] = scalar_domains[s]; domain) {
      // The subquery's outer values: the distinct values of those columns of this FROM row.
      plan::NodePtr project =
          makeNode(plan::NodeKind::Project, domain->schema, domain->loc, {acc.plan});
      for (size_t i = 0; i < columns.size(); ++i)
        project->exprs.push_back(
            ir::makeColumn(columns[i], domain->schema[i].type, domain->schema[i].nullable));
      domain->inputs = {project};
    }
    FromItem right{value, {}};
    right.scope.width = static_cast<int32_t>(value->schema.size());
    if (scalar_keys[s].empty()) {
      acc.plan = makeJoin(acc, right, {}, value->loc); // keyless: one row joins every row
      continue;
    }
    // Correlated: each row meets its key's value, or NULL if the subquery has no rows for it (a
    // left join on the keys), and the keys go again. The row so far: the FROM row and the values
    // of the scalar subqueries before this one.
    int32_t width = static_cast<int32_t>(acc.plan->schema.size());
    FromItem left{acc.plan, acc.scope};
    left.scope.width = width;
    std::vector<ExprPtr> conjuncts;
    for (size_t k = 0; k < scalar_keys[s].size(); ++k) {
      const ir::Column &key = value->schema[k + 1];
      std::vector<ExprPtr> operands;
      operands.push_back(std::move(scalar_keys[s][k]));
      operands.push_back(
          ir::makeColumn(width + 1 + static_cast<int32_t>(k), key.type, key.nullable));
      conjuncts.push_back(
          ir::makeCall(ExprOp::Eq, Type::boolean(), std::move(operands), value->loc));
    }
    plan::NodePtr joined =
        makeOuterJoin(left, right, std::move(conjuncts), true, false, value->loc);
    ir::Schema schema(joined->schema.begin(), joined->schema.begin() + width + 1);
    plan::NodePtr project = makeNode(plan::NodeKind::Project, schema, value->loc, {joined});
    for (int32_t c = 0; c <= width; ++c)
      project->exprs.push_back(ir::makeColumn(c, schema[static_cast<size_t>(c)].type,
                                              schema[static_cast<size_t>(c)].nullable));
    if (scalar_zero[s]) {
      ir::Value zero;
      zero.is_null = false;
      std::vector<ExprPtr> operands;
      operands.push_back(std::move(project->exprs.back()));
      operands.push_back(ir::makeLiteral(zero, schema.back().type));
      project->exprs.back() =
          ir::makeCall(ExprOp::Coalesce, schema.back().type, std::move(operands), value->loc);
      schema.back().nullable = false;
      project->schema = schema;
    }
    acc.plan = project;
  }
  // The conditions that read them are left in `where`, for the caller's filter over this row;
  // the select list's are the caller's to read and forget (forgetScalarSubqueries).
  for (size_t s = 0; s < where_scalars; ++s)
    scalar_columns_.erase(scalars[s]);
  return acc;
}

} // namespace kiln::binder
