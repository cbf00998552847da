// A directory of checkpoints of the generated executable (--checkpoint-dir): each one the
// program's state image (State.h) and a manifest of where every input and output stood.
//
//   DIR/checkpoint-000042/state.bin      the state image (it carries its own CRC-32)
//   DIR/checkpoint-000042/manifest.json  written last: sequence, ticks, inputs, outputs, counters,
//                                        and the state image's size and CRC-32
// A checkpoint is written into DIR/.partial-000042 (each file fsync'ed), which is renamed into
// place and the directory fsync'ed: a checkpoint is complete or absent, never half-written. The
// previous checkpoint is kept until the new one is complete, then older ones go; so a damaged
// newest checkpoint (detected by sizes and checksums) leaves the one before it to resume from.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kiln/runtime/State.h"

namespace kiln::runtime {

struct CheckpointManifest {
  int64_t sequence = 0;
  int64_t ticks = 0; // committed when it was taken
  struct Input {
    std::string path;
    int64_t offset = 0; // bytes read and applied
    int64_t line = 0;   // lines read (for messages after a restart)
    // A Kafka input's: per partition, the offset of the next message to read.
    std::vector<std::pair<int32_t, int64_t>> partitions;
  };
  std::vector<Input> inputs; // in the command's order; the ones before `current` are done
  int64_t current = 0;       // the input being read (inputs.size(): all done)
  struct Output {
    std::string path;
    int64_t length = 0;
  };
  std::vector<Output> outputs; // sink files and the dead-letter file, as long as they were
  // The host's counters (HostStats).
  int64_t records_read = 0, bad_records = 0, runtime_errors = 0, changes_out = 0;
  std::map<std::string, int64_t> failing_rows; // HostStats::failing_rows
};

struct Checkpoint {
  CheckpointManifest manifest;
  std::string state; // the state image
  std::string name;  // "checkpoint-000042"
};

// Writes a state image (Engine::writeState: through the sink it is given, chunk by chunk).
using StateImageWriter = std::function<absl::StatusOr<StateImageInfo>(const StateImageSink &)>;

// Writes the image to `path` atomically and durably: a temporary file beside it, fsync'ed,
// renamed over it, the directory fsync'ed.
absl::Status writeFileAtomically(const std::string &path, const StateImageWriter &write_state);
absl::StatusOr<std::string> readFile(const std::string &path);

class CheckpointDir {
public:
  explicit CheckpointDir(std::string path) : path_(std::move(path)) {}

  // Writes checkpoint `manifest.sequence` atomically (the state image as `write_state` makes it,
  // then the manifest), then removes all but it and the one before.
  absl::Status write(const CheckpointManifest &manifest, const StateImageWriter &write_state);

  // The newest complete, undamaged checkpoint, or nullopt if there is none (a new directory).
  // Each checkpoint skipped as damaged adds a warning.
  absl::StatusOr<std::optional<Checkpoint>> latest(std::vector<std::string> &warnings) const;

  // The highest sequence number in the directory, complete, damaged or partial (0 if none): a
  // new checkpoint takes a higher one, so that it never replaces a directory in place.
  int64_t lastSequence() const;

  const std::string &path() const { return path_; }

private:
  std::string path_;
};

} // namespace kiln::runtime
