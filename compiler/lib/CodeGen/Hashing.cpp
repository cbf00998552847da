// Hashing and equality of keys, and the loops over the runtime's containers: generated code
// hashes keys, walks a bucket's chain and compares keys inline (the HyPer way), so comparing a
// key is never an indirect call.

#include "Emitter.h"

#include <cstddef>

namespace kiln::codegen {

using ir::TypeKind;

llvm::Value *Emitter::hashValue(const ir::Type &type, llvm::Value *v) {
  switch (type.kind) {
  case TypeKind::Bool:
  case TypeKind::Int32:
  case TypeKind::Date:
    return b_.CreateSExt(v, i64_);
  case TypeKind::Int64:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
    return v;
  case TypeKind::Float64: {
    // -0 and 0 are equal, and all NaNs are one value (PostgreSQL's float8 equality).
    llvm::Value *is_zero = b_.CreateFCmpOEQ(v, llvm::ConstantFP::get(f64_, 0.0));
    llvm::Value *is_nan = b_.CreateFCmpUNO(v, v);
    llvm::Value *n = b_.CreateSelect(is_zero, llvm::ConstantFP::get(f64_, 0.0), v);
    n = b_.CreateSelect(is_nan, llvm::ConstantFP::getNaN(f64_), n);
    return b_.CreateBitCast(n, i64_);
  }
  case TypeKind::Interval: // by span: '1 day' and '24 hours' are equal
    v = call("kiln_interval_span_of", {v});
    [[fallthrough]];
  case TypeKind::Numeric: {
    llvm::Value *lo = b_.CreateTrunc(v, i64_);
    llvm::Value *hi = b_.CreateTrunc(b_.CreateLShr(v, 64), i64_);
    return call("kiln_hash_mix", {lo, hi});
  }
  case TypeKind::Text:
  case TypeKind::Jsonb:
  case TypeKind::Array:
    return call("kiln_hash_bytes", {b_.CreateExtractValue(v, 0), b_.CreateExtractValue(v, 1)});
  case TypeKind::Null:
    return b_.getInt64(0);
  }
  return b_.getInt64(0);
}

llvm::Value *Emitter::hashColumns(const RowLayout &row_layout, llvm::Value *row,
                                  const std::vector<int32_t> &columns) {
  std::vector<ColumnOf> of;
  for (int32_t c : columns)
    of.push_back({&row_layout, row, c});
  return hashColumns(of);
}

llvm::Value *Emitter::hashColumns(const std::vector<ColumnOf> &columns) {
  llvm::Value *h = b_.getInt64(0x9E3779B97F4A7C15ULL);
  for (const ColumnOf &c : columns) {
    SqlValue v = loadColumn(*c.layout, c.row, c.column);
    llvm::Value *hv = hashValue(c.layout->types[c.column], v.value);
    hv = b_.CreateSelect(v.null, b_.getInt64(0x5bd1e9955bd1e995ULL), hv);
    h = call("kiln_hash_mix", {h, hv});
  }
  return h;
}

llvm::Value *Emitter::valuesEqual(const ir::Type &ta, llvm::Value *a, const ir::Type &tb,
                                  llvm::Value *b) {
  switch (ta.kind) {
  case TypeKind::Float64:
    return b_.CreateICmpEQ(call("kiln_f64_cmp", {a, b}), b_.getInt32(0));
  case TypeKind::Interval:
    return b_.CreateICmpEQ(call("kiln_interval_cmp", {a, b}), b_.getInt32(0));
  case TypeKind::Numeric:
    if (ta.scale == tb.scale)
      return b_.CreateICmpEQ(a, b);
    return b_.CreateICmpEQ(
        call("kiln_numeric_cmp", {a, b_.getInt32(ta.scale), b, b_.getInt32(tb.scale)}),
        b_.getInt32(0));
  case TypeKind::Text:
  case TypeKind::Jsonb:
  case TypeKind::Array: { // canonical texts
    llvm::Value *r =
        call("kiln_text_eq", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                              b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
    return b_.CreateICmpNE(r, llvm::ConstantInt::get(r->getType(), 0));
  }
  default:
    return b_.CreateICmpEQ(a, b);
  }
}

llvm::Value *Emitter::columnsEqual(const RowLayout &la, llvm::Value *ra,
                                   const std::vector<int32_t> &ca, const RowLayout &lb,
                                   llvm::Value *rb, const std::vector<int32_t> &cb) {
  std::vector<ColumnOf> a, b;
  for (size_t i = 0; i < ca.size(); ++i) {
    a.push_back({&la, ra, ca[i]});
    b.push_back({&lb, rb, cb[i]});
  }
  return columnsEqual(a, b);
}

llvm::Value *Emitter::columnsEqual(const std::vector<ColumnOf> &ca,
                                   const std::vector<ColumnOf> &cb) {
  llvm::Value *all = b_.getTrue();
  for (size_t i = 0; i < ca.size(); ++i) {
    SqlValue a = loadColumn(*ca[i].layout, ca[i].row, ca[i].column);
    SqlValue b = loadColumn(*cb[i].layout, cb[i].row, cb[i].column);
    llvm::Value *both_null = b_.CreateAnd(a.null, b.null);
    llvm::Value *neither = b_.CreateNot(b_.CreateOr(a.null, b.null));
    llvm::Value *eq = valuesEqual(ca[i].layout->types[ca[i].column], a.value,
                                  cb[i].layout->types[cb[i].column], b.value);
    all = b_.CreateAnd(all, b_.CreateOr(both_null, b_.CreateAnd(neither, eq)));
  }
  return all;
}

llvm::Value *Emitter::rowsIdentical(const RowLayout &layout, llvm::Value *a, llvm::Value *b) {
  // The same columns are NULL, and those that are not hold the same bits.
  llvm::Value *all = b_.getTrue();
  for (unsigned w = 0; w < layout.null_words; ++w) { // the bitmap starts the row (RowLayout)
    llvm::Value *wa = b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i8_, a, w * 8));
    llvm::Value *wb = b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i8_, b, w * 8));
    all = b_.CreateAnd(all, b_.CreateICmpEQ(wa, wb));
  }
  for (size_t c = 0; c < layout.types.size(); ++c) {
    int column = static_cast<int>(c);
    SqlValue va = loadColumn(layout, a, column), vb = loadColumn(layout, b, column);
    // A NULL's storage is zero, so its bits compare equal too.
    all = b_.CreateAnd(all, sameBits(layout.types[c], va.value, vb.value));
  }
  return all;
}

