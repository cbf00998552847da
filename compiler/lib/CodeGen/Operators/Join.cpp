// The inner equi-join: bilinear, so it keeps an index of each side keyed by the join key. A change
// of one side is matched against the other side's index and then recorded in its own.
// Processing changes one at a time in any order yields exactly dA ⋈ B + A ⋈ dB + dA ⋈ dB.

#include "Operator.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <set>

namespace kiln::codegen {

namespace {

class JoinGen : public OperatorGen {
public:
  JoinGen(Emitter &emitter, const ir::Op &op) : OperatorGen(emitter, op) {}

  size_t consumerCount() const override { return 2; }

  // Per side: its index (entries: the row and its weight, hashed by the join key) and, unless
  // the side is unique on its key, a table of its distinct rows pointing at the index entries.
  std::vector<Arrangement> arrangements() override {
    std::vector<Arrangement> result;
    const char *names[2] = {"left", "right"};
    for (int side = 0; side < 2; ++side) {
      const ir::Op &in = e_.input(op_, side);
      const RowLayout &row = e_.layoutOf(in.schema);
      Arrangement index;
      index.role = names[side];
      index.describe = std::string(names[side]) + " rows by join key";
      index.payload = llvm::StructType::get(e_.ctx_, {row.type, e_.i64_});
      index.size = ir::StateSize::GrowsWithInput;
      describeRow(index, 0, row, in.schema);
      describeScalar(index, 1, "weight", KILN_FIELD_WEIGHT);
      for (int32_t k : side == 0 ? op_.left_keys : op_.right_keys)
        index.key_fields.push_back(k);
      index_[side] = static_cast<int>(result.size());
      result.push_back(std::move(index));
    }
    for (int side = 0; side < 2; ++side) {
      rows_[side] = -1;
      if (uniqueOnKey(side))
        continue;
      Arrangement rows;
      rows.role = std::string(names[side]) + ".rows";
      rows.describe = std::string(names[side]) + " index entries by whole row";
      rows.payload = llvm::StructType::get(
          e_.ctx_, llvm::ArrayRef<llvm::Type *>{e_.ptr_}); // not the (context, isPacked) overload
      rows.size = ir::StateSize::GrowsWithInput;
      describeScalar(rows, 0, "entry", KILN_FIELD_ENTRY);
      rows.fields.back().target = index_[side];
      rows_[side] = static_cast<int>(result.size());
      result.push_back(std::move(rows));
    }
    return result;
  }

  void defineConsumers() override {
    defineSide(0);
    defineSide(1);
  }

private:
  // Whether side `side` has at most one live row per join key (a dimension joined on its
  // primary key): then it keeps no table of distinct rows.
  bool uniqueOnKey(int side) const {
    const std::vector<int32_t> &keys = side == 0 ? op_.left_keys : op_.right_keys;
    std::optional<std::set<int32_t>> unique = ir::uniqueColumns(e_.ir_, op_.inputs[side]);
    return unique && std::all_of(unique->begin(), unique->end(), [&](int32_t c) {
             return std::find(keys.begin(), keys.end(), c) != keys.end();
           });
  }

  void defineSide(int side);

  int index_[2] = {-1, -1}; // arrangement of each side's index
  int rows_[2] = {-1, -1};  // arrangement of each side's distinct rows, or -1
};

void JoinGen::defineSide(int side) {
  const ir::Op &op = op_;
  llvm::Function *f = e_.beginConsumer(consumer(side));
  const ir::Op &mine = e_.input(op, side);
  const ir::Op &other = e_.input(op, 1 - side);
  const RowLayout &in = e_.layoutOf(mine.schema);
  const RowLayout &other_layout = e_.layoutOf(other.schema);
  const RowLayout &out = e_.layoutOf(op.schema);
  const std::vector<int32_t> &my_keys = side == 0 ? op.left_keys : op.right_keys;
  const std::vector<int32_t> &other_keys = side == 0 ? op.right_keys : op.left_keys;
  llvm::StructType *my_entry = llvm::StructType::get(e_.ctx_, {in.type, e_.i64_});
  llvm::StructType *other_entry = llvm::StructType::get(e_.ctx_, {other_layout.type, e_.i64_});
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(e_.ctx_, "exit", f);

  // A NULL key equals nothing: such a row can never produce output, so it is not even stored.
  llvm::Value *null_key = b_.getFalse();
  for (int32_t k : my_keys)
    null_key = b_.CreateOr(null_key, e_.loadNull(in, row, k));
  llvm::BasicBlock *work = llvm::BasicBlock::Create(e_.ctx_, "work", f);
  b_.CreateCondBr(null_key, exit, work);
  b_.SetInsertPoint(work);

  llvm::Value *hash = e_.hashColumns(in, row, my_keys);
  llvm::Value *other_index = slot(index_[1 - side]);
  llvm::Value *my_index = slot(index_[side]);
  e_.forEachInChain(
      other_index, hash, [&](llvm::Value *, llvm::Value *payload, llvm::BasicBlock *) {
        llvm::Value *other_row = b_.CreateStructGEP(other_entry, payload, 0);
        llvm::Value *other_weight =
            b_.CreateLoad(e_.i64_, b_.CreateStructGEP(other_entry, payload, 1));
        llvm::Value *match = e_.columnsEqual(in, row, my_keys, other_layout, other_row, other_keys);
        llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "join.emit", f);
        llvm::BasicBlock *skip = llvm::BasicBlock::Create(e_.ctx_, "join.skip", f);
        b_.CreateCondBr(match, emit, skip);
        b_.SetInsertPoint(emit);
        llvm::Value *joined = e_.newRow(out);
        const RowLayout &left = side == 0 ? in : other_layout;
        const RowLayout &right = side == 0 ? other_layout : in;
        llvm::Value *left_row = side == 0 ? row : other_row;
        llvm::Value *right_row = side == 0 ? other_row : row;
        int left_width = static_cast<int>(left.types.size());
        for (int i = 0; i < left_width; ++i)
          e_.copyColumn(left, left_row, i, out, joined, i);
        for (size_t i = 0; i < right.types.size(); ++i)
          e_.copyColumn(right, right_row, static_cast<int>(i), out, joined,
                        left_width + static_cast<int>(i));
        e_.emitToConsumers(op, joined, b_.CreateMul(weight, other_weight));
        b_.CreateBr(skip);
        b_.SetInsertPoint(skip);
      });

