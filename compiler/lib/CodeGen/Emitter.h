// The state of one module's code generation and the helpers every operator's generator uses:
// row layouts (Rows.cpp), runtime and stdlib calls (RuntimeCalls.cpp), hashing, key equality
// and the loops over the runtime's containers (Hashing.cpp), scalar expressions
// (Expressions.cpp) and SQL functions (Functions.cpp). Operators/ holds one generator per
// operator family; Program.cpp ties them into the program's entry points and descriptors.
//
// Private to the CodeGen library: LLVM's headers stay out of kiln/CodeGen/CodeGen.h.
#pragma once

#include "kiln/CodeGen/CodeGen.h"
#include "kiln/IR/IR.h"
#include "kiln/runtime/abi.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kiln::codegen {

struct Artifact::Impl {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> target;
};

// A SQL value in registers: the value and its NULL flag (i1).
struct SqlValue {
  llvm::Value *value = nullptr;
  llvm::Value *null = nullptr;
};

// The layout of a row: { [words x i64] null bitmap, then the columns' slots }. The slots are in
// column order unless another order pads less (a NUMERIC is 16-byte aligned): `field_of` maps a
// column to its struct field. Everything outside code generation finds a column through the
// descriptors' offsets.
struct RowLayout {
  llvm::StructType *type = nullptr;
  std::vector<ir::Type> types;
  std::vector<unsigned> field_of; // column -> struct field
  unsigned null_words = 1;
};

class OperatorGen;

// A column of a row in memory: keys whose columns come from several rows (a delta join's lookups)
// are hashed and compared as lists of these.
struct ColumnOf {
  const RowLayout *layout = nullptr;
  llvm::Value *row = nullptr;
  int32_t column = 0;
};

// Where a join input over a keyed source keeps its rows (ir::sharedKeyedSource): in the
// source's table, each entry of which holds the source's current row of a key and is linked into
// the input's chains while the row passes the input's filters. The input's row is computed from
// the source's when it is read. The source's generator lays the table out; the join's reads and
// links it.
struct SharedPart {
  const ir::Op *source = nullptr;      // whose table it is in
  llvm::StructType *payload = nullptr; // the table's entry payload: { row, part... }
  unsigned field = 0;                  // the part in the payload: { linked, settled }
  llvm::StructType *part = nullptr;
  int32_t first_chain = 0; // the input's k-th key is chain first_chain + k
  // Called once the source has pushed all of a change (join.settle): a row that no longer
  // reaches the input (deleted, or dropped by its filters) leaves it here.
  llvm::Function *settle = nullptr;
};

// Walks a container entry: `body(entry, payload, done)`; `done` leaves the loop.
using ChainBody =
    std::function<void(llvm::Value *entry, llvm::Value *payload, llvm::BasicBlock *done)>;

class Emitter {
public:
  Emitter(llvm::LLVMContext &context, llvm::Module &module, const ir::Module &ir,
          const std::vector<SourceTable> &sources, const Options &options);
  ~Emitter();

  // Generates the whole program; false with `error` set if something is not supported.
  bool run(std::string &error);

  // ---- rows (Rows.cpp) ----
  llvm::Type *valueType(const ir::Type &type);
  const RowLayout &layoutOf(const std::vector<ir::Type> &types);
  const RowLayout &layoutOf(const ir::Schema &schema);
  static int32_t storageKind(const ir::Type &type);
  llvm::Value *columnPtr(const RowLayout &row_layout, llvm::Value *row, int column);
  llvm::Value *nullWordPtr(const RowLayout &row_layout, llvm::Value *row, int column);
  llvm::Value *loadNull(const RowLayout &row_layout, llvm::Value *row, int column);
  SqlValue loadColumn(const RowLayout &row_layout, llvm::Value *row, int column,
                      bool nullable = true);
  // Stores a value; NULL stores zero and sets the bit.
  void storeColumn(const RowLayout &row_layout, llvm::Value *row, int column, SqlValue v);
  llvm::Value *newRow(const RowLayout &row_layout); // a zeroed row on the stack
  llvm::Value *entryAlloca(llvm::Type *type);
  void copyColumn(const RowLayout &from, llvm::Value *src, int i, const RowLayout &to,
                  llvm::Value *dst, int j, bool intern = false);
  llvm::Value *internText(llvm::Value *text);
  llvm::Value *constantText(const std::string &text);
  llvm::Value *literal(const ir::Value &v, const ir::Type &type);
  int64_t allocSize(llvm::Type *type) const;
  static std::vector<int32_t> allColumns(size_t n);

