// Consolidation: the changes of one tick summed per row, and at the tick's end each row whose
// weight is not zero passed on, so that changes that cancel go no further. A consolidate
// operator passes them to its consumers; a sink hands them to the runtime (kiln_emit), which
// writes the model's changes out. Their state lasts one tick.

#include "Operator.h"

namespace kiln::codegen {

namespace {

class ConsolidationGen : public OperatorGen {
public:
  ConsolidationGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), in_(emitter.layoutOf(emitter.input(op, 0).schema)),
        payload_type_(llvm::StructType::get(emitter.ctx_, {in_.type, emitter.i64_})) {}

  std::vector<Arrangement> arrangements() override {
    Arrangement rows;
    rows.role = "rows";
    rows.describe = "this tick's weight per row";
    rows.payload = payload_type_;
    rows.transient = true;
    rows.size = op_.stateSize();
    describeRow(rows, 0, in_, e_.input(op_, 0).schema);
    describeScalar(rows, 1, "weight", KILN_FIELD_WEIGHT);
    rows.key_fields = Emitter::allColumns(in_.types.size());
    rows.unique_key = true; // identical rows add up in one entry
    return {rows, changedList("rows changed in this tick")};
  }

  // The same row out and in again cancels within the tick.
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
    llvm::Value *pending = slot(1);
    llvm::Value *payload = e_.findOrInsertRow(
        table, payload_type, in, row,
        [&](llvm::Value *fresh) {
          // Strings need to live only until the end of the tick, like the change itself.
          b_.CreateMemCpy(b_.CreateStructGEP(payload_type, fresh, 0), llvm::MaybeAlign(8), row,
                          llvm::MaybeAlign(8), e_.layout_.getTypeAllocSize(in.type));
          b_.CreateCall(e_.fn("kiln_vec_push"), {pending, e_.entryOf(fresh)});
        },
        Emitter::Writes::WithinTick);
    llvm::Value *weight_ptr = b_.CreateStructGEP(payload_type, payload, 1);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(e_.i64_, weight_ptr), weight), weight_ptr);
    b_.CreateRetVoid();
  }

  void defineFlush() override {
    llvm::StructType *payload_type = payload_type_;
    llvm::Function *f = flusher();
    e_.beginConsumer(f);
    llvm::Value *table = slot(0);
    llvm::Value *pending = slot(1);
    e_.forEachListed(pending, [&](llvm::Value *entry) {
      llvm::Value *payload = e_.payloadOf(entry);
      llvm::Value *weight = b_.CreateLoad(e_.i64_, b_.CreateStructGEP(payload_type, payload, 1));
      llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "emit", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(e_.ctx_, "next", f);
      b_.CreateCondBr(b_.CreateICmpNE(weight, b_.getInt64(0)), emit, next);
      b_.SetInsertPoint(emit);
      passOn(b_.CreateStructGEP(payload_type, payload, 0), weight);
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
      b_.CreateCall(e_.fn("kiln_ht_erase"), {table, entry});
    });
    b_.CreateRetVoid();
  }

protected:
  // Passes on one consolidated change at the tick's end.
  virtual void passOn(llvm::Value *row, llvm::Value *weight) = 0;

  const RowLayout &in_;
  llvm::StructType *payload_type_;
};

class ConsolidateGen : public ConsolidationGen {
public:
  using ConsolidationGen::ConsolidationGen;

private:
  void passOn(llvm::Value *row, llvm::Value *weight) override {
    e_.emitToConsumers(op_, row, weight);
  }
};

class SinkGen : public ConsolidationGen {
public:
  SinkGen(Emitter &emitter, const ir::Op &op) : ConsolidationGen(emitter, op) {
    // The runtime numbers sinks in the module's order, as the program descriptor lists them.
    for (const auto &other : emitter.ir_.ops) {
      if (other.get() == &op)
        break;
      if (other->kind == ir::OpKind::Sink)
        ++index_;
    }
  }

private:
  void passOn(llvm::Value *row, llvm::Value *weight) override {
    b_.CreateCall(e_.fn("kiln_emit"), {e_.rt(), b_.getInt32(index_), row, weight});
  }

  int32_t index_ = 0;
};

} // namespace

std::unique_ptr<OperatorGen> makeConsolidateGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<ConsolidateGen>(emitter, op);
}
std::unique_ptr<OperatorGen> makeSinkGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<SinkGen>(emitter, op);
}

} // namespace kiln::codegen
