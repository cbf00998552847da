#include "kiln/runtime/Engine.h"

#include <csetjmp>
#include <cstdlib>
#include <cstring>

#include "Runtime.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime {

std::string_view errorMessage(int32_t error_code) {
  switch (error_code) {
  case KILN_ERR_INT_OUT_OF_RANGE:
    return "integer out of range";
  case KILN_ERR_BIGINT_OUT_OF_RANGE:
    return "bigint out of range";
  case KILN_ERR_DIVISION_BY_ZERO:
    return "division by zero";
  case KILN_ERR_NUMERIC_OVERFLOW:
    return "numeric field overflow";
  case KILN_ERR_INVALID_TEXT_CAST:
    return "invalid input syntax";
  case KILN_ERR_FLOAT_OUT_OF_RANGE:
    return "value out of range: overflow";
  case KILN_ERR_DATE_OUT_OF_RANGE:
    return "date out of range";
  case KILN_ERR_NEGATIVE_SUBSTRING_LENGTH:
    return "negative substring length not allowed";
  case KILN_ERR_LIKE_TRAILING_ESCAPE:
    return "LIKE pattern must not end with escape character";
  case KILN_ERR_FIELD_POSITION_ZERO:
    return "field position must not be zero";
  case KILN_ERR_LENGTH_TOO_LARGE:
    return "requested length too large";
  case KILN_ERR_INVALID_REGEX:
    return "invalid regular expression";
  case KILN_ERR_INVALID_REGEX_OPTION:
    return "invalid regular expression option";
  case KILN_ERR_APPEND_ONLY_CHANGE:
    return "a delete or an update of a row of a source declared append_only";
  case KILN_ERR_SQRT_NEGATIVE:
    return "cannot take square root of a negative number";
  case KILN_ERR_LOG_ZERO:
    return "cannot take logarithm of zero";
  case KILN_ERR_LOG_NEGATIVE:
    return "cannot take logarithm of a negative number";
  case KILN_ERR_POWER_ZERO_NEGATIVE:
    return "zero raised to a negative power is undefined";
  case KILN_ERR_POWER_COMPLEX:
    return "a negative number raised to a non-integer power yields a complex result";
  case KILN_ERR_FLOAT_UNDERFLOW:
    return "value out of range: underflow";
  case KILN_ERR_INVALID_JSON:
    return "invalid input syntax for type json";
  case KILN_ERR_JSON_UNICODE_NUL:
    return "unsupported Unicode escape sequence: \\u0000 cannot be converted to text";
  case KILN_ERR_JSONB_LENGTH_OF_SCALAR:
    return "cannot get array length of a scalar";
  case KILN_ERR_JSONB_LENGTH_OF_OBJECT:
    return "cannot get array length of a non-array";
  case KILN_ERR_INTERVAL_OUT_OF_RANGE:
    return "interval out of range";
  case KILN_ERR_TIMESTAMP_OUT_OF_RANGE:
    return "timestamp out of range";
  case KILN_ERR_DATE_FIELD_OUT_OF_RANGE:
    return "date field value out of range";
  case KILN_ERR_TIME_FIELD_OUT_OF_RANGE:
    return "time field value out of range";
  case KILN_ERR_SMALLINT_OUT_OF_RANGE:
    return "smallint out of range";
  case KILN_ERR_REAL_OUT_OF_RANGE:
    return "value is out of range for type real";
  case KILN_ERR_JSONB_NULL_KEY:
    return "argument of jsonb_build_object: key must not be null";
  case KILN_ERR_JSONB_NULL_FIELD_NAME:
    return "field name must not be null";
  case KILN_ERR_ARRAY_SYNTAX:
    return "malformed array literal";
  case KILN_ERR_JSONB_ELEMENTS_OF_SCALAR:
    return "cannot extract elements from a scalar";
  case KILN_ERR_JSONB_ELEMENTS_OF_OBJECT:
    return "cannot extract elements from an object";
  case KILN_ERR_JSONB_FIELDS_OF_NON_OBJECT:
    return "cannot call jsonb_each or jsonb_object_keys on a non-object";
  case KILN_ERR_SERIES_STEP_ZERO:
    return "step size cannot equal zero";
  case KILN_ERR_RECORDSET_OF_NON_ARRAY:
    return "cannot call jsonb_to_recordset on a non-array";
  case KILN_ERR_RECORDSET_OF_NON_OBJECTS:
    return "argument of jsonb_to_recordset must be an array of objects";
  case KILN_ERR_RECORD_OF_ARRAY:
    return "cannot call populate_composite on an array";
  case KILN_ERR_RECORD_OF_SCALAR:
    return "cannot call populate_composite on a scalar";
  case KILN_ERR_JSONB_CAST:
    return "cannot cast jsonb value: only a jsonb number casts to a number type, and only a "
           "jsonb boolean to boolean";
  }
  return "unknown runtime error";
}

