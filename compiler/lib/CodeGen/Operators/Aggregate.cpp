// Aggregate: GROUP BY with COUNT, SUM, AVG, MIN and MAX, all retractable. Each group keeps its
// row count and per-aggregate state; MIN/MAX keep an ordered multiset of their values, so that
// deleting the current extreme finds the next one. A change updates its group and lists it as
// changed; at the tick's end each changed group retracts its old output row and emits its new
// one (nothing when they are equal).

#include "Operator.h"

#include <algorithm>
#include <map>

namespace kiln::codegen {

using ir::TypeKind;

namespace {

// MIN, MAX, count(DISTINCT) and sum(DISTINCT) keep a multiset of their values per group;
// string_agg and the jsonb aggregates one of their entries (kiln_agg_entry_add: the row's order
// key, then the value).
bool keepsValues(const ir::AggCall &agg) {
  return agg.kind == ir::AggKind::Min || agg.kind == ir::AggKind::Max ||
         agg.kind == ir::AggKind::CountDistinct || agg.kind == ir::AggKind::SumDistinct ||
         ir::joinsEntries(agg.kind);
}

// MIN and MAX of arrays keep each value as an entry that sorts as array_cmp orders the arrays
// (kiln_array_ordered_entry: its order key, then its text); their texts' bytes do not.
bool keepsOrderedEntries(const ir::AggCall &agg) {
  return (agg.kind == ir::AggKind::Min || agg.kind == ir::AggKind::Max) && agg.type.isArray();
}

// Whether `a` can read the multiset `b` keeps: the same values of the same column, or the same
// entries (aggregates joining one value in one order, whatever their separators and shapes).
bool sharesValues(const ir::AggCall &a, const ir::AggCall &b) {
  if (!keepsValues(a) || !keepsValues(b) || a.arg != b.arg ||
      keepsOrderedEntries(a) != keepsOrderedEntries(b))
    return false;
  bool entries = ir::joinsEntries(a.kind);
  return entries == ir::joinsEntries(b.kind) && (!entries || a.order == b.order);
}

// How kiln_agg_entries_join joins an aggregate's entries.
kiln_agg_shape joinShape(ir::AggKind kind) {
  return kind == ir::AggKind::JsonbAgg         ? KILN_AGG_JSONB_ARRAY
         : kind == ir::AggKind::JsonbObjectAgg ? KILN_AGG_JSONB_OBJECT
         : kind == ir::AggKind::ArrayAgg       ? KILN_AGG_ARRAY
                                               : KILN_AGG_TEXT;
}

struct AggLayout {
  llvm::StructType *payload = nullptr;
  const RowLayout *key = nullptr;
  const RowLayout *out = nullptr;
  std::vector<int> agg_field; // first payload field of each aggregate's state
  // Per aggregate: whether an earlier one keeps the state it reads (MIN, MAX, count(DISTINCT)
  // and sum(DISTINCT) of one column share one multiset, which the first of them updates,
  // describes and frees).
  std::vector<bool> shared;
  int count_field = 1, dirty_field = 0, old_present_field = 0, old_field = 0;
};

// Aggregate state per group: { key row, row count, per-aggregate state..., dirty, had output,
// output at tick start }. Per aggregate: COUNT {n}; SUM/AVG {n, sum}; MIN/MAX {n, multiset}.
AggLayout layoutFor(Emitter &e_, const ir::Op &op) {
  AggLayout l;
  const ir::Op &input = e_.input(op, 0);
  std::vector<ir::Type> key_types;
  for (int32_t k : op.group_keys)
    key_types.push_back(input.schema[k].type);
  l.key = &e_.layoutOf(key_types);
  l.out = &e_.layoutOf(op.schema);
  std::vector<llvm::Type *> fields{l.key->type, e_.i64_};
  for (size_t j = 0; j < op.aggregates.size(); ++j) {
    const ir::AggCall &agg = op.aggregates[j];
    auto owner =
        std::find_if(op.aggregates.begin(), op.aggregates.begin() + j,
                     [&](const ir::AggCall &earlier) { return sharesValues(agg, earlier); });
    l.shared.push_back(owner != op.aggregates.begin() + j);
    if (l.shared.back()) {
      l.agg_field.push_back(l.agg_field[owner - op.aggregates.begin()]);
      continue;
    }
    l.agg_field.push_back(static_cast<int>(fields.size()));
    if (agg.kind == ir::AggKind::CountStar)
      continue;
    fields.push_back(e_.i64_); // non-NULL count
    if (agg.kind == ir::AggKind::Sum || agg.kind == ir::AggKind::Avg) {
      const ir::Type &t = input.schema[agg.arg].type;
      // The accumulator has the result's representation: a bigint SUM (of integers) adds
      // with overflow checks, a NUMERIC SUM or AVG exactly in 128 bits, a float one in doubles.
      (void)t;
      fields.push_back(agg.type.kind == TypeKind::Float64 ? e_.f64_
                       : agg.type.kind == TypeKind::Int64 ? e_.i64_
                                                          : e_.i128_);
    } else if (keepsValues(agg)) {
      fields.push_back(e_.ptr_);
    }
  }
  l.dirty_field = static_cast<int>(fields.size());
  fields.push_back(e_.i8_);
  l.old_present_field = static_cast<int>(fields.size());
  fields.push_back(e_.i8_);
  // The output row at the tick's start matters only within a tick: the group keeps a pointer to
  // it in the tick's scratch memory, not the row itself.
  l.old_field = static_cast<int>(fields.size());
  fields.push_back(e_.ptr_);
  l.payload = llvm::StructType::get(e_.ctx_, fields);
  return l;
}

class AggregateGen : public OperatorGen {
public:
  AggregateGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), l_(layoutFor(emitter, op)) {}

