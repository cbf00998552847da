// Inner equi-joins: the binary `join` and the `delta_join` of many inputs, one generator for both.
//
// Each input is stored once. Its rows and their weights live in a home index, keyed by one of the
// keys the other inputs look it up by; each further key has an index of its own whose entries
// point at the home entries (and the home entry points back at them, to erase them with it). A
// change of one input is matched against the other inputs' current rows, looked up one after
// another along the equalities (a delta query: a lookup that finds at most one row goes first),
// and then recorded in its own input's indexes. Processing changes one at a time in any order
// yields every combination of rows exactly once, when the last of its rows arrives: for two
// inputs, dA ⋈ B + A ⋈ dB + dA ⋈ dB. Nothing intermediate is stored.

#include "Operator.h"

#include "kiln/IR/Utils.h"

#include <algorithm>
#include <set>

namespace kiln::codegen {

namespace {

// A column of one of the join's inputs.
struct InputColumn {
  int input = 0;
  int32_t column = 0;
  bool operator==(const InputColumn &) const = default;
};

// One step of matching a change: find the rows of `input` whose key (of its index `index`)
// equals `probe`, columns of inputs already matched; `checks` are the further equalities between
// this input and those, compared after the lookup.
struct Lookup {
  int input = 0;
  size_t index = 0;
  std::vector<InputColumn> probe;
  std::vector<std::pair<int32_t, InputColumn>> checks;
};

struct JoinInput {
  const ir::Op *op = nullptr;
  const RowLayout *layout = nullptr;
  std::string name;                       // "left", "right", or "input2"
  std::vector<std::vector<int32_t>> keys; // of its indexes, in first-use order
  size_t home = 0;                        // the index that holds the rows
  std::vector<int> arrangement;           // per index
  int rows = -1;           // arrangement of its distinct rows (when not unique on home's key)
  std::set<int32_t> equal; // columns an equality reads: a NULL there never matches
  llvm::StructType *entry = nullptr; // home payload: { row, weight, entry of each other index }
  std::vector<Lookup> plan;          // how a change of this input meets the others
};

class JoinGen : public OperatorGen {
public:
  JoinGen(Emitter &emitter, const ir::Op &op);

  size_t consumerCount() const override { return inputs_.size(); }
  std::vector<Arrangement> arrangements() override;
  void defineConsumers() override {
    for (size_t i = 0; i < inputs_.size(); ++i)
      defineInput(static_cast<int>(i));
  }

private:
  InputColumn locate(int32_t column) const {
    int input = 0;
    while (offsets_[input + 1] <= column)
      ++input;
    return {input, column - offsets_[input]};
  }
  bool uniqueOn(int input, const std::vector<int32_t> &key) const;
  void planLookups(int from);
  // The position of the field in the home payload that points at index `index`'s entry.
  unsigned pointerField(const JoinInput &in, size_t index) const {
    return 2 + static_cast<unsigned>(index < in.home ? index : index - 1);
  }
  void defineInput(int i);
  void match(int i, size_t step, std::vector<llvm::Value *> &rows, llvm::Value *weight);
  void record(int i, llvm::Value *row, llvm::Value *weight, llvm::BasicBlock *exit);

  std::vector<JoinInput> inputs_;
  std::vector<int32_t> offsets_; // where each input's columns start in the numbering of all
  std::vector<std::pair<InputColumn, InputColumn>> equalities_;
  std::vector<int32_t> columns_; // the output
};

JoinGen::JoinGen(Emitter &emitter, const ir::Op &op) : OperatorGen(emitter, op) {
  offsets_ = ir::inputOffsets(e_.ir_, op);
  if (op.kind == ir::OpKind::Join) {
    for (size_t k = 0; k < op.left_keys.size(); ++k)
      equalities_.push_back({{0, op.left_keys[k]}, {1, op.right_keys[k]}});
    for (int32_t c = 0; c < offsets_.back(); ++c)
      columns_.push_back(c);
  } else {
    for (auto [a, b] : op.equalities)
      equalities_.push_back({locate(a), locate(b)});
    columns_ = op.columns;
  }
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    JoinInput in;
    in.op = &e_.input(op, i);
    in.layout = &e_.layoutOf(in.op->schema);
    in.name =
        op.kind == ir::OpKind::Join ? (i == 0 ? "left" : "right") : "input" + std::to_string(i);
    inputs_.push_back(std::move(in));
  }
  for (const auto &[a, b] : equalities_) {
    inputs_[a.input].equal.insert(a.column);
    inputs_[b.input].equal.insert(b.column);
  }
  for (size_t i = 0; i < inputs_.size(); ++i)
    planLookups(static_cast<int>(i));
  for (JoinInput &in : inputs_) {
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (uniqueOn(static_cast<int>(&in - inputs_.data()), in.keys[k])) {
        in.home = k;
        break;
      }
    }
    std::vector<llvm::Type *> fields = {in.layout->type, e_.i64_};
    fields.resize(1 + in.keys.size(), e_.ptr_);
    in.entry = llvm::StructType::get(e_.ctx_, fields);
  }
}

