// Index: the current rows of a model materialized as `index`, for lookups by its key and scans.
// One table holds each distinct row with its multiplicity, found by the whole row (chain 0, as
// changes arrive) and by the key (chain 1, as lookups ask). It emits nothing.

#include "Operator.h"

namespace kiln::codegen {

namespace {

class IndexGen : public OperatorGen {
public:
  IndexGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), in_(emitter.layoutOf(emitter.input(op, 0).schema)),
        // payload: { row, weight }
        payload_type_(llvm::StructType::get(emitter.ctx_, {in_.type, emitter.i64_})) {}

  std::vector<Arrangement> arrangements() override {
    Arrangement rows;
    rows.role = "rows";
    rows.describe = "the model's rows, by row and by key";
    rows.payload = payload_type_;
    rows.size = op_.stateSize();
    describeRow(rows, 0, in_, e_.input(op_, 0).schema);
    describeScalar(rows, 1, "weight", KILN_FIELD_WEIGHT);
    rows.key_fields = Emitter::allColumns(in_.types.size());
    rows.unique_key = true; // identical rows add up in one entry
    rows.chain_keys = {op_.key};
    return {rows};
  }

  // The same row out and in again changes nothing.
  void emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override {
    emitUpdateUnless(e_.rowsIdentical(in_, old_row, new_row), port, old_row, new_row, weight);
  }

  void defineConsumers() override {
    const RowLayout &in = in_;
    llvm::StructType *payload_type = payload_type_;
    llvm::Function *f = e_.beginConsumer(consumer(0));
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *table = slot(0);
    llvm::Value *payload =
        e_.findOrInsertRow(table, payload_type, in, row, [&](llvm::Value *fresh) {
          llvm::Value *stored = b_.CreateStructGEP(payload_type, fresh, 0);
          for (int32_t c : Emitter::allColumns(in.types.size()))
            e_.copyColumn(in, row, c, in, stored, c, /*intern=*/true);
          b_.CreateCall(e_.fn("kiln_ht_link"), {table, e_.entryOf(fresh), b_.getInt32(1),
                                                e_.hashColumns(in, row, op_.key)});
        });
    llvm::Value *weight_ptr = b_.CreateStructGEP(payload_type, payload, 1);
    llvm::Value *updated = b_.CreateAdd(b_.CreateLoad(e_.i64_, weight_ptr), weight);
    b_.CreateStore(updated, weight_ptr);
    llvm::BasicBlock *erase = llvm::BasicBlock::Create(e_.ctx_, "erase", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
    b_.CreateCondBr(b_.CreateICmpEQ(updated, b_.getInt64(0)), erase, done);
    b_.SetInsertPoint(erase);
    b_.CreateCall(e_.fn("kiln_ht_erase"), {table, e_.entryOf(payload)});
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    b_.CreateRetVoid();
    defineLookup();
    defineScan();
  }

private:
  // Calls visit(context, row, weight) for a stored entry's row; counts it.
  void visit(llvm::Value *visitor, llvm::Value *context, llvm::Value *payload, llvm::Value *count) {
    llvm::FunctionType *type =
        llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_, e_.i64_}, false);
    b_.CreateCall(type, visitor,
                  {context, b_.CreateStructGEP(payload_type_, payload, 0),
                   b_.CreateLoad(e_.i64_, b_.CreateStructGEP(payload_type_, payload, 1))});
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(e_.i64_, count), b_.getInt64(1)), count);
  }

  // index_N.lookup(state, key_row, visit, context): the rows whose key equals key_row's.
  void defineLookup() {
    lookup_ = e_.newFunction(
        op_.stateName() + ".lookup",
        llvm::FunctionType::get(e_.i64_, {e_.ptr_, e_.ptr_, e_.ptr_, e_.ptr_}, false));
    llvm::Function *f = e_.beginConsumer(lookup_);
    llvm::Value *key_row = f->getArg(1);
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    b_.CreateStore(b_.getInt64(0), count);
    e_.forEachInChain(
        slot(0), e_.hashColumns(in_, key_row, op_.key),
        [&](llvm::Value *, llvm::Value *payload, llvm::BasicBlock *) {
          llvm::BasicBlock *same = llvm::BasicBlock::Create(e_.ctx_, "same.key", f);
          llvm::BasicBlock *other = llvm::BasicBlock::Create(e_.ctx_, "other.key", f);
          b_.CreateCondBr(e_.columnsEqual(in_, key_row, op_.key, in_,
                                          b_.CreateStructGEP(payload_type_, payload, 0), op_.key),
                          same, other);
          b_.SetInsertPoint(same);
          visit(f->getArg(2), f->getArg(3), payload, count);
          b_.CreateBr(other);
          b_.SetInsertPoint(other);
        },
        1, e_.allocSize(payload_type_));
    b_.CreateRet(b_.CreateLoad(e_.i64_, count));
  }

  // index_N.scan(state, visit, context): every row.
  void defineScan() {
    scan_ = e_.newFunction(op_.stateName() + ".scan",
                           llvm::FunctionType::get(e_.i64_, {e_.ptr_, e_.ptr_, e_.ptr_}, false));
    llvm::Function *f = e_.beginConsumer(scan_);
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    b_.CreateStore(b_.getInt64(0), count);
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      visit(f->getArg(1), f->getArg(2), e_.payloadOf(entry), count);
    });
    b_.CreateRet(b_.CreateLoad(e_.i64_, count));
  }

  const RowLayout &in_;
  llvm::StructType *payload_type_;
};

} // namespace

std::unique_ptr<OperatorGen> makeIndexGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<IndexGen>(emitter, op);
}

} // namespace kiln::codegen
