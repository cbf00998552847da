// Sources. One without a primary key keeps nothing and has no function of its own: the program's
// push entry point hands its changes to its users. One with a primary key keeps the current row
// of every key in a table and applies each change itself (kiln_program.apply): an insert of a new
// key, an upsert, or a delete by key becomes the retraction of the stored row and the insertion
// of the new one, pushed to its users.
//
// The table is also where the joins keep the rows of their inputs over the source (SharedPart in
// Emitter.h, ir::sharedKeyedSource): an entry is linked into the chains such an input is looked up
// by while the source's row passes the input's filters, and the join computes the input's row from
// the source's when it reads it. The source's rows are stored once (Join.cpp).

#include "Operator.h"

#include "kiln/IR/Utils.h"

namespace kiln::codegen {

namespace {

class SourceGen : public OperatorGen {
public:
  SourceGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op), layout_(emitter.layoutOf(op.schema)) {}

  size_t consumerCount() const override { return 0; }
  // The entry whose change is being pushed, for the joins that keep their rows in it.
  int scratchSlots() const override { return keyed() ? 1 : 0; }
  std::vector<Arrangement> arrangements() override;
  void defineConsumers() override;
  void emitDestroy() override;

private:
  bool keyed() const { return !op_.key.empty(); }
  llvm::Value *storedRow(llvm::Value *entry) {
    return b_.CreateStructGEP(payload_, e_.payloadOf(entry), 0);
  }
  // Copies `row` into the entry's row, each string into a copy the entry owns.
  void keepRow(llvm::Value *row, llvm::Value *stored);
  // Lets the strings of a stored row go (at the end of the tick: pushed rows point at them).
  void releaseRow(llvm::Value *stored);
  // After a change is pushed: each join input over the source settles its part of the entry.
  void settle(llvm::Value *state, llvm::Value *entry);

