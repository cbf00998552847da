// SQL function calls: each becomes inline LLVM (abs, round on floats) or a call of its stdlib
// function, which the stdlib's bitcode lets LLVM inline.

#include "Emitter.h"

#include "kiln/runtime/civil.h"
#include "kiln/stdlib.h"

namespace kiln::codegen {

using ir::TypeKind;

bool Emitter::onZoneClock(const ir::Expr &arg) {
  return arg.type.kind == TypeKind::TimestampTz && zoned();
}

llvm::Value *Emitter::wallClock(const ir::Expr &arg, int32_t field, llvm::Value *value) {
  // The epoch counts from the instant 1970-01-01 00:00 UTC, whatever the zone.
  if (!onZoneClock(arg) || field == KILN_FIELD_EPOCH)
    return value;
  return call("kiln_local_time", {sessionZone(), value});
}

llvm::Value *Emitter::zoneField(const ir::Expr &arg, int32_t field, llvm::Value *value) {
  // The offset at that instant: its wall-clock time less the instant (0 in UTC).
  llvm::Value *offset = b_.getInt64(0);
  if (onZoneClock(arg))
    offset = b_.CreateSDiv(b_.CreateSub(call("kiln_local_time", {sessionZone(), value}), value),
                           b_.getInt64(1000000));
  switch (field) {
  case KILN_FIELD_TIMEZONE_HOUR:
    return b_.CreateSDiv(offset, b_.getInt64(3600));
  case KILN_FIELD_TIMEZONE_MINUTE:
    return b_.CreateSRem(b_.CreateSDiv(offset, b_.getInt64(60)), b_.getInt64(60));
  default:
    return offset;
  }
}

SqlValue Emitter::genCall(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row) {
  std::vector<SqlValue> args;
  llvm::Value *null = b_.getFalse();
  for (const ir::ExprPtr &arg : e.args) {
    args.push_back(genExpr(*arg, row_layout, row));
    null = b_.CreateOr(null, args.back().null);
  }
  auto text = [&](size_t i, int part) { return b_.CreateExtractValue(args[i].value, part); };
  const ir::FunctionInfo &fn = ir::functionInfo(e.function);
  int32_t loc = locationIndex(e.loc);
  SqlValue r{nullptr, null};
  // Float rounding is an LLVM intrinsic; NUMERIC rounding the stdlib's, in the mode of its kind.
  auto round = [&](llvm::Intrinsic::ID float_op, kiln_round_mode mode) {
    if (e.type.kind == TypeKind::Float64) {
      r.value = b_.CreateCall(llvm::Intrinsic::getDeclaration(&module_, float_op, {f64_}),
                              {args[0].value});
      return;
    }
    r.value = call(fn.symbol, {rt(), args[0].value, b_.getInt32(e.args[0]->type.scale),
                               b_.getInt32(e.type.scale), b_.getInt32(e.type.scale),
                               b_.getInt32(mode), b_.getInt32(loc)});
  };
  // A strict function that can raise must not run on a NULL argument, whose value is whatever the
  // NULL slot holds (split_part(s, ',', NULL) is NULL, not "field position must not be zero").
  llvm::BasicBlock *guarded = nullptr, *done = nullptr;
  if (fn.has(ir::kStrict) && fn.has(ir::kRaises) && !e.args.empty()) {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    guarded = b_.GetInsertBlock();
    llvm::BasicBlock *run = llvm::BasicBlock::Create(ctx_, "call.args", f);
    done = llvm::BasicBlock::Create(ctx_, "call.done", f);
    b_.CreateCondBr(null, done, run);
    b_.SetInsertPoint(run);
  }
  switch (e.function) {
  case ir::FunctionId::Initcap:
  case ir::FunctionId::Reverse:
  case ir::FunctionId::Md5:
  case ir::FunctionId::Lower:
  case ir::FunctionId::Upper:
  case ir::FunctionId::Btrim:
  case ir::FunctionId::Ltrim:
  case ir::FunctionId::Rtrim:
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1)});
    break;
  case ir::FunctionId::Length:
    r.value = b_.CreateSExtOrTrunc(call(fn.symbol, {text(0, 0), text(0, 1)}), i32_);
    break;
  case ir::FunctionId::Replace:
    r.value = textOut(
        fn.symbol, {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1), text(2, 0), text(2, 1)});
    break;
  case ir::FunctionId::Left:
  case ir::FunctionId::Right:
  case ir::FunctionId::Repeat:
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), b_.CreateSExt(args[1].value, i64_),
                                  b_.getInt32(loc)});
    break;
  case ir::FunctionId::RegexpLike:
  case ir::FunctionId::RegexpReplace: {
    size_t flags_arg = e.function == ir::FunctionId::RegexpLike ? 2 : 3;
    llvm::Value *flags = b_.CreateExtractValue(constantText(""), 0);
    llvm::Value *flags_len = b_.getInt64(0);
    if (args.size() > flags_arg)
      flags = text(flags_arg, 0), flags_len = text(flags_arg, 1);
    if (e.function == ir::FunctionId::RegexpLike) {
      r.value = b_.CreateZExt( // a BOOL value is a byte
          b_.CreateICmpNE(call(fn.symbol, {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                           flags, flags_len, b_.getInt32(loc)}),
                          b_.getInt32(0)),
          i8_);
    } else {
      r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                    text(2, 0), text(2, 1), flags, flags_len, b_.getInt32(loc)});
    }
    break;
  }
  case ir::FunctionId::Strpos:
    r.value = b_.CreateSExtOrTrunc(
        call(fn.symbol, {text(0, 0), text(0, 1), text(1, 0), text(1, 1)}), i32_);
    break;
  case ir::FunctionId::SplitPart:
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                  b_.CreateSExt(args[2].value, i64_), b_.getInt32(loc)});
    break;
  case ir::FunctionId::Lpad:
  case ir::FunctionId::Rpad: {
    llvm::Value *fill = args.size() == 3 ? text(2, 0) : constantText(" ");
    llvm::Value *fill_len = args.size() == 3 ? text(2, 1) : b_.getInt64(1);
    if (args.size() != 3)
      fill = b_.CreateExtractValue(fill, 0);
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), b_.CreateSExt(args[1].value, i64_),
                                  fill, fill_len, b_.getInt32(loc)});
    break;
  }
  case ir::FunctionId::Substr: {
    llvm::Value *count = args.size() == 3 ? b_.CreateSExt(args[2].value, i64_) : b_.getInt64(0);
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), b_.CreateSExt(args[1].value, i64_),
                                  count, b_.getInt32(args.size() == 3), b_.getInt32(loc)});
    break;
  }
  case ir::FunctionId::Abs: {
    llvm::Value *x = args[0].value;
    if (e.type.kind == TypeKind::Float64) {
      r.value = b_.CreateCall(
          llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::fabs, {f64_}), {x});
      break;
    }
    llvm::Type *type = x->getType();
    if (e.type.isInteger()) {
      llvm::Value *min =
          llvm::ConstantInt::get(type, llvm::APInt::getSignedMinValue(type->getIntegerBitWidth()));
      raiseIf(b_.CreateAnd(b_.CreateNot(args[0].null), b_.CreateICmpEQ(x, min)),
              e.type.kind == TypeKind::Int32 ? KILN_ERR_INT_OUT_OF_RANGE
                                             : KILN_ERR_BIGINT_OUT_OF_RANGE,
              e.loc);
    }
    llvm::Value *negative = b_.CreateICmpSLT(x, llvm::ConstantInt::get(type, 0));
    r.value = b_.CreateSelect(negative, b_.CreateNeg(x), x);
    if (e.type.isSmallint()) // abs(-32768)
      r.value = smallintInRange(r.value, e.loc);
    break;
  }
  case ir::FunctionId::Round:
    round(llvm::Intrinsic::rint, KILN_ROUND_HALF_AWAY);
    break;
  case ir::FunctionId::Trunc:
    round(llvm::Intrinsic::trunc, KILN_ROUND_TRUNC);
    break;
  case ir::FunctionId::Floor:
    round(llvm::Intrinsic::floor, KILN_ROUND_FLOOR);
    break;
  case ir::FunctionId::Ceil:
    round(llvm::Intrinsic::ceil, KILN_ROUND_CEIL);
    break;
  case ir::FunctionId::Sqrt:
    r.value = e.type.kind == TypeKind::Float64
                  ? call("kiln_f64_sqrt", {rt(), args[0].value, b_.getInt32(loc)})
                  : call(fn.symbol, {rt(), args[0].value, b_.getInt32(e.args[0]->type.scale),
                                     b_.getInt32(e.type.scale), b_.getInt32(loc)});
    break;
  case ir::FunctionId::Variance:
  case ir::FunctionId::Stddev:
    r.value = call(fn.symbol, {rt(), args[0].value, b_.getInt32(e.args[0]->type.scale),
                               args[1].value, b_.getInt32(e.args[1]->type.scale),
                               b_.getInt32(e.function == ir::FunctionId::Stddev),
                               b_.getInt32(e.type.scale), b_.getInt32(loc)});
    break;
  case ir::FunctionId::Cbrt:
    r.value = call(fn.symbol, {args[0].value});
    break;
  case ir::FunctionId::Exp:
  case ir::FunctionId::Ln:
  case ir::FunctionId::Log10:
  case ir::FunctionId::Power:
  case ir::FunctionId::MakeDate:
  case ir::FunctionId::MakeTimestamp: { // (rt, arguments..., location)
    std::vector<llvm::Value *> operands{rt()};
    for (const SqlValue &arg : args)
      operands.push_back(arg.value);
    operands.push_back(b_.getInt32(loc));
    r.value = call(fn.symbol, operands);
    break;
  }
  case ir::FunctionId::DateTrunc: {
    llvm::Value *unit = b_.getInt32(ir::dateTruncUnit(e.args[0]->literal.s));
    r.value = onZoneClock(*e.args[1])
                  ? call("kiln_date_trunc_tz", {unit, args[1].value, sessionZone()})
                  : call(fn.symbol, {unit, args[1].value});
    break;
  }
  case ir::FunctionId::DatePart: {
    int32_t field = ir::dateField(e.args[0]->literal.s);
    if (kiln_date_field_is_zone(field)) {
      r.value = b_.CreateSIToFP(zoneField(*e.args[1], field, args[1].value), f64_);
      break;
    }
    r.value =
        call(e.args[1]->type.kind == TypeKind::Interval ? "kiln_date_part_interval" : fn.symbol,
             {b_.getInt32(field), wallClock(*e.args[1], field, args[1].value)});
    break;
  }
  case ir::FunctionId::Extract: {
    int32_t field_code = ir::dateField(e.args[0]->literal.s);
    llvm::Value *field = b_.getInt32(field_code);
    if (e.args[1]->type.kind == TypeKind::Interval) {
      r.value = call("kiln_extract_interval", {field, args[1].value, b_.getInt32(e.type.scale)});
      break;
    }
    if (kiln_date_field_is_zone(field_code)) {
      r.value = b_.CreateSExt(zoneField(*e.args[1], field_code, args[1].value), i128_);
      break;
    }
    llvm::Value *scaled =
        e.args[1]->type.kind == TypeKind::Date
            ? call("kiln_extract_date", {field, args[1].value})
            : call(fn.symbol, {field, wallClock(*e.args[1], field_code, args[1].value),
                               b_.getInt32(e.type.scale)});
    r.value = b_.CreateSExt(scaled, i128_);
    break;
  }
  case ir::FunctionId::Timezone: {
    llvm::Constant *zone = zoneGlobal(e.args[0]->literal.s);
    if (zone->isNullValue()) // UTC: the same digits
      r.value = args[1].value;
    else
      r.value = call(e.args[1]->type.kind == TypeKind::TimestampTz ? "kiln_local_time"
                                                                   : "kiln_instant_of_local",
                     {zone, args[1].value});
    break;
  }
  case ir::FunctionId::Age: {
    llvm::Value *a = args[0].value, *b = args[1].value;
    if (onZoneClock(*e.args[0])) { // the calendar fields of each, on the session zone's clock
      a = call("kiln_local_time", {sessionZone(), a});
      b = call("kiln_local_time", {sessionZone(), b});
    }
    r.value = call(fn.symbol, {a, b});
    break;
  }
  case ir::FunctionId::ToChar: {
    bool zoned = e.args[0]->type.kind == TypeKind::TimestampTz;
    r.value = textOut(fn.symbol, {rt(), args[0].value, sessionZone(), b_.getInt32(zoned),
                                  text(1, 0), text(1, 1)});
    break;
  }
  case ir::FunctionId::ToCharNumber: {
    const ir::Type &t = e.args[0]->type;
    if (t.kind == TypeKind::Float64) {
      r.value = textOut("kiln_to_char_float",
                        {rt(), args[0].value, b_.getInt32(t.isReal()), text(1, 0), text(1, 1)});
      break;
    }
    llvm::Value *v = t.kind == TypeKind::Numeric ? args[0].value
                                                 : b_.CreateSExt(args[0].value, b_.getInt128Ty());
    r.value = textOut(fn.symbol, {rt(), v, b_.getInt32(t.kind == TypeKind::Numeric ? t.scale : 0),
                                  b_.getInt32(t.kind == TypeKind::Int32), text(1, 0), text(1, 1)});
    break;
  }
  case ir::FunctionId::JustifyDays:
  case ir::FunctionId::JustifyHours:
  case ir::FunctionId::JustifyInterval:
    r.value = call(fn.symbol, {rt(), args[0].value, b_.getInt32(loc)});
    break;
  case ir::FunctionId::AddInterval:
    r.value = onZoneClock(*e.args[0])
                  ? call("kiln_add_interval_tz",
                         {rt(), args[0].value, args[1].value, sessionZone(), b_.getInt32(loc)})
                  : call(fn.symbol, {rt(), args[0].value, args[1].value, b_.getInt32(loc)});
    break;
  case ir::FunctionId::JsonbObjectField:
  case ir::FunctionId::JsonbObjectFieldText:
  case ir::FunctionId::JsonbArrayElement:
  case ir::FunctionId::JsonbArrayElementText:
  case ir::FunctionId::JsonbExtractPath:
  case ir::FunctionId::JsonbExtractPathText:
    r = jsonbAccess(e, args, null);
    break;
  case ir::FunctionId::JsonbTypeof:
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1)});
    break;
  case ir::FunctionId::JsonbArrayLength:
    r.value =
        b_.CreateTrunc(call(fn.symbol, {rt(), text(0, 0), text(0, 1), b_.getInt32(loc)}), i32_);
    break;
  case ir::FunctionId::ToJsonb:
  case ir::FunctionId::JsonbBuildArray:
  case ir::FunctionId::JsonbBuildObject:
  case ir::FunctionId::JsonbObjectMember:
    r.value = jsonbBuild(e, args);
    if (e.function != ir::FunctionId::ToJsonb) // a NULL argument is JSON null
      r.null = b_.getFalse();
    break;
  case ir::FunctionId::ArrayBuild: { // the elements' texts, NULL ones as NULL
    size_t n = args.size();
    auto *parts_type = llvm::ArrayType::get(str_, std::max<size_t>(n, 1));
    llvm::Value *parts = entryAlloca(parts_type);
    llvm::Value *nulls = entryAlloca(llvm::ArrayType::get(i8_, std::max<size_t>(n, 1)));
    for (size_t i = 0; i < n; ++i) {
      b_.CreateStore(args[i].value,
                     b_.CreateConstGEP2_32(parts_type, parts, 0, static_cast<unsigned>(i)));
      b_.CreateStore(b_.CreateZExt(args[i].null, i8_),
                     b_.CreateConstGEP1_32(i8_, nulls, static_cast<unsigned>(i)));
    }
    r.value = textOut(fn.symbol, {rt(), parts, nulls, b_.getInt32(static_cast<int32_t>(n))});
    r.null = b_.getFalse();
    break;
  }
  case ir::FunctionId::ArrayElement: // NULL is an element too
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), b_.CreateZExt(args[0].null, i32_)});
    r.null = b_.getFalse();
    break;
  case ir::FunctionId::ArrayGet: {
    llvm::Value *out = entryAlloca(str_);
    llvm::Value *found =
        call(fn.symbol, {rt(), text(0, 0), text(0, 1), b_.CreateSExt(args[1].value, i64_), out});
    r.value = b_.CreateLoad(str_, out);
    r.null = b_.CreateOr(null, b_.CreateICmpEQ(found, b_.getInt32(0)));
    break;
  }
  case ir::FunctionId::ArraySlice:
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), args[1].value, args[2].value});
    break;
  case ir::FunctionId::ArrayFind: { // 1 found; 0 not; -1 not, but a NULL element: NULL
    llvm::Value *found = call(fn.symbol, {text(0, 0), text(0, 1), text(1, 0), text(1, 1)});
    r.value = b_.CreateZExt(b_.CreateICmpEQ(found, b_.getInt32(1)), i8_);
    r.null = b_.CreateOr(null, b_.CreateICmpSLT(found, b_.getInt32(0)));
    break;
  }
  case ir::FunctionId::ArrayLength:
  case ir::FunctionId::Cardinality: {
    llvm::Value *length = b_.CreateTrunc(call(fn.symbol, {text(0, 0), text(0, 1)}), i32_);
    r.value = length;
    if (e.function == ir::FunctionId::ArrayLength) // NULL for no elements or dimension but 1
      r.null = b_.CreateOr(null, b_.CreateOr(b_.CreateICmpEQ(length, b_.getInt32(0)),
                                             b_.CreateICmpNE(args[1].value, b_.getInt32(1))));
    break;
  }
  case ir::FunctionId::ArrayContains:
  case ir::FunctionId::ArrayOverlap:
    r.value =
        b_.CreateTrunc(call(fn.symbol, {text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                        b_.getInt32(e.function == ir::FunctionId::ArrayOverlap)}),
                       i8_);
    break;
  case ir::FunctionId::ArrayCat: { // a NULL array adds no elements; both NULL: NULL
    llvm::Value *empty = constantText("{}");
    llvm::Value *a = b_.CreateSelect(args[0].null, empty, args[0].value);
    llvm::Value *b = b_.CreateSelect(args[1].null, empty, args[1].value);
    r.value = textOut(fn.symbol, {rt(), b_.CreateExtractValue(a, 0), b_.CreateExtractValue(a, 1),
                                  b_.CreateExtractValue(b, 0), b_.CreateExtractValue(b, 1)});
    r.null = b_.CreateAnd(args[0].null, args[1].null);
    break;
  }
  case ir::FunctionId::ArrayPosition: { // NULL if not found or the array is NULL
    llvm::Value *place =
        b_.CreateTrunc(call(fn.symbol, {text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                        b_.CreateZExt(args[1].null, i32_)}),
                       i32_);
    r.value = place;
    r.null = b_.CreateOr(args[0].null, b_.CreateICmpEQ(place, b_.getInt32(0)));
    break;
  }
  case ir::FunctionId::ArrayRemove:
    r.value = textOut(fn.symbol, {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                  b_.CreateZExt(args[1].null, i32_)});
    r.null = args[0].null;
    break;
  case ir::FunctionId::ArrayCompare:
    r = arrayCompare(e, args);
    break;
  case ir::FunctionId::StringToArray: {
    std::vector<llvm::Value *> operands{rt(),       text(0, 0), text(0, 1),
                                        text(1, 0), text(1, 1), b_.CreateZExt(args[1].null, i32_)};
    appendNullText(operands, args);
    r.value = textOut(fn.symbol, operands);
    r.null = args[0].null;
    break;
  }
  case ir::FunctionId::RegexpSplitToArray: {
    llvm::Value *flags = b_.CreateExtractValue(constantText(""), 0);
    llvm::Value *flags_len = b_.getInt64(0);
    if (args.size() > 2)
      flags = text(2, 0), flags_len = text(2, 1);
    // The pieces (in scratch memory), then their array.
    llvm::Value *pieces = entryAlloca(ptr_), *nulls = entryAlloca(ptr_);
    llvm::Value *count = call(fn.symbol, {rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                                          flags, flags_len, b_.getInt32(loc), pieces, nulls});
    r.value = textOut("kiln_array_build",
                      {rt(), b_.CreateLoad(ptr_, pieces), b_.CreateLoad(ptr_, nulls), count});
    break;
  }
  case ir::FunctionId::ArrayToString: {
    std::vector<llvm::Value *> operands{rt(), text(0, 0), text(0, 1), text(1, 0), text(1, 1)};
    appendNullText(operands, args);
    r.value = textOut(fn.symbol, operands);
    r.null = b_.CreateOr(args[0].null, args[1].null);
    break;
  }
  case ir::FunctionId::JsonbExistsAny:
  case ir::FunctionId::JsonbExistsAll:
    r.value = b_.CreateZExt(
        b_.CreateICmpNE(
            call(fn.symbol, {text(0, 0), text(0, 1), text(1, 0), text(1, 1),
                             b_.getInt32(e.function == ir::FunctionId::JsonbExistsAll)}),
            b_.getInt32(0)),
        i8_);
    break;
  case ir::FunctionId::JsonbExists:
  case ir::FunctionId::JsonbContains:
  case ir::FunctionId::JsonbContained: {
    // jsonb_contained(a, b) is b @> a.
    size_t first = e.function == ir::FunctionId::JsonbContained ? 1 : 0;
    r.value =
        b_.CreateZExt(b_.CreateICmpNE(call(fn.symbol, {text(first, 0), text(first, 1),
                                                       text(1 - first, 0), text(1 - first, 1)}),
                                      b_.getInt32(0)),
                      i8_);
    break;
  }
  }
  if (guarded) {
    llvm::BasicBlock *ran = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode *value = b_.CreatePHI(r.value->getType(), 2);
    value->addIncoming(llvm::Constant::getNullValue(r.value->getType()), guarded);
    value->addIncoming(r.value, ran);
    r.value = value;
  }
  return r;
}

