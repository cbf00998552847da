#include "Postgres.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <poll.h>
#include <set>

#include "Strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime::detail {

std::optional<PostgresAddress> parsePostgresAddress(std::string_view uri) {
  if (!uri.starts_with("postgres://") && !uri.starts_with("postgresql://"))
    return std::nullopt;
  PostgresAddress address;
  size_t mark = uri.find('?');
  address.conninfo = std::string(uri.substr(0, mark));
  if (mark == std::string_view::npos)
    return address;
  std::vector<std::string> kept; // libpq's own parameters (sslmode=..., ...)
  // A dsn that has its own `?...` gets Kiln's settings after another `?`: both separate.
  for (absl::string_view setting :
       absl::StrSplit(toAbsl(uri.substr(mark + 1)), absl::ByAnyChar("&?"))) {
    if (absl::ConsumePrefix(&setting, "publication="))
      address.publication = std::string(setting);
    else if (absl::ConsumePrefix(&setting, "slot="))
      address.slot = std::string(setting);
    else if (absl::ConsumePrefix(&setting, "table="))
      address.table = std::string(setting);
    else if (!setting.empty())
      kept.emplace_back(setting);
  }
  if (!kept.empty())
    address.conninfo += "?" + absl::StrJoin(kept, "&");
  return address;
}

std::string withoutPassword(std::string_view address) {
  if (!parsePostgresAddress(address))
    return std::string(address);
  std::string out(address);
  size_t scheme = out.find("://") + 3;
  size_t at = out.find('@', scheme);
  size_t end = out.find_first_of("/?", scheme);
  if (at != std::string::npos && (end == std::string::npos || at < end)) {
    size_t colon = out.find(':', scheme);
    if (colon != std::string::npos && colon < at)
      out.erase(colon, at - colon);
  }
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=")) {
    if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&'))
      break;
    size_t value_end = out.find('&', p);
    if (value_end == std::string::npos) // the last setting: it goes with the separator before
      out.erase(p - 1);
    else // it goes with the separator after
      out.erase(p, value_end + 1 - p);
  }
  return out;
}

