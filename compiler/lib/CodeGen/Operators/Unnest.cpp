// The unnest operator (Ops.def): for each input row, a loop over its set functions' elements,
// zipped, emitting one row per step. It keeps no state: an element is read from its array or
// jsonb text when it is emitted (kiln_set_next steps a cursor through the text), and a series
// is counted in registers. A retraction walks the same elements with the weight negated.

#include "Operator.h"

#include <llvm/IR/Intrinsics.h>

namespace kiln::codegen {

namespace {

using ir::SetFunction;

kiln_set_function runtimeFunction(SetFunction fn) {
  switch (fn) {
  case SetFunction::JsonbArrayElements:
    return KILN_SET_JSONB_ARRAY_ELEMENTS;
  case SetFunction::JsonbArrayElementsText:
    return KILN_SET_JSONB_ARRAY_ELEMENTS_TEXT;
  case SetFunction::JsonbEach:
    return KILN_SET_JSONB_EACH;
  case SetFunction::JsonbEachText:
    return KILN_SET_JSONB_EACH_TEXT;
  case SetFunction::JsonbObjectKeys:
    return KILN_SET_JSONB_OBJECT_KEYS;
  case SetFunction::JsonbToRecordset:
    return KILN_SET_JSONB_TO_RECORDSET;
  case SetFunction::JsonbToRecord:
    return KILN_SET_JSONB_TO_RECORD;
  default:
    return KILN_SET_UNNEST;
  }
}

class UnnestGen : public OperatorGen {
public:
  UnnestGen(Emitter &emitter, const ir::Op &op) : OperatorGen(emitter, op) {
    // The new columns as the loop produces them (`raw_`): an array element as its text, the
    // rest as they are; each output column reads its raw column, an element through a cast.
    size_t arg = 0;
    for (const ir::SetCall &call : op.set_calls) {
      ir::Schema columns = ir::setFunctionColumns(call.fn, op.exprs[arg]->type);
      for (const ir::Column &column : columns) {
        auto raw = static_cast<int32_t>(raw_types_.size());
        bool element = call.fn == SetFunction::Unnest;
        ir::Type type = element ? ir::Type::text() : column.type;
        raw_types_.push_back(type);
        ir::ExprPtr read = ir::makeColumn(raw, type, true);
        if (element && column.type != type) {
          std::vector<ir::ExprPtr> operand;
          operand.push_back(std::move(read));
          read = ir::makeCall(ir::ExprOp::Cast, column.type, std::move(operand), op.loc);
        }
        columns_.push_back(std::move(read));
      }
      arg += static_cast<size_t>(call.args);
    }
    if (op.ordinality) {
      columns_.push_back(
          ir::makeColumn(static_cast<int32_t>(raw_types_.size()), ir::Type::int64(), true));
      raw_types_.push_back(ir::Type::int64());
    }
    // A series of timestamps steps by adding its interval, as `timestamp + interval` does (on
    // the session zone's clock for timestamptz), over a row of [value, step].
    arg = 0;
    for (const ir::SetCall &call : op.set_calls) {
      const ir::Type &type = op.exprs[arg]->type;
      arg += static_cast<size_t>(call.args);
      times_.emplace_back();
      if (call.fn != SetFunction::GenerateSeries || !type.isTimestamp())
        continue;
      TimeSeries &series = times_.back();
      series.types = {type, ir::Type::interval()};
      std::vector<ir::ExprPtr> operands;
      operands.push_back(ir::makeColumn(0, type, false));
      operands.push_back(ir::makeColumn(1, ir::Type::interval(), false));
      series.next = ir::makeCall(ir::ExprOp::Call, type, std::move(operands), call.loc);
      series.next->function = ir::FunctionId::AddInterval;
      auto compare = [&](ir::ExprOp op) {
        ir::Value zero;
        zero.is_null = false;
        std::vector<ir::ExprPtr> sides;
        sides.push_back(ir::makeColumn(1, ir::Type::interval(), false));
        sides.push_back(ir::makeLiteral(zero, ir::Type::interval()));
        return ir::makeCall(op, ir::Type::boolean(), std::move(sides), call.loc);
      };
      series.up = compare(ir::ExprOp::Gt);
      series.zero = compare(ir::ExprOp::Eq);
    }
  }

