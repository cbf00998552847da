// The program: one generator per operator, the state slots of their arrangements, the entry
// points the runtime calls (create, push, commit, destroy), and the descriptor constant
// `kiln_program_main` with the sources, sinks, error locations and state descriptors (abi.h).

#include "Emitter.h"
#include "Operators/Operator.h"

#include "kiln/IR/Fingerprint.h"
#include "kiln/IR/TimeZone.h"
#include "kiln/IR/Utils.h"

#include "kiln/runtime/zone.h"

#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>

namespace kiln::codegen {

using ir::OpKind;

Emitter::Emitter(llvm::LLVMContext &context, llvm::Module &module, const ir::Module &ir,
                 const std::vector<SourceTable> &sources, const Options &options)
    : ctx_(context), module_(module), ir_(ir), sources_(sources), options_(options), b_(context),
      layout_(module.getDataLayout()) {
  i1_ = b_.getInt1Ty();
  i8_ = b_.getInt8Ty();
  i32_ = b_.getInt32Ty();
  i64_ = b_.getInt64Ty();
  i128_ = b_.getInt128Ty();
  f64_ = b_.getDoubleTy();
  ptr_ = b_.getPtrTy();
  str_ = llvm::StructType::get(ctx_, {ptr_, i64_});
}

Emitter::~Emitter() = default;

llvm::Function *Emitter::beginConsumer(llvm::Function *f) {
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(ctx_, "entry", f);
  b_.SetInsertPoint(entry);
  state_ = f->getArg(0);
  rt_ = b_.CreateLoad(ptr_, state_);
  return f;
}

void Emitter::unlessMuted(const OperatorGen &user, const std::function<void()> &call) {
  // Only operators with state are muted: what a muted stateless operator would pass on reaches
  // nothing but muted or rebuilding operators with state, and the check stays off the paths
  // between them (filters, projections), which run once per row.
  if (!user.op().isStateful()) {
    call();
    return;
  }
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::Value *state = f->getArg(0);
  llvm::Value *mute = b_.CreateLoad(ptr_, b_.CreateGEP(ptr_, state, b_.getInt64(mute_slot_)));
  llvm::Value *muted = b_.CreateICmpNE(
      b_.CreateLoad(i8_, b_.CreateGEP(i8_, mute, b_.getInt64(op_index_.at(user.op().id)))),
      b_.getInt8(0));
  // Laid out right after the current block, so the function reads in the order it runs.
  llvm::BasicBlock *next = b_.GetInsertBlock()->getNextNode();
  llvm::BasicBlock *deliver = llvm::BasicBlock::Create(ctx_, "deliver", f, next);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx_, "delivered", f, next);
  // Operators are muted only while an upgrade rebuilds others.
  b_.CreateCondBr(muted, after, deliver, llvm::MDBuilder(ctx_).createUnlikelyBranchWeights());
  b_.SetInsertPoint(deliver);
  call();
  b_.CreateBr(after);
  b_.SetInsertPoint(after);
}

void Emitter::emitToConsumers(const ir::Op &producer, llvm::Value *row, llvm::Value *weight) {
  for (const auto &[user, port] : users_[producer.id]) {
    OperatorGen *consumer = user;
    size_t input = port;
    unlessMuted(*user, [&] { b_.CreateCall(consumer->consumer(input), {state_, row, weight}); });
  }
}

void Emitter::emitUpdateToConsumers(const ir::Op &producer, llvm::Value *old_row,
                                    llvm::Value *new_row, llvm::Value *weight) {
  b_.CreateCall(updaterOf(producer), {state_, old_row, new_row, weight});
}

llvm::Function *Emitter::updaterOf(const ir::Op &producer) {
  llvm::Function *&updater = updaters_[producer.id];
  if (updater)
    return updater;
  updater = newFunction(std::string(ir::opKindName(producer.kind)) + "_" +
                            std::to_string(producer.id) + ".update",
                        llvm::FunctionType::get(b_.getVoidTy(), {ptr_, ptr_, ptr_, i64_}, false));
  defineAside(updater, [&](llvm::Function *f) {
    for (const auto &[user, port] : users_[producer.id]) {
      OperatorGen *consumer = user;
      size_t input = port;
      unlessMuted(*user,
                  [&] { consumer->emitUpdate(input, f->getArg(1), f->getArg(2), f->getArg(3)); });
    }
    b_.CreateRetVoid();
  });
  return updater;
}

