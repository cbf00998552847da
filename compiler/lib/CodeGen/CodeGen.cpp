#include "kiln/CodeGen/CodeGen.h"

#include "kiln/IR/Utils.h"
#include "kiln/runtime/abi.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/Transforms/IPO/GlobalDCE.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>

namespace kiln::codegen {

using ir::ExprOp;
using ir::OpKind;
using ir::TypeKind;

struct Artifact::Impl {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> target;
};

Artifact::Artifact(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Artifact::~Artifact() = default;

namespace {

void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

std::unique_ptr<llvm::TargetMachine> hostTargetMachine(std::string &error) {
  initializeLLVM();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return nullptr;
  llvm::TargetOptions options;
  // Executables are built in CI and deployed elsewhere: target a baseline CPU, not the build
  // machine's. x86-64-v2 (SSE4.2, 2009 on) is what the runtime's JSON parser needs anyway.
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, "x86-64-v2", "", options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
}

// A SQL value in registers: the value and its NULL flag (i1).
struct SqlValue {
  llvm::Value *value = nullptr;
  llvm::Value *null = nullptr;
};

// The layout of a row: { [words x i64] null bitmap, column 0, column 1, ... }.
struct RowLayout {
  llvm::StructType *type = nullptr;
  std::vector<ir::Type> types;
  unsigned null_words = 1;
};

class Generator {
 public:
  Generator(llvm::LLVMContext &context, llvm::Module &module, const ir::Module &ir,
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

  bool run(std::string &error);

 private:
  // ---- types and rows ----
  llvm::Type *valueType(const ir::Type &type) {
    switch (type.kind) {
    case TypeKind::Bool: return i8_;
    case TypeKind::Int32: return i32_;
    case TypeKind::Int64: return i64_;
    case TypeKind::Float64: return f64_;
    case TypeKind::Numeric: return i128_;
    case TypeKind::Text: return str_;
    case TypeKind::Date: return i32_;
    case TypeKind::Timestamp: return i64_;
    case TypeKind::Null: return i8_;
    }
    return i8_;
  }

  const RowLayout &layoutOf(const std::vector<ir::Type> &types) {
    std::string key;
    for (const ir::Type &t : types) key += t.str() + ",";
    auto it = layouts_.find(key);
    if (it != layouts_.end()) return it->second;
    RowLayout layout;
    layout.types = types;
    layout.null_words = std::max<unsigned>(1, (types.size() + 63) / 64);
    std::vector<llvm::Type *> fields{llvm::ArrayType::get(i64_, layout.null_words)};
    for (const ir::Type &t : types) fields.push_back(valueType(t));
    layout.type = llvm::StructType::get(ctx_, fields);
    return layouts_.emplace(key, layout).first->second;
  }
  const RowLayout &layoutOf(const ir::Schema &schema) {
    std::vector<ir::Type> types;
    for (const ir::Column &c : schema) types.push_back(c.type);
    return layoutOf(types);
  }

  llvm::Value *columnPtr(const RowLayout &row_layout, llvm::Value *row, int column) {
    return b_.CreateStructGEP(row_layout.type, row, column + 1);
  }
  llvm::Value *nullWordPtr(const RowLayout &row_layout, llvm::Value *row, int column) {
    return b_.CreateGEP(row_layout.type, row, {b_.getInt32(0), b_.getInt32(0), b_.getInt32(column / 64)});
  }
  llvm::Value *loadNull(const RowLayout &row_layout, llvm::Value *row, int column) {
    llvm::Value *word = b_.CreateLoad(i64_, nullWordPtr(row_layout, row, column));
    llvm::Value *bit = b_.CreateAnd(word, b_.getInt64(uint64_t(1) << (column % 64)));
    return b_.CreateICmpNE(bit, b_.getInt64(0));
  }
  SqlValue loadColumn(const RowLayout &row_layout, llvm::Value *row, int column, bool nullable = true) {
    SqlValue v;
    v.value = b_.CreateLoad(valueType(row_layout.types[column]), columnPtr(row_layout, row, column));
    v.null = nullable ? loadNull(row_layout, row, column) : b_.getFalse();
    return v;
  }
  // Stores a value; NULL stores zero and sets the bit. Assumes the row's null words start zeroed
  // or the bit is being overwritten for this column.
  void storeColumn(const RowLayout &row_layout, llvm::Value *row, int column, SqlValue v) {
    llvm::Type *type = valueType(row_layout.types[column]);
    llvm::Value *value = v.value;
    if (!llvm::isa<llvm::Constant>(v.null) || !llvm::cast<llvm::Constant>(v.null)->isZeroValue())
      value = b_.CreateSelect(v.null, llvm::Constant::getNullValue(type), value);
    b_.CreateStore(value, columnPtr(row_layout, row, column));
    llvm::Value *word_ptr = nullWordPtr(row_layout, row, column);
    llvm::Value *word = b_.CreateLoad(i64_, word_ptr);
    uint64_t mask = uint64_t(1) << (column % 64);
    word = b_.CreateAnd(word, b_.getInt64(~mask));
    word = b_.CreateOr(word, b_.CreateSelect(v.null, b_.getInt64(mask), b_.getInt64(0)));
    b_.CreateStore(word, word_ptr);
  }
  llvm::Value *newRow(const RowLayout &row_layout) {
    llvm::IRBuilder<> entry(&b_.GetInsertBlock()->getParent()->getEntryBlock(),
                            b_.GetInsertBlock()->getParent()->getEntryBlock().begin());
    llvm::AllocaInst *row = entry.CreateAlloca(row_layout.type);
    row->setAlignment(llvm::Align(16));  // NUMERIC (i128) slots want 16; memsets claim only 8
    b_.CreateMemSet(row, b_.getInt8(0), layout_.getTypeAllocSize(row_layout.type), llvm::MaybeAlign(8));
    return row;
  }
  llvm::Value *entryAlloca(llvm::Type *type) {
    llvm::IRBuilder<> entry(&b_.GetInsertBlock()->getParent()->getEntryBlock(),
                            b_.GetInsertBlock()->getParent()->getEntryBlock().begin());
    return entry.CreateAlloca(type);
  }
  void copyColumn(const RowLayout &from, llvm::Value *src, int i, const RowLayout &to,
                  llvm::Value *dst, int j, bool intern = false) {
    SqlValue v = loadColumn(from, src, i);
    if (intern && from.types[i].kind == TypeKind::Text) v.value = internText(v.value);
    storeColumn(to, dst, j, v);
  }
  llvm::Value *internText(llvm::Value *text) {
    llvm::Value *p = b_.CreateExtractValue(text, 0), *n = b_.CreateExtractValue(text, 1);
    return b_.CreateCall(fn("kiln_intern"), {rt(), p, n});
  }

  // ---- functions ----
  llvm::Function *fn(const std::string &name) {
    if (llvm::Function *f = module_.getFunction(name)) return f;
    // The runtime's C ABI (abi.h); the stdlib's functions come with its bitcode.
    static const std::map<std::string, std::pair<int, std::vector<int>>> runtime_functions = {
        // result, params: 0 void, 1 ptr, 2 i64, 3 i32, 4 str
        {"kiln_emit", {0, {1, 3, 1, 2}}},       {"kiln_raise", {0, {1, 3, 3}}},
        {"kiln_intern", {4, {1, 1, 2}}},        {"kiln_scratch", {1, {1, 2}}},
        {"kiln_ht_create", {1, {2}}},           {"kiln_ht_destroy", {0, {1}}},
        {"kiln_ht_chain", {1, {1, 2}}},         {"kiln_ht_insert", {1, {1, 2}}},
        {"kiln_ht_erase", {0, {1, 1}}},         {"kiln_ht_first", {1, {1}}},
        {"kiln_ht_next", {1, {1, 1}}},          {"kiln_vec_create", {1, {}}},
        {"kiln_vec_destroy", {0, {1}}},         {"kiln_vec_push", {0, {1, 1}}},
        {"kiln_vec_size", {2, {1}}},            {"kiln_vec_get", {1, {1, 2}}},
        {"kiln_vec_clear", {0, {1}}},           {"kiln_ms_create", {1, {3}}},
        {"kiln_ms_destroy", {0, {1}}},          {"kiln_ms_add", {0, {1, 1, 2}}},
        {"kiln_ms_min", {3, {1, 1}}},           {"kiln_ms_max", {3, {1, 1}}},
        {"calloc", {1, {2, 2}}},                {"free", {0, {1}}},
    };
    auto it = runtime_functions.find(name);
    if (it == runtime_functions.end()) {
      missing_ = name;
      // Declare something callable so generation can finish; run() reports the error.
      return llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {}, false),
                                    llvm::Function::ExternalLinkage, name, module_);
    }
    auto type = [&](int code) -> llvm::Type * {
      switch (code) {
      case 0: return b_.getVoidTy();
      case 1: return ptr_;
      case 2: return i64_;
      case 3: return i32_;
      default: return str_;
      }
    };
    std::vector<llvm::Type *> params;
    for (int p : it->second.second) params.push_back(type(p));
    llvm::Function *f = llvm::Function::Create(
        llvm::FunctionType::get(type(it->second.first), params, false),
        llvm::Function::ExternalLinkage, name, module_);
    if (name == "kiln_raise") {
      f->setDoesNotReturn();
      f->addFnAttr(llvm::Attribute::Cold);
    }
    return f;
  }

  // Calls a stdlib or runtime function with the signature clang gave it. The x86-64 C ABI passes
  // an __int128 as two i64 halves and returns it as { i64, i64 }; integer widths may differ too.
  llvm::Value *call(const std::string &name, std::vector<llvm::Value *> args) {
    llvm::Function *f = fn(name);
    llvm::FunctionType *type = f->getFunctionType();
    std::vector<llvm::Value *> lowered;
    for (llvm::Value *arg : args) {
      size_t p = lowered.size();
      llvm::Type *want = p < type->getNumParams() ? type->getParamType(p) : arg->getType();
      if (arg->getType() == i128_ && want == i64_) {
        lowered.push_back(b_.CreateTrunc(arg, i64_));
        lowered.push_back(b_.CreateTrunc(b_.CreateLShr(arg, 64), i64_));
        continue;
      }
      if (arg->getType() != want && want->isIntegerTy() && arg->getType()->isIntegerTy())
        arg = b_.CreateSExtOrTrunc(arg, want);
      lowered.push_back(arg);
    }
    llvm::Value *result = b_.CreateCall(f, lowered);
    if (auto *pair = llvm::dyn_cast<llvm::StructType>(result->getType());
        pair && pair->getNumElements() == 2 && pair->getElementType(0) == i64_ && pair->getElementType(1) == i64_) {
      llvm::Value *lo = b_.CreateZExt(b_.CreateExtractValue(result, 0), i128_);
      llvm::Value *hi = b_.CreateZExt(b_.CreateExtractValue(result, 1), i128_);
      result = b_.CreateOr(lo, b_.CreateShl(hi, 64));
    }
    return result;
  }

  llvm::Function *newFunction(const std::string &name, llvm::FunctionType *type) {
    llvm::Function *f = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, module_);
    return f;
  }

  llvm::Value *rt() { return rt_; }
  static int32_t storageKind(const ir::Type &type) {
    switch (type.kind) {
    case TypeKind::Bool: return KILN_T_BOOL;
    case TypeKind::Int32: return KILN_T_INT32;
    case TypeKind::Int64: return KILN_T_INT64;
    case TypeKind::Float64: return KILN_T_FLOAT64;
    case TypeKind::Numeric: return KILN_T_NUMERIC;
    case TypeKind::Text: return KILN_T_TEXT;
    case TypeKind::Date: return KILN_T_DATE;
    case TypeKind::Timestamp: return KILN_T_TIMESTAMP;
    case TypeKind::Null: break;
    }
    return KILN_T_BOOL;
  }
  llvm::Value *stateSlot(int slot) {
    llvm::Value *p = b_.CreateGEP(ptr_, state_, b_.getInt64(slot));
    return b_.CreateLoad(ptr_, p);
  }

  int32_t locationIndex(const ir::Location &loc) {
    std::string text = loc.known() ? loc.file + ":" + std::to_string(loc.line) + ":" +
                                         std::to_string(loc.column)
                                   : "<unknown location>";
    auto it = location_index_.find(text);
    if (it != location_index_.end()) return it->second;
    int32_t index = static_cast<int32_t>(locations_.size());
    locations_.push_back(text);
    location_index_[text] = index;
    return index;
  }

  // Branches to a block that raises `code` when `condition` holds.
  void raiseIf(llvm::Value *condition, kiln_error_code code, const ir::Location &loc) {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *raise = llvm::BasicBlock::Create(ctx_, "raise", f);
    llvm::BasicBlock *cont = llvm::BasicBlock::Create(ctx_, "ok", f);
    b_.CreateCondBr(condition, raise, cont);
    b_.SetInsertPoint(raise);
    b_.CreateCall(fn("kiln_raise"), {rt(), b_.getInt32(code), b_.getInt32(locationIndex(loc))});
    b_.CreateUnreachable();
    b_.SetInsertPoint(cont);
  }

  // ---- hashing and equality ----
  llvm::Value *hashValue(const ir::Type &type, llvm::Value *v) {
    switch (type.kind) {
    case TypeKind::Bool:
    case TypeKind::Int32:
    case TypeKind::Date:
      return b_.CreateSExt(v, i64_);
    case TypeKind::Int64:
    case TypeKind::Timestamp:
      return v;
    case TypeKind::Float64: {
      // -0 and 0 are equal, and all NaNs are one value (PostgreSQL's float8 equality).
      llvm::Value *is_zero = b_.CreateFCmpOEQ(v, llvm::ConstantFP::get(f64_, 0.0));
      llvm::Value *is_nan = b_.CreateFCmpUNO(v, v);
      llvm::Value *n = b_.CreateSelect(is_zero, llvm::ConstantFP::get(f64_, 0.0), v);
      n = b_.CreateSelect(is_nan, llvm::ConstantFP::getNaN(f64_), n);
      return b_.CreateBitCast(n, i64_);
    }
    case TypeKind::Numeric: {
      llvm::Value *lo = b_.CreateTrunc(v, i64_);
      llvm::Value *hi = b_.CreateTrunc(b_.CreateLShr(v, 64), i64_);
      return call("kiln_hash_mix", {lo, hi});
    }
    case TypeKind::Text:
      return call("kiln_hash_bytes", {b_.CreateExtractValue(v, 0), b_.CreateExtractValue(v, 1)});
    case TypeKind::Null:
      return b_.getInt64(0);
    }
    return b_.getInt64(0);
  }

  llvm::Value *hashColumns(const RowLayout &row_layout, llvm::Value *row, const std::vector<int32_t> &columns) {
    llvm::Value *h = b_.getInt64(0x9E3779B97F4A7C15ULL);
    for (int32_t c : columns) {
      SqlValue v = loadColumn(row_layout, row, c);
      llvm::Value *hv = hashValue(row_layout.types[c], v.value);
      hv = b_.CreateSelect(v.null, b_.getInt64(0x5bd1e9955bd1e995ULL), hv);
      h = call("kiln_hash_mix", {h, hv});
    }
    return h;
  }

  // Equality of two non-NULL values of one type (numeric: any scales).
  llvm::Value *valuesEqual(const ir::Type &ta, llvm::Value *a, const ir::Type &tb, llvm::Value *b) {
    switch (ta.kind) {
    case TypeKind::Float64:
      return b_.CreateICmpEQ(call("kiln_f64_cmp", {a, b}), b_.getInt32(0));
    case TypeKind::Numeric:
      if (ta.scale == tb.scale) return b_.CreateICmpEQ(a, b);
      return b_.CreateICmpEQ(call("kiln_numeric_cmp", {a, b_.getInt32(ta.scale), b, b_.getInt32(tb.scale)}), b_.getInt32(0));
    case TypeKind::Text: {
      llvm::Value *r = call("kiln_text_eq", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                              b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
      return b_.CreateICmpNE(r, llvm::ConstantInt::get(r->getType(), 0));
    }
    default:
      return b_.CreateICmpEQ(a, b);
    }
  }

  // NULL-aware ("not distinct") equality of columns of two rows, as grouping compares keys.
  llvm::Value *columnsEqual(const RowLayout &la, llvm::Value *ra, const std::vector<int32_t> &ca,
                            const RowLayout &lb, llvm::Value *rb, const std::vector<int32_t> &cb) {
    llvm::Value *all = b_.getTrue();
    for (size_t i = 0; i < ca.size(); ++i) {
      SqlValue a = loadColumn(la, ra, ca[i]);
      SqlValue b = loadColumn(lb, rb, cb[i]);
      llvm::Value *both_null = b_.CreateAnd(a.null, b.null);
      llvm::Value *neither = b_.CreateNot(b_.CreateOr(a.null, b.null));
      llvm::Value *eq = valuesEqual(la.types[ca[i]], a.value, lb.types[cb[i]], b.value);
      all = b_.CreateAnd(all, b_.CreateOr(both_null, b_.CreateAnd(neither, eq)));
    }
    return all;
  }

  static std::vector<int32_t> allColumns(size_t n) {
    std::vector<int32_t> columns(n);
    for (size_t i = 0; i < n; ++i) columns[i] = static_cast<int32_t>(i);
    return columns;
  }

  // Walks the chain for `hash` calling `body(entry, payload)` for entries with that hash.
  template <typename Body>
  void forEachInChain(llvm::Value *table, llvm::Value *hash, Body body) {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *before = b_.GetInsertBlock();
    llvm::Value *first = b_.CreateCall(fn("kiln_ht_chain"), {table, hash});
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
    llvm::Value *following = b_.CreateLoad(ptr_, entry);
    llvm::Value *entry_hash = b_.CreateLoad(i64_, b_.CreateConstGEP1_64(i8_, entry, 8));
    llvm::BasicBlock *match = llvm::BasicBlock::Create(ctx_, "chain.match", f);
    b_.CreateCondBr(b_.CreateICmpEQ(entry_hash, hash), match, next);
    b_.SetInsertPoint(match);
    body(entry, b_.CreateConstGEP1_64(i8_, entry, 16), done);
    if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(next);
    b_.SetInsertPoint(next);
    entry->addIncoming(following, next);
    b_.CreateBr(loop);
    b_.SetInsertPoint(done);
  }

  // Walks the hash-table entries listed in `list` (a kiln_ptrvec of the entries changed in this
  // tick), generating `body(entry)` for each, then clears the list. `body` must leave the insert
  // point in a block that falls through to the next entry.
  template <typename Body>
  void forEachListed(llvm::Value *list, Body body) {
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

  // Finds the entry of `table` for `hash` whose payload `matches`, or inserts a zeroed one and
  // lets `initialize` fill it. Returns the payload.
  template <typename Matches, typename Initialize>
  llvm::Value *findOrInsert(llvm::Value *table, llvm::Value *hash, Matches matches, Initialize initialize) {
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
    llvm::BasicBlock *before = b_.GetInsertBlock();
    b_.CreateCondBr(b_.CreateIsNull(existing), create, have);
    b_.SetInsertPoint(create);
    llvm::Value *fresh = b_.CreateConstGEP1_64(i8_, b_.CreateCall(fn("kiln_ht_insert"), {table, hash}), 16);
    initialize(fresh);
    llvm::BasicBlock *created = b_.GetInsertBlock();
    b_.CreateBr(have);
    b_.SetInsertPoint(have);
    llvm::PHINode *payload = b_.CreatePHI(ptr_, 2);
    payload->addIncoming(existing, before);
    payload->addIncoming(fresh, created);
    return payload;
  }

  // ---- expressions ----
  SqlValue genExpr(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  SqlValue genCall(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  SqlValue genCast(const ir::Expr &e, SqlValue v, const ir::Type &from);
  llvm::Value *genArithmetic(const ir::Expr &e, ExprOp op, llvm::Value *a, const ir::Type &ta,
                             llvm::Value *b, const ir::Type &tb);
  llvm::Value *genCompare(ExprOp op, llvm::Value *a, const ir::Type &ta, llvm::Value *b, const ir::Type &tb);
  llvm::Value *textOut(const std::string &function, std::vector<llvm::Value *> args);
  llvm::Value *constantText(const std::string &text);
  llvm::Value *literal(const ir::Value &v, const ir::Type &type);
  SqlValue genLogic(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  SqlValue genCase(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  SqlValue genCoalesce(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);

  // ---- operators ----
  void declareOperators();
  void emitToConsumers(const ir::Op &producer, llvm::Value *row, llvm::Value *weight);
  void defineFilter(const ir::Op &op);
  void defineMap(const ir::Op &op);
  void defineUnion(const ir::Op &op);
  void defineNegate(const ir::Op &op);
  void defineJoinSide(const ir::Op &op, int side);
  void defineDistinct(const ir::Op &op);
  void defineAggregate(const ir::Op &op);
  void defineSink(const ir::Op &op, int index);
  void defineConsolidate(const ir::Op &op);
  // Sums a tick's changes per row and, at the tick's end, passes each row whose weight is not
  // zero to `pass_on` (row, weight), then forgets it.
  void defineConsolidation(const ir::Op &op, const RowLayout &in,
                           const std::function<void(llvm::Value *, llvm::Value *)> &pass_on);
  void aggregateOutput(const ir::Op &op, llvm::Value *payload, llvm::Value *out, bool intern_text);
  llvm::Function *beginConsumer(llvm::Function *f);
  void defineEntryPoints();
  void defineProgram();

  struct AggLayout {
    llvm::StructType *payload = nullptr;
    const RowLayout *key = nullptr;
    const RowLayout *out = nullptr;
    std::vector<int> agg_field;  // first payload field of each aggregate's state
    int count_field = 1, dirty_field = 0, old_present_field = 0, old_field = 0;
  };
  AggLayout aggLayout(const ir::Op &op);
  void freeMultisets(const ir::Op &op, const AggLayout &l, llvm::Value *payload);
  bool joinSideUniqueOnKey(const ir::Op &join, int side) const;

  llvm::LLVMContext &ctx_;
  llvm::Module &module_;
  const ir::Module &ir_;
  const std::vector<SourceTable> &sources_;
  const Options &options_;
  llvm::IRBuilder<> b_;
  const llvm::DataLayout &layout_;
  llvm::Type *i1_, *i8_, *i32_, *i64_, *i128_, *f64_, *ptr_;
  llvm::StructType *str_;
  std::map<std::string, RowLayout> layouts_;
  std::vector<std::string> locations_;
  std::map<std::string, int32_t> location_index_;
  std::string missing_;

  // Per operator: its consumer functions (joins have one per side) and its first state slot.
  std::map<int32_t, std::vector<llvm::Function *>> consumers_;
  std::map<int32_t, llvm::Function *> flushers_;
  std::map<int32_t, int> slots_;
  int slot_count_ = 1;  // slot 0 holds the runtime
  std::vector<const ir::Op *> sinks_;
  llvm::Value *state_ = nullptr;
  llvm::Value *rt_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Expressions

llvm::Value *Generator::constantText(const std::string &text) {
  llvm::Constant *data = b_.CreateGlobalString(text, "str", 0, &module_);
  return llvm::ConstantStruct::get(str_, {data, b_.getInt64(text.size())});
}

llvm::Value *Generator::literal(const ir::Value &v, const ir::Type &type) {
  switch (type.kind) {
  case TypeKind::Bool: return b_.getInt8(v.b);
  case TypeKind::Int32:
  case TypeKind::Date: return b_.getInt32(static_cast<uint32_t>(v.i));
  case TypeKind::Int64:
  case TypeKind::Timestamp: return b_.getInt64(static_cast<uint64_t>(v.i));
  case TypeKind::Float64: return llvm::ConstantFP::get(f64_, v.f);
  case TypeKind::Numeric: {
    uint64_t words[2] = {static_cast<uint64_t>(v.n), static_cast<uint64_t>(static_cast<unsigned __int128>(v.n) >> 64)};
    return llvm::ConstantInt::get(ctx_, llvm::APInt(128, words));
  }
  case TypeKind::Text: return constantText(v.s);
  case TypeKind::Null: return b_.getInt8(0);
  }
  return nullptr;
}

llvm::Value *Generator::textOut(const std::string &function, std::vector<llvm::Value *> args) {
  llvm::Value *out = entryAlloca(str_);
  args.push_back(out);
  call(function, args);
  return b_.CreateLoad(str_, out);
}

llvm::Value *Generator::genCompare(ExprOp op, llvm::Value *a, const ir::Type &ta, llvm::Value *b,
                                   const ir::Type &tb) {
  llvm::Value *cmp = nullptr;  // an i32 three-way result, or null for direct integer compares
  switch (ta.kind) {
  case TypeKind::Float64: cmp = call("kiln_f64_cmp", {a, b}); break;
  case TypeKind::Numeric:
    if (ta.scale != tb.scale)
      cmp = call("kiln_numeric_cmp", {a, b_.getInt32(ta.scale), b, b_.getInt32(tb.scale)});
    break;
  case TypeKind::Text:
    cmp = call("kiln_text_cmp", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                 b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
    break;
  default: break;
  }
  llvm::Value *x = a, *y = b;
  bool is_signed = true;
  if (cmp) {
    x = cmp;
    y = llvm::ConstantInt::get(cmp->getType(), 0);
  } else if (ta.kind == TypeKind::Bool) {
    is_signed = false;
  }
  switch (op) {
  case ExprOp::Eq:
  case ExprOp::IsNotDistinctFrom: return b_.CreateICmpEQ(x, y);
  case ExprOp::Ne:
  case ExprOp::IsDistinctFrom: return b_.CreateICmpNE(x, y);
  case ExprOp::Lt: return is_signed ? b_.CreateICmpSLT(x, y) : b_.CreateICmpULT(x, y);
  case ExprOp::Le: return is_signed ? b_.CreateICmpSLE(x, y) : b_.CreateICmpULE(x, y);
  case ExprOp::Gt: return is_signed ? b_.CreateICmpSGT(x, y) : b_.CreateICmpUGT(x, y);
  case ExprOp::Ge: return is_signed ? b_.CreateICmpSGE(x, y) : b_.CreateICmpUGE(x, y);
  default: return b_.getFalse();
  }
}

llvm::Value *Generator::genArithmetic(const ir::Expr &e, ExprOp op, llvm::Value *a,
                                      const ir::Type &ta, llvm::Value *b, const ir::Type &tb) {
  const ir::Type &result = e.type;
  int32_t loc = locationIndex(e.loc);
  if (result.kind == TypeKind::Numeric) {
    const char *name = op == ExprOp::Add ? "kiln_numeric_add"
                       : op == ExprOp::Sub ? "kiln_numeric_sub"
                       : op == ExprOp::Mul ? "kiln_numeric_mul"
                       : op == ExprOp::Div ? "kiln_numeric_div" : "kiln_numeric_mod";
    return call(name, {rt(), a, b_.getInt32(ta.scale), b, b_.getInt32(tb.scale),
                       b_.getInt32(result.scale), b_.getInt32(loc)});
  }
  if (result.kind == TypeKind::Float64) {
    llvm::Value *r = nullptr;
    switch (op) {
    case ExprOp::Add: r = b_.CreateFAdd(a, b); break;
    case ExprOp::Sub: r = b_.CreateFSub(a, b); break;
    case ExprOp::Mul: r = b_.CreateFMul(a, b); break;
    case ExprOp::Div:
      raiseIf(b_.CreateFCmpOEQ(b, llvm::ConstantFP::get(f64_, 0.0)), KILN_ERR_DIVISION_BY_ZERO, e.loc);
      r = b_.CreateFDiv(a, b);
      break;
    default: r = b_.CreateFRem(a, b); break;
    }
    // PostgreSQL reports overflow to infinity instead of returning it.
    llvm::Function *fabs = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::fabs, {f64_});
    llvm::Value *inf = llvm::ConstantFP::getInfinity(f64_);
    llvm::Value *r_inf = b_.CreateFCmpOEQ(b_.CreateCall(fabs, {r}), inf);
    llvm::Value *a_inf = b_.CreateFCmpOEQ(b_.CreateCall(fabs, {a}), inf);
    llvm::Value *b_inf = b_.CreateFCmpOEQ(b_.CreateCall(fabs, {b}), inf);
    raiseIf(b_.CreateAnd(r_inf, b_.CreateNot(b_.CreateOr(a_inf, b_inf))), KILN_ERR_FLOAT_OUT_OF_RANGE, e.loc);
    return r;
  }
  if (result.kind == TypeKind::Date) {  // date +/- integer days
    llvm::Value *r = op == ExprOp::Add ? b_.CreateAdd(a, b) : b_.CreateSub(a, b);
    return r;
  }
  if (ta.kind == TypeKind::Date) return b_.CreateSub(a, b);  // date - date -> days
  // Integers: overflow and division by zero are errors, as in PostgreSQL.
  llvm::Type *type = a->getType();
  kiln_error_code overflow = result.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE : KILN_ERR_BIGINT_OUT_OF_RANGE;
  auto checked = [&](llvm::Intrinsic::ID id) {
    llvm::Function *f = llvm::Intrinsic::getDeclaration(&module_, id, {type});
    llvm::Value *pair = b_.CreateCall(f, {a, b});
    raiseIf(b_.CreateExtractValue(pair, 1), overflow, e.loc);
    return b_.CreateExtractValue(pair, 0);
  };
  switch (op) {
  case ExprOp::Add: return checked(llvm::Intrinsic::sadd_with_overflow);
  case ExprOp::Sub: return checked(llvm::Intrinsic::ssub_with_overflow);
  case ExprOp::Mul: return checked(llvm::Intrinsic::smul_with_overflow);
  case ExprOp::Div:
  case ExprOp::Mod: {
    raiseIf(b_.CreateICmpEQ(b, llvm::ConstantInt::get(type, 0)), KILN_ERR_DIVISION_BY_ZERO, e.loc);
    llvm::Value *min = llvm::ConstantInt::get(type, llvm::APInt::getSignedMinValue(type->getIntegerBitWidth()));
    llvm::Value *minus_one = llvm::ConstantInt::getSigned(type, -1);
    llvm::Value *special = b_.CreateAnd(b_.CreateICmpEQ(a, min), b_.CreateICmpEQ(b, minus_one));
    if (op == ExprOp::Div) {
      raiseIf(special, overflow, e.loc);
      return b_.CreateSDiv(a, b);
    }
    // INT_MIN % -1 is 0 in PostgreSQL; srem would trap.
    llvm::Value *safe_b = b_.CreateSelect(special, llvm::ConstantInt::get(type, 1), b);
    return b_.CreateSRem(a, safe_b);
  }
  default: return a;
  }
}

SqlValue Generator::genCast(const ir::Expr &e, SqlValue v, const ir::Type &from) {
  const ir::Type &to = e.type;
  int32_t loc = locationIndex(e.loc);
  llvm::Value *x = v.value;
  SqlValue r{nullptr, v.null};
  auto intRange = [&](TypeKind kind, int64_t &lo, int64_t &hi, kiln_error_code &code) {
    lo = kind == TypeKind::Int32 ? INT32_MIN : INT64_MIN;
    hi = kind == TypeKind::Int32 ? INT32_MAX : INT64_MAX;
    code = kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE : KILN_ERR_BIGINT_OUT_OF_RANGE;
  };
  // Text output of any type.
  if (to.kind == TypeKind::Text) {
    switch (from.kind) {
    case TypeKind::Int32: r.value = textOut("kiln_text_from_i64", {rt(), b_.CreateSExt(x, i64_)}); break;
    case TypeKind::Int64: r.value = textOut("kiln_text_from_i64", {rt(), x}); break;
    case TypeKind::Float64: r.value = textOut("kiln_text_from_f64", {rt(), x}); break;
    case TypeKind::Numeric: r.value = textOut("kiln_text_from_numeric", {rt(), x, b_.getInt32(from.scale)}); break;
    case TypeKind::Bool: r.value = textOut("kiln_text_from_bool", {rt(), b_.CreateZExt(x, i32_)}); break;
    case TypeKind::Date: r.value = textOut("kiln_text_from_date", {rt(), x}); break;
    case TypeKind::Timestamp: r.value = textOut("kiln_text_from_timestamp", {rt(), x}); break;
    default: r.value = x; break;
    }
    return r;
  }
  if (from.kind == TypeKind::Text) {
    llvm::Value *p = b_.CreateExtractValue(x, 0), *n = b_.CreateExtractValue(x, 1);
    int64_t lo, hi;
    kiln_error_code code;
    switch (to.kind) {
    case TypeKind::Int32:
    case TypeKind::Int64:
      intRange(to.kind, lo, hi, code);
      r.value = b_.CreateTrunc(call("kiln_text_to_int", {rt(), p, n, b_.getInt64(lo), b_.getInt64(hi), b_.getInt32(code), b_.getInt32(loc)}), valueType(to));
      break;
    case TypeKind::Float64: r.value = call("kiln_text_to_f64", {rt(), p, n, b_.getInt32(loc)}); break;
    case TypeKind::Numeric:
      r.value = call("kiln_text_to_numeric", {rt(), p, n, b_.getInt32(to.scale), b_.getInt32(to.precision), b_.getInt32(loc)});
      break;
    case TypeKind::Bool: r.value = b_.CreateTrunc(call("kiln_text_to_bool", {rt(), p, n, b_.getInt32(loc)}), i8_); break;
    case TypeKind::Date: r.value = call("kiln_text_to_date", {rt(), p, n, b_.getInt32(loc)}); break;
    case TypeKind::Timestamp: r.value = call("kiln_text_to_timestamp", {rt(), p, n, b_.getInt32(loc)}); break;
    default: r.value = x; break;
    }
    return r;
  }
  switch (to.kind) {
  case TypeKind::Int32:
  case TypeKind::Int64: {
    int64_t lo, hi;
    kiln_error_code code;
    intRange(to.kind, lo, hi, code);
    if (from.kind == TypeKind::Bool) {
      r.value = b_.CreateZExt(x, valueType(to));
    } else if (from.isInteger()) {
      if (from.kind == TypeKind::Int32) {
        r.value = b_.CreateSExt(x, i64_);
      } else {  // bigint -> integer
        raiseIf(b_.CreateOr(b_.CreateICmpSLT(x, b_.getInt64(lo)), b_.CreateICmpSGT(x, b_.getInt64(hi))), code, e.loc);
        r.value = b_.CreateTrunc(x, i32_);
      }
    } else if (from.kind == TypeKind::Numeric) {
      r.value = b_.CreateTrunc(call("kiln_numeric_to_int", {rt(), x, b_.getInt32(from.scale), b_.getInt64(lo), b_.getInt64(hi), b_.getInt32(code), b_.getInt32(loc)}), valueType(to));
    } else if (from.kind == TypeKind::Float64) {
      r.value = b_.CreateTrunc(call("kiln_f64_to_int", {rt(), x, b_.getInt64(lo), b_.getInt64(hi), b_.getInt32(code), b_.getInt32(loc)}), valueType(to));
    }
    return r;
  }
  case TypeKind::Numeric:
    if (from.isInteger()) {
      llvm::Value *wide = b_.CreateSExt(x, i128_);
      r.value = call("kiln_numeric_rescale", {rt(), wide, b_.getInt32(0), b_.getInt32(to.scale), b_.getInt32(to.precision), b_.getInt32(loc)});
    } else if (from.kind == TypeKind::Numeric) {
      r.value = call("kiln_numeric_rescale", {rt(), x, b_.getInt32(from.scale), b_.getInt32(to.scale), b_.getInt32(to.precision), b_.getInt32(loc)});
    } else if (from.kind == TypeKind::Float64) {
      r.value = call("kiln_f64_to_numeric", {rt(), x, b_.getInt32(to.scale), b_.getInt32(to.precision), b_.getInt32(loc)});
    }
    return r;
  case TypeKind::Float64:
    if (from.isInteger()) r.value = b_.CreateSIToFP(x, f64_);
    else if (from.kind == TypeKind::Numeric) r.value = call("kiln_numeric_to_f64", {x, b_.getInt32(from.scale)});
    return r;
  case TypeKind::Timestamp:  // from date
    r.value = b_.CreateMul(b_.CreateSExt(x, i64_), b_.getInt64(86400000000LL));
    return r;
  case TypeKind::Date: {  // from timestamp: floor division by a day
    llvm::Value *day = b_.getInt64(86400000000LL);
    llvm::Value *q = b_.CreateSDiv(x, day);
    llvm::Value *adjust = b_.CreateAnd(b_.CreateICmpSLT(x, b_.getInt64(0)), b_.CreateICmpNE(b_.CreateSRem(x, day), b_.getInt64(0)));
    q = b_.CreateSub(q, b_.CreateZExt(adjust, i64_));
    r.value = b_.CreateTrunc(q, i32_);
    return r;
  }
  case TypeKind::Bool:  // from integer
    r.value = b_.CreateZExt(b_.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0)), i8_);
    return r;
  default:
    r.value = x;
    return r;
  }
}

SqlValue Generator::genLogic(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  // Three-valued AND/OR with short-circuiting: AND stops at the first FALSE, OR at the first
  // TRUE; otherwise the result is NULL if any operand was NULL.
  bool is_and = e.op == ExprOp::And;
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, is_and ? "and.done" : "or.done", f);
  std::vector<std::pair<llvm::BasicBlock *, SqlValue>> exits;
  llvm::Value *saw_null = b_.getFalse();
  for (size_t i = 0; i < e.args.size(); ++i) {
    SqlValue v = genExpr(*e.args[i], row_layout, row);
    llvm::Value *truth = b_.CreateICmpNE(v.value, b_.getInt8(0));
    llvm::Value *decisive = b_.CreateAnd(b_.CreateNot(v.null), is_and ? b_.CreateNot(truth) : truth);
    saw_null = b_.CreateOr(saw_null, v.null);
    if (i + 1 == e.args.size()) {
      exits.push_back({b_.GetInsertBlock(), {b_.CreateSelect(decisive, b_.getInt8(!is_and ? 1 : 0), b_.getInt8(is_and ? 1 : 0)),
                                             b_.CreateAnd(b_.CreateNot(decisive), saw_null)}});
      b_.CreateBr(done);
      break;
    }
    llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "logic.next", f);
    exits.push_back({b_.GetInsertBlock(), {b_.getInt8(is_and ? 0 : 1), b_.getFalse()}});
    b_.CreateCondBr(decisive, done, next);
    b_.SetInsertPoint(next);
  }
  b_.SetInsertPoint(done);
  llvm::PHINode *value = b_.CreatePHI(i8_, exits.size());
  llvm::PHINode *null = b_.CreatePHI(i1_, exits.size());
  for (auto &[block, v] : exits) {
    value->addIncoming(v.value, block);
    null->addIncoming(v.null, block);
  }
  return {value, null};
}

SqlValue Generator::genCase(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "case.done", f);
  std::vector<std::pair<llvm::BasicBlock *, SqlValue>> exits;
  size_t pairs = e.args.size() / 2;
  for (size_t i = 0; i < pairs; ++i) {
    SqlValue condition = genExpr(*e.args[2 * i], row_layout, row);
    llvm::Value *taken = b_.CreateAnd(b_.CreateNot(condition.null), b_.CreateICmpNE(condition.value, b_.getInt8(0)));
    llvm::BasicBlock *then = llvm::BasicBlock::Create(ctx_, "case.then", f);
    llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "case.next", f);
    b_.CreateCondBr(taken, then, next);
    b_.SetInsertPoint(then);
    SqlValue v = genExpr(*e.args[2 * i + 1], row_layout, row);
    exits.push_back({b_.GetInsertBlock(), v});
    b_.CreateBr(done);
    b_.SetInsertPoint(next);
  }
  SqlValue otherwise = genExpr(*e.args.back(), row_layout, row);
  exits.push_back({b_.GetInsertBlock(), otherwise});
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  llvm::PHINode *value = b_.CreatePHI(valueType(e.type), exits.size());
  llvm::PHINode *null = b_.CreatePHI(i1_, exits.size());
  for (auto &[block, v] : exits) {
    value->addIncoming(v.value, block);
    null->addIncoming(v.null, block);
  }
  return {value, null};
}

SqlValue Generator::genCoalesce(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "coalesce.done", f);
  std::vector<std::pair<llvm::BasicBlock *, SqlValue>> exits;
  for (size_t i = 0; i < e.args.size(); ++i) {
    SqlValue v = genExpr(*e.args[i], row_layout, row);
    exits.push_back({b_.GetInsertBlock(), v});
    if (i + 1 == e.args.size()) {
      b_.CreateBr(done);
      break;
    }
    llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "coalesce.next", f);
    b_.CreateCondBr(v.null, next, done);
    b_.SetInsertPoint(next);
  }
  b_.SetInsertPoint(done);
  llvm::PHINode *value = b_.CreatePHI(valueType(e.type), exits.size());
  llvm::PHINode *null = b_.CreatePHI(i1_, exits.size());
  for (auto &[block, v] : exits) {
    value->addIncoming(v.value, block);
    null->addIncoming(v.null, block);
  }
  return {value, null};
}