  void defineConsumers() override {
    llvm::Function *f = e_.beginConsumer(consumer(0));
    emitRows(f->getArg(1), f->getArg(2));
    b_.CreateRetVoid();
  }

private:
  // One set function's loop state, in the consumer's frame.
  struct Cursor {
    const ir::SetCall *call = nullptr;
    int32_t first_raw = 0;       // its first column in the raw row
    llvm::Value *done;           // i1: no more elements
    llvm::Value *has;            // i1: an element this step
    llvm::Value *position;       // i64: the text's cursor, or the series' next value
    llvm::Value *value;          // i64: a series' value this step
    int32_t location = 0;        // where its argument is, for kiln_set_next's errors
    llvm::Value *out, *nulls;    // [2 x str], [2 x i8]: kiln_set_next's element
    llvm::Value *text;           // the array or jsonb (a str), for kiln_set_next
    llvm::Value *stop, *step;    // a series' bounds (i64)
    llvm::Value *up = nullptr;   // a series of timestamps: whether its step is positive (i1)
    bool narrow = false;         // a series of integers (not bigints)
    llvm::Value *pair = nullptr; // a series of timestamps: its [value, step] row
  };
  // The expressions of a series of timestamps, over its [value, step] row.
  struct TimeSeries {
    std::vector<ir::Type> types;
    ir::ExprPtr next, up, zero; // value + step, step > 0, step = 0
  };

  llvm::BasicBlock *block(const char *name) {
    return llvm::BasicBlock::Create(e_.ctx_, name, b_.GetInsertBlock()->getParent());
  }

