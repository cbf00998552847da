// TopK: ORDER BY ... LIMIT ... OFFSET, maintained, over the whole input or per group of equal
// group keys (DISTINCT ON). Each group's entry holds its rows in a TEXT multiset of byte strings
// that sort as the rows do (the runtime's kiln_topk_* calls encode them, abi.h), so a group's
// window is its set's first offset+limit values. A group's first change in a tick saves its
// window as it was; the tick's end compares it with the window now and emits the rows that left
// (-1) and came (+1): work near the changed rows, not over the input.
//
// Window: the same state per partition, its window the whole partition (or its first `limit`
// rows); at the tick's end the runtime computes the window functions of a changed partition's
// rows before and after (kiln_window_changes) and emits the rows whose results changed.

#include "Operator.h"

#include <cstring>

namespace kiln::codegen {

namespace {

class TopKGen : public OperatorGen {
public:
  TopKGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), windowed_(op.kind == ir::OpKind::Window),
        in_schema_(emitter.input(op, 0).schema), in_(emitter.layoutOf(in_schema_)),
        key_schema_(keySchema(op, in_schema_)), key_(emitter.layoutOf(key_schema_)),
        grouped_(!op.group_keys.empty()),
        // payload: { [group key row,] rows (multiset), window at tick start, its length,
        //            changed in this tick }
        payload_type_(payloadType(emitter, grouped_ ? key_.type : nullptr)) {}

  std::vector<Arrangement> arrangements() override {
    Arrangement groups;
    groups.role = grouped_ ? (windowed_ ? "partitions" : "groups") : "rows";
    groups.describe = grouped_ ? (windowed_ ? "per partition, its rows in the window's order"
                                            : "per group, its rows in the order of the ORDER BY")
                               : (windowed_ ? "every row, in the window's order"
                                            : "every row, in the order of the ORDER BY");
    groups.payload = payload_type_;
    groups.size = op_.stateSize();
    if (grouped_) {
      describeRow(groups, 0, key_, key_schema_);
      groups.key_fields = Emitter::allColumns(key_schema_.size());
    }
    describeScalar(groups, field(kRows), "rows", KILN_FIELD_MULTISET, KILN_T_TEXT);
    describeScalar(groups, field(kWindow), "window at tick start", KILN_FIELD_SCRATCH);
    describeScalar(groups, field(kWindowLength), "window length at tick start", KILN_FIELD_SCRATCH);
    describeScalar(groups, field(kChanged), "changed", KILN_FIELD_FLAG);
    groups.unique_key = true; // one entry per group
    if (!grouped_)
      return {groups};
    return {groups, changedList("groups changed in this tick")};
  }

  void emitCreate() override {
    if (!grouped_) // the one group, for good
      b_.CreateCall(e_.fn("kiln_ht_insert"), {slot(0), b_.getInt64(0x9E3779B97F4A7C15ULL)});
  }

