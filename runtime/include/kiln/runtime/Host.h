// The host around a compiled program: feeds it change records, runs its ticks and writes what its
// sinks emit. Used by the generated executable's main (runMain) and by in-process embedders such
// as kiln-slt, which JIT-compiles a program and drives a Host directly.
//
// Input is JSON lines, one change record per line:
//   {"table":"shop.orders","op":"insert","row":{"id":1,"amount":"12.50"}}   op:
//   insert|delete|upsert
//   {"op":"commit"}                                                         ends a tick
// "table" may be the table name alone if no other source has it, or be left out for an input
// given a default source, where a bare row object ({"id":1,...}) means insert. An optional
// "weight" multiplies an insert or delete. For sources with a primary key the host keeps the
// current row of every key: an upsert becomes delete(old) + insert(new), a delete needs only the
// key columns, and inserting an existing key or deleting a missing one is a bad record.
//
// Output, per tick and sink, sorted (deletions first, then by row) as JSON lines:
//   {"tick":3,"sink":"revenue","weight":-1,"row":{"region":"EU","revenue":12.50}}
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kiln/runtime/Engine.h"
#include "kiln/runtime/State.h"
#include "kiln/runtime/abi.h"

namespace kiln::runtime {

namespace detail {
class KafkaSource; // runtime/lib/Kafka.h
} // namespace detail

// What a source table's input holds.
enum class SourceFormat {
  Json,     // change records, or plain rows to insert (an input given the table)
  Debezium, // Debezium's JSON change events, with or without the schema wrapper
  Upsert,   // Kafka messages keyed by primary key: the value is the row, none deletes the key's
};

// Where a sink's changes go, and in what form (Connector.h parses the addresses).
struct SinkTarget {
  // None: written nowhere (a data test's failing rows, which the host counts and reports).
  enum class Kind { Stdout, File, Kafka, None };
  enum class Format {
    Json,     // change records: {"tick":N,"sink":"s","weight":w,"row":{...}}
    Csv,      // a header, then per change: tick, weight, the columns (files)
    Debezium, // Debezium's envelope: {"before":...,"after":...,"op":"c|u|d",...}; with key
              // columns a key's delete and insert in one tick are one "u", and (Kafka) a
              // delete is followed by a tombstone
    Upsert,   // Kafka: per key changed in a tick, its row, or a tombstone if it has none
  };
  Kind kind = Kind::Stdout;
  Format format = Format::Json;
  std::string path;             // Kind::File
  std::string brokers, topic;   // Kind::Kafka
  std::vector<std::string> key; // Kafka: the columns of each message's key (a JSON object)
  std::string describe() const; // as an address: file:PATH, kafka://BROKERS/TOPIC?format=...
};

struct HostOptions {
  enum class BadRecordPolicy {
    Skip,       // report on stderr, count, go on
    DeadLetter, // append to dead_letter_path with the reason, count, go on
    Fail,       // report on stderr; the caller stops (pushRecord returns false)
  };