  void emitRows(llvm::Value *row, llvm::Value *weight) {
    const RowLayout &in = e_.layoutOf(e_.input(op_, 0).schema);
    const RowLayout &out = e_.layoutOf(op_.schema);
    const RowLayout &raw = e_.layoutOf(raw_types_);
    std::vector<Cursor> cursors = start(in, row);
    llvm::Value *ordinal = e_.entryAlloca(e_.i64_);
    llvm::Value *emitted = e_.entryAlloca(e_.i1_);
    b_.CreateStore(b_.getInt64(0), ordinal);
    b_.CreateStore(b_.getFalse(), emitted);

    llvm::BasicBlock *loop = block("unnest.step"), *exit = block("unnest.done");
    b_.CreateBr(loop);
    b_.SetInsertPoint(loop);
    llvm::Value *alive = b_.getFalse();
    for (Cursor &cursor : cursors)
      alive = b_.CreateOr(alive, step(cursor));
    llvm::BasicBlock *body = block("unnest.row");
    b_.CreateCondBr(alive, body, exit);
    b_.SetInsertPoint(body);
    llvm::Value *place = b_.CreateAdd(b_.CreateLoad(e_.i64_, ordinal), b_.getInt64(1));
    b_.CreateStore(place, ordinal);

    // The raw row: each function's element where it has one this step, else NULLs.
    llvm::Value *raw_row = e_.newRow(raw);
    for (Cursor &cursor : cursors) {
      llvm::Value *missing = b_.CreateNot(b_.CreateLoad(e_.i1_, cursor.has));
      for (int32_t c = 0; c < columnCount(cursor); ++c) {
        SqlValue v = element(cursor, c);
        e_.storeColumn(raw, raw_row, cursor.first_raw + c, {v.value, b_.CreateOr(v.null, missing)});
      }
    }
    if (op_.ordinality)
      e_.storeColumn(raw, raw_row, static_cast<int>(raw_types_.size()) - 1, {place, b_.getFalse()});
    llvm::Value *result = e_.newRow(out);
    for (size_t c = 0; c < in.types.size(); ++c)
      e_.copyColumn(in, row, static_cast<int>(c), out, result, static_cast<int>(c), false);
    for (size_t c = 0; c < columns_.size(); ++c)
      e_.storeColumn(out, result, static_cast<int>(in.types.size() + c),
                     e_.genExpr(*columns_[c], raw, raw_row));
    emitIfKept(out, result, weight, emitted);
    b_.CreateBr(loop);

    b_.SetInsertPoint(exit);
    if (!op_.outer)
      return;
    // LEFT JOIN LATERAL: a row none of whose elements was kept stays, with NULLs.
    llvm::BasicBlock *pad = block("unnest.pad"), *done = block("unnest.padded");
    b_.CreateCondBr(b_.CreateLoad(e_.i1_, emitted), done, pad);
    b_.SetInsertPoint(pad);
    llvm::Value *padded = e_.newRow(out);
    for (size_t c = 0; c < out.types.size(); ++c) {
      if (c < in.types.size()) {
        e_.copyColumn(in, row, static_cast<int>(c), out, padded, static_cast<int>(c), false);
        continue;
      }
      llvm::Type *type = e_.valueType(out.types[c]);
      e_.storeColumn(out, padded, static_cast<int>(c),
                     {llvm::Constant::getNullValue(type), b_.getTrue()});
    }
    e_.emitToConsumers(op_, padded, weight);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  // Emits `result` unless the condition (LEFT JOIN LATERAL ... ON) rejects it.
  void emitIfKept(const RowLayout &out, llvm::Value *result, llvm::Value *weight,
                  llvm::Value *emitted) {
    if (!op_.predicate) {
      e_.emitToConsumers(op_, result, weight);
      b_.CreateStore(b_.getTrue(), emitted);
      return;
    }
    SqlValue keep = e_.genExpr(*op_.predicate, out, result);
    llvm::Value *kept =
        b_.CreateAnd(b_.CreateNot(keep.null), b_.CreateICmpNE(keep.value, b_.getInt8(0)));
    llvm::BasicBlock *pass = block("unnest.kept"), *next = block("unnest.next");
    b_.CreateCondBr(kept, pass, next);
    b_.SetInsertPoint(pass);
    e_.emitToConsumers(op_, result, weight);
    b_.CreateStore(b_.getTrue(), emitted);
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  }

  int32_t columnCount(const Cursor &cursor) const {
    SetFunction fn = cursor.call->fn;
    return fn == SetFunction::JsonbEach || fn == SetFunction::JsonbEachText ? 2 : 1;
  }

  // Evaluates the arguments and sets each function's cursor at its start; a NULL argument is an
  // empty set.
  std::vector<Cursor> start(const RowLayout &in, llvm::Value *row) {
    std::vector<Cursor> cursors;
    size_t arg = 0;
    int32_t first_raw = 0;
    for (const ir::SetCall &call : op_.set_calls) {
      Cursor cursor;
      cursor.call = &call;
      cursor.first_raw = first_raw;
      cursor.done = e_.entryAlloca(e_.i1_);
      cursor.has = e_.entryAlloca(e_.i1_);
      cursor.position = e_.entryAlloca(e_.i64_);
      cursor.value = e_.entryAlloca(e_.i64_);
      cursor.location = e_.locationIndex(call.loc.known() ? call.loc : op_.loc);
      std::vector<SqlValue> args;
      for (int32_t a = 0; a < call.args; ++a)
        args.push_back(e_.genExpr(*op_.exprs[arg + static_cast<size_t>(a)], in, row));
      llvm::Value *null = b_.getFalse();
      for (const SqlValue &v : args)
        null = b_.CreateOr(null, v.null);
      // jsonb_to_record of a NULL is one row (of NULLs), the runtime told by a length of -1.
      bool one_row = call.fn == SetFunction::JsonbToRecord;
      b_.CreateStore(one_row ? b_.getFalse() : null, cursor.done);
      if (one_row)
        args[0].value =
            b_.CreateSelect(null,
                            llvm::ConstantStruct::get(
                                e_.str_, {llvm::Constant::getNullValue(e_.ptr_), b_.getInt64(-1)}),
                            args[0].value);
      const TimeSeries &times = times_[cursors.size()];
      if (times.next) {
        const RowLayout &pair = e_.layoutOf(times.types);
        cursor.pair = e_.newRow(pair);
        e_.storeColumn(pair, cursor.pair, 1, {args[2].value, b_.getFalse()});
        cursor.stop = args[1].value;
        SqlValue up = e_.genExpr(*times.up, pair, cursor.pair);
        cursor.up = b_.CreateICmpNE(up.value, b_.getInt8(0));
        SqlValue zero = e_.genExpr(*times.zero, pair, cursor.pair);
        e_.raiseIf(b_.CreateAnd(b_.CreateNot(null), b_.CreateICmpNE(zero.value, b_.getInt8(0))),
                   KILN_ERR_SERIES_STEP_ZERO, op_.exprs[arg + 2]->loc);
        b_.CreateStore(args[0].value, cursor.position);
      } else if (call.fn == SetFunction::GenerateSeries) {
        cursor.narrow = op_.exprs[arg]->type.kind == ir::TypeKind::Int32;
        auto wide = [&](llvm::Value *v) { return cursor.narrow ? b_.CreateSExt(v, e_.i64_) : v; };
        cursor.stop = wide(args[1].value);
        cursor.step = args.size() > 2 ? wide(args[2].value) : b_.getInt64(1);
        if (args.size() > 2) // PostgreSQL checks the step of a row with no NULL argument
          e_.raiseIf(b_.CreateAnd(b_.CreateNot(null), b_.CreateICmpEQ(cursor.step, b_.getInt64(0))),
                     KILN_ERR_SERIES_STEP_ZERO, op_.exprs[arg + 2]->loc);
        b_.CreateStore(wide(args[0].value), cursor.position);
      } else {
        cursor.text = args[0].value;
        cursor.out = e_.entryAlloca(llvm::ArrayType::get(e_.str_, 2));
        cursor.nulls = e_.entryAlloca(llvm::ArrayType::get(e_.i8_, 2));
        b_.CreateStore(b_.getInt64(0), cursor.position);
      }
      first_raw += columnCount(cursor);
      arg += static_cast<size_t>(call.args);
      cursors.push_back(cursor);
    }
    return cursors;
  }

  // Advances `cursor` by one element (unless it is done); returns whether it had one (i1).
  llvm::Value *step(Cursor &cursor) {
    b_.CreateStore(b_.getFalse(), cursor.has);
    llvm::BasicBlock *next = block("unnest.next.element"), *joined = block("unnest.stepped");
    b_.CreateCondBr(b_.CreateLoad(e_.i1_, cursor.done), joined, next);
    b_.SetInsertPoint(next);
    if (cursor.pair) {
      stepTimes(cursor);
    } else if (cursor.call->fn == SetFunction::GenerateSeries) {
      stepSeries(cursor);
    } else {
      llvm::Value *p = b_.CreateExtractValue(cursor.text, 0);
      llvm::Value *n = b_.CreateExtractValue(cursor.text, 1);
      llvm::Value *got =
          e_.call("kiln_set_next",
                  {e_.rt(), b_.getInt32(runtimeFunction(cursor.call->fn)), p, n, cursor.position,
                   cursor.out, cursor.nulls, b_.getInt32(cursor.location)});
      llvm::Value *has = b_.CreateICmpNE(got, b_.getInt32(0));
      b_.CreateStore(has, cursor.has);
      b_.CreateStore(b_.CreateNot(has), cursor.done);
    }
    b_.CreateBr(joined);
    b_.SetInsertPoint(joined);
    return b_.CreateLoad(e_.i1_, cursor.has);
  }

  // A series' next value: the current one while it is not past stop; the one after it ends the
  // series where it would overflow (PostgreSQL stops there too).
  void stepSeries(Cursor &cursor) {
    llvm::Value *current = b_.CreateLoad(e_.i64_, cursor.position);
    llvm::Value *up = b_.CreateICmpSGT(cursor.step, b_.getInt64(0));
    llvm::Value *within = b_.CreateSelect(up, b_.CreateICmpSLE(current, cursor.stop),
                                          b_.CreateICmpSGE(current, cursor.stop));
    b_.CreateStore(within, cursor.has);
    llvm::Value *sum =
        b_.CreateBinaryIntrinsic(llvm::Intrinsic::sadd_with_overflow, current, cursor.step);
    llvm::Value *following = b_.CreateExtractValue(sum, 0);
    llvm::Value *overflow = b_.CreateExtractValue(sum, 1);
    if (cursor.narrow)
      overflow = b_.CreateOr(
          overflow,
          b_.CreateICmpNE(b_.CreateSExt(b_.CreateTrunc(following, e_.i32_), e_.i64_), following));
    b_.CreateStore(b_.CreateOr(b_.CreateNot(within), overflow), cursor.done);
    b_.CreateStore(current, cursor.value);
    b_.CreateStore(following, cursor.position);
  }

  // A series of timestamps: the current value while it is not past stop, and the next one
  // computed then (PostgreSQL computes it after returning each value, and raises where it
  // leaves the timestamps' range).
  void stepTimes(Cursor &cursor) {
    const TimeSeries &times = times_[static_cast<size_t>(cursor.call - op_.set_calls.data())];
    const RowLayout &pair = e_.layoutOf(times.types);
    llvm::Value *current = b_.CreateLoad(e_.i64_, cursor.position);
    llvm::Value *within = b_.CreateSelect(cursor.up, b_.CreateICmpSLE(current, cursor.stop),
                                          b_.CreateICmpSGE(current, cursor.stop));
    b_.CreateStore(within, cursor.has);
    b_.CreateStore(b_.CreateNot(within), cursor.done);
    b_.CreateStore(current, cursor.value);
    llvm::BasicBlock *advance = block("series.advance"), *advanced = block("series.advanced");
    b_.CreateCondBr(within, advance, advanced);
    b_.SetInsertPoint(advance);
    e_.storeColumn(pair, cursor.pair, 0, {current, b_.getFalse()});
    b_.CreateStore(e_.genExpr(*times.next, pair, cursor.pair).value, cursor.position);
    b_.CreateBr(advanced);
    b_.SetInsertPoint(advanced);
  }

  // Column `c` of the function's element this step, as the raw row holds it.
  SqlValue element(const Cursor &cursor, int32_t c) {
    if (cursor.call->fn == SetFunction::GenerateSeries) {
      llvm::Value *v = b_.CreateLoad(e_.i64_, cursor.value);
      return {cursor.narrow ? b_.CreateTrunc(v, e_.i32_) : v, b_.getFalse()};
    }
    llvm::Type *strs = llvm::ArrayType::get(e_.str_, 2), *bytes = llvm::ArrayType::get(e_.i8_, 2);
    llvm::Value *text = b_.CreateLoad(e_.str_, b_.CreateConstGEP2_32(strs, cursor.out, 0, c));
    llvm::Value *null = b_.CreateLoad(e_.i8_, b_.CreateConstGEP2_32(bytes, cursor.nulls, 0, c));
    return {text, b_.CreateICmpNE(null, b_.getInt8(0))};
  }

  std::vector<ir::Type> raw_types_;
  std::vector<ir::ExprPtr> columns_; // per new column: over the raw row
  std::vector<TimeSeries> times_;    // per call (empty but for a series of timestamps)
};

} // namespace

std::unique_ptr<OperatorGen> makeUnnestGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<UnnestGen>(emitter, op);
}

} // namespace kiln::codegen
