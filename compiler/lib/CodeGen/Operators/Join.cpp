// Inner equi-joins: the binary `join` and the `delta_join` of many inputs, one generator for both.
//
// Each input is stored once, in one table whose entries (a row and its weight) are linked into one
// chain per key the other inputs look it up by (kiln_ht_create_chains): the first is its home key,
// and unless the input is unique on that key a last chain by the whole row finds a change's
// identical stored row fast even when a key has many rows. A change of one input is matched
// against the other inputs' current rows, looked up one after another along the equalities (a
// delta query: a lookup that finds at most one row goes first), and then recorded in its own
// input's table. Processing changes one at a time in any order yields every combination of rows
// exactly once, when the last of its rows arrives: for two inputs, dA ⋈ B + A ⋈ dB + dA ⋈ dB.
// Nothing intermediate is stored.
//
// An input computed row by row from a source with a primary key (ir::sharedKeyedSource) keeps its
// rows in the source's table instead (SharedPart, Operators/Source.cpp): each source entry is
// linked into this input's chains while the source's row passes the input's filters, and the
// input's row is computed from the source's (its maps) when it is read. The source's rows are
// stored once. The source pushes an update as a retraction and an insertion, then settles the
// entry; the input defers the retraction to the insertion and does nothing at all when the row it
// sees is the same (an order's status changed, and the join does not read it), so such updates stop
// here without any state of their own. Changes are still met one at a time, each against the
// other inputs' current rows, so the result is the same.

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

// One step of matching a change: find the rows of `input` whose key `keys[key]` equals `probe`,
// columns of inputs already matched (walking the chain of that key); `checks` are the further
// equalities between this input and those, compared after the lookup.
struct Lookup {
  int input = 0;
  size_t key = 0;
  std::vector<InputColumn> probe;
  std::vector<std::pair<int32_t, InputColumn>> checks;
};

struct JoinInput {
  const ir::Op *op = nullptr;
  const RowLayout *layout = nullptr;
  std::string name;                       // "left", "right", or "input2"
  std::vector<std::vector<int32_t>> keys; // other inputs look it up by, in first-use order
  size_t home = 0;                        // the key of chain 0
  std::vector<int32_t> chain;             // per key: the chain linking entries by it
  int32_t rows_chain = -1; // the chain by the whole row (unless unique on the home key)
  int arrangement = -1;    // its table
  std::optional<std::set<int32_t>> unique; // what it is unique on, if known (ir::uniqueColumns)
  std::set<int32_t> equal;                 // columns an equality reads: a NULL there never matches
  llvm::StructType *entry = nullptr;       // an entry's payload: { row, weight }
  std::vector<Lookup> plan;                // how a change of this input meets the others
  // Its rows live in a keyed source's table (ir::sharedKeyedSource); then `maps` compute its row
  // from the source's, and `part` says where its flags are, once the source has laid its table out.
  const ir::Op *source = nullptr;
  std::vector<const ir::Op *> maps; // from the source's side
  const SharedPart *part = nullptr;
  llvm::Function *matcher = nullptr; // matches a change of it against the other inputs
  // Matches an update of one of its rows that keeps the columns the join compares.
  llvm::Function *update_matcher = nullptr;
};

class JoinGen : public OperatorGen {
public:
  JoinGen(Emitter &emitter, const ir::Op &op);

