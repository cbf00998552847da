// Row layouts and the loads and stores of SQL values in them: a row is a null bitmap of 64-bit
// words followed by one fixed-width slot per column (abi.h documents the storage of each type).

#include "Emitter.h"

namespace kiln::codegen {

using ir::TypeKind;

llvm::Type *Emitter::valueType(const ir::Type &type) {
  switch (type.kind) {
  case TypeKind::Bool:
    return i8_;
  case TypeKind::Int32:
    return i32_;
  case TypeKind::Int64:
    return i64_;
  case TypeKind::Float64:
    return f64_;
  case TypeKind::Numeric:
  case TypeKind::Interval:
    return i128_;
  case TypeKind::Text:
  case TypeKind::Jsonb:
  case TypeKind::Array:
    return str_;
  case TypeKind::Date:
    return i32_;
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
    return i64_;
  case TypeKind::Null:
    return i8_;
  }
  return i8_;
}

int32_t Emitter::storageKind(const ir::Type &type) {
  switch (type.kind) {
  case TypeKind::Bool:
    return KILN_T_BOOL;
  case TypeKind::Int32:
    return KILN_T_INT32;
  case TypeKind::Int64:
    return KILN_T_INT64;
  case TypeKind::Float64:
    return KILN_T_FLOAT64;
  case TypeKind::Numeric:
    return KILN_T_NUMERIC;
  case TypeKind::Text:
    return KILN_T_TEXT;
  case TypeKind::Date:
    return KILN_T_DATE;
  case TypeKind::Timestamp:
    return KILN_T_TIMESTAMP;
  case TypeKind::TimestampTz:
    return KILN_T_TIMESTAMPTZ;
  case TypeKind::Jsonb:
    return KILN_T_JSONB;
  case TypeKind::Interval:
    return KILN_T_INTERVAL;
  case TypeKind::Array:
    return KILN_T_ARRAY;
  case TypeKind::Null:
    break;
  }
  return KILN_T_BOOL;
}

const RowLayout &Emitter::layoutOf(const std::vector<ir::Type> &types) {
  std::string key;
  for (const ir::Type &t : types)
    key += t.str() + ",";
  auto it = layouts_.find(key);
  if (it != layouts_.end())
    return it->second;
  RowLayout layout;
  layout.types = types;
  layout.null_words = std::max<unsigned>(1, (types.size() + 63) / 64);
  llvm::Type *nulls = llvm::ArrayType::get(i64_, layout.null_words);
  // Candidate orders of the columns: as declared, or by alignment, so that 16-byte NUMERICs
  // need no padding: one 8-byte slot to fill the null words up to 16 bytes, then the 16-byte
  // aligned slots, then the other 8-, 4-, 2- and 1-byte aligned ones. The smallest row wins; a
  // tie keeps the declared order.
  auto alignOf = [&](unsigned c) { return layout_.getABITypeAlign(valueType(types[c])).value(); };
  auto sizeOf = [&](unsigned c) {
    return layout_.getTypeAllocSize(valueType(types[c])).getFixedValue();
  };
  std::vector<unsigned> declared(types.size()), packed;
  std::vector<bool> placed(types.size(), false);
  for (unsigned c = 0; c < types.size(); ++c)
    declared[c] = c;
  if (layout.null_words % 2 == 1) {
    for (unsigned c = 0; c < types.size(); ++c) {
      if (alignOf(c) == 8 && sizeOf(c) == 8) {
        packed.push_back(c);
        placed[c] = true;
        break;
      }
    }
  }
  for (uint64_t align : {16, 8, 4, 2, 1})
    for (unsigned c = 0; c < types.size(); ++c)
      if (!placed[c] && alignOf(c) == align) {
        packed.push_back(c);
        placed[c] = true;
      }
  auto build = [&](const std::vector<unsigned> &order) {
    std::vector<llvm::Type *> fields{nulls};
    for (unsigned c : order)
      fields.push_back(valueType(types[c]));
    return llvm::StructType::get(ctx_, fields);
  };
  std::vector<unsigned> order = declared;
  layout.type = build(declared);
  if (packed.size() == types.size()) {
    llvm::StructType *tighter = build(packed);
    if (layout_.getTypeAllocSize(tighter) < layout_.getTypeAllocSize(layout.type)) {
      layout.type = tighter;
      order = packed;
    }
  }
  layout.field_of.resize(types.size());
  for (unsigned f = 0; f < order.size(); ++f)
    layout.field_of[order[f]] = f + 1;
  return layouts_.emplace(key, layout).first->second;
}

const RowLayout &Emitter::layoutOf(const ir::Schema &schema) {
  std::vector<ir::Type> types;
  for (const ir::Column &c : schema)
    types.push_back(c.type);
  return layoutOf(types);
}

llvm::Value *Emitter::columnPtr(const RowLayout &row_layout, llvm::Value *row, int column) {
  return b_.CreateStructGEP(row_layout.type, row, row_layout.field_of[column]);
}

llvm::Value *Emitter::nullWordPtr(const RowLayout &row_layout, llvm::Value *row, int column) {
  return b_.CreateGEP(row_layout.type, row,
                      {b_.getInt32(0), b_.getInt32(0), b_.getInt32(column / 64)});
}

llvm::Value *Emitter::loadNull(const RowLayout &row_layout, llvm::Value *row, int column) {
  llvm::Value *word = b_.CreateLoad(i64_, nullWordPtr(row_layout, row, column));
  llvm::Value *bit = b_.CreateAnd(word, b_.getInt64(uint64_t(1) << (column % 64)));
  return b_.CreateICmpNE(bit, b_.getInt64(0));
}

SqlValue Emitter::loadColumn(const RowLayout &row_layout, llvm::Value *row, int column,
                             bool nullable) {
  SqlValue v;
  v.value = b_.CreateLoad(valueType(row_layout.types[column]), columnPtr(row_layout, row, column));
  v.null = nullable ? loadNull(row_layout, row, column) : b_.getFalse();
  return v;
}

// Assumes the row's null words start zeroed or the bit is being overwritten for this column.
void Emitter::storeColumn(const RowLayout &row_layout, llvm::Value *row, int column, SqlValue v) {
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

llvm::Value *Emitter::newRow(const RowLayout &row_layout) {
  llvm::IRBuilder<> entry(&b_.GetInsertBlock()->getParent()->getEntryBlock(),
                          b_.GetInsertBlock()->getParent()->getEntryBlock().begin());
  llvm::AllocaInst *row = entry.CreateAlloca(row_layout.type);
  row->setAlignment(llvm::Align(16)); // NUMERIC (i128) slots want 16; memsets claim only 8
  b_.CreateMemSet(row, b_.getInt8(0), layout_.getTypeAllocSize(row_layout.type),
                  llvm::MaybeAlign(8));
  return row;
}

llvm::Value *Emitter::entryAlloca(llvm::Type *type) {
  llvm::IRBuilder<> entry(&b_.GetInsertBlock()->getParent()->getEntryBlock(),
                          b_.GetInsertBlock()->getParent()->getEntryBlock().begin());
  return entry.CreateAlloca(type);
}

void Emitter::copyColumn(const RowLayout &from, llvm::Value *src, int i, const RowLayout &to,
                         llvm::Value *dst, int j, bool intern) {
  SqlValue v = loadColumn(from, src, i);
  if (intern && from.types[i].isString())
    v.value = internText(v.value);
  storeColumn(to, dst, j, v);
}

llvm::Value *Emitter::internText(llvm::Value *text) {
  llvm::Value *p = b_.CreateExtractValue(text, 0), *n = b_.CreateExtractValue(text, 1);
  return b_.CreateCall(fn("kiln_intern"), {rt(), p, n});
}

llvm::Value *Emitter::constantText(const std::string &text) {
  llvm::Constant *data = b_.CreateGlobalString(text, "str", 0, &module_);
  return llvm::ConstantStruct::get(str_, {data, b_.getInt64(text.size())});
}

llvm::Value *Emitter::literal(const ir::Value &v, const ir::Type &type) {
  switch (type.kind) {
  case TypeKind::Bool:
    return b_.getInt8(v.b);
  case TypeKind::Int32:
  case TypeKind::Date:
    return b_.getInt32(static_cast<uint32_t>(v.i));
  case TypeKind::Int64:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
    return b_.getInt64(static_cast<uint64_t>(v.i));
  case TypeKind::Float64:
    return llvm::ConstantFP::get(f64_, v.f);
  case TypeKind::Numeric:
  case TypeKind::Interval: {
    uint64_t words[2] = {static_cast<uint64_t>(v.n),
                         static_cast<uint64_t>(static_cast<unsigned __int128>(v.n) >> 64)};
    return llvm::ConstantInt::get(ctx_, llvm::APInt(128, words));
  }
  case TypeKind::Text:
  case TypeKind::Jsonb:
  case TypeKind::Array:
    return constantText(v.s);
  case TypeKind::Null:
    return b_.getInt8(0);
  }
  return nullptr;
}

int64_t Emitter::allocSize(llvm::Type *type) const {
  return static_cast<int64_t>(layout_.getTypeAllocSize(type));
}

std::vector<int32_t> Emitter::allColumns(size_t n) {
  std::vector<int32_t> columns(n);
  for (size_t i = 0; i < n; ++i)
    columns[i] = static_cast<int32_t>(i);
  return columns;
}

} // namespace kiln::codegen