std::string RuntimeError::describe() const {
  return location.empty() ? message : absl::StrCat(location, ": ", message);
}

namespace {

// "models/marts/revenue.sql:3:25" -> "revenue": models are named by their file.
std::string modelOf(std::string_view location) {
  std::string_view path = location.substr(0, location.find(':'));
  if (!path.ends_with(".sql"))
    return "";
  path.remove_suffix(4);
  if (size_t slash = path.rfind('/'); slash != path.npos)
    path.remove_prefix(slash + 1);
  return std::string(path);
}

// "(id, region)=(1, EU)", as in PostgreSQL's key violation details.
std::string describeKey(const kiln_relation_desc &rel, const void *row) {
  std::vector<std::string> names, values;
  for (int32_t k = 0; k < rel.nkeys; ++k) {
    names.emplace_back(rel.cols[rel.key_cols[k]].name);
    values.push_back(formatValue(rel, rel.key_cols[k], row).value_or("null"));
  }
  return absl::StrCat("(", absl::StrJoin(names, ", "), ")=(", absl::StrJoin(values, ", "), ")");
}

} // namespace

class Engine::Impl final : public RuntimeServices {
public:
  Impl(const kiln_program &program, EngineOptions options) : program(program), options(options) {
    rt.disabled_constants.insert(options.disabled_constants.begin(),
                                 options.disabled_constants.end());
    state = program.create(&rt);
    rt.journal.begin();
  }

  ~Impl() {
    // A tick left unfinished is kept: destroy() then frees everything it reaches, and finishing
    // frees what the tick erased, which nothing reaches any more.
    rt.journal.finish();
    program.destroy(state);
  }

  // One change of the tick, as the driver gave it.
  struct Change {
    int32_t source;
    ChangeOp op;
    const void *row;
    int64_t weight;
    int64_t tag;
  };

  // What pushing a change into the program did.
  static constexpr int32_t kRaised = -1; // a SQL runtime error; else a kiln_apply_result

  void emit(int32_t sink, const void *row, int64_t weight) override {
    if (sink < 0 || sink >= program.nsinks) {
      std::fprintf(stderr, "kiln runtime: kiln_emit: program %s has no sink %d\n", program.name,
                   sink);
      std::abort();
    }
    if (weight == 0)
      return;
    // Kept until the commit is known to succeed; strings stay where they are, which outlives the
    // tick's end (scratch, interned text, or kept text released no earlier than the tick's end).
    const kiln_relation_desc &rel = program.sinks[sink];
    void *copy = rt.scratch.allocate(static_cast<size_t>(rel.row_size),
                                     static_cast<size_t>(std::max<int32_t>(rel.row_align, 8)));
    std::memcpy(copy, row, static_cast<size_t>(rel.row_size));
    emitted.push_back({sink, copy, weight});
  }

  [[noreturn]] void raise(int32_t error_code, int32_t location) override {
    if (!guarded) {
      std::fprintf(stderr, "kiln runtime: program %s raised error %d outside a tick\n",
                   program.name, error_code);
      std::abort();
    }
    raised_code = error_code;
    raised_location = location;
    std::longjmp(jump, 1);
  }

