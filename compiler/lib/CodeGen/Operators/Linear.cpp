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
    SqlValue keep = e_.genExpr(*op_.predicate, in, row);
    llvm::BasicBlock *pass = llvm::BasicBlock::Create(e_.ctx_, "pass", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "done", f);
    b_.CreateCondBr(
        b_.CreateAnd(b_.CreateNot(keep.null), b_.CreateICmpNE(keep.value, b_.getInt8(0))), pass,
        done);
    b_.SetInsertPoint(pass);
    e_.emitToConsumers(op_, row, weight);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    b_.CreateRetVoid();
  }
};

class MapGen : public OperatorGen {
public:
  using OperatorGen::OperatorGen;
  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    const RowLayout &in = e_.layoutOf(e_.input(op_, 0).schema);
    const RowLayout &out = e_.layoutOf(op_.schema);
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *result = e_.newRow(out);
    for (size_t i = 0; i < op_.exprs.size(); ++i)
      e_.storeColumn(out, result, static_cast<int>(i), e_.genExpr(*op_.exprs[i], in, row));
    e_.emitToConsumers(op_, result, weight);
    b_.CreateRetVoid();
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