  // ---- runtime and stdlib calls (RuntimeCalls.cpp) ----
  // The declaration of a runtime call (from kiln/runtime/calls.def) or stdlib function.
  llvm::Function *fn(const std::string &name);
  // Calls a stdlib or runtime function with the signature clang gave it (see the .cpp).
  llvm::Value *call(const std::string &name, std::vector<llvm::Value *> args);
  llvm::Function *newFunction(const std::string &name, llvm::FunctionType *type);
  llvm::Value *rt() { return rt_; }
  // The session time zone's kiln_zone (kiln/runtime/zone.h), or a null pointer for UTC; and any
  // zone's (AT TIME ZONE), each embedded once.
  llvm::Constant *sessionZone();
  llvm::Constant *zoneGlobal(const std::string &name);
  bool zoned() { return !sessionZone()->isNullValue(); }
  // Whether a timestamptz argument is read on a session zone's clock (not UTC's), and its value
  // for a date field (kiln_date_field) of it: the wall-clock time, except for the epoch.
  bool onZoneClock(const ir::Expr &arg);
  // extract's time zone fields of a timestamptz (kiln_date_field_is_zone): an i64.
  llvm::Value *zoneField(const ir::Expr &arg, int32_t field, llvm::Value *value);
  llvm::Value *wallClock(const ir::Expr &arg, int32_t field, llvm::Value *value);
  // Destroys a multiset of operator state unless `set` is null (none was created).
  void destroyMultiset(llvm::Value *set);
  // A kiln_relation_desc (abi.h) of rows of `schema`: columns, layout, and `key` columns.
  llvm::Constant *relationDescriptor(const std::string &name, const std::string &location,
                                     const ir::Schema &schema, const std::vector<int32_t> &key,
                                     const Connector &connector);
  llvm::StructType *columnDescType();
  llvm::StructType *relationDescType();
  // An operator's index in kiln_program.ops, as the runtime names operators.
  int32_t opIndex(int32_t op_id) const { return op_index_.at(op_id); }
  // A payload pointer from a runtime container entry, and back.
  llvm::Value *payloadOf(llvm::Value *entry);
  llvm::Value *entryOf(llvm::Value *payload);