  // Pushes one change into the program: a kiln_apply_result, or kRaised. Nothing with a
  // destructor lives in this frame, which the error's longjmp returns to.
  int32_t pushChange(const Change &change) {
    guarded = true;
    if (setjmp(jump) != 0) {
      guarded = false;
      return kRaised;
    }
    int32_t result = KILN_APPLY_OK;
    if (program.sources[change.source].nkeys == 0) {
      program.push(state, change.source, change.row,
                   change.op == ChangeOp::Delete ? -change.weight : change.weight);
    } else {
      kiln_apply_op op = change.op == ChangeOp::Insert   ? KILN_APPLY_INSERT
                         : change.op == ChangeOp::Delete ? KILN_APPLY_DELETE
                                                         : KILN_APPLY_UPSERT;
      result = program.apply(state, change.source, op, change.row);
    }
    guarded = false;
    return result;
  }

  // Each of `ops` pushes its contents (kiln_op_desc.contents); false if that raised.
  bool pushContents(const std::vector<int32_t> &ops) {
    guarded = true;
    if (setjmp(jump) != 0) {
      guarded = false;
      return false;
    }
    for (int32_t op : ops)
      program.ops[op].contents(state);
    guarded = false;
    return true;
  }

  // The program's commit; false if it raised. (No destructors here either.)
  bool commitProgram() {
    guarded = true;
    if (setjmp(jump) != 0) {
      guarded = false;
      return false;
    }
    program.commit(state);
    guarded = false;
    return true;
  }

  RuntimeError raisedError(bool in_commit, std::optional<int64_t> tag) const {
    RuntimeError error;
    error.code = raised_code;
    error.message = std::string(errorMessage(raised_code));
    if (raised_location >= 0 && raised_location < program.nlocations)
      error.location = program.locations[raised_location];
    error.model = modelOf(error.location);
    error.in_commit = in_commit;
    error.tag = tag;
    return error;
  }

  // Why a keyed source's change did not fit, for a kiln_apply_result other than OK/UNCHANGED.
  std::string misfit(const Change &change, int32_t result) const {
    const kiln_relation_desc &rel = program.sources[change.source];
    if (result == KILN_APPLY_DUPLICATE_KEY)
      return absl::StrCat("duplicate key value violates primary key of ", rel.name, ": ",
                          describeKey(rel, change.row), " already exists");
    return absl::StrCat("no row with key ", describeKey(rel, change.row), " to delete in ",
                        rel.name);
  }

  absl::Status validate(int32_t source, ChangeOp op, const void *row, int64_t weight) const {
    if (source < 0 || source >= program.nsources)
      return absl::InvalidArgumentError(absl::StrCat("no source ", source));
    const kiln_relation_desc &rel = program.sources[source];
    if (weight <= 0)
      return absl::InvalidArgumentError("the weight of a change must be positive");
    if (rel.nkeys == 0) {
      if (op == ChangeOp::Upsert)
        return absl::InvalidArgumentError(
            absl::StrCat("upsert needs a primary key, and ", rel.name, " has none"));
      return checkNotNull(rel, row);
    }
    if (weight != 1)
      return absl::InvalidArgumentError(
          absl::StrCat("\"weight\" must be 1 for ", rel.name, ", which has a primary key"));
    // A delete names its row by key alone; inserts and upserts carry the whole row.
    for (int32_t k = 0; k < rel.nkeys; ++k) {
      if (isNull(row, rel.key_cols[k]))
        return absl::InvalidArgumentError(absl::StrCat("null value in column \"",
                                                       rel.cols[rel.key_cols[k]].name,
                                                       "\" violates not-null constraint"));
    }
    return op == ChangeOp::Delete ? absl::OkStatus() : checkNotNull(rel, row);
  }

