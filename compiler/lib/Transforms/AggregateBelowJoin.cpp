// aggregate-below-join: aggregates a fact stream before joining it to a dimension (eager group-by,
// Yan and Larson 1995).
//
//   aggregate(map(join(L, R on lk = rk)), group G, aggs)
//     ->  map(join(aggregate(map(L), group lk ++ G_L, aggs'), R on lk' = rk))
//
// when R is unique on its join key, every group key is a column of the join (from R, or one of
// L's join keys, or another L column G_L), and every aggregate is over L's columns alone, or a SUM
// of (L expression) * (R expression). Then each group of the original aggregate is exactly one
// group of L's aggregate joined to its one R row, so the aggregates carry over unchanged, and
// SUM(l * r) = r * SUM(l) because r is the same for every row of the group.
//
// Why: a change to a dimension row (a product's list price) otherwise re-joins every fact row of
// that key (every order line of the product) and feeds them all through the aggregate; after the
// rewrite it meets one pre-aggregated row. A change to a fact row costs about the same as before.

#include "PassDetail.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <optional>
#include <set>

namespace kiln::transforms {

using namespace ir;

namespace {

bool readsOnly(const Expr &e, int32_t begin, int32_t end) {
  std::set<int32_t> columns;
  collectColumns(e, columns);
  return columns.empty() || (*columns.begin() >= begin && *columns.rbegin() < end);
}

ExprPtr shifted(const Expr &e, int32_t delta) {
  return substituteColumns(
      e, [&](const Expr &c) { return makeColumn(c.column + delta, c.type, c.nullable); });
}

class Rewriter {
public:
  explicit Rewriter(Module &module) : module_(module), uses_(countUses(module)) {}

  void run() {
    // Collect first: the rewrite appends ops.
    std::vector<int32_t> aggregates;
    for (const auto &op : module_.ops)
      if (op->kind == OpKind::Aggregate)
        aggregates.push_back(op->id);
    for (int32_t id : aggregates)
      tryRewrite(*module_.find(id));
  }

private:
  // The aggregate's input as expressions over the join row: the map's, or the join's columns.
  struct View {
    const Op *map = nullptr; // null: the aggregate reads the join directly
    const Op *join = nullptr;
    ExprPtr column(int32_t c) const {
      if (map)
        return map->exprs[c]->clone();
      const Column &col = join->schema[c];
      return makeColumn(c, col.type, col.nullable);
    }
  };

  void tryRewrite(Op &aggregate) {
    View view;
    const Op *input = module_.find(aggregate.inputs[0]);
    if (input->kind == OpKind::Map) {
      if (uses_[input->id] != 1)
        return;
      view.map = input;
      input = module_.find(input->inputs[0]);
    }
    if (input->kind != OpKind::Join || uses_[input->id] != 1 || aggregate.group_keys.empty())
      return;
    view.join = input;
    for (int side = 1; side >= 0; --side) // the right side is the usual dimension
      if (tryWithDimension(aggregate, view, side))
        return;
  }

