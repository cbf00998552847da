// What every operator's generator shares: its functions' declarations, the description of the
// state it keeps, and the factory that Ops.def expands into one case per kind.

#include "Operator.h"

namespace kiln::codegen {

OperatorGen::OperatorGen(Emitter &emitter, const ir::Op &op)
    : e_(emitter), op_(op), b_(emitter.b_) {}
OperatorGen::~OperatorGen() = default;

void OperatorGen::declare(int first) {
  first_slot = first;
  state_ = arrangements();
  llvm::FunctionType *consumer =
      llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_, e_.i64_}, false);
  llvm::FunctionType *flusher = llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_}, false);
  std::string base = std::string(ir::opKindName(op_.kind)) + "_" + std::to_string(op_.id);
  size_t count = consumerCount();
  if (count == 1) {
    consumers_.push_back(e_.newFunction(base, consumer));
  } else if (count == 2) { // the two sides of a binary operator
    consumers_.push_back(e_.newFunction(base + ".left", consumer));
    consumers_.push_back(e_.newFunction(base + ".right", consumer));
  } else {
    for (size_t port = 0; port < count; ++port)
      consumers_.push_back(e_.newFunction(base + "." + std::to_string(port), consumer));
  }
  if (op_.has(ir::kFlushes))
    flusher_ = e_.newFunction(base + ".flush", flusher);
  if (hasContents())
    contents_ = e_.newFunction(base + ".contents", flusher);
}

void OperatorGen::emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                             llvm::Value *weight) {
  llvm::Value *state = b_.GetInsertBlock()->getParent()->getArg(0);
  b_.CreateCall(consumer(port), {state, old_row, b_.CreateNeg(weight)});
  b_.CreateCall(consumer(port), {state, new_row, weight});
}

void OperatorGen::emitUpdateUnless(llvm::Value *same, size_t port, llvm::Value *old_row,
                                   llvm::Value *new_row, llvm::Value *weight) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *changed = llvm::BasicBlock::Create(e_.ctx_, "changed", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "same", f);
  b_.CreateCondBr(same, done, changed);
  b_.SetInsertPoint(changed);
  OperatorGen::emitUpdate(port, old_row, new_row, weight);
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
}

void OperatorGen::describeRow(Arrangement &arrangement, int field, const RowLayout &row,
                              const ir::Schema &schema) {
  const llvm::DataLayout &layout = e_.layout_;
  int64_t base =
      static_cast<int64_t>(layout.getStructLayout(arrangement.payload)->getElementOffset(field));
  const llvm::StructLayout *columns = layout.getStructLayout(row.type);
  for (size_t i = 0; i < row.types.size(); ++i) {
    StateField f;
    f.name = i < schema.size() ? schema[i].name : "$" + std::to_string(i);
    f.kind = KILN_FIELD_VALUE;
    f.type = Emitter::storageKind(row.types[i]);
    f.scale = row.types[i].scale;
    f.offset = base + static_cast<int64_t>(columns->getElementOffset(row.field_of[i]));
    if (i >= schema.size() || schema[i].nullable) {
      f.null_offset = base + static_cast<int64_t>(i / 64) * 8;
      f.null_bit = static_cast<int32_t>(i % 64);
    }
    arrangement.fields.push_back(std::move(f));
  }
}

Arrangement OperatorGen::changedList(std::string describe) {
  Arrangement changed;
  changed.role = "changed";
  changed.describe = std::move(describe);
  changed.container = KILN_STATE_LIST;
  changed.transient = true;
  return changed;
}

void OperatorGen::describeScalar(Arrangement &arrangement, int field, std::string name,
                                 kiln_state_field_kind kind, int32_t type) {
  StateField f;
  f.name = std::move(name);
  f.kind = kind;
  f.type = type;
  f.offset = static_cast<int64_t>(
      e_.layout_.getStructLayout(arrangement.payload)->getElementOffset(field));
  arrangement.fields.push_back(std::move(f));
}

void OperatorGen::forEachChange(
    llvm::Value *changes, llvm::Value *n,
    const std::function<void(llvm::Value *row, llvm::Value *weight)> &body) {
  llvm::StructType *change = llvm::StructType::get(e_.ctx_, {e_.ptr_, e_.i64_});
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *entry = b_.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(e_.ctx_, "change", f);
  llvm::BasicBlock *each = llvm::BasicBlock::Create(e_.ctx_, "change.body", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "changes.done", f);
  b_.CreateBr(loop);
  b_.SetInsertPoint(loop);
  llvm::PHINode *i = b_.CreatePHI(e_.i64_, 2);
  i->addIncoming(b_.getInt64(0), entry);
  b_.CreateCondBr(b_.CreateICmpSLT(i, n), each, done);
  b_.SetInsertPoint(each);
  llvm::Value *item = b_.CreateGEP(change, changes, i);
  body(b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(change, item, 0)),
       b_.CreateLoad(e_.i64_, b_.CreateStructGEP(change, item, 1)));
  i->addIncoming(b_.CreateAdd(i, b_.getInt64(1)), b_.GetInsertBlock());
  b_.CreateBr(loop);
  b_.SetInsertPoint(done);
}

std::unique_ptr<OperatorGen> makeOperatorGen(Emitter &emitter, const ir::Op &op) {
  switch (op.kind) {
#define KILN_OP(Kind, ...)                                                                         \
  case ir::OpKind::Kind:                                                                           \
    return make##Kind##Gen(emitter, op);
#include "kiln/IR/Ops.def"
  }
  return nullptr;
}

} // namespace kiln::codegen