  // ---- hashing, equality and container loops (Hashing.cpp) ----
  llvm::Value *hashValue(const ir::Type &type, llvm::Value *v);
  llvm::Value *hashColumns(const RowLayout &row_layout, llvm::Value *row,
                           const std::vector<int32_t> &columns);
  llvm::Value *hashColumns(const std::vector<ColumnOf> &columns);
  // Equality of two non-NULL values of one type (numeric: any scales).
  llvm::Value *valuesEqual(const ir::Type &ta, llvm::Value *a, const ir::Type &tb, llvm::Value *b);
  // NULL-aware ("not distinct") equality of columns of two rows, as grouping compares keys.
  llvm::Value *columnsEqual(const RowLayout &la, llvm::Value *ra, const std::vector<int32_t> &ca,
                            const RowLayout &lb, llvm::Value *rb, const std::vector<int32_t> &cb);
  llvm::Value *columnsEqual(const std::vector<ColumnOf> &a, const std::vector<ColumnOf> &b);
  // Whether two rows of one layout hold the same values bit for bit (text byte for byte): an
  // update to such a row changes nothing anyone can see, not even -0 for 0.
  llvm::Value *rowsIdentical(const RowLayout &layout, llvm::Value *a, llvm::Value *b);
  // Whether two values of `type` hold the same bits (text: the same bytes).
  llvm::Value *sameBits(const ir::Type &type, llvm::Value *a, llvm::Value *b);
  // rowsIdentical on `columns` only.
  llvm::Value *columnsIdentical(const RowLayout &layout, llvm::Value *a, llvm::Value *b,
                                const std::vector<int32_t> &columns);
  // Walks the chain for `hash` calling `body` for the entries with that hash. In a table of
  // several chains (kiln_ht_create_chains), `chain` k >= 1 of entries whose payload is
  // `payload_size` bytes.
  void forEachInChain(llvm::Value *table, llvm::Value *hash, const ChainBody &body,
                      int32_t chain = 0, int64_t payload_size = 0);
  // Walks the entries listed in `list` (a kiln_ptrvec of entries changed in this tick), then
  // clears it. `body` must leave the insert point in a block that falls through.
  void forEachListed(llvm::Value *list, const std::function<void(llvm::Value *entry)> &body);
  // Walks every entry of `table` (for destruction: `body` must not erase).
  void forEachEntry(llvm::Value *table, const std::function<void(llvm::Value *entry)> &body);
  // Whether the caller writes a found entry's payload in a table that lasts across ticks (the
  // entry is touched first: abi.h, atomic ticks) or in one emptied by every commit.
  enum class Writes { Lasting, WithinTick };
  // Finds the entry of `table` for `hash` whose payload `matches`, or inserts a zeroed one and
  // lets `initialize` fill it. Returns the payload.
  llvm::Value *findOrInsert(llvm::Value *table, llvm::Value *hash,
                            const std::function<llvm::Value *(llvm::Value *payload)> &matches,
                            const std::function<void(llvm::Value *payload)> &initialize,
                            Writes writes = Writes::Lasting);
  // findOrInsert for a table whose payloads start with a row of layout `row_layout`, found by
  // the whole row (NULLs equal).
  llvm::Value *findOrInsertRow(llvm::Value *table, llvm::StructType *payload_type,
                               const RowLayout &row_layout, llvm::Value *row,
                               const std::function<void(llvm::Value *payload)> &initialize,
                               Writes writes = Writes::Lasting);

