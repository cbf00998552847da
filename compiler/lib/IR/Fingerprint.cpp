#include "kiln/IR/Fingerprint.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "kiln/IR/Utils.h"

namespace kiln::ir {

namespace {

// FNV-1a over a canonical byte encoding: simple, and the same on every machine and build.
class Hasher {
public:
  void bytes(const void *data, size_t size) {
    const auto *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < size; ++i) {
      h_ ^= p[i];
      h_ *= 0x100000001b3ULL;
    }
  }
  void i64(int64_t v) { bytes(&v, sizeof v); }
  void str(const std::string &s) {
    i64(static_cast<int64_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void type(const Type &t) {
    i64(static_cast<int64_t>(t.kind));
    i64(t.precision);
    i64(t.scale);
  }
  void columns(const std::vector<int32_t> &cs) {
    i64(static_cast<int64_t>(cs.size()));
    for (int32_t c : cs)
      i64(c);
  }
  void constant(const Value &v) {
    i64(v.is_null);
    if (!v.is_null) {
      i64(v.b);
      i64(v.i);
      bytes(&v.f, sizeof v.f);
      bytes(&v.n, sizeof v.n);
      str(v.s);
    }
  }
  void expr(const Expr &e) {
    str(exprOpName(e.op));
    type(e.type);
    i64(e.nullable);
    i64(e.column);
    constant(e.literal);
    str(e.op == ExprOp::Call ? functionInfo(e.function).name : "");
    i64(e.flag);
    i64(static_cast<int64_t>(e.args.size()));
    for (const ExprPtr &arg : e.args)
      expr(*arg);
  }
  uint64_t value() const { return h_; }

private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

uint64_t compute(const Module &module, const Op &op, std::unordered_map<int32_t, uint64_t> &memo) {
  if (auto it = memo.find(op.id); it != memo.end())
    return it->second;
  Hasher h;
  h.str(opKindName(op.kind));
  h.str(op.name);
  h.columns(op.key);
  if (op.predicate)
    h.expr(*op.predicate);
  h.i64(static_cast<int64_t>(op.exprs.size()));
  for (const ExprPtr &e : op.exprs)
    h.expr(*e);
  h.columns(op.left_keys);
  h.columns(op.right_keys);
  for (const RangeCondition &condition : op.ranges) {
    h.i64(condition.left);
    h.i64(static_cast<int64_t>(condition.op));
    h.i64(condition.right);
  }
  if (op.info().payload == OpPayload::JoinGraph) { // (other kinds' fingerprints stay as they were)
    for (auto [a, b] : op.equalities) {
      h.i64(a);
      h.i64(b);
    }
    h.columns(op.columns);
  }
  if (op.info().payload == OpPayload::Window) {
    for (const SortKey &key : op.sort_keys) {
      h.i64(key.column);
      h.i64(key.descending * 2 + key.nulls_first);
    }
    h.i64(op.limit);
    for (const WindowCall &call : op.windows) {
      h.str(windowFnName(call.fn));
      h.i64(call.arg);
      h.i64(call.default_arg);
      h.i64(call.n);
      h.i64(static_cast<int64_t>(call.frame.units));
      h.i64(static_cast<int64_t>(call.frame.start));
      h.i64(call.frame.start_offset);
      h.i64(static_cast<int64_t>(call.frame.end));
      h.i64(call.frame.end_offset);
      h.type(call.frame.offset_type);
      h.constant(call.frame.start_value);
      h.constant(call.frame.end_value);
      h.i64(static_cast<int64_t>(call.frame.exclude));
      h.type(call.type);
    }
  }
  if (op.info().payload == OpPayload::SetFunctions) {
    for (const SetCall &call : op.set_calls) {
      h.str(setFunctionName(call.fn));
      h.i64(call.args);
    }
    h.i64(op.ordinality * 2 + op.outer);
  }
  if (op.info().payload == OpPayload::TopK) {
    for (const SortKey &key : op.sort_keys) {
      h.i64(key.column);
      h.i64(key.descending * 2 + key.nulls_first);
    }
    h.i64(op.limit);
    h.i64(op.offset);
  }
  h.columns(op.group_keys);
  for (const AggCall &agg : op.aggregates) {
    h.str(aggKindName(agg.kind));
    h.i64(agg.arg);
    h.type(agg.type);
    h.str(agg.separator);
    h.i64(agg.distinct);
    for (const SortKey &key : agg.order) {
      h.i64(key.column);
      h.i64(key.descending * 2 + key.nulls_first);
    }
  }
  h.i64(op.append_only);
  // A zone other than UTC changes what timestamptz conversions compute (UTC adds nothing, so
  // fingerprints of programs in UTC stay as they were).
  if (!module.time_zone.empty())
    h.str(module.time_zone);
  for (const Column &c : op.schema) {
    h.type(c.type);
    h.i64(c.nullable);
  }
  for (int32_t input : op.inputs) {
    const Op *in = module.find(input);
    h.i64(in ? static_cast<int64_t>(compute(module, *in, memo)) : -1);
  }
  return memo[op.id] = h.value();
}

} // namespace

uint64_t fingerprint(const Module &module, const Op &op) {
  std::unordered_map<int32_t, uint64_t> memo;
  return compute(module, op, memo);
}

std::unordered_map<int32_t, uint64_t> fingerprints(const Module &module) {
  std::unordered_map<int32_t, uint64_t> memo;
  for (const auto &op : module.ops)
    compute(module, *op, memo);
  return memo;
}

std::unordered_map<int32_t, uint64_t> stateFingerprints(const Module &module) {
  std::unordered_map<int32_t, uint64_t> plans = fingerprints(module);
  std::unordered_map<int32_t, uint64_t> states = plans;
  std::unordered_map<int32_t, std::vector<std::pair<uint64_t, int64_t>>> sharers;
  for (const auto &op : module.ops) {
    if (op->kind != OpKind::Join && op->kind != OpKind::DeltaJoin)
      continue;
    for (size_t port = 0; port < op->inputs.size(); ++port)
      if (const Op *source = sharedKeyedSource(module, *op, port))
        sharers[source->id].push_back({plans.at(op->id), static_cast<int64_t>(port)});
  }
  for (auto &[source, joins] : sharers) {
    std::sort(joins.begin(), joins.end());
    Hasher h;
    h.i64(static_cast<int64_t>(plans.at(source)));
    for (auto [join, port] : joins) {
      h.i64(static_cast<int64_t>(join));
      h.i64(port);
    }
    states[source] = h.value();
  }
  return states;
}

} // namespace kiln::ir