SqlValue Generator::genCall(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  std::vector<SqlValue> args;
  llvm::Value *null = b_.getFalse();
  for (const ir::ExprPtr &arg : e.args) {
    args.push_back(genExpr(*arg, row_layout, row));
    null = b_.CreateOr(null, args.back().null);
  }
  auto text = [&](size_t i, int part) { return b_.CreateExtractValue(args[i].value, part); };
  const std::string &name = e.function;
  int32_t loc = locationIndex(e.loc);
  SqlValue r{nullptr, null};
  if (name == "lower" || name == "upper" || name == "btrim" || name == "ltrim" || name == "rtrim") {
    r.value = textOut("kiln_" + name, {rt(), text(0, 0), text(0, 1)});
  } else if (name == "length") {
    r.value = b_.CreateSExtOrTrunc(call("kiln_length", {text(0, 0), text(0, 1)}), i32_);
  } else if (name == "replace") {
    r.value = textOut("kiln_replace", {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1), text(2, 0), text(2, 1)});
  } else if (name == "substr") {
    llvm::Value *count = args.size() == 3 ? b_.CreateSExt(args[2].value, i64_) : b_.getInt64(0);
    r.value = textOut("kiln_substr", {rt(), text(0, 0), text(0, 1), b_.CreateSExt(args[1].value, i64_), count,
                                      b_.getInt32(args.size() == 3), b_.getInt32(loc)});
  } else if (name == "abs") {
    llvm::Value *x = args[0].value;
    if (e.type.kind == TypeKind::Float64) {
      r.value = b_.CreateCall(llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::fabs, {f64_}), {x});
    } else {
      llvm::Type *type = x->getType();
      if (e.type.isInteger()) {
        llvm::Value *min = llvm::ConstantInt::get(type, llvm::APInt::getSignedMinValue(type->getIntegerBitWidth()));
        raiseIf(b_.CreateAnd(b_.CreateNot(args[0].null), b_.CreateICmpEQ(x, min)),
                e.type.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE : KILN_ERR_BIGINT_OUT_OF_RANGE, e.loc);
      }
      llvm::Value *negative = b_.CreateICmpSLT(x, llvm::ConstantInt::get(type, 0));
      r.value = b_.CreateSelect(negative, b_.CreateNeg(x), x);
    }
  } else if (name == "round" || name == "trunc" || name == "floor" || name == "ceil") {
    if (e.type.kind == TypeKind::Float64) {
      llvm::Intrinsic::ID id = name == "round" ? llvm::Intrinsic::rint
                               : name == "trunc" ? llvm::Intrinsic::trunc
                               : name == "floor" ? llvm::Intrinsic::floor : llvm::Intrinsic::ceil;
      r.value = b_.CreateCall(llvm::Intrinsic::getDeclaration(&module_, id, {f64_}), {args[0].value});
    } else {
      int mode = name == "round" ? 0 : name == "trunc" ? 1 : name == "floor" ? 2 : 3;
      int32_t digits = e.type.scale;
      r.value = call("kiln_numeric_round", {rt(), args[0].value, b_.getInt32(e.args[0]->type.scale), b_.getInt32(digits),
                                            b_.getInt32(e.type.scale), b_.getInt32(mode), b_.getInt32(loc)});
    }
  } else if (name == "date_trunc") {
    static const std::map<std::string, int> units{{"microseconds", 0}, {"millisecond", 1}, {"milliseconds", 1},
                                                  {"second", 2}, {"minute", 3}, {"hour", 4}, {"day", 5},
                                                  {"week", 6}, {"month", 7}, {"quarter", 8}, {"year", 9}};
    int unit = units.at(e.args[0]->literal.s);
    r.value = call("kiln_date_trunc", {b_.getInt32(unit), args[1].value});
  } else {
    missing_ = "function " + name;
    r.value = llvm::Constant::getNullValue(valueType(e.type));
  }
  return r;
}

