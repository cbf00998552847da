// Declarations of the runtime calls generated code makes, expanded from the table that also
// gives abi.h its prototypes (kiln/runtime/calls.def), and calls of stdlib functions with the
// signatures clang gave them in the stdlib's bitcode.

#include "Emitter.h"

#include <array>
#include <string_view>
#include <type_traits>

namespace kiln::codegen {

namespace {

// The IR type codes of calls.def.
enum class IrType { Void, Ptr, I64, I32, Str };

// The code a C type has in calls.def, so that the table's two signatures cannot disagree.
template <typename T> constexpr IrType irTypeOf() {
  if constexpr (std::is_void_v<T>)
    return IrType::Void;
  else if constexpr (std::is_pointer_v<T>)
    return IrType::Ptr;
  else if constexpr (std::is_same_v<T, kiln_str>)
    return IrType::Str;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 8)
    return IrType::I64;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4)
    return IrType::I32;
  else
    static_assert(sizeof(T) == 0, "calls.def uses a C type with no IR code");
}

// calls.def's type codes, by the names the table uses.
constexpr IrType Void = IrType::Void, Ptr = IrType::Ptr, I64 = IrType::I64, I32 = IrType::I32,
                 Str = IrType::Str;

constexpr auto irParams(auto... codes) { return std::array<IrType, sizeof...(codes)>{codes...}; }

template <typename Result, typename... Params, size_t N>
constexpr bool signatureMatches(Result (*)(Params...), IrType result,
                                std::array<IrType, N> params) {
  if constexpr (N != sizeof...(Params)) {
    return false;
  } else {
    std::array<IrType, N> expected{irTypeOf<Params>()...};
    return irTypeOf<Result>() == result && expected == params;
  }
}

#define KILN_RUNTIME_CALL(name, c_result, c_params, attributes, ir_result, ir_params)              \
  static_assert(signatureMatches(&name, ir_result, irParams ir_params),                            \
                "calls.def: the IR signature of " #name " disagrees with its C prototype");
#include "kiln/runtime/calls.def"

struct CallSignature {
  IrType result;
  std::vector<IrType> params;
  bool noreturn = false;
};

const std::map<std::string, CallSignature> &runtimeCalls() {
  static const std::map<std::string, CallSignature> calls = [] {
    std::map<std::string, CallSignature> table;
#define KILN_RUNTIME_CALL(name, c_result, c_params, attributes, ir_result, ir_params)              \
  {                                                                                                \
    auto params = irParams ir_params;                                                              \
    table[#name] = {ir_result, std::vector<IrType>(params.begin(), params.end()),                  \
                    std::string_view(#attributes) == "KILN_NORETURN"};                             \
  }
#include "kiln/runtime/calls.def"
    // The C library's allocator, for the state array.
    table["calloc"] = {Ptr, {I64, I64}};
    table["free"] = {Void, {Ptr}};
    return table;
  }();
  return calls;
}

} // namespace

llvm::Function *Emitter::fn(const std::string &name) {
  if (llvm::Function *f = module_.getFunction(name))
    return f;
  // Not in the module: a runtime call (the stdlib's functions come with its bitcode).
  auto it = runtimeCalls().find(name);
  if (it == runtimeCalls().end()) {
    unsupported(name);
    // Declare something callable so generation can finish; run() reports the error.
    return llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {}, false),
                                  llvm::Function::ExternalLinkage, name, module_);
  }
  auto type = [&](IrType code) -> llvm::Type * {
    switch (code) {
    case IrType::Void:
      return b_.getVoidTy();
    case IrType::Ptr:
      return ptr_;
    case IrType::I64:
      return i64_;
    case IrType::I32:
      return i32_;
    case IrType::Str:
      return str_;
    }
    return nullptr;
  };
  std::vector<llvm::Type *> params;
  for (IrType p : it->second.params)
    params.push_back(type(p));
  llvm::Function *f =
      llvm::Function::Create(llvm::FunctionType::get(type(it->second.result), params, false),
                             llvm::Function::ExternalLinkage, name, module_);
  if (it->second.noreturn) {
    f->setDoesNotReturn();
    f->addFnAttr(llvm::Attribute::Cold);
  }
  return f;
}

// The x86-64 C ABI passes an __int128 as two i64 halves and returns it as { i64, i64 }; integer
// widths may differ too.
llvm::Value *Emitter::call(const std::string &name, std::vector<llvm::Value *> args) {
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
      pair && pair->getNumElements() == 2 && pair->getElementType(0) == i64_ &&
      pair->getElementType(1) == i64_) {
    llvm::Value *lo = b_.CreateZExt(b_.CreateExtractValue(result, 0), i128_);
    llvm::Value *hi = b_.CreateZExt(b_.CreateExtractValue(result, 1), i128_);
    result = b_.CreateOr(lo, b_.CreateShl(hi, 64));
  }
  return result;
}

llvm::Function *Emitter::newFunction(const std::string &name, llvm::FunctionType *type) {
  return llvm::Function::Create(type, llvm::Function::InternalLinkage, name, module_);
}

llvm::Value *Emitter::payloadOf(llvm::Value *entry) {
  return b_.CreateConstGEP1_64(i8_, entry, KILN_ENTRY_PAYLOAD_OFFSET);
}

llvm::Value *Emitter::entryOf(llvm::Value *payload) {
  return b_.CreateConstGEP1_64(i8_, payload, -KILN_ENTRY_PAYLOAD_OFFSET);
}

void Emitter::destroyMultiset(llvm::Value *set) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *destroy = llvm::BasicBlock::Create(ctx_, "free.set", f);
  llvm::BasicBlock *skip = llvm::BasicBlock::Create(ctx_, "skip", f);
  b_.CreateCondBr(b_.CreateIsNull(set), skip, destroy);
  b_.SetInsertPoint(destroy);
  b_.CreateCall(fn("kiln_ms_destroy"), {set});
  b_.CreateBr(skip);
  b_.SetInsertPoint(skip);
}

} // namespace kiln::codegen
