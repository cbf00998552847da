// Checks the invariants IR.h documents. Every message starts with the operator (`%4: ...`) and
// names the offending piece the way the text form spells it.

#include "kiln/IR/TextFormat.h"
#include "kiln/IR/TimeZone.h"
#include "kiln/IR/Utils.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace kiln::ir {
namespace {

// Equal types, except that NUMERIC operands may differ in precision and scale.
bool comparable(const Type &a, const Type &b) {
  return a == b || (a.kind == TypeKind::Numeric && b.kind == TypeKind::Numeric);
}

std::string typeList(const Schema &schema) {
  std::string out = "(";
  for (size_t i = 0; i < schema.size(); ++i)
    out += (i ? ", " : "") + schema[i].type.str();
  return out + ")";
}

std::string describe(const Column &col, size_t index) {
  return "column " + std::to_string(index) + " (" + col.name + ")";
}

class Verifier {
public:
  explicit Verifier(const Module &module) : module_(module) {}

  std::vector<std::string> run() {
    // Every id in the module, to tell a use before the definition from a dangling one.
    std::unordered_set<int32_t> defined;
    for (const auto &op : module_.ops)
      defined.insert(op->id);
    for (const auto &op : module_.ops) {
      op_ = op.get();
      if (!earlier_.emplace(op->id, op.get()).second)
        error("id is already defined");
      if (op->id < 0)
        error("operator has no id");
      checkInputs(defined);
      checkOp();
    }
    return std::move(errors_);
  }

private:
  void error(const std::string &message) {
    errors_.push_back("%" + std::to_string(op_->id) + ": " + message);
  }
  const Op *input(size_t i) const {
    if (i >= op_->inputs.size())
      return nullptr;
    auto it = earlier_.find(op_->inputs[i]);
    return it == earlier_.end() ? nullptr : it->second;
  }

  void checkInputs(const std::unordered_set<int32_t> &defined);
  void checkOp();
  void checkType(const Type &type, const std::string &what);
  void checkSchema();
  void checkColumn(int32_t index, const Schema &row, const std::string &what);
  // `op_`'s schema has `expected`'s column types, and is NOT NULL only where `expected` is or
  // where `mayNarrow(column)` (a filter's predicate or a join's keys prove it).
  void checkSchemaIs(const Schema &expected, const std::string &what,
                     const std::function<bool(size_t)> &mayNarrow = nullptr);
  void checkAggregate(const Schema &row);
  void checkWindow(const Schema &row);
  void checkSetFunctions(const Schema &row);
  void checkJoinKeys(const Schema &left, const Schema &right);
  void checkRanges(const Schema &left, const Schema &right);
  void checkConcat();
  // DeltaJoin: its equalities compare columns of different inputs; its schema is its columns.
  void checkJoinGraph();
  // Constant: whole rows of constants of the schema's column types.
  void checkConstantRows();
  void checkExpr(const Expr &e, const Schema &row);
  void checkCall(const Expr &e); // arity and types by the function's signature