  std::vector<Arrangement> arrangements() override;
  void defineConsumers() override;
  void defineFlush() override;
  // Between ticks every group's output row follows from its state; a group has output while
  // its count is positive (a global aggregate's always: checkpoints follow a tick).
  bool hasContents() const override { return true; }
  void defineContents() override;
  // A group's state depends only on its key and the aggregates' arguments: an update that
  // changes neither (a customer's region, to the order totals) changes nothing here, and one that
  // keeps the key moves its group's aggregates, found once (regroup).
  void emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override;
  void emitCreate() override;
  void emitDestroy() override;

private:
  // The group of `row`, created if it has none.
  llvm::Value *findGroup(llvm::Value *row);
  void accumulate(llvm::Value *payload, llvm::Value *row, llvm::Value *weight);
  // aggregate_N.regroup(state, old, new, weight): an update within one group.
  llvm::Function *regrouper();
  llvm::Function *regroup_ = nullptr;
  // Writes the group's current output row to `out`; `intern_text` copies MIN/MAX text that the
  // multiset may drop before the saved row is used.
  void aggregateOutput(llvm::Value *payload, llvm::Value *out, bool intern_text);
  // Frees the MIN/MAX multisets of the group at `payload` (a group of only NULLs has none).
  void freeMultisets(llvm::Value *payload);
  bool keepsMultisets() const {
    return std::any_of(op_.aggregates.begin(), op_.aggregates.end(), keepsValues);
  }

  // string_agg's entries: the input's layout with the sort columns as its key, and their
  // directions (kiln_agg_entry_add).
  llvm::Value *entryLayout(const ir::AggCall &agg) {
    llvm::Value *&layout = entry_layouts_[&agg];
    if (layout)
      return layout;
    std::vector<int32_t> columns;
    for (const ir::SortKey &key : agg.order)
      columns.push_back(key.column);
    llvm::Constant *desc =
        e_.relationDescriptor(op_.stateName(), "", e_.input(op_, 0).schema, columns, Connector{});
    return layout = new llvm::GlobalVariable(e_.module_, desc->getType(), true,
                                             llvm::GlobalValue::PrivateLinkage, desc,
                                             op_.stateName() + "." + agg.name + ".layout");
  }
  llvm::Value *entryOrder(const ir::AggCall &agg) {
    llvm::Value *&order = entry_orders_[&agg];
    if (order)
      return order;
    std::vector<uint8_t> flags;
    for (const ir::SortKey &key : agg.order)
      flags.push_back(static_cast<uint8_t>(key.descending | key.nulls_first << 1));
    flags.push_back(0); // never empty
    llvm::Constant *data = llvm::ConstantDataArray::get(e_.ctx_, flags);
    return order = new llvm::GlobalVariable(e_.module_, data->getType(), true,
                                            llvm::GlobalValue::PrivateLinkage, data,
                                            op_.stateName() + "." + agg.name + ".order");
  }
  std::map<const ir::AggCall *, llvm::Value *> entry_layouts_, entry_orders_;

