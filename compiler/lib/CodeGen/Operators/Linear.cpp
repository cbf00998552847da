// The linear operators: each change is handled alone and passed straight on, so LLVM fuses a
// pipeline of them into the function that pushes a source change. They keep no state.

#include "Operator.h"

namespace kiln::codegen {

namespace {

class FilterGen : public OperatorGen {
public:
  using OperatorGen::OperatorGen;
  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    const RowLayout &in = e_.layoutOf(e_.input(op_, 0).schema);
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::BasicBlock *pass = llvm::BasicBlock::Create(e_.ctx_, "pass", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
    b_.CreateCondBr(kept(in, row), pass, done);
    b_.SetInsertPoint(pass);
    e_.emitToConsumers(op_, row, weight);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    b_.CreateRetVoid();
  }
  // An update of a row the filter keeps before and after is an update of its output; one it
  // keeps on one side only is a retraction or an insertion.
  void emitUpdate(size_t, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override {
    const RowLayout &in = e_.layoutOf(e_.input(op_, 0).schema);
    llvm::Value *kept_old = kept(in, old_row), *kept_new = kept(in, new_row);
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    auto block = [&](const char *name) { return llvm::BasicBlock::Create(e_.ctx_, name, f); };
    llvm::BasicBlock *both = block("kept.both"), *either = block("kept.either"),
                     *old_only = block("kept.old"), *not_old = block("kept.not.old"),
                     *new_only = block("kept.new"), *done = block("kept.done");
    b_.CreateCondBr(b_.CreateAnd(kept_old, kept_new), both, either);
    b_.SetInsertPoint(both);
    e_.emitUpdateToConsumers(op_, old_row, new_row, weight);
    b_.CreateBr(done);
    b_.SetInsertPoint(either);
    b_.CreateCondBr(kept_old, old_only, not_old);
    b_.SetInsertPoint(old_only);
    e_.emitToConsumers(op_, old_row, b_.CreateNeg(weight));
    b_.CreateBr(done);
    b_.SetInsertPoint(not_old);
    b_.CreateCondBr(kept_new, new_only, done);
    b_.SetInsertPoint(new_only);
    e_.emitToConsumers(op_, new_row, weight);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

private:
  llvm::Value *kept(const RowLayout &in, llvm::Value *row) {
    SqlValue keep = e_.genExpr(*op_.predicate, in, row);
    return b_.CreateAnd(b_.CreateNot(keep.null), b_.CreateICmpNE(keep.value, b_.getInt8(0)));
  }
};

class MapGen : public OperatorGen {
public:
  using OperatorGen::OperatorGen;
  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    e_.emitToConsumers(op_, mapped(f->getArg(1)), f->getArg(2));
    b_.CreateRetVoid();
  }
  void emitUpdate(size_t, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override {
    llvm::Value *mapped_old = mapped(old_row);
    e_.emitUpdateToConsumers(op_, mapped_old, mapped(new_row), weight);
  }

private:
  llvm::Value *mapped(llvm::Value *row) {
    const RowLayout &in = e_.layoutOf(e_.input(op_, 0).schema);
    const RowLayout &out = e_.layoutOf(op_.schema);
    llvm::Value *result = e_.newRow(out);
    for (size_t i = 0; i < op_.exprs.size(); ++i)
      e_.storeColumn(out, result, static_cast<int>(i), e_.genExpr(*op_.exprs[i], in, row));
    return result;
  }
};

// Union and negate pass each change on, negate with its weight negated.
class PassOnGen : public OperatorGen {
public:
  PassOnGen(Emitter &emitter, const ir::Op &op, bool negate)
      : OperatorGen(emitter, op), negate_(negate) {}
  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    llvm::Value *weight = negate_ ? b_.CreateNeg(f->getArg(2)) : f->getArg(2);
    e_.emitToConsumers(op_, f->getArg(1), weight);
    b_.CreateRetVoid();
  }
  // Negating an update of old to new is the update's weight negated.
  void emitUpdate(size_t, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override {
    e_.emitUpdateToConsumers(op_, old_row, new_row, negate_ ? b_.CreateNeg(weight) : weight);
  }

private:
  bool negate_;
};

} // namespace

std::unique_ptr<OperatorGen> makeFilterGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<FilterGen>(emitter, op);
}
std::unique_ptr<OperatorGen> makeMapGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<MapGen>(emitter, op);
}
std::unique_ptr<OperatorGen> makeUnionAllGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<PassOnGen>(emitter, op, /*negate=*/false);
}
std::unique_ptr<OperatorGen> makeNegateGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<PassOnGen>(emitter, op, /*negate=*/true);
}

} // namespace kiln::codegen