  const Module &module_;
  const Op *op_ = nullptr;
  std::unordered_map<int32_t, const Op *> earlier_; // first op of each id so far
  std::unordered_map<std::string, int32_t> sinks_;  // model name -> its sink
  std::vector<std::string> errors_;
};

void Verifier::checkInputs(const std::unordered_set<int32_t> &defined) {
  const Op &op = *op_;
  size_t n = op.inputs.size();
  const OpInfo &info = op.info();
  if (info.max_inputs == kManyInputs) {
    if ((int)n < info.min_inputs)
      error(std::string(info.name) + " takes at least " + std::to_string(info.min_inputs) +
            " inputs, has " + std::to_string(n));
  } else if ((int)n != info.min_inputs) { // a bounded kind takes an exact count
    error(std::string(info.name) + " takes " + std::to_string(info.min_inputs) +
          (info.min_inputs == 1 ? " input" : " inputs") + ", has " + std::to_string(n));
  }

  bool allAppendOnly = true;
  for (size_t i = 0; i < n; ++i) {
    std::string id = "%" + std::to_string(op.inputs[i]);
    const Op *in = input(i);
    if (in == &op || (!in && defined.count(op.inputs[i]))) {
      error("input " + id + " is not defined before its use");
    } else if (!in) {
      error("input " + id + " is not defined");
    } else if (in->has(kNoOutput)) {
      error("input " + id + " is a sink, which produces no stream");
    } else {
      allAppendOnly &= in->append_only;
    }
  }

  // append_only is an analysis result, but code generation trusts it to drop retraction paths.
  if (op.append_only) {
    if (op.has(kRetracts))
      error(std::string(opKindName(op.kind)) + " cannot be append_only: it retracts old rows");
    else if (!allAppendOnly)
      error("append_only, but an input is not");
  }
}

void Verifier::checkType(const Type &type, const std::string &what) {
  if (type.kind == TypeKind::Null) {
    error(what + " has type null");
  } else if (type.kind == TypeKind::Numeric &&
             (type.precision < 1 || type.precision > kMaxNumericPrecision || type.scale < 0 ||
              type.scale > type.precision)) {
    error(what + " has invalid type " + type.str() + " (precision 1.." +
          std::to_string(kMaxNumericPrecision) + ", scale 0..precision)");
  }
}

void Verifier::checkSchema() {
  for (size_t i = 0; i < op_->schema.size(); ++i)
    checkType(op_->schema[i].type, describe(op_->schema[i], i));
}

void Verifier::checkColumn(int32_t index, const Schema &row, const std::string &what) {
  if (index < 0 || index >= (int32_t)row.size())
    error(what + " $" + std::to_string(index) + " is out of range (" + std::to_string(row.size()) +
          " columns)");
}

void Verifier::checkSchemaIs(const Schema &expected, const std::string &what,
                             const std::function<bool(size_t)> &mayNarrow) {
  const Schema &schema = op_->schema;
  if (!sameColumnTypes(schema, expected)) {
    error(std::string(opKindName(op_->kind)) + " schema " + typeList(schema) + " must be " + what +
          " " + typeList(expected));
    return;
  }
  for (size_t i = 0; i < schema.size(); ++i)
    if (!schema[i].nullable && expected[i].nullable && !(mayNarrow && mayNarrow(i)))
      error(describe(schema[i], i) + " is not null, but the column it comes from may be NULL");
}

void Verifier::checkOp() {
  const Op &op = *op_;
  std::string kind = opKindName(op.kind);
  checkSchema();

  // Fields of other kinds must be empty, so that no pass leaves half an operator behind.
  OpPayload payload = op.info().payload;
  auto unused = [&](bool present, OpPayload owner, const char *field) {
    if (present && payload != owner)
      error(kind + " has " + field);
  };
  unused(!op.key.empty(), OpPayload::SourceKey, "a key");
  unused(op.predicate != nullptr && payload != OpPayload::SetFunctions, OpPayload::Predicate,
         "a predicate");
  unused(!op.exprs.empty() && payload != OpPayload::SetFunctions, OpPayload::Exprs,
         "map expressions");
  unused(!op.set_calls.empty() || op.ordinality || op.outer, OpPayload::SetFunctions,
         "set-returning functions");
  unused(!op.left_keys.empty() || !op.right_keys.empty(),
         payload == OpPayload::RangeJoinKeys ? payload : OpPayload::JoinKeys, "join keys");
  unused(!op.ranges.empty(), OpPayload::RangeJoinKeys, "range conditions");
  unused(!op.equalities.empty(), OpPayload::JoinGraph, "join equalities");
  unused(!op.columns.empty(), OpPayload::JoinGraph, "output columns");
  unused(!op.group_keys.empty() && payload != OpPayload::TopK && payload != OpPayload::Window,
         OpPayload::Aggregates, "group keys");
  unused(!op.aggregates.empty(), OpPayload::Aggregates, "aggregates");
  unused(!op.sort_keys.empty() && payload != OpPayload::Window, OpPayload::TopK, "sort keys");
  unused(op.limit != -1 && payload != OpPayload::Window, OpPayload::TopK, "a limit");
  unused(op.offset != 0, OpPayload::TopK, "an offset");
  unused(!op.windows.empty(), OpPayload::Window, "window functions");

  if (op.has(kNamed) && op.name.empty())
    error(kind + (op.kind == OpKind::Source ? " has no table name" : " has no model name"));
  // Without its inputs an operator cannot be checked further.
  size_t arity = static_cast<size_t>(op.info().min_inputs);
  for (size_t i = 0; i < std::max(arity, op.inputs.size()); ++i)
    if (!input(i) || input(i)->has(kNoOutput))
      return;
  const Schema *row = arity ? &input(0)->schema : nullptr;

  // Rules of one kind alone.
  if (op.has(kNoOutput) && !op.name.empty()) {
    if (auto [it, fresh] = sinks_.emplace(op.name, op.id); !fresh)
      error("model \"" + op.name + "\" already has a sink or index (%" +
            std::to_string(it->second) + ")");
  }

  switch (payload) {
  case OpPayload::None:
    break;
  case OpPayload::SourceKey:
    for (int32_t key : op.key)
      checkColumn(key, row ? *row : op.schema, row ? "index key column" : "source key column");
    if (op.kind == OpKind::Index && op.key.empty())
      error("index has no key");
    break;
  case OpPayload::Predicate:
    if (!op.predicate) {
      error(kind + " has no predicate");
    } else {
      checkExpr(*op.predicate, *row);
      if (op.predicate->type != Type::boolean())
        error(kind + " predicate has type " + op.predicate->type.str() + ", not bool");
    }
    break;
  case OpPayload::Exprs:
    if (op.kind == OpKind::Constant) {
      checkConstantRows();
      break;
    }
    if (op.schema.size() != op.exprs.size()) {
      error(kind + " has " + std::to_string(op.exprs.size()) + " expressions but " +
            std::to_string(op.schema.size()) + " columns");
      break;
    }
    for (size_t i = 0; i < op.exprs.size(); ++i) {
      const Expr &e = *op.exprs[i];
      checkExpr(e, *row);
      const Column &col = op.schema[i];
      if (col.type != e.type)
        error(describe(col, i) + " has type " + col.type.str() + " but its expression has " +
              e.type.str());
      else if (!col.nullable && e.nullable)
        error(describe(col, i) + " is not null, but its expression may be NULL");
    }
    break;
  case OpPayload::JoinKeys:
    checkJoinKeys(input(0)->schema, input(1)->schema);
    break;
  case OpPayload::RangeJoinKeys:
    checkJoinKeys(input(0)->schema, input(1)->schema);
    checkRanges(input(0)->schema, input(1)->schema);
    break;
  case OpPayload::JoinGraph:
    checkJoinGraph(); // with the schema, which the columns determine
    break;
  case OpPayload::Aggregates:
    checkAggregate(*row); // with the schema, which the aggregates determine
    break;
  case OpPayload::TopK:
    for (int32_t key : op.group_keys)
      checkColumn(key, *row, "group key column");
    for (const SortKey &key : op.sort_keys)
      checkColumn(key.column, *row, "sort key column");
    if (op.limit < -1 || op.offset < 0)
      error(kind + " has a negative limit or offset");
    break;
  case OpPayload::Window:
    checkWindow(*row); // with the schema, which the calls determine
    break;
  case OpPayload::SetFunctions:
    checkSetFunctions(*row);
    break;
  }

  switch (op.info().schema) {
  case SchemaRule::Declared:     // a source's table; a map's expressions (checked above)
  case SchemaRule::Aggregate:    // checked with the aggregates
  case SchemaRule::Window:       // checked with the window functions
  case SchemaRule::SetFunctions: // checked with the set functions
  case SchemaRule::Projection:   // checked with the join graph
    break;
  case SchemaRule::SameAsInput:
    // A predicate proves its columns not NULL, so a filter may narrow any column.
    if (payload == OpPayload::Predicate)
      checkSchemaIs(*row, "its input's", [](size_t) { return true; });
    else
      checkSchemaIs(*row, "its input's");
    break;
  case SchemaRule::UnionOfInputs:
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      const Schema &in = input(i)->schema;
      if (!sameColumnTypes(in, op.schema)) {
        error(kind + " input " + std::to_string(i) + " (%" + std::to_string(op.inputs[i]) +
              ") has types " + typeList(in) + ", not " + typeList(op.schema));
        continue;
      }
      for (size_t c = 0; c < in.size(); ++c)
        if (!op.schema[c].nullable && in[c].nullable)
          error(describe(op.schema[c], c) + " is not null, but input %" +
                std::to_string(op.inputs[i]) + " may be NULL");
    }
    break;
  case SchemaRule::Concat:
    checkConcat();
    break;
  case SchemaRule::None:
    if (!op.schema.empty())
      error(kind + " has a schema (sinks produce no stream)");
    break;
  }
}

