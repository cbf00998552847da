// The engine core: one instance of a compiled program's dataflow, with its state, its ticks,
// its outputs and its errors. Drivers feed it: the generated executable's JSON-lines reader
// (Host.h), the C API of generated libraries, kiln-slt. The engine never prints, exits or aborts
// because of its input: every failure is a returned status or a RuntimeError.
//
// Ticks are atomic. Changes are pushed through the dataflow as they arrive; while a tick runs,
// the runtime records every change to operator state in an undo log, and a SQL runtime error
// (division by zero, overflow, an invalid cast) rolls all state back to the tick's start:
//   - raised by a change: the tick's earlier changes are pushed again and the change is left out
//     (nothing of it applied); the driver decides whether to go on or to drop the tick;
//   - raised by commit (an aggregate's output over the whole tick): the engine finds a change to
//     blame, the last of the shortest prefix of the tick whose commit raises (trial commits,
//     bisected). With OnError::Fail nothing of the tick is applied and commit returns the error,
//     naming that change; with OnError::Isolate it is left out, and so on until the rest of the
//     tick commits.
// Sink changes reach the driver only once a commit has succeeded.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kiln/runtime/Arena.h"
#include "kiln/runtime/State.h"
#include "kiln/runtime/Upgrade.h"
#include "kiln/runtime/abi.h"

namespace kiln::runtime {

// A SQL runtime error, as PostgreSQL words it, where the program raised it.
struct RuntimeError {
  int32_t code = 0;     // kiln_error_code
  std::string message;  // "division by zero"
  std::string location; // "models/marts/revenue.sql:3:25", or "" if unknown
  std::string model;    // the model whose SQL holds the location ("revenue"), or ""
  bool in_commit = false;
  // The change that raised it, by the tag the driver gave it; nullopt if no single change can be
  // blamed (an error with no change in the tick).
  std::optional<int64_t> tag;
  // "models/marts/revenue.sql:3:25: division by zero"
  std::string describe() const;
};

enum class ChangeOp { Insert, Delete, Upsert };

struct EngineOptions {
  enum class OnError {
    Fail,    // commit returns the error; nothing of the tick is applied
    Isolate, // commit leaves out the changes that raise errors and applies the rest
  };
  OnError on_error = OnError::Fail;
  // Constant operators (indexes into kiln_program.ops) that emit nothing: the host feeds their
  // replacement rows (a seed's rows from another file) through the program's sources.
  std::vector<int32_t> disabled_constants;
};

// What commit did besides applying the tick.
struct CommitReport {
  // Changes left out of the tick (OnError::Isolate): those that raised a runtime error, and
  // changes of keyed sources that no longer fit once those were left out (a delete of a key
  // whose insertion was), each with its reason.
  struct LeftOut {
    int64_t tag;
    std::string reason;
    std::optional<RuntimeError> error; // set for runtime errors
  };
  std::vector<LeftOut> left_out;
};

class Engine {
public:
  // Receives each change of each sink after a successful commit, consolidated; the row (in the
  // sink's layout) and its strings are valid during the call only.
  using SinkCallback = std::function<void(int32_t sink, const void *row, int64_t weight)>;

  // Creates the program's state. Fails if the program was built for another runtime ABI.
  static absl::StatusOr<std::unique_ptr<Engine>> open(const kiln_program *program,
                                                      EngineOptions options = {});
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  const kiln_program &program() const;
  void setSinkCallback(SinkCallback callback);

  // Memory for rows and strings that lives until the end of the tick (the next commit or
  // rollback).
  Arena &scratch();

  // Applies one change of `source` within the current tick. `row` uses the source's layout and,
  // with its strings, must stay valid until the next commit or rollback returns (scratch()
  // memory does). A keyed source's insert needs a new key, its delete (`row` needs only the key
  // columns) an existing one; upsert needs a key. `weight` repeats the change (keyed: must be 1).
  //   OK: applied (or an upsert of the row the key already has: nothing to do).
  //   InvalidArgument: the change does not fit (duplicate key, no such key, NULL key); nothing
  //     changed.
  //   Aborted: the change raised a SQL runtime error (runtimeError() tells which); nothing of it
  //     is applied, the tick's earlier changes are.
  absl::Status change(int32_t source, ChangeOp op, const void *row, int64_t weight, int64_t tag);
  // The error of the last change or commit that returned Aborted.
  const std::optional<RuntimeError> &runtimeError() const;

  // Ends the tick: the program's commit, then each sink's changes to the callback. Returns
  // Aborted (runtimeError() tells which) when a runtime error leaves nothing of the tick applied.
  absl::StatusOr<CommitReport> commit();
  // Drops the tick: all state as it was when the tick began, nothing emitted.
  void rollback();

  // Models materialized as `index` (kiln_program.indexes): the rows of index `index` whose key
  // columns equal those of `key_row` (a row of the index's layout; NULL equals NULL), or every
  // row, each with its multiplicity; returns how many. The row is valid during the call only.
  // Between ticks only: FailedPrecondition while the tick has changes.
  using RowCallback = std::function<void(const void *row, int64_t weight)>;
  absl::StatusOr<int64_t> lookup(int32_t index, const void *key_row, const RowCallback &visit);
  absl::StatusOr<int64_t> scan(int32_t index, const RowCallback &visit);

  // Checkpoints: an image of all state between ticks, written to `sink` as it is made
  // (writeStateImage in State.h), and the restore of one into an engine that has not been given a
  // change yet. A failed restore leaves the engine as it was opened.
  absl::StatusOr<StateImageInfo> writeState(const StateImageSink &sink) const;
  absl::Status restoreState(std::string_view image);
  // Upgrades (Upgrade.h): restores an image of this build or an earlier one into a new
  // instance, loading the state of the operators the plan keeps, and starts rebuilding the
  // others: the kept operators are muted, the kept operators the plan names push their contents,
  // and the rebuild's first tick commits (its sink changes reach the callback; only rebuilt
  // sinks have any). The driver then replays the records of the plan's replayed sources, from
  // the start of its inputs to the image's positions, through change() and commit(), and calls
  // finishUpgrade(), which unmutes every operator, counts the whole rebuild as one tick after the
  // image's and returns that tick's number. An image of the same build needs no rebuild (the
  // plan says so): finishUpgrade() then changes nothing.
  // A failure (a damaged image, a runtime error raised while rebuilding) leaves the engine
  // unusable: close it.
  absl::StatusOr<UpgradePlan> restoreStateForUpgrade(std::string_view image);
  int64_t finishUpgrade();

  // Whether any change was applied since the last commit.
  bool hasPendingChanges() const;
  int64_t ticksCommitted() const;
  int64_t changesOut() const; // changes delivered to the sink callback
  StateStats stateStats() const;
  int64_t dumpState(std::FILE *out) const;

  // The program's state and the runtime it was created for (tests; the C API's lookups).
  void *state() const;
  kiln_runtime *runtime();

private:
  Engine();
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// PostgreSQL's message for a kiln_error_code ("division by zero", ...).
std::string_view errorMessage(int32_t error_code);

} // namespace kiln::runtime