void Emitter::appendNullText(std::vector<llvm::Value *> &operands,
                             const std::vector<SqlValue> &args) {
  if (args.size() < 3) { // none: (nullptr, 0, 0)
    operands.insert(operands.end(), {llvm::ConstantPointerNull::get(b_.getPtrTy()), b_.getInt64(0),
                                     b_.getInt32(0)});
    return;
  }
  operands.insert(operands.end(),
                  {b_.CreateExtractValue(args[2].value, 0), b_.CreateExtractValue(args[2].value, 1),
                   b_.CreateZExt(b_.CreateNot(args[2].null), i32_)});
}

// A loop over the array's elements (kiln_set_next steps through its text): each read as x's
// type and compared, until one decides (TRUE for ANY, FALSE for ALL).
SqlValue Emitter::arrayCompare(const ir::Expr &e, const std::vector<SqlValue> &args) {
  const ir::Type &type = e.args[1]->type;
  bool all = e.flag;
  int64_t code = e.args[2]->literal.i;
  int32_t loc = locationIndex(e.loc);
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto block = [&](const char *name) { return llvm::BasicBlock::Create(ctx_, name, f); };
  llvm::Value *cursor = entryAlloca(i64_), *decided = entryAlloca(i1_),
              *saw_null = entryAlloca(i1_);
  llvm::Type *strs = llvm::ArrayType::get(str_, 2), *bytes = llvm::ArrayType::get(i8_, 2);
  llvm::Value *out = entryAlloca(strs), *nulls = entryAlloca(bytes);
  b_.CreateStore(b_.getInt64(0), cursor);
  b_.CreateStore(b_.getFalse(), decided);
  b_.CreateStore(b_.getFalse(), saw_null);
  llvm::BasicBlock *step = block("any.step"), *element = block("any.element"),
                   *compare = block("any.compare"), *found = block("any.found"),
                   *done = block("any.done");
  b_.CreateCondBr(args[0].null, done, step);
  b_.SetInsertPoint(step);
  llvm::Value *got =
      call("kiln_set_next",
           {rt(), b_.getInt32(KILN_SET_UNNEST), b_.CreateExtractValue(args[0].value, 0),
            b_.CreateExtractValue(args[0].value, 1), cursor, out, nulls, b_.getInt32(loc)});
  b_.CreateCondBr(b_.CreateICmpNE(got, b_.getInt32(0)), element, done);
  b_.SetInsertPoint(element);
  // A NULL element or x: this comparison is NULL.
  llvm::Value *element_null =
      b_.CreateICmpNE(b_.CreateLoad(i8_, b_.CreateConstGEP2_32(bytes, nulls, 0, 0)), b_.getInt8(0));
  llvm::Value *unknown = b_.CreateOr(element_null, args[1].null);
  b_.CreateStore(b_.CreateOr(b_.CreateLoad(i1_, saw_null), unknown), saw_null);
  b_.CreateCondBr(unknown, step, compare);
  b_.SetInsertPoint(compare);
  llvm::Value *text = b_.CreateLoad(str_, b_.CreateConstGEP2_32(strs, out, 0, 0));
  llvm::Value *holds;
  if (code >= 6) { // [NOT] [I]LIKE the element
    llvm::Value *like =
        call("kiln_like", {rt(), b_.CreateExtractValue(args[1].value, 0),
                           b_.CreateExtractValue(args[1].value, 1), b_.CreateExtractValue(text, 0),
                           b_.CreateExtractValue(text, 1), b_.getInt32(code == 7 || code == 9),
                           b_.getInt32(loc)});
    holds = b_.CreateICmpNE(like, llvm::ConstantInt::get(like->getType(), 0));
    if (code >= 8)
      holds = b_.CreateNot(holds);
  } else {
    llvm::Value *value = text;
    if (type.kind != TypeKind::Text) { // the element's text read as x's type
      ir::Expr cast(ir::ExprOp::Cast, type);
      cast.loc = e.loc;
      value = genCast(cast, {text, b_.getFalse()}, ir::Type::text()).value;
    }
    static const ir::ExprOp kOps[] = {ir::ExprOp::Eq, ir::ExprOp::Ne, ir::ExprOp::Lt,
                                      ir::ExprOp::Le, ir::ExprOp::Gt, ir::ExprOp::Ge};
    holds = genCompare(kOps[code], args[1].value, type, value, type);
  }
  // ANY is decided by a TRUE comparison, ALL by a FALSE one.
  b_.CreateCondBr(all ? b_.CreateNot(holds) : holds, found, step);
  b_.SetInsertPoint(found);
  b_.CreateStore(b_.getTrue(), decided);
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  llvm::Value *is_decided = b_.CreateLoad(i1_, decided);
  llvm::Value *null = b_.CreateOr(
      args[0].null, b_.CreateAnd(b_.CreateNot(is_decided), b_.CreateLoad(i1_, saw_null)));
  llvm::Value *result = all ? b_.CreateNot(is_decided) : is_decided;
  return {b_.CreateZExt(result, i8_), null};
}

