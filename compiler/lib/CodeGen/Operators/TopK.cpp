// TopK: ORDER BY ... LIMIT ... OFFSET, maintained. Its state is one entry holding every input
// row in a TEXT multiset of byte strings that sort as the rows do (the runtime's kiln_topk_*
// calls encode them, abi.h), so the window is the set's first offset+limit values. The first
// change of a tick saves the window as it was; the tick's end compares it with the window now and
// emits the rows that left (-1) and came (+1): work near the changed rows, not over the input.

#include "Operator.h"

namespace kiln::codegen {

namespace {

class TopKGen : public OperatorGen {
public:
  TopKGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op),
        // payload: { rows (multiset), window at tick start, its length, changed in this tick }
        payload_type_(llvm::StructType::get(
            emitter.ctx_, {emitter.ptr_, emitter.ptr_, emitter.i64_, emitter.i8_})) {}

  std::vector<Arrangement> arrangements() override {
    Arrangement rows;
    rows.role = "rows";
    rows.describe = "every row, in the order of the ORDER BY";
    rows.payload = payload_type_;
    rows.size = op_.stateSize();
    describeScalar(rows, 0, "rows", KILN_FIELD_MULTISET, KILN_T_TEXT);
    describeScalar(rows, 1, "window at tick start", KILN_FIELD_SCRATCH);
    describeScalar(rows, 2, "window length at tick start", KILN_FIELD_SCRATCH);
    describeScalar(rows, 3, "changed", KILN_FIELD_FLAG);
    rows.unique_key = true; // its one entry
    return {rows};
  }

  void emitCreate() override {
    b_.CreateCall(e_.fn("kiln_ht_insert"), {slot(0), b_.getInt64(0x9E3779B97F4A7C15ULL)});
  }

  void emitDestroy() override {
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      e_.destroyMultiset(b_.CreateLoad(e_.ptr_, field(entry, 0)));
    });
  }

  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *entry = theEntry();
    // The first change of the tick: save the window, and the set, created on first use.
    llvm::BasicBlock *first = llvm::BasicBlock::Create(e_.ctx_, "first", f);
    llvm::BasicBlock *add = llvm::BasicBlock::Create(e_.ctx_, "add", f);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(e_.i8_, field(entry, 3)), b_.getInt8(0)), first,
                    add);
    b_.SetInsertPoint(first);
    b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(0), entry});
    llvm::Value *set = b_.CreateLoad(e_.ptr_, field(entry, 0));
    llvm::BasicBlock *make = llvm::BasicBlock::Create(e_.ctx_, "make.set", f);
    llvm::BasicBlock *save = llvm::BasicBlock::Create(e_.ctx_, "save", f);
    b_.CreateCondBr(b_.CreateIsNull(set), make, save);
    b_.SetInsertPoint(make);
    b_.CreateStore(b_.CreateCall(e_.fn("kiln_ms_create"), {e_.rt(), b_.getInt32(KILN_T_TEXT)}),
                   field(entry, 0));
    b_.CreateBr(save);
    b_.SetInsertPoint(save);
    saveWindow(entry);
    b_.CreateStore(b_.getInt8(1), field(entry, 3));
    b_.CreateBr(add);
    b_.SetInsertPoint(add);
    b_.CreateCall(e_.fn("kiln_topk_add"), {e_.rt(), b_.CreateLoad(e_.ptr_, field(entry, 0)),
                                           layout(), order(), row, weight});
    b_.CreateRetVoid();
  }

  // At the tick's end: the window's changes.
  void defineFlush() override {
    llvm::Function *f = e_.beginConsumer(flusher());
    llvm::Value *entry = theEntry();
    llvm::BasicBlock *changed = llvm::BasicBlock::Create(e_.ctx_, "changed", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
    b_.CreateCondBr(b_.CreateICmpNE(b_.CreateLoad(e_.i8_, field(entry, 3)), b_.getInt8(0)), changed,
                    done);
    b_.SetInsertPoint(changed);
    b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(0), entry});
    b_.CreateStore(b_.getInt8(0), field(entry, 3));
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    llvm::Value *now = window(b_.CreateLoad(e_.ptr_, field(entry, 0)), count);
    llvm::Value *now_count = b_.CreateLoad(e_.i64_, count);
    emitChanges(b_.CreateLoad(e_.ptr_, field(entry, 1)), b_.CreateLoad(e_.i64_, field(entry, 2)),
                now, now_count);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    b_.CreateRetVoid();
  }

  // Its whole output: the window, as insertions.
  bool hasContents() const override { return true; }
  void defineContents() override {
    llvm::Function *f = e_.beginConsumer(contents());
    llvm::Value *entry = theEntry();
    llvm::Value *set = b_.CreateLoad(e_.ptr_, field(entry, 0));
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
    b_.CreateRetVoid();
  }