void Emitter::defineAside(llvm::Function *f, const std::function<void(llvm::Function *)> &body) {
  llvm::IRBuilderBase::InsertPointGuard guard(b_);
  llvm::Value *state = state_, *rt = rt_;
  body(beginConsumer(f));
  state_ = state;
  rt_ = rt;
}

OperatorGen &Emitter::generatorOf(const ir::Op &op) { return *generator_of_.at(op.id); }

llvm::Value *Emitter::stateSlotAddress(const ir::Op &op, int index) {
  return b_.CreateGEP(ptr_, state_, b_.getInt64(generatorOf(op).first_slot + index));
}

llvm::Value *Emitter::stateSlot(const ir::Op &op, int index) {
  return b_.CreateLoad(ptr_, stateSlotAddress(op, index));
}

void Emitter::checkLayout(llvm::StructType *type, size_t size,
                          std::initializer_list<size_t> offsets) {
  const llvm::StructLayout *sl = layout_.getStructLayout(type);
  bool same = sl->getSizeInBytes() == size && type->getNumElements() == offsets.size();
  size_t i = 0;
  for (size_t offset : offsets)
    same = same && sl->getElementOffset(i++) == offset;
  if (!same)
    unsupported("a descriptor whose layout differs from abi.h (internal error)");
}

bool Emitter::run(std::string &error) {
  for (const auto &op : ir_.ops) {
    generators_.push_back(makeOperatorGen(*this, *op));
    generator_of_[op->id] = generators_.back().get();
    op_index_[op->id] = static_cast<int32_t>(generators_.size() - 1);
    for (size_t port = 0; port < op->inputs.size(); ++port)
      users_[op->inputs[port]].push_back({generators_.back().get(), port});
  }
  // Declare every function first: operators call their consumers, defined in any order.
  for (auto &gen : generators_) {
    gen->declare(slot_count_);
    slot_count_ += static_cast<int>(gen->state().size()) + gen->scratchSlots();
  }
  mute_slot_ = slot_count_++;
  for (auto &gen : generators_) {
    gen->defineConsumers();
    if (gen->flusher())
      gen->defineFlush();
    if (gen->contents())
      gen->defineContents();
  }
  defineEntryPoints();
  // Locations are collected while generating code, so the descriptor comes last.
  defineProgram();
  if (!missing_.empty()) {
    error = "code generation does not support " + missing_ + " yet";
    return false;
  }
  std::string verify_errors;
  llvm::raw_string_ostream os(verify_errors);
  if (llvm::verifyModule(module_, &os)) {
    error = "internal error: generated LLVM IR is invalid:\n" + os.str();
    return false;
  }
  return true;
}