// to_jsonb and the builders: each argument's text (its text output, the canonical text of a
// jsonb) with how kiln_jsonb_build writes it (kiln_jsonb_part) and whether it is NULL.
llvm::Value *Emitter::jsonbBuild(const ir::Expr &e, const std::vector<SqlValue> &args) {
  size_t n = args.size();
  llvm::Value *parts = entryAlloca(llvm::ArrayType::get(str_, std::max<size_t>(n, 1)));
  llvm::Value *kinds = entryAlloca(llvm::ArrayType::get(i8_, std::max<size_t>(n, 1)));
  llvm::Value *nulls = entryAlloca(llvm::ArrayType::get(i8_, std::max<size_t>(n, 1)));
  for (size_t i = 0; i < n; ++i) {
    const ir::Type &t = e.args[i]->type;
    kiln_jsonb_part kind = t.kind == TypeKind::Jsonb || t.kind == TypeKind::Bool || t.isInteger() ||
                                   t.kind == TypeKind::Numeric || t.kind == TypeKind::Null
                               ? KILN_JSONB_PART_JSON
                           : t.kind == TypeKind::Float64     ? KILN_JSONB_PART_FLOAT
                           : t.kind == TypeKind::Timestamp   ? KILN_JSONB_PART_TIMESTAMP
                           : t.kind == TypeKind::TimestampTz ? KILN_JSONB_PART_TIMESTAMPTZ
                                                             : KILN_JSONB_PART_STRING;
    llvm::Value *text = llvm::ConstantStruct::get(
        str_, {llvm::ConstantPointerNull::get(b_.getPtrTy()), b_.getInt64(0)});
    if (t.isArray()) { // a JSON array of its elements
      kind = KILN_JSONB_PART_JSON;
      text = textOut("kiln_array_to_jsonb", {rt(), b_.CreateExtractValue(args[i].value, 0),
                                             b_.CreateExtractValue(args[i].value, 1),
                                             b_.getInt32(storageKind(t.elementType()))});
    } else if (t.kind != TypeKind::Null) { // the text of a NULL is never read
      ir::Expr to_text(ir::ExprOp::Cast, ir::Type::text());
      to_text.loc = e.loc;
      text = t.isString() ? args[i].value : genCast(to_text, args[i], t).value;
    }
    b_.CreateStore(text, b_.CreateConstGEP2_32(llvm::ArrayType::get(str_, std::max<size_t>(n, 1)),
                                               parts, 0, static_cast<unsigned>(i)));
    b_.CreateStore(b_.getInt8(kind), b_.CreateConstGEP1_32(i8_, kinds, static_cast<unsigned>(i)));
    b_.CreateStore(b_.CreateZExt(args[i].null, i8_),
                   b_.CreateConstGEP1_32(i8_, nulls, static_cast<unsigned>(i)));
  }
  int32_t shape = e.function == ir::FunctionId::ToJsonb            ? 0
                  : e.function == ir::FunctionId::JsonbBuildArray  ? 1
                  : e.function == ir::FunctionId::JsonbBuildObject ? 2
                                                                   : 3; // JsonbObjectMember
  return textOut("kiln_jsonb_build",
                 {rt(), b_.getInt32(shape), parts, kinds, nulls,
                  b_.getInt32(static_cast<int32_t>(n)), b_.getInt32(locationIndex(e.loc))});
}