std::string formatLsn(uint64_t lsn) {
  return absl::StrFormat("%X/%X", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

std::optional<uint64_t> parseLsn(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  uint64_t high = 0, low = 0;
  auto hex = [](std::string_view digits, uint64_t &out) {
    if (digits.empty() || digits.size() > 8)
      return false;
    for (char c : digits) {
      int v = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : -1;
      if (v < 0)
        return false;
      out = out * 16 + static_cast<uint64_t>(v);
    }
    return true;
  };
  if (!hex(text.substr(0, slash), high) || !hex(text.substr(slash + 1), low))
    return std::nullopt;
  return high << 32 | low;
}

namespace {

struct ResultDeleter {
  void operator()(PGresult *result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Microseconds since 2000-01-01, PostgreSQL's epoch, for standby status updates.
int64_t pgNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(now).count() - 946684800LL * 1000000;
}

// Big-endian readers over a message.
class Reader {
public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t left() const { return data_.size(); }
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint16_t u16() { return static_cast<uint16_t>(be(take(2))); }
  uint32_t u32() { return static_cast<uint32_t>(be(take(4))); }
  uint64_t u64() { return be(take(8)); }
  std::string_view bytes(size_t n) { return take(n); }
  std::string_view cstring() {
    size_t end = data_.find('\0');
    if (end == std::string_view::npos) {
      ok_ = false;
      return {};
    }
    std::string_view s = data_.substr(0, end);
    data_.remove_prefix(end + 1);
    return s;
  }

private:
  std::string_view take(size_t n) {
    static const char kZeros[8] = {};
    if (!ok_ || data_.size() < n) {
      ok_ = false;
      return std::string_view(kZeros, n <= 8 ? n : 0);
    }
    std::string_view s = data_.substr(0, n);
    data_.remove_prefix(n);
    return s;
  }
  static uint64_t be(std::string_view b) {
    uint64_t v = 0;
    for (char c : b)
      v = v << 8 | static_cast<unsigned char>(c);
    return v;
  }
  std::string_view data_;
  bool ok_ = true;
};

void putU64(std::string &out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((v >> shift) & 0xff);
}

// Whether an upstream column type (format_type's text) holds the values of a Kiln column.
bool typeFits(const kiln_column_desc &col, const std::string &upstream) {
  switch (col.type) {
  case KILN_T_BOOL:
    return upstream == "boolean";
  case KILN_T_INT32:
    return upstream == "smallint" || (!isSmallintColumn(col) && upstream == "integer");
  case KILN_T_INT64:
    return upstream == "bigint" || upstream == "integer" || upstream == "smallint";
  case KILN_T_FLOAT64:
    return upstream == "real" || (!isRealColumn(col) && upstream == "double precision");
  case KILN_T_NUMERIC:
    return upstream.starts_with("numeric") || upstream == "integer" || upstream == "smallint" ||
           upstream == "bigint";
  case KILN_T_TEXT:
    return upstream == "text" || upstream.starts_with("character");
  case KILN_T_DATE:
    return upstream == "date";
  case KILN_T_TIMESTAMP:
    return upstream.starts_with("timestamp") &&
           upstream.find("with time zone") == std::string::npos;
  case KILN_T_TIMESTAMPTZ:
    return upstream.starts_with("timestamp") &&
           upstream.find("with time zone") != std::string::npos;
  case KILN_T_JSONB:
    return upstream == "jsonb" || upstream == "json";
  case KILN_T_INTERVAL:
    return upstream.starts_with("interval");
  case KILN_T_ARRAY: // integer[] holds integer[]'s elements
    return upstream.ends_with("[]") &&
           typeFits(arrayElement(col), upstream.substr(0, upstream.size() - 2));
  }
  return false;
}

// A value in PostgreSQL's text output as JSON for Kiln's row decoder: booleans as true/false
// (pgoutput and libpq write t/f), everything else as a string (the decoder reads numbers, dates,
// timestamps and jsonb from text).
void appendValue(std::string &json, const kiln_column_desc &col, std::string_view text) {
  if (col.type == KILN_T_BOOL)
    json += text == "t" || text == "true" ? "true" : "false";
  else
    appendJsonString(json, text);
}

} // namespace

struct PgReplication::Impl {
  ~Impl() {
    if (stream != nullptr)
      PQfinish(stream);
    if (query != nullptr)
      PQfinish(query);
    if (copy_buffer != nullptr)
      PQfreemem(copy_buffer);
  }

  absl::Status error(PGconn *connection, std::string_view what) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: ", toAbsl(what), ": ",
                     absl::StripTrailingAsciiWhitespace(PQerrorMessage(connection))));
  }
  absl::StatusOr<Result> exec(PGconn *connection, const std::string &sql, ExecStatusType want) {
    Result result(PQexec(connection, sql.c_str()));
    if (PQresultStatus(result.get()) != want)
      return absl::UnavailableError(
          absl::StrCat("PostgreSQL: ", sql, ": ",
                       absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(result.get()))));
    return result;
  }

  // The columns of each source table (by name) in the upstream table, in the stream's order.
  struct Relation {
    int32_t table = -1;             // index into tables, -1 if not one of them
    std::vector<int32_t> to_column; // upstream column -> source column, -1 if unused
  };

  absl::Status checkTables() {
    for (Table &table : tables) {
      std::string sql = absl::StrCat(
          "SELECT a.attname, format_type(a.atttypid, a.atttypmod), c.relreplident "
          "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE a.attrelid = ",
          literal(table.upstream), "::regclass AND a.attnum > 0 AND NOT a.attisdropped");
      absl::StatusOr<Result> columns = exec(query, sql, PGRES_TUPLES_OK);
      if (!columns.ok())
        return absl::NotFoundError(absl::StrCat("the upstream table ", table.upstream, " of ",
                                                table.desc->name, ": ",
                                                columns.status().message()));
      std::map<std::string, std::string> upstream;
      char replica_identity = 'd';
      for (int r = 0; r < PQntuples(columns->get()); ++r) {
        upstream[PQgetvalue(columns->get(), r, 0)] = PQgetvalue(columns->get(), r, 1);
        replica_identity = PQgetvalue(columns->get(), r, 2)[0];
      }
      for (int32_t c = 0; c < table.desc->ncols; ++c) {
        const kiln_column_desc &col = table.desc->cols[c];
        auto it = upstream.find(col.name);
        if (it == upstream.end())
          return absl::FailedPreconditionError(absl::StrCat(
              "column \"", col.name, "\" of ", table.desc->name, " (", table.desc->location,
              ") is not a column of the upstream table ", table.upstream));
        if (!typeFits(col, it->second))
          return absl::FailedPreconditionError(absl::StrCat(
              "column \"", col.name, "\" of ", table.desc->name, " is ",
              std::string(typeName(col.type)), " in ", table.desc->location, ", but ", it->second,
              " in the upstream table ", table.upstream, ": declare its data_type to match"));
      }
      // A keyed table's deletes and key changes carry the replica identity's columns only (the
      // primary key by default): Kiln's key must be among them, unless rows go whole.
      if (table.desc->nkeys > 0 && replica_identity != 'f') {
        absl::StatusOr<Result> identity = exec(
            query,
            absl::StrCat("SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                         "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
                         "ANY(i.indkey) WHERE i.indrelid = ",
                         literal(table.upstream),
                         "::regclass AND (i.indisreplident OR (c.relreplident = 'd' AND "
                         "i.indisprimary))"),
            PGRES_TUPLES_OK);
        if (!identity.ok())
          return identity.status();
        std::set<std::string> columns;
        for (int r = 0; r < PQntuples(identity->get()); ++r)
          columns.insert(PQgetvalue(identity->get(), r, 0));
        for (int32_t k = 0; k < table.desc->nkeys; ++k)
          if (!columns.contains(table.desc->cols[table.desc->key_cols[k]].name))
            return absl::FailedPreconditionError(absl::StrCat(
                "the primary_key of ", table.desc->name, " (", table.desc->location,
                ") is not in the replica identity of the upstream table ", table.upstream,
                ", so its deletes would not name the row: give the table that primary key, or "
                "ALTER TABLE ",
                table.upstream, " REPLICA IDENTITY FULL"));
      }
      // A table Kiln keeps no rows of by key needs each deleted or replaced row whole.
      if (table.desc->nkeys == 0 && replica_identity != 'f')
        return absl::FailedPreconditionError(
            absl::StrCat(table.desc->name, " has no primary_key in ", table.desc->location,
                         ", so its updates and deletes need the whole old row: ALTER TABLE ",
                         table.upstream, " REPLICA IDENTITY FULL (or declare its primary_key)"));
    }
    return absl::OkStatus();
  }

  std::string literal(const std::string &text) {
    char *escaped = PQescapeLiteral(query, text.data(), text.size());
    std::string out = escaped ? escaped : "''";
    PQfreemem(escaped);
    return out;
  }
  std::string identifier(std::string_view text) {
    char *escaped = PQescapeIdentifier(query, text.data(), text.size());
    std::string out = escaped ? escaped : "\"\"";
    PQfreemem(escaped);
    return out;
  }
  // schema.name as a quoted identifier pair.
  std::string qualified(const std::string &upstream) {
    size_t dot = upstream.find('.');
    return identifier(std::string_view(upstream).substr(0, dot)) + "." +
           identifier(std::string_view(upstream).substr(dot + 1));
  }

  absl::Status ensurePublication() {
    absl::StatusOr<Result> found =
        exec(query, "SELECT 1 FROM pg_publication WHERE pubname = " + literal(options.publication),
             PGRES_TUPLES_OK);
    if (!found.ok())
      return found.status();
    if (PQntuples(found->get()) > 0)
      return absl::OkStatus(); // reused as it is: its tables are the user's to choose
    std::vector<std::string> names;
    for (const Table &table : tables)
      names.push_back(qualified(table.upstream));
    return exec(query,
                absl::StrCat("CREATE PUBLICATION ", identifier(options.publication), " FOR TABLE ",
                             absl::StrJoin(names, ", ")),
                PGRES_COMMAND_OK)
        .status();
  }

  absl::Status sendStatus(uint64_t lsn, bool reply) {
    std::string message = "r";
    putU64(message, lsn); // written
    putU64(message, lsn); // flushed
    putU64(message, lsn); // applied
    putU64(message, static_cast<uint64_t>(pgNow()));
    message += reply ? '\1' : '\0';
    if (PQputCopyData(stream, message.data(), static_cast<int>(message.size())) != 1 ||
        PQflush(stream) != 0)
      return error(stream, "cannot send the standby status");
    return absl::OkStatus();
  }

  using Values = std::map<int32_t, std::optional<std::string>>; // source column -> text

  // A JSON object of some columns of a tuple (all of them, or the key's).
  std::string json(const Relation &relation, const Values &values, bool key_only) {
    const kiln_relation_desc &desc = *tables[static_cast<size_t>(relation.table)].desc;
    std::string out = "{";
    for (const auto &[column, value] : values) {
      if (key_only && std::find(desc.key_cols, desc.key_cols + desc.nkeys, column) ==
                          desc.key_cols + desc.nkeys)
        continue;
      if (out.size() > 1)
        out += ",";
      appendJsonString(out, desc.cols[column].name);
      out += ":";
      if (value)
        appendValue(out, desc.cols[column], *value);
      else
        out += "null";
    }
    return out + "}";
  }

  // Decodes TupleData into the source table's columns; `unchanged` supplies the TOASTed values
  // an update leaves out (from the old row, with REPLICA IDENTITY FULL).
  absl::StatusOr<Values> tuple(Reader &in, const Relation &relation, const Values *unchanged) {
    const kiln_relation_desc &desc = *tables[static_cast<size_t>(relation.table)].desc;
    uint16_t n = in.u16();
    Values values;
    for (uint16_t i = 0; i < n && in.ok(); ++i) {
      char kind = static_cast<char>(in.u8());
      int32_t column = i < relation.to_column.size() ? relation.to_column[i] : -1;
      std::optional<std::string> value;
      if (kind == 't' || kind == 'b') {
        uint32_t length = in.u32();
        value = std::string(in.bytes(length));
      } else if (kind == 'u') {
        // Only a whole old row (REPLICA IDENTITY FULL) has it; a key's old tuple has NULLs there.
        if (column >= 0 && unchanged && unchanged->contains(column) &&
            unchanged->at(column).has_value())
          value = unchanged->at(column);
        else if (column >= 0)
          return absl::DataLossError(absl::StrCat(
              "an update of ", desc.name, " leaves out the unchanged TOASTed value of column \"",
              desc.cols[column].name, "\": ALTER TABLE ",
              tables[static_cast<size_t>(relation.table)].upstream,
              " REPLICA IDENTITY FULL sends it"));
      } else if (kind != 'n') {
        return absl::DataLossError(
            absl::StrCat("unknown tuple value kind '", std::string(1, kind), "' from pgoutput"));
      }
      if (column >= 0)
        values[column] = std::move(value);
    }
    if (!in.ok())
      return absl::DataLossError("a truncated tuple from pgoutput");
    return values;
  }

  absl::StatusOr<std::optional<Event>> message(std::string_view data) {
    Reader in(data);
    char kind = static_cast<char>(in.u8());
    Event event;
    switch (kind) {
    case 'B': // begin: final LSN, commit time, xid
      in_transaction = true;
      return std::optional<Event>();
    case 'C': { // commit: flags, commit LSN, end LSN, commit time
      in.u8();
      in.u64();
      uint64_t end = in.u64();
      in_transaction = false;
      event.kind = Event::Kind::Commit;
      event.lsn = end;
      return std::optional<Event>(std::move(event));
    }
    case 'R': { // relation: id, namespace, name, replica identity, columns
      uint32_t id = in.u32();
      std::string upstream(in.cstring()); // namespace, then name (in this order)
      upstream += ".";
      upstream += in.cstring();
      in.u8();
      uint16_t n = in.u16();
      Relation relation;
      for (size_t t = 0; t < tables.size(); ++t)
        if (tables[t].upstream == upstream)
          relation.table = static_cast<int32_t>(t);
      for (uint16_t i = 0; i < n && in.ok(); ++i) {
        in.u8(); // flags (part of the key)
        std::string_view name = in.cstring();
        in.u32(); // type
        in.u32(); // typmod
        int32_t column = -1;
        if (relation.table >= 0) {
          const kiln_relation_desc &desc = *tables[static_cast<size_t>(relation.table)].desc;
          for (int32_t c = 0; c < desc.ncols; ++c)
            if (name == desc.cols[c].name)
              column = c;
        }
        relation.to_column.push_back(column);
      }
      relations[id] = std::move(relation);
      return std::optional<Event>();
    }
    case 'I':
    case 'U':
    case 'D': {
      uint32_t id = in.u32();
      auto it = relations.find(id);
      if (it == relations.end())
        return absl::DataLossError("a change of a relation pgoutput did not describe");
      const Relation &relation = it->second;
      if (relation.table < 0)
        return std::optional<Event>(); // a table of the publication no source reads
      event.kind = Event::Kind::Change;
      PgChange &change = event.change;
      change.table = relation.table;
      bool keyed = tables[static_cast<size_t>(relation.table)].desc->nkeys > 0;
      char part = static_cast<char>(in.u8());
      Values old_values;
      if (kind != 'I' && (part == 'K' || part == 'O')) {
        absl::StatusOr<Values> old = tuple(in, relation, nullptr);
        if (!old.ok())
          return old.status();
        old_values = *std::move(old);
        change.old_row = json(relation, old_values, keyed);
        change.old_is_key = keyed;
        if (kind == 'U')
          part = static_cast<char>(in.u8());
      }
      if (kind == 'D') {
        change.op = PgChange::Op::Delete;
        if (!change.old_row)
          return absl::DataLossError("a pgoutput delete without the old row's key");
        return std::optional<Event>(std::move(event));
      }
      if (part != 'N')
        return absl::DataLossError("a pgoutput insert or update without its new tuple");
      absl::StatusOr<Values> row = tuple(in, relation, &old_values);
      if (!row.ok())
        return row.status();
      change.row = json(relation, *row, false);
      change.op = kind == 'I' ? PgChange::Op::Insert : PgChange::Op::Update;
      // A keyed table's update names its old row only if the key changed: the same key is an
      // upsert of the new row.
      if (keyed && change.old_row && *change.old_row == json(relation, *row, true))
        change.old_row.reset();
      return std::optional<Event>(std::move(event));
    }
    case 'T':
      return absl::FailedPreconditionError(
          "a TRUNCATE of a replicated table: Kiln cannot take it as row changes; restart from "
          "a new snapshot (an empty checkpoint directory)");
    default: // 'Y' types, 'O' origins, 'M' logical messages: nothing to apply
      return std::optional<Event>();
    }
  }

  Options options;
  std::vector<Table> tables;
  PGconn *stream = nullptr; // the replication connection
  PGconn *query = nullptr;  // an ordinary one: catalog, publication, snapshot
  std::string snapshot;     // the exported snapshot's name
  uint64_t start_lsn = 0;
  uint64_t server_lsn_at_start = 0;
  uint64_t last_server_lsn = 0;
  uint64_t confirmed = 0;
  bool in_transaction = false;
  bool streaming = false;
  std::map<uint32_t, Relation> relations;
  char *copy_buffer = nullptr;
  std::chrono::steady_clock::time_point last_status = std::chrono::steady_clock::now();
};