void Emitter::defineEntryPoints() {
  // create(rt): allocate the state slots and the containers behind them.
  llvm::Function *create =
      llvm::Function::Create(llvm::FunctionType::get(ptr_, {ptr_}, false),
                             llvm::Function::InternalLinkage, "kiln.create", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", create));
  state_ = b_.CreateCall(fn("calloc"), {b_.getInt64(slot_count_), b_.getInt64(8)});
  rt_ = create->getArg(0);
  b_.CreateStore(rt_, state_);
  for (const auto &generator : generators_) {
    OperatorGen &gen = *generator;
    for (size_t a = 0; a < gen.state().size(); ++a) {
      const Arrangement &arrangement = gen.state()[a];
      if (arrangement.container == KILN_STATE_SHARED)
        continue; // in another operator's table; its slot stays empty
      llvm::Value *container =
          arrangement.container != KILN_STATE_HASH ? b_.CreateCall(fn("kiln_vec_create"), {rt_})
          : arrangement.chain_keys.empty() && !arrangement.unique_key
              ? b_.CreateCall(fn("kiln_ht_create"),
                              {rt_, b_.getInt64(allocSize(arrangement.payload))})
              : b_.CreateCall(
                    fn("kiln_ht_create_chains"),
                    {rt_, b_.getInt64(allocSize(arrangement.payload)),
                     b_.getInt32(1 + arrangement.chain_keys.size()),
                     b_.getInt32(arrangement.unique_key ? KILN_HT_UNIQUE_FIRST_CHAIN : 0)});
      b_.CreateStore(container, b_.CreateGEP(ptr_, state_, b_.getInt64(gen.first_slot + a)));
    }
    gen.emitCreate();
  }
  b_.CreateStore(b_.CreateCall(fn("calloc"), {b_.getInt64(std::max<size_t>(generators_.size(), 1)),
                                              b_.getInt64(1)}),
                 b_.CreateGEP(ptr_, state_, b_.getInt64(mute_slot_)));
  b_.CreateRet(state_);

  // push(state, source, row, weight): dispatch a change of a source without a primary key into
  // its pipelines. apply(state, source, op, row): hand a keyed source's change to its generator,
  // which keeps the source's rows (Operators/Source.cpp).
  std::vector<const ir::Op *> source_ops(sources_.size(), nullptr);
  for (size_t s = 0; s < sources_.size(); ++s)
    for (const auto &op : ir_.ops)
      if (op->kind == OpKind::Source && op->name == sources_[s].name)
        source_ops[s] = op.get(); // null: no model reads this table
  llvm::Function *push = llvm::Function::Create(
      llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i32_, ptr_, i64_}, false),
      llvm::Function::InternalLinkage, "kiln.push", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", push));
  state_ = push->getArg(0);
  rt_ = b_.CreateLoad(ptr_, state_);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "done", push);
  llvm::SwitchInst *dispatch = b_.CreateSwitch(push->getArg(1), done);
  for (size_t s = 0; s < sources_.size(); ++s) {
    const ir::Op *source = source_ops[s];
    if (!source || !source->key.empty())
      continue;
    llvm::BasicBlock *block = llvm::BasicBlock::Create(ctx_, "source." + sources_[s].name, push);
    dispatch->addCase(b_.getInt32(static_cast<uint32_t>(s)), block);
    b_.SetInsertPoint(block);
    // A source declared append-only takes no deletes: its consumers keep no retraction state.
    if (source->append_only)
      raiseIf(b_.CreateICmpSLT(push->getArg(3), b_.getInt64(0)), KILN_ERR_APPEND_ONLY_CHANGE,
              source->loc);
    emitToConsumers(*source, push->getArg(2), push->getArg(3));
    b_.CreateBr(done);
  }
  b_.SetInsertPoint(done);
  b_.CreateRetVoid();

  llvm::Function *apply =
      llvm::Function::Create(llvm::FunctionType::get(i32_, {ptr_, i32_, i32_, ptr_}, false),
                             llvm::Function::InternalLinkage, "kiln.apply", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", apply));
  // A keyed table that no model reads keeps no rows: every change is accepted.
  llvm::BasicBlock *unread = llvm::BasicBlock::Create(ctx_, "unread", apply);
  dispatch = b_.CreateSwitch(apply->getArg(1), unread);
  for (size_t s = 0; s < sources_.size(); ++s) {
    const ir::Op *source = source_ops[s];
    if (!source || source->key.empty())
      continue;
    llvm::BasicBlock *block = llvm::BasicBlock::Create(ctx_, "source." + sources_[s].name, apply);
    dispatch->addCase(b_.getInt32(static_cast<uint32_t>(s)), block);
    b_.SetInsertPoint(block);
    b_.CreateRet(b_.CreateCall(generatorOf(*source).applier(),
                               {apply->getArg(0), apply->getArg(2), apply->getArg(3)}));
  }
  b_.SetInsertPoint(unread);
  b_.CreateRet(b_.getInt32(KILN_APPLY_OK));

  // commit(state): operators that flush emit their changes in topological order, then sinks.
  llvm::Function *commit =
      llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false),
                             llvm::Function::InternalLinkage, "kiln.commit", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", commit));
  for (const auto &gen : generators_)
    if (gen->flusher() && !gen->op().has(ir::kNoOutput))
      b_.CreateCall(gen->flusher(), {commit->getArg(0)});
  for (const auto &gen : generators_)
    if (gen->flusher() && gen->op().has(ir::kNoOutput))
      b_.CreateCall(gen->flusher(), {commit->getArg(0)});
  b_.CreateRetVoid();

  // lookup(state, index, key_row, visit, context) and scan(state, index, visit, context): to
  // the index's own functions (Operators/Index.cpp), by index number; -1 for no such index.
  std::vector<const OperatorGen *> index_gens;
  for (const auto &gen : generators_)
    if (gen->op().kind == OpKind::Index)
      index_gens.push_back(gen.get());
  for (bool is_lookup : {true, false}) {
    std::vector<llvm::Type *> params{ptr_, i32_, ptr_, ptr_};
    if (is_lookup)
      params.push_back(ptr_);
    llvm::Function *f = llvm::Function::Create(llvm::FunctionType::get(i64_, params, false),
                                               llvm::Function::InternalLinkage,
                                               is_lookup ? "kiln.lookup" : "kiln.scan", module_);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
    llvm::BasicBlock *none = llvm::BasicBlock::Create(ctx_, "none", f);
    llvm::SwitchInst *which = b_.CreateSwitch(f->getArg(1), none);
    for (size_t i = 0; i < index_gens.size(); ++i) {
      llvm::BasicBlock *block = llvm::BasicBlock::Create(ctx_, "index", f);
      which->addCase(b_.getInt32(static_cast<uint32_t>(i)), block);
      b_.SetInsertPoint(block);
      std::vector<llvm::Value *> args{f->getArg(0)};
      for (unsigned a = 2; a < f->arg_size(); ++a)
        args.push_back(f->getArg(a));
      b_.CreateRet(b_.CreateCall(
          is_lookup ? index_gens[i]->lookupFunction() : index_gens[i]->scanFunction(), args));
    }
    b_.SetInsertPoint(none);
    b_.CreateRet(b_.getInt64(-1));
  }

  // destroy(state): each operator's own cleanup, then its containers, then the slots.
  llvm::Function *destroy =
      llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false),
                             llvm::Function::InternalLinkage, "kiln.destroy", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", destroy));
  state_ = destroy->getArg(0);
  rt_ = b_.CreateLoad(ptr_, state_);
  for (const auto &generator : generators_) {
    OperatorGen &gen = *generator;
    gen.emitDestroy();
    for (size_t a = 0; a < gen.state().size(); ++a) {
      if (gen.state()[a].container == KILN_STATE_SHARED)
        continue;
      llvm::Value *container = stateSlot(gen.op(), static_cast<int>(a));
      bool hash = gen.state()[a].container == KILN_STATE_HASH;
      b_.CreateCall(fn(hash ? "kiln_ht_destroy" : "kiln_vec_destroy"), {container});
    }
  }
  b_.CreateCall(fn("free"),
                {b_.CreateLoad(ptr_, b_.CreateGEP(ptr_, state_, b_.getInt64(mute_slot_)))});
  b_.CreateCall(fn("free"), {state_});
  b_.CreateRetVoid();
}