  void emitDestroy() override {
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      e_.destroyMultiset(b_.CreateLoad(e_.ptr_, at(e_.payloadOf(entry), kRows)));
    });
  }

  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *payload = groupOf(row);
    // The group's first change of the tick: save its window, and its set, created on first use.
    llvm::BasicBlock *first = llvm::BasicBlock::Create(e_.ctx_, "first", f);
    llvm::BasicBlock *add = llvm::BasicBlock::Create(e_.ctx_, "add", f);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(e_.i8_, at(payload, kChanged)), b_.getInt8(0)),
                    first, add);
    b_.SetInsertPoint(first);
    if (!grouped_) // (findOrInsert touched a group's entry already)
      b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(0), e_.entryOf(payload)});
    llvm::Value *set = b_.CreateLoad(e_.ptr_, at(payload, kRows));
    llvm::BasicBlock *make = llvm::BasicBlock::Create(e_.ctx_, "make.set", f);
    llvm::BasicBlock *save = llvm::BasicBlock::Create(e_.ctx_, "save", f);
    b_.CreateCondBr(b_.CreateIsNull(set), make, save);
    b_.SetInsertPoint(make);
    b_.CreateStore(b_.CreateCall(e_.fn("kiln_ms_create"), {e_.rt(), b_.getInt32(KILN_T_TEXT)}),
                   at(payload, kRows));
    b_.CreateBr(save);
    b_.SetInsertPoint(save);
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    b_.CreateStore(window(b_.CreateLoad(e_.ptr_, at(payload, kRows)), count), at(payload, kWindow));
    b_.CreateStore(b_.CreateLoad(e_.i64_, count), at(payload, kWindowLength));
    b_.CreateStore(b_.getInt8(1), at(payload, kChanged));
    if (grouped_)
      b_.CreateCall(e_.fn("kiln_vec_push"), {slot(1), e_.entryOf(payload)});
    b_.CreateBr(add);
    b_.SetInsertPoint(add);
    b_.CreateCall(e_.fn("kiln_topk_add"), {e_.rt(), b_.CreateLoad(e_.ptr_, at(payload, kRows)),
                                           layout(), order(), row, weight});
    b_.CreateRetVoid();
  }

  // At the tick's end: each changed group's window changes; a group left without rows goes.
  void defineFlush() override {
    llvm::Function *f = e_.beginConsumer(flusher());
    if (!grouped_) {
      llvm::Value *entry = b_.CreateCall(e_.fn("kiln_ht_first"), {slot(0)});
      llvm::Value *payload = e_.payloadOf(entry);
      llvm::BasicBlock *changed = llvm::BasicBlock::Create(e_.ctx_, "changed", f);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
      b_.CreateCondBr(b_.CreateICmpNE(b_.CreateLoad(e_.i8_, at(payload, kChanged)), b_.getInt8(0)),
                      changed, done);
      b_.SetInsertPoint(changed);
      b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(0), entry});
      emitWindowChanges(payload);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
      b_.CreateRetVoid();
      return;
    }
    e_.forEachListed(slot(1), [&](llvm::Value *entry) {
      llvm::Value *payload = e_.payloadOf(entry);
      emitWindowChanges(payload);
      llvm::Value *set = b_.CreateLoad(e_.ptr_, at(payload, kRows));
      llvm::BasicBlock *empty = llvm::BasicBlock::Create(e_.ctx_, "empty", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
      b_.CreateCondBr(
          b_.CreateICmpEQ(b_.CreateCall(e_.fn("kiln_ms_distinct"), {set}), b_.getInt64(0)), empty,
          next);
      b_.SetInsertPoint(empty);
      b_.CreateCall(e_.fn("kiln_ms_destroy"), {set});
      b_.CreateCall(e_.fn("kiln_ht_erase"), {slot(0), entry});
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    });
    b_.CreateRetVoid();
  }

  // Its whole output: every group's window, as insertions.
  bool hasContents() const override { return true; }
  void defineContents() override {
    llvm::Function *f = e_.beginConsumer(contents());
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      llvm::Value *set = b_.CreateLoad(e_.ptr_, at(e_.payloadOf(entry), kRows));
      llvm::BasicBlock *some = llvm::BasicBlock::Create(e_.ctx_, "some", f);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
      b_.CreateCondBr(b_.CreateIsNull(set), done, some);
      b_.SetInsertPoint(some);
      llvm::Value *count = e_.entryAlloca(e_.i64_);
      llvm::Value *now = window(set, count);
      emitChanges(llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(e_.ptr_)),
                  b_.getInt64(0), now, b_.CreateLoad(e_.i64_, count));
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    });
    b_.CreateRetVoid();
  }