PgReplication::PgReplication() : impl_(std::make_unique<Impl>()) {}
PgReplication::~PgReplication() = default;
uint64_t PgReplication::startLsn() const { return impl_->start_lsn; }
uint64_t PgReplication::serverLsnAtStart() const { return impl_->server_lsn_at_start; }
uint64_t PgReplication::lastServerLsn() const { return impl_->last_server_lsn; }

absl::StatusOr<std::unique_ptr<PgReplication>> PgReplication::open(const Options &options,
                                                                   std::vector<Table> tables) {
  std::unique_ptr<PgReplication> replication(new PgReplication());
  Impl &impl = *replication->impl_;
  impl.options = options;
  impl.tables = std::move(tables);
  impl.query = PQconnectdb(options.conninfo.c_str());
  if (PQstatus(impl.query) != CONNECTION_OK)
    return impl.error(impl.query, "cannot connect");
  if (absl::Status status = impl.checkTables(); !status.ok())
    return status;
  if (absl::Status status = impl.ensurePublication(); !status.ok())
    return status;
  // The insert position, not the write position (pg_current_wal_lsn): with synchronous_commit
  // off, a transaction committed before the run started may not be written yet, and a run told
  // to stop at the end must still read it (delivered-ticks.test stopped two transactions early).
  absl::StatusOr<Result> now =
      impl.exec(impl.query, "SELECT pg_current_wal_insert_lsn()", PGRES_TUPLES_OK);
  if (!now.ok())
    return now.status();
  impl.server_lsn_at_start = parseLsn(PQgetvalue(now->get(), 0, 0)).value_or(0);

  // The replication connection: the same parameters, in logical replication mode.
  const char *keys[] = {"dbname", "replication", nullptr};
  const char *values[] = {options.conninfo.c_str(), "database", nullptr};
  impl.stream = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (PQstatus(impl.stream) != CONNECTION_OK)
    return impl.error(impl.stream, "cannot open a replication connection");

  if (options.start) {
    impl.start_lsn = *options.start;
    return replication;
  }
  if (options.permanent_slot) {
    // A new run without a checkpoint starts from a new snapshot: an old slot of the same name
    // would stream from its own position instead.
    absl::StatusOr<Result> dropped =
        impl.exec(impl.query,
                  "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
                  "slot_name = " +
                      impl.literal(options.slot),
                  PGRES_TUPLES_OK);
    if (!dropped.ok())
      return dropped.status();
  }
  absl::StatusOr<Result> slot = impl.exec(
      impl.stream,
      absl::StrCat("CREATE_REPLICATION_SLOT ", impl.identifier(options.slot),
                   options.permanent_slot ? "" : " TEMPORARY", " LOGICAL pgoutput EXPORT_SNAPSHOT"),
      PGRES_TUPLES_OK);
  if (!slot.ok())
    return slot.status();
  impl.start_lsn = parseLsn(PQgetvalue(slot->get(), 0, 1)).value_or(0);
  impl.snapshot = PQgetvalue(slot->get(), 0, 2);
  return replication;
}