  AggLayout l_;
};

std::vector<Arrangement> AggregateGen::arrangements() {
  const ir::Op &input = e_.input(op_, 0);
  Arrangement groups;
  groups.role = "groups";
  groups.describe = "state per group";
  groups.payload = l_.payload;
  groups.size = op_.stateSize();
  ir::Schema keys;
  for (int32_t k : op_.group_keys)
    keys.push_back(input.schema[k]);
  describeRow(groups, 0, *l_.key, keys);
  groups.key_fields = Emitter::allColumns(op_.group_keys.size());
  groups.unique_key = true; // one entry per group
  describeScalar(groups, l_.count_field, "count", KILN_FIELD_WEIGHT);
  for (size_t j = 0; j < op_.aggregates.size(); ++j) {
    const ir::AggCall &agg = op_.aggregates[j];
    if (agg.kind == ir::AggKind::CountStar || l_.shared[j])
      continue;
    int field = l_.agg_field[j];
    describeScalar(groups, field, agg.name + ".count", KILN_FIELD_WEIGHT);
    const ir::Type &arg = input.schema[agg.arg].type;
    if (agg.kind == ir::AggKind::Sum || agg.kind == ir::AggKind::Avg) {
      llvm::Type *acc = l_.payload->getElementType(field + 1);
      int32_t kind = acc == e_.f64_                        ? KILN_T_FLOAT64
                     : acc == e_.i64_                      ? KILN_T_INT64
                     : agg.type.kind == TypeKind::Interval ? KILN_T_INTERVAL
                                                           : KILN_T_NUMERIC;
      describeScalar(groups, field + 1, agg.name + ".sum", KILN_FIELD_VALUE, kind);
      groups.fields.back().scale = arg.kind == TypeKind::Numeric ? arg.scale : 0;
    } else if (keepsValues(agg)) {
      describeScalar(groups, field + 1, agg.name + ".values", KILN_FIELD_MULTISET,
                     Emitter::storageKind(arg));
    }
  }
  describeScalar(groups, l_.dirty_field, "changed", KILN_FIELD_FLAG);
  describeScalar(groups, l_.old_present_field, "had output", KILN_FIELD_FLAG);
  // A pointer into the tick's scratch memory: nothing between ticks.
  describeScalar(groups, l_.old_field, "output at tick start", KILN_FIELD_SCRATCH);
  return {groups, changedList("groups changed in this tick")};
}

void AggregateGen::aggregateOutput(llvm::Value *payload, llvm::Value *out, bool intern_text) {
  const ir::Op &op = op_;
  const AggLayout &l = l_;
  const ir::Op &input = e_.input(op, 0);
  b_.CreateMemSet(out, b_.getInt8(0), e_.layout_.getTypeAllocSize(l.out->type),
                  llvm::MaybeAlign(8));
  llvm::Value *key = b_.CreateStructGEP(l.payload, payload, 0);
  int keys = static_cast<int>(op.group_keys.size());
  for (int i = 0; i < keys; ++i)
    e_.copyColumn(*l.key, key, i, *l.out, out, i);
  llvm::Value *count =
      b_.CreateLoad(e_.i64_, b_.CreateStructGEP(l.payload, payload, l.count_field));
  for (size_t j = 0; j < op.aggregates.size(); ++j) {
    const ir::AggCall &agg = op.aggregates[j];
    int column = keys + static_cast<int>(j);
    int field = l.agg_field[j];
    if (agg.kind == ir::AggKind::CountStar) {
      e_.storeColumn(*l.out, out, column, {count, b_.getFalse()});
      continue;
    }
    llvm::Value *n = b_.CreateLoad(e_.i64_, b_.CreateStructGEP(l.payload, payload, field));
    llvm::Value *empty = b_.CreateICmpSLE(n, b_.getInt64(0));
    const ir::Type &arg_type = input.schema[agg.arg].type;
    switch (agg.kind) {
    case ir::AggKind::Count:
      e_.storeColumn(*l.out, out, column, {n, b_.getFalse()});
      break;
    case ir::AggKind::Sum: {
      llvm::Value *sum = b_.CreateLoad(l.payload->getElementType(field + 1),
                                       b_.CreateStructGEP(l.payload, payload, field + 1));
      if (agg.type.isReal()) // accumulated in double, shown as the real it rounds to
        sum = e_.call("kiln_f64_to_real", {e_.rt(), sum, b_.getInt32(e_.locationIndex(op.loc))});
      e_.storeColumn(*l.out, out, column, {sum, empty});
      break;
    }
    case ir::AggKind::Avg: {
      llvm::Value *sum = b_.CreateLoad(l.payload->getElementType(field + 1),
                                       b_.CreateStructGEP(l.payload, payload, field + 1));
      llvm::Value *avg;
      if (agg.type.kind == TypeKind::Float64) {
        avg = b_.CreateFDiv(sum, b_.CreateSIToFP(n, e_.f64_));
      } else if (agg.type.kind == TypeKind::Interval) {
        // interval / count, as PostgreSQL's interval_avg divides; an empty group's is NULL.
        llvm::Value *divisor = b_.CreateSIToFP(b_.CreateSelect(empty, b_.getInt64(1), n), e_.f64_);
        avg = e_.call("kiln_interval_div",
                      {e_.rt(), sum, divisor, b_.getInt32(e_.locationIndex(op.loc))});
      } else {
        // Guard the division: an empty group's average is NULL, not a division by zero.
        llvm::Value *divisor = b_.CreateSExt(b_.CreateSelect(empty, b_.getInt64(1), n), e_.i128_);
        int32_t scale = arg_type.kind == TypeKind::Numeric ? arg_type.scale : 0;
        avg = e_.call("kiln_numeric_div",
                      {e_.rt(), sum, b_.getInt32(scale), divisor, b_.getInt32(0),
                       b_.getInt32(agg.type.scale), b_.getInt32(e_.locationIndex(op.loc))});
      }
      e_.storeColumn(*l.out, out, column, {avg, empty});
      break;
    }
    case ir::AggKind::Min:
    case ir::AggKind::Max: {
      // The multiset exists once a non-NULL value arrived; a group of only NULLs has none.
      llvm::Value *set = b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(l.payload, payload, field + 1));
      llvm::Value *slot = e_.columnPtr(*l.out, out, column);
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *read = llvm::BasicBlock::Create(e_.ctx_, "extreme", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(e_.ctx_, "extreme.done", f);
      b_.CreateCondBr(b_.CreateIsNull(set), after, read);
      b_.SetInsertPoint(read);
      b_.CreateCall(e_.fn(agg.kind == ir::AggKind::Min ? "kiln_ms_min" : "kiln_ms_max"),
                    {set, slot});
      if (keepsOrderedEntries(agg)) {
        llvm::Value *entry = b_.CreateLoad(e_.str_, slot);
        b_.CreateStore(e_.call("kiln_ordered_entry_value",
                               {b_.CreateExtractValue(entry, 0), b_.CreateExtractValue(entry, 1)}),
                       slot);
      }
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      if (intern_text && agg.type.isString()) {
        // The multiset may drop this value before the saved output is retracted: keep a copy.
        llvm::Value *text = b_.CreateLoad(e_.str_, slot);
        b_.CreateStore(e_.internText(text), slot);
      }
      SqlValue v = e_.loadColumn(*l.out, out, column, false);
      e_.storeColumn(*l.out, out, column, {v.value, empty});
      break;
    }
    case ir::AggKind::CountDistinct: {
      // The multiset exists once a non-NULL value arrived.
      llvm::Value *set = b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(l.payload, payload, field + 1));
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *before = b_.GetInsertBlock();
      llvm::BasicBlock *read = llvm::BasicBlock::Create(e_.ctx_, "distinct", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(e_.ctx_, "distinct.done", f);
      b_.CreateCondBr(b_.CreateIsNull(set), after, read);
      b_.SetInsertPoint(read);
      llvm::Value *distinct = b_.CreateCall(e_.fn("kiln_ms_distinct"), {set});
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      llvm::PHINode *count_distinct = b_.CreatePHI(e_.i64_, 2);
      count_distinct->addIncoming(b_.getInt64(0), before);
      count_distinct->addIncoming(distinct, read);
      e_.storeColumn(*l.out, out, column, {count_distinct, b_.getFalse()});
      break;
    }
    case ir::AggKind::SumDistinct: {
      // The runtime sums the distinct values exactly (in 128 bits) or in doubles; a bigint
      // result (of integers) is checked against bigint's range here.
      llvm::Value *set = b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(l.payload, payload, field + 1));
      bool floating = agg.type.kind == TypeKind::Float64;
      llvm::Value *sum = e_.entryAlloca(floating ? e_.f64_ : e_.i128_);
      b_.CreateStore(llvm::Constant::getNullValue(floating ? e_.f64_ : e_.i128_), sum);
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *read = llvm::BasicBlock::Create(e_.ctx_, "sum.distinct", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(e_.ctx_, "sum.distinct.done", f);
      b_.CreateCondBr(b_.CreateIsNull(set), after, read);
      b_.SetInsertPoint(read);
      b_.CreateCall(e_.fn("kiln_ms_sum"), {e_.rt(), set, b_.getInt32(e_.storageKind(arg_type)), sum,
                                           b_.getInt32(e_.locationIndex(op.loc))});
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      llvm::Value *value = b_.CreateLoad(floating ? e_.f64_ : e_.i128_, sum);
      if (agg.type.kind == TypeKind::Int64) {
        llvm::Value *narrow = b_.CreateTrunc(value, e_.i64_);
        e_.raiseIf(b_.CreateICmpNE(b_.CreateSExt(narrow, e_.i128_), value),
                   KILN_ERR_BIGINT_OUT_OF_RANGE, op.loc);
        value = narrow;
      }
      e_.storeColumn(*l.out, out, column, {value, empty});
      break;
    }
    case ir::AggKind::StringAgg:
    case ir::AggKind::JsonbAgg:
    case ir::AggKind::JsonbObjectAgg:
    case ir::AggKind::ArrayAgg: {
      // The set exists once a non-NULL value arrived; the values joined, NULL if none is left.
      llvm::Value *set = b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(l.payload, payload, field + 1));
      llvm::Value *joined = e_.entryAlloca(e_.str_);
      b_.CreateStore(llvm::Constant::getNullValue(e_.str_), joined);
      llvm::Value *present = e_.entryAlloca(e_.i32_);
      b_.CreateStore(b_.getInt32(0), present);
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *read = llvm::BasicBlock::Create(e_.ctx_, "join", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(e_.ctx_, "join.done", f);
      b_.CreateCondBr(b_.CreateIsNull(set), after, read);
      b_.SetInsertPoint(read);
      llvm::Value *separator = e_.constantText(agg.separator);
      b_.CreateStore(
          b_.CreateCall(e_.fn("kiln_agg_entries_join"),
                        {e_.rt(), set, b_.getInt32(joinShape(agg.kind)),
                         b_.CreateExtractValue(separator, 0), b_.CreateExtractValue(separator, 1),
                         b_.getInt32(agg.distinct), b_.getInt32(e_.locationIndex(op.loc)), joined}),
          present);
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      llvm::Value *none = b_.CreateICmpEQ(b_.CreateLoad(e_.i32_, present), b_.getInt32(0));
      e_.storeColumn(*l.out, out, column, {b_.CreateLoad(e_.str_, joined), none});
      break;
    }
    default:
      break;
    }
  }
}

void AggregateGen::defineConsumers() {
  llvm::Function *f = e_.beginConsumer(consumer(0));
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  llvm::Value *payload = findGroup(row);
  accumulate(payload, row, weight);
  b_.CreateRetVoid();
}

llvm::Value *AggregateGen::findGroup(llvm::Value *row) {
  const ir::Op &op = op_;
  const AggLayout &l = l_;
  const RowLayout &in = e_.layoutOf(e_.input(op, 0).schema);
  std::vector<int32_t> key_columns = Emitter::allColumns(op.group_keys.size());
  llvm::Value *hash = e_.hashColumns(in, row, op.group_keys);
  return e_.findOrInsert(
      slot(0), hash,
      [&](llvm::Value *candidate) {
        return e_.columnsEqual(in, row, op.group_keys, *l.key,
                               b_.CreateStructGEP(l.payload, candidate, 0), key_columns);
      },
      [&](llvm::Value *fresh) {
        llvm::Value *key = b_.CreateStructGEP(l.payload, fresh, 0);
        for (size_t i = 0; i < op.group_keys.size(); ++i)
          e_.copyColumn(in, row, op.group_keys[i], *l.key, key, static_cast<int>(i),
                        /*intern=*/true);
      });
}

// The group at `payload` takes `row` with `weight`: it is listed as changed (its output at the
// tick's start saved) the first time in a tick, and its count and aggregates move.
void AggregateGen::accumulate(llvm::Value *payload, llvm::Value *row, llvm::Value *weight) {
  const ir::Op &op = op_;
  const AggLayout &l = l_;
  const RowLayout &in = e_.layoutOf(e_.input(op, 0).schema);
  bool global = op.group_keys.empty();
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::Value *dirty_list = slot(1);
  llvm::Value *dirty_ptr = b_.CreateStructGEP(l.payload, payload, l.dirty_field);
  llvm::Value *count_ptr = b_.CreateStructGEP(l.payload, payload, l.count_field);
  llvm::BasicBlock *mark = llvm::BasicBlock::Create(e_.ctx_, "mark", f);
  llvm::BasicBlock *add = llvm::BasicBlock::Create(e_.ctx_, "add", f);
  b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(e_.i8_, dirty_ptr), b_.getInt8(0)), mark, add);
  b_.SetInsertPoint(mark);
  b_.CreateStore(b_.getInt8(1), dirty_ptr);
  llvm::Value *present =
      global ? b_.getTrue() : b_.CreateICmpSGT(b_.CreateLoad(e_.i64_, count_ptr), b_.getInt64(0));
  b_.CreateStore(b_.CreateZExt(present, e_.i8_),
                 b_.CreateStructGEP(l.payload, payload, l.old_present_field));
  llvm::BasicBlock *save = llvm::BasicBlock::Create(e_.ctx_, "save", f);
  llvm::BasicBlock *saved = llvm::BasicBlock::Create(e_.ctx_, "saved", f);
  b_.CreateCondBr(present, save, saved);
  b_.SetInsertPoint(save);
  {
    llvm::Value *saved_row =
        b_.CreateCall(e_.fn("kiln_scratch"), {e_.rt(), b_.getInt64(e_.allocSize(l.out->type))});
    aggregateOutput(payload, saved_row, /*intern_text=*/true);
    b_.CreateStore(saved_row, b_.CreateStructGEP(l.payload, payload, l.old_field));
  }
  b_.CreateBr(saved);
  b_.SetInsertPoint(saved);
  b_.CreateCall(e_.fn("kiln_vec_push"), {dirty_list, e_.entryOf(payload)});
  b_.CreateBr(add);
  b_.SetInsertPoint(add);
  b_.CreateStore(b_.CreateAdd(b_.CreateLoad(e_.i64_, count_ptr), weight), count_ptr);
  for (size_t j = 0; j < op.aggregates.size(); ++j) {
    const ir::AggCall &agg = op.aggregates[j];
    if (agg.kind == ir::AggKind::CountStar || l.shared[j])
      continue;
    int field = l.agg_field[j];
    SqlValue v = e_.loadColumn(in, row, agg.arg);
    llvm::BasicBlock *accumulate = llvm::BasicBlock::Create(e_.ctx_, "accumulate", f);
    llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
    b_.CreateCondBr(v.null, next, accumulate);
    b_.SetInsertPoint(accumulate);
    llvm::Value *n_ptr = b_.CreateStructGEP(l.payload, payload, field);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(e_.i64_, n_ptr), weight), n_ptr);
    const ir::Type &t = in.types[agg.arg];
    if (agg.kind == ir::AggKind::Sum || agg.kind == ir::AggKind::Avg) {
      llvm::Value *sum_ptr = b_.CreateStructGEP(l.payload, payload, field + 1);
      llvm::Type *acc_type = l.payload->getElementType(field + 1);
      llvm::Value *acc = b_.CreateLoad(acc_type, sum_ptr);
      llvm::Value *updated;
      if (acc_type == e_.f64_) {
        updated = b_.CreateFAdd(acc, b_.CreateFMul(v.value, b_.CreateSIToFP(weight, e_.f64_)));
      } else if (acc_type == e_.i64_) {
        // SUM(integer) is bigint; its overflow is an error.
        llvm::Function *mul = llvm::Intrinsic::getDeclaration(
            &e_.module_, llvm::Intrinsic::smul_with_overflow, {e_.i64_});
        llvm::Function *sadd = llvm::Intrinsic::getDeclaration(
            &e_.module_, llvm::Intrinsic::sadd_with_overflow, {e_.i64_});
        llvm::Value *product = b_.CreateCall(mul, {b_.CreateSExt(v.value, e_.i64_), weight});
        llvm::Value *total = b_.CreateCall(sadd, {acc, b_.CreateExtractValue(product, 0)});
        e_.raiseIf(b_.CreateOr(b_.CreateExtractValue(product, 1), b_.CreateExtractValue(total, 1)),
                   KILN_ERR_BIGINT_OUT_OF_RANGE, op.loc);
        updated = b_.CreateExtractValue(total, 0);
      } else if (t.kind == TypeKind::Interval) {
        updated = e_.call("kiln_interval_accumulate",
                          {e_.rt(), acc, v.value, weight, b_.getInt32(e_.locationIndex(op.loc))});
      } else {
        llvm::Value *value =
            t.kind == TypeKind::Numeric ? v.value : b_.CreateSExt(v.value, e_.i128_);
        updated = e_.call("kiln_numeric_accumulate",
                          {e_.rt(), acc, value, weight, b_.getInt32(e_.locationIndex(op.loc))});
      }
      b_.CreateStore(updated, sum_ptr);
    } else if (keepsValues(agg)) {
      llvm::Value *set_ptr = b_.CreateStructGEP(l.payload, payload, field + 1);
      llvm::Value *set = b_.CreateLoad(e_.ptr_, set_ptr);
      // Created on first use, with the value's storage kind.
      llvm::BasicBlock *make = llvm::BasicBlock::Create(e_.ctx_, "make.set", f);
      llvm::BasicBlock *have = llvm::BasicBlock::Create(e_.ctx_, "have.set", f);
      llvm::BasicBlock *from = b_.GetInsertBlock();
      b_.CreateCondBr(b_.CreateIsNull(set), make, have);
      b_.SetInsertPoint(make);
      llvm::Value *made =
          b_.CreateCall(e_.fn("kiln_ms_create"), {e_.rt(), b_.getInt32(e_.storageKind(t))});
      b_.CreateStore(made, set_ptr);
      b_.CreateBr(have);
      b_.SetInsertPoint(have);
      llvm::PHINode *the_set = b_.CreatePHI(e_.ptr_, 2);
      the_set->addIncoming(set, from);
      the_set->addIncoming(made, make);
      if (ir::joinsEntries(agg.kind)) {
        b_.CreateCall(e_.fn("kiln_agg_entry_add"),
                      {e_.rt(), the_set, entryLayout(agg), entryOrder(agg), b_.getInt32(agg.arg),
                       row, weight});
      } else {
        llvm::Value *tmp = e_.entryAlloca(e_.valueType(t));
        if (keepsOrderedEntries(agg))
          b_.CreateCall(e_.fn("kiln_array_ordered_entry"),
                        {e_.rt(), b_.CreateExtractValue(v.value, 0),
                         b_.CreateExtractValue(v.value, 1),
                         b_.getInt32(e_.storageKind(t.elementType())), b_.getInt32(t.precision),
                         b_.getInt32(t.scale), tmp});
        else
          b_.CreateStore(v.value, tmp);
        b_.CreateCall(e_.fn("kiln_ms_add"), {the_set, tmp, weight});
      }
    }
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  }
}