llvm::Constant *Emitter::stateDescriptors(int32_t &count) {
  llvm::StructType *field_desc =
      llvm::StructType::get(ctx_, {ptr_, i32_, i32_, i32_, i32_, i32_, i32_});
  llvm::StructType *arrangement_desc =
      llvm::StructType::get(ctx_, {ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i32_, i32_, i32_, i32_, i32_,
                                   i32_, ptr_, i32_, ptr_, i32_, ptr_});
  checkLayout(field_desc, sizeof(kiln_state_field),
              {offsetof(kiln_state_field, name), offsetof(kiln_state_field, kind),
               offsetof(kiln_state_field, type), offsetof(kiln_state_field, scale),
               offsetof(kiln_state_field, offset), offsetof(kiln_state_field, null_offset),
               offsetof(kiln_state_field, null_bit)});
  checkLayout(
      arrangement_desc, sizeof(kiln_arrangement_desc),
      {offsetof(kiln_arrangement_desc, op), offsetof(kiln_arrangement_desc, kind),
       offsetof(kiln_arrangement_desc, role), offsetof(kiln_arrangement_desc, model),
       offsetof(kiln_arrangement_desc, location), offsetof(kiln_arrangement_desc, fingerprint),
       offsetof(kiln_arrangement_desc, container), offsetof(kiln_arrangement_desc, slot),
       offsetof(kiln_arrangement_desc, payload_size), offsetof(kiln_arrangement_desc, size_class),
       offsetof(kiln_arrangement_desc, transient), offsetof(kiln_arrangement_desc, nkey),
       offsetof(kiln_arrangement_desc, key_fields), offsetof(kiln_arrangement_desc, nfields),
       offsetof(kiln_arrangement_desc, fields), offsetof(kiln_arrangement_desc, nchains),
       offsetof(kiln_arrangement_desc, chain_keys)});
  auto string = [&](const std::string &text) -> llvm::Constant * {
    return b_.CreateGlobalString(text, "state.name", 0, &module_);
  };
  auto array = [&](llvm::Type *element, const std::vector<llvm::Constant *> &items,
                   const char *name) {
    auto *type = llvm::ArrayType::get(element, items.size());
    return new llvm::GlobalVariable(module_, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, items), name);
  };
  std::unordered_map<int32_t, uint64_t> fingerprints = ir::stateFingerprints(ir_);
  std::vector<llvm::Constant *> descriptors;
  for (size_t g = 0; g < generators_.size(); ++g) {
    const ir::Op &op = generators_[g]->op();
    std::string location = op.loc.str();
    for (size_t a = 0; a < generators_[g]->state().size(); ++a) {
      const Arrangement &arrangement = generators_[g]->state()[a];
      std::vector<llvm::Constant *> fields, keys;
      for (const StateField &f : arrangement.fields)
        fields.push_back(llvm::ConstantStruct::get(
            field_desc,
            {string(f.name), b_.getInt32(f.kind), b_.getInt32(f.type), b_.getInt32(f.scale),
             b_.getInt32(static_cast<uint32_t>(f.offset)),
             b_.getInt32(static_cast<uint32_t>(f.null_offset)), b_.getInt32(f.null_bit)}));
      for (int32_t k : arrangement.key_fields)
        keys.push_back(b_.getInt32(k));
      std::vector<llvm::Constant *> chain_keys;
      for (int32_t chain : arrangement.shared_chains)
        chain_keys.push_back(b_.getInt32(static_cast<uint32_t>(chain)));
      for (size_t c = 0; c < arrangement.chain_keys.size(); ++c) {
        const std::vector<int32_t> &chain = arrangement.chain_keys[c];
        chain_keys.push_back(b_.getInt32(static_cast<uint32_t>(
            c < arrangement.chain_member.size() ? arrangement.chain_member[c] : -1)));
        chain_keys.push_back(b_.getInt32(chain.size()));
        for (int32_t k : chain)
          chain_keys.push_back(b_.getInt32(k));
      }
      int32_t chains = arrangement.container == KILN_STATE_HASH
                           ? 1 + static_cast<int32_t>(arrangement.chain_keys.size())
                           : static_cast<int32_t>(arrangement.shared_chains.size());
      int32_t slot = arrangement.shared_source ? generatorOf(*arrangement.shared_source).first_slot
                                               : generators_[g]->first_slot + static_cast<int>(a);
      int32_t payload_size =
          arrangement.payload ? static_cast<int32_t>(allocSize(arrangement.payload)) : 0;
      descriptors.push_back(llvm::ConstantStruct::get(
          arrangement_desc,
          {string(op.stateName()), string(ir::opKindName(op.kind)), string(arrangement.role),
           string(ir::modelOf(ir_, op)), string(location), b_.getInt64(fingerprints.at(op.id)),
           b_.getInt32(arrangement.container), b_.getInt32(slot), b_.getInt32(payload_size),
           b_.getInt32(static_cast<int32_t>(arrangement.size)), b_.getInt32(arrangement.transient),
           b_.getInt32(keys.size()), array(i32_, keys, "state.keys"), b_.getInt32(fields.size()),
           array(field_desc, fields, "state.fields"), b_.getInt32(chains),
           array(i32_, chain_keys, "state.chains")}));
    }
  }
  count = static_cast<int32_t>(descriptors.size());
  return array(arrangement_desc, descriptors, "state");
}