  // Commit a tick after this many change records; 0: only at commit records and end of input.
  int64_t tick_size = 0;
  BadRecordPolicy policy = BadRecordPolicy::Skip;
  // A record whose change raises a SQL runtime error (division by zero, overflow, ...): Fail
  // stops the input, the tick not applied (every earlier tick was written); DeadLetter leaves the
  // record out of its tick, appends it to dead_letter_path with the error, and goes on.
  enum class RuntimeErrorPolicy { Fail, DeadLetter };
  RuntimeErrorPolicy on_error = RuntimeErrorPolicy::Fail;
  // Required with either DeadLetter: a file, or kafka://BROKERS/TOPIC (on the Kafka sinks'
  // cluster, in their transactions).
  std::string dead_letter_path;
  // What the inputs of source tables hold (by table name), where it is not change records or
  // plain rows (SourceFormat::Json): applies to inputs given that table (--source NAME=...).
  std::map<std::string, SourceFormat> source_formats;
  // Kafka sinks: with an id, each tick is one Kafka transaction (exactly once with a Kafka input,
  // setKafkaInput); without, each tick is flushed.
  std::string kafka_transactional_id;
  // Where each sink's changes go, by sink name; sinks not listed write JSON lines to stdout.
  std::map<std::string, SinkTarget> sinks;
  // Seeds whose rows come from another CSV file (by seed name): the file's rows replace the ones
  // the program was built with, at the first tick (loadSeeds).
  std::map<std::string, std::string> seed_files;
  // A run resumed from a checkpoint: the output files (sinks, dead letters) it recorded, each cut
  // back to its length then and written on from there. Files not listed are created empty.
  std::map<std::string, int64_t> resume_output_lengths;
};

struct HostStats {
  int64_t records_read = 0; // non-blank input lines, commit records and bad records included
  int64_t bad_records = 0;
  int64_t runtime_errors = 0; // records left out of their tick (RuntimeErrorPolicy::DeadLetter)
  int64_t ticks = 0;          // committed
  int64_t changes_out = 0;    // changes emitted by the sinks
  // Data tests (sinks whose connector is test:SEVERITY): by name, the failing rows their sink
  // holds now.
  std::map<std::string, int64_t> failing_rows;
};

// Counters and timings since the host was created (for /metrics; not checkpointed: Prometheus
// counters start again with the process).
struct HostMetrics {
  std::vector<int64_t> source_records;  // by source: records applied to it
  std::vector<int64_t> sink_changes;    // by sink: changes emitted
  std::vector<double> sink_last_change; // by sink: when a tick last changed it (Unix seconds)
  double last_tick = 0;                 // when the last tick ended (Unix seconds)
  // Tick durations (commit and output): tick_buckets[i] counts the ticks that took at most
  // kTickBounds[i] seconds and more than the bound before; the last, those beyond every bound.
  static constexpr double kTickBounds[] = {0.0001, 0.001, 0.01, 0.1, 1, 10};
  std::vector<int64_t> tick_buckets;
  double tick_seconds = 0; // their sum
};

class Host {
public:
  using EmitCallback = std::function<void(int32_t sink, const void *row, int64_t weight)>;

  // Creates the program's state (an Engine). Throws std::runtime_error if the program was built
  // for another ABI version, a sink path names no sink, or an output file cannot be opened.
  Host(const kiln_program *program, HostOptions options);
  ~Host();
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  const kiln_program &program() const;
  Engine &engine();
  // Index of a source by qualified or unambiguous table name, of a sink by name; -1 if none.
  int32_t findSource(std::string_view name) const;
  int32_t findSink(std::string_view name) const;

  // Receive each emitted change directly (row valid during the call only) instead of the JSON
  // output. Changes come in the order the program emits them, after their tick's commit.
  void setEmitCallback(EmitCallback callback);

  // Processes one input line from `origin` (a file name, for messages). Returns false for a bad
  // record, which has then been handled per the policy (lastBadRecord() tells why), and for a
  // record whose change raised a SQL runtime error, handled per on_error (with Fail, the error
  // is reported on stderr and failed() is true: the host takes no more input).
  bool pushRecord(std::string_view json_line, std::string_view origin, int64_t line_number,
                  int32_t default_source = -1);
  // A record its reader found bad before it reached the host (`reason`): counted and handled as
  // a bad record of pushRecord. Returns false, as pushRecord does for one.
  bool rejectRecord(std::string_view text, std::string_view origin, int64_t position,
                    const absl::Status &reason);
  const std::string &lastBadRecord() const;
  // What `source`'s inputs hold (HostOptions::source_formats; Json for -1, records of any table).
  SourceFormat sourceFormat(int32_t source) const;
  // Whether `source`'s messages are upserts by key (SourceFormat::Upsert).
  bool takesUpserts(int32_t source) const;
  // One message of an upsert topic of `source`: `value` the row (an upsert), or none: the
  // deletion of the row of `key` (a JSON object of the key columns, or the value of a
  // one-column key). Returns false for a bad record, as pushRecord.
  bool pushUpsert(std::optional<std::string_view> key, std::optional<std::string_view> value,
                  std::string_view origin, int64_t position, int32_t source);

  // Pushes the rows of every seed file of HostOptions::seed_files as inserts into the table of its
  // seed's changes, for the first tick: each row a record (a bad value is a bad record, handled
  // per the policy). A file whose header does not name the seed's columns, or that cannot be
  // read, is an error. Call it before any other input of a run that starts from nothing. Returns
  // false, as pushRecord, when a record was not taken and the host stops (a SQL runtime error, or
  // a bad record under BadRecordPolicy::Fail).
  absl::StatusOr<bool> loadSeeds();