llvm::Value *Emitter::sameBits(const ir::Type &type, llvm::Value *a, llvm::Value *b) {
  switch (type.kind) {
  case ir::TypeKind::Float64:
    return b_.CreateICmpEQ(b_.CreateBitCast(a, i64_), b_.CreateBitCast(b, i64_));
  case ir::TypeKind::Text:
  case ir::TypeKind::Jsonb:
  case ir::TypeKind::Array:
    return valuesEqual(type, a, type, b);
  default:
    return b_.CreateICmpEQ(a, b);
  }
}

llvm::Value *Emitter::columnsIdentical(const RowLayout &layout, llvm::Value *a, llvm::Value *b,
                                       const std::vector<int32_t> &columns) {
  llvm::Value *all = b_.getTrue();
  for (int32_t column : columns) {
    all = b_.CreateAnd(all,
                       b_.CreateICmpEQ(loadNull(layout, a, column), loadNull(layout, b, column)));
    SqlValue va = loadColumn(layout, a, column), vb = loadColumn(layout, b, column);
    all = b_.CreateAnd(all, sameBits(layout.types[column], va.value, vb.value));
  }
  return all;
}

void Emitter::forEachInChain(llvm::Value *table, llvm::Value *hash, const ChainBody &body,
                             int32_t chain, int64_t payload_size) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *before = b_.GetInsertBlock();
  llvm::Value *first =
      chain == 0 ? b_.CreateCall(fn("kiln_ht_chain"), {table, hash})
                 : b_.CreateCall(fn("kiln_ht_chain_at"), {table, b_.getInt32(chain), hash});
  // Where this chain's { next, hash } sit in an entry (abi.h).
  int64_t link = chain == 0 ? 0 : kiln_entry_link_offset(payload_size, chain);
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(ctx_, "chain", f);
  llvm::BasicBlock *check = llvm::BasicBlock::Create(ctx_, "chain.check", f);
  llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "chain.next", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "chain.done", f);
  b_.CreateBr(loop);
  b_.SetInsertPoint(loop);
  llvm::PHINode *entry = b_.CreatePHI(ptr_, 2);
  entry->addIncoming(first, before);
  b_.CreateCondBr(b_.CreateIsNull(entry), done, check);
  b_.SetInsertPoint(check);
  // Read `next` first: the body may erase the entry.
  llvm::Value *following =
      b_.CreateLoad(ptr_, link == 0 ? entry : b_.CreateConstGEP1_64(i8_, entry, link));
  llvm::Value *entry_hash = b_.CreateLoad(
      i64_, b_.CreateConstGEP1_64(i8_, entry,
                                  link == 0 ? offsetof(kiln_entry, hash)
                                            : link + offsetof(kiln_entry_link, hash)));
  llvm::BasicBlock *match = llvm::BasicBlock::Create(ctx_, "chain.match", f);
  b_.CreateCondBr(b_.CreateICmpEQ(entry_hash, hash), match, next);
  b_.SetInsertPoint(match);
  body(entry, payloadOf(entry), done);
  if (!b_.GetInsertBlock()->getTerminator())
    b_.CreateBr(next);
  b_.SetInsertPoint(next);
  entry->addIncoming(following, next);
  b_.CreateBr(loop);
  b_.SetInsertPoint(done);
}