  // Record the change: add its weight to an identical stored row, or store a new one. The index
  // is keyed by the join key, and a hot key has many rows, so identical rows are found through a
  // second table keyed by the whole row whose entries point at the index entries. A side that is
  // unique on its join key (a dimension joined on its primary key) has one row per key: its
  // index chain finds the row as fast, and the second table is not kept.
  std::vector<int32_t> all = Emitter::allColumns(in.types.size());
  bool unique_on_key = rows_[side] < 0;
  llvm::Value *my_rows = unique_on_key ? nullptr : slot(rows_[side]);
  llvm::Value *row_hash = unique_on_key ? nullptr : e_.hashColumns(in, row, all);
  llvm::BasicBlock *insert = llvm::BasicBlock::Create(e_.ctx_, "insert", f);
  auto addToStored = [&](llvm::Value *entry, llvm::Value *row_entry) {
    llvm::Value *payload = e_.payloadOf(entry);
    llvm::Value *stored = b_.CreateStructGEP(my_entry, payload, 0);
    llvm::BasicBlock *same = llvm::BasicBlock::Create(e_.ctx_, "same", f);
    llvm::BasicBlock *differs = llvm::BasicBlock::Create(e_.ctx_, "differs", f);
    b_.CreateCondBr(e_.columnsEqual(in, row, all, in, stored, all), same, differs);
    b_.SetInsertPoint(same);
    llvm::Value *weight_ptr = b_.CreateStructGEP(my_entry, payload, 1);
    llvm::Value *updated = b_.CreateAdd(b_.CreateLoad(e_.i64_, weight_ptr), weight);
    b_.CreateStore(updated, weight_ptr);
    llvm::BasicBlock *erase = llvm::BasicBlock::Create(e_.ctx_, "erase", f);
    b_.CreateCondBr(b_.CreateICmpEQ(updated, b_.getInt64(0)), erase, exit);
    b_.SetInsertPoint(erase);
    b_.CreateCall(e_.fn("kiln_ht_erase"), {my_index, entry});
    if (row_entry)
      b_.CreateCall(e_.fn("kiln_ht_erase"), {my_rows, row_entry});
    b_.CreateBr(exit);
    b_.SetInsertPoint(differs);
  };
  if (unique_on_key) {
    e_.forEachInChain(my_index, hash, [&](llvm::Value *entry, llvm::Value *, llvm::BasicBlock *) {
      addToStored(entry, nullptr);
    });
  } else {
    e_.forEachInChain(my_rows, row_hash,
                      [&](llvm::Value *row_entry, llvm::Value *row_payload, llvm::BasicBlock *) {
                        addToStored(b_.CreateLoad(e_.ptr_, row_payload), row_entry);
                      });
  }
  b_.CreateBr(insert);
  b_.SetInsertPoint(insert);
  llvm::Value *entry = b_.CreateCall(e_.fn("kiln_ht_insert"), {my_index, hash});
  llvm::Value *payload = e_.payloadOf(entry);
  llvm::Value *stored = b_.CreateStructGEP(my_entry, payload, 0);
  for (int32_t c : all)
    e_.copyColumn(in, row, c, in, stored, c, /*intern=*/true);
  b_.CreateStore(weight, b_.CreateStructGEP(my_entry, payload, 1));
  if (!unique_on_key) {
    llvm::Value *row_entry = b_.CreateCall(e_.fn("kiln_ht_insert"), {my_rows, row_hash});
    b_.CreateStore(entry, e_.payloadOf(row_entry));
  }
  b_.CreateBr(exit);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

} // namespace

std::unique_ptr<OperatorGen> makeJoinGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<JoinGen>(emitter, op);
}

} // namespace kiln::codegen
