// The code generator of one operator: its consumer functions, its tick-end flush, and the state
// it keeps, described as arrangements so that the program's state descriptors (abi.h) let the
// runtime measure, save and restore it without knowing the operator.
//
// Every kind in Ops.def has a factory `make<Kind>Gen` defined in its family's file under
// Operators/: a kind without one does not link.
#pragma once

#include <functional>

#include "../Emitter.h"

namespace kiln::codegen {

// One field of an arrangement's entry payload, as the state descriptor lists it.
struct StateField {
  std::string name; // a column name, or the role: "weight", "count", "dirty"
  kiln_state_field_kind kind = KILN_FIELD_VALUE;
  int32_t type = KILN_T_INT64; // kiln_type_kind of a VALUE or a MULTISET's values
  int32_t scale = 0;           // NUMERIC
  int64_t offset = 0;          // in the payload
  int64_t null_offset = -1;    // the null word's offset, or -1 if never NULL
  int32_t null_bit = 0;
};

// One container of operator state.
struct Arrangement {
  std::string role; // "left", "groups", "changed", ...
  kiln_state_container container = KILN_STATE_HASH;
  llvm::StructType *payload = nullptr; // HASH: each entry's payload
  std::vector<int32_t> key_fields;     // indexes into `fields` the entries are hashed by
  // HASH: the keys of the chains after the first (kiln_ht_create_chains), as indexes into
  // `fields`; a chain by the whole row lists every column's field.
  std::vector<std::vector<int32_t>> chain_keys;
  // HASH: per chain after the first, the field (a flag) that says an entry is linked in it, or
  // -1 if every entry is; empty: every entry is in every chain.
  std::vector<int32_t> chain_member;
  // HASH: at most one live entry per key of the first chain (groups, distinct rows), so its
  // entries need no back link (KILN_HT_UNIQUE_FIRST_CHAIN).
  bool unique_key = false;
  std::vector<StateField> fields;
  bool transient = false; // empty between ticks: nothing to save
  // SHARED: the operator whose first arrangement (a HASH table) holds these rows, and the chains
  // of that table they are linked in.
  const ir::Op *shared_source = nullptr;
  std::vector<int32_t> shared_chains;
  ir::StateSize size = ir::StateSize::None;
  std::string describe; // what it holds, for descriptors and --stats
};

class OperatorGen {
public:
  OperatorGen(Emitter &emitter, const ir::Op &op);
  virtual ~OperatorGen();

  const ir::Op &op() const { return op_; }

  // How many consumer functions it has: one per input port, or one for all (the default).
  virtual size_t consumerCount() const { return 1; }
  // Its state, in slot order. Stateless operators keep none.
  virtual std::vector<Arrangement> arrangements() { return {}; }
  // Defines the consumer functions (declared by declare()).
  virtual void defineConsumers() = 0;
  // Emits, inline, taking an update arriving on input `port`: `old_row` replaced by `new_row`,
  // `weight` times (Emitter::emitUpdateToConsumers). By default a retraction of the old row and
  // an insertion of the new; an operator whose result cannot change when the columns it reads did
  // not stops the update there, and a linear one passes it on as an update of its own rows, so
  // that an update of a column only some consumers read costs the others nothing.
  virtual void emitUpdate(size_t port, llvm::Value *old_row, llvm::Value *new_row,
                          llvm::Value *weight);
  // Defines the tick-end flush; only kinds that Ops.def marks kFlushes have one.
  virtual void defineFlush() {}
  // Whether its state holds its whole output, which contents() can push to its consumers
  // (kiln_op_desc.contents), and the definition of that function.
  virtual bool hasContents() const { return false; }
  virtual void defineContents() {}
  // Emits into create(), after its containers exist (e.g. the global aggregate's one group).
  virtual void emitCreate() {}
  // Emits into destroy(), before its containers are freed (e.g. MIN/MAX multisets).
  virtual void emitDestroy() {}
  // Slots after its arrangements' that hold a value within a change, not a container.
  virtual int scratchSlots() const { return 0; }
  // The keys of input `port`'s rows that the operator looks them up by, when it keeps that
  // input's rows in a keyed source's table (SharedPart): the source's generator lays out one
  // chain per key.
  virtual std::vector<std::vector<int32_t>> sharedKeys(size_t /*port*/) const { return {}; }

  // Creates the consumer and flush functions, named after the operator, and records its
  // arrangements (state()), which occupy the slots from `first_slot` on.
  void declare(int first_slot);
  const std::vector<Arrangement> &state() const { return state_; }
  llvm::Function *consumer(size_t port) const {
    return consumers_.size() > 1 ? consumers_[port] : consumers_[0];
  }
  llvm::Function *flusher() const { return flusher_; }
  // <op>.contents(state), or null (hasContents).
  llvm::Function *contents() const { return contents_; }
  // A keyed source's: applies one change (abi.h, kiln_program.apply).
  llvm::Function *applier() const { return applier_; }
  // An index's: index_N.lookup(state, key_row, visit, context) and index_N.scan(state, visit,
  // context), as kiln_program.lookup and .scan call them for this index.
  llvm::Function *lookupFunction() const { return lookup_; }
  llvm::Function *scanFunction() const { return scan_; }
  bool consumes() const { return !consumers_.empty(); }
  int first_slot = -1;

protected:
  // The container of arrangement `index`.
  llvm::Value *slot(int index) { return e_.stateSlot(op_, index); }
  // Fields describing a row of `schema` (laid out as `row`) stored at payload field `field`: its
  // columns' names, types, and NULL bits (none for a column that is never NULL).
  void describeRow(Arrangement &arrangement, int field, const RowLayout &row,
                   const ir::Schema &schema);
  // The per-tick list of entries changed in this tick (of the operator's first arrangement),
  // which its flush walks: empty between ticks.
  static Arrangement changedList(std::string describe);
  // The default update, unless `same` (i1) holds: then the update changes nothing here.
  void emitUpdateUnless(llvm::Value *same, size_t port, llvm::Value *old_row, llvm::Value *new_row,
                        llvm::Value *weight);
  void describeScalar(Arrangement &arrangement, int field, std::string name,
                      kiln_state_field_kind kind, int32_t type = KILN_T_INT64);
  // Emits `body` for each of `n` rows with weights (kiln_topk_change, abi.h) at `changes`.
  void forEachChange(llvm::Value *changes, llvm::Value *n,
                     const std::function<void(llvm::Value *row, llvm::Value *weight)> &body);

  Emitter &e_;
  const ir::Op &op_;
  llvm::IRBuilder<> &b_;
  std::vector<llvm::Function *> consumers_;
  std::vector<Arrangement> state_;
  llvm::Function *flusher_ = nullptr;
  llvm::Function *contents_ = nullptr;
  llvm::Function *applier_ = nullptr;
  llvm::Function *lookup_ = nullptr;
  llvm::Function *scan_ = nullptr;
};

#define KILN_OP(Kind, ...)                                                                         \
  std::unique_ptr<OperatorGen> make##Kind##Gen(Emitter &emitter, const ir::Op &op);
#include "kiln/IR/Ops.def"

std::unique_ptr<OperatorGen> makeOperatorGen(Emitter &emitter, const ir::Op &op);

} // namespace kiln::codegen