llvm::StructType *Emitter::columnDescType() {
  return llvm::StructType::get(ctx_, {ptr_, i32_, i32_, i32_, i32_, i32_, i32_});
}
llvm::StructType *Emitter::relationDescType() {
  return llvm::StructType::get(ctx_, {ptr_, ptr_, i32_, ptr_, i32_, i32_, i32_, ptr_, ptr_, ptr_});
}

llvm::Constant *Emitter::relationDescriptor(const std::string &name, const std::string &location,
                                            const ir::Schema &schema,
                                            const std::vector<int32_t> &key,
                                            const Connector &connector) {
  llvm::StructType *column_desc = columnDescType();
  auto string = [&](const std::string &text) -> llvm::Constant * {
    return b_.CreateGlobalString(text, "name", 0, &module_);
  };
  llvm::Constant *null = llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_));
  const RowLayout &row = layoutOf(schema);
  const llvm::StructLayout *sl = layout_.getStructLayout(row.type);
  std::vector<llvm::Constant *> columns;
  for (size_t i = 0; i < schema.size(); ++i) {
    const ir::Type &t = schema[i].type;
    columns.push_back(llvm::ConstantStruct::get(
        column_desc, {string(schema[i].name), b_.getInt32(storageKind(t)), b_.getInt32(t.precision),
                      b_.getInt32(t.scale),
                      b_.getInt32(static_cast<uint32_t>(sl->getElementOffset(row.field_of[i]))),
                      b_.getInt32(!schema[i].nullable),
                      b_.getInt32(t.isArray() ? storageKind(t.elementType()) : 0)}));
  }
  auto *columns_type = llvm::ArrayType::get(column_desc, columns.size());
  auto *columns_global =
      new llvm::GlobalVariable(module_, columns_type, true, llvm::GlobalValue::PrivateLinkage,
                               llvm::ConstantArray::get(columns_type, columns), "columns");
  std::vector<llvm::Constant *> keys;
  for (int32_t k : key)
    keys.push_back(b_.getInt32(k));
  auto *keys_type = llvm::ArrayType::get(i32_, keys.size());
  auto *keys_global =
      new llvm::GlobalVariable(module_, keys_type, true, llvm::GlobalValue::PrivateLinkage,
                               llvm::ConstantArray::get(keys_type, keys), "keys");
  return llvm::ConstantStruct::get(
      relationDescType(),
      {string(name), string(location), b_.getInt32(schema.size()), columns_global,
       b_.getInt32(static_cast<uint32_t>(layout_.getTypeAllocSize(row.type))),
       b_.getInt32(static_cast<uint32_t>(layout_.getABITypeAlign(row.type).value())),
       b_.getInt32(key.size()), keys_global,
       connector.address.empty() ? null : string(connector.address),
       connector.address.empty() ? null : string(connector.location)});
}