SqlValue Generator::genExpr(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  switch (e.op) {
  case ExprOp::Column:
    return loadColumn(row_layout, row, e.column, e.nullable);
  case ExprOp::Literal:
    return {e.literal.is_null ? llvm::Constant::getNullValue(valueType(e.type)) : literal(e.literal, e.type),
            b_.getInt1(e.literal.is_null)};
  case ExprOp::And:
  case ExprOp::Or:
    return genLogic(e, row_layout, row);
  case ExprOp::Case:
    return genCase(e, row_layout, row);
  case ExprOp::Coalesce:
    return genCoalesce(e, row_layout, row);
  case ExprOp::Call:
    return genCall(e, row_layout, row);
  default:
    break;
  }
  std::vector<SqlValue> args;
  for (const ir::ExprPtr &arg : e.args) args.push_back(genExpr(*arg, row_layout, row));
  llvm::Value *any_null = b_.getFalse();
  for (const SqlValue &a : args) any_null = b_.CreateOr(any_null, a.null);
  auto boolean = [&](llvm::Value *i1) { return b_.CreateZExt(i1, i8_); };
  switch (e.op) {
  case ExprOp::Add:
  case ExprOp::Sub:
  case ExprOp::Mul:
  case ExprOp::Div:
  case ExprOp::Mod: {
    // Evaluate only when both operands are present: 1/NULL is NULL, not an error.
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *compute = llvm::BasicBlock::Create(ctx_, "arith", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "arith.done", f);
    llvm::BasicBlock *from = b_.GetInsertBlock();
    b_.CreateCondBr(any_null, done, compute);
    b_.SetInsertPoint(compute);
    llvm::Value *v = genArithmetic(e, e.op, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type);
    llvm::BasicBlock *computed = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode *phi = b_.CreatePHI(valueType(e.type), 2);
    phi->addIncoming(llvm::Constant::getNullValue(valueType(e.type)), from);
    phi->addIncoming(v, computed);
    return {phi, any_null};
  }
  case ExprOp::Neg: {
    const ir::Type &t = e.type;
    llvm::Value *x = args[0].value;
    if (t.kind == TypeKind::Float64) return {b_.CreateFNeg(x), args[0].null};
    if (t.kind == TypeKind::Numeric) return {b_.CreateNeg(x), args[0].null};
    llvm::Type *type = x->getType();
    llvm::Value *min = llvm::ConstantInt::get(type, llvm::APInt::getSignedMinValue(type->getIntegerBitWidth()));
    raiseIf(b_.CreateAnd(b_.CreateNot(args[0].null), b_.CreateICmpEQ(x, min)),
            t.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE : KILN_ERR_BIGINT_OUT_OF_RANGE, e.loc);
    return {b_.CreateNeg(x), args[0].null};
  }
  case ExprOp::Eq:
  case ExprOp::Ne:
  case ExprOp::Lt:
  case ExprOp::Le:
  case ExprOp::Gt:
  case ExprOp::Ge:
    return {boolean(genCompare(e.op, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type)), any_null};
  case ExprOp::IsDistinctFrom:
  case ExprOp::IsNotDistinctFrom: {
    llvm::Value *eq = genCompare(ExprOp::Eq, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type);
    llvm::Value *same = b_.CreateOr(b_.CreateAnd(args[0].null, args[1].null),
                                    b_.CreateAnd(b_.CreateNot(any_null), eq));
    return {boolean(e.op == ExprOp::IsNotDistinctFrom ? same : b_.CreateNot(same)), b_.getFalse()};
  }
  case ExprOp::Not:
    return {b_.CreateXor(args[0].value, b_.getInt8(1)), args[0].null};
  case ExprOp::IsNull:
    return {boolean(args[0].null), b_.getFalse()};
  case ExprOp::IsNotNull:
    return {boolean(b_.CreateNot(args[0].null)), b_.getFalse()};
  case ExprOp::NullIf: {
    llvm::Value *eq = genCompare(ExprOp::Eq, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type);
    llvm::Value *equal = b_.CreateAnd(b_.CreateNot(any_null), eq);
    return {args[0].value, b_.CreateOr(args[0].null, equal)};
  }
  case ExprOp::Greatest:
  case ExprOp::Least: {
    SqlValue best = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      llvm::Value *better = genCompare(e.op == ExprOp::Greatest ? ExprOp::Gt : ExprOp::Lt, args[i].value,
                                       e.args[i]->type, best.value, e.type);
      llvm::Value *take = b_.CreateAnd(b_.CreateNot(args[i].null), b_.CreateOr(best.null, better));
      best.value = b_.CreateSelect(take, args[i].value, best.value);
      best.null = b_.CreateAnd(best.null, args[i].null);
    }
    return best;
  }
  case ExprOp::Cast: {
    // Casts of NULL are NULL without running the conversion (text parsing could raise).
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *compute = llvm::BasicBlock::Create(ctx_, "cast", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "cast.done", f);
    llvm::BasicBlock *from = b_.GetInsertBlock();
    b_.CreateCondBr(args[0].null, done, compute);
    b_.SetInsertPoint(compute);
    SqlValue v = genCast(e, args[0], e.args[0]->type);
    llvm::BasicBlock *computed = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode *phi = b_.CreatePHI(valueType(e.type), 2);
    phi->addIncoming(llvm::Constant::getNullValue(valueType(e.type)), from);
    phi->addIncoming(v.value, computed);
    return {phi, args[0].null};
  }
  case ExprOp::Like: {
    llvm::Value *r = call("kiln_like", {rt(), b_.CreateExtractValue(args[0].value, 0), b_.CreateExtractValue(args[0].value, 1),
                                        b_.CreateExtractValue(args[1].value, 0), b_.CreateExtractValue(args[1].value, 1),
                                        b_.getInt32(e.flag), b_.getInt32(locationIndex(e.loc))});
    return {boolean(b_.CreateICmpNE(r, llvm::ConstantInt::get(r->getType(), 0))), any_null};
  }
  case ExprOp::Concat:
    return {textOut("kiln_concat", {rt(), b_.CreateExtractValue(args[0].value, 0), b_.CreateExtractValue(args[0].value, 1),
                                    b_.CreateExtractValue(args[1].value, 0), b_.CreateExtractValue(args[1].value, 1)}),
            any_null};
  default:
    missing_ = std::string("expression ") + ir::exprOpName(e.op);
    return {llvm::Constant::getNullValue(valueType(e.type)), b_.getTrue()};
  }
}