void Verifier::checkJoinKeys(const Schema &left, const Schema &right) {
  const Op &op = *op_;
  if (op.left_keys.size() != op.right_keys.size()) {
    error("join has " + std::to_string(op.left_keys.size()) + " left keys but " +
          std::to_string(op.right_keys.size()) + " right keys");
  } else {
    for (size_t i = 0; i < op.left_keys.size(); ++i) {
      int32_t l = op.left_keys[i], r = op.right_keys[i];
      std::string key = "join key " + std::to_string(i);
      checkColumn(l, left, key + ": left column");
      checkColumn(r, right, key + ": right column");
      if (l < 0 || r < 0 || l >= (int32_t)left.size() || r >= (int32_t)right.size())
        continue;
      const Type &a = left[l].type, &b = right[r].type;
      // The index hashes the key's scaled integer: NUMERIC keys must agree on the scale.
      bool same =
          a.kind == TypeKind::Numeric && b.kind == TypeKind::Numeric ? a.scale == b.scale : a == b;
      if (!same)
        error(key + " compares " + a.str() + " with " + b.str());
    }
  }
}

void Verifier::checkRanges(const Schema &left, const Schema &right) {
  const Op &op = *op_;
  if (op.ranges.empty())
    error("range_join has no range conditions (a join without them is a join)");
  for (size_t i = 0; i < op.ranges.size(); ++i) {
    const RangeCondition &condition = op.ranges[i];
    std::string what = "range condition " + std::to_string(i);
    checkColumn(condition.left, left, what + ": left column");
    checkColumn(condition.right, right, what + ": right column");
    if (condition.op != ExprOp::Lt && condition.op != ExprOp::Le && condition.op != ExprOp::Gt &&
        condition.op != ExprOp::Ge)
      error(what + " is not lt, le, gt or ge");
    if (condition.left < 0 || condition.right < 0 || condition.left >= (int32_t)left.size() ||
        condition.right >= (int32_t)right.size())
      continue;
    const Type &a = left[condition.left].type, &b = right[condition.right].type;
    // The index orders by the values' encodings: NUMERIC ones must agree on the scale.
    bool same =
        a.kind == TypeKind::Numeric && b.kind == TypeKind::Numeric ? a.scale == b.scale : a == b;
    if (!same)
      error(what + " compares " + a.str() + " with " + b.str());
  }
}

void Verifier::checkConcat() {
  const Op &op = *op_;
  Schema both;
  std::vector<size_t> starts;
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    starts.push_back(both.size());
    both.insert(both.end(), input(i)->schema.begin(), input(i)->schema.end());
  }
  // Equi-join keys are never NULL in the output: the schema may say so.
  auto isKey = [&](size_t column) {
    if ((op.info().payload != OpPayload::JoinKeys &&
         op.info().payload != OpPayload::RangeJoinKeys) ||
        starts.size() != 2)
      return false;
    auto in = [](const std::vector<int32_t> &keys, size_t c) {
      return std::find(keys.begin(), keys.end(), (int32_t)c) != keys.end();
    };
    // (A range join's compared columns are never NULL either.)
    bool left = column < starts[1];
    for (const RangeCondition &condition : op.ranges)
      if ((left ? condition.left : condition.right + (int32_t)starts[1]) == (int32_t)column)
        return true;
    return left ? in(op.left_keys, column) : in(op.right_keys, column - starts[1]);
  };
  checkSchemaIs(both, "left ++ right", isKey);
}

void Verifier::checkConstantRows() {
  const Op &op = *op_;
  size_t width = op.schema.size();
  if (width == 0 || op.exprs.size() % width != 0) {
    error("constant has " + std::to_string(op.exprs.size()) + " expressions, not whole rows of " +
          std::to_string(width) + " columns");
    return;
  }
  const Schema no_columns;
  for (size_t i = 0; i < op.exprs.size(); ++i) {
    const Expr &e = *op.exprs[i];
    checkExpr(e, no_columns); // a column reference is out of range of a row of no columns
    const Column &col = op.schema[i % width];
    if (col.type != e.type)
      error(describe(col, i % width) + " has type " + col.type.str() + " but row " +
            std::to_string(i / width) + "'s value has " + e.type.str());
    else if (!col.nullable && e.nullable)
      error(describe(col, i % width) + " is not null, but row " + std::to_string(i / width) +
            "'s value may be NULL");
  }
}

