// fuse: shortens chains of linear operators.
//
//   filter(filter(x, p), q)  ->  filter(x, p AND q)
//   map(map(x, E), F)        ->  map(x, F[$i := E_i])
//   filter(map(x, E), p)     ->  map(filter(x, p[$i := E_i]), E)   when p reads only columns
//                                                                  that E passes through
//   map(x, [$0, ..., $n-1])  ->  x                                 when the schemas are equal,
//                                                                  or x takes the map's names
//   aggregate(map(x, E))     ->  aggregate(x)                      when it reads only columns
//                                                                  that E passes through
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
    bool skipsLaterArgs = e.op == ExprOp::Case || e.op == ExprOp::Coalesce || e.op == ExprOp::And ||
                          e.op == ExprOp::Or;
    for (size_t i = 0; i < e.args.size(); ++i)
      add(*e.args[i], underCondition || (skipsLaterArgs && i > 0));
  }
};

ExprPtr makeAnd(ExprPtr a, ExprPtr b) {
  std::vector<ExprPtr> operands;
  for (ExprPtr *e : {&a, &b}) {
    if ((*e)->op == ExprOp::And)
      for (ExprPtr &arg : (*e)->args)
        operands.push_back(std::move(arg));
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
  for (const ExprPtr &e : outer.exprs)
    uses.add(*e, false);
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
  if (!source || !sameSchema(filter.schema, map.schema))
    return false;
  bool passThrough = true;
  walkExpr(*filter.predicate, [&](const Expr &e) {
    if (e.op == ExprOp::Column &&
        (e.column >= (int32_t)map.exprs.size() || map.exprs[e.column]->op != ExprOp::Column))
      passThrough = false;
  });
  if (!passThrough)
    return false;

  filter.predicate = substituteColumns(
      *filter.predicate, [&](const Expr &ref) { return map.exprs[ref.column]->clone(); });
  filter.inputs = map.inputs;
  filter.schema = source->schema;
  replaceAllUses(module, filter.id, map.id);
  map.inputs = {filter.id};
  map.append_only = map.append_only && filter.append_only; // it now reads the filter
  moveBefore(module, filter, map);
  return true;
}

// A map that passes its input's columns through in order, possibly renaming them.
bool isPassThrough(const Op &map, const Op &input) {
  if (map.exprs.size() != input.schema.size())
    return false;
  for (size_t i = 0; i < map.exprs.size(); ++i) {
    const Expr &e = *map.exprs[i];
    if (e.op != ExprOp::Column || e.column != (int32_t)i || map.schema[i].type != e.type)
      return false;
  }
  return true;
}

// Models end in such renaming maps (an aggregate's columns are named by the SELECT list). When
// the map is its input's only user, the input can carry the names itself. Not a source: its
// names are the table's, which connectors match by name.
bool absorbRename(Module &module, Op &map, Op &input) {
  if (input.kind == OpKind::Source || !isPassThrough(map, input))
    return false;
  // The map's columns are NOT NULL only where the input's are: taking its schema only widens.
  input.schema = map.schema;
  if (input.kind == OpKind::Aggregate)
    for (size_t i = 0; i < input.aggregates.size(); ++i)
      input.aggregates[i].name = map.schema[input.group_keys.size() + i].name;
  replaceAllUses(module, map.id, input.id);
  eraseOps(module, {map.id});
  return true;
}

// An aggregate keeps only its group keys and arguments of its input: when a map merely passes
// those through, the aggregate reads the map's input. The map may then die, taking its other
// expressions with it: only if none of them can raise.
bool aggregateThroughMap(Module &module, Op &aggregate, Op &map, int mapUses) {
  std::vector<int32_t *> columns;
  for (int32_t &key : aggregate.group_keys)
    columns.push_back(&key);
  for (AggCall &agg : aggregate.aggregates) {
    if (agg.arg >= 0)
      columns.push_back(&agg.arg);
    for (SortKey &key : agg.order)
      columns.push_back(&key.column);
  }
  for (int32_t *column : columns)
    if (*column >= (int32_t)map.exprs.size() || map.exprs[*column]->op != ExprOp::Column)
      return false;
  if (mapUses == 1)
    for (const ExprPtr &e : map.exprs)
      if (canRaise(*e))
        return false;
  for (int32_t *column : columns)
    *column = map.exprs[*column]->column;
  aggregate.inputs = map.inputs;
  if (mapUses == 1)
    eraseOps(module, {map.id});
  return true;
}

bool isIdentityMap(const Module &module, const Op &map) {
  const Op *source = module.find(map.inputs[0]);
  if (!source || !sameSchema(map.schema, source->schema))
    return false;
  for (size_t i = 0; i < map.exprs.size(); ++i) {
    const Expr &e = *map.exprs[i];
    if (e.op != ExprOp::Column || e.column != (int32_t)i)
      return false;
  }
  return true;
}

// Applies the first rewrite it finds; the caller repeats until there is none.
bool fuseOnce(Module &module) {
  std::unordered_map<int32_t, int> uses = countUses(module);
  for (const auto &op : module.ops) {
    if (op->inputs.size() != 1)
      continue;
    if (op->kind == OpKind::Map && isIdentityMap(module, *op)) {
      replaceAllUses(module, op->id, op->inputs[0]);
      eraseOps(module, {op->id});
      return true;
    }
    Op *inner = module.find(op->inputs[0]);
    if (!inner)
      continue;
    if (op->kind == OpKind::Aggregate && inner->kind == OpKind::Map &&
        aggregateThroughMap(module, *op, *inner, uses[inner->id]))
      return true;
    if (uses[inner->id] != 1)
      continue;
    if (op->kind == OpKind::Map && absorbRename(module, *op, *inner))
      return true;
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

} // namespace

void fuse(Module &module) {
  while (fuseOnce(module)) {
  }
}

} // namespace kiln::transforms