// ---------------------------------------------------------------------------------------------
// Operators

llvm::Function *Generator::beginConsumer(llvm::Function *f) {
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(ctx_, "entry", f);
  b_.SetInsertPoint(entry);
  state_ = f->getArg(0);
  rt_ = b_.CreateLoad(ptr_, state_);
  return f;
}

void Generator::emitToConsumers(const ir::Op &producer, llvm::Value *row, llvm::Value *weight) {
  for (const auto &op : ir_.ops) {
    for (size_t port = 0; port < op->inputs.size(); ++port) {
      if (op->inputs[port] != producer.id) continue;
      const std::vector<llvm::Function *> &functions = consumers_.at(op->id);
      llvm::Function *target = functions.size() > 1 ? functions[port] : functions[0];
      b_.CreateCall(target, {state_, row, weight});
    }
  }
}

void Generator::defineFilter(const ir::Op &op) {
  beginConsumer(consumers_[op.id][0]);
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  const RowLayout &in = layoutOf(ir_.find(op.inputs[0])->schema);
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  SqlValue keep = genExpr(*op.predicate, in, row);
  llvm::BasicBlock *pass = llvm::BasicBlock::Create(ctx_, "pass", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "done", f);
  b_.CreateCondBr(b_.CreateAnd(b_.CreateNot(keep.null), b_.CreateICmpNE(keep.value, b_.getInt8(0))), pass, done);
  b_.SetInsertPoint(pass);
  emitToConsumers(op, row, weight);
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  b_.CreateRetVoid();
}

