#include "PassDetail.h"

#include "kiln/IR/Utils.h"

#include <algorithm>

namespace kiln::transforms {

using namespace ir;

std::unordered_map<int32_t, int> countUses(const Module &module) {
  std::unordered_map<int32_t, int> uses;
  for (const auto &op : module.ops)
    for (int32_t input : op->inputs)
      ++uses[input];
  return uses;
}

void replaceAllUses(Module &module, int32_t from, int32_t to) {
  for (const auto &op : module.ops)
    std::replace(op->inputs.begin(), op->inputs.end(), from, to);
}

void eraseOps(Module &module, const std::unordered_set<int32_t> &ids) {
  if (ids.empty())
    return;
  std::erase_if(module.ops, [&](const std::unique_ptr<Op> &op) { return ids.count(op->id); });
}

void collectConjuncts(const Expr &e, std::vector<const Expr *> &out) {
  if (e.op == ExprOp::And) {
    for (const ExprPtr &arg : e.args)
      collectConjuncts(*arg, out);
    return;
  }
  out.push_back(&e);
}

bool canRaise(const Expr &expr) {
  bool raises = false;
  walkExpr(expr, [&](const Expr &e) {
    switch (e.op) {
    case ExprOp::Add:
    case ExprOp::Sub:
    case ExprOp::Mul:
    case ExprOp::Div:
    case ExprOp::Mod:
    case ExprOp::Neg:
    case ExprOp::Cast:
    case ExprOp::Like: // a pattern ending in the escape character is an error
      raises = true;
      break;
    case ExprOp::Call:
      raises |= functionInfo(e.function).has(kRaises);
      break;
    default:
      break;
    }
  });
  return raises;
}

bool fitsRow(const Expr &expr, const Schema &row) {
  bool fits = true;
  walkExpr(expr, [&](const Expr &e) {
    if (e.op != ExprOp::Column)
      return;
    if (e.column < 0 || e.column >= (int32_t)row.size() || row[e.column].type != e.type ||
        (!e.nullable && row[e.column].nullable))
      fits = false;
  });
  return fits;
}

ExprPtr substituteColumns(const Expr &expr,
                          const std::function<ExprPtr(const Expr &column)> &replace) {
  if (expr.op == ExprOp::Column)
    return replace(expr);
  ExprPtr copy = std::make_unique<Expr>(expr.op, expr.type);
  copy->nullable = expr.nullable;
  copy->literal = expr.literal;
  copy->function = expr.function;
  copy->flag = expr.flag;
  copy->loc = expr.loc;
  for (const ExprPtr &arg : expr.args)
    copy->args.push_back(substituteColumns(*arg, replace));
  return copy;
}

} // namespace kiln::transforms