void Emitter::defineProgram() {
  llvm::StructType *column_desc = columnDescType();
  llvm::StructType *relation_desc = relationDescType();
  auto string = [&](const std::string &text) -> llvm::Constant * {
    return b_.CreateGlobalString(text, "name", 0, &module_);
  };
  auto relation = [&](const std::string &name, const std::string &location,
                      const ir::Schema &schema, const std::vector<int32_t> &key,
                      const Connector &connector) -> llvm::Constant * {
    return relationDescriptor(name, location, schema, key, connector);
  };
  checkLayout(column_desc, sizeof(kiln_column_desc),
              {offsetof(kiln_column_desc, name), offsetof(kiln_column_desc, type),
               offsetof(kiln_column_desc, precision), offsetof(kiln_column_desc, scale),
               offsetof(kiln_column_desc, offset), offsetof(kiln_column_desc, not_null),
               offsetof(kiln_column_desc, element)});
  checkLayout(relation_desc, sizeof(kiln_relation_desc),
              {offsetof(kiln_relation_desc, name), offsetof(kiln_relation_desc, location),
               offsetof(kiln_relation_desc, ncols), offsetof(kiln_relation_desc, cols),
               offsetof(kiln_relation_desc, row_size), offsetof(kiln_relation_desc, row_align),
               offsetof(kiln_relation_desc, nkeys), offsetof(kiln_relation_desc, key_cols),
               offsetof(kiln_relation_desc, connector),
               offsetof(kiln_relation_desc, connector_location)});
  std::vector<llvm::Constant *> sources, sinks, indexes, locations;
  for (const SourceTable &source : sources_)
    sources.push_back(
        relation(source.name, source.location, source.schema, source.key, source.connector));
  for (const ModelRelation &sink : sinksOf(ir_)) {
    auto connector = options_.sink_connectors.find(sink.name);
    sinks.push_back(
        relation(sink.name, sink.location, sink.schema, {},
                 connector == options_.sink_connectors.end() ? Connector{} : connector->second));
  }
  for (const ModelRelation &index : indexesOf(ir_))
    indexes.push_back(relation(index.name, index.location, index.schema, index.key, {}));
  for (const std::string &location : locations_)
    locations.push_back(string(location));
  auto array = [&](llvm::Type *element, std::vector<llvm::Constant *> items, const char *name) {
    auto *type = llvm::ArrayType::get(element, items.size());
    return new llvm::GlobalVariable(module_, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, items), name);
  };
  int32_t nstate = 0;
  llvm::Constant *state = stateDescriptors(nstate);
  // The operators (kiln_op_desc), in generators_' order, which is the module's: inputs first.
  llvm::StructType *op_desc =
      llvm::StructType::get(ctx_, {ptr_, ptr_, ptr_, i64_, i32_, ptr_, i32_, i32_, i32_, ptr_});
  checkLayout(op_desc, sizeof(kiln_op_desc),
              {offsetof(kiln_op_desc, name), offsetof(kiln_op_desc, kind),
               offsetof(kiln_op_desc, model), offsetof(kiln_op_desc, fingerprint),
               offsetof(kiln_op_desc, ninputs), offsetof(kiln_op_desc, inputs),
               offsetof(kiln_op_desc, source), offsetof(kiln_op_desc, sink),
               offsetof(kiln_op_desc, keyed), offsetof(kiln_op_desc, contents)});
  std::unordered_map<int32_t, uint64_t> fingerprints = ir::stateFingerprints(ir_);
  int32_t sinks_seen = 0; // sinks are numbered in the module's order (sinksOf)
  std::vector<llvm::Constant *> ops;
  for (const auto &generator : generators_) {
    const ir::Op &op = generator->op();
    std::vector<llvm::Constant *> inputs;
    for (int32_t input : op.inputs)
      inputs.push_back(b_.getInt32(op_index_.at(input)));
    int32_t source = -1, sink = -1;
    if (op.kind == ir::OpKind::Source)
      for (size_t s = 0; s < sources_.size(); ++s)
        if (sources_[s].name == op.name)
          source = static_cast<int32_t>(s);
    if (op.kind == ir::OpKind::Sink)
      sink = sinks_seen++;
    llvm::Constant *contents = generator->contents();
    ops.push_back(llvm::ConstantStruct::get(
        op_desc, {string(op.stateName()), string(ir::opKindName(op.kind)),
                  string(ir::modelOf(ir_, op)), b_.getInt64(fingerprints.at(op.id)),
                  b_.getInt32(inputs.size()), array(i32_, inputs, "op.inputs"), b_.getInt32(source),
                  b_.getInt32(sink), b_.getInt32(op.kind == ir::OpKind::Source && !op.key.empty()),
                  contents ? contents : llvm::ConstantPointerNull::get(b_.getPtrTy())}));
  }
  llvm::StructType *program_type = llvm::StructType::get(
      ctx_, {i32_, ptr_, i32_, ptr_, i32_, ptr_, i32_, ptr_, ptr_, ptr_, ptr_, ptr_,
             ptr_, i64_, i32_, ptr_, i32_, ptr_, ptr_, ptr_, i32_, i32_, ptr_, ptr_});
  checkLayout(program_type, sizeof(kiln_program),
              {offsetof(kiln_program, abi_version), offsetof(kiln_program, name),
               offsetof(kiln_program, nsources),    offsetof(kiln_program, sources),
               offsetof(kiln_program, nsinks),      offsetof(kiln_program, sinks),
               offsetof(kiln_program, nlocations),  offsetof(kiln_program, locations),
               offsetof(kiln_program, create),      offsetof(kiln_program, push),
               offsetof(kiln_program, apply),       offsetof(kiln_program, commit),
               offsetof(kiln_program, destroy),     offsetof(kiln_program, default_tick_size),
               offsetof(kiln_program, nstate),      offsetof(kiln_program, state),
               offsetof(kiln_program, nindexes),    offsetof(kiln_program, indexes),
               offsetof(kiln_program, lookup),      offsetof(kiln_program, scan),
               offsetof(kiln_program, nops),        offsetof(kiln_program, mute_slot),
               offsetof(kiln_program, ops),         offsetof(kiln_program, session_zone)});
  llvm::Constant *program =
      llvm::ConstantStruct::get(program_type, {b_.getInt32(KILN_ABI_VERSION),
                                               string(ir_.name),
                                               b_.getInt32(sources.size()),
                                               array(relation_desc, sources, "sources"),
                                               b_.getInt32(sinks.size()),
                                               array(relation_desc, sinks, "sinks"),
                                               b_.getInt32(locations.size()),
                                               array(ptr_, locations, "locations"),
                                               module_.getFunction("kiln.create"),
                                               module_.getFunction("kiln.push"),
                                               module_.getFunction("kiln.apply"),
                                               module_.getFunction("kiln.commit"),
                                               module_.getFunction("kiln.destroy"),
                                               b_.getInt64(options_.default_tick_size),
                                               b_.getInt32(nstate),
                                               state,
                                               b_.getInt32(indexes.size()),
                                               array(relation_desc, indexes, "indexes"),
                                               module_.getFunction("kiln.lookup"),
                                               module_.getFunction("kiln.scan"),
                                               b_.getInt32(ops.size()),
                                               b_.getInt32(mute_slot_),
                                               array(op_desc, ops, "ops"),
                                               sessionZone()});
  new llvm::GlobalVariable(module_, program_type, true, llvm::GlobalValue::ExternalLinkage, program,
                           "kiln_program_main");
}

