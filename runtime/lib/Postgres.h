// PostgreSQL logical replication through libpq (confined to Postgres.cpp): a replication slot
// with the pgoutput plugin over a publication, an initial snapshot consistent with the slot's
// start, then the stream of committed transactions, each as its changes and its commit.
//
// Addresses are libpq URIs with Kiln's settings as query parameters, which libpq does not see:
//   postgres://USER@HOST:PORT/DB?publication=P&slot=S&table=SCHEMA.NAME
// (table: the upstream table a source table reads; default: public.<the source table's name>).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kiln/runtime/abi.h"

namespace kiln::runtime::detail {

struct PostgresAddress {
  std::string conninfo;    // the URI without Kiln's parameters
  std::string publication; // empty: kiln_<project>
  std::string slot;        // empty: kiln_<project>
  std::string table;       // empty: public.<name>
};
// Parses a postgres:// or postgresql:// address; nullopt if `uri` is not one.
std::optional<PostgresAddress> parsePostgresAddress(std::string_view uri);
// `address` without a password (in its user part or a password= parameter), for messages and
// checkpoints: a password rotated through env_var() must not make a checkpoint's inputs differ.
std::string withoutPassword(std::string_view address);

// One row change of a replicated table, in the shape of Kiln's change records: `row` a JSON
// object of the source table's columns (for a delete of a keyed table, its key columns).
struct PgChange {
  int32_t table = 0; // index into the tables the stream was opened with
  enum class Op { Insert, Update, Delete } op = Op::Insert;
  std::string row;
  // Deletes: the row (a keyed table's: its key columns). Updates: of a keyed table, the old
  // key if the update changed it; of a table without a key, the whole old row.
  std::optional<std::string> old_row;
  bool old_is_key = false; // old_row holds the key columns only
};

class PgReplication {
public:
  struct Table {
    std::string upstream;           // schema.name
    const kiln_relation_desc *desc; // the source table it feeds
  };
  struct Options {
    std::string conninfo;
    std::string publication;
    std::string slot;
    bool permanent_slot = false;   // kept across runs (checkpoints); else a temporary one
    std::optional<uint64_t> start; // resume after this LSN (a checkpoint's); else a new snapshot
  };
  // Connects, checks the tables' columns against their sources, creates the publication and the
  // slot (or reuses them), and, without `start`, takes the snapshot.
  static absl::StatusOr<std::unique_ptr<PgReplication>> open(const Options &options,
                                                             std::vector<Table> tables);
  ~PgReplication();

  // The snapshot's rows, table by table (only when opened without `start`), each as an insert.
  absl::Status readSnapshot(const std::function<absl::Status(const PgChange &)> &row);
  // Streams from the snapshot's (or `start`'s) position.
  absl::Status startStreaming();

  struct Event {
    enum class Kind { None, Change, Commit } kind = Kind::None;
    PgChange change;
    uint64_t lsn = 0; // Commit: the end of the transaction
  };
  // The next change or commit, or Kind::None if nothing arrived within `timeout_ms`.
  absl::StatusOr<Event> poll(int timeout_ms);
  // Tells the server everything up to `lsn` is durable here (the slot may release its WAL).
  absl::Status confirm(uint64_t lsn);
  // The position streaming started at (the slot's consistent point, or `start`).
  uint64_t startLsn() const;
  // The server's WAL insert position when the stream was opened (every transaction committed by
  // then ends before it), and the last position its keepalives reported: the WAL decoded and
  // sent up to there.
  uint64_t serverLsnAtStart() const;
  uint64_t lastServerLsn() const;
  // Asks the server for a keepalive now (to learn how far it has sent).
  absl::Status requestKeepalive();

private:
  PgReplication();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string formatLsn(uint64_t lsn); // 0/16B3748
std::optional<uint64_t> parseLsn(std::string_view text);

} // namespace kiln::runtime::detail