  bool tryWithDimension(Op &aggregate, const View &view, int dim_side) {
    const Op &join = *view.join;
    const Op &fact = *module_.find(join.inputs[1 - dim_side]);
    const Op &dim = *module_.find(join.inputs[dim_side]);
    const std::vector<int32_t> &fact_keys = dim_side == 1 ? join.left_keys : join.right_keys;
    const std::vector<int32_t> &dim_keys = dim_side == 1 ? join.right_keys : join.left_keys;
    std::optional<std::set<int32_t>> unique = uniqueColumns(module_, dim.id);
    // A one-row dimension (unique on no column) has no key to group by.
    if (!unique || unique->empty())
      return false;
    for (int32_t c : *unique)
      if (std::find(dim_keys.begin(), dim_keys.end(), c) == dim_keys.end())
        return false;

    // Column ranges of the join row.
    int32_t left_width = static_cast<int32_t>(module_.find(join.inputs[0])->schema.size());
    int32_t fact_begin = dim_side == 1 ? 0 : left_width;
    int32_t fact_end = fact_begin + static_cast<int32_t>(fact.schema.size());
    int32_t dim_begin = dim_side == 1 ? left_width : 0;
    int32_t dim_end = dim_begin + static_cast<int32_t>(dim.schema.size());
    auto isFact = [&](const Expr &e) { return readsOnly(e, fact_begin, fact_end); };
    auto isDim = [&](const Expr &e) { return readsOnly(e, dim_begin, dim_end); };

    // The pre-aggregation's group: the fact's join keys, then the fact columns the group reads.
    std::vector<int32_t> pre_group(fact_keys.begin(), fact_keys.end()); // fact columns
    struct GroupKey {
      bool from_dim;
      int32_t column; // dim column, or index into pre_group
    };
    std::vector<GroupKey> group;
    for (int32_t g : aggregate.group_keys) {
      ExprPtr e = view.column(g);
      if (e->op != ExprOp::Column)
        return false;
      int32_t c = e->column;
      if (c >= dim_begin && c < dim_end) {
        group.push_back({true, c - dim_begin});
        continue;
      }
      int32_t f = c - fact_begin;
      auto at = std::find(pre_group.begin(), pre_group.end(), f);
      if (at == pre_group.end())
        at = pre_group.insert(pre_group.end(), f);
      group.push_back({false, static_cast<int32_t>(at - pre_group.begin())});
    }
    // Each join key must be grouped on, from either side: then a group is one fact key's rows.
    for (size_t k = 0; k < fact_keys.size(); ++k) {
      bool grouped = false;
      for (int32_t g : aggregate.group_keys) {
        ExprPtr e = view.column(g);
        grouped |= e->column == fact_begin + fact_keys[k] || e->column == dim_begin + dim_keys[k];
      }
      if (!grouped)
        return false;
    }

    // Aggregates: over fact columns as they are, or SUM(fact * dim) as dim * SUM(fact).
    struct Plan {
      AggCall pre;
      ExprPtr pre_arg;    // over the fact row; null for count(*)
      ExprPtr dim_factor; // over the dim row; null when the aggregate carries over as is
    };
    std::vector<Plan> plans;
    for (const AggCall &agg : aggregate.aggregates) {
      Plan plan{agg, nullptr, nullptr};
      if (joinsEntries(agg.kind)) // its order reads more columns: left above the join
        return false;
      if (agg.arg >= 0) {
        ExprPtr arg = view.column(agg.arg);
        if (isFact(*arg)) {
          plan.pre_arg = shifted(*arg, -fact_begin);
        } else if (agg.kind == AggKind::Sum && arg->op == ExprOp::Mul && arg->args.size() == 2) {
          int fact_arg = isFact(*arg->args[0]) && isDim(*arg->args[1])   ? 0
                         : isFact(*arg->args[1]) && isDim(*arg->args[0]) ? 1
                                                                         : -1;
          if (fact_arg < 0)
            return false;
          const Expr &f = *arg->args[fact_arg];
          const Expr &d = *arg->args[1 - fact_arg];
          // Exact only in NUMERIC: the scale of dim * SUM(fact) is the scale of the sum's rows.
          if (f.type.kind != TypeKind::Numeric || d.type.kind != TypeKind::Numeric ||
              agg.type.kind != TypeKind::Numeric || agg.type.scale != f.type.scale + d.type.scale)
            return false;
          plan.pre_arg = shifted(f, -fact_begin);
          plan.pre.type = Type::numeric(kMaxNumericPrecision, f.type.scale);
          plan.dim_factor = shifted(d, -dim_begin);
        } else {
          return false;
        }
      }
      plans.push_back(std::move(plan));
    }

    // Build: map(fact) -> aggregate -> join(dim) -> map, in place of the aggregate.
    int32_t next_id = module_.nextId();
    auto pre_map = std::make_unique<Op>(OpKind::Map);
    pre_map->id = next_id++;
    pre_map->inputs = {fact.id};
    pre_map->loc = aggregate.loc;
    for (int32_t c : pre_group) {
      pre_map->exprs.push_back(makeColumn(c, fact.schema[c].type, fact.schema[c].nullable));
      pre_map->schema.push_back(fact.schema[c]);
    }
    auto pre = std::make_unique<Op>(OpKind::Aggregate);
    pre->id = next_id++;
    pre->inputs = {pre_map->id};
    pre->loc = aggregate.loc;
    for (size_t k = 0; k < pre_group.size(); ++k)
      pre->group_keys.push_back(static_cast<int32_t>(k));
    for (Plan &plan : plans) {
      AggCall call = plan.pre;
      if (plan.pre_arg) {
        call.arg = static_cast<int32_t>(pre_map->exprs.size());
        pre_map->schema.push_back(
            {"arg" + std::to_string(call.arg), plan.pre_arg->type, plan.pre_arg->nullable});
        pre_map->exprs.push_back(std::move(plan.pre_arg));
      }
      pre->aggregates.push_back(call);
    }
    for (size_t k = 0; k < pre_group.size(); ++k)
      pre->schema.push_back(pre_map->schema[k]);
    for (const AggCall &call : pre->aggregates)
      pre->schema.push_back({call.name, call.type, aggregateNullable(*pre, call, pre_map->schema)});

    auto new_join = std::make_unique<Op>(OpKind::Join);
    new_join->id = next_id++;
    new_join->loc = join.loc;
    new_join->inputs = {pre->id, dim.id};
    for (size_t k = 0; k < fact_keys.size(); ++k) {
      new_join->left_keys.push_back(static_cast<int32_t>(k));
      new_join->right_keys.push_back(dim_keys[k]);
    }
    new_join->schema = pre->schema;
    new_join->schema.insert(new_join->schema.end(), dim.schema.begin(), dim.schema.end());
    int32_t dim_offset = static_cast<int32_t>(pre->schema.size());
    int32_t aggs_offset = static_cast<int32_t>(pre_group.size());

    auto result = std::make_unique<Op>(OpKind::Map);
    result->id = next_id++;
    result->loc = aggregate.loc;
    result->inputs = {new_join->id};
    result->schema = aggregate.schema;
    const Schema &joined = new_join->schema;
    for (const GroupKey &g : group) {
      int32_t c = g.from_dim ? dim_offset + g.column : g.column;
      result->exprs.push_back(makeColumn(c, joined[c].type, joined[c].nullable));
    }
    for (size_t a = 0; a < plans.size(); ++a) {
      int32_t c = aggs_offset + static_cast<int32_t>(a);
      ExprPtr value = makeColumn(c, joined[c].type, joined[c].nullable);
      if (plans[a].dim_factor) {
        std::vector<ExprPtr> operands;
        operands.push_back(shifted(*plans[a].dim_factor, dim_offset));
        operands.push_back(std::move(value));
        value =
            makeCall(ExprOp::Mul, aggregate.aggregates[a].type, std::move(operands), aggregate.loc);
      }
      result->exprs.push_back(std::move(value));
    }
    // The original's NOT NULL columns must stay provably NOT NULL.
    for (size_t c = 0; c < result->exprs.size(); ++c)
      if (result->exprs[c]->nullable && !result->schema[c].nullable)
        return false;

    // In place of the aggregate, so that its users still come after what they read.
    auto at = std::find_if(module_.ops.begin(), module_.ops.end(),
                           [&](const auto &op) { return op->id == aggregate.id; });
    int32_t old_id = aggregate.id, new_id = result->id;
    std::vector<std::unique_ptr<Op>> built;
    built.push_back(std::move(pre_map));
    built.push_back(std::move(pre));
    built.push_back(std::move(new_join));
    built.push_back(std::move(result));
    module_.ops.insert(at, std::make_move_iterator(built.begin()),
                       std::make_move_iterator(built.end()));
    replaceAllUses(module_, old_id, new_id);
    // The old aggregate, its map and the join are now dead; dce removes them.
    return true;
  }

  Module &module_;
  std::unordered_map<int32_t, int> uses_;
};

} // namespace

void aggregateBelowJoin(Module &module) {
  Rewriter(module).run();
  eliminateDeadOps(module);
}

} // namespace kiln::transforms