void Verifier::checkJoinGraph() {
  const Op &op = *op_;
  Schema all;
  std::vector<size_t> input_of; // column -> the input it comes from
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    all.insert(all.end(), input(i)->schema.begin(), input(i)->schema.end());
    input_of.resize(all.size(), i);
  }
  std::set<int32_t> equal; // columns an equality reads: never NULL in the output
  for (size_t i = 0; i < op.equalities.size(); ++i) {
    auto [a, b] = op.equalities[i];
    std::string what = "join equality " + std::to_string(i);
    checkColumn(a, all, what);
    checkColumn(b, all, what);
    if (a < 0 || b < 0 || a >= (int32_t)all.size() || b >= (int32_t)all.size())
      continue;
    if (input_of[a] == input_of[b])
      error(what + " compares two columns of input " + std::to_string(input_of[a]));
    const Type &ta = all[a].type, &tb = all[b].type;
    bool same = ta.kind == TypeKind::Numeric && tb.kind == TypeKind::Numeric ? ta.scale == tb.scale
                                                                             : ta == tb;
    if (!same)
      error(what + " compares " + ta.str() + " with " + tb.str());
    equal.insert(a);
    equal.insert(b);
  }
  Schema expected;
  for (size_t i = 0; i < op.columns.size(); ++i) {
    checkColumn(op.columns[i], all, "output column " + std::to_string(i));
    if (op.columns[i] >= 0 && op.columns[i] < (int32_t)all.size())
      expected.push_back(all[op.columns[i]]);
  }
  if (expected.size() != op.columns.size())
    return;
  checkSchemaIs(expected, "its columns", [&](size_t i) { return equal.count(op.columns[i]) > 0; });
}

namespace {
// PostgreSQL: sum(integer) is bigint, sum(bigint) numeric; Kiln may keep either exact.
bool sumTypeFits(const Type &arg, const Type &result) {
  if (arg.isInteger())
    return result == Type::int64() || (result.kind == TypeKind::Numeric && result.scale == 0);
  if (arg.kind == TypeKind::Numeric)
    return result.kind == TypeKind::Numeric && result.scale == arg.scale;
  return (arg.kind == TypeKind::Float64 || arg.kind == TypeKind::Interval) && result == arg;
}
} // namespace

void Verifier::checkSetFunctions(const Schema &row) {
  const Op &op = *op_;
  if (op.set_calls.empty()) {
    error("unnest has no set-returning function");
    return;
  }
  size_t arg = 0;
  for (const SetCall &call : op.set_calls) {
    std::string name = setFunctionName(call.fn);
    auto [min_args, max_args] = setFunctionArity(call.fn);
    if (call.args < min_args || call.args > max_args ||
        arg + static_cast<size_t>(call.args) > op.exprs.size()) {
      error(name + " has " + std::to_string(call.args) + " arguments");
      return;
    }
    const Type &first = op.exprs[arg]->type;
    // A series of timestamps steps by an interval, its third argument.
    bool times = call.fn == SetFunction::GenerateSeries && first.isTimestamp();
    if (times && call.args != 3)
      error(name + " of " + first.str() + " has no step");
    for (int32_t a = 0; a < call.args; ++a) {
      const Expr &e = *op.exprs[arg + static_cast<size_t>(a)];
      checkExpr(e, row);
      bool fits = call.fn == SetFunction::Unnest ? e.type.isArray()
                  : times                        ? e.type == (a == 2 ? Type::interval() : first)
                  : call.fn == SetFunction::GenerateSeries ? first.isInteger() && e.type == first
                                                           : e.type == Type::jsonb();
      if (!fits)
        error(name + " argument " + std::to_string(a) + " has type " + e.type.str());
    }
    arg += static_cast<size_t>(call.args);
  }
  if (arg != op.exprs.size())
    error("unnest has " + std::to_string(op.exprs.size() - arg) + " arguments no function takes");
  std::optional<Schema> added = unnestColumns(op);
  if (!added)
    return;
  Schema expected = row;
  expected.insert(expected.end(), added->begin(), added->end());
  checkSchemaIs(expected, "its input's and its functions'");
  if (op.predicate) {
    checkExpr(*op.predicate, op.schema);
    if (op.predicate->type != Type::boolean())
      error("unnest condition has type " + op.predicate->type.str() + ", not bool");
  }
}

void Verifier::checkWindow(const Schema &row) {
  const Op &op = *op_;
  for (int32_t key : op.group_keys)
    checkColumn(key, row, "partition column");
  for (const SortKey &key : op.sort_keys)
    checkColumn(key.column, row, "sort key column");
  if (op.limit < -1)
    error("window has a negative limit");
  if (op.windows.empty())
    error("window has no window functions");
  Schema expected = row;
  for (size_t i = 0; i < op.windows.size(); ++i) {
    const WindowCall &call = op.windows[i];
    std::string what = "window function " + std::to_string(i) + " (" + call.name + ")";
    expected.push_back({call.name, call.type, windowNullable(call)});
    checkType(call.type, what);
    bool takes_arg = call.fn >= WindowFn::Lag && call.fn != WindowFn::CountStar;
    if (takes_arg != (call.arg >= 0)) {
      error(what + ": " + windowFnName(call.fn) +
            (takes_arg ? " takes a column argument" : " takes no column argument"));
      continue;
    }
    if (call.arg >= (int32_t)row.size() || call.default_arg >= (int32_t)row.size()) {
      checkColumn(std::max(call.arg, call.default_arg), row, what + ": argument");
      continue;
    }
    if (call.default_arg >= 0 && ((call.fn != WindowFn::Lag && call.fn != WindowFn::Lead) ||
                                  row[call.default_arg].type != row[call.arg].type))
      error(what + ": a default value is lag's or lead's, of the argument's type");
    if (call.n < 0 || ((call.fn == WindowFn::Ntile || call.fn == WindowFn::NthValue) && call.n < 1))
      error(what + ": its count is out of range");
    const Type arg = call.arg >= 0 ? row[call.arg].type : Type::null();
    const Type &result = call.type;
    bool ok = true;
    switch (call.fn) {
    case WindowFn::RowNumber:
    case WindowFn::Rank:
    case WindowFn::DenseRank:
    case WindowFn::Ntile:
    case WindowFn::CountStar:
    case WindowFn::Count:
      ok = result == Type::int64();
      break;
    case WindowFn::PercentRank:
    case WindowFn::CumeDist:
      ok = result == Type::float64();
      break;
    case WindowFn::Sum:
      ok = sumTypeFits(arg, result);
      break;
    default: // the argument's value
      ok = result == arg;
      break;
    }
    if (!ok)
      error(what + ": " + windowFnName(call.fn) + "(" + arg.str() + ") cannot have type " +
            result.str());
    const WindowFrame &frame = call.frame;
    if (frame.hasRangeOffset()) {
      std::optional<Type> offset;
      if (op.sort_keys.size() == 1 && op.sort_keys[0].column >= 0 &&
          op.sort_keys[0].column < (int32_t)row.size())
        offset = rangeOffsetType(row[op.sort_keys[0].column].type);
      if (!offset || frame.offset_type != *offset)
        error(what + ": a RANGE frame with offsets orders by one column and its offsets have " +
              "that column's offset type");
      for (const Value *value : {&frame.start_value, &frame.end_value})
        if (!value->is_null && rangeOffsetNegative(frame.offset_type, *value))
          error(what + ": a RANGE frame's offset is negative");
    } else if (frame.offset_type.kind != TypeKind::Null) {
      error(what + ": only a RANGE frame with offsets has an offset type");
    }
    if (frame.start == FrameBound::UnboundedFollowing ||
        frame.end == FrameBound::UnboundedPreceding || frame.start > frame.end)
      error(what + ": its frame ends before it starts");
  }
  checkSchemaIs(expected, "its input's and its window functions'");
}