void Emitter::forEachListed(llvm::Value *list,
                            const std::function<void(llvm::Value *entry)> &body) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::Value *n = b_.CreateCall(fn("kiln_vec_size"), {list});
  llvm::BasicBlock *before = b_.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(ctx_, "listed", f);
  llvm::BasicBlock *each = llvm::BasicBlock::Create(ctx_, "listed.entry", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "listed.done", f);
  b_.CreateBr(loop);
  b_.SetInsertPoint(loop);
  llvm::PHINode *i = b_.CreatePHI(i64_, 2);
  i->addIncoming(b_.getInt64(0), before);
  b_.CreateCondBr(b_.CreateICmpSLT(i, n), each, done);
  b_.SetInsertPoint(each);
  body(b_.CreateCall(fn("kiln_vec_get"), {list, i}));
  i->addIncoming(b_.CreateAdd(i, b_.getInt64(1)), b_.GetInsertBlock());
  b_.CreateBr(loop);
  b_.SetInsertPoint(done);
  b_.CreateCall(fn("kiln_vec_clear"), {list});
}

llvm::Value *
Emitter::findOrInsert(llvm::Value *table, llvm::Value *hash,
                      const std::function<llvm::Value *(llvm::Value *payload)> &matches,
                      const std::function<void(llvm::Value *payload)> &initialize, Writes writes) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::Value *found = entryAlloca(ptr_);
  b_.CreateStore(llvm::ConstantPointerNull::get(b_.getPtrTy()), found);
  llvm::BasicBlock *lookup_done = llvm::BasicBlock::Create(ctx_, "lookup.done", f);
  forEachInChain(table, hash, [&](llvm::Value *, llvm::Value *payload, llvm::BasicBlock *) {
    llvm::BasicBlock *hit = llvm::BasicBlock::Create(ctx_, "hit", f);
    llvm::BasicBlock *miss = llvm::BasicBlock::Create(ctx_, "miss", f);
    b_.CreateCondBr(matches(payload), hit, miss);
    b_.SetInsertPoint(hit);
    b_.CreateStore(payload, found);
    b_.CreateBr(lookup_done);
    b_.SetInsertPoint(miss);
  });
  b_.CreateBr(lookup_done);
  b_.SetInsertPoint(lookup_done);
  llvm::Value *existing = b_.CreateLoad(ptr_, found);
  llvm::BasicBlock *create = llvm::BasicBlock::Create(ctx_, "create", f);
  llvm::BasicBlock *have = llvm::BasicBlock::Create(ctx_, "have", f);
  llvm::BasicBlock *found_block = llvm::BasicBlock::Create(ctx_, "found", f);
  b_.CreateCondBr(b_.CreateIsNull(existing), create, found_block);
  b_.SetInsertPoint(found_block);
  if (writes == Writes::Lasting)
    b_.CreateCall(fn("kiln_ht_touch"), {table, entryOf(existing)});
  llvm::BasicBlock *before = b_.GetInsertBlock();
  b_.CreateBr(have);
  b_.SetInsertPoint(create);
  llvm::Value *fresh = payloadOf(b_.CreateCall(fn("kiln_ht_insert"), {table, hash}));
  initialize(fresh);
  llvm::BasicBlock *created = b_.GetInsertBlock();
  b_.CreateBr(have);
  b_.SetInsertPoint(have);
  llvm::PHINode *payload = b_.CreatePHI(ptr_, 2);
  payload->addIncoming(existing, before);
  payload->addIncoming(fresh, created);
  return payload;
}

llvm::Value *Emitter::findOrInsertRow(llvm::Value *table, llvm::StructType *payload_type,
                                      const RowLayout &row_layout, llvm::Value *row,
                                      const std::function<void(llvm::Value *payload)> &initialize,
                                      Writes writes) {
  std::vector<int32_t> all = allColumns(row_layout.types.size());
  return findOrInsert(
      table, hashColumns(row_layout, row, all),
      [&](llvm::Value *candidate) {
        return columnsEqual(row_layout, row, all, row_layout,
                            b_.CreateStructGEP(payload_type, candidate, 0), all);
      },
      initialize, writes);
}

void Emitter::forEachEntry(llvm::Value *table,
                           const std::function<void(llvm::Value *entry)> &body) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *before = b_.GetInsertBlock();
  llvm::BasicBlock *loop = llvm::BasicBlock::Create(ctx_, "entries", f);
  llvm::BasicBlock *each = llvm::BasicBlock::Create(ctx_, "entry", f);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx_, "entries.done", f);
  llvm::Value *first = b_.CreateCall(fn("kiln_ht_first"), {table});
  b_.CreateBr(loop);
  b_.SetInsertPoint(loop);
  llvm::PHINode *entry = b_.CreatePHI(ptr_, 2);
  entry->addIncoming(first, before);
  b_.CreateCondBr(b_.CreateIsNull(entry), after, each);
  b_.SetInsertPoint(each);
  body(entry);
  entry->addIncoming(b_.CreateCall(fn("kiln_ht_next"), {table, entry}), b_.GetInsertBlock());
  b_.CreateBr(loop);
  b_.SetInsertPoint(after);
}

} // namespace kiln::codegen
