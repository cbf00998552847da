// range-joins: an inner join filtered by comparisons of a left column with a right column
// (`l.price >= r.lo`, `a.t < b.t`, BETWEEN's two halves) becomes a range_join that enforces them
// itself, by range scans of each side's rows kept in order, instead of a join that pairs every row
// of one side with every row of the other (of the same key) and a filter that drops most pairs.
//
// The comparisons leave the filter; what else it tests stays. The filter goes when nothing is
// left, the join then taking its schema: the columns the comparisons read are never NULL in the
// join's output, as the filter's schema may say. Nothing moves when a conjunct left in the filter
// can raise an error: it would no longer run on the pairs the comparisons reject.
#include "PassDetail.h"

#include <unordered_set>

namespace kiln::transforms {

using namespace ir;

namespace {

// `e` as a comparison of a left column with a right column of the same type, if it is one
// (`left_width`: the join's left input's columns come first in its output).
std::optional<RangeCondition> rangeCondition(const Expr &e, int32_t left_width) {
  if (e.op != ExprOp::Lt && e.op != ExprOp::Le && e.op != ExprOp::Gt && e.op != ExprOp::Ge)
    return std::nullopt;
  const Expr &a = *e.args[0], &b = *e.args[1];
  if (a.op != ExprOp::Column || b.op != ExprOp::Column)
    return std::nullopt;
  // The index orders by the values' order keys: NUMERIC columns must agree on the scale (arrays
  // of numbers, jsonb and the rest compare by value whatever their texts).
  bool same = a.type.kind == TypeKind::Numeric && b.type.kind == TypeKind::Numeric
                  ? a.type.scale == b.type.scale
                  : a.type == b.type;
  if (!same)
    return std::nullopt;
  bool a_left = a.column < left_width, b_left = b.column < left_width;
  if (a_left == b_left)
    return std::nullopt;
  if (a_left)
    return RangeCondition{a.column, e.op, b.column - left_width};
  return RangeCondition{b.column, mirroredComparison(e.op), a.column - left_width};
}

} // namespace

void formRangeJoins(Module &module) {
  std::unordered_map<int32_t, int> uses = countUses(module);
  std::unordered_set<int32_t> erased;
  for (const auto &op : module.ops) {
    if (op->kind != OpKind::Filter || erased.count(op->id))
      continue;
    Op *join = module.find(op->inputs[0]);
    if (!join || join->kind != OpKind::Join || uses[join->id] != 1)
      continue;
    int32_t left_width = static_cast<int32_t>(module.find(join->inputs[0])->schema.size());
    std::vector<const Expr *> conjuncts;
    collectConjuncts(*op->predicate, conjuncts);
    std::vector<RangeCondition> ranges;
    std::vector<ExprPtr> rest;
    bool raises = false;
    for (const Expr *conjunct : conjuncts) {
      if (std::optional<RangeCondition> range = rangeCondition(*conjunct, left_width)) {
        ranges.push_back(*range);
      } else {
        raises |= canRaise(*conjunct);
        rest.push_back(conjunct->clone());
      }
    }
    if (ranges.empty() || raises)
      continue;
    join->kind = OpKind::RangeJoin;
    join->ranges = std::move(ranges);
    if (rest.empty()) {
      join->schema = op->schema;
      replaceAllUses(module, op->id, join->id);
      erased.insert(op->id);
      continue;
    }
    Location loc = op->predicate->loc;
    op->predicate = rest.size() == 1 ? std::move(rest[0])
                                     : makeCall(ExprOp::And, Type::boolean(), std::move(rest), loc);
  }
  eraseOps(module, erased);
}

} // namespace kiln::transforms