private:
  // The payload's fields after the group key row (if any).
  enum Field : unsigned { kRows, kWindow, kWindowLength, kChanged };
  int field(Field f) const { return static_cast<int>(f) + (grouped_ ? 1 : 0); }
  llvm::Value *at(llvm::Value *payload, Field f) {
    return b_.CreateStructGEP(payload_type_, payload, static_cast<unsigned>(field(f)));
  }

  static ir::Schema keySchema(const ir::Op &op, const ir::Schema &input) {
    ir::Schema schema;
    for (int32_t k : op.group_keys)
      schema.push_back(input[static_cast<size_t>(k)]);
    return schema;
  }
  static llvm::StructType *payloadType(Emitter &e, llvm::Type *key) {
    std::vector<llvm::Type *> fields;
    if (key)
      fields.push_back(key);
    fields.insert(fields.end(), {e.ptr_, e.ptr_, e.i64_, e.i8_});
    return llvm::StructType::get(e.ctx_, fields);
  }

  // The payload of `row`'s group: the one entry, or the entry of its group keys (created with a
  // copy of them).
  llvm::Value *groupOf(llvm::Value *row) {
    if (!grouped_)
      return e_.payloadOf(b_.CreateCall(e_.fn("kiln_ht_first"), {slot(0)}));
    llvm::Value *key = e_.newRow(key_);
    for (size_t i = 0; i < op_.group_keys.size(); ++i)
      e_.copyColumn(in_, row, op_.group_keys[i], key_, key, static_cast<int>(i));
    return e_.findOrInsertRow(slot(0), payload_type_, key_, key, [&](llvm::Value *fresh) {
      llvm::Value *stored = b_.CreateStructGEP(payload_type_, fresh, 0);
      for (size_t i = 0; i < op_.group_keys.size(); ++i)
        e_.copyColumn(key_, key, static_cast<int>(i), key_, stored, static_cast<int>(i),
                      /*intern=*/true);
    });
  }

  // The window of `set` now (kiln_str copies in scratch memory); its length goes to `count`.
  llvm::Value *window(llvm::Value *set, llvm::Value *count) {
    return b_.CreateCall(e_.fn("kiln_topk_window"),
                         {e_.rt(), set, b_.getInt64(op_.offset), b_.getInt64(op_.limit), count});
  }

  // Emits the difference between two windows, row by row.
  void emitChanges(llvm::Value *before, llvm::Value *before_count, llvm::Value *after,
                   llvm::Value *after_count) {
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    llvm::Value *changes =
        windowed_
            ? b_.CreateCall(e_.fn("kiln_window_changes"),
                            {e_.rt(), layout(), outLayout(), calls(),
                             b_.getInt32(static_cast<uint32_t>(op_.windows.size())), before,
                             before_count, after, after_count, count})
            : b_.CreateCall(e_.fn("kiln_topk_changes"),
                            {e_.rt(), layout(), before, before_count, after, after_count, count});
    emitEach(changes, b_.CreateLoad(e_.i64_, count));
  }

  // A changed group: its window then and now, compared; the flag cleared. Over an append-only
  // input, the rows past the window go: no deletion can bring them back into it.
  void emitWindowChanges(llvm::Value *payload) {
    b_.CreateStore(b_.getInt8(0), at(payload, kChanged));
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    llvm::Value *set = b_.CreateLoad(e_.ptr_, at(payload, kRows));
    llvm::Value *now = window(set, count);
    emitChanges(b_.CreateLoad(e_.ptr_, at(payload, kWindow)),
                b_.CreateLoad(e_.i64_, at(payload, kWindowLength)), now,
                b_.CreateLoad(e_.i64_, count));
    if (op_.limit >= 0 && e_.input(op_, 0).append_only)
      b_.CreateCall(e_.fn("kiln_topk_trim"), {e_.rt(), set, b_.getInt64(op_.offset + op_.limit)});
  }

  // Passes on `n` changes (kiln_topk_change) to the consumers.
  void emitEach(llvm::Value *changes, llvm::Value *n) {
    forEachChange(changes, n, [&](llvm::Value *row, llvm::Value *weight) {
      e_.emitToConsumers(op_, row, weight);
    });
  }

  // The input's layout for the runtime, its key columns the sort columns (built once).
  llvm::Value *layout() {
    if (!layout_) {
      std::vector<int32_t> columns;
      for (const ir::SortKey &key : op_.sort_keys)
        columns.push_back(key.column);
      llvm::Constant *desc =
          e_.relationDescriptor(op_.stateName(), "", in_schema_, columns, Connector{});
      layout_ = new llvm::GlobalVariable(e_.module_, desc->getType(), true,
                                         llvm::GlobalValue::PrivateLinkage, desc,
                                         op_.stateName() + ".layout");
    }
    return layout_;
  }
  // The output's layout (a window's: the input's columns, then its functions').
  llvm::Value *outLayout() {
    if (!out_layout_) {
      llvm::Constant *desc =
          e_.relationDescriptor(op_.stateName(), "", op_.schema, {}, Connector{});
      out_layout_ = new llvm::GlobalVariable(e_.module_, desc->getType(), true,
                                             llvm::GlobalValue::PrivateLinkage, desc,
                                             op_.stateName() + ".out");
    }
    return out_layout_;
  }
  // A RANGE offset as kiln_window_call holds it: 128 bits of the offset type's storage.
  static __int128 rangeOffsetBits(const ir::Type &type, const ir::Value &offset) {
    switch (type.kind) {
    case ir::TypeKind::Int64:
      return offset.i;
    case ir::TypeKind::Float64: {
      int64_t bits;
      std::memcpy(&bits, &offset.f, sizeof bits);
      return bits;
    }
    default: // Numeric, Interval
      return offset.n;
    }
  }

  // The window functions as the runtime reads them (kiln_window_call).
  llvm::Value *calls() {
    if (!calls_) {
      static_assert(KILN_WF_MAX == static_cast<int>(ir::WindowFn::Max) &&
                        KILN_WF_NTILE == static_cast<int>(ir::WindowFn::Ntile) &&
                        KILN_WF_COUNT_STAR == static_cast<int>(ir::WindowFn::CountStar),
                    "kiln_window_fn follows ir::WindowFn");
      static_assert(KILN_FRAME_UNBOUNDED_FOLLOWING ==
                            static_cast<int>(ir::FrameBound::UnboundedFollowing) &&
                        KILN_FRAME_CURRENT_ROW == static_cast<int>(ir::FrameBound::CurrentRow),
                    "kiln_frame_bound follows ir::FrameBound");
      static_assert(KILN_FRAME_GROUPS == static_cast<int>(ir::FrameUnits::Groups) &&
                        KILN_FRAME_ROWS == static_cast<int>(ir::FrameUnits::Rows) &&
                        KILN_EXCLUDE_TIES == static_cast<int>(ir::FrameExclusion::Ties) &&
                        KILN_EXCLUDE_CURRENT_ROW ==
                            static_cast<int>(ir::FrameExclusion::CurrentRow),
                    "kiln_frame_units and kiln_frame_exclusion follow ir::");
      std::vector<int64_t> fields;
      for (const ir::WindowCall &call : op_.windows) {
        const ir::WindowFrame &frame = call.frame;
        __int128 start = frame.start_offset, end = frame.end_offset;
        int64_t order = 0;
        if (frame.hasRangeOffset()) {
          start = rangeOffsetBits(frame.offset_type, frame.start_value);
          end = rangeOffsetBits(frame.offset_type, frame.end_value);
          order = op_.sort_keys[0].descending | op_.sort_keys[0].nulls_first << 1;
        }
        fields.insert(fields.end(),
                      {static_cast<int64_t>(call.fn), call.arg, call.default_arg, call.n,
                       static_cast<int64_t>(frame.units), static_cast<int64_t>(frame.start),
                       static_cast<int64_t>(start), static_cast<int64_t>(frame.end),
                       static_cast<int64_t>(end), static_cast<int64_t>(start >> 64),
                       static_cast<int64_t>(end >> 64), static_cast<int64_t>(frame.exclude),
                       order});
      }
      static_assert(sizeof(kiln_window_call) == 13 * sizeof(int64_t), "13 int64 fields");
      llvm::Constant *data = llvm::ConstantDataArray::get(e_.ctx_, fields);
      calls_ = new llvm::GlobalVariable(e_.module_, data->getType(), true,
                                        llvm::GlobalValue::PrivateLinkage, data,
                                        op_.stateName() + ".calls");
    }
    return calls_;
  }

  // Per sort column: bit 0 DESC, bit 1 NULLS FIRST.
  llvm::Value *order() {
    if (!order_) {
      std::vector<uint8_t> flags;
      for (const ir::SortKey &key : op_.sort_keys)
        flags.push_back(static_cast<uint8_t>(key.descending | key.nulls_first << 1));
      if (flags.empty())
        flags.push_back(0);
      llvm::Constant *data = llvm::ConstantDataArray::get(e_.ctx_, flags);
      order_ = new llvm::GlobalVariable(e_.module_, data->getType(), true,
                                        llvm::GlobalValue::PrivateLinkage, data,
                                        op_.stateName() + ".order");
    }
    return order_;
  }

  bool windowed_; // a window operator, not a top-k
  const ir::Schema &in_schema_;
  const RowLayout &in_;
  ir::Schema key_schema_;
  const RowLayout &key_;
  bool grouped_;
  llvm::StructType *payload_type_;
  llvm::GlobalVariable *layout_ = nullptr;
  llvm::GlobalVariable *order_ = nullptr;
  llvm::GlobalVariable *out_layout_ = nullptr;
  llvm::GlobalVariable *calls_ = nullptr;
};

} // namespace

std::unique_ptr<OperatorGen> makeTopKGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<TopKGen>(emitter, op);
}

std::unique_ptr<OperatorGen> makeWindowGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<TopKGen>(emitter, op);
}

} // namespace kiln::codegen