void Generator::defineMap(const ir::Op &op) {
  llvm::Function *f = beginConsumer(consumers_[op.id][0]);
  const RowLayout &in = layoutOf(ir_.find(op.inputs[0])->schema);
  const RowLayout &out = layoutOf(op.schema);
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  llvm::Value *result = newRow(out);
  for (size_t i = 0; i < op.exprs.size(); ++i) storeColumn(out, result, static_cast<int>(i), genExpr(*op.exprs[i], in, row));
  emitToConsumers(op, result, weight);
  b_.CreateRetVoid();
}

void Generator::defineUnion(const ir::Op &op) {
  llvm::Function *f = beginConsumer(consumers_[op.id][0]);
  emitToConsumers(op, f->getArg(1), f->getArg(2));
  b_.CreateRetVoid();
}

void Generator::defineNegate(const ir::Op &op) {
  llvm::Function *f = beginConsumer(consumers_[op.id][0]);
  emitToConsumers(op, f->getArg(1), b_.CreateNeg(f->getArg(2)));
  b_.CreateRetVoid();
}

// Whether join side `side` has at most one live row per join key (a dimension joined on its
// primary key): then it keeps no table of distinct rows (see defineJoinSide).
bool Generator::joinSideUniqueOnKey(const ir::Op &join, int side) const {
  const std::vector<int32_t> &keys = side == 0 ? join.left_keys : join.right_keys;
  std::optional<std::set<int32_t>> unique = ir::uniqueColumns(ir_, join.inputs[side]);
  return unique && std::all_of(unique->begin(), unique->end(), [&](int32_t c) {
           return std::find(keys.begin(), keys.end(), c) != keys.end();
         });
}

// One side of the bilinear join: match the change against the other side's index, then record
// it in this side's index. Processing changes one at a time in any order yields exactly
// dA ⋈ B + A ⋈ dB + dA ⋈ dB.
void Generator::defineJoinSide(const ir::Op &op, int side) {
  llvm::Function *f = beginConsumer(consumers_[op.id][side]);
  const ir::Op &mine = *ir_.find(op.inputs[side]);
  const ir::Op &other = *ir_.find(op.inputs[1 - side]);
  const RowLayout &in = layoutOf(mine.schema);
  const RowLayout &other_layout = layoutOf(other.schema);
  const RowLayout &out = layoutOf(op.schema);
  const std::vector<int32_t> &my_keys = side == 0 ? op.left_keys : op.right_keys;
  const std::vector<int32_t> &other_keys = side == 0 ? op.right_keys : op.left_keys;
  llvm::StructType *my_entry = llvm::StructType::get(ctx_, {in.type, i64_});
  llvm::StructType *other_entry = llvm::StructType::get(ctx_, {other_layout.type, i64_});
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(ctx_, "exit", f);

  // A NULL key equals nothing: such a row can never produce output, so it is not even stored.
  llvm::Value *null_key = b_.getFalse();
  for (int32_t k : my_keys) null_key = b_.CreateOr(null_key, loadNull(in, row, k));
  llvm::BasicBlock *work = llvm::BasicBlock::Create(ctx_, "work", f);
  b_.CreateCondBr(null_key, exit, work);
  b_.SetInsertPoint(work);

  llvm::Value *hash = hashColumns(in, row, my_keys);
  llvm::Value *other_index = stateSlot(slots_[op.id] + (1 - side));
  llvm::Value *my_index = stateSlot(slots_[op.id] + side);
  forEachInChain(other_index, hash, [&](llvm::Value *, llvm::Value *payload, llvm::BasicBlock *) {
    llvm::Value *other_row = b_.CreateStructGEP(other_entry, payload, 0);
    llvm::Value *other_weight = b_.CreateLoad(i64_, b_.CreateStructGEP(other_entry, payload, 1));
    llvm::Value *match = columnsEqual(in, row, my_keys, other_layout, other_row, other_keys);
    llvm::BasicBlock *emit = llvm::BasicBlock::Create(ctx_, "join.emit", f);
    llvm::BasicBlock *skip = llvm::BasicBlock::Create(ctx_, "join.skip", f);
    b_.CreateCondBr(match, emit, skip);
    b_.SetInsertPoint(emit);
    llvm::Value *joined = newRow(out);
    const RowLayout &left = side == 0 ? in : other_layout;
    const RowLayout &right = side == 0 ? other_layout : in;
    llvm::Value *left_row = side == 0 ? row : other_row;
    llvm::Value *right_row = side == 0 ? other_row : row;
    int left_width = static_cast<int>(left.types.size());
    for (int i = 0; i < left_width; ++i) copyColumn(left, left_row, i, out, joined, i);
    for (size_t i = 0; i < right.types.size(); ++i) copyColumn(right, right_row, static_cast<int>(i), out, joined, left_width + static_cast<int>(i));
    emitToConsumers(op, joined, b_.CreateMul(weight, other_weight));
    b_.CreateBr(skip);
    b_.SetInsertPoint(skip);
  });

  // Record the change: add its weight to an identical stored row, or store a new one. The index
  // is keyed by the join key, and a hot key has many rows, so identical rows are found through a
  // second table keyed by the whole row whose entries point at the index entries. A side that is
  // unique on its join key (a dimension joined on its primary key) has one row per key: its
  // index chain finds the row as fast, and the second table is not kept.
  std::vector<int32_t> all = allColumns(in.types.size());
  bool unique_on_key = joinSideUniqueOnKey(op, side);
  llvm::Value *my_rows = stateSlot(slots_[op.id] + 2 + side);
  llvm::Value *row_hash = unique_on_key ? nullptr : hashColumns(in, row, all);
  llvm::BasicBlock *insert = llvm::BasicBlock::Create(ctx_, "insert", f);
  auto addToStored = [&](llvm::Value *entry, llvm::Value *row_entry) {
    llvm::Value *payload = b_.CreateConstGEP1_64(i8_, entry, 16);
    llvm::Value *stored = b_.CreateStructGEP(my_entry, payload, 0);
    llvm::BasicBlock *same = llvm::BasicBlock::Create(ctx_, "same", f);
    llvm::BasicBlock *differs = llvm::BasicBlock::Create(ctx_, "differs", f);
    b_.CreateCondBr(columnsEqual(in, row, all, in, stored, all), same, differs);
    b_.SetInsertPoint(same);
    llvm::Value *weight_ptr = b_.CreateStructGEP(my_entry, payload, 1);
    llvm::Value *updated = b_.CreateAdd(b_.CreateLoad(i64_, weight_ptr), weight);
    b_.CreateStore(updated, weight_ptr);
    llvm::BasicBlock *erase = llvm::BasicBlock::Create(ctx_, "erase", f);
    b_.CreateCondBr(b_.CreateICmpEQ(updated, b_.getInt64(0)), erase, exit);
    b_.SetInsertPoint(erase);
    b_.CreateCall(fn("kiln_ht_erase"), {my_index, entry});
    if (row_entry) b_.CreateCall(fn("kiln_ht_erase"), {my_rows, row_entry});
    b_.CreateBr(exit);
    b_.SetInsertPoint(differs);
  };
  if (unique_on_key) {
    forEachInChain(my_index, hash, [&](llvm::Value *entry, llvm::Value *, llvm::BasicBlock *) {
      addToStored(entry, nullptr);
    });
  } else {
    forEachInChain(my_rows, row_hash, [&](llvm::Value *row_entry, llvm::Value *row_payload, llvm::BasicBlock *) {
      addToStored(b_.CreateLoad(ptr_, row_payload), row_entry);
    });
  }
  b_.CreateBr(insert);
  b_.SetInsertPoint(insert);
  llvm::Value *entry = b_.CreateCall(fn("kiln_ht_insert"), {my_index, hash});
  llvm::Value *payload = b_.CreateConstGEP1_64(i8_, entry, 16);
  llvm::Value *stored = b_.CreateStructGEP(my_entry, payload, 0);
  for (int32_t c : all) copyColumn(in, row, c, in, stored, c, /*intern=*/true);
  b_.CreateStore(weight, b_.CreateStructGEP(my_entry, payload, 1));
  if (!unique_on_key) {
    llvm::Value *row_entry = b_.CreateCall(fn("kiln_ht_insert"), {my_rows, row_hash});
    b_.CreateStore(entry, b_.CreateConstGEP1_64(i8_, row_entry, 16));
  }
  b_.CreateBr(exit);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

// Distinct keeps a count per distinct row and emits a row when its count becomes positive or
// stops being positive within a tick.
void Generator::defineDistinct(const ir::Op &op) {
  const RowLayout &in = layoutOf(op.schema);
  // payload: { row, count, count at tick start, dirty }
  llvm::StructType *payload_type = llvm::StructType::get(ctx_, {in.type, i64_, i64_, i8_});
  std::vector<int32_t> all = allColumns(in.types.size());
  {
    llvm::Function *f = beginConsumer(consumers_[op.id][0]);
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *table = stateSlot(slots_[op.id]);
    llvm::Value *dirty_list = stateSlot(slots_[op.id] + 1);
    llvm::Value *hash = hashColumns(in, row, all);
    llvm::Value *payload = findOrInsert(
        table, hash,
        [&](llvm::Value *candidate) {
          return columnsEqual(in, row, all, in, b_.CreateStructGEP(payload_type, candidate, 0), all);
        },
        [&](llvm::Value *fresh) {
          llvm::Value *stored = b_.CreateStructGEP(payload_type, fresh, 0);
          for (int32_t c : all) copyColumn(in, row, c, in, stored, c, /*intern=*/true);
        });
    llvm::Value *dirty_ptr = b_.CreateStructGEP(payload_type, payload, 3);
    llvm::Value *count_ptr = b_.CreateStructGEP(payload_type, payload, 1);
    llvm::BasicBlock *mark = llvm::BasicBlock::Create(ctx_, "mark", f);
    llvm::BasicBlock *add = llvm::BasicBlock::Create(ctx_, "add", f);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(i8_, dirty_ptr), b_.getInt8(0)), mark, add);
    b_.SetInsertPoint(mark);
    b_.CreateStore(b_.getInt8(1), dirty_ptr);
    b_.CreateStore(b_.CreateLoad(i64_, count_ptr), b_.CreateStructGEP(payload_type, payload, 2));
    b_.CreateCall(fn("kiln_vec_push"), {dirty_list, b_.CreateConstGEP1_64(i8_, payload, -16)});
    b_.CreateBr(add);
    b_.SetInsertPoint(add);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, count_ptr), weight), count_ptr);
    b_.CreateRetVoid();
  }
  {
    llvm::Function *f = flushers_[op.id];
    beginConsumer(f);
    llvm::Value *table = stateSlot(slots_[op.id]);
    llvm::Value *dirty_list = stateSlot(slots_[op.id] + 1);
    forEachListed(dirty_list, [&](llvm::Value *entry) {
      llvm::Value *payload = b_.CreateConstGEP1_64(i8_, entry, 16);
      llvm::Value *row = b_.CreateStructGEP(payload_type, payload, 0);
      llvm::Value *count = b_.CreateLoad(i64_, b_.CreateStructGEP(payload_type, payload, 1));
      llvm::Value *old = b_.CreateLoad(i64_, b_.CreateStructGEP(payload_type, payload, 2));
      b_.CreateStore(b_.getInt8(0), b_.CreateStructGEP(payload_type, payload, 3));
      llvm::Value *was = b_.CreateICmpSGT(old, b_.getInt64(0));
      llvm::Value *now = b_.CreateICmpSGT(count, b_.getInt64(0));
      llvm::BasicBlock *changed = llvm::BasicBlock::Create(ctx_, "changed", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx_, "after", f);
      b_.CreateCondBr(b_.CreateICmpNE(was, now), changed, after);
      b_.SetInsertPoint(changed);
      emitToConsumers(op, row, b_.CreateSelect(now, b_.getInt64(1), b_.getInt64(-1)));
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      llvm::BasicBlock *erase = llvm::BasicBlock::Create(ctx_, "erase", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "next", f);
      b_.CreateCondBr(b_.CreateICmpEQ(count, b_.getInt64(0)), erase, next);
      b_.SetInsertPoint(erase);
      b_.CreateCall(fn("kiln_ht_erase"), {table, entry});
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    });
    b_.CreateRetVoid();
  }
}