llvm::Function *AggregateGen::regrouper() {
  if (regroup_)
    return regroup_;
  regroup_ = e_.newFunction(
      op_.stateName() + ".regroup",
      llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_, e_.ptr_, e_.i64_}, false));
  e_.defineAside(regroup_, [&](llvm::Function *f) {
    llvm::Value *payload = findGroup(f->getArg(1));
    accumulate(payload, f->getArg(1), b_.CreateNeg(f->getArg(3)));
    accumulate(payload, f->getArg(2), f->getArg(3));
    b_.CreateRetVoid();
  });
  return regroup_;
}

void AggregateGen::emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                              llvm::Value *weight) {
  std::vector<int32_t> read = op_.group_keys;
  for (const ir::AggCall &agg : op_.aggregates) {
    if (agg.arg >= 0)
      read.push_back(agg.arg);
    for (const ir::SortKey &key : agg.order)
      read.push_back(key.column);
  }
  const RowLayout &in = e_.layoutOf(e_.input(op_, 0).schema);
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *changed = llvm::BasicBlock::Create(e_.ctx_, "changed", f);
  llvm::BasicBlock *same_group = llvm::BasicBlock::Create(e_.ctx_, "same.group", f);
  llvm::BasicBlock *other_group = llvm::BasicBlock::Create(e_.ctx_, "other.group", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "same", f);
  b_.CreateCondBr(e_.columnsIdentical(in, old_row, new_row, read), done, changed);
  b_.SetInsertPoint(changed);
  b_.CreateCondBr(e_.columnsIdentical(in, old_row, new_row, op_.group_keys), same_group,
                  other_group);
  b_.SetInsertPoint(same_group);
  b_.CreateCall(regrouper(), {f->getArg(0), old_row, new_row, weight});
  b_.CreateBr(done);
  b_.SetInsertPoint(other_group);
  OperatorGen::emitUpdate(port, old_row, new_row, weight);
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
}