void Verifier::checkAggregate(const Schema &row) {
  const Op &op = *op_;
  Schema expected;
  for (int32_t key : op.group_keys) {
    checkColumn(key, row, "group key");
    if (key >= 0 && key < (int32_t)row.size())
      expected.push_back(row[key]);
  }
  if (expected.size() != op.group_keys.size())
    return;

  for (size_t i = 0; i < op.aggregates.size(); ++i) {
    const AggCall &agg = op.aggregates[i];
    std::string what = "aggregate " + std::to_string(i) + " (" + agg.name + ")";
    expected.push_back({agg.name, agg.type, aggregateNullable(op, agg, row)});
    checkType(agg.type, what);
    if (agg.kind == AggKind::CountStar) {
      if (agg.arg != -1)
        error(what + ": count_star takes no argument");
    } else if (agg.arg < 0) {
      error(what + ": " + aggKindName(agg.kind) + " takes a column argument");
      continue;
    } else if (agg.arg >= (int32_t)row.size()) {
      checkColumn(agg.arg, row, what + ": argument");
      continue;
    }
    const Type arg = agg.arg >= 0 ? row[agg.arg].type : Type::null();
    const Type &result = agg.type;
    bool ok = true;
    switch (agg.kind) {
    case AggKind::CountStar:
    case AggKind::Count:
    case AggKind::CountDistinct:
      ok = result == Type::int64();
      break;
    case AggKind::Sum:
    case AggKind::SumDistinct:
      ok = sumTypeFits(arg, result);
      break;
    case AggKind::Avg:
      if (arg.isInteger() || arg.kind == TypeKind::Numeric)
        ok = result.kind == TypeKind::Numeric;
      else if (arg.kind == TypeKind::Float64) // avg(real) is double precision
        ok = result == Type::float64();
      else
        ok = arg.kind == TypeKind::Interval && result == arg;
      break;
    case AggKind::Min:
    case AggKind::Max:
      ok = result == arg;
      break;
    case AggKind::StringAgg:
    case AggKind::JsonbAgg:
    case AggKind::JsonbObjectAgg:
    case AggKind::ArrayAgg:
      // string_agg of text; jsonb_agg of its elements (jsonb); jsonb_object_agg of the text of
      // its members; array_agg of its elements' texts.
      ok = arg == (agg.kind == AggKind::JsonbAgg ? Type::jsonb() : Type::text()) &&
           (agg.kind == AggKind::ArrayAgg
                ? result.isArray()
                : result == (agg.kind == AggKind::StringAgg ? Type::text() : Type::jsonb()));
      for (const SortKey &key : agg.order)
        checkColumn(key.column, row, what + ": order");
      break;
    }
    if (!joinsEntries(agg.kind) && (agg.distinct || !agg.order.empty()))
      error(what + ": only string_agg and the jsonb aggregates have an order or distinct");
    if (agg.kind != AggKind::StringAgg && !agg.separator.empty())
      error(what + ": only string_agg has a separator");
    if (!ok)
      error(what + ": " + aggKindName(agg.kind) + "(" + (agg.arg >= 0 ? arg.str() : "") +
            ") cannot have type " + result.str());
  }
  checkSchemaIs(expected, "group keys ++ aggregates");
}

