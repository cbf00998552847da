// What a program's operator state holds, measured through the state descriptors the program
// exports (abi.h): entries and bytes per operator and per arrangement, without knowing any
// operator. The basis of --stats and of memory metrics ("which view is the bottleneck").
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kiln/runtime/abi.h"

namespace kiln::runtime {

struct ArrangementStats {
  const kiln_arrangement_desc *desc = nullptr;
  int64_t entries = 0;
  int64_t bytes = 0; // the container and what its entries own (multisets)
};

struct OperatorStats {
  std::string op;    // "join_5"
  std::string kind;  // "join"
  std::string model; // the model it maintains ("" if none)
  // Live entries of its lasting arrangements (a join's stored rows, an aggregate's groups);
  // per-tick state is empty between ticks.
  int64_t entries = 0;
  int64_t bytes = 0;
  std::vector<ArrangementStats> arrangements;
};

struct StateStats {
  std::vector<OperatorStats> operators; // in the program's order, stateful ones only
  int64_t interned_strings = 0;         // distinct strings kept in state, shared by all
  int64_t interned_bytes = 0;
  int64_t kept_text_bytes = 0; // strings entries own (a source's current rows' text)
  int64_t total_bytes = 0;     // operators + interned and kept strings
};

// Measures the state `create` returned for `program` (slot 0 holds the runtime).
StateStats measureState(const kiln_program &program, void *state);

// Every entry of every lasting arrangement, read through the descriptors alone, as JSON lines:
//   {"operator":"join_2","model":"revenue","role":"left","entry":{"id":"1","region":"eu","weight":1}}
// Values print in PostgreSQL's text form (NULL as null), weights and counts as numbers, a MIN/MAX
// multiset as its number of distinct values; per-tick bookkeeping is left out. Returns the
// number of entries written. (--dump-state; the basis of checkpoints.)
int64_t dumpState(const kiln_program &program, void *state, std::FILE *out);

// A binary image of every lasting arrangement (checkpoints; StateImage.cpp documents the
// format), with the number of ticks committed, and a CRC-32 that loading checks: handed to
// `sink` in chunks of about a megabyte as it is made (a checkpoint file), so that an image of a
// large state need not fit in memory beside it. Returns its size and CRC-32 (the one it ends
// with), or the sink's first error.
struct StateImageInfo {
  int64_t bytes = 0;
  uint32_t crc = 0;
};
using StateImageSink = std::function<absl::Status(std::string_view chunk)>;
absl::StatusOr<StateImageInfo> writeStateImage(const kiln_program &program, void *state,
                                               int64_t ticks, const StateImageSink &sink);
// Loads an image into the state `create` just returned for `runtime` (nothing pushed yet):
// returns the image's ticks, DataLoss for a damaged image, FailedPrecondition for an image of
// another project or build. After a failure the state is half-loaded: recreate it.
// With `only_ops` (an upgrade, Upgrade.h), the state of those operators alone (by
// kiln_op_desc.name) is loaded, each from the saved state of an operator of the same
// fingerprint, which must be there; the others keep the state create() gave them.
absl::StatusOr<int64_t> loadStateImage(const kiln_program &program, void *state,
                                       kiln_runtime *runtime, std::string_view image,
                                       const std::set<std::string> *only_ops = nullptr);

// What an image holds, from its table of contents: the project, the ticks, and each lasting
// arrangement's operator, role, model and fingerprint (`kiln diff`).
struct StateImageSummary {
  std::string program;
  int64_t ticks = 0;
  struct Arrangement {
    uint64_t fingerprint = 0;
    std::string op, role, model;
  };
  std::vector<Arrangement> arrangements;
  // Every operator of the build that wrote it (its lasting state or not).
  struct Op {
    uint64_t fingerprint = 0;
    std::string name, model;
  };
  std::vector<Op> ops;
};
absl::StatusOr<StateImageSummary> summarizeStateImage(std::string_view image);

// A table for people (--stats) and a JSON object for tools (--stats-json).
void printStateStats(std::FILE *out, const StateStats &stats);
std::string stateStatsJson(const StateStats &stats);

} // namespace kiln::runtime