private:
  llvm::Value *field(llvm::Value *entry, unsigned index) {
    return b_.CreateStructGEP(payload_type_, e_.payloadOf(entry), index);
  }
  // The operator's one entry (created with its state).
  llvm::Value *theEntry() { return b_.CreateCall(e_.fn("kiln_ht_first"), {slot(0)}); }

  // The window of `set` now (kiln_str copies in scratch memory); its length goes to `count`.
  llvm::Value *window(llvm::Value *set, llvm::Value *count) {
    return b_.CreateCall(e_.fn("kiln_topk_window"),
                         {e_.rt(), set, b_.getInt64(op_.offset), b_.getInt64(op_.limit), count});
  }
  void saveWindow(llvm::Value *entry) {
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    llvm::Value *saved = window(b_.CreateLoad(e_.ptr_, field(entry, 0)), count);
    b_.CreateStore(saved, field(entry, 1));
    b_.CreateStore(b_.CreateLoad(e_.i64_, count), field(entry, 2));
  }

  // Emits the difference between two windows, row by row.
  void emitChanges(llvm::Value *before, llvm::Value *before_count, llvm::Value *after,
                   llvm::Value *after_count) {
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    llvm::Value *changes =
        b_.CreateCall(e_.fn("kiln_topk_changes"),
                      {e_.rt(), layout(), before, before_count, after, after_count, count});
    llvm::Value *n = b_.CreateLoad(e_.i64_, count);
    llvm::StructType *change = llvm::StructType::get(e_.ctx_, {e_.ptr_, e_.i64_});
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *entry = b_.GetInsertBlock();
    llvm::BasicBlock *loop = llvm::BasicBlock::Create(e_.ctx_, "change", f);
    llvm::BasicBlock *body = llvm::BasicBlock::Create(e_.ctx_, "change.body", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "changes.done", f);
    b_.CreateBr(loop);
    b_.SetInsertPoint(loop);
    llvm::PHINode *i = b_.CreatePHI(e_.i64_, 2);
    i->addIncoming(b_.getInt64(0), entry);
    b_.CreateCondBr(b_.CreateICmpSLT(i, n), body, done);
    b_.SetInsertPoint(body);
    llvm::Value *at = b_.CreateGEP(change, changes, i);
    llvm::Value *row = b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(change, at, 0));
    llvm::Value *weight = b_.CreateLoad(e_.i64_, b_.CreateStructGEP(change, at, 1));
    e_.emitToConsumers(op_, row, weight);
    i->addIncoming(b_.CreateAdd(i, b_.getInt64(1)), b_.GetInsertBlock());
    b_.CreateBr(loop);
    b_.SetInsertPoint(done);
  }

  // The input's layout for the runtime, its key columns the sort columns (built once).
  llvm::Value *layout() {
    if (!layout_) {
      std::vector<int32_t> columns;
      for (const ir::SortKey &key : op_.sort_keys)
        columns.push_back(key.column);
      llvm::Constant *desc =
          e_.relationDescriptor(op_.stateName(), "", op_.schema, columns, Connector{});
      layout_ = new llvm::GlobalVariable(e_.module_, desc->getType(), true,
                                         llvm::GlobalValue::PrivateLinkage, desc,
                                         op_.stateName() + ".layout");
    }
    return layout_;
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

  llvm::StructType *payload_type_;
  llvm::GlobalVariable *layout_ = nullptr;
  llvm::GlobalVariable *order_ = nullptr;
};

} // namespace

std::unique_ptr<OperatorGen> makeTopKGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<TopKGen>(emitter, op);
}

} // namespace kiln::codegen