// Aggregate state per group: { key row, row count, per-aggregate state..., dirty, had output,
// output at tick start }. Per aggregate: COUNT {n}; SUM/AVG {n, sum}; MIN/MAX {n, multiset}.
Generator::AggLayout Generator::aggLayout(const ir::Op &op) {
  AggLayout l;
  const ir::Op &input = *ir_.find(op.inputs[0]);
  std::vector<ir::Type> key_types;
  for (int32_t k : op.group_keys) key_types.push_back(input.schema[k].type);
  l.key = &layoutOf(key_types);
  l.out = &layoutOf(op.schema);
  std::vector<llvm::Type *> fields{l.key->type, i64_};
  for (const ir::AggCall &agg : op.aggregates) {
    l.agg_field.push_back(static_cast<int>(fields.size()));
    if (agg.kind == ir::AggKind::CountStar) continue;
    fields.push_back(i64_);  // non-NULL count
    if (agg.kind == ir::AggKind::Sum || agg.kind == ir::AggKind::Avg) {
      const ir::Type &t = input.schema[agg.arg].type;
      fields.push_back(t.kind == TypeKind::Float64 ? f64_ : (t.kind == TypeKind::Int32 && agg.kind == ir::AggKind::Sum) ? i64_ : i128_);
    } else if (agg.kind == ir::AggKind::Min || agg.kind == ir::AggKind::Max) {
      fields.push_back(ptr_);
    }
  }
  l.dirty_field = static_cast<int>(fields.size());
  fields.push_back(i8_);
  l.old_present_field = static_cast<int>(fields.size());
  fields.push_back(i8_);
  l.old_field = static_cast<int>(fields.size());
  fields.push_back(l.out->type);
  l.payload = llvm::StructType::get(ctx_, fields);
  return l;
}

void Generator::aggregateOutput(const ir::Op &op, llvm::Value *payload, llvm::Value *out, bool intern_text) {
  AggLayout l = aggLayout(op);
  const ir::Op &input = *ir_.find(op.inputs[0]);
  b_.CreateMemSet(out, b_.getInt8(0), layout_.getTypeAllocSize(l.out->type), llvm::MaybeAlign(8));
  llvm::Value *key = b_.CreateStructGEP(l.payload, payload, 0);
  int keys = static_cast<int>(op.group_keys.size());
  for (int i = 0; i < keys; ++i) copyColumn(*l.key, key, i, *l.out, out, i);
  llvm::Value *count = b_.CreateLoad(i64_, b_.CreateStructGEP(l.payload, payload, l.count_field));
  for (size_t j = 0; j < op.aggregates.size(); ++j) {
    const ir::AggCall &agg = op.aggregates[j];
    int column = keys + static_cast<int>(j);
    int field = l.agg_field[j];
    if (agg.kind == ir::AggKind::CountStar) {
      storeColumn(*l.out, out, column, {count, b_.getFalse()});
      continue;
    }
    llvm::Value *n = b_.CreateLoad(i64_, b_.CreateStructGEP(l.payload, payload, field));
    llvm::Value *empty = b_.CreateICmpSLE(n, b_.getInt64(0));
    const ir::Type &arg_type = input.schema[agg.arg].type;
    switch (agg.kind) {
    case ir::AggKind::Count:
      storeColumn(*l.out, out, column, {n, b_.getFalse()});
      break;
    case ir::AggKind::Sum: {
      llvm::Value *sum = b_.CreateLoad(l.payload->getElementType(field + 1), b_.CreateStructGEP(l.payload, payload, field + 1));
      storeColumn(*l.out, out, column, {sum, empty});
      break;
    }
    case ir::AggKind::Avg: {
      llvm::Value *sum = b_.CreateLoad(l.payload->getElementType(field + 1), b_.CreateStructGEP(l.payload, payload, field + 1));
      llvm::Value *avg;
      if (agg.type.kind == TypeKind::Float64) {
        avg = b_.CreateFDiv(sum, b_.CreateSIToFP(n, f64_));
      } else {
        // Guard the division: an empty group's average is NULL, not a division by zero.
        llvm::Value *divisor = b_.CreateSExt(b_.CreateSelect(empty, b_.getInt64(1), n), i128_);
        int32_t scale = arg_type.kind == TypeKind::Numeric ? arg_type.scale : 0;
        avg = call("kiln_numeric_div", {rt(), sum, b_.getInt32(scale), divisor, b_.getInt32(0),
                                        b_.getInt32(agg.type.scale), b_.getInt32(locationIndex(op.loc))});
      }
      storeColumn(*l.out, out, column, {avg, empty});
      break;
    }
    case ir::AggKind::Min:
    case ir::AggKind::Max: {
      // The multiset exists once a non-NULL value arrived; a group of only NULLs has none.
      llvm::Value *set = b_.CreateLoad(ptr_, b_.CreateStructGEP(l.payload, payload, field + 1));
      llvm::Value *slot = columnPtr(*l.out, out, column);
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *read = llvm::BasicBlock::Create(ctx_, "extreme", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx_, "extreme.done", f);
      b_.CreateCondBr(b_.CreateIsNull(set), after, read);
      b_.SetInsertPoint(read);
      b_.CreateCall(fn(agg.kind == ir::AggKind::Min ? "kiln_ms_min" : "kiln_ms_max"), {set, slot});
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      if (intern_text && agg.type.kind == TypeKind::Text) {
        // The multiset may drop this value before the saved output is retracted: keep a copy.
        llvm::Value *text = b_.CreateLoad(str_, slot);
        b_.CreateStore(internText(text), slot);
      }
      SqlValue v = loadColumn(*l.out, out, column, false);
      storeColumn(*l.out, out, column, {v.value, empty});
      break;
    }
    default:
      break;
    }
  }
}

void Generator::defineAggregate(const ir::Op &op) {
  AggLayout l = aggLayout(op);
  const ir::Op &input = *ir_.find(op.inputs[0]);
  const RowLayout &in = layoutOf(input.schema);
  std::vector<int32_t> key_columns = allColumns(op.group_keys.size());
  bool global = op.group_keys.empty();
  {
    llvm::Function *f = beginConsumer(consumers_[op.id][0]);
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *table = stateSlot(slots_[op.id]);
    llvm::Value *dirty_list = stateSlot(slots_[op.id] + 1);
    llvm::Value *hash = hashColumns(in, row, op.group_keys);
    llvm::Value *payload = findOrInsert(
        table, hash,
        [&](llvm::Value *candidate) {
          return columnsEqual(in, row, op.group_keys, *l.key, b_.CreateStructGEP(l.payload, candidate, 0), key_columns);
        },
        [&](llvm::Value *fresh) {
          llvm::Value *key = b_.CreateStructGEP(l.payload, fresh, 0);
          for (size_t i = 0; i < op.group_keys.size(); ++i)
            copyColumn(in, row, op.group_keys[i], *l.key, key, static_cast<int>(i), /*intern=*/true);
        });
    llvm::Value *dirty_ptr = b_.CreateStructGEP(l.payload, payload, l.dirty_field);
    llvm::Value *count_ptr = b_.CreateStructGEP(l.payload, payload, l.count_field);
    llvm::BasicBlock *mark = llvm::BasicBlock::Create(ctx_, "mark", f);
    llvm::BasicBlock *add = llvm::BasicBlock::Create(ctx_, "add", f);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(i8_, dirty_ptr), b_.getInt8(0)), mark, add);
    b_.SetInsertPoint(mark);
    b_.CreateStore(b_.getInt8(1), dirty_ptr);
    llvm::Value *present = global ? b_.getTrue() : b_.CreateICmpSGT(b_.CreateLoad(i64_, count_ptr), b_.getInt64(0));
    b_.CreateStore(b_.CreateZExt(present, i8_), b_.CreateStructGEP(l.payload, payload, l.old_present_field));
    llvm::BasicBlock *save = llvm::BasicBlock::Create(ctx_, "save", f);
    llvm::BasicBlock *saved = llvm::BasicBlock::Create(ctx_, "saved", f);
    b_.CreateCondBr(present, save, saved);
    b_.SetInsertPoint(save);
    {
      llvm::Value *tmp = newRow(*l.out);
      aggregateOutput(op, payload, tmp, /*intern_text=*/true);
      llvm::Align old_align = llvm::commonAlignment(llvm::Align(16), layout_.getStructLayout(l.payload)->getElementOffset(l.old_field));
      b_.CreateMemCpy(b_.CreateStructGEP(l.payload, payload, l.old_field), old_align, tmp, llvm::MaybeAlign(8),
                      layout_.getTypeAllocSize(l.out->type));
    }
    b_.CreateBr(saved);
    b_.SetInsertPoint(saved);
    b_.CreateCall(fn("kiln_vec_push"), {dirty_list, b_.CreateConstGEP1_64(i8_, payload, -16)});
    b_.CreateBr(add);
    b_.SetInsertPoint(add);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, count_ptr), weight), count_ptr);
    for (size_t j = 0; j < op.aggregates.size(); ++j) {
      const ir::AggCall &agg = op.aggregates[j];
      if (agg.kind == ir::AggKind::CountStar) continue;
      int field = l.agg_field[j];
      SqlValue v = loadColumn(in, row, agg.arg);
      llvm::BasicBlock *accumulate = llvm::BasicBlock::Create(ctx_, "accumulate", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "next", f);
      b_.CreateCondBr(v.null, next, accumulate);
      b_.SetInsertPoint(accumulate);
      llvm::Value *n_ptr = b_.CreateStructGEP(l.payload, payload, field);
      b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, n_ptr), weight), n_ptr);
      const ir::Type &t = in.types[agg.arg];
      if (agg.kind == ir::AggKind::Sum || agg.kind == ir::AggKind::Avg) {
        llvm::Value *sum_ptr = b_.CreateStructGEP(l.payload, payload, field + 1);
        llvm::Type *acc_type = l.payload->getElementType(field + 1);
        llvm::Value *acc = b_.CreateLoad(acc_type, sum_ptr);
        llvm::Value *updated;
        if (acc_type == f64_) {
          updated = b_.CreateFAdd(acc, b_.CreateFMul(v.value, b_.CreateSIToFP(weight, f64_)));
        } else if (acc_type == i64_) {
          // SUM(integer) is bigint; its overflow is an error.
          llvm::Function *mul = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::smul_with_overflow, {i64_});
          llvm::Function *sadd = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::sadd_with_overflow, {i64_});
          llvm::Value *product = b_.CreateCall(mul, {b_.CreateSExt(v.value, i64_), weight});
          llvm::Value *total = b_.CreateCall(sadd, {acc, b_.CreateExtractValue(product, 0)});
          raiseIf(b_.CreateOr(b_.CreateExtractValue(product, 1), b_.CreateExtractValue(total, 1)), KILN_ERR_BIGINT_OUT_OF_RANGE, op.loc);
          updated = b_.CreateExtractValue(total, 0);
        } else {
          llvm::Value *value = t.kind == TypeKind::Numeric ? v.value : b_.CreateSExt(v.value, i128_);
          updated = call("kiln_numeric_accumulate", {rt(), acc, value, weight, b_.getInt32(locationIndex(op.loc))});
        }
        b_.CreateStore(updated, sum_ptr);
      } else if (agg.kind == ir::AggKind::Min || agg.kind == ir::AggKind::Max) {
        llvm::Value *set_ptr = b_.CreateStructGEP(l.payload, payload, field + 1);
        llvm::Value *set = b_.CreateLoad(ptr_, set_ptr);
        // Created on first use, with the value's storage kind.
        llvm::BasicBlock *make = llvm::BasicBlock::Create(ctx_, "make.set", f);
        llvm::BasicBlock *have = llvm::BasicBlock::Create(ctx_, "have.set", f);
        llvm::BasicBlock *from = b_.GetInsertBlock();
        b_.CreateCondBr(b_.CreateIsNull(set), make, have);
        b_.SetInsertPoint(make);
        llvm::Value *made = b_.CreateCall(fn("kiln_ms_create"), {b_.getInt32(storageKind(t))});
        b_.CreateStore(made, set_ptr);
        b_.CreateBr(have);
        b_.SetInsertPoint(have);
        llvm::PHINode *the_set = b_.CreatePHI(ptr_, 2);
        the_set->addIncoming(set, from);
        the_set->addIncoming(made, make);
        llvm::Value *tmp = entryAlloca(valueType(t));
        b_.CreateStore(v.value, tmp);
        b_.CreateCall(fn("kiln_ms_add"), {the_set, tmp, weight});
      }
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    }
    b_.CreateRetVoid();
  }
  {
    llvm::Function *f = flushers_[op.id];
    beginConsumer(f);
    llvm::Value *table = stateSlot(slots_[op.id]);
    llvm::Value *dirty_list = stateSlot(slots_[op.id] + 1);
    llvm::Value *current = newRow(*l.out);
    forEachListed(dirty_list, [&](llvm::Value *entry) {
      llvm::Value *payload = b_.CreateConstGEP1_64(i8_, entry, 16);
      b_.CreateStore(b_.getInt8(0), b_.CreateStructGEP(l.payload, payload, l.dirty_field));
      llvm::Value *count = b_.CreateLoad(i64_, b_.CreateStructGEP(l.payload, payload, l.count_field));
      llvm::Value *present = global ? b_.getTrue() : b_.CreateICmpSGT(count, b_.getInt64(0));
      llvm::Value *was = b_.CreateICmpNE(b_.CreateLoad(i8_, b_.CreateStructGEP(l.payload, payload, l.old_present_field)), b_.getInt8(0));
      llvm::Value *old = b_.CreateStructGEP(l.payload, payload, l.old_field);
      aggregateOutput(op, payload, current, false);
      std::vector<int32_t> all = allColumns(l.out->types.size());
      llvm::Value *unchanged = b_.CreateAnd(b_.CreateAnd(was, present), columnsEqual(*l.out, old, all, *l.out, current, all));
      llvm::BasicBlock *changed = llvm::BasicBlock::Create(ctx_, "changed", f);
      llvm::BasicBlock *retract = llvm::BasicBlock::Create(ctx_, "retract", f);
      llvm::BasicBlock *insert_check = llvm::BasicBlock::Create(ctx_, "insert.check", f);
      llvm::BasicBlock *insert = llvm::BasicBlock::Create(ctx_, "insert", f);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx_, "after", f);
      b_.CreateCondBr(unchanged, after, changed);
      b_.SetInsertPoint(changed);
      b_.CreateCondBr(was, retract, insert_check);
      b_.SetInsertPoint(retract);
      emitToConsumers(op, old, b_.getInt64(-1));
      b_.CreateBr(insert_check);
      b_.SetInsertPoint(insert_check);
      b_.CreateCondBr(present, insert, after);
      b_.SetInsertPoint(insert);
      emitToConsumers(op, current, b_.getInt64(1));
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "next", f);
      if (!global) {
        llvm::BasicBlock *erase = llvm::BasicBlock::Create(ctx_, "erase", f);
        b_.CreateCondBr(present, next, erase);
        b_.SetInsertPoint(erase);
        freeMultisets(op, l, payload);
        b_.CreateCall(fn("kiln_ht_erase"), {table, entry});
        b_.CreateBr(next);
      } else {
        b_.CreateBr(next);
      }
      b_.SetInsertPoint(next);
    });
    b_.CreateRetVoid();
  }
}

