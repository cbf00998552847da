// Constant: the rows of a VALUES list, a SELECT without FROM or a dbt seed. It emits them at the
// end of the first tick, and keeps one flag so that it never does again, also after a restart
// from a checkpoint (the flag is saved with the rest of the state). The host may have replaced
// the rows (a seed given another file, kiln_constant_enabled): then the flag says so and the
// operator never emits.

#include "Operator.h"

namespace kiln::codegen {

namespace {

class ConstantGen : public OperatorGen {
public:
  ConstantGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), out_(emitter.layoutOf(op.schema)),
        payload_type_(
            llvm::StructType::get(emitter.ctx_, llvm::ArrayRef<llvm::Type *>{emitter.i8_})) {}

  size_t consumerCount() const override { return 0; } // it has no inputs

  std::vector<Arrangement> arrangements() override {
    Arrangement emitted;
    emitted.role = "emitted";
    emitted.describe = "whether the rows have been emitted";
    emitted.payload = payload_type_;
    emitted.size = ir::StateSize::Bounded;
    describeScalar(emitted, 0, "emitted", KILN_FIELD_FLAG); // 0 pending, 1 emitted, 2 replaced
    emitted.unique_key = true;                              // its one entry
    return {emitted};
  }

  void defineConsumers() override {}

  void emitCreate() override {
    llvm::Value *entry =
        b_.CreateCall(e_.fn("kiln_ht_insert"), {slot(0), b_.getInt64(0x9E3779B97F4A7C15ULL)});
    b_.CreateStore(b_.getInt8(0), b_.CreateStructGEP(payload_type_, e_.payloadOf(entry), 0));
  }

  // At a tick's end, the first time: the rows, unless the host replaced them.
  void defineFlush() override {
    e_.beginConsumer(flusher());
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      llvm::Value *flag = b_.CreateStructGEP(payload_type_, e_.payloadOf(entry), 0);
      llvm::BasicBlock *first = llvm::BasicBlock::Create(e_.ctx_, "first", f);
      llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "emit", f);
      llvm::BasicBlock *replaced = llvm::BasicBlock::Create(e_.ctx_, "replaced", f);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
      b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(e_.i8_, flag), b_.getInt8(kPending)), first,
                      done);
      b_.SetInsertPoint(first);
      // The flag changes within the tick: a SQL runtime error later in it must undo the change.
      b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(0), entry});
      llvm::Value *enabled =
          b_.CreateCall(e_.fn("kiln_constant_enabled"), {e_.rt(), b_.getInt32(e_.opIndex(op_.id))});
      b_.CreateCondBr(b_.CreateICmpNE(enabled, b_.getInt32(0)), emit, replaced);
      b_.SetInsertPoint(emit);
      b_.CreateStore(b_.getInt8(kEmitted), flag);
      emitRows();
      b_.CreateBr(done);
      b_.SetInsertPoint(replaced);
      b_.CreateStore(b_.getInt8(kReplaced), flag);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    });
    b_.CreateRetVoid();
  }

  // Its whole output: the rows, once they have been emitted.
  bool hasContents() const override { return true; }
  void defineContents() override {
    e_.beginConsumer(contents());
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    e_.forEachEntry(slot(0), [&](llvm::Value *entry) {
      llvm::Value *flag = b_.CreateStructGEP(payload_type_, e_.payloadOf(entry), 0);
      llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "emit", f);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
      b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(e_.i8_, flag), b_.getInt8(kEmitted)), emit,
                      done);
      b_.SetInsertPoint(emit);
      emitRows();
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    });
    b_.CreateRetVoid();
  }

private:
  // The flag's values.
  static constexpr uint8_t kPending = 0, kEmitted = 1, kReplaced = 2;

  // Each row, built from its constants (they read no input row), to the consumers once.
  void emitRows() {
    size_t width = op_.schema.size();
    for (size_t first = 0; first + width <= op_.exprs.size(); first += width) {
      llvm::Value *row = e_.newRow(out_);
      for (size_t c = 0; c < width; ++c)
        e_.storeColumn(out_, row, static_cast<int>(c),
                       e_.genExpr(*op_.exprs[first + c], out_, nullptr));
      e_.emitToConsumers(op_, row, b_.getInt64(1));
    }
  }

  const RowLayout &out_;
  llvm::StructType *payload_type_;
};

} // namespace

std::unique_ptr<OperatorGen> makeConstantGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<ConstantGen>(emitter, op);
}

} // namespace kiln::codegen
