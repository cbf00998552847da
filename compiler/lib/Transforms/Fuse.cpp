// fuse: shortens chains of linear operators.
//
//   filter(filter(x, p), q)  ->  filter(x, p AND q)
//   map(map(x, E), F)        ->  map(x, F[$i := E_i])
//   filter(map(x, E), p)     ->  map(filter(x, p[$i := E_i]), E)   when p reads only columns
//                                                                  that E passes through
//   map(x, [$0, ..., $n-1])  ->  x                                 when the schemas are equal
//
// Code generation fuses pipelines anyway; fewer, larger operators give it larger expressions to
// simplify and let filters run before the maps above them compute anything.
//
// None of these may change which rows an expression that can raise (overflow, division by zero)
// is evaluated on in a way that adds errors: q must not raise (AND may stop after p); an inner
// map expression is substituted only where it is still evaluated exactly as before (not dropped,
// not moved under a CASE branch, COALESCE or AND/OR that may skip it) unless it cannot raise,
// and it is duplicated only when it is a column or a literal. The inner operator must have no
// other user: fusing would otherwise duplicate its work instead of moving it.

#include "PassDetail.h"

#include "kiln/IR/Utils.h"

#include <algorithm>

namespace kiln::transforms {

using namespace ir;

namespace {

// Column uses of an expression: how often each input column is read, and whether some read is
// conditional (skipped for some rows by CASE, COALESCE, AND or OR).
struct ColumnUses {
  std::vector<int> count;
  std::vector<bool> conditional;

  explicit ColumnUses(size_t columns) : count(columns), conditional(columns) {}

  void add(const Expr &e, bool underCondition) {
    if (e.op == ExprOp::Column) {
      if (e.column >= 0 && e.column < (int32_t)count.size()) {
        ++count[e.column];
        conditional[e.column] = conditional[e.column] || underCondition;
      }
      return;
    }
    bool skipsLaterArgs = e.op == ExprOp::Case || e.op == ExprOp::Coalesce ||
                          e.op == ExprOp::And || e.op == ExprOp::Or;
    for (size_t i = 0; i < e.args.size(); ++i)
      add(*e.args[i], underCondition || (skipsLaterArgs && i > 0));
  }
};

ExprPtr makeAnd(ExprPtr a, ExprPtr b) {
  std::vector<ExprPtr> operands;
  for (ExprPtr *e : {&a, &b}) {
    if ((*e)->op == ExprOp::And)
      for (ExprPtr &arg : (*e)->args) operands.push_back(std::move(arg));
    else
      operands.push_back(std::move(*e));
  }
  return makeCall(ExprOp::And, Type::boolean(), std::move(operands));
}

// Moves `op` to just before `before` in the module's order.
void moveBefore(Module &module, const Op &op, const Op &before) {
  auto &ops = module.ops;
  auto from = std::find_if(ops.begin(), ops.end(), [&](auto &o) { return o.get() == &op; });
  std::unique_ptr<Op> moved = std::move(*from);
  ops.erase(from);
  auto to = std::find_if(ops.begin(), ops.end(), [&](auto &o) { return o.get() == &before; });
  ops.insert(to, std::move(moved));
}

bool fuseFilters(Module &module, Op &inner, Op &outer) {
  const Op *source = module.find(inner.inputs[0]);
  if (!source || canRaise(*outer.predicate) || !fitsRow(*outer.predicate, source->schema))
    return false;
  outer.predicate = makeAnd(std::move(inner.predicate), std::move(outer.predicate));
  outer.inputs = inner.inputs;
  eraseOps(module, {inner.id});
  return true;
}

bool fuseMaps(Module &module, Op &inner, Op &outer) {
  ColumnUses uses(inner.exprs.size());
  for (const ExprPtr &e : outer.exprs) uses.add(*e, false);
  for (size_t i = 0; i < inner.exprs.size(); ++i) {
    const Expr &e = *inner.exprs[i];
    bool trivial = e.op == ExprOp::Column || e.op == ExprOp::Literal;
    bool raises = canRaise(e);
    if ((uses.count[i] == 0 && raises) || (uses.count[i] > 1 && !trivial) ||
        (uses.conditional[i] && raises))
      return false;
  }
  for (ExprPtr &e : outer.exprs)
    e = substituteColumns(*e, [&](const Expr &ref) { return inner.exprs[ref.column]->clone(); });
  outer.inputs = inner.inputs;
  eraseOps(module, {inner.id});
  return true;
}

bool pushFilterBelowMap(Module &module, Op &map, Op &filter) {
  const Op *source = module.find(map.inputs[0]);
  // Users of the filter will read the map: the rows must look the same to them.
  if (!source || !sameSchema(filter.schema, map.schema)) return false;
  bool passThrough = true;
  walkExpr(*filter.predicate, [&](const Expr &e) {
    if (e.op == ExprOp::Column &&
        (e.column >= (int32_t)map.exprs.size() || map.exprs[e.column]->op != ExprOp::Column))
      passThrough = false;
  });
  if (!passThrough) return false;

  filter.predicate = substituteColumns(
      *filter.predicate, [&](const Expr &ref) { return map.exprs[ref.column]->clone(); });
  filter.inputs = map.inputs;
  filter.schema = source->schema;
  replaceAllUses(module, filter.id, map.id);
  map.inputs = {filter.id};
  map.append_only = map.append_only && filter.append_only;  // it now reads the filter
  moveBefore(module, filter, map);
  return true;
}

bool isIdentityMap(const Module &module, const Op &map) {
  const Op *source = module.find(map.inputs[0]);
  if (!source || !sameSchema(map.schema, source->schema)) return false;
  for (size_t i = 0; i < map.exprs.size(); ++i) {
    const Expr &e = *map.exprs[i];
    if (e.op != ExprOp::Column || e.column != (int32_t)i) return false;
  }
  return true;
}

// Applies the first rewrite it finds; the caller repeats until there is none.
bool fuseOnce(Module &module) {
  std::unordered_map<int32_t, int> uses = countUses(module);
  for (const auto &op : module.ops) {
    if (op->inputs.size() != 1) continue;
    if (op->kind == OpKind::Map && isIdentityMap(module, *op)) {
      replaceAllUses(module, op->id, op->inputs[0]);
      eraseOps(module, {op->id});
      return true;
    }
    Op *inner = module.find(op->inputs[0]);
    if (!inner || uses[inner->id] != 1) continue;
    if (op->kind == OpKind::Filter && inner->kind == OpKind::Filter &&
        fuseFilters(module, *inner, *op))
      return true;
    if (op->kind == OpKind::Map && inner->kind == OpKind::Map && fuseMaps(module, *inner, *op))
      return true;
    if (op->kind == OpKind::Filter && inner->kind == OpKind::Map &&
        pushFilterBelowMap(module, *inner, *op))
      return true;
  }
  return false;
}

}  // namespace

void fuse(Module &module) {
  while (fuseOnce(module)) {
  }
}

}  // namespace kiln::transforms
