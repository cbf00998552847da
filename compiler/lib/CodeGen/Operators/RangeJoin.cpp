// RangeJoin: an inner join on equalities and on comparisons (<, <=, >, >=) of a left column with
// a right column, without a cross product. Each side keeps its rows in a TEXT multiset ordered by
// its equality columns and then by its indexed column, the one of its columns the comparisons
// read most (the runtime's kiln_range_* calls, abi.h). A change of one side is matched with the
// other side's rows of its key in the range that the comparisons on the other side's indexed
// column bound (a range scan of the ordered set), each row checked against every comparison, and
// then added to its own side. Processing changes one at a time in any order yields every matching
// pair once, when the later of its two rows arrives, as in Join.cpp: dL ⋈ R + L ⋈ dR + dL ⋈ dR.
//
// Rows with a NULL in a column the join compares match nothing and are not stored.

#include "Operator.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace kiln::codegen {

namespace {

// A condition (left OP right) as a change of one side meets the rows of side `stored`: probe OP
// stored, the operator flipped when the stored rows are the left input's.
ir::ExprOp probeOp(const ir::RangeCondition &condition, int stored) {
  return stored == 1 ? condition.op : ir::mirroredComparison(condition.op);
}

class RangeJoinGen : public OperatorGen {
public:
  RangeJoinGen(Emitter &emitter, const ir::Op &op)
      : OperatorGen(emitter, op),
        payload_type_(llvm::StructType::get(
            emitter.ctx_, std::vector<llvm::Type *>{emitter.ptr_, emitter.i64_})) {
    for (int side = 0; side < 2; ++side) {
      schemas_[side] = &emitter.input(op, static_cast<size_t>(side)).schema;
      rows_[side] = &emitter.layoutOf(*schemas_[side]);
      indexed_[side] = indexedColumn(side);
    }
    for (int side = 0; side < 2; ++side)
      band_[side] = bandOf(side);
  }

  size_t consumerCount() const override { return 2; }

  std::vector<Arrangement> arrangements() override {
    std::vector<Arrangement> sides;
    for (int side = 0; side < 2; ++side) {
      Arrangement rows;
      rows.role = side == 0 ? "left" : "right";
      rows.describe = "every row of the " + rows.role +
                      " input, ordered by its join key and then by column " +
                      (*schemas_[side])[static_cast<size_t>(indexed_[side])].name;
      rows.payload = payload_type_;
      rows.size = op_.stateSize();
      describeScalar(rows, 0, "rows", KILN_FIELD_MULTISET, KILN_T_TEXT);
      describeScalar(rows, 1, "widest band", KILN_FIELD_VALUE, KILN_T_INT64);
      rows.unique_key = true; // one entry, holding the set
      sides.push_back(std::move(rows));
    }
    return sides;
  }

  void emitCreate() override {
    for (int side = 0; side < 2; ++side)
      b_.CreateCall(e_.fn("kiln_ht_insert"), {slot(side), b_.getInt64(0x9E3779B97F4A7C15ULL)});
  }

  void emitDestroy() override {
    for (int side = 0; side < 2; ++side)
      e_.forEachEntry(slot(side), [&](llvm::Value *entry) {
        e_.destroyMultiset(b_.CreateLoad(e_.ptr_, setField(e_.payloadOf(entry))));
      });
  }

  void defineConsumers() override {
    for (int side = 0; side < 2; ++side) {
      llvm::Function *f = e_.beginConsumer(consumer(static_cast<size_t>(side)));
      llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
      emitMatches(side, row, weight);
      // Then the change joins its own side's rows.
      llvm::Value *entry = b_.CreateCall(e_.fn("kiln_ht_first"), {slot(side)});
      llvm::Value *field = setField(e_.payloadOf(entry));
      llvm::BasicBlock *make = llvm::BasicBlock::Create(e_.ctx_, "make.set", f);
      llvm::BasicBlock *add = llvm::BasicBlock::Create(e_.ctx_, "add", f);
      b_.CreateCondBr(b_.CreateIsNull(b_.CreateLoad(e_.ptr_, field)), make, add);
      b_.SetInsertPoint(make);
      b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(side), entry}); // the payload changes
      b_.CreateStore(b_.CreateCall(e_.fn("kiln_ms_create"), {e_.rt(), b_.getInt32(KILN_T_TEXT)}),
                     field);
      b_.CreateBr(add);
      b_.SetInsertPoint(add);
      b_.CreateCall(e_.fn("kiln_range_add"),
                    {e_.rt(), b_.CreateLoad(e_.ptr_, field), layout(side), row, weight});
      if (band_[side])
        emitWidenBand(side, entry, row);
      b_.CreateRetVoid();
    }
  }