  // Decodes a JSON object into a row of `source` (not-null constraints checked), allocated in the
  // tick's scratch memory: valid until the next commit.
  absl::StatusOr<const void *> decodeRow(int32_t source, std::string_view json);
  // The same for a key row of index `index` (kiln_program.indexes), allocated in `memory`: the
  // columns `json` gives, the others NULL; for Engine::lookup between ticks.
  absl::StatusOr<const void *> decodeIndexKey(int32_t index, std::string_view json, Arena &memory);
  // Pushes one change as is. Each unit of weight of a source with a primary key inserts (> 0) or
  // deletes (< 0) the key's row. Throws std::runtime_error if the key has one (has none) or the
  // change raises a SQL runtime error (nothing of the change is then applied). `row` and its
  // strings must stay valid until the next commit returns.
  void pushRow(int32_t source, const void *row, int64_t weight);

  // Ends the tick: runs the program's commit, writes the sinks' changes, frees scratch memory. A
  // runtime error is handled per on_error, as in pushRecord.
  void commit();
  // Commits if anything was pushed since the last commit (the end of an input), or if no tick has
  // been committed yet (constant relations emit their rows at the first tick); false if the host
  // has failed.
  bool finishInput();
  bool hasPendingChanges() const;
  // Whether a SQL runtime error stopped the host (RuntimeErrorPolicy::Fail).
  bool failed() const;
  // The tick the next commit ends, counting from 1.
  int64_t currentTick() const;
  const HostStats &stats() const;
  // Entries and bytes of every operator's state (a keyed source's current rows included).
  StateStats stateStats() const;
  const HostMetrics &metrics() const;
  // Writes every operator's lasting state as JSON lines (dumpState in State.h).
  int64_t dumpState(std::FILE *out) const;

  // Checkpoints: the files the host writes with their lengths now (flushed at every tick).
  std::vector<std::pair<std::string, int64_t>> outputLengths() const;
  // Restores (Engine::restoreStateForUpgrade): an image of this build or an earlier one,
  // with the counters it was taken with, and starts rebuilding the operators the new build
  // changed. Until finishUpgrade(), pushRecord takes only the records of the plan's replayed
  // sources, except those the dead-letter file already holds (by origin and line), and skips
  // the others silently, counting nothing; the rebuilt sinks' changes are gathered, not written.
  // finishUpgrade() then writes, as one tick, each rebuilt sink's correction: the difference
  // between what its file accumulated and the rebuilt model's contents, so that a reader who
  // sums a sink's changes has the new model's contents. False if a runtime error stopped it.
  absl::StatusOr<UpgradePlan> upgrade(std::string_view state_image, const HostStats &stats);
  bool finishUpgrade();
  // Whether each tick is a Kafka transaction (Kafka sinks, not --kafka-at-least-once).
  bool kafkaTransactions() const;
  // The Kafka input whose positions `next` (per topic, partition -> offset of the next message,
  // kept up to date by the caller) each tick's transaction commits to the input's consumer
  // group; null for none.
  void setKafkaInput(detail::KafkaSource *source,
                     const std::vector<std::map<int32_t, int64_t>> *next);
  // A position of an input that is not Kafka (a PostgreSQL LSN, kept up to date by the caller)
  // that each tick's transaction commits (detail::InputPosition); null for none.
  void setInputPosition(const int64_t *position);
  // The input position the last committed Kafka transaction holds; nullopt if none does.
  absl::StatusOr<std::optional<int64_t>> deliveredInputPosition() const;
  // While muted, ticks write nothing to Kafka sinks and commit no transaction: a restarted run
  // replaying ticks whose messages a committed transaction delivered.
  void muteKafkaSinks(bool mute);

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Every function of abi.h by name. An embedder that JIT-compiles a program defines these symbols
// in its JIT; referencing them here also keeps a static link from dropping the ones only
// generated code calls.
struct AbiSymbol {
  const char *name;
  void *address;
};
std::span<const AbiSymbol> abiSymbols();

// The generated executable's command line (see --help); returns the exit status: 0 at end of
// input, 1 on usage or I/O errors, 2 when --on-bad-record=fail met a bad record, 3 on a SQL
// runtime error.
int runMain(const kiln_program *program, int argc, char **argv);

} // namespace kiln::runtime