void AggregateGen::defineContents() {
  llvm::Function *f = e_.beginConsumer(contents());
  llvm::Value *current = e_.newRow(*l_.out);
  bool global = op_.group_keys.empty();
  e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
    llvm::Value *payload = e_.payloadOf(entry);
    // (Not "had output": that flag is the state at the start of the group's last tick.)
    llvm::Value *has_output =
        global ? b_.getTrue()
               : b_.CreateICmpSGT(b_.CreateLoad(e_.i64_, b_.CreateStructGEP(l_.payload, payload,
                                                                            l_.count_field)),
                                  b_.getInt64(0));
    llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "emit", f);
    llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
    b_.CreateCondBr(has_output, emit, next);
    b_.SetInsertPoint(emit);
    aggregateOutput(payload, current, false);
    e_.emitToConsumers(op_, current, b_.getInt64(1));
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  });
  b_.CreateRetVoid();
}

void AggregateGen::defineFlush() {
  const ir::Op &op = op_;
  const AggLayout &l = l_;
  bool global = op.group_keys.empty();
  llvm::Function *f = flusher();
  e_.beginConsumer(f);
  llvm::Value *table = slot(0);
  llvm::Value *dirty_list = slot(1);
  llvm::Value *current = e_.newRow(*l.out);
  e_.forEachListed(dirty_list, [&](llvm::Value *entry) {
    // Groups are touched when the tick lists them, except a global aggregate's group, which
    // create() lists for the first tick to emit (the journal then costs one lookup).
    b_.CreateCall(e_.fn("kiln_ht_touch"), {table, entry});
    llvm::Value *payload = e_.payloadOf(entry);
    b_.CreateStore(b_.getInt8(0), b_.CreateStructGEP(l.payload, payload, l.dirty_field));
    llvm::Value *count =
        b_.CreateLoad(e_.i64_, b_.CreateStructGEP(l.payload, payload, l.count_field));
    llvm::Value *present = global ? b_.getTrue() : b_.CreateICmpSGT(count, b_.getInt64(0));
    llvm::Value *was = b_.CreateICmpNE(
        b_.CreateLoad(e_.i8_, b_.CreateStructGEP(l.payload, payload, l.old_present_field)),
        b_.getInt8(0));
    aggregateOutput(payload, current, false);
    // Saved only when the group had output: otherwise compare the current row with itself.
    llvm::Value *old = b_.CreateSelect(
        was, b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(l.payload, payload, l.old_field)), current);
    std::vector<int32_t> all = Emitter::allColumns(l.out->types.size());
    llvm::Value *unchanged = b_.CreateAnd(b_.CreateAnd(was, present),
                                          e_.columnsEqual(*l.out, old, all, *l.out, current, all));
    llvm::BasicBlock *changed = llvm::BasicBlock::Create(e_.ctx_, "changed", f);
    llvm::BasicBlock *retract = llvm::BasicBlock::Create(e_.ctx_, "retract", f);
    llvm::BasicBlock *insert_check = llvm::BasicBlock::Create(e_.ctx_, "insert.check", f);
    llvm::BasicBlock *insert = llvm::BasicBlock::Create(e_.ctx_, "insert", f);
    llvm::BasicBlock *after = llvm::BasicBlock::Create(e_.ctx_, "after", f);
    b_.CreateCondBr(unchanged, after, changed);
    b_.SetInsertPoint(changed);
    b_.CreateCondBr(was, retract, insert_check);
    b_.SetInsertPoint(retract);
    e_.emitToConsumers(op, old, b_.getInt64(-1));
    b_.CreateBr(insert_check);
    b_.SetInsertPoint(insert_check);
    b_.CreateCondBr(present, insert, after);
    b_.SetInsertPoint(insert);
    e_.emitToConsumers(op, current, b_.getInt64(1));
    b_.CreateBr(after);
    b_.SetInsertPoint(after);
    llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
    if (!global) {
      llvm::BasicBlock *erase = llvm::BasicBlock::Create(e_.ctx_, "erase", f);
      b_.CreateCondBr(present, next, erase);
      b_.SetInsertPoint(erase);
      freeMultisets(payload);
      b_.CreateCall(e_.fn("kiln_ht_erase"), {table, entry});
      b_.CreateBr(next);
    } else {
      b_.CreateBr(next);
    }
    b_.SetInsertPoint(next);
  });
  b_.CreateRetVoid();
}

