// delta-joins: fuses a tree of inner joins into one delta join.
//
// A chain of binary joins stores every intermediate result: order_lines joins orders to items,
// that to customers, that to products, and the second and third joins each keep the previous
// join's output rows, one per order line, as their left side. A delta join (Materialize's "delta
// query", DBToaster's first-order view) keeps each input once and, for a change of one input,
// looks up the other inputs one after another along the join's equalities, so nothing
// intermediate is stored and a change does only the lookups it needs.
//
// A tree is grown from a join down through inputs used by nothing else: joins, and maps that only
// pick columns (the narrowing maps prune-columns leaves between joins). Everything else is a
// leaf. The root keeps its id, place and schema, so its users do not change; the absorbed joins
// and maps go. Trees of two inputs stay binary joins (the same code, a simpler text form).

#include "PassDetail.h"

#include <algorithm>

namespace kiln::transforms {

using namespace ir;

namespace {

// A subtree as the delta join sees it: its leaves, the equalities between their columns and the
// subtree's output columns, both numbering the leaves' columns left to right.
struct Tree {
  std::vector<int32_t> leaves;
  int32_t width = 0; // of the leaves' columns
  std::vector<std::pair<int32_t, int32_t>> equalities;
  std::vector<int32_t> columns;
  std::vector<int32_t> absorbed; // ops inside the tree (not the root)
};

bool picksColumns(const Op &op) {
  return op.kind == OpKind::Map && std::all_of(op.exprs.begin(), op.exprs.end(),
                                               [](auto &e) { return e->op == ExprOp::Column; });
}

class DeltaJoinFuser {
public:
  explicit DeltaJoinFuser(Module &module) : module_(module), uses_(countUses(module)) {}

  void run() {
    std::unordered_set<int32_t> absorbed;
    // Users come after their inputs: walking backwards meets each tree's root first.
    for (auto it = module_.ops.rbegin(); it != module_.ops.rend(); ++it) {
      Op &op = **it;
      if (op.kind != OpKind::Join || absorbed.count(op.id))
        continue;
      Tree tree = grow(op, /*root=*/true);
      if (tree.leaves.size() < 3)
        continue;
      absorbed.insert(tree.absorbed.begin(), tree.absorbed.end());
      op.kind = OpKind::DeltaJoin;
      op.inputs = std::move(tree.leaves);
      op.left_keys.clear();
      op.right_keys.clear();
      op.equalities = std::move(tree.equalities);
      op.columns = std::move(tree.columns);
    }
    eraseOps(module_, absorbed);
  }

private:
  Tree leaf(const Op &op) {
    Tree tree;
    tree.leaves = {op.id};
    tree.width = static_cast<int32_t>(op.schema.size());
    for (int32_t c = 0; c < tree.width; ++c)
      tree.columns.push_back(c);
    return tree;
  }

  Tree grow(const Op &op, bool root = false) {
    if (!root && uses_[op.id] != 1)
      return leaf(op);
    if (op.kind == OpKind::Join) {
      Tree left = grow(*module_.find(op.inputs[0]));
      Tree right = grow(*module_.find(op.inputs[1]));
      Tree tree = std::move(left);
      auto shift = [&](int32_t c) { return c + tree.width; };
      for (size_t k = 0; k < op.left_keys.size(); ++k)
        tree.equalities.emplace_back(tree.columns[op.left_keys[k]],
                                     shift(right.columns[op.right_keys[k]]));
      for (auto [a, b] : right.equalities)
        tree.equalities.emplace_back(shift(a), shift(b));
      for (int32_t c : right.columns)
        tree.columns.push_back(shift(c));
      tree.leaves.insert(tree.leaves.end(), right.leaves.begin(), right.leaves.end());
      tree.absorbed.insert(tree.absorbed.end(), right.absorbed.begin(), right.absorbed.end());
      tree.width += right.width;
      if (!root)
        tree.absorbed.push_back(op.id);
      return tree;
    }
    if (picksColumns(op)) {
      Tree below = grow(*module_.find(op.inputs[0]));
      if (below.leaves.size() < 2) // no join below: the map is the leaf
        return leaf(op);
      std::vector<int32_t> columns;
      for (const ExprPtr &e : op.exprs)
        columns.push_back(below.columns[e->column]);
      below.columns = std::move(columns);
      below.absorbed.push_back(op.id);
      return below;
    }
    return leaf(op);
  }

  Module &module_;
  std::unordered_map<int32_t, int> uses_;
};

} // namespace

void fuseDeltaJoins(Module &module) { DeltaJoinFuser(module).run(); }

} // namespace kiln::transforms
