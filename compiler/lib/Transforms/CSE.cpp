// cse: the whole project is one dataflow graph, so two models that scan the same source, filter
// it the same way or join the same inputs on the same keys should share that operator (and, for
// stateful ones, its state). Merges operators that are structurally identical (ignoring
// locations) and read the same inputs; merging a pair makes their users' inputs identical, so one
// forward sweep finds whole identical chains. Sinks never merge: each emits its own model.

#include "PassDetail.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <string>

namespace kiln::transforms {

using namespace ir;

namespace {

bool sameExprs(const std::vector<ExprPtr> &a, const std::vector<ExprPtr> &b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const ExprPtr &x, const ExprPtr &y) { return sameExpr(*x, *y); });
}

bool sameAggregates(const std::vector<AggCall> &a, const std::vector<AggCall> &b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const AggCall &x, const AggCall &y) {
    return x.kind == y.kind && x.arg == y.arg && x.type == y.type && x.name == y.name &&
           x.separator == y.separator && x.order == y.order && x.distinct == y.distinct;
  });
}

// Everything but id and location. Names count: they reach the sinks' output columns.
bool sameOp(const Op &a, const Op &b) {
  bool samePredicate = a.predicate && b.predicate ? sameExpr(*a.predicate, *b.predicate)
                                                  : !a.predicate && !b.predicate;
  return a.kind == b.kind && a.inputs == b.inputs && a.name == b.name && a.key == b.key &&
         a.append_only == b.append_only && samePredicate && sameExprs(a.exprs, b.exprs) &&
         a.left_keys == b.left_keys && a.right_keys == b.right_keys && a.ranges == b.ranges &&
         a.equalities == b.equalities && a.columns == b.columns && a.group_keys == b.group_keys &&
         sameAggregates(a.aggregates, b.aggregates) && a.sort_keys == b.sort_keys &&
         a.windows == b.windows && a.limit == b.limit && a.offset == b.offset &&
         a.set_calls == b.set_calls && a.ordinality == b.ordinality && a.outer == b.outer &&
         sameSchema(a.schema, b.schema);
}

// Candidates share kind, inputs and name; sameOp decides.
std::string bucketKey(const Op &op) {
  std::string key = std::string(opKindName(op.kind)) + " " + op.name;
  for (int32_t input : op.inputs)
    key += " %" + std::to_string(input);
  return key;
}

} // namespace

void eliminateCommonSubexpressions(Module &module) {
  std::unordered_map<std::string, std::vector<const Op *>> seen;
  std::unordered_map<int32_t, int32_t> replacement; // merged op -> the op that stays
  std::unordered_set<int32_t> merged;
  for (const auto &op : module.ops) {
    for (int32_t &input : op->inputs) {
      auto it = replacement.find(input);
      if (it != replacement.end())
        input = it->second;
    }
    if (op->has(kNoOutput)) // each model's sink or index stays its own
      continue;
    std::vector<const Op *> &candidates = seen[bucketKey(*op)];
    auto twin = std::find_if(candidates.begin(), candidates.end(),
                             [&](const Op *candidate) { return sameOp(*candidate, *op); });
    if (twin == candidates.end()) {
      candidates.push_back(op.get());
    } else {
      replacement[op->id] = (*twin)->id;
      merged.insert(op->id);
    }
  }
  eraseOps(module, merged);
}

} // namespace kiln::transforms
