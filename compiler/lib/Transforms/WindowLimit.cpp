// window-limit: the top-k per group pattern. `WHERE rn <= k` over `row_number() OVER (PARTITION BY
// p ORDER BY o)` keeps the first k rows of each partition, so the window operator need compute
// (and compare, when a partition changes) only those: its `limit` becomes k, and a change costs
// work near the partition's first k rows instead of over all of them. The filter stays (it still
// drops the rows past k that an equal-limit window would not produce anyway: none).
//
// Only when every function of the window reads rows before the current one alone: row_number,
// rank, dense_rank, lag, and frame functions over ROWS frames that end at or before the current
// row. (lead, ntile, percent_rank, cume_dist and RANGE frames read rows after it, which the
// limit would cut off.)

#include "PassDetail.h"

#include <algorithm>

namespace kiln::transforms {

using namespace ir;

namespace {

bool readsOnlyEarlierRows(const WindowCall &call) {
  switch (call.fn) {
  case WindowFn::RowNumber:
  case WindowFn::Rank:
  case WindowFn::DenseRank:
  case WindowFn::Lag:
    return true;
  case WindowFn::PercentRank:
  case WindowFn::CumeDist:
  case WindowFn::Ntile:
  case WindowFn::Lead:
    return false;
  default:
    return call.frame.units == FrameUnits::Rows &&
           (call.frame.end == FrameBound::Preceding || call.frame.end == FrameBound::CurrentRow);
  }
}

// The largest row_number the conjunct lets through (`$c <= k`, `$c < k`, `$c = k`, or the same
// with the constant first), or -1 if it does not bound column `column` this way.
int64_t rowNumberBound(const Expr &conjunct, int32_t column) {
  if (conjunct.args.size() != 2)
    return -1;
  const Expr *left = conjunct.args[0].get(), *right = conjunct.args[1].get();
  ExprOp op = conjunct.op;
  if (left->op == ExprOp::Literal) { // k >= $c is $c <= k; k < $c is $c > k, which bounds nothing
    std::swap(left, right);
    op = mirroredComparison(op);
  }
  if (left->op != ExprOp::Column || left->column != column || right->op != ExprOp::Literal ||
      right->literal.is_null || right->type.kind != TypeKind::Int64)
    return -1;
  int64_t k = right->literal.i;
  switch (op) {
  case ExprOp::Le:
  case ExprOp::Eq:
    return std::max<int64_t>(k, 0);
  case ExprOp::Lt:
    return std::max<int64_t>(k - 1, 0);
  default:
    return -1;
  }
}

} // namespace

void limitWindows(Module &module) {
  std::unordered_map<int32_t, int> uses = countUses(module);
  for (const auto &op : module.ops) {
    if (op->kind != OpKind::Filter)
      continue;
    Op *window = module.find(op->inputs[0]);
    if (!window || window->kind != OpKind::Window || uses[window->id] != 1 ||
        !std::all_of(window->windows.begin(), window->windows.end(), readsOnlyEarlierRows))
      continue;
    std::vector<const Expr *> conjuncts;
    collectConjuncts(*op->predicate, conjuncts);
    int32_t first = static_cast<int32_t>(window->schema.size() - window->windows.size());
    for (size_t i = 0; i < window->windows.size(); ++i) {
      if (window->windows[i].fn != WindowFn::RowNumber)
        continue;
      for (const Expr *conjunct : conjuncts) {
        int64_t k = rowNumberBound(*conjunct, first + static_cast<int32_t>(i));
        if (k >= 0 && (window->limit < 0 || k < window->limit))
          window->limit = k;
      }
    }
  }
}

} // namespace kiln::transforms