// Whether input `input` has at most one live row per value of `key` (a dimension joined on its
// primary key): its home index then finds a row as fast as a table of distinct rows would.
bool JoinGen::uniqueOn(int input, const std::vector<int32_t> &key) const {
  std::optional<std::set<int32_t>> unique = ir::uniqueColumns(e_.ir_, op_.inputs[input]);
  return unique && std::all_of(unique->begin(), unique->end(), [&](int32_t c) {
           return std::find(key.begin(), key.end(), c) != key.end();
         });
}

void JoinGen::planLookups(int from) {
  std::vector<bool> bound(inputs_.size(), false);
  bound[from] = true;
  for (size_t step = 1; step < inputs_.size(); ++step) {
    // The next input: a lookup that finds at most one row goes first (it can only narrow what
    // follows), then one along an equality; an input no equality connects to those matched so
    // far (a cross join) is looked up by the empty key, all of its rows.
    int best = -1, best_score = -1;
    std::vector<int32_t> best_key;
    for (int j = 0; j < static_cast<int>(inputs_.size()); ++j) {
      if (bound[j])
        continue;
      std::set<int32_t> key;
      for (const auto &[a, b] : equalities_) {
        if (a.input == j && bound[b.input])
          key.insert(a.column);
        if (b.input == j && bound[a.input])
          key.insert(b.column);
      }
      std::vector<int32_t> sorted(key.begin(), key.end());
      int score = (uniqueOn(j, sorted) ? 2 : 0) + (key.empty() ? 0 : 1);
      if (score > best_score) {
        best = j;
        best_key = std::move(sorted);
        best_score = score;
      }
    }
    Lookup lookup;
    lookup.input = best;
    JoinInput &in = inputs_[best];
    auto found = std::find(in.keys.begin(), in.keys.end(), best_key);
    lookup.index = static_cast<size_t>(found - in.keys.begin());
    if (found == in.keys.end())
      in.keys.push_back(best_key);
    lookup.probe.resize(best_key.size());
    std::vector<bool> probed(best_key.size(), false);
    for (const auto &[a, b] : equalities_) {
      for (auto [mine, other] : {std::pair{a, b}, std::pair{b, a}}) {
        if (mine.input != best || !bound[other.input])
          continue;
        size_t k = std::find(best_key.begin(), best_key.end(), mine.column) - best_key.begin();
        if (!probed[k]) {
          lookup.probe[k] = other;
          probed[k] = true;
        } else {
          lookup.checks.push_back({mine.column, other});
        }
      }
    }
    inputs_[from].plan.push_back(std::move(lookup));
    bound[best] = true;
  }
}

// Per input: its home index (rows and weights by one key), one index of pointers per further key,
// and, unless it is unique on the home's key, a table of its distinct rows pointing at their home
// entries (a hot key has many rows, and a change must find its identical row fast).
std::vector<Arrangement> JoinGen::arrangements() {
  std::vector<Arrangement> result;
  auto keyNames = [](const JoinInput &in, const std::vector<int32_t> &key) {
    std::string names;
    for (int32_t c : key)
      names += (names.empty() ? "" : ", ") + in.op->schema[c].name;
    return names.empty() ? std::string("nothing") : names;
  };
  for (JoinInput &in : inputs_) {
    in.arrangement.assign(in.keys.size(), -1);
    in.arrangement[in.home] = static_cast<int>(result.size());
    Arrangement home;
    home.role = in.name;
    home.describe = in.name + " rows by " + keyNames(in, in.keys[in.home]);
    home.payload = in.entry;
    home.size = ir::StateSize::GrowsWithInput;
    describeRow(home, 0, *in.layout, in.op->schema);
    describeScalar(home, 1, "weight", KILN_FIELD_WEIGHT);
    home.key_fields = in.keys[in.home]; // a row's fields are its columns
    result.push_back(std::move(home));
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (k == in.home)
        continue;
      in.arrangement[k] = static_cast<int>(result.size());
      Arrangement index;
      index.role = in.name + ".by";
      for (int32_t c : in.keys[k])
        index.role += "_" + in.op->schema[c].name;
      index.describe = in.name + " home entries by " + keyNames(in, in.keys[k]);
      index.payload = llvm::StructType::get(
          e_.ctx_, llvm::ArrayRef<llvm::Type *>{e_.ptr_}); // not the (context, isPacked) overload
      index.size = ir::StateSize::GrowsWithInput;
      describeScalar(index, 0, "entry", KILN_FIELD_ENTRY);
      index.fields.back().target = in.arrangement[in.home];
      result.push_back(std::move(index));
    }
    Arrangement &stored = result[in.arrangement[in.home]];
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (k == in.home)
        continue;
      describeScalar(stored, static_cast<int>(pointerField(in, k)), "entry", KILN_FIELD_ENTRY);
      stored.fields.back().target = in.arrangement[k];
    }
  }
  for (JoinInput &in : inputs_) {
    in.rows = -1;
    if (uniqueOn(static_cast<int>(&in - inputs_.data()), in.keys[in.home]))
      continue;
    Arrangement rows;
    rows.role = in.name + ".rows";
    rows.describe = in.name + " home entries by whole row";
    rows.payload = llvm::StructType::get(e_.ctx_, llvm::ArrayRef<llvm::Type *>{e_.ptr_});
    rows.size = ir::StateSize::GrowsWithInput;
    describeScalar(rows, 0, "entry", KILN_FIELD_ENTRY);
    rows.fields.back().target = in.arrangement[in.home];
    in.rows = static_cast<int>(result.size());
    result.push_back(std::move(rows));
  }
  return result;
}