  size_t consumerCount() const override { return inputs_.size(); }
  std::vector<Arrangement> arrangements() override;
  void defineConsumers() override {
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (inputs_[i].source) {
        defineMatcher(static_cast<int>(i));
        defineUpdateMatcher(static_cast<int>(i));
        defineSharedInput(static_cast<int>(i));
        defineSettle(static_cast<int>(i));
      } else {
        defineInput(static_cast<int>(i));
      }
    }
  }
  // A shared input's updates arrive as a retraction and an insertion, which it pairs up itself
  // (defineSharedInput); another input's update of a row to the same row changes nothing.
  void emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                  llvm::Value *weight) override {
    const JoinInput &in = inputs_[port];
    if (in.source)
      OperatorGen::emitUpdate(port, old_row, new_row, weight);
    else
      emitUpdateUnless(e_.rowsIdentical(*in.layout, old_row, new_row), port, old_row, new_row,
                       weight);
  }
  std::vector<std::vector<int32_t>> sharedKeys(size_t port) const override {
    return inputs_[port].source ? inputs_[port].keys : std::vector<std::vector<int32_t>>{};
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
  void defineInput(int i);
  void defineSharedInput(int i);
  // A shared input's changes are matched in three places (a new row, a replaced one, a row
  // settled out): one function each input, not inlined, so that its lookups compile once.
  void defineMatcher(int i);
  // An update of a shared input's row that keeps the columns the join compares meets the same
  // rows of the other inputs: they are looked up once, and each match is an update of a joined
  // row (to consumers that may not read what changed: emitUpdateToConsumers).
  void defineUpdateMatcher(int i);
  void defineSettle(int i);
  // Matches the change `row` of input `i` (weight `weight`) against the other inputs.
  void matchChange(int i, llvm::Value *row, llvm::Value *weight);
  void match(int i, size_t step, std::vector<llvm::Value *> &rows, llvm::Value *weight);
  llvm::Value *joinedRow(const std::vector<llvm::Value *> &rows);
  void record(int i, llvm::Value *row, llvm::Value *weight, llvm::BasicBlock *exit);
  // Input `in`'s table, and a stored row and its weight from an entry payload of it.
  llvm::Value *tableOf(const JoinInput &in) {
    return in.part ? e_.stateSlot(*in.part->source, 0) : slot(in.arrangement);
  }
  llvm::Value *storedRow(const JoinInput &in, llvm::Value *payload) {
    if (!in.part)
      return b_.CreateStructGEP(in.entry, payload, 0);
    return viewOf(in, b_.CreateStructGEP(in.part->payload, payload, 0));
  }
  // The row of a shared input computed from its source's row `source_row`.
  llvm::Value *viewOf(const JoinInput &in, llvm::Value *source_row);
  llvm::Value *storedWeight(const JoinInput &in, llvm::Value *payload) {
    if (in.part)
      return b_.getInt64(1); // a source's row, linked while it passes the input's filters
    return b_.CreateLoad(e_.i64_, b_.CreateStructGEP(in.entry, payload, 1));
  }
  llvm::Value *partOf(const JoinInput &in, llvm::Value *payload) {
    return b_.CreateStructGEP(in.part->payload, payload, in.part->field);
  }
  int64_t payloadSize(const JoinInput &in) {
    return e_.allocSize(in.part ? static_cast<llvm::Type *>(in.part->payload) : in.entry);
  }

  std::vector<JoinInput> inputs_;
  std::vector<int32_t> offsets_; // where each input's columns start in the numbering of all
  std::vector<std::pair<InputColumn, InputColumn>> equalities_;
  std::vector<int32_t> columns_; // the output
  // While an update matcher is generated: the updated row's new version (its old one is matched).
  llvm::Value *updated_row_ = nullptr;
  int updated_input_ = -1;
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
    in.unique = ir::uniqueColumns(e_.ir_, op.inputs[i]);
    in.source = ir::sharedKeyedSource(e_.ir_, op, i);
    for (const ir::Op *step = in.op; in.source && step != in.source; step = &e_.input(*step, 0))
      if (step->kind == ir::OpKind::Map)
        in.maps.insert(in.maps.begin(), step);
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
    if (in.source) // the source's table chains it by every key (arrangements())
      continue;
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (uniqueOn(static_cast<int>(&in - inputs_.data()), in.keys[k])) {
        in.home = k;
        break;
      }
    }
    in.chain.assign(in.keys.size(), 0);
    int32_t next = 1;
    for (size_t k = 0; k < in.keys.size(); ++k)
      if (k != in.home)
        in.chain[k] = next++;
    if (!uniqueOn(static_cast<int>(&in - inputs_.data()), in.keys[in.home]))
      in.rows_chain = next;
    in.entry = llvm::StructType::get(e_.ctx_, {in.layout->type, e_.i64_});
  }
}