  absl::Status change(int32_t source, ChangeOp op, const void *row, int64_t weight, int64_t tag) {
    if (absl::Status status = validate(source, op, row, weight); !status.ok())
      return status;
    Change change{source, op, row, weight, tag};
    int32_t result = pushChange(change);
    switch (result) {
    case KILN_APPLY_OK:
      tick.push_back(change);
      return absl::OkStatus();
    case KILN_APPLY_UNCHANGED:
      return absl::OkStatus();
    case kRaised: {
      error = raisedError(/*in_commit=*/false, tag);
      // The state is half-way through the change: back to the tick's start, and the tick's
      // earlier changes again (they succeeded in this order before, and do again).
      rt.journal.rollback();
      std::vector<Change> earlier = std::move(tick);
      tick.clear();
      for (const Change &c : earlier) {
        if (pushChange(c) == KILN_APPLY_OK)
          tick.push_back(c);
      }
      return absl::AbortedError(error->describe());
    }
    default:
      return absl::InvalidArgumentError(misfit(change, result));
    }
  }

  // A trial of the tick with `changes[0, n)`, from the tick's start.
  struct Trial {
    enum { Committed, ChangeFailed, CommitFailed } outcome;
    size_t change = 0; // ChangeFailed: which
    std::string reason;
    std::optional<RuntimeError> error;
  };
  Trial trial(const std::vector<Change> &changes, size_t n) {
    rt.journal.rollback();
    emitted.clear();
    for (size_t i = 0; i < n; ++i) {
      int32_t result = pushChange(changes[i]);
      if (result == KILN_APPLY_OK || result == KILN_APPLY_UNCHANGED)
        continue;
      if (result == kRaised) {
        RuntimeError raised = raisedError(false, changes[i].tag);
        return {Trial::ChangeFailed, i, raised.describe(), raised};
      }
      return {Trial::ChangeFailed, i, misfit(changes[i], result), std::nullopt};
    }
    if (commitProgram())
      return {Trial::Committed, 0, "", std::nullopt};
    return {Trial::CommitFailed, 0, "", raisedError(true, std::nullopt)};
  }

  absl::StatusOr<CommitReport> commit() {
    CommitReport report;
    if (commitProgram()) {
      finishTick();
      return report;
    }
    RuntimeError failed = raisedError(/*in_commit=*/true, std::nullopt);
    std::vector<Change> changes = std::move(tick);
    tick.clear();
    if (changes.empty() || trial(changes, 0).outcome != Trial::Committed)
      return abortTick(std::move(failed)); // the tick fails with no change at all

    // Find a change without which the tick gets further; with Isolate, leave it out and go on.
    for (;;) {
      Trial blamed = blame(changes);
      if (blamed.outcome == Trial::Committed)
        break;
      if (options.on_error == EngineOptions::OnError::Fail)
        return abortTick(blamed.error ? std::move(*blamed.error) : std::move(failed));
      report.left_out.push_back(
          {changes[blamed.change].tag, std::move(blamed.reason), std::move(blamed.error)});
      changes.erase(changes.begin() + static_cast<ptrdiff_t>(blamed.change));
    }
    tick = std::move(changes);
    finishTick();
    return report;
  }