// Frees the MIN/MAX multisets of the aggregate group at `payload` (a group of only NULLs has none).
void Generator::freeMultisets(const ir::Op &op, const AggLayout &l, llvm::Value *payload) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  for (size_t j = 0; j < op.aggregates.size(); ++j) {
    const ir::AggCall &agg = op.aggregates[j];
    if (agg.kind != ir::AggKind::Min && agg.kind != ir::AggKind::Max) continue;
    llvm::Value *set = b_.CreateLoad(ptr_, b_.CreateStructGEP(l.payload, payload, l.agg_field[j] + 1));
    llvm::BasicBlock *destroy = llvm::BasicBlock::Create(ctx_, "free.set", f);
    llvm::BasicBlock *skip = llvm::BasicBlock::Create(ctx_, "skip", f);
    b_.CreateCondBr(b_.CreateIsNull(set), skip, destroy);
    b_.SetInsertPoint(destroy);
    b_.CreateCall(fn("kiln_ms_destroy"), {set});
    b_.CreateBr(skip);
    b_.SetInsertPoint(skip);
  }
}

// A sink consolidates the changes of a tick per row and emits the non-zero ones at commit.
void Generator::defineSink(const ir::Op &op, int index) {
  defineConsolidation(op, layoutOf(ir_.find(op.inputs[0])->schema), [&](llvm::Value *row, llvm::Value *weight) {
    b_.CreateCall(fn("kiln_emit"), {rt(), b_.getInt32(index), row, weight});
  });
}

void Generator::defineConsolidate(const ir::Op &op) {
  defineConsolidation(op, layoutOf(op.schema), [&](llvm::Value *row, llvm::Value *weight) {
    emitToConsumers(op, row, weight);
  });
}

void Generator::defineConsolidation(const ir::Op &op, const RowLayout &in,
                                    const std::function<void(llvm::Value *, llvm::Value *)> &pass_on) {
  llvm::StructType *payload_type = llvm::StructType::get(ctx_, {in.type, i64_});
  std::vector<int32_t> all = allColumns(in.types.size());
  {
    llvm::Function *f = beginConsumer(consumers_[op.id][0]);
    llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
    llvm::Value *table = stateSlot(slots_[op.id]);
    llvm::Value *pending = stateSlot(slots_[op.id] + 1);
    llvm::Value *hash = hashColumns(in, row, all);
    llvm::Value *payload = findOrInsert(
        table, hash,
        [&](llvm::Value *candidate) {
          return columnsEqual(in, row, all, in, b_.CreateStructGEP(payload_type, candidate, 0), all);
        },
        [&](llvm::Value *fresh) {
          // Strings need to live only until the end of the tick, like the change itself.
          b_.CreateMemCpy(b_.CreateStructGEP(payload_type, fresh, 0), llvm::MaybeAlign(8), row,
                          llvm::MaybeAlign(8), layout_.getTypeAllocSize(in.type));
          b_.CreateCall(fn("kiln_vec_push"), {pending, b_.CreateConstGEP1_64(i8_, fresh, -16)});
        });
    llvm::Value *weight_ptr = b_.CreateStructGEP(payload_type, payload, 1);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, weight_ptr), weight), weight_ptr);
    b_.CreateRetVoid();
  }
  {
    llvm::Function *f = flushers_[op.id];
    beginConsumer(f);
    llvm::Value *table = stateSlot(slots_[op.id]);
    llvm::Value *pending = stateSlot(slots_[op.id] + 1);
    forEachListed(pending, [&](llvm::Value *entry) {
      llvm::Value *payload = b_.CreateConstGEP1_64(i8_, entry, 16);
      llvm::Value *weight = b_.CreateLoad(i64_, b_.CreateStructGEP(payload_type, payload, 1));
      llvm::BasicBlock *emit = llvm::BasicBlock::Create(ctx_, "emit", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx_, "next", f);
      b_.CreateCondBr(b_.CreateICmpNE(weight, b_.getInt64(0)), emit, next);
      b_.SetInsertPoint(emit);
      pass_on(b_.CreateStructGEP(payload_type, payload, 0), weight);
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
      b_.CreateCall(fn("kiln_ht_erase"), {table, entry});
    });
    b_.CreateRetVoid();
  }
}

void Generator::declareOperators() {
  llvm::FunctionType *consumer = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, ptr_, i64_}, false);
  llvm::FunctionType *flusher = llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false);
  for (const auto &op : ir_.ops) {
    std::string base = std::string(ir::opKindName(op->kind)) + "_" + std::to_string(op->id);
    switch (op->kind) {
    case OpKind::Source:
      break;
    case OpKind::Join:
      consumers_[op->id] = {newFunction(base + ".left", consumer), newFunction(base + ".right", consumer)};
      slots_[op->id] = slot_count_;
      slot_count_ += 4;  // the left and the right index, and their tables of distinct rows (or null)
      break;
    case OpKind::Aggregate:
    case OpKind::Distinct:
    case OpKind::Consolidate:
    case OpKind::Sink:
      consumers_[op->id] = {newFunction(base, consumer)};
      flushers_[op->id] = newFunction(base + ".flush", flusher);
      slots_[op->id] = slot_count_;
      slot_count_ += 2;  // the table and the list of entries changed in this tick
      if (op->kind == OpKind::Sink) sinks_.push_back(op.get());
      break;
    default:
      consumers_[op->id] = {newFunction(base, consumer)};
      break;
    }
  }
}

int64_t payloadSize(const llvm::DataLayout &layout, llvm::Type *type) {
  return static_cast<int64_t>(layout.getTypeAllocSize(type));
}

void Generator::defineEntryPoints() {
  // create(rt): allocate the state slots and the containers behind them.
  llvm::Function *create = llvm::Function::Create(llvm::FunctionType::get(ptr_, {ptr_}, false),
                                                  llvm::Function::InternalLinkage, "kiln.create", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", create));
  state_ = b_.CreateCall(fn("calloc"), {b_.getInt64(slot_count_), b_.getInt64(8)});
  rt_ = create->getArg(0);
  b_.CreateStore(rt_, state_);
  auto setSlot = [&](int slot, llvm::Value *value) {
    b_.CreateStore(value, b_.CreateGEP(ptr_, state_, b_.getInt64(slot)));
  };
  for (const auto &op : ir_.ops) {
    auto it = slots_.find(op->id);
    if (it == slots_.end()) continue;
    int slot = it->second;
    switch (op->kind) {
    case OpKind::Join: {
      for (int side = 0; side < 2; ++side) {
        const RowLayout &in = layoutOf(ir_.find(op->inputs[side])->schema);
        llvm::StructType *entry = llvm::StructType::get(ctx_, {in.type, i64_});
        setSlot(slot + side, b_.CreateCall(fn("kiln_ht_create"), {b_.getInt64(payloadSize(layout_, entry))}));
        if (!joinSideUniqueOnKey(*op, side))
          setSlot(slot + 2 + side, b_.CreateCall(fn("kiln_ht_create"), {b_.getInt64(8)}));
      }
      break;
    }
    case OpKind::Distinct: {
      const RowLayout &in = layoutOf(op->schema);
      llvm::StructType *payload = llvm::StructType::get(ctx_, {in.type, i64_, i64_, i8_});
      setSlot(slot, b_.CreateCall(fn("kiln_ht_create"), {b_.getInt64(payloadSize(layout_, payload))}));
      setSlot(slot + 1, b_.CreateCall(fn("kiln_vec_create"), {}));
      break;
    }
    case OpKind::Consolidate:
    case OpKind::Sink: {
      const RowLayout &in = layoutOf(ir_.find(op->inputs[0])->schema);
      llvm::StructType *payload = llvm::StructType::get(ctx_, {in.type, i64_});
      setSlot(slot, b_.CreateCall(fn("kiln_ht_create"), {b_.getInt64(payloadSize(layout_, payload))}));
      setSlot(slot + 1, b_.CreateCall(fn("kiln_vec_create"), {}));
      break;
    }
    case OpKind::Aggregate: {
      AggLayout l = aggLayout(*op);
      llvm::Value *table = b_.CreateCall(fn("kiln_ht_create"), {b_.getInt64(payloadSize(layout_, l.payload))});
      llvm::Value *dirty = b_.CreateCall(fn("kiln_vec_create"), {});
      setSlot(slot, table);
      setSlot(slot + 1, dirty);
      if (op->group_keys.empty()) {
        // A global aggregate has one row from the start (count 0, sums NULL): its group exists
        // before any input and is marked changed so the first tick emits it.
        llvm::Value *entry = b_.CreateCall(fn("kiln_ht_insert"), {table, b_.getInt64(0x9E3779B97F4A7C15ULL)});
        llvm::Value *payload = b_.CreateConstGEP1_64(i8_, entry, 16);
        b_.CreateStore(b_.getInt8(1), b_.CreateStructGEP(l.payload, payload, l.dirty_field));
        b_.CreateCall(fn("kiln_vec_push"), {dirty, entry});
      }
      break;
    }
    default:
      break;
    }
  }
  b_.CreateRet(state_);

  // push(state, source, row, weight): dispatch a source change into its pipelines.
  llvm::Function *push = llvm::Function::Create(
      llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i32_, ptr_, i64_}, false),
      llvm::Function::InternalLinkage, "kiln.push", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", push));
  state_ = push->getArg(0);
  rt_ = b_.CreateLoad(ptr_, state_);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "done", push);
  llvm::SwitchInst *dispatch = b_.CreateSwitch(push->getArg(1), done);
  for (size_t s = 0; s < sources_.size(); ++s) {
    const ir::Op *source = nullptr;
    for (const auto &op : ir_.ops)
      if (op->kind == OpKind::Source && op->name == sources_[s].name) source = op.get();
    if (!source) continue;  // no model reads this table
    llvm::BasicBlock *block = llvm::BasicBlock::Create(ctx_, "source." + sources_[s].name, push);
    dispatch->addCase(b_.getInt32(static_cast<uint32_t>(s)), block);
    b_.SetInsertPoint(block);
    emitToConsumers(*source, push->getArg(2), push->getArg(3));
    b_.CreateBr(done);
  }
  b_.SetInsertPoint(done);
  b_.CreateRetVoid();

  // commit(state): stateful operators emit their changes in topological order, then sinks.
  llvm::Function *commit = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false),
                                                  llvm::Function::InternalLinkage, "kiln.commit", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", commit));
  for (const auto &op : ir_.ops)
    if (op->kind == OpKind::Aggregate || op->kind == OpKind::Distinct || op->kind == OpKind::Consolidate)
      b_.CreateCall(flushers_[op->id], {commit->getArg(0)});
  for (const ir::Op *sink : sinks_) b_.CreateCall(flushers_[sink->id], {commit->getArg(0)});
  b_.CreateRetVoid();

  // destroy(state)
  llvm::Function *destroy = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false),
                                                   llvm::Function::InternalLinkage, "kiln.destroy", module_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", destroy));
  state_ = destroy->getArg(0);
  for (const auto &op : ir_.ops) {
    auto it = slots_.find(op->id);
    if (it == slots_.end()) continue;
    int slot = it->second;
    if (op->kind == OpKind::Aggregate &&
        std::any_of(op->aggregates.begin(), op->aggregates.end(), [](const ir::AggCall &agg) {
          return agg.kind == ir::AggKind::Min || agg.kind == ir::AggKind::Max;
        })) {
      // Free the MIN/MAX multisets of every group first.
      AggLayout l = aggLayout(*op);
      llvm::Value *table = stateSlot(slot);
      llvm::BasicBlock *before = b_.GetInsertBlock();
      llvm::BasicBlock *loop = llvm::BasicBlock::Create(ctx_, "groups", destroy);
      llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx_, "group", destroy);
      llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx_, "groups.done", destroy);
      llvm::Value *first = b_.CreateCall(fn("kiln_ht_first"), {table});
      b_.CreateBr(loop);
      b_.SetInsertPoint(loop);
      llvm::PHINode *entry = b_.CreatePHI(ptr_, 2);
      entry->addIncoming(first, before);
      b_.CreateCondBr(b_.CreateIsNull(entry), after, body);
      b_.SetInsertPoint(body);
      freeMultisets(*op, l, b_.CreateConstGEP1_64(i8_, entry, 16));
      entry->addIncoming(b_.CreateCall(fn("kiln_ht_next"), {table, entry}), b_.GetInsertBlock());
      b_.CreateBr(loop);
      b_.SetInsertPoint(after);
    }
    b_.CreateCall(fn("kiln_ht_destroy"), {stateSlot(slot)});
    if (op->kind == OpKind::Join) {
      b_.CreateCall(fn("kiln_ht_destroy"), {stateSlot(slot + 1)});  // the right index
      for (int side = 0; side < 2; ++side)
        if (!joinSideUniqueOnKey(*op, side)) b_.CreateCall(fn("kiln_ht_destroy"), {stateSlot(slot + 2 + side)});
    } else {
      b_.CreateCall(fn("kiln_vec_destroy"), {stateSlot(slot + 1)});
    }
  }
  b_.CreateCall(fn("free"), {state_});
  b_.CreateRetVoid();
}

