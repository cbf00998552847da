// Scalar expressions: each IR expression becomes straight-line code over SQL values (a value and
// a NULL flag), with PostgreSQL's three-valued logic, overflow checks and runtime errors. SQL
// function calls are in Functions.cpp.

#include "Emitter.h"

namespace kiln::codegen {

using ir::ExprOp;
using ir::TypeKind;

int32_t Emitter::locationIndex(const ir::Location &loc) {
  std::string text = loc.known() ? loc.str() : "<unknown location>";
  auto it = location_index_.find(text);
  if (it != location_index_.end())
    return it->second;
  int32_t index = static_cast<int32_t>(locations_.size());
  locations_.push_back(text);
  location_index_[text] = index;
  return index;
}

void Emitter::raiseIf(llvm::Value *condition, kiln_error_code code, const ir::Location &loc) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *raise = llvm::BasicBlock::Create(ctx_, "raise", f);
  llvm::BasicBlock *cont = llvm::BasicBlock::Create(ctx_, "ok", f);
  b_.CreateCondBr(condition, raise, cont);
  b_.SetInsertPoint(raise);
  b_.CreateCall(fn("kiln_raise"), {rt(), b_.getInt32(code), b_.getInt32(locationIndex(loc))});
  b_.CreateUnreachable();
  b_.SetInsertPoint(cont);
}

llvm::Value *Emitter::textOut(const std::string &function, std::vector<llvm::Value *> args) {
  llvm::Value *out = entryAlloca(str_);
  args.push_back(out);
  call(function, args);
  return b_.CreateLoad(str_, out);
}