// Steps into a jsonb value (->, #>, jsonb_extract_path), then its text for the *_text forms. A
// missing step makes the rest run on an empty value, which has no steps, and the result NULL.
SqlValue Emitter::jsonbAccess(const ir::Expr &e, const std::vector<SqlValue> &args,
                              llvm::Value *null) {
  llvm::Value *value = args[0].value;
  llvm::Value *missing = b_.getFalse();
  bool index = e.function == ir::FunctionId::JsonbArrayElement ||
               e.function == ir::FunctionId::JsonbArrayElementText;
  bool path = e.function == ir::FunctionId::JsonbExtractPath ||
              e.function == ir::FunctionId::JsonbExtractPathText;
  for (size_t i = 1; i < args.size(); ++i) {
    llvm::Value *key = index ? llvm::Constant::getNullValue(str_) : args[i].value;
    llvm::Value *at = index ? b_.CreateSExt(args[i].value, i64_) : b_.getInt64(0);
    llvm::Value *out = entryAlloca(str_);
    llvm::Value *found = call(
        "kiln_jsonb_get", {rt(), b_.CreateExtractValue(value, 0), b_.CreateExtractValue(value, 1),
                           b_.CreateExtractValue(key, 0), b_.CreateExtractValue(key, 1), at,
                           b_.getInt32(index  ? 1
                                       : path ? 2
                                              : 0),
                           out});
    missing = b_.CreateOr(missing, b_.CreateICmpEQ(found, b_.getInt32(0)));
    value = b_.CreateLoad(str_, out);
  }
  if (e.type.kind == TypeKind::Text) {
    llvm::Value *out = entryAlloca(str_);
    llvm::Value *present = call("kiln_jsonb_text", {rt(), b_.CreateExtractValue(value, 0),
                                                    b_.CreateExtractValue(value, 1), out});
    missing = b_.CreateOr(missing, b_.CreateICmpEQ(present, b_.getInt32(0)));
    value = b_.CreateLoad(str_, out);
  }
  return {value, b_.CreateOr(null, missing)};
}

} // namespace kiln::codegen
