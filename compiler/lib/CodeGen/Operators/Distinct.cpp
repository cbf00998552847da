// Distinct: set semantics over a multiset. It keeps a count per distinct row and emits a row at
// the end of a tick when its count became positive or stopped being positive.
// Positive (EXCEPT ALL, INTERSECT ALL) keeps the same counts and emits the change of each row's
// positive part, max(count, 0).

#include "Operator.h"

namespace kiln::codegen {

namespace {

class DistinctGen : public OperatorGen {
public:
  DistinctGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), bag_(op.kind == ir::OpKind::Positive),
        in_(emitter.layoutOf(op.schema)),
        // payload: { row, count, count at tick start, dirty }
        payload_type_(llvm::StructType::get(emitter.ctx_,
                                            {in_.type, emitter.i64_, emitter.i64_, emitter.i8_})) {}

  std::vector<Arrangement> arrangements() override {
    Arrangement rows;
    rows.role = "rows";
    rows.describe = "count per distinct row";
    rows.payload = payload_type_;
    rows.size = op_.stateSize();
    describeRow(rows, 0, in_, op_.schema);
    describeScalar(rows, 1, "count", KILN_FIELD_WEIGHT);
    describeScalar(rows, 2, "count at tick start", KILN_FIELD_WEIGHT);
    describeScalar(rows, 3, "changed", KILN_FIELD_FLAG);
    rows.key_fields = Emitter::allColumns(in_.types.size());
    rows.unique_key = true; // one entry per distinct row
    return {rows, changedList("rows changed in this tick")};
  }

  // The same row out and in again leaves its count as it was.
  void emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override {
    emitUpdateUnless(e_.rowsIdentical(in_, old_row, new_row), port, old_row, new_row, weight);
  }

  void defineConsumers() override {
    const RowLayout &in = in_;
    llvm::StructType *payload_type = payload_type_;
    std::vector<int32_t> all = Emitter::allColumns(in.types.size());
    llvm::Function *f = e_.beginConsumer(consumer(0));
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *table = slot(0);
    llvm::Value *dirty_list = slot(1);
    llvm::Value *payload =
        e_.findOrInsertRow(table, payload_type, in, row, [&](llvm::Value *fresh) {
          llvm::Value *stored = b_.CreateStructGEP(payload_type, fresh, 0);
          for (int32_t c : all)
            e_.copyColumn(in, row, c, in, stored, c, /*intern=*/true);
        });
    llvm::Value *dirty_ptr = b_.CreateStructGEP(payload_type, payload, 3);
    llvm::Value *count_ptr = b_.CreateStructGEP(payload_type, payload, 1);
    llvm::BasicBlock *mark = llvm::BasicBlock::Create(e_.ctx_, "mark", f);
    llvm::BasicBlock *add = llvm::BasicBlock::Create(e_.ctx_, "add", f);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(e_.i8_, dirty_ptr), b_.getInt8(0)), mark, add);
    b_.SetInsertPoint(mark);
    b_.CreateStore(b_.getInt8(1), dirty_ptr);
    b_.CreateStore(b_.CreateLoad(e_.i64_, count_ptr), b_.CreateStructGEP(payload_type, payload, 2));
    b_.CreateCall(e_.fn("kiln_vec_push"), {dirty_list, e_.entryOf(payload)});
    b_.CreateBr(add);
    b_.SetInsertPoint(add);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(e_.i64_, count_ptr), weight), count_ptr);
    b_.CreateRetVoid();
  }

  // The output is the rows whose count is positive: a count can also be negative (DISTINCT
  // over a difference, as INTERSECT and EXCEPT lower), and such rows are not output.
  bool hasContents() const override { return true; }
  void defineContents() override {
    llvm::Function *f = e_.beginConsumer(contents());
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      llvm::Value *payload = e_.payloadOf(entry);
      llvm::Value *count = b_.CreateLoad(e_.i64_, b_.CreateStructGEP(payload_type_, payload, 1));
      llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "emit", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
      b_.CreateCondBr(b_.CreateICmpSGT(count, b_.getInt64(0)), emit, next);
      b_.SetInsertPoint(emit);
      e_.emitToConsumers(op_, b_.CreateStructGEP(payload_type_, payload, 0),
                         bag_ ? count : b_.getInt64(1));
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    });
    b_.CreateRetVoid();
  }

  void defineFlush() override {
    const ir::Op &op = op_;
    llvm::StructType *payload_type = payload_type_;
    llvm::Function *f = flusher();
    e_.beginConsumer(f);
    llvm::Value *table = slot(0);
    llvm::Value *dirty_list = slot(1);
    e_.forEachListed(dirty_list, [&](llvm::Value *entry) {
      llvm::Value *payload = e_.payloadOf(entry);
      llvm::Value *row = b_.CreateStructGEP(payload_type, payload, 0);
      llvm::Value *count = b_.CreateLoad(e_.i64_, b_.CreateStructGEP(payload_type, payload, 1));
      llvm::Value *old = b_.CreateLoad(e_.i64_, b_.CreateStructGEP(payload_type, payload, 2));
      b_.CreateStore(b_.getInt8(0), b_.CreateStructGEP(payload_type, payload, 3));
      llvm::Value *was = b_.CreateICmpSGT(old, b_.getInt64(0));
      llvm::Value *now = b_.CreateICmpSGT(count, b_.getInt64(0));
      llvm::BasicBlock *changed = llvm::BasicBlock::Create(e_.ctx_, "changed", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(e_.ctx_, "after", f);
      llvm::Value *delta;
      if (bag_) { // the change of the count's positive part
        auto held = [&](llvm::Value *n, llvm::Value *positive) {
          return b_.CreateSelect(positive, n, b_.getInt64(0));
        };
        delta = b_.CreateSub(held(count, now), held(old, was));
        b_.CreateCondBr(b_.CreateICmpNE(delta, b_.getInt64(0)), changed, after);
        b_.SetInsertPoint(changed);
      } else { // in or out of the set
        b_.CreateCondBr(b_.CreateICmpNE(was, now), changed, after);
        b_.SetInsertPoint(changed);
        delta = b_.CreateSelect(now, b_.getInt64(1), b_.getInt64(-1));
      }
      e_.emitToConsumers(op, row, delta);
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      llvm::BasicBlock *erase = llvm::BasicBlock::Create(e_.ctx_, "erase", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
      b_.CreateCondBr(b_.CreateICmpEQ(count, b_.getInt64(0)), erase, next);
      b_.SetInsertPoint(erase);
      b_.CreateCall(e_.fn("kiln_ht_erase"), {table, entry});
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    });
    b_.CreateRetVoid();
  }

private:
  bool bag_; // positive: multiplicities, not set membership
  const RowLayout &in_;
  llvm::StructType *payload_type_;
};

} // namespace

std::unique_ptr<OperatorGen> makeDistinctGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<DistinctGen>(emitter, op);
}

std::unique_ptr<OperatorGen> makePositiveGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<DistinctGen>(emitter, op);
}

} // namespace kiln::codegen