  // Commits `changes` as the tick if it can (Committed, the program's commit done); else names a
  // change to blame (ChangeFailed): one that raises or no longer fits when pushed after the
  // ones before it, or the last change of the shortest prefix whose commit raises, found by
  // bisection between a prefix that commits (the empty one does) and one that does not.
  Trial blame(const std::vector<Change> &changes) {
    Trial all = trial(changes, changes.size());
    if (all.outcome != Trial::CommitFailed)
      return all;
    size_t lo = 0, hi = changes.size();
    RuntimeError hi_error = std::move(*all.error);
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      Trial t = trial(changes, mid);
      if (t.outcome == Trial::ChangeFailed)
        return t;
      if (t.outcome == Trial::Committed)
        lo = mid;
      else
        hi = mid, hi_error = std::move(*t.error);
    }
    hi_error.tag = changes[hi - 1].tag;
    std::string reason = hi_error.describe();
    return {Trial::ChangeFailed, hi - 1, std::move(reason), std::move(hi_error)};
  }

  absl::Status abortTick(RuntimeError failed) {
    error = std::move(failed);
    rollback();
    return absl::AbortedError(error->describe());
  }

  void finishTick() {
    for (const Emitted &change : emitted) {
      ++changes_out;
      if (sink_callback)
        sink_callback(change.sink, change.row, change.weight);
    }
    ++ticks;
    endTick(/*keep=*/true);
  }

  void rollback() {
    rt.journal.rollback();
    endTick(/*keep=*/false);
  }

  void endTick(bool keep) {
    if (keep)
      rt.journal.finish();
    emitted.clear();
    tick.clear();
    rt.scratch.reset();
    rt.freeReleasedText();
    rt.journal.begin();
  }

  struct Emitted {
    int32_t sink;
    const void *row;
    int64_t weight;
  };

  const kiln_program &program;
  const EngineOptions options;
  kiln_runtime rt{*this};
  void *state = nullptr;
  SinkCallback sink_callback;
  std::vector<Change> tick;     // the changes applied in this tick, in order
  std::vector<Emitted> emitted; // by the commit in progress
  std::optional<RuntimeError> error;
  int64_t ticks = 0;
  int64_t upgrade_ticks = 0; // the ticks of the image an upgrade restored
  bool rebuilding = false;   // between restoreStateForUpgrade and finishUpgrade
  int64_t changes_out = 0;

  // Where a SQL runtime error returns to, and what it was.
  std::jmp_buf jump;
  bool guarded = false;
  int32_t raised_code = 0;
  int32_t raised_location = -1;
};

Engine::Engine() = default;
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::open(const kiln_program *program,
                                                     EngineOptions options) {
  if (program->abi_version != KILN_ABI_VERSION)
    return absl::FailedPreconditionError(
        absl::StrFormat("program %s was built for runtime ABI %d, but this runtime implements "
                        "ABI %d",
                        program->name, program->abi_version, KILN_ABI_VERSION));
  kiln_zone *zone = kiln_zone_keep(program->session_zone);
  if (program->session_zone && !zone)
    return absl::FailedPreconditionError(absl::StrFormat(
        "program %s carries a damaged time zone (%s)", program->name, program->session_zone->name));
  setSessionZone(zone);
  std::unique_ptr<Engine> engine(new Engine());
  engine->impl_ = std::make_unique<Impl>(*program, options);
  return engine;
}

const kiln_program &Engine::program() const { return impl_->program; }
void Engine::setSinkCallback(SinkCallback callback) { impl_->sink_callback = std::move(callback); }
Arena &Engine::scratch() { return impl_->rt.scratch; }

absl::Status Engine::change(int32_t source, ChangeOp op, const void *row, int64_t weight,
                            int64_t tag) {
  return impl_->change(source, op, row, weight, tag);
}
const std::optional<RuntimeError> &Engine::runtimeError() const { return impl_->error; }
absl::StatusOr<CommitReport> Engine::commit() { return impl_->commit(); }
void Engine::rollback() { impl_->rollback(); }

namespace {

void visitRow(void *context, const void *row, int64_t weight) {
  (*static_cast<const Engine::RowCallback *>(context))(row, weight);
}

} // namespace

absl::StatusOr<int64_t> Engine::lookup(int32_t index, const void *key_row,
                                       const RowCallback &visit) {
  const kiln_program &program = impl_->program;
  if (index < 0 || index >= program.nindexes)
    return absl::InvalidArgumentError(absl::StrCat("no index ", index));
  if (hasPendingChanges())
    return absl::FailedPreconditionError("lookups read committed state: commit or roll back first");
  return program.lookup(impl_->state, index, key_row, visitRow, const_cast<RowCallback *>(&visit));
}

absl::StatusOr<int64_t> Engine::scan(int32_t index, const RowCallback &visit) {
  const kiln_program &program = impl_->program;
  if (index < 0 || index >= program.nindexes)
    return absl::InvalidArgumentError(absl::StrCat("no index ", index));
  if (hasPendingChanges())
    return absl::FailedPreconditionError("scans read committed state: commit or roll back first");
  return program.scan(impl_->state, index, visitRow, const_cast<RowCallback *>(&visit));
}