llvm::Constant *Emitter::sessionZone() { return zoneGlobal(ir_.time_zone); }

llvm::Constant *Emitter::zoneGlobal(const std::string &name) {
  llvm::Constant *&global = zones_[name];
  if (global)
    return global;
  kiln_zone *zone = ir::timeZone(name, nullptr);
  if (!zone)
    return global = llvm::ConstantPointerNull::get(b_.getPtrTy());
  // A kiln_zone (kiln/runtime/zone.h) over the TZif bytes, writable: the runtime keeps the rules
  // it reads from them in `loaded`.
  std::string_view tzif = ir::timeZoneData(zone);
  auto *bytes = new llvm::GlobalVariable(
      module_, llvm::ArrayType::get(b_.getInt8Ty(), tzif.size()), true,
      llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantDataArray::getRaw(llvm::StringRef(tzif.data(), tzif.size()), tzif.size(),
                                      b_.getInt8Ty()),
      "kiln.zone.tzif");
  std::vector<llvm::Type *> fields{ptr_, ptr_, i64_, ptr_};
  llvm::StructType *zone_type = llvm::StructType::get(ctx_, fields);
  checkLayout(zone_type, sizeof(kiln_zone),
              {offsetof(kiln_zone, name), offsetof(kiln_zone, tzif), offsetof(kiln_zone, tzif_size),
               offsetof(kiln_zone, loaded)});
  llvm::Constant *desc = llvm::ConstantStruct::get(
      zone_type, {b_.CreateGlobalString(name, "kiln.zone.name", 0, &module_), bytes,
                  b_.getInt64(tzif.size()), llvm::ConstantPointerNull::get(b_.getPtrTy())});
  return global = new llvm::GlobalVariable(module_, zone_type, false,
                                           llvm::GlobalValue::PrivateLinkage, desc, "kiln.zone");
}

static std::vector<ModelRelation> relationsOf(const ir::Module &module, ir::OpKind kind) {
  std::vector<ModelRelation> relations;
  for (const auto &op : module.ops) {
    if (op->kind == kind)
      relations.push_back({op->name, module.find(op->inputs[0])->schema, op->loc.str(), op->key});
  }
  return relations;
}

std::vector<ModelRelation> sinksOf(const ir::Module &module) {
  return relationsOf(module, ir::OpKind::Sink);
}

std::vector<ModelRelation> indexesOf(const ir::Module &module) {
  return relationsOf(module, ir::OpKind::Index);
}

} // namespace kiln::codegen