absl::Status PgReplication::readSnapshot(const std::function<absl::Status(const PgChange &)> &row) {
  Impl &impl = *impl_;
  if (impl.snapshot.empty())
    return absl::OkStatus();
  if (absl::StatusOr<Result> begun = impl.exec(
          impl.query, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK);
      !begun.ok())
    return begun.status();
  if (absl::StatusOr<Result> set = impl.exec(
          impl.query, "SET TRANSACTION SNAPSHOT " + impl.literal(impl.snapshot), PGRES_COMMAND_OK);
      !set.ok())
    return set.status();
  for (size_t t = 0; t < impl.tables.size(); ++t) {
    const kiln_relation_desc &desc = *impl.tables[t].desc;
    std::vector<std::string> columns;
    for (int32_t c = 0; c < desc.ncols; ++c)
      columns.push_back(impl.identifier(desc.cols[c].name));
    // Read in portions through a cursor, so a large table need not fit in memory at once.
    std::string cursor = absl::StrCat("kiln_snapshot_", t);
    if (absl::StatusOr<Result> declared =
            impl.exec(impl.query,
                      absl::StrCat("DECLARE ", cursor, " NO SCROLL CURSOR FOR SELECT ",
                                   absl::StrJoin(columns, ", "), " FROM ",
                                   impl.qualified(impl.tables[t].upstream)),
                      PGRES_COMMAND_OK);
        !declared.ok())
      return declared.status();
    for (;;) {
      absl::StatusOr<Result> rows =
          impl.exec(impl.query, "FETCH 10000 FROM " + cursor, PGRES_TUPLES_OK);
      if (!rows.ok())
        return rows.status();
      int n = PQntuples(rows->get());
      for (int r = 0; r < n; ++r) {
        PgChange change;
        change.table = static_cast<int32_t>(t);
        change.row = "{";
        for (int32_t c = 0; c < desc.ncols; ++c) {
          if (c > 0)
            change.row += ",";
          appendJsonString(change.row, desc.cols[c].name);
          change.row += ":";
          if (PQgetisnull(rows->get(), r, c))
            change.row += "null";
          else
            appendValue(change.row, desc.cols[c], PQgetvalue(rows->get(), r, c));
        }
        change.row += "}";
        if (absl::Status status = row(change); !status.ok())
          return status;
      }
      if (n == 0)
        break;
    }
  }
  return impl.exec(impl.query, "COMMIT", PGRES_COMMAND_OK).status();
}