llvm::Value *Emitter::genCompare(ExprOp op, llvm::Value *a, const ir::Type &ta, llvm::Value *b,
                                 const ir::Type &tb) {
  llvm::Value *cmp = nullptr; // an i32 three-way result, or null for direct integer compares
  switch (ta.kind) {
  case TypeKind::Float64:
    cmp = call("kiln_f64_cmp", {a, b});
    break;
  case TypeKind::Numeric:
    if (ta.scale != tb.scale)
      cmp = call("kiln_numeric_cmp", {a, b_.getInt32(ta.scale), b, b_.getInt32(tb.scale)});
    break;
  case TypeKind::Interval:
    cmp = call("kiln_interval_cmp", {a, b});
    break;
  case TypeKind::Jsonb: // numbers by value: 1.0 = 1, as PostgreSQL's jsonb
    cmp = call("kiln_jsonb_cmp", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                  b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
    break;
  case TypeKind::Array:
    // Equal texts are equal arrays; elements with one text per value (integers, text, dates,
    // timestamps, booleans) are equal only then. Other comparisons go element by element.
    if ((op == ExprOp::Eq || op == ExprOp::Ne || op == ExprOp::IsDistinctFrom ||
         op == ExprOp::IsNotDistinctFrom) &&
        ta.hasOneTextPerValue() && ta == tb) {
      cmp = call("kiln_text_cmp", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                   b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
      break;
    }
    cmp = call("kiln_array_cmp", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                  b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1),
                                  b_.getInt32(storageKind(ta.elementType())),
                                  b_.getInt32(ta.precision), b_.getInt32(ta.scale)});
    break;
  case TypeKind::Text:
    cmp = call("kiln_text_cmp", {b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                 b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
    break;
  default:
    break;
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
  case ExprOp::IsNotDistinctFrom:
    return b_.CreateICmpEQ(x, y);
  case ExprOp::Ne:
  case ExprOp::IsDistinctFrom:
    return b_.CreateICmpNE(x, y);
  case ExprOp::Lt:
    return is_signed ? b_.CreateICmpSLT(x, y) : b_.CreateICmpULT(x, y);
  case ExprOp::Le:
    return is_signed ? b_.CreateICmpSLE(x, y) : b_.CreateICmpULE(x, y);
  case ExprOp::Gt:
    return is_signed ? b_.CreateICmpSGT(x, y) : b_.CreateICmpUGT(x, y);
  case ExprOp::Ge:
    return is_signed ? b_.CreateICmpSGE(x, y) : b_.CreateICmpUGE(x, y);
  default:
    return b_.getFalse();
  }
}

llvm::Value *Emitter::genArithmetic(const ir::Expr &e, ExprOp op, llvm::Value *a,
                                    const ir::Type &ta, llvm::Value *b, const ir::Type &tb) {
  const ir::Type &result = e.type;
  int32_t loc = locationIndex(e.loc);
  if (result.kind == TypeKind::Interval) {
    // timestamp - timestamp, interval +/- interval, interval * or / double precision.
    if (ta.isTimestamp())
      return call("kiln_interval_diff", {a, b});
    if (op == ExprOp::Add || op == ExprOp::Sub)
      return call("kiln_interval_add",
                  {rt(), a, b, b_.getInt32(op == ExprOp::Add ? 1 : -1), b_.getInt32(loc)});
    return call(op == ExprOp::Mul ? "kiln_interval_mul" : "kiln_interval_div",
                {rt(), a, b, b_.getInt32(loc)});
  }
  if (result.kind == TypeKind::Numeric) {
    const char *name = op == ExprOp::Add   ? "kiln_numeric_add"
                       : op == ExprOp::Sub ? "kiln_numeric_sub"
                       : op == ExprOp::Mul ? "kiln_numeric_mul"
                       : op == ExprOp::Div ? "kiln_numeric_div"
                                           : "kiln_numeric_mod";
    return call(name, {rt(), a, b_.getInt32(ta.scale), b, b_.getInt32(tb.scale),
                       b_.getInt32(result.scale), b_.getInt32(loc)});
  }
  if (result.kind == TypeKind::Float64) {
    llvm::Value *r = nullptr;
    switch (op) {
    case ExprOp::Add:
      r = b_.CreateFAdd(a, b);
      break;
    case ExprOp::Sub:
      r = b_.CreateFSub(a, b);
      break;
    case ExprOp::Mul:
      r = b_.CreateFMul(a, b);
      break;
    case ExprOp::Div:
      raiseIf(b_.CreateFCmpOEQ(b, llvm::ConstantFP::get(f64_, 0.0)), KILN_ERR_DIVISION_BY_ZERO,
              e.loc);
      r = b_.CreateFDiv(a, b);
      break;
    default:
      r = b_.CreateFRem(a, b);
      break;
    }
    // real op real: the exact double result rounded once to float is float arithmetic's, and
    // the rounding reports the overflow (a double of floats cannot overflow).
    if (result.isReal())
      return call("kiln_f64_to_real", {rt(), r, b_.getInt32(loc)});
    // PostgreSQL reports overflow to infinity instead of returning it.
    llvm::Function *fabs = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::fabs, {f64_});
    llvm::Value *inf = llvm::ConstantFP::getInfinity(f64_);
    llvm::Value *r_inf = b_.CreateFCmpOEQ(b_.CreateCall(fabs, {r}), inf);
    llvm::Value *a_inf = b_.CreateFCmpOEQ(b_.CreateCall(fabs, {a}), inf);
    llvm::Value *b_inf = b_.CreateFCmpOEQ(b_.CreateCall(fabs, {b}), inf);
    raiseIf(b_.CreateAnd(r_inf, b_.CreateNot(b_.CreateOr(a_inf, b_inf))),
            KILN_ERR_FLOAT_OUT_OF_RANGE, e.loc);
    return r;
  }
  if (result.kind == TypeKind::Date) { // date +/- integer days
    llvm::Value *r = op == ExprOp::Add ? b_.CreateAdd(a, b) : b_.CreateSub(a, b);
    return r;
  }
  if (ta.kind == TypeKind::Date)
    return b_.CreateSub(a, b); // date - date -> days
  // Integers: overflow and division by zero are errors, as in PostgreSQL.
  llvm::Type *type = a->getType();
  kiln_error_code overflow =
      result.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE : KILN_ERR_BIGINT_OUT_OF_RANGE;
  auto checked = [&](llvm::Intrinsic::ID id) {
    llvm::Function *f = llvm::Intrinsic::getDeclaration(&module_, id, {type});
    llvm::Value *pair = b_.CreateCall(f, {a, b});
    raiseIf(b_.CreateExtractValue(pair, 1), overflow, e.loc);
    return b_.CreateExtractValue(pair, 0);
  };
  // Computed in the integer's width; a smallint in 32 bits, where it cannot overflow, and then
  // checked against smallint's range.
  auto integer = [&]() -> llvm::Value * {
    switch (op) {
    case ExprOp::Add:
      return checked(llvm::Intrinsic::sadd_with_overflow);
    case ExprOp::Sub:
      return checked(llvm::Intrinsic::ssub_with_overflow);
    case ExprOp::Mul:
      return checked(llvm::Intrinsic::smul_with_overflow);
    case ExprOp::Div:
    case ExprOp::Mod: {
      raiseIf(b_.CreateICmpEQ(b, llvm::ConstantInt::get(type, 0)), KILN_ERR_DIVISION_BY_ZERO,
              e.loc);
      llvm::Value *min =
          llvm::ConstantInt::get(type, llvm::APInt::getSignedMinValue(type->getIntegerBitWidth()));
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
    default:
      return a;
    }
  };
  llvm::Value *value = integer();
  return result.isSmallint() ? smallintInRange(value, e.loc) : value;
}

llvm::Value *Emitter::smallintInRange(llvm::Value *value, const ir::Location &loc) {
  raiseIf(b_.CreateOr(b_.CreateICmpSLT(value, b_.getInt32(INT16_MIN)),
                      b_.CreateICmpSGT(value, b_.getInt32(INT16_MAX))),
          KILN_ERR_SMALLINT_OUT_OF_RANGE, loc);
  return value;
}

SqlValue Emitter::genCast(const ir::Expr &e, SqlValue v, const ir::Type &from) {
  const ir::Type &to = e.type;
  int32_t loc = locationIndex(e.loc);
  llvm::Value *x = v.value;
  SqlValue r{nullptr, v.null};
  auto intRange = [&](const ir::Type &t, int64_t &lo, int64_t &hi, kiln_error_code &code) {
    lo = t.isSmallint() ? INT16_MIN : t.kind == TypeKind::Int32 ? INT32_MIN : INT64_MIN;
    hi = t.isSmallint() ? INT16_MAX : t.kind == TypeKind::Int32 ? INT32_MAX : INT64_MAX;
    code = t.isSmallint()              ? KILN_ERR_SMALLINT_OUT_OF_RANGE
           : t.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE
                                       : KILN_ERR_BIGINT_OUT_OF_RANGE;
  };
  // A jsonb number or boolean casts as its text does, once it is known to be one; to an integer
  // through numeric, which rounds (PostgreSQL's numeric_int4, where text to integer would fail).
  if (from.kind == TypeKind::Jsonb && to.kind != TypeKind::Text) {
    llvm::Value *p = b_.CreateExtractValue(x, 0), *n = b_.CreateExtractValue(x, 1);
    call("kiln_jsonb_expect",
         {rt(), p, n, b_.getInt32(to.kind == TypeKind::Bool ? 1 : 0), b_.getInt32(loc)});
    if (!to.isInteger())
      return genCast(e, v, ir::Type::text());
    ir::Type whole = ir::Type::numeric(ir::kMaxNumericPrecision, 0);
    llvm::Value *rounded =
        call("kiln_text_to_numeric",
             {rt(), p, n, b_.getInt32(0), b_.getInt32(whole.precision), b_.getInt32(loc)});
    return genCast(e, {rounded, v.null}, whole);
  }
  // Text output of any type.
  if (to.kind == TypeKind::Text) {
    switch (from.kind) {
    case TypeKind::Int32:
      r.value = textOut("kiln_text_from_i64", {rt(), b_.CreateSExt(x, i64_)});
      break;
    case TypeKind::Int64:
      r.value = textOut("kiln_text_from_i64", {rt(), x});
      break;
    case TypeKind::Float64:
      r.value = textOut(from.isReal() ? "kiln_text_from_real" : "kiln_text_from_f64", {rt(), x});
      break;
    case TypeKind::Numeric:
      r.value = textOut("kiln_text_from_numeric", {rt(), x, b_.getInt32(from.scale)});
      break;
    case TypeKind::Bool:
      r.value = textOut("kiln_text_from_bool", {rt(), b_.CreateZExt(x, i32_)});
      break;
    case TypeKind::Date:
      r.value = textOut("kiln_text_from_date", {rt(), x});
      break;
    case TypeKind::Timestamp:
      r.value = textOut("kiln_text_from_timestamp", {rt(), x});
      break;
    case TypeKind::TimestampTz:
      r.value = textOut("kiln_text_from_timestamptz", {rt(), x, sessionZone()});
      break;
    case TypeKind::Interval:
      r.value = textOut("kiln_text_from_interval", {rt(), x});
      break;
    default:
      r.value = x;
      break;
    }
    return r;
  }
  // An array to another: its text read as the new array type (the binder allows it where that is
  // the elements' cast).
  if (from.kind == TypeKind::Text || (from.isArray() && to.isArray())) {
    llvm::Value *p = b_.CreateExtractValue(x, 0), *n = b_.CreateExtractValue(x, 1);
    int64_t lo, hi;
    kiln_error_code code;
    switch (to.kind) {
    case TypeKind::Int32:
    case TypeKind::Int64:
      intRange(to, lo, hi, code);
      r.value =
          b_.CreateTrunc(call("kiln_text_to_int", {rt(), p, n, b_.getInt64(lo), b_.getInt64(hi),
                                                   b_.getInt32(code), b_.getInt32(loc)}),
                         valueType(to));
      break;
    case TypeKind::Float64:
      r.value = call(to.isReal() ? "kiln_text_to_real" : "kiln_text_to_f64",
                     {rt(), p, n, b_.getInt32(loc)});
      break;
    case TypeKind::Numeric:
      r.value = call("kiln_text_to_numeric", {rt(), p, n, b_.getInt32(to.scale),
                                              b_.getInt32(to.precision), b_.getInt32(loc)});
      break;
    case TypeKind::Bool:
      r.value = b_.CreateTrunc(call("kiln_text_to_bool", {rt(), p, n, b_.getInt32(loc)}), i8_);
      break;
    case TypeKind::Date:
      r.value = call("kiln_text_to_date", {rt(), p, n, b_.getInt32(loc)});
      break;
    case TypeKind::Timestamp:
      r.value = call("kiln_text_to_timestamp", {rt(), p, n, b_.getInt32(loc)});
      break;
    case TypeKind::TimestampTz:
      r.value = call("kiln_text_to_timestamptz", {rt(), p, n, sessionZone(), b_.getInt32(loc)});
      break;
    case TypeKind::Jsonb:
      r.value = textOut("kiln_jsonb_in", {rt(), p, n, b_.getInt32(loc)});
      break;
    case TypeKind::Interval:
      r.value = call("kiln_text_to_interval", {rt(), p, n, b_.getInt32(loc)});
      break;
    case TypeKind::Array: {
      ir::Type element = to.elementType();
      r.value = textOut("kiln_array_in", {rt(), p, n, b_.getInt32(storageKind(element)),
                                          b_.getInt32(element.precision),
                                          b_.getInt32(element.scale), b_.getInt32(loc)});
      break;
    }
    default:
      r.value = x;
      break;
    }
    return r;
  }
  switch (to.kind) {
  case TypeKind::Int32:
  case TypeKind::Int64: {
    int64_t lo, hi;
    kiln_error_code code;
    intRange(to, lo, hi, code);
    if (from.kind == TypeKind::Bool) {
      r.value = b_.CreateZExt(x, valueType(to));
    } else if (from.kind == TypeKind::Int32 && to.kind == TypeKind::Int32) {
      // smallint <-> integer, both kept in 32 bits: integer -> smallint checks the range.
      r.value = to.isSmallint() ? unlessNull(v.null, i32_, "to.smallint",
                                             [&] { return smallintInRange(x, e.loc); })
                                : x;
    } else if (from.isInteger()) {
      if (from.kind == TypeKind::Int32) {
        r.value = b_.CreateSExt(x, i64_);
      } else { // bigint -> integer
        raiseIf(
            b_.CreateOr(b_.CreateICmpSLT(x, b_.getInt64(lo)), b_.CreateICmpSGT(x, b_.getInt64(hi))),
            code, e.loc);
        r.value = b_.CreateTrunc(x, i32_);
      }
    } else if (from.kind == TypeKind::Numeric) {
      r.value = b_.CreateTrunc(
          call("kiln_numeric_to_int", {rt(), x, b_.getInt32(from.scale), b_.getInt64(lo),
                                       b_.getInt64(hi), b_.getInt32(code), b_.getInt32(loc)}),
          valueType(to));
    } else if (from.kind == TypeKind::Float64) {
      r.value = b_.CreateTrunc(call("kiln_f64_to_int", {rt(), x, b_.getInt64(lo), b_.getInt64(hi),
                                                        b_.getInt32(code), b_.getInt32(loc)}),
                               valueType(to));
    }
    return r;
  }
  case TypeKind::Numeric:
    if (from.isInteger()) {
      llvm::Value *wide = b_.CreateSExt(x, i128_);
      r.value = call("kiln_numeric_rescale", {rt(), wide, b_.getInt32(0), b_.getInt32(to.scale),
                                              b_.getInt32(to.precision), b_.getInt32(loc)});
    } else if (from.kind == TypeKind::Numeric) {
      r.value =
          call("kiln_numeric_rescale", {rt(), x, b_.getInt32(from.scale), b_.getInt32(to.scale),
                                        b_.getInt32(to.precision), b_.getInt32(loc)});
    } else if (from.kind == TypeKind::Float64) {
      r.value = call(from.isReal() ? "kiln_real_to_numeric" : "kiln_f64_to_numeric",
                     {rt(), x, b_.getInt32(to.scale), b_.getInt32(to.precision), b_.getInt32(loc)});
    }
    return r;
  case TypeKind::Float64:
    if (to.isReal()) { // rounded once to float; from a double, with float's range errors
      if (from.isInteger())
        r.value = b_.CreateFPExt(b_.CreateSIToFP(x, b_.getFloatTy()), f64_);
      else if (from.kind == TypeKind::Numeric)
        r.value = unlessNull(v.null, f64_, "to.real", [&] {
          return call("kiln_numeric_to_real", {rt(), x, b_.getInt32(from.scale), b_.getInt32(loc)});
        });
      else if (from.kind == TypeKind::Float64)
        r.value = unlessNull(v.null, f64_, "to.real",
                             [&] { return call("kiln_f64_to_real", {rt(), x, b_.getInt32(loc)}); });
      return r;
    }
    if (from.isInteger())
      r.value = b_.CreateSIToFP(x, f64_);
    else if (from.kind == TypeKind::Numeric)
      r.value = call("kiln_numeric_to_f64", {x, b_.getInt32(from.scale)});
    else if (from.kind == TypeKind::Float64) // real -> double precision: the same value
      r.value = x;
    return r;
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
    // From a date: its midnight. A timestamptz meets a timestamp or a date on the session
    // zone's clock; in UTC the value stays.
    r.value = from.kind == TypeKind::Date
                  ? b_.CreateMul(b_.CreateSExt(x, i64_), b_.getInt64(86400000000LL))
                  : x;
    if (zoned() && to.kind == TypeKind::TimestampTz && from.kind != TypeKind::TimestampTz)
      r.value = call("kiln_instant_of_local", {sessionZone(), r.value});
    else if (zoned() && to.kind == TypeKind::Timestamp && from.kind == TypeKind::TimestampTz)
      r.value = call("kiln_local_time", {sessionZone(), r.value});
    return r;
  case TypeKind::Date: { // from a timestamp: floor division by a day
    if (zoned() && from.kind == TypeKind::TimestampTz)
      x = call("kiln_local_time", {sessionZone(), x});
    llvm::Value *day = b_.getInt64(86400000000LL);
    llvm::Value *q = b_.CreateSDiv(x, day);
    llvm::Value *adjust = b_.CreateAnd(b_.CreateICmpSLT(x, b_.getInt64(0)),
                                       b_.CreateICmpNE(b_.CreateSRem(x, day), b_.getInt64(0)));
    q = b_.CreateSub(q, b_.CreateZExt(adjust, i64_));
    r.value = b_.CreateTrunc(q, i32_);
    return r;
  }
  case TypeKind::Bool: // from integer
    r.value = b_.CreateZExt(b_.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0)), i8_);
    return r;
  default:
    r.value = x;
    return r;
  }
}