absl::StatusOr<StateImageInfo> Engine::writeState(const StateImageSink &sink) const {
  return writeStateImage(impl_->program, impl_->state, impl_->ticks, sink);
}

absl::Status Engine::restoreState(std::string_view image) {
  Impl &impl = *impl_;
  if (!impl.tick.empty() || impl.ticks != 0)
    return absl::FailedPreconditionError("state can only be restored into a new instance");
  // Loading is not a tick: nothing to undo, and create()'s entries are freed at once.
  impl.rt.journal.finish();
  absl::StatusOr<int64_t> ticks = loadStateImage(impl.program, impl.state, &impl.rt, image);
  if (!ticks.ok()) {
    impl.program.destroy(impl.state);
    impl.state = impl.program.create(&impl.rt);
  } else {
    impl.ticks = *ticks;
  }
  impl.rt.journal.begin();
  return ticks.status();
}

absl::StatusOr<UpgradePlan> Engine::restoreStateForUpgrade(std::string_view image) {
  Impl &impl = *impl_;
  const kiln_program &program = impl.program;
  if (!impl.tick.empty() || impl.ticks != 0)
    return absl::FailedPreconditionError("state can only be restored into a new instance");
  absl::StatusOr<StateImageSummary> saved = summarizeStateImage(image);
  if (!saved.ok())
    return saved.status();
  std::vector<SavedOp> saved_ops;
  for (const StateImageSummary::Op &op : saved->ops)
    saved_ops.push_back({op.fingerprint, op.model});
  UpgradePlan plan = planUpgrade(dataflowOf(program), saved_ops);
  impl.rt.journal.finish();
  absl::StatusOr<int64_t> ticks =
      loadStateImage(program, impl.state, &impl.rt, image,
                     program.nops > 0 ? &plan.kept_names : nullptr); // (hand-written programs)
  impl.rt.journal.begin();
  if (!ticks.ok())
    return ticks.status();
  impl.ticks = *ticks;
  impl.upgrade_ticks = *ticks;
  if (!plan.needed())
    return plan;
  impl.rebuilding = true;
  auto *mute = static_cast<uint8_t **>(impl.state)[program.mute_slot];
  for (int32_t i = 0; i < program.nops; ++i)
    mute[i] = !plan.rebuilt[static_cast<size_t>(i)];
  if (!impl.pushContents(plan.contents))
    return absl::AbortedError(absl::StrCat("while rebuilding from the kept state: ",
                                           impl.raisedError(false, std::nullopt).describe()));
  absl::StatusOr<CommitReport> committed = impl.commit();
  if (!committed.ok())
    return absl::AbortedError(
        absl::StrCat("while rebuilding from the kept state: ", committed.status().message()));
  return plan;
}

int64_t Engine::finishUpgrade() {
  Impl &impl = *impl_;
  const kiln_program &program = impl.program;
  if (!impl.rebuilding)
    return impl.ticks;
  impl.rebuilding = false;
  std::memset(static_cast<uint8_t **>(impl.state)[program.mute_slot], 0,
              static_cast<size_t>(program.nops));
  impl.ticks = impl.upgrade_ticks + 1;
  impl.changes_out = 0;
  return impl.ticks;
}

bool Engine::hasPendingChanges() const { return !impl_->tick.empty(); }
int64_t Engine::ticksCommitted() const { return impl_->ticks; }
int64_t Engine::changesOut() const { return impl_->changes_out; }
StateStats Engine::stateStats() const { return measureState(impl_->program, impl_->state); }
int64_t Engine::dumpState(std::FILE *out) const {
  return kiln::runtime::dumpState(impl_->program, impl_->state, out);
}
void *Engine::state() const { return impl_->state; }
kiln_runtime *Engine::runtime() { return &impl_->rt; }

} // namespace kiln::runtime