void Verifier::checkExpr(const Expr &e, const Schema &row) {
  for (const ExprPtr &arg : e.args)
    checkExpr(*arg, row);
  std::string name = exprOpName(e.op);
  size_t n = e.args.size();
  auto argType = [&](size_t i) { return e.args[i]->type; };
  auto arity = [&](size_t expected) {
    if (n == expected)
      return true;
    error(name + " takes " + std::to_string(expected) + (expected == 1 ? " operand" : " operands") +
          ", has " + std::to_string(n));
    return false;
  };
  auto resultIs = [&](const Type &expected) {
    if (e.type != expected)
      error(name + " has result type " + e.type.str() + ", not " + expected.str());
  };
  auto allAre = [&](const Type &expected, size_t from) {
    for (size_t i = from; i < n; ++i)
      if (argType(i) != expected)
        error(name + " operand " + std::to_string(i) + " has type " + argType(i).str() + ", not " +
              expected.str());
  };
  auto neverNull = [&] {
    if (e.nullable)
      error(name + " is never NULL but is marked nullable");
  };

  checkType(e.type, e.op == ExprOp::Literal ? "literal" : name);
  switch (e.op) {
  case ExprOp::Column:
    if (e.column < 0 || e.column >= (int32_t)row.size()) {
      checkColumn(e.column, row, "column");
    } else if (row[e.column].type != e.type) {
      error("column $" + std::to_string(e.column) + " has type " + e.type.str() +
            " but the input column is " + row[e.column].type.str());
    } else if (!e.nullable && row[e.column].nullable) {
      error("column $" + std::to_string(e.column) +
            " is marked not null but the input column may be NULL");
    }
    break;
  case ExprOp::Literal: {
    const Value &v = e.literal;
    if (v.is_null) {
      if (!e.nullable)
        error("NULL literal is marked not null");
    } else if (e.type.kind == TypeKind::Int32 && (v.i < INT32_MIN || v.i > INT32_MAX)) {
      error("literal " + std::to_string(v.i) + " is out of range for i32");
    } else if (e.type.kind == TypeKind::Numeric && e.type.precision >= 1 &&
               e.type.precision <= kMaxNumericPrecision) {
      __int128 limit = 1;
      for (int32_t i = 0; i < e.type.precision; ++i)
        limit *= 10;
      if (v.n >= limit || v.n <= -limit)
        error("literal has more digits than " + e.type.str() + " allows");
    }
    break;
  }
  case ExprOp::Add:
  case ExprOp::Sub:
  case ExprOp::Mul:
  case ExprOp::Div:
  case ExprOp::Mod: {
    if (!arity(2))
      break;
    Type a = argType(0), b = argType(1);
    bool isDate = a.kind == TypeKind::Date;
    bool additive = e.op == ExprOp::Add || e.op == ExprOp::Sub;
    if (e.type == Type::interval()) {
      // timestamp - timestamp (of one type), interval +/- interval, interval * or / f64.
      bool ok = (e.op == ExprOp::Sub && a.isTimestamp() && b == a) ||
                (additive && a == Type::interval() && b == a) ||
                ((e.op == ExprOp::Mul || e.op == ExprOp::Div) && a == Type::interval() &&
                 b == Type::float64());
      if (!ok)
        error(name + " of " + a.str() + " and " + b.str() + " has result type interval");
    } else if (isDate && additive && b == Type::int32()) {
      resultIs(Type::date());
    } else if (isDate && e.op == ExprOp::Sub && b == Type::date()) {
      resultIs(Type::int32());
    } else if (!a.isNumericLike() || !comparable(a, b)) {
      error(name + " operands are " + a.str() + " and " + b.str());
    } else if (a.kind == TypeKind::Numeric ? e.type.kind != TypeKind::Numeric : e.type != a) {
      error(name + " of " + a.str() + " has result type " + e.type.str());
    }
    break;
  }
  case ExprOp::Neg:
    if (!arity(1))
      break;
    if (argType(0) == Type::interval())
      resultIs(Type::interval());
    else if (!argType(0).isNumericLike())
      error("neg operand has type " + argType(0).str());
    else if (argType(0).kind == TypeKind::Numeric ? e.type.kind != TypeKind::Numeric
                                                  : e.type != argType(0))
      error("neg of " + argType(0).str() + " has result type " + e.type.str());
    break;
  case ExprOp::Eq:
  case ExprOp::Ne:
  case ExprOp::Lt:
  case ExprOp::Le:
  case ExprOp::Gt:
  case ExprOp::Ge:
  case ExprOp::IsDistinctFrom:
  case ExprOp::IsNotDistinctFrom:
    resultIs(Type::boolean());
    if (e.op == ExprOp::IsDistinctFrom || e.op == ExprOp::IsNotDistinctFrom)
      neverNull();
    if (arity(2) && !comparable(argType(0), argType(1)))
      error(name + " compares " + argType(0).str() + " with " + argType(1).str());
    break;
  case ExprOp::And:
  case ExprOp::Or:
    resultIs(Type::boolean());
    if (n < 2)
      error(name + " takes at least 2 operands, has " + std::to_string(n));
    allAre(Type::boolean(), 0);
    break;
  case ExprOp::Not:
    resultIs(Type::boolean());
    if (arity(1))
      allAre(Type::boolean(), 0);
    break;
  case ExprOp::IsNull:
  case ExprOp::IsNotNull:
    resultIs(Type::boolean());
    neverNull();
    arity(1);
    break;
  case ExprOp::Case:
    if (n < 3 || n % 2 == 0) {
      error("case takes condition/value pairs and an else value, has " + std::to_string(n) +
            " operands");
      break;
    }
    for (size_t i = 0; i + 1 < n; i += 2) {
      if (argType(i) != Type::boolean())
        error("case condition " + std::to_string(i / 2) + " has type " + argType(i).str() +
              ", not bool");
      if (argType(i + 1) != e.type)
        error("case value " + std::to_string(i / 2) + " has type " + argType(i + 1).str() +
              ", not " + e.type.str());
    }
    if (argType(n - 1) != e.type)
      error("case else value has type " + argType(n - 1).str() + ", not " + e.type.str());
    break;
  case ExprOp::Coalesce:
  case ExprOp::Greatest:
  case ExprOp::Least:
    if (n == 0)
      error(name + " takes at least 1 operand");
    allAre(e.type, 0);
    break;
  case ExprOp::NullIf:
    if (arity(2))
      allAre(e.type, 0);
    break;
  case ExprOp::Cast:
    arity(1);
    break;
  case ExprOp::Like:
    resultIs(Type::boolean());
    if (arity(2))
      allAre(Type::text(), 0);
    break;
  case ExprOp::Concat:
    resultIs(Type::text());
    if (arity(2))
      allAre(Type::text(), 0);
    break;
  case ExprOp::Call:
    checkCall(e);
    break;
  }
}