  // ---- expressions (Expressions.cpp, Functions.cpp) ----
  SqlValue genExpr(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  int32_t locationIndex(const ir::Location &loc);
  // Branches to a block that raises `code` when `condition` holds.
  void raiseIf(llvm::Value *condition, kiln_error_code code, const ir::Location &loc);
  // A call of a stdlib function that writes its text result through a pointer.
  llvm::Value *textOut(const std::string &function, std::vector<llvm::Value *> args);

  // ---- operators (Program.cpp) ----
  // Starts the body of `f`, a consumer or flush function taking the state array first: the
  // builder at its entry, the state and the runtime loaded.
  llvm::Function *beginConsumer(llvm::Function *f);
  // Defines `f` (as beginConsumer starts it; `body` ends it) while in the middle of another
  // function's body, which continues afterwards where it was.
  void defineAside(llvm::Function *f, const std::function<void(llvm::Function *)> &body);
  // Emits what `call` emits, a call of `user`'s consumer, unless the program's mute byte of
  // `user` is set (kiln_program.mute_slot); stateless operators are never muted.
  void unlessMuted(const OperatorGen &user, const std::function<void()> &call);
  // Calls the consumer of every operator that reads `producer`'s stream with one change.
  void emitToConsumers(const ir::Op &producer, llvm::Value *row, llvm::Value *weight);
  // Hands every operator that reads `producer`'s stream the update of `old_row` to `new_row`
  // (`weight` times), through producer's updater.
  void emitUpdateToConsumers(const ir::Op &producer, llvm::Value *old_row, llvm::Value *new_row,
                             llvm::Value *weight);
  // `producer`.update(state, old row, new row, weight): each of its users' emitUpdate. Defined
  // on first use, so only the paths an update can take have one.
  llvm::Function *updaterOf(const ir::Op &producer);
  // The container in `op`'s state slot `index` (in the order of its arrangements).
  llvm::Value *stateSlot(const ir::Op &op, int index);
  // The address of `op`'s slot `index` (after its arrangements' slots: its scratch slots).
  llvm::Value *stateSlotAddress(const ir::Op &op, int index);
  OperatorGen &generatorOf(const ir::Op &op);
  const ir::Op &input(const ir::Op &op, size_t i) const { return *ir_.find(op.inputs[i]); }
  // Records a construct code generation cannot compile; run() reports it.
  void unsupported(std::string what) { missing_ = std::move(what); }

  // The join inputs that keep their rows in a keyed source's table, by (join op id, port).
  std::map<std::pair<int32_t, size_t>, SharedPart> shared_parts_;

  llvm::LLVMContext &ctx_;
  llvm::Module &module_;
  const ir::Module &ir_;
  std::map<std::string, llvm::Constant *> zones_; // by name
  const std::vector<SourceTable> &sources_;
  const Options &options_;
  llvm::IRBuilder<> b_;
  const llvm::DataLayout &layout_;
  llvm::Type *i1_, *i8_, *i32_, *i64_, *i128_, *f64_, *ptr_;
  llvm::StructType *str_;

private:
  SqlValue genCall(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  // `null`: whether an argument is NULL (genCall's).
  // The (text, length, given) operands of an optional third argument that names NULL elements
  // (array_to_string's and string_to_array's null_text).
  void appendNullText(std::vector<llvm::Value *> &operands, const std::vector<SqlValue> &args);
  // x op ANY/ALL (array) over an array value (kiln_array_compare, Functions.def).
  SqlValue arrayCompare(const ir::Expr &e, const std::vector<SqlValue> &args);
  SqlValue jsonbAccess(const ir::Expr &e, const std::vector<SqlValue> &args,
                       llvm::Value *null); // Functions.cpp
  SqlValue genCast(const ir::Expr &e, SqlValue v, const ir::Type &from);
  // Raises "smallint out of range" unless the 32-bit `value` is a smallint; returns it.
  llvm::Value *jsonbBuild(const ir::Expr &e, const std::vector<SqlValue> &args);
  llvm::Value *smallintInRange(llvm::Value *value, const ir::Location &loc);
  llvm::Value *genArithmetic(const ir::Expr &e, ir::ExprOp op, llvm::Value *a, const ir::Type &ta,
                             llvm::Value *b, const ir::Type &tb);
  llvm::Value *genCompare(ir::ExprOp op, llvm::Value *a, const ir::Type &ta, llvm::Value *b,
                          const ir::Type &tb);
  SqlValue genLogic(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  SqlValue genCase(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  SqlValue genCoalesce(const ir::Expr &e, const RowLayout &row_layout, llvm::Value *row);
  // The value of `type` arriving from each of `exits` (a block and what it computed): the
  // builder must be at the block they all branch to.
  // `compute()` evaluated only when `null` is false (block `name`), else zero: SQL operations
  // that could raise must not run on NULL operands.
  llvm::Value *unlessNull(llvm::Value *null, llvm::Type *type, const char *name,
                          const std::function<llvm::Value *()> &compute);
  SqlValue mergeExits(llvm::Type *type,
                      const std::vector<std::pair<llvm::BasicBlock *, SqlValue>> &exits);

  void defineEntryPoints();
  void defineProgram();
  llvm::Constant *stateDescriptors(int32_t &count);
  // Records an internal error unless `type`'s layout is the C struct's (abi.h).
  void checkLayout(llvm::StructType *type, size_t size, std::initializer_list<size_t> offsets);

  std::map<std::string, RowLayout> layouts_;
  std::vector<std::string> locations_;
  std::map<std::string, int32_t> location_index_;
  std::string missing_;
  std::vector<std::unique_ptr<OperatorGen>> generators_;
  std::map<int32_t, OperatorGen *> generator_of_;
  // Per operator id, the operators that read its stream and on which input port, in module order.
  std::map<int32_t, std::vector<std::pair<OperatorGen *, size_t>>> users_;
  std::map<int32_t, llvm::Function *> updaters_; // updaterOf, by operator id
  int slot_count_ = 1;                           // slot 0 holds the runtime
  int mute_slot_ = -1;                           // kiln_program.mute_slot
  std::map<int32_t, int32_t> op_index_;          // op id -> index in kiln_program.ops
  llvm::Value *state_ = nullptr;
  llvm::Value *rt_ = nullptr;
};

} // namespace kiln::codegen