absl::Status PgReplication::startStreaming() {
  Impl &impl = *impl_;
  std::string sql =
      absl::StrCat("START_REPLICATION SLOT ", impl.identifier(impl.options.slot), " LOGICAL ",
                   formatLsn(impl.start_lsn), " (proto_version '1', publication_names ",
                   impl.literal(impl.options.publication), ")");
  Result result(PQexec(impl.stream, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COPY_BOTH)
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: ", sql, ": ",
                     absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(result.get()))));
  impl.confirmed = std::max(impl.confirmed, impl.start_lsn);
  impl.streaming = true;
  return impl.sendStatus(impl.confirmed, false);
}

absl::StatusOr<PgReplication::Event> PgReplication::poll(int timeout_ms) {
  Impl &impl = *impl_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    // Tell the server we are alive now and then, whether or not it asks.
    if (std::chrono::steady_clock::now() - impl.last_status > std::chrono::seconds(10)) {
      if (absl::Status status = impl.sendStatus(impl.confirmed, false); !status.ok())
        return status;
      impl.last_status = std::chrono::steady_clock::now();
    }
    if (impl.copy_buffer != nullptr) {
      PQfreemem(impl.copy_buffer);
      impl.copy_buffer = nullptr;
    }
    int length = PQgetCopyData(impl.stream, &impl.copy_buffer, /*async=*/1);
    if (length == 0) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::milliseconds(0))
        return Event{};
      pollfd fd{PQsocket(impl.stream), POLLIN, 0};
      ::poll(&fd, 1,
             static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
      if (PQconsumeInput(impl.stream) == 0)
        return impl.error(impl.stream, "the replication stream broke");
      continue;
    }
    if (length == -1)
      return absl::UnavailableError("PostgreSQL ended the replication stream");
    if (length < 0)
      return impl.error(impl.stream, "the replication stream broke");
    std::string_view data(impl.copy_buffer, static_cast<size_t>(length));
    Reader in(data);
    char kind = static_cast<char>(in.u8());
    if (kind == 'k') { // keepalive: WAL end, time, reply requested
      impl.last_server_lsn = std::max(impl.last_server_lsn, in.u64());
      in.u64();
      if (in.u8() != 0) {
        if (absl::Status status = impl.sendStatus(impl.confirmed, false); !status.ok())
          return status;
        impl.last_status = std::chrono::steady_clock::now();
      }
      continue;
    }
    if (kind != 'w')
      continue;
    in.u64(); // start of the data
    in.u64(); // the server's WAL end (for logical decoding: this record's position)
    in.u64(); // time
    if (!in.ok())
      return absl::DataLossError("a truncated XLogData message");
    absl::StatusOr<std::optional<Event>> event = impl.message(data.substr(25));
    if (!event.ok())
      return event.status();
    if (event->has_value())
      return **event;
  }
}

absl::Status PgReplication::requestKeepalive() {
  impl_->last_status = std::chrono::steady_clock::now();
  return impl_->sendStatus(impl_->confirmed, true);
}

absl::Status PgReplication::confirm(uint64_t lsn) {
  Impl &impl = *impl_;
  if (lsn <= impl.confirmed)
    return absl::OkStatus();
  impl.confirmed = lsn;
  if (!impl.streaming) // sent once streaming starts
    return absl::OkStatus();
  impl.last_status = std::chrono::steady_clock::now();
  return impl.sendStatus(lsn, false);
}

} // namespace kiln::runtime::detail
