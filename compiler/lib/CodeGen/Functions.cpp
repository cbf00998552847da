// SQL function calls: each becomes inline LLVM (abs, round on floats) or a call of its stdlib
// function, which the stdlib's bitcode lets LLVM inline.

#include "Emitter.h"

#include <map>

namespace kiln::codegen {

using ir::TypeKind;

SqlValue Emitter::genCall(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
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
    unsupported("function " + name);
    r.value = llvm::Constant::getNullValue(valueType(e.type));
  }
  return r;
}

}  // namespace kiln::codegen