// Whether input `input` has at most one live row per value of `key` (a dimension joined on its
// primary key): its chain by that key then finds a row as fast as a chain by the whole row would.
bool JoinGen::uniqueOn(int input, const std::vector<int32_t> &key) const {
  const std::optional<std::set<int32_t>> &unique = inputs_[input].unique;
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
    lookup.key = static_cast<size_t>(found - in.keys.begin());
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

// One table per input: its rows and weights, chained by each key (the home key first) and,
// unless it is unique on the home key, by the whole row.
std::vector<Arrangement> JoinGen::arrangements() {
  std::vector<Arrangement> result;
  auto keyNames = [](const JoinInput &in, const std::vector<int32_t> &key) {
    std::string names;
    for (int32_t c : key)
      names += (names.empty() ? "" : ", ") + in.op->schema[c].name;
    return names.empty() ? std::string("nothing") : names;
  };
  for (size_t i = 0; i < inputs_.size(); ++i) {
    JoinInput &in = inputs_[i];
    if (in.source) {
      // The source laid out its table first (sources come first in the module).
      SharedPart &part = e_.shared_parts_.at({op_.id, i});
      part.settle =
          e_.newFunction(op_.stateName() + ".settle" + std::to_string(i),
                         llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_}, false));
      in.part = &part;
      in.chain.clear();
      for (size_t k = 0; k < in.keys.size(); ++k)
        in.chain.push_back(part.first_chain + static_cast<int32_t>(k));
      // Described for measuring: the rows it has linked in the source's table.
      Arrangement rows;
      rows.role = in.name;
      rows.container = KILN_STATE_SHARED;
      rows.shared_source = in.source;
      rows.shared_chains = in.chain;
      rows.size = ir::StateSize::GrowsWithInput;
      rows.describe = in.name + " rows in " + in.source->stateName() + "'s table, by";
      for (size_t k = 0; k < in.keys.size(); ++k)
        rows.describe += (k ? ", by " : " ") + keyNames(in, in.keys[k]);
      result.push_back(std::move(rows));
      continue;
    }
    in.arrangement = static_cast<int>(result.size());
    Arrangement table;
    table.role = in.name;
    table.describe = in.name + " rows by " + keyNames(in, in.keys[in.home]);
    table.payload = in.entry;
    table.size = ir::StateSize::GrowsWithInput;
    describeRow(table, 0, *in.layout, in.op->schema);
    describeScalar(table, 1, "weight", KILN_FIELD_WEIGHT);
    table.key_fields = in.keys[in.home];  // a row's fields are its columns
    table.unique_key = in.rows_chain < 0; // unique on the home key
    table.chain_keys.resize(in.keys.size() - 1 + (in.rows_chain > 0 ? 1 : 0));
    for (size_t k = 0; k < in.keys.size(); ++k) {
      if (k == in.home)
        continue;
      table.chain_keys[in.chain[k] - 1] = in.keys[k];
      table.describe += ", by " + keyNames(in, in.keys[k]);
    }
    if (in.rows_chain > 0) {
      table.chain_keys[in.rows_chain - 1] = Emitter::allColumns(in.layout->types.size());
      table.describe += " and by the whole row";
    }
    result.push_back(std::move(table));
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

  matchChange(i, row, weight);
  record(i, row, weight, exit);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

// A change of an input whose rows live in a keyed source's table: `row` is computed from the
// entry the source is pushing a change of (its scratch slot), whose own row is still the old one.
// A retraction waits: for the insertion of the same change, which retracts and unlinks the old
// row and links the new one unless the two are the same, or for the settle after the change,
// which takes out a row no longer inserted.
void JoinGen::defineSharedInput(int i) {
  llvm::Function *f = e_.beginConsumer(consumer(static_cast<size_t>(i)));
  const JoinInput &in = inputs_[i];
  llvm::Value *row = f->getArg(1), *weight = f->getArg(2);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(e_.ctx_, "exit", f);
  auto block = [&](const char *name) { return llvm::BasicBlock::Create(e_.ctx_, name, f); };

  llvm::BasicBlock *inserted = block("inserted");
  b_.CreateCondBr(b_.CreateICmpSGT(weight, b_.getInt64(0)), inserted, exit);
  b_.SetInsertPoint(inserted);
  // A NULL equals nothing: a row with one in a key is never linked (settle unlinks the old row).
  llvm::Value *null_key = b_.getFalse();
  for (int32_t c : in.equal)
    null_key = b_.CreateOr(null_key, e_.loadNull(*in.layout, row, c));
  llvm::BasicBlock *work = block("work");
  b_.CreateCondBr(null_key, exit, work);
  b_.SetInsertPoint(work);

  llvm::Value *entry = b_.CreateLoad(e_.ptr_, e_.stateSlotAddress(*in.part->source, 1));
  llvm::Value *payload = e_.payloadOf(entry);
  llvm::Value *part = partOf(in, payload);
  llvm::Value *linked_ptr = b_.CreateStructGEP(in.part->part, part, 0);
  llvm::Value *settled_ptr = b_.CreateStructGEP(in.part->part, part, 1);
  llvm::Value *table = tableOf(in);
  llvm::BasicBlock *was_linked = block("was.linked"), *link = block("link");
  b_.CreateCondBr(b_.CreateICmpNE(b_.CreateLoad(e_.i8_, linked_ptr), b_.getInt8(0)), was_linked,
                  link);
  b_.SetInsertPoint(was_linked);
  // The source's row is still the old one: it replaces it after the change is settled.
  llvm::Value *stored = storedRow(in, payload);
  llvm::BasicBlock *same = block("same"), *replaced = block("replaced");
  b_.CreateCondBr(e_.rowsIdentical(*in.layout, stored, row), same, replaced);
  b_.SetInsertPoint(same);
  b_.CreateStore(b_.getInt8(1), settled_ptr);
  b_.CreateBr(exit);
  b_.SetInsertPoint(replaced);
  std::vector<int32_t> compared(in.equal.begin(), in.equal.end());
  llvm::BasicBlock *update = block("update"), *relink = block("relink");
  b_.CreateCondBr(e_.columnsIdentical(*in.layout, stored, row, compared), update, relink);
  b_.SetInsertPoint(update);
  b_.CreateCall(in.update_matcher, {f->getArg(0), stored, row});
  b_.CreateStore(b_.getInt8(1), settled_ptr);
  b_.CreateBr(exit);
  b_.SetInsertPoint(relink);
  matchChange(i, stored, b_.getInt64(-1));
  for (int32_t chain : in.chain)
    b_.CreateCall(e_.fn("kiln_ht_unlink"), {table, entry, b_.getInt32(chain)});
  b_.CreateBr(link);

  b_.SetInsertPoint(link);
  matchChange(i, row, weight);
  for (size_t k = 0; k < in.keys.size(); ++k)
    b_.CreateCall(e_.fn("kiln_ht_link"), {table, entry, b_.getInt32(in.chain[k]),
                                          e_.hashColumns(*in.layout, row, in.keys[k])});
  b_.CreateStore(b_.getInt8(1), linked_ptr);
  b_.CreateStore(b_.getInt8(1), settled_ptr);
  b_.CreateBr(exit);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

// settle(state, entry), after the source pushed a change of `entry`: a row the change did not
// insert again (it was deleted, or the input's filters now drop it) is retracted and unlinked.
void JoinGen::defineSettle(int i) {
  const JoinInput &in = inputs_[i];
  llvm::Function *f = e_.beginConsumer(in.part->settle);
  llvm::Value *entry = f->getArg(1);
  auto block = [&](const char *name) { return llvm::BasicBlock::Create(e_.ctx_, name, f); };
  llvm::Value *payload = e_.payloadOf(entry);
  llvm::Value *part = partOf(in, payload);
  llvm::Value *linked_ptr = b_.CreateStructGEP(in.part->part, part, 0);
  llvm::Value *settled_ptr = b_.CreateStructGEP(in.part->part, part, 1);
  llvm::BasicBlock *exit = block("exit"), *unsettled = block("unsettled"),
                   *retract = block("retract");
  llvm::Value *settled = b_.CreateICmpNE(b_.CreateLoad(e_.i8_, settled_ptr), b_.getInt8(0));
  b_.CreateStore(b_.getInt8(0), settled_ptr);
  b_.CreateCondBr(settled, exit, unsettled);
  b_.SetInsertPoint(unsettled);
  b_.CreateCondBr(b_.CreateICmpNE(b_.CreateLoad(e_.i8_, linked_ptr), b_.getInt8(0)), retract, exit);
  b_.SetInsertPoint(retract);
  matchChange(i, storedRow(in, payload), b_.getInt64(-1));
  llvm::Value *table = tableOf(in);
  for (int32_t chain : in.chain)
    b_.CreateCall(e_.fn("kiln_ht_unlink"), {table, entry, b_.getInt32(chain)});
  b_.CreateStore(b_.getInt8(0), linked_ptr);
  b_.CreateBr(exit);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

// The maps on the way from the source to the input, evaluated on the stored row. They cannot
// raise: they computed the same row without error when the source's change was pushed.
llvm::Value *JoinGen::viewOf(const JoinInput &in, llvm::Value *source_row) {
  llvm::Value *row = source_row;
  for (const ir::Op *map : in.maps) {
    const RowLayout &from = e_.layoutOf(e_.input(*map, 0).schema);
    const RowLayout &to = e_.layoutOf(map->schema);
    llvm::Value *out = e_.newRow(to);
    for (size_t c = 0; c < map->exprs.size(); ++c)
      e_.storeColumn(to, out, static_cast<int>(c), e_.genExpr(*map->exprs[c], from, row));
    row = out;
  }
  return row;
}

void JoinGen::defineMatcher(int i) {
  JoinInput &in = inputs_[i];
  in.matcher =
      e_.newFunction(op_.stateName() + ".match" + std::to_string(i),
                     llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_, e_.i64_}, false));
  in.matcher->addFnAttr(llvm::Attribute::NoInline);
  llvm::Function *f = e_.beginConsumer(in.matcher);
  std::vector<llvm::Value *> rows(inputs_.size(), nullptr);
  rows[i] = f->getArg(1);
  match(i, 0, rows, f->getArg(2));
  b_.CreateRetVoid();
}

void JoinGen::defineUpdateMatcher(int i) {
  JoinInput &in = inputs_[i];
  in.update_matcher =
      e_.newFunction(op_.stateName() + ".update" + std::to_string(i),
                     llvm::FunctionType::get(b_.getVoidTy(), {e_.ptr_, e_.ptr_, e_.ptr_}, false));
  in.update_matcher->addFnAttr(llvm::Attribute::NoInline);
  llvm::Function *f = e_.beginConsumer(in.update_matcher);
  std::vector<llvm::Value *> rows(inputs_.size(), nullptr);
  rows[i] = f->getArg(1);
  updated_row_ = f->getArg(2);
  updated_input_ = i;
  match(i, 0, rows, b_.getInt64(1));
  updated_row_ = nullptr;
  updated_input_ = -1;
  b_.CreateRetVoid();
}

void JoinGen::matchChange(int i, llvm::Value *row, llvm::Value *weight) {
  if (llvm::Function *matcher = inputs_[i].matcher) {
    llvm::Value *state = b_.GetInsertBlock()->getParent()->getArg(0);
    b_.CreateCall(matcher, {state, row, weight});
    return;
  }
  std::vector<llvm::Value *> rows(inputs_.size(), nullptr);
  rows[i] = row;
  match(i, 0, rows, weight);
}

// Emits the change's matches from lookup `step` of input `i`'s plan on, `rows` holding the rows
// matched so far and `weight` the product of their weights.
void JoinGen::match(int i, size_t step, std::vector<llvm::Value *> &rows, llvm::Value *weight) {
  const std::vector<Lookup> &plan = inputs_[i].plan;
  if (step == plan.size()) {
    if (!updated_row_) {
      e_.emitToConsumers(op_, joinedRow(rows), weight);
      return;
    }
    llvm::Value *joined_old = joinedRow(rows);
    std::vector<llvm::Value *> updated = rows;
    updated[updated_input_] = updated_row_;
    e_.emitUpdateToConsumers(op_, joined_old, joinedRow(updated), weight);
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
  auto body = [&](llvm::Value *, llvm::Value *stored, llvm::BasicBlock *) {
    llvm::Value *other = storedRow(in, stored);
    llvm::Value *other_weight = storedWeight(in, stored);
    std::vector<ColumnOf> key, wanted = probe;
    for (int32_t c : in.keys[lookup.key])
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
  };
  e_.forEachInChain(tableOf(in), hash, body, in.chain[lookup.key], payloadSize(in));
}

llvm::Value *JoinGen::joinedRow(const std::vector<llvm::Value *> &rows) {
  const RowLayout &out = e_.layoutOf(op_.schema);
  llvm::Value *joined = e_.newRow(out);
  for (size_t c = 0; c < columns_.size(); ++c) {
    InputColumn from = locate(columns_[c]);
    e_.copyColumn(*inputs_[from.input].layout, rows[from.input], from.column, out, joined,
                  static_cast<int>(c));
  }
  return joined;
}

// Records the change in input `i`'s table: adds its weight to an identical stored row (found by
// the home key when the input is unique on it, else by the whole row), erasing the entry when
// the weight reaches zero; or stores a new row linked into every chain.
void JoinGen::record(int i, llvm::Value *row, llvm::Value *weight, llvm::BasicBlock *exit) {
  const JoinInput &in = inputs_[i];
  const RowLayout &layout = *in.layout;
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  std::vector<int32_t> all = Emitter::allColumns(layout.types.size());
  llvm::Value *table = slot(in.arrangement);
  llvm::Value *hash = e_.hashColumns(layout, row, in.keys[in.home]);
  llvm::Value *row_hash = in.rows_chain > 0 ? e_.hashColumns(layout, row, all) : hash;
  auto addToStored = [&](llvm::Value *entry, llvm::Value *payload, llvm::BasicBlock *) {
    llvm::Value *stored = b_.CreateStructGEP(in.entry, payload, 0);
    llvm::BasicBlock *same = llvm::BasicBlock::Create(e_.ctx_, "same", f);
    llvm::BasicBlock *differs = llvm::BasicBlock::Create(e_.ctx_, "differs", f);
    b_.CreateCondBr(e_.columnsEqual(layout, row, all, layout, stored, all), same, differs);
    b_.SetInsertPoint(same);
    b_.CreateCall(e_.fn("kiln_ht_touch"), {table, entry});
    llvm::Value *weight_ptr = b_.CreateStructGEP(in.entry, payload, 1);
    llvm::Value *updated = b_.CreateAdd(b_.CreateLoad(e_.i64_, weight_ptr), weight);
    b_.CreateStore(updated, weight_ptr);
    llvm::BasicBlock *erase = llvm::BasicBlock::Create(e_.ctx_, "erase", f);
    b_.CreateCondBr(b_.CreateICmpEQ(updated, b_.getInt64(0)), erase, exit);
    b_.SetInsertPoint(erase);
    b_.CreateCall(e_.fn("kiln_ht_erase"), {table, entry});
    b_.CreateBr(exit);
    b_.SetInsertPoint(differs);
  };
  e_.forEachInChain(table, row_hash, addToStored, std::max(in.rows_chain, 0),
                    e_.allocSize(in.entry));
  llvm::BasicBlock *insert = llvm::BasicBlock::Create(e_.ctx_, "insert", f);
  b_.CreateBr(insert);
  b_.SetInsertPoint(insert);
  llvm::Value *entry = b_.CreateCall(e_.fn("kiln_ht_insert"), {table, hash});
  llvm::Value *payload = e_.payloadOf(entry);
  llvm::Value *stored = b_.CreateStructGEP(in.entry, payload, 0);
  for (int32_t c : all)
    e_.copyColumn(layout, row, c, layout, stored, c, /*intern=*/true);
  b_.CreateStore(weight, b_.CreateStructGEP(in.entry, payload, 1));
  for (size_t k = 0; k < in.keys.size(); ++k)
    if (k != in.home)
      b_.CreateCall(e_.fn("kiln_ht_link"), {table, entry, b_.getInt32(in.chain[k]),
                                            e_.hashColumns(layout, row, in.keys[k])});
  if (in.rows_chain > 0)
    b_.CreateCall(e_.fn("kiln_ht_link"), {table, entry, b_.getInt32(in.rows_chain), row_hash});
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