void JoinGen::defineInput(int i) {
  llvm::Function *f = e_.beginConsumer(consumer(static_cast<size_t>(i)));
  const JoinInput &in = inputs_[i];
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(e_.ctx_, "exit", f);

  // A NULL equals nothing: such a row can never produce output, so it is not even stored.
  llvm::Value *null_key = b_.getFalse();
  for (int32_t c : in.equal)
    null_key = b_.CreateOr(null_key, e_.loadNull(*in.layout, row, c));
  llvm::BasicBlock *work = llvm::BasicBlock::Create(e_.ctx_, "work", f);
  b_.CreateCondBr(null_key, exit, work);
  b_.SetInsertPoint(work);

  std::vector<llvm::Value *> rows(inputs_.size(), nullptr);
  rows[i] = row;
  match(i, 0, rows, weight);
  record(i, row, weight, exit);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

// Emits the change's matches from lookup `step` of input `i`'s plan on, `rows` holding the rows
// matched so far and `weight` the product of their weights.
void JoinGen::match(int i, size_t step, std::vector<llvm::Value *> &rows, llvm::Value *weight) {
  const std::vector<Lookup> &plan = inputs_[i].plan;
  if (step == plan.size()) {
    const RowLayout &out = e_.layoutOf(op_.schema);
    llvm::Value *joined = e_.newRow(out);
    for (size_t c = 0; c < columns_.size(); ++c) {
      InputColumn from = locate(columns_[c]);
      e_.copyColumn(*inputs_[from.input].layout, rows[from.input], from.column, out, joined,
                    static_cast<int>(c));
    }
    e_.emitToConsumers(op_, joined, weight);
    return;
  }
  const Lookup &lookup = plan[step];
  const JoinInput &in = inputs_[lookup.input];
  auto bound = [&](InputColumn c) {
    return ColumnOf{inputs_[c.input].layout, rows[c.input], c.column};
  };
  std::vector<ColumnOf> probe;
  for (InputColumn c : lookup.probe)
    probe.push_back(bound(c));
  llvm::Value *hash = e_.hashColumns(probe);
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  bool home = lookup.index == in.home;
  e_.forEachInChain(slot(in.arrangement[lookup.index]), hash,
                    [&](llvm::Value *, llvm::Value *payload, llvm::BasicBlock *) {
                      llvm::Value *stored =
                          home ? payload : e_.payloadOf(b_.CreateLoad(e_.ptr_, payload));
                      llvm::Value *other = b_.CreateStructGEP(in.entry, stored, 0);
                      llvm::Value *other_weight =
                          b_.CreateLoad(e_.i64_, b_.CreateStructGEP(in.entry, stored, 1));
                      std::vector<ColumnOf> key, wanted = probe;
                      for (int32_t c : in.keys[lookup.index])
                        key.push_back({in.layout, other, c});
                      for (const auto &[c, equal_to] : lookup.checks) {
                        key.push_back({in.layout, other, c});
                        wanted.push_back(bound(equal_to));
                      }
                      llvm::BasicBlock *emit = llvm::BasicBlock::Create(e_.ctx_, "join.emit", f);
                      llvm::BasicBlock *skip = llvm::BasicBlock::Create(e_.ctx_, "join.skip", f);
                      b_.CreateCondBr(e_.columnsEqual(wanted, key), emit, skip);
                      b_.SetInsertPoint(emit);
                      rows[lookup.input] = other;
                      match(i, step + 1, rows, b_.CreateMul(weight, other_weight));
                      rows[lookup.input] = nullptr;
                      b_.CreateBr(skip);
                      b_.SetInsertPoint(skip);
                    });
}

// Records the change in input `i`'s indexes: adds its weight to an identical stored row (found
// through the home index when the input is unique on its key, else through the table of distinct
// rows), erasing the row from every index when the weight reaches zero; or stores a new row.
void JoinGen::record(int i, llvm::Value *row, llvm::Value *weight, llvm::BasicBlock *exit) {
  const JoinInput &in = inputs_[i];
  const RowLayout &layout = *in.layout;
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  std::vector<int32_t> all = Emitter::allColumns(layout.types.size());
  llvm::Value *home = slot(in.arrangement[in.home]);
  llvm::Value *hash = e_.hashColumns(layout, row, in.keys[in.home]);
  llvm::Value *rows = in.rows < 0 ? nullptr : slot(in.rows);
  llvm::Value *row_hash = rows ? e_.hashColumns(layout, row, all) : nullptr;
  llvm::BasicBlock *insert = llvm::BasicBlock::Create(e_.ctx_, "insert", f);
  auto addToStored = [&](llvm::Value *entry, llvm::Value *row_entry) {
    llvm::Value *payload = e_.payloadOf(entry);
    llvm::Value *stored = b_.CreateStructGEP(in.entry, payload, 0);
    llvm::BasicBlock *same = llvm::BasicBlock::Create(e_.ctx_, "same", f);
    llvm::BasicBlock *differs = llvm::BasicBlock::Create(e_.ctx_, "differs", f);
    b_.CreateCondBr(e_.columnsEqual(layout, row, all, layout, stored, all), same, differs);
    b_.SetInsertPoint(same);
    llvm::Value *weight_ptr = b_.CreateStructGEP(in.entry, payload, 1);
    llvm::Value *updated = b_.CreateAdd(b_.CreateLoad(e_.i64_, weight_ptr), weight);
    b_.CreateStore(updated, weight_ptr);
    llvm::BasicBlock *erase = llvm::BasicBlock::Create(e_.ctx_, "erase", f);
    b_.CreateCondBr(b_.CreateICmpEQ(updated, b_.getInt64(0)), erase, exit);
    b_.SetInsertPoint(erase);
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (k == in.home)
        continue;
      llvm::Value *index_entry =
          b_.CreateLoad(e_.ptr_, b_.CreateStructGEP(in.entry, payload, pointerField(in, k)));
      b_.CreateCall(e_.fn("kiln_ht_erase"), {slot(in.arrangement[k]), index_entry});
    }
    b_.CreateCall(e_.fn("kiln_ht_erase"), {home, entry});
    if (row_entry)
      b_.CreateCall(e_.fn("kiln_ht_erase"), {rows, row_entry});
    b_.CreateBr(exit);
    b_.SetInsertPoint(differs);
  };
  if (!rows) {
    e_.forEachInChain(home, hash, [&](llvm::Value *entry, llvm::Value *, llvm::BasicBlock *) {
      addToStored(entry, nullptr);
    });
  } else {
    e_.forEachInChain(rows, row_hash,
                      [&](llvm::Value *row_entry, llvm::Value *row_payload, llvm::BasicBlock *) {
                        addToStored(b_.CreateLoad(e_.ptr_, row_payload), row_entry);
                      });
  }
  b_.CreateBr(insert);
  b_.SetInsertPoint(insert);
  llvm::Value *entry = b_.CreateCall(e_.fn("kiln_ht_insert"), {home, hash});
  llvm::Value *payload = e_.payloadOf(entry);
  llvm::Value *stored = b_.CreateStructGEP(in.entry, payload, 0);
  for (int32_t c : all)
    e_.copyColumn(layout, row, c, layout, stored, c, /*intern=*/true);
  b_.CreateStore(weight, b_.CreateStructGEP(in.entry, payload, 1));
  for (size_t k = 0; k < in.keys.size(); ++k) {
    if (k == in.home)
      continue;
    llvm::Value *index_entry =
        b_.CreateCall(e_.fn("kiln_ht_insert"),
                      {slot(in.arrangement[k]), e_.hashColumns(layout, row, in.keys[k])});
    b_.CreateStore(entry, e_.payloadOf(index_entry));
    b_.CreateStore(index_entry, b_.CreateStructGEP(in.entry, payload, pointerField(in, k)));
  }
  if (rows) {
    llvm::Value *row_entry = b_.CreateCall(e_.fn("kiln_ht_insert"), {rows, row_hash});
    b_.CreateStore(entry, e_.payloadOf(row_entry));
  }
  b_.CreateBr(exit);
}

} // namespace

std::unique_ptr<OperatorGen> makeJoinGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<JoinGen>(emitter, op);
}

std::unique_ptr<OperatorGen> makeDeltaJoinGen(Emitter &emitter, const ir::Op &op) {
  return std::make_unique<JoinGen>(emitter, op);
}

} // namespace kiln::codegen