// Frees the MIN/MAX multisets of the aggregate group at `payload` (a group of only NULLs has none).
void AggregateGen::freeMultisets(llvm::Value *payload) {
  const ir::Op &op = op_;
  const AggLayout &l = l_;
  for (size_t j = 0; j < op.aggregates.size(); ++j) {
    const ir::AggCall &agg = op.aggregates[j];
    if (!keepsValues(agg) || l.shared[j])
      continue;
    e_.destroyMultiset(
        b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(l.payload, payload, l.agg_field[j] + 1)));
  }
}

// A global aggregate has one row from the start (count 0, sums NULL): its group exists before
// any input and is marked changed so the first tick emits it.
void AggregateGen::emitCreate() {
  if (!op_.group_keys.empty())
    return;
  llvm::Value *entry =
      b_.CreateCall(e_.fn("kiln_ht_insert"), {slot(0), b_.getInt64(0x9E3779B97F4A7C15ULL)});
  llvm::Value *payload = e_.payloadOf(entry);
  b_.CreateStore(b_.getInt8(1), b_.CreateStructGEP(l_.payload, payload, l_.dirty_field));
  b_.CreateCall(e_.fn("kiln_vec_push"), {slot(1), entry});
}

void AggregateGen::emitDestroy() {
  if (!keepsMultisets())
    return;
  e_.forEachEntry(slot(0), [&](llvm::Value *entry) { freeMultisets(e_.payloadOf(entry)); });
}

} // namespace

std::unique_ptr<OperatorGen> makeAggregateGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<AggregateGen>(emitter, op);
}

} // namespace kiln::codegen
