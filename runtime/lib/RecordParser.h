// Parsing of change records (one JSON object per input line) into rows of the program's sources.
//
// simdjson is confined to RecordParser.cpp (behind this class and RowDecoder): its On Demand API is
// compiled for the instruction set chosen by the compile flags, so all of it lives in one place.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "kiln/runtime/Arena.h"
#include "kiln/runtime/abi.h"

namespace kiln::runtime::detail {

enum class ChangeOp { Insert, Delete, Upsert, Commit };

struct ChangeRecord {
  ChangeOp op = ChangeOp::Insert;
  int32_t source = -1;
  void *row = nullptr; // the source's layout, allocated from the scratch arena
  int64_t weight = 1;  // as given; the sign of a delete is applied by the host
};

class RecordParser {
public:
  explicit RecordParser(const kiln_program &program);
  ~RecordParser();

  // Parses one record. `default_source` (or -1) is the table of records that name none; for such
  // inputs an object without "op", "row" or "commit" keys is a bare row to insert.
  absl::StatusOr<ChangeRecord> parse(std::string_view line, int32_t default_source, Arena &scratch);

  // A Debezium change event of table `source` (the message's JSON value, with or without the
  // schema/payload wrapper; Kiln reads no schema from it): no change for a tombstone (an empty or
  // null value), one for a create, a snapshot read, a delete or an update that keeps the key,
  // two for an update of a table without a primary key (the old row out, the new in) or one that
  // changes the key (the new row in, then the old key out).
  absl::StatusOr<std::vector<ChangeRecord>> parseDebezium(std::string_view value, int32_t source,
                                                          Arena &scratch);
  // A source by qualified name ("shop.orders") or by table name if only one source has it.
  absl::StatusOr<int32_t> resolveTable(std::string_view name) const;

private:
  struct Impl;
  const kiln_program &program_;
  absl::flat_hash_map<std::string_view, int32_t> qualified_;
  absl::flat_hash_map<std::string_view, int32_t> unqualified_; // -1 when ambiguous
  std::string deferred_; // a Debezium wrapper's payload, parsed on its own
  std::unique_ptr<Impl> impl_;
};

// Debezium's transaction metadata (the connector's provide.transaction.metadata): each change
// event's "transaction" block names the upstream transaction it belongs to, and the transaction
// topic's BEGIN and END events frame each transaction; an END counts its events per data
// collection ("schema.table"). Both are read with or without the schema/payload wrapper.
struct DebeziumTransactionMarker {
  bool end = false; // END; else BEGIN
  std::string id;
  std::vector<std::pair<std::string, int64_t>> event_counts; // END: per data collection
};

class DebeziumMetadataReader {
public:
  DebeziumMetadataReader();
  ~DebeziumMetadataReader();
  // The id of the transaction a change event belongs to; nullopt for an event outside any (a
  // snapshot read, a connector that provides no metadata, a tombstone).
  absl::StatusOr<std::optional<std::string>> transactionOf(std::string_view event);
  // A message of the transaction topic.
  absl::StatusOr<DebeziumTransactionMarker> marker(std::string_view message);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reading back what the host wrote (upgrades, Host::finishUpgrade):
// the changes of sink `sink` in JSON-lines sink output ({"tick":..,"sink":..,"weight":..,
// "row":{..}}), summed by the row's JSON text;
absl::Status sumSinkOutput(std::string_view text, std::string_view sink,
                           absl::flat_hash_map<std::string, int64_t> &rows);
// the records of a dead-letter file, by origin and line.
absl::Status deadLetterRecords(std::string_view text,
                               absl::flat_hash_set<std::pair<std::string, int64_t>> &records);

// Whether `bytes` is valid UTF-8 (what a JSON string may hold).
bool isValidUtf8(std::string_view bytes);

} // namespace kiln::runtime::detail