  const RowLayout &layout_;
  std::vector<std::pair<int32_t, size_t>> parts_; // the shared join inputs: (join id, port)
  llvm::StructType *payload_ = nullptr;           // { row, part... }
};

std::vector<Arrangement> SourceGen::arrangements() {
  if (!keyed())
    return {};
  for (const auto &op : e_.ir_.ops) {
    if (op->kind != ir::OpKind::Join && op->kind != ir::OpKind::DeltaJoin)
      continue;
    for (size_t port = 0; port < op->inputs.size(); ++port)
      if (ir::sharedKeyedSource(e_.ir_, *op, port) == &op_)
        parts_.push_back({op->id, port});
  }
  // Each part: whether the entry is linked in the input's chains, and whether the change being
  // pushed has already been settled for it.
  std::vector<llvm::Type *> fields{layout_.type};
  llvm::StructType *part_type = llvm::StructType::get(e_.ctx_, {e_.i8_, e_.i8_});
  fields.insert(fields.end(), parts_.size(), part_type);
  payload_ = llvm::StructType::get(e_.ctx_, fields);

  Arrangement table;
  table.role = "rows";
  std::string key_names;
  for (int32_t c : op_.key)
    key_names += (key_names.empty() ? "" : ", ") + op_.schema[c].name;
  table.describe = "the current row by " + key_names;
  table.payload = payload_;
  table.size = ir::StateSize::GrowsWithKeys;
  table.key_fields = op_.key; // the row's fields are its columns
  table.unique_key = true;
  describeRow(table, 0, layout_, op_.schema);
  const llvm::StructLayout *entry_layout = e_.layout_.getStructLayout(payload_);
  int32_t chain = 1;
  for (size_t p = 0; p < parts_.size(); ++p) {
    auto [join_id, port] = parts_[p];
    const ir::Op &join = *e_.ir_.find(join_id);
    std::string prefix = join.stateName() + "." + std::to_string(port) + ".";
    table.describe += ", " + join.stateName() + "'s input " + std::to_string(port);
    unsigned field = static_cast<unsigned>(p + 1);
    const llvm::StructLayout *part_layout = e_.layout_.getStructLayout(part_type);
    int64_t base = static_cast<int64_t>(entry_layout->getElementOffset(field));
    StateField linked, settled;
    linked.name = prefix + "linked";
    linked.kind = KILN_FIELD_FLAG;
    linked.type = KILN_T_BOOL;
    linked.offset = base + static_cast<int64_t>(part_layout->getElementOffset(0));
    settled.name = prefix + "settled";
    settled.kind = KILN_FIELD_SCRATCH; // set and cleared within one change
    settled.type = KILN_T_BOOL;
    settled.offset = base + static_cast<int64_t>(part_layout->getElementOffset(1));
    int32_t linked_field = static_cast<int32_t>(table.fields.size());
    table.fields.push_back(linked);
    table.fields.push_back(settled);

    SharedPart shared;
    shared.source = &op_;
    shared.payload = payload_;
    shared.field = field;
    shared.part = part_type;
    shared.first_chain = chain;
    // One chain per key, hashed by the input's columns, which are computed from the row: no
    // fields name them.
    for (size_t k = 0; k < e_.generatorOf(join).sharedKeys(port).size(); ++k) {
      table.chain_keys.push_back({});
      table.chain_member.push_back(linked_field);
      ++chain;
    }
    e_.shared_parts_[{join_id, port}] = shared;
  }
  return {table};
}

void SourceGen::keepRow(llvm::Value *row, llvm::Value *stored) {
  for (size_t c = 0; c < layout_.types.size(); ++c) {
    int column = static_cast<int>(c);
    SqlValue v = e_.loadColumn(layout_, row, column);
    if (layout_.types[c].isString())
      v.value = b_.CreateCall(e_.fn("kiln_text_keep"), {e_.rt(), b_.CreateExtractValue(v.value, 0),
                                                        b_.CreateExtractValue(v.value, 1)});
    e_.storeColumn(layout_, stored, column, v);
  }
}

void SourceGen::releaseRow(llvm::Value *stored) {
  for (size_t c = 0; c < layout_.types.size(); ++c) {
    if (!layout_.types[c].isString())
      continue;
    SqlValue v = e_.loadColumn(layout_, stored, static_cast<int>(c));
    b_.CreateCall(e_.fn("kiln_text_release"), {e_.rt(), b_.CreateExtractValue(v.value, 0)});
  }
}

void SourceGen::settle(llvm::Value *state, llvm::Value *entry) {
  for (auto [join, port] : parts_)
    b_.CreateCall(e_.shared_parts_.at({join, port}).settle, {state, entry});
}

void SourceGen::defineConsumers() {
  if (!keyed())
    return;
  // One function pushes a change to the source's consumers, called wherever apply pushes: the
  // pipelines behind it are inlined once, not once per kind of change (build time).
  std::string base = "source_" + std::to_string(op_.id);
  llvm::Function *push = e_.newFunction(
      base + ".push", llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_, e_.i64_}, false));
  push->addFnAttr(llvm::Attribute::NoInline);
  e_.beginConsumer(push);
  e_.emitToConsumers(op_, push->getArg(1), push->getArg(2));
  b_.CreateRetVoid();

  // An upsert of a key with a row goes through as an update (emitUpdateToConsumers), so that the
  // consumers that do not read what changed do nothing.
  llvm::Function *replace_row = e_.updaterOf(op_);
  replace_row->addFnAttr(llvm::Attribute::NoInline);

  applier_ = e_.newFunction(base + ".apply",
                            llvm::FunctionType::get(e_.i32_, {e_.ptr_, e_.i32_, e_.ptr_}, false));
  llvm::Function *f = e_.beginConsumer(applier_);
  auto pushChange = [&](llvm::Value *changed, int64_t weight) {
    b_.CreateCall(push, {f->getArg(0), changed, b_.getInt64(static_cast<uint64_t>(weight))});
  };
  llvm::Value *change = f->getArg(1), *row = f->getArg(2);
  llvm::Value *table = slot(0);
  llvm::Value *current = e_.stateSlotAddress(op_, 1);
  auto block = [&](const char *name) { return llvm::BasicBlock::Create(e_.ctx_, name, f); };

  // The key's entry, if it has one.
  llvm::Value *hash = e_.hashColumns(layout_, row, op_.key);
  llvm::Value *found_slot = e_.entryAlloca(e_.ptr_);
  b_.CreateStore(llvm::Constant::getNullValue(e_.ptr_), found_slot);
  e_.forEachInChain(
      table, hash, [&](llvm::Value *entry, llvm::Value *payload, llvm::BasicBlock *done) {
        llvm::Value *stored = b_.CreateStructGEP(payload_, payload, 0);
        llvm::BasicBlock *same = block("same.key");
        llvm::BasicBlock *other = block("other.key");
        b_.CreateCondBr(e_.columnsEqual(layout_, row, op_.key, layout_, stored, op_.key), same,
                        other);
        b_.SetInsertPoint(same);
        b_.CreateStore(entry, found_slot);
        b_.CreateBr(done);
        b_.SetInsertPoint(other);
      });
  llvm::Value *found = b_.CreateLoad(e_.ptr_, found_slot);
  llvm::Value *has_row = b_.CreateIsNotNull(found);

  llvm::BasicBlock *insert = block("insert"), *update = block("update"), *erase = block("delete");
  llvm::BasicBlock *duplicate = block("duplicate"), *missing = block("missing");
  llvm::BasicBlock *upsert = block("upsert"), *insert_only = block("insert.only"),
                   *delete_only = block("delete.only");
  llvm::SwitchInst *dispatch = b_.CreateSwitch(change, upsert);
  dispatch->addCase(b_.getInt32(KILN_APPLY_INSERT), insert_only);
  dispatch->addCase(b_.getInt32(KILN_APPLY_DELETE), delete_only);
  b_.SetInsertPoint(upsert);
  b_.CreateCondBr(has_row, update, insert);
  b_.SetInsertPoint(insert_only);
  b_.CreateCondBr(has_row, duplicate, insert);
  b_.SetInsertPoint(delete_only);
  b_.CreateCondBr(has_row, erase, missing);
  b_.SetInsertPoint(duplicate);
  b_.CreateRet(b_.getInt32(KILN_APPLY_DUPLICATE_KEY));
  b_.SetInsertPoint(missing);
  b_.CreateRet(b_.getInt32(KILN_APPLY_NO_SUCH_KEY));

  // A new key: its entry first, so that the joins over the source find it while it is pushed.
  b_.SetInsertPoint(insert);
  llvm::Value *entry = b_.CreateCall(e_.fn("kiln_ht_insert"), {table, hash});
  keepRow(row, storedRow(entry));
  b_.CreateStore(entry, current);
  pushChange(row, 1);
  settle(f->getArg(0), entry);
  b_.CreateRet(b_.getInt32(KILN_APPLY_OK));

  // The key's row goes (`row` holds only its key). The joins over the source write their flags
  // in its entry, so it is touched before anything is pushed.
  b_.SetInsertPoint(erase);
  if (op_.append_only) // a source that only takes inserts (appendOnlyChange)
    e_.raiseIf(b_.getTrue(), KILN_ERR_APPEND_ONLY_CHANGE, op_.loc);
  b_.CreateCall(e_.fn("kiln_ht_touch"), {table, found});
  llvm::Value *stored = storedRow(found);
  b_.CreateStore(found, current);
  pushChange(stored, -1);
  settle(f->getArg(0), found);
  releaseRow(stored);
  b_.CreateCall(e_.fn("kiln_ht_erase"), {table, found});
  b_.CreateRet(b_.getInt32(KILN_APPLY_OK));

  // The key's row is replaced, unless it is the same.
  b_.SetInsertPoint(update);
  stored = storedRow(found);
  llvm::BasicBlock *unchanged = block("unchanged"), *replace = block("replace");
  b_.CreateCondBr(e_.rowsIdentical(layout_, stored, row), unchanged, replace);
  b_.SetInsertPoint(unchanged);
  b_.CreateRet(b_.getInt32(KILN_APPLY_UNCHANGED));
  b_.SetInsertPoint(replace);
  if (op_.append_only)
    e_.raiseIf(b_.getTrue(), KILN_ERR_APPEND_ONLY_CHANGE, op_.loc);
  b_.CreateCall(e_.fn("kiln_ht_touch"), {table, found});
  b_.CreateStore(found, current);
  b_.CreateCall(replace_row, {f->getArg(0), stored, row, b_.getInt64(1)});
  settle(f->getArg(0), found);
  releaseRow(stored);
  keepRow(row, stored);
  b_.CreateRet(b_.getInt32(KILN_APPLY_OK));
}

void SourceGen::emitDestroy() {
  if (!keyed())
    return;
  e_.forEachEntry(slot(0), [&](llvm::Value *entry) { releaseRow(storedRow(entry)); });
}

} // namespace

std::unique_ptr<OperatorGen> makeSourceGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<SourceGen>(emitter, op);
}

} // namespace kiln::codegen