SqlValue Emitter::genLogic(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
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
    llvm::Value *decisive =
        b_.CreateAnd(b_.CreateNot(v.null), is_and ? b_.CreateNot(truth) : truth);
    saw_null = b_.CreateOr(saw_null, v.null);
    if (i + 1 == e.args.size()) {
      exits.push_back(
          {b_.GetInsertBlock(),
           {b_.CreateSelect(decisive, b_.getInt8(!is_and ? 1 : 0), b_.getInt8(is_and ? 1 : 0)),
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
  return mergeExits(i8_, exits);
}

SqlValue Emitter::mergeExits(llvm::Type *type,
                             const std::vector<std::pair<llvm::BasicBlock *, SqlValue>> &exits) {
  llvm::PHINode *value = b_.CreatePHI(type, exits.size());
  llvm::PHINode *null = b_.CreatePHI(i1_, exits.size());
  for (const auto &[block, v] : exits) {
    value->addIncoming(v.value, block);
    null->addIncoming(v.null, block);
  }
  return {value, null};
}

llvm::Value *Emitter::unlessNull(llvm::Value *null, llvm::Type *type, const char *name,
                                 const std::function<llvm::Value *()> &compute) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *compute_block = llvm::BasicBlock::Create(ctx_, name, f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, std::string(name) + ".done", f);
  llvm::BasicBlock *from = b_.GetInsertBlock();
  b_.CreateCondBr(null, done, compute_block);
  b_.SetInsertPoint(compute_block);
  llvm::Value *v = compute();
  llvm::BasicBlock *computed = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  llvm::PHINode *phi = b_.CreatePHI(type, 2);
  phi->addIncoming(llvm::Constant::getNullValue(type), from);
  phi->addIncoming(v, computed);
  return phi;
}

SqlValue Emitter::genCase(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "case.done", f);
  std::vector<std::pair<llvm::BasicBlock *, SqlValue>> exits;
  size_t pairs = e.args.size() / 2;
  for (size_t i = 0; i < pairs; ++i) {
    SqlValue condition = genExpr(*e.args[2 * i], row_layout, row);
    llvm::Value *taken =
        b_.CreateAnd(b_.CreateNot(condition.null), b_.CreateICmpNE(condition.value, b_.getInt8(0)));
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
  return mergeExits(valueType(e.type), exits);
}

SqlValue Emitter::genCoalesce(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
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
  return mergeExits(valueType(e.type), exits);
}

SqlValue Emitter::genExpr(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  switch (e.op) {
  case ExprOp::Column:
    return loadColumn(row_layout, row, e.column, e.nullable);
  case ExprOp::Literal:
    return {e.literal.is_null ? llvm::Constant::getNullValue(valueType(e.type))
                              : literal(e.literal, e.type),
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
  for (const ir::ExprPtr &arg : e.args)
    args.push_back(genExpr(*arg, row_layout, row));
  llvm::Value *any_null = b_.getFalse();
  for (const SqlValue &a : args)
    any_null = b_.CreateOr(any_null, a.null);
  auto boolean = [&](llvm::Value *i1) { return b_.CreateZExt(i1, i8_); };
  switch (e.op) {
  case ExprOp::Add:
  case ExprOp::Sub:
  case ExprOp::Mul:
  case ExprOp::Div:
  case ExprOp::Mod: {
    // Evaluate only when both operands are present: 1/NULL is NULL, not an error.
    llvm::Value *v = unlessNull(any_null, valueType(e.type), "arith", [&] {
      return genArithmetic(e, e.op, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type);
    });
    return {v, any_null};
  }
  case ExprOp::Neg: {
    const ir::Type &t = e.type;
    llvm::Value *x = args[0].value;
    if (t.kind == TypeKind::Float64)
      return {b_.CreateFNeg(x), args[0].null};
    if (t.kind == TypeKind::Numeric)
      return {b_.CreateNeg(x), args[0].null};
    if (t.kind == TypeKind::Interval) // 0 - x, field by field (INT_MIN days is out of range)
      return {unlessNull(args[0].null, i128_, "neg",
                         [&] {
                           return call("kiln_interval_add",
                                       {rt(), llvm::ConstantInt::get(i128_, 0), x, b_.getInt32(-1),
                                        b_.getInt32(locationIndex(e.loc))});
                         }),
              args[0].null};
    llvm::Type *type = x->getType();
    llvm::Value *min =
        llvm::ConstantInt::get(type, llvm::APInt::getSignedMinValue(type->getIntegerBitWidth()));
    if (t.isSmallint()) // -(-32768) leaves smallint (NULL's stored 0 stays in range)
      return {smallintInRange(b_.CreateNeg(x), e.loc), args[0].null};
    raiseIf(b_.CreateAnd(b_.CreateNot(args[0].null), b_.CreateICmpEQ(x, min)),
            t.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE : KILN_ERR_BIGINT_OUT_OF_RANGE,
            e.loc);
    return {b_.CreateNeg(x), args[0].null};
  }
  case ExprOp::Eq:
  case ExprOp::Ne:
  case ExprOp::Lt:
  case ExprOp::Le:
  case ExprOp::Gt:
  case ExprOp::Ge:
    return {
        boolean(genCompare(e.op, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type)),
        any_null};
  case ExprOp::IsDistinctFrom:
  case ExprOp::IsNotDistinctFrom: {
    llvm::Value *eq =
        genCompare(ExprOp::Eq, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type);
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
    llvm::Value *eq =
        genCompare(ExprOp::Eq, args[0].value, e.args[0]->type, args[1].value, e.args[1]->type);
    llvm::Value *equal = b_.CreateAnd(b_.CreateNot(any_null), eq);
    return {args[0].value, b_.CreateOr(args[0].null, equal)};
  }
  case ExprOp::Greatest:
  case ExprOp::Least: {
    SqlValue best = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      llvm::Value *better = genCompare(e.op == ExprOp::Greatest ? ExprOp::Gt : ExprOp::Lt,
                                       args[i].value, e.args[i]->type, best.value, e.type);
      llvm::Value *take = b_.CreateAnd(b_.CreateNot(args[i].null), b_.CreateOr(best.null, better));
      best.value = b_.CreateSelect(take, args[i].value, best.value);
      best.null = b_.CreateAnd(best.null, args[i].null);
    }
    return best;
  }
  case ExprOp::Cast: {
    // Casts of NULL are NULL without running the conversion (text parsing could raise).
    llvm::Value *v = unlessNull(args[0].null, valueType(e.type), "cast",
                                [&] { return genCast(e, args[0], e.args[0]->type).value; });
    return {v, args[0].null};
  }
  case ExprOp::Like: {
    llvm::Value *r = call("kiln_like", {rt(), b_.CreateExtractValue(args[0].value, 0),
                                        b_.CreateExtractValue(args[0].value, 1),
                                        b_.CreateExtractValue(args[1].value, 0),
                                        b_.CreateExtractValue(args[1].value, 1),
                                        b_.getInt32(e.flag), b_.getInt32(locationIndex(e.loc))});
    return {boolean(b_.CreateICmpNE(r, llvm::ConstantInt::get(r->getType(), 0))), any_null};
  }
  case ExprOp::Concat:
    return {textOut("kiln_concat", {rt(), b_.CreateExtractValue(args[0].value, 0),
                                    b_.CreateExtractValue(args[0].value, 1),
                                    b_.CreateExtractValue(args[1].value, 0),
                                    b_.CreateExtractValue(args[1].value, 1)}),
            any_null};
  default:
    unsupported(std::string("expression ") + ir::exprOpName(e.op));
    return {llvm::Constant::getNullValue(valueType(e.type)), b_.getTrue()};
  }
}

} // namespace kiln::codegen