private:
  llvm::Value *setField(llvm::Value *payload) {
    return b_.CreateStructGEP(payload_type_, payload, 0);
  }
  llvm::Value *spanField(llvm::Value *payload) {
    return b_.CreateStructGEP(payload_type_, payload, 1);
  }

  // Two stored columns of `side` that every match brackets a probe's value with (low <= p <=
  // high, any of < and <=), one of them the indexed column, of a type the runtime measures
  // spans of: the widest stored band then bounds each scan at both ends (kiln_range_match).
  struct Band {
    int32_t low = 0, high = 0;
  };
  std::optional<Band> bandOf(int side) const {
    auto op = [&](const ir::RangeCondition &c) { return probeOp(c, side); };
    auto stored = [&](const ir::RangeCondition &c) { return side == 0 ? c.left : c.right; };
    auto probe = [&](const ir::RangeCondition &c) { return side == 0 ? c.right : c.left; };
    for (const ir::RangeCondition &a : op_.ranges) {
      if (stored(a) != indexed_[side])
        continue;
      // p >= stored a: a is the band's low end; p <= stored b: b is its high end.
      bool indexed_low = op(a) == ir::ExprOp::Ge || op(a) == ir::ExprOp::Gt;
      for (const ir::RangeCondition &b : op_.ranges) {
        bool other_high = op(b) == ir::ExprOp::Le || op(b) == ir::ExprOp::Lt;
        if (stored(b) == indexed_[side] || probe(b) != probe(a) || indexed_low != other_high)
          continue;
        ir::TypeKind kind = (*schemas_[side])[static_cast<size_t>(stored(a))].type.kind;
        if (kind != ir::TypeKind::Int32 && kind != ir::TypeKind::Int64 &&
            kind != ir::TypeKind::Date && kind != ir::TypeKind::Timestamp &&
            kind != ir::TypeKind::TimestampTz && kind != ir::TypeKind::Numeric)
          continue;
        return indexed_low ? Band{stored(a), stored(b)} : Band{stored(b), stored(a)};
      }
    }
    return std::nullopt;
  }

  // A stored row wider than the widest band so far widens it (it never narrows: a bound that
  // is too wide only scans more).
  void emitWidenBand(int side, llvm::Value *entry, llvm::Value *row) {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::Value *span =
        b_.CreateCall(e_.fn("kiln_range_span"), {layout(side), row, b_.getInt32(band_[side]->low),
                                                 b_.getInt32(band_[side]->high)});
    llvm::Value *field = spanField(e_.payloadOf(entry));
    llvm::BasicBlock *widen = llvm::BasicBlock::Create(e_.ctx_, "widen", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "widened", f);
    b_.CreateCondBr(b_.CreateICmpSGT(span, b_.CreateLoad(e_.i64_, field)), widen, done);
    b_.SetInsertPoint(widen);
    b_.CreateCall(e_.fn("kiln_ht_touch"), {slot(side), entry});
    b_.CreateStore(span, field);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  // The column of `side` the comparisons read most (the first of those on a tie).
  int32_t indexedColumn(int side) const {
    std::map<int32_t, int> uses;
    int32_t best = -1;
    for (const ir::RangeCondition &condition : op_.ranges) {
      int32_t column = side == 0 ? condition.left : condition.right;
      if (++uses[column] > (best < 0 ? 0 : uses[best]))
        best = column;
    }
    return best;
  }

  // Matches a change of `side` with the other side's rows and passes the joined rows on.
  void emitMatches(int side, llvm::Value *row, llvm::Value *weight) {
    int other = 1 - side;
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::Value *other_payload = e_.payloadOf(b_.CreateCall(e_.fn("kiln_ht_first"), {slot(other)}));
    llvm::Value *set = b_.CreateLoad(e_.ptr_, setField(other_payload));
    llvm::BasicBlock *scan = llvm::BasicBlock::Create(e_.ctx_, "scan", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(e_.ctx_, "matched", f);
    b_.CreateCondBr(b_.CreateIsNull(set), done, scan);
    b_.SetInsertPoint(scan);
    llvm::Value *count = e_.entryAlloca(e_.i64_);
    llvm::Value *matches = b_.CreateCall(
        e_.fn("kiln_range_match"),
        {e_.rt(), set, layout(other), b_.getInt32(static_cast<uint32_t>(op_.left_keys.size())),
         layout(side), row, probeKeys(side), conditions(side),
         b_.getInt32(static_cast<uint32_t>(op_.ranges.size())),
         band_[other] ? static_cast<llvm::Value *>(b_.CreateLoad(e_.i64_, spanField(other_payload)))
                      : b_.getInt64(static_cast<uint64_t>(-1)),
         count});
    forEachChange(
        matches, b_.CreateLoad(e_.i64_, count), [&](llvm::Value *found, llvm::Value *found_weight) {
          llvm::Value *rows[2];
          rows[side] = row;
          rows[other] = found;
          e_.emitToConsumers(op_, joinedRow(rows[0], rows[1]), b_.CreateMul(weight, found_weight));
        });
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  llvm::Value *joinedRow(llvm::Value *left, llvm::Value *right) {
    const RowLayout &out = e_.layoutOf(op_.schema);
    llvm::Value *joined = e_.newRow(out);
    int width = static_cast<int>(schemas_[0]->size());
    for (int c = 0; c < width; ++c)
      e_.copyColumn(*rows_[0], left, c, out, joined, c);
    for (int c = 0; c < static_cast<int>(schemas_[1]->size()); ++c)
      e_.copyColumn(*rows_[1], right, c, out, joined, width + c);
    return joined;
  }

  // Side `side`'s layout for the runtime: its key columns the equality columns, the indexed
  // column, then the other columns the comparisons read (so that the runtime compares them in the
  // stored key's bytes).
  llvm::Value *layout(int side) {
    if (!layouts_[side]) {
      std::vector<int32_t> columns = side == 0 ? op_.left_keys : op_.right_keys;
      size_t equal = columns.size();
      columns.push_back(indexed_[side]);
      for (const ir::RangeCondition &condition : op_.ranges) {
        int32_t column = side == 0 ? condition.left : condition.right;
        if (std::find(columns.begin() + static_cast<std::ptrdiff_t>(equal), columns.end(),
                      column) == columns.end())
          columns.push_back(column);
      }
      llvm::Constant *desc =
          e_.relationDescriptor(op_.stateName(), "", *schemas_[side], columns, Connector{});
      layouts_[side] = new llvm::GlobalVariable(e_.module_, desc->getType(), true,
                                                llvm::GlobalValue::PrivateLinkage, desc,
                                                op_.stateName() + (side == 0 ? ".left" : ".right"));
    }
    return layouts_[side];
  }

  // A change of `side`'s columns that equal the other side's key columns, in their order.
  llvm::Value *probeKeys(int side) {
    if (!probe_keys_[side]) {
      std::vector<int32_t> keys = side == 0 ? op_.left_keys : op_.right_keys;
      if (keys.empty())
        keys.push_back(0); // (not read)
      std::vector<uint32_t> values(keys.begin(), keys.end());
      llvm::Constant *data = llvm::ConstantDataArray::get(e_.ctx_, values);
      probe_keys_[side] = new llvm::GlobalVariable(
          e_.module_, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
          op_.stateName() + (side == 0 ? ".left.probe" : ".right.probe"));
    }
    return probe_keys_[side];
  }

  // The comparisons as a change of `side` (the probe) meets the other side's stored rows.
  llvm::Value *conditions(int side) {
    if (!conditions_[side]) {
      static_assert(sizeof(kiln_range_condition) == 4 * sizeof(int32_t), "four int32 fields");
      std::vector<uint32_t> fields;
      for (const ir::RangeCondition &condition : op_.ranges) {
        ir::ExprOp op = probeOp(condition, 1 - side);
        int32_t code = op == ir::ExprOp::Lt   ? KILN_RANGE_LT
                       : op == ir::ExprOp::Le ? KILN_RANGE_LE
                       : op == ir::ExprOp::Gt ? KILN_RANGE_GT
                                              : KILN_RANGE_GE;
        int32_t probe = side == 0 ? condition.left : condition.right;
        int32_t stored = side == 0 ? condition.right : condition.left;
        fields.insert(fields.end(), {static_cast<uint32_t>(probe), static_cast<uint32_t>(code),
                                     static_cast<uint32_t>(stored), 0});
      }
      llvm::Constant *data = llvm::ConstantDataArray::get(e_.ctx_, fields);
      conditions_[side] = new llvm::GlobalVariable(
          e_.module_, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
          op_.stateName() + (side == 0 ? ".left.conditions" : ".right.conditions"));
    }
    return conditions_[side];
  }

  llvm::StructType *payload_type_; // { multiset, widest band }
  const ir::Schema *schemas_[2] = {};
  const RowLayout *rows_[2] = {};
  int32_t indexed_[2] = {};
  std::optional<Band> band_[2];
  llvm::GlobalVariable *layouts_[2] = {};
  llvm::GlobalVariable *probe_keys_[2] = {};
  llvm::GlobalVariable *conditions_[2] = {};
};

} // namespace

std::unique_ptr<OperatorGen> makeRangeJoinGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<RangeJoinGen>(emitter, op);
}

} // namespace kiln::codegen