void Generator::defineProgram() {
  llvm::StructType *column_desc = llvm::StructType::get(ctx_, {ptr_, i32_, i32_, i32_, i32_, i32_});
  llvm::StructType *relation_desc = llvm::StructType::get(ctx_, {ptr_, ptr_, i32_, ptr_, i32_, i32_, i32_, ptr_});
  auto string = [&](const std::string &text) -> llvm::Constant * {
    return b_.CreateGlobalString(text, "name", 0, &module_);
  };
  auto relation = [&](const std::string &name, const std::string &location, const ir::Schema &schema,
                      const std::vector<int32_t> &key) -> llvm::Constant * {
    const RowLayout &row = layoutOf(schema);
    const llvm::StructLayout *sl = layout_.getStructLayout(row.type);
    std::vector<llvm::Constant *> columns;
    for (size_t i = 0; i < schema.size(); ++i) {
      const ir::Type &t = schema[i].type;
      columns.push_back(llvm::ConstantStruct::get(column_desc, {
          string(schema[i].name), b_.getInt32(storageKind(t)), b_.getInt32(t.precision), b_.getInt32(t.scale),
          b_.getInt32(static_cast<uint32_t>(sl->getElementOffset(i + 1))), b_.getInt32(!schema[i].nullable)}));
    }
    auto *columns_type = llvm::ArrayType::get(column_desc, columns.size());
    auto *columns_global = new llvm::GlobalVariable(module_, columns_type, true, llvm::GlobalValue::PrivateLinkage,
                                                    llvm::ConstantArray::get(columns_type, columns), "columns");
    std::vector<llvm::Constant *> keys;
    for (int32_t k : key) keys.push_back(b_.getInt32(k));
    auto *keys_type = llvm::ArrayType::get(i32_, keys.size());
    auto *keys_global = new llvm::GlobalVariable(module_, keys_type, true, llvm::GlobalValue::PrivateLinkage,
                                                 llvm::ConstantArray::get(keys_type, keys), "keys");
    return llvm::ConstantStruct::get(relation_desc, {
        string(name), string(location), b_.getInt32(schema.size()), columns_global,
        b_.getInt32(static_cast<uint32_t>(layout_.getTypeAllocSize(row.type))),
        b_.getInt32(static_cast<uint32_t>(layout_.getABITypeAlign(row.type).value())),
        b_.getInt32(key.size()), keys_global});
  };
  std::vector<llvm::Constant *> sources, sinks, locations;
  for (const SourceTable &source : sources_) sources.push_back(relation(source.name, source.location, source.schema, source.key));
  for (const ir::Op *sink : sinks_) {
    const ir::Op &input = *ir_.find(sink->inputs[0]);
    std::string location = sink->loc.known() ? sink->loc.file + ":" + std::to_string(sink->loc.line) + ":" + std::to_string(sink->loc.column) : "";
    sinks.push_back(relation(sink->name, location, input.schema, {}));
  }
  for (const std::string &location : locations_) locations.push_back(string(location));
  auto array = [&](llvm::Type *element, std::vector<llvm::Constant *> items, const char *name) {
    auto *type = llvm::ArrayType::get(element, items.size());
    return new llvm::GlobalVariable(module_, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, items), name);
  };
  llvm::StructType *program_type = llvm::StructType::get(
      ctx_, {i32_, ptr_, i32_, ptr_, i32_, ptr_, i32_, ptr_, ptr_, ptr_, ptr_, ptr_, i64_});
  llvm::Constant *program = llvm::ConstantStruct::get(program_type, {
      b_.getInt32(KILN_ABI_VERSION), string(ir_.name),
      b_.getInt32(sources.size()), array(relation_desc, sources, "sources"),
      b_.getInt32(sinks.size()), array(relation_desc, sinks, "sinks"),
      b_.getInt32(locations.size()), array(ptr_, locations, "locations"),
      module_.getFunction("kiln.create"), module_.getFunction("kiln.push"),
      module_.getFunction("kiln.commit"), module_.getFunction("kiln.destroy"),
      b_.getInt64(options_.default_tick_size)});
  new llvm::GlobalVariable(module_, program_type, true, llvm::GlobalValue::ExternalLinkage, program,
                           "kiln_program_main");
}

bool Generator::run(std::string &error) {
  declareOperators();
  for (const auto &op : ir_.ops) {
    switch (op->kind) {
    case OpKind::Source: break;
    case OpKind::Filter: defineFilter(*op); break;
    case OpKind::Map: defineMap(*op); break;
    case OpKind::UnionAll: defineUnion(*op); break;
    case OpKind::Negate: defineNegate(*op); break;
    case OpKind::Consolidate: defineConsolidate(*op); break;
    case OpKind::Join:
      defineJoinSide(*op, 0);
      defineJoinSide(*op, 1);
      break;
    case OpKind::Distinct: defineDistinct(*op); break;
    case OpKind::Aggregate: defineAggregate(*op); break;
    case OpKind::Sink: break;
    }
  }
  int sink_index = 0;
  for (const ir::Op *sink : sinks_) defineSink(*sink, sink_index++);
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

}  // namespace

std::unique_ptr<Artifact> generate(const ir::Module &module, const std::vector<SourceTable> &sources,
                                   const Options &options, std::string &error) {
  auto impl = std::make_unique<Artifact::Impl>();
  impl->target = hostTargetMachine(error);
  if (!impl->target) return nullptr;
  impl->context = std::make_unique<llvm::LLVMContext>();
  // Start from the stdlib's bitcode so calls use exactly the signatures clang gave it.
  auto buffer = llvm::MemoryBuffer::getFile(options.stdlib_bitcode);
  if (!buffer) {
    error = "cannot read the stdlib bitcode " + options.stdlib_bitcode + ": " + buffer.getError().message();
    return nullptr;
  }
  auto stdlib = llvm::parseBitcodeFile((*buffer)->getMemBufferRef(), *impl->context);
  if (!stdlib) {
    error = "cannot parse the stdlib bitcode: " + llvm::toString(stdlib.takeError());
    return nullptr;
  }
  impl->module = std::move(*stdlib);
  impl->module->setModuleIdentifier(module.name);
  impl->module->setDataLayout(impl->target->createDataLayout());
  impl->module->setTargetTriple(impl->target->getTargetTriple().str());
  Generator generator(*impl->context, *impl->module, module, sources, options);
  if (!generator.run(error)) return nullptr;
  // The stdlib is private to this program: unused functions disappear, used ones inline. Clang
  // stamped its functions with its own target CPU and features; LLVM inlines only between
  // functions whose targets agree, so everything gets the target machine's.
  for (llvm::Function &f : *impl->module) {
    if (f.isDeclaration()) continue;
    f.setLinkage(llvm::GlobalValue::InternalLinkage);
    f.removeFnAttr("target-cpu");
    f.removeFnAttr("target-features");
    f.removeFnAttr("tune-cpu");
    f.addFnAttr("target-cpu", impl->target->getTargetCPU());
  }
  for (llvm::GlobalVariable &g : impl->module->globals())
    if (!g.isDeclaration() && g.getName() != "kiln_program_main") g.setLinkage(llvm::GlobalValue::InternalLinkage);
  (void)options.opt_level;
  return std::make_unique<Artifact>(std::move(impl));
}

std::string Artifact::llvmText() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  impl_->module->print(os, nullptr);
  return os.str();
}

void Artifact::optimize(int opt_level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(impl_->target.get());
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = opt_level <= 0   ? llvm::OptimizationLevel::O0
                                  : opt_level == 1 ? llvm::OptimizationLevel::O1
                                  : opt_level == 2 ? llvm::OptimizationLevel::O2
                                                   : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager passes;
  if (level == llvm::OptimizationLevel::O0) {
    // Still drop the stdlib functions the program does not call, so they are not compiled.
    passes = builder.buildO0DefaultPipeline(level);
    passes.addPass(llvm::GlobalDCEPass());
  } else {
    passes = builder.buildPerModuleDefaultPipeline(level);
  }
  passes.run(*impl_->module, mam);
}

bool Artifact::emitObject(const std::string &path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  llvm::legacy::PassManager passes;
  if (impl_->target->addPassesToEmitFile(passes, out, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  passes.run(*impl_->module);
  out.flush();
  return true;
}

struct JitProgram::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  const kiln_program *program = nullptr;
};

JitProgram::JitProgram(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitProgram::~JitProgram() = default;
const kiln_program *JitProgram::program() const { return impl_->program; }

std::unique_ptr<JitProgram> jitCompile(std::unique_ptr<Artifact> artifact, std::string &error) {
  initializeLLVM();
  // kiln-slt compiles a program per query and runs it on a few rows: fast instruction selection
  // (the IR is already optimized) matters far more than the speed of the machine code.
  auto target = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!target) {
    error = llvm::toString(target.takeError());
    return nullptr;
  }
  target->setCodeGenOptLevel(llvm::CodeGenOptLevel::None);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*target)).create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return nullptr;
  }
  // Runtime symbols come from the host process (kiln-slt links the runtime and exports it).
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!generator) {
    error = llvm::toString(generator.takeError());
    return nullptr;
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*generator));
  Artifact::Impl &impl = artifact->impl();
  impl.module->setDataLayout((*jit)->getDataLayout());
  if (auto err = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(impl.module), std::move(impl.context)))) {
    error = llvm::toString(std::move(err));
    return nullptr;
  }
  auto symbol = (*jit)->lookup("kiln_program_main");
  if (!symbol) {
    error = llvm::toString(symbol.takeError());
    return nullptr;
  }
  auto result = std::make_unique<JitProgram::Impl>();
  result->program = symbol->toPtr<const kiln_program *>();
  result->jit = std::move(*jit);
  return std::make_unique<JitProgram>(std::move(result));
}

}  // namespace kiln::codegen