void Verifier::checkCall(const Expr &e) {
  const FunctionInfo &fn = functionInfo(e.function);
  std::string name = fn.name;
  size_t n = e.args.size();
  if ((int)n < fn.min_args || (int)n > fn.max_args) {
    error(name + " takes " + std::to_string(fn.min_args) +
          (fn.max_args > fn.min_args ? " to " + std::to_string(fn.max_args) : "") +
          " operands, has " + std::to_string(n));
    return;
  }
  auto argIs = [&](size_t i, bool ok, const std::string &expected) {
    if (!ok)
      error(name + " operand " + std::to_string(i) + " has type " + e.args[i]->type.str() +
            ", not " + expected);
  };
  auto resultIs = [&](bool ok, const std::string &expected) {
    if (!ok)
      error(name + " has result type " + e.type.str() + ", not " + expected);
  };
  const Type first = e.args.empty() ? Type::null() : e.args[0]->type; // builders take none
  switch (fn.signature) {
  case FunctionSignature::JsonbAccess: {
    JsonbAccessTypes types = jsonbAccessTypes(e.function);
    argIs(0, first == Type::jsonb(), "jsonb");
    for (size_t i = 1; i < n; ++i)
      argIs(i, e.args[i]->type == types.step, types.step.str());
    resultIs(e.type == types.result, types.result.str());
    break;
  }
  case FunctionSignature::TextToText:
  case FunctionSignature::TextReplace:
    for (size_t i = 0; i < n; ++i)
      argIs(i, e.args[i]->type == Type::text(), "text");
    resultIs(e.type == Type::text(), "text");
    break;
  case FunctionSignature::TextLength:
    argIs(0, first == Type::text(), "text");
    resultIs(e.type == Type::int32(), "i32");
    break;
  case FunctionSignature::TextIntToText:
  case FunctionSignature::Pad:
    argIs(0, first == Type::text(), "text");
    argIs(1, e.args[1]->type == Type::int32(), "i32");
    if (n == 3)
      argIs(2, e.args[2]->type == Type::text(), "text");
    resultIs(e.type == Type::text(), "text");
    break;
  case FunctionSignature::TextTextToInt:
    argIs(0, first == Type::text(), "text");
    argIs(1, e.args[1]->type == Type::text(), "text");
    resultIs(e.type == Type::int32(), "i32");
    break;
  case FunctionSignature::TextTextToBool:
    for (size_t i = 0; i < n; ++i)
      argIs(i, e.args[i]->type == Type::text(), "text");
    resultIs(e.type == Type::boolean(), "bool");
    break;
  case FunctionSignature::SplitPart:
    argIs(0, first == Type::text(), "text");
    argIs(1, e.args[1]->type == Type::text(), "text");
    argIs(2, e.args[2]->type == Type::int32(), "i32");
    resultIs(e.type == Type::text(), "text");
    break;
  case FunctionSignature::TextSubstr:
    argIs(0, first == Type::text(), "text");
    for (size_t i = 1; i < n; ++i)
      argIs(i, e.args[i]->type == Type::int32(), "i32");
    resultIs(e.type == Type::text(), "text");
    break;
  case FunctionSignature::SameNumber:
    argIs(0, first.isNumericLike(), "a number");
    resultIs(first.kind == TypeKind::Numeric ? e.type.kind == TypeKind::Numeric : e.type == first,
             first.str());
    break;
  case FunctionSignature::SquareRoot:
    argIs(0, first.kind == TypeKind::Numeric || first.kind == TypeKind::Float64, "numeric or f64");
    resultIs(first.kind == TypeKind::Numeric
                 ? e.type.kind == TypeKind::Numeric && e.type.scale == sqrtScale(first.scale)
                 : e.type == first,
             first.kind == TypeKind::Numeric ? "numeric at sqrtScale" : first.str());
    break;
  case FunctionSignature::VarianceQuotient: {
    for (size_t i = 0; i < n; ++i)
      argIs(i, e.args[i]->type.kind == TypeKind::Numeric, "numeric");
    int32_t scale = sqrtScale(std::max(16, first.scale));
    resultIs(e.type.kind == TypeKind::Numeric && e.type.scale == scale,
             "numeric(38," + std::to_string(scale) + ")");
    break;
  }
  case FunctionSignature::FloatMath:
    for (size_t i = 0; i < n; ++i)
      argIs(i, e.args[i]->type == Type::float64(), "f64");
    resultIs(e.type == Type::float64(), "f64");
    break;
  case FunctionSignature::RoundNumber:
    argIs(0, first.kind == TypeKind::Numeric || (first.kind == TypeKind::Float64 && n == 1),
          n == 1 ? "numeric or f64" : "numeric");
    if (n == 2)
      argIs(1, e.args[1]->op == ExprOp::Literal && e.args[1]->type == Type::int32(),
            "an i32 literal (the digits)");
    resultIs(e.type.kind == first.kind, first.kind == TypeKind::Numeric ? "numeric" : first.str());
    break;
  case FunctionSignature::DateTrunc:
    argIs(0,
          e.args[0]->op == ExprOp::Literal && first == Type::text() &&
              dateTruncUnit(e.args[0]->literal.s) >= 0,
          "a text literal naming a unit");
    argIs(1, e.args[1]->type.isTimestamp(), "timestamp or timestamptz");
    resultIs(e.type == e.args[1]->type, e.args[1]->type.str());
    break;
  case FunctionSignature::Age:
    argIs(0, first.isTimestamp(), "timestamp or timestamptz");
    argIs(1, e.args[1]->type == first, first.str());
    resultIs(e.type == Type::interval(), "interval");
    break;
  case FunctionSignature::MakeDate:
    for (size_t i = 0; i < n; ++i)
      argIs(i, e.args[i]->type == Type::int32(), "i32");
    resultIs(e.type == Type::date(), "date");
    break;
  case FunctionSignature::MakeTimestamp:
    for (size_t i = 0; i + 1 < n; ++i)
      argIs(i, e.args[i]->type == Type::int32(), "i32");
    argIs(n - 1, e.args[n - 1]->type == Type::float64(), "f64");
    resultIs(e.type == Type::timestamp(), "timestamp");
    break;
  case FunctionSignature::ToChar:
    if (e.function == FunctionId::ToCharNumber)
      argIs(0,
            first.kind == TypeKind::Int32 || first.kind == TypeKind::Int64 ||
                first.kind == TypeKind::Numeric || first.kind == TypeKind::Float64,
            "a number");
    else
      argIs(0, first.isTimestamp(), "timestamp or timestamptz");
    argIs(1, e.args[1]->type == Type::text(), "text");
    resultIs(e.type == Type::text(), "text");
    break;
  case FunctionSignature::JsonbBuild:
    if (e.function == FunctionId::JsonbBuildObject && n % 2 != 0)
      error(name + " has an odd number of operands, not keys and values in pairs");
    resultIs(e.type == Type::jsonb(), "jsonb");
    break;
  case FunctionSignature::JsonbMember:
    resultIs(e.type == Type::text(), "text");
    break;
  case FunctionSignature::Array:
    switch (e.function) {
    case FunctionId::ArrayBuild:
      for (size_t i = 0; i < n; ++i)
        argIs(i, e.args[i]->type == Type::text(), "text");
      resultIs(e.type.isArray(), "an array");
      break;
    case FunctionId::ArrayElement:
      argIs(0, first == Type::text(), "text");
      resultIs(e.type == Type::text(), "text");
      break;
    case FunctionId::ArrayGet:
    case FunctionId::ArrayLength:
      argIs(0, first.isArray(), "an array");
      argIs(1, e.args[1]->type == Type::int32(), "i32");
      resultIs(e.type == (e.function == FunctionId::ArrayGet ? Type::text() : Type::int32()),
               e.function == FunctionId::ArrayGet ? "text" : "i32");
      break;
    case FunctionId::ArraySlice:
      argIs(0, first.isArray(), "an array");
      argIs(1, e.args[1]->type == Type::int32(), "i32");
      argIs(2, e.args[2]->type == Type::int32(), "i32");
      resultIs(e.type == first, first.str());
      break;
    case FunctionId::ArrayFind:
      argIs(0, first.isArray(), "an array");
      argIs(1, e.args[1]->type == Type::text(), "text");
      resultIs(e.type == Type::boolean(), "bool");
      break;
    case FunctionId::Cardinality:
      argIs(0, first.isArray(), "an array");
      resultIs(e.type == Type::int32(), "i32");
      break;
    case FunctionId::ArrayContains:
    case FunctionId::ArrayOverlap:
    case FunctionId::ArrayCat:
      argIs(0, first.isArray(), "an array");
      argIs(1, e.args[1]->type == first, first.str());
      resultIs(e.type == (e.function == FunctionId::ArrayCat ? first : Type::boolean()),
               e.function == FunctionId::ArrayCat ? first.str() : "bool");
      break;
    case FunctionId::ArrayPosition:
    case FunctionId::ArrayRemove:
      argIs(0, first.isArray(), "an array");
      argIs(1, e.args[1]->type == Type::text(), "text"); // the element's text
      resultIs(e.type == (e.function == FunctionId::ArrayRemove ? first : Type::int32()),
               e.function == FunctionId::ArrayRemove ? first.str() : "i32");
      break;
    case FunctionId::ArrayCompare:
      argIs(0, first.isArray(), "an array");
      argIs(2,
            e.args[2]->op == ExprOp::Literal && e.args[2]->type == Type::int32() &&
                e.args[2]->literal.i >= 0 && e.args[2]->literal.i <= 9,
            "an operator's code (0-9)");
      resultIs(e.type == Type::boolean(), "bool");
      break;
    case FunctionId::StringToArray:
    case FunctionId::RegexpSplitToArray:
      for (size_t i = 0; i < n; ++i)
        argIs(i, e.args[i]->type == Type::text(), "text");
      resultIs(e.type == Type::array(Type::text()), "text[]");
      break;
    default: // ArrayToString
      argIs(0, first.isArray(), "an array");
      for (size_t i = 1; i < n; ++i)
        argIs(i, e.args[i]->type == Type::text(), "text");
      resultIs(e.type == Type::text(), "text");
      break;
    }
    break;
  case FunctionSignature::IntervalToInterval:
    argIs(0, first == Type::interval(), "interval");
    resultIs(e.type == Type::interval(), "interval");
    break;
  case FunctionSignature::AtTimeZone: {
    std::string zone_error;
    argIs(0,
          e.args[0]->op == ExprOp::Literal && first == Type::text() &&
              (timeZone(e.args[0]->literal.s, &zone_error), zone_error.empty()),
          "a text literal naming a time zone");
    argIs(1, e.args[1]->type.isTimestamp(), "timestamp or timestamptz");
    Type other = e.args[1]->type == Type::timestamp() ? Type::timestamptz() : Type::timestamp();
    resultIs(e.type == other, other.str());
    break;
  }
  case FunctionSignature::DatePart:
  case FunctionSignature::Extract: {
    bool from_date = e.args[1]->type == Type::date();
    bool from_interval = e.args[1]->type == Type::interval();
    int32_t field = e.args[0]->op == ExprOp::Literal && first == Type::text()
                        ? dateField(e.args[0]->literal.s)
                        : -1;
    argIs(0, field >= 0, "a text literal naming a field");
    argIs(0, !from_interval || field < 0 || kiln_interval_has_field(field),
          "a field an interval has");
    argIs(0, field < 0 || !kiln_date_field_is_zone(field) || e.args[1]->type == Type::timestamptz(),
          "a field its argument has (only timestamptz has time zone fields)");
    if (fn.signature == FunctionSignature::DatePart) {
      argIs(1, e.args[1]->type.isTimestamp() || from_interval,
            "timestamp, timestamptz or interval");
      resultIs(e.type == Type::float64(), "f64");
    } else {
      argIs(1, from_date || from_interval || e.args[1]->type.isTimestamp(),
            "date, timestamp or interval");
      argIs(0, !(from_date && field >= 0 && kiln_date_field_is_time(field)), "a field a date has");
      resultIs(e.type.kind == TypeKind::Numeric &&
                   e.type.scale == kiln_extract_scale(field, from_date),
               "numeric with the field's scale");
    }
    break;
  }
  case FunctionSignature::AddInterval:
    argIs(0, first.isTimestamp(), "timestamp or timestamptz");
    argIs(1, e.args[1]->type == Type::interval(), "interval");
    resultIs(e.type == first, first.str());
    break;
  }
}

} // namespace

std::vector<std::string> verifyModule(const Module &module) { return Verifier(module).run(); }

} // namespace kiln::ir
