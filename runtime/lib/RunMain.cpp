// The command line of a generated executable.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "Connector.h"
#include "DebeziumTransactions.h"
#include "HttpServer.h"
#include "Kafka.h"
#include "Postgres.h"
#include "RecordParser.h"
#include "Serving.h"
#include "Strings.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kiln/runtime/Checkpoints.h"
#include "kiln/runtime/Host.h"

namespace kiln::runtime {

namespace {

constexpr const char *kUsage = R"(usage: %s [options] [FILE...]

Maintains the models of %s over change records read as JSON lines, one per line:
  {"table":"source.table","op":"insert|delete|upsert","row":{...}}   or   {"op":"commit"}
and writes every sink's changes of each tick as JSON lines.

options:
  --input FILE, FILE         read records from FILE ('-' is stdin); repeatable; default: stdin
  --input kafka://BROKERS/TOPIC
                             read records from every partition of a Kafka topic, one per
                             message (BROKERS: HOST:PORT[,HOST:PORT...])
  --source NAME=FILE         read records of source table NAME from FILE (or a kafka:// topic,
                             ?format=FORMAT as --format): they may omit "table", and a bare row
                             object means insert. Source tables the project gives a connector
                             are read from it unless a --source names them or FILE/--input
                             arguments are given. A Debezium topic's
                             ?transactions=TOPIC names its transaction topic: each upstream
                             transaction is then one tick
  --format NAME=FORMAT       what the inputs of source table NAME (--source NAME=...) hold:
                             json (default: rows to insert, or change records) or debezium
                             (Debezium's JSON change events, with or without the schema
                             wrapper; tombstones are skipped) or upsert (Kafka messages keyed
                             by primary key: the value is the row, no value deletes the key's)
  --sink NAME=file:PATH      write the changes of sink NAME to PATH
  --sink NAME=csv:PATH       write them to PATH as CSV: a header, then per change the tick,
                             the weight and the row's columns (PostgreSQL's text formats;
                             NULL is an empty field)
  --sink NAME=kafka://BROKERS/TOPIC[?format=FORMAT&key=COLUMN,...]
                             write them to a Kafka topic, each tick's delivered before the
                             next: json (default: a message per change, the JSON object a file
                             gets), debezium (Debezium's envelope; a key's replaced row is one
                             "u" event) or upsert (per changed key its row, or a tombstone);
                             key: the columns of each message's key (upsert needs them)
  --sink NAME=stdout         write them to stdout (the default, unless the project configures
                             the sink's connector)
  --tick-interval N|Nms      with Kafka inputs, also end a tick N seconds (or milliseconds) after
                             its first record (default: 1s), so a quiet topic still flushes
  --stop-at-end              stop once every Kafka input has been read to its end (default:
                             keep reading until SIGINT or SIGTERM)
  --kafka-group ID           the consumer group of Kafka inputs (default: kiln-PROJECT)
  --kafka-transactional-id ID
                             Kafka sinks write each tick as one Kafka transaction with this
                             id (default: kiln-PROJECT), which also commits the offsets a Kafka
                             input consumed to its group: exactly once from Kafka to Kafka,
                             across restarts (readers use isolation.level=read_committed)
  --kafka-at-least-once      no transactions: each tick is flushed, and a restart may write
                             some of it again
  --tick-size N              also end a tick every N records (0: only at commits and the end
                             of each input; default: the project's tick-size)
  --on-bad-record=POLICY     skip (default: report on stderr), dead-letter, or fail (stop, exit 2)
  --dead-letter FILE|kafka://BROKERS/TOPIC
                             append rejected records to FILE, or send them to the topic (on the
                             Kafka sinks' cluster, in their transactions), as JSON objects with
                             their origin, position, reason and bytes (implies
                             --on-bad-record=dead-letter)
  --on-error=POLICY          a record whose change raises a SQL runtime error (division by
                             zero, overflow, an invalid cast): fail (default: report it and stop,
                             exit 3; its tick is not applied, every earlier tick was written) or
                             dead-letter (leave it out of its tick, append it to the
                             --dead-letter FILE with the error, and go on)
  --checkpoint-dir DIR       checkpoint the state, the inputs' positions and the outputs'
                             lengths into DIR, and on start resume from the newest checkpoint
                             there: a run killed at any moment and started again with the same
                             command writes exactly the output of an uninterrupted run. Needs
                             file inputs and every sink written to a file
  --checkpoint-every N|Ns    checkpoint every N ticks, or every N seconds (default: 60s); at the
                             end of the input too
  --seed NAME=FILE           the rows of seed NAME are those of the CSV file FILE (a header
                             naming the seed's columns, in any order; empty or null is NULL)
                             instead of the ones it was built with; they load at the first tick.
                             A seed also takes changes like a source table (seed.NAME)
  --http HOST:PORT           serve /metrics (Prometheus' text format), /healthz, and /views,
                             /views/MODEL?KEY=VALUE for the project's index models (JSON), on
                             HOST:PORT (:PORT: every interface; port 0: a free one, printed);
                             answered between ticks
  --tests                    check the project's data tests: write no model's changes, and at
                             the end print each test's result (PASS, WARN or FAIL with its
                             failing rows); exit 1 if a test of severity error fails. Without
                             it, a test is reported on stderr when it starts or stops failing
  --stats                    print counters and each operator's state (entries, bytes) to
                             stderr at exit
  --stats-json FILE          write the same as JSON to FILE at exit
  --dump-state FILE          write every operator's state, entry by entry, as JSON lines to
                             FILE at exit
  --empty-state-image FILE   write the state image of an empty instance to FILE and exit:
                             its operators' fingerprints, for `kiln diff <this program>
                             <project>` before an upgrade
  --help                     show this help

Inputs are read in order, except Kafka topics: they are read together, through one consumer,
after the other inputs. A tick also ends at each {"op":"commit"} and at the end of each input.
Exit status: 0 at end of input, 1 on usage or I/O errors, 2 on a bad record with
--on-bad-record=fail, 3 on a SQL runtime error.
)";

struct Input {
  std::string path;   // "-" for stdin
  std::string source; // --source NAME, or empty
  // A Debezium source's transaction topic (on the input's brokers; ?transactions=), or empty.
  std::string transactions;
  // The input is such a transaction topic: the inputs that name it take their ticks from it.
  bool transaction_topic = false;
};

struct CommandLine {
  HostOptions options;
  std::vector<Input> inputs;
  bool policy_given = false;
  bool stats = false;
  bool tests = false;            // --tests
  std::string stats_json;        // --stats-json FILE
  std::string dump_state;        // --dump-state FILE
  std::string empty_state_image; // --empty-state-image FILE
  int64_t tick_interval_ms = 1000;
  bool stop_at_end = false;
  std::string kafka_group;
  bool kafka_at_least_once = false;
  std::string http; // --http HOST:PORT
  std::string checkpoint_dir;
  int64_t checkpoint_every_ticks = 0;
  double checkpoint_every_seconds = 60;
  bool help = false;
  bool mixed_inputs = false;           // FILE or --input arguments (records of any table)
  std::set<std::string> formats_given; // tables given a --format
  // Kafka inputs (or PostgreSQL ones) are read together, after the others: inputs[kafka_begin...]
  // are the Kafka (PostgreSQL) ones.
  size_t kafka_begin = 0;
  bool postgres = false; // the streamed inputs are PostgreSQL tables
};

bool isKafka(const Input &input) { return input.path.starts_with("kafka://"); }
bool isPostgres(const Input &input) { return detail::parsePostgresAddress(input.path).has_value(); }

// Fills `line` or returns an error message.
std::optional<std::string> parseArguments(int argc, char **argv, CommandLine &line) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != arg.npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto value = [&]() -> std::optional<std::string_view> {
      if (inline_value)
        return inline_value;
      if (i + 1 < argc)
        return std::string_view(argv[++i]);
      return std::nullopt;
    };

    if (name == "--help" || name == "-h") {
      line.help = true;
      continue;
    }
    if (name == "--stats") {
      line.stats = true;
      continue;
    }
    if (name == "--tests") {
      line.tests = true;
      continue;
    }
    if (name == "--stop-at-end") {
      line.stop_at_end = true;
      continue;
    }
    if (name == "--kafka-at-least-once") {
      line.kafka_at_least_once = true;
      continue;
    }
    if (arg == "-" || !arg.starts_with("-")) { // a bare FILE is an --input FILE
      line.inputs.push_back({std::string(arg), "", ""});
      line.mixed_inputs = true;
      continue;
    }
    if (name != "--input" && name != "--source" && name != "--sink" && name != "--tick-size" &&
        name != "--on-bad-record" && name != "--dead-letter" && name != "--stats-json" &&
        name != "--dump-state" && name != "--on-error" && name != "--checkpoint-dir" &&
        name != "--checkpoint-every" && name != "--empty-state-image" &&
        name != "--tick-interval" && name != "--kafka-group" && name != "--format" &&
        name != "--kafka-transactional-id" && name != "--http" && name != "--seed")
      return absl::StrFormat("unknown option %s", arg);
    std::optional<std::string_view> v = value();
    if (!v)
      return absl::StrFormat("%s needs a value", name);

    if (name == "--input") {
      line.inputs.push_back({std::string(*v), "", ""});
      line.mixed_inputs = true;
    } else if (name == "--source") {
      size_t eq = v->find('=');
      if (eq == v->npos || eq == 0 || eq + 1 == v->size())
        return absl::StrFormat("--source takes NAME=FILE, not %s", *v);
      std::string table(v->substr(0, eq));
      absl::StatusOr<detail::SourceAddress> address = detail::parseSourceAddress(v->substr(eq + 1));
      if (!address.ok())
        return absl::StrFormat("--source %s: %s", *v, address.status().message());
      line.inputs.push_back({address->input, table, address->transactions.value_or("")});
      if (address->format && !line.formats_given.contains(table))
        line.options.source_formats[table] = *address->format;
    } else if (name == "--sink") {
      size_t eq = v->find('=');
      std::string_view target = eq == v->npos ? "" : v->substr(eq + 1);
      absl::StatusOr<SinkTarget> parsed = detail::parseSinkTarget(target);
      if (eq == 0 || eq == v->npos || !parsed.ok())
        return absl::StrFormat("--sink takes NAME=file:PATH, NAME=csv:PATH, "
                               "NAME=kafka://BROKERS/TOPIC or NAME=stdout, not %s%s",
                               *v,
                               parsed.ok() || target.empty()
                                   ? ""
                                   : absl::StrCat(" (", parsed.status().message(), ")"));
      line.options.sinks[std::string(v->substr(0, eq))] = *std::move(parsed);
    } else if (name == "--tick-size") {
      if (!absl::SimpleAtoi(detail::toAbsl(*v), &line.options.tick_size) ||
          line.options.tick_size < 0)
        return absl::StrFormat("--tick-size takes a number of records, not %s", *v);
    } else if (name == "--on-bad-record") {
      using Policy = HostOptions::BadRecordPolicy;
      if (*v == "skip")
        line.options.policy = Policy::Skip;
      else if (*v == "dead-letter")
        line.options.policy = Policy::DeadLetter;
      else if (*v == "fail")
        line.options.policy = Policy::Fail;
      else
        return absl::StrFormat("--on-bad-record takes skip, dead-letter or fail, not %s", *v);
      line.policy_given = true;
    } else if (name == "--on-error") {
      using OnError = HostOptions::RuntimeErrorPolicy;
      if (*v == "fail")
        line.options.on_error = OnError::Fail;
      else if (*v == "dead-letter")
        line.options.on_error = OnError::DeadLetter;
      else
        return absl::StrFormat("--on-error takes fail or dead-letter, not %s", *v);
    } else if (name == "--checkpoint-dir") {
      line.checkpoint_dir = std::string(*v);
    } else if (name == "--checkpoint-every") {
      std::string_view count = *v;
      bool seconds = count.ends_with('s');
      if (seconds)
        count.remove_suffix(1);
      int64_t n = 0;
      if (!absl::SimpleAtoi(detail::toAbsl(count), &n) || n <= 0)
        return absl::StrFormat("--checkpoint-every takes a number of ticks (N) or seconds (Ns), "
                               "not %s",
                               *v);
      line.checkpoint_every_ticks = seconds ? 0 : n;
      line.checkpoint_every_seconds = seconds ? static_cast<double>(n) : 0;
    } else if (name == "--stats-json") {
      line.stats_json = std::string(*v);
    } else if (name == "--dump-state") {
      line.dump_state = std::string(*v);
    } else if (name == "--empty-state-image") {
      line.empty_state_image = std::string(*v);
    } else if (name == "--format") {
      size_t eq = v->find('=');
      std::string_view format = eq == v->npos ? "" : v->substr(eq + 1);
      if (eq == 0 || (format != "json" && format != "debezium" && format != "upsert"))
        return absl::StrFormat("--format takes NAME=json, NAME=debezium or NAME=upsert, not %s",
                               *v);
      std::string table(v->substr(0, eq));
      line.options.source_formats[table] = format == "debezium" ? SourceFormat::Debezium
                                           : format == "upsert" ? SourceFormat::Upsert
                                                                : SourceFormat::Json;
      line.formats_given.insert(table);
    } else if (name == "--seed") {
      size_t eq = v->find('=');
      if (eq == 0 || eq == v->npos || eq + 1 == v->size())
        return absl::StrFormat("--seed takes NAME=FILE (a CSV file with the seed's columns), "
                               "not %s",
                               *v);
      line.options.seed_files[std::string(v->substr(0, eq))] = std::string(v->substr(eq + 1));
    } else if (name == "--http") {
      line.http = std::string(*v);
    } else if (name == "--kafka-transactional-id") {
      line.options.kafka_transactional_id = std::string(*v);
    } else if (name == "--kafka-group") {
      line.kafka_group = std::string(*v);
    } else if (name == "--tick-interval") {
      bool ms = v->ends_with("ms");
      std::string_view number = v->substr(0, v->size() - (ms ? 2 : 0));
      int64_t n = 0;
      if (!absl::SimpleAtoi(detail::toAbsl(number), &n) || n <= 0)
        return absl::StrFormat("--tick-interval takes seconds (N) or milliseconds (Nms), not %s",
                               *v);
      line.tick_interval_ms = ms ? n : n * 1000;
    } else { // --dead-letter
      line.options.dead_letter_path = std::string(*v);
    }
  }

  using Policy = HostOptions::BadRecordPolicy;
  bool has_path = !line.options.dead_letter_path.empty();
  if (has_path && !line.policy_given)
    line.options.policy = Policy::DeadLetter;
  if (line.options.policy == Policy::DeadLetter && !has_path)
    return "--on-bad-record=dead-letter needs --dead-letter FILE";
  bool errors_dead_lettered = line.options.on_error == HostOptions::RuntimeErrorPolicy::DeadLetter;
  if (errors_dead_lettered && !has_path)
    return "--on-error=dead-letter needs --dead-letter FILE";
  if (line.options.policy != Policy::DeadLetter && !errors_dead_lettered && has_path)
    return "--dead-letter is only used with --on-bad-record=dead-letter or --on-error=dead-letter";
  return std::nullopt;
}

using KafkaPositions = std::vector<std::pair<int32_t, int64_t>>; // partition, next offset

// Reports `status` as the program's error; returns exit status 1.
int fail(const char *argv0, const absl::Status &status) {
  std::fprintf(stderr, "%s: error: %s\n", argv0, std::string(status.message()).c_str());
  return 1;
}

// After a record the host did not take (pushRecord/pushUpsert returned false): 0 to go on, or the
// exit status: 3 if a SQL runtime error stopped the host, 2 for a bad record under
// --on-bad-record=fail (both reported).
int afterRejected(const Host &host, const CommandLine &line, const char *argv0) {
  if (host.failed())
    return 3;
  if (line.options.policy != HostOptions::BadRecordPolicy::Fail)
    return 0;
  std::fprintf(stderr, "%s: stopping at the first bad record (--on-bad-record=fail)\n", argv0);
  return 2;
}

// Adds the project's connectors (sources.yml, config()) for the source tables and sinks the
// command line leaves open (sources only when no FILE or --input argument gives records of any
// table), then stdin if nothing else is read, and puts the Kafka inputs last. Returns an error
// message, or nullopt.
std::optional<std::string> addProjectConnectors(const kiln_program &program, CommandLine &line) {
  auto expand = [](const kiln_relation_desc &rel) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> address = detail::expandEnvVars(rel.connector);
    if (!address.ok())
      return absl::Status(address.status().code(),
                          absl::StrCat(rel.connector_location, ": the connector of ", rel.name,
                                       ": ", address.status().message()));
    return address;
  };
  auto named = [&](const kiln_relation_desc &rel) {
    std::string_view name = rel.name;
    std::string_view table = name.substr(name.rfind('.') + 1);
    for (const Input &input : line.inputs)
      if (input.source == name || input.source == table)
        return true;
    return false;
  };
  for (int32_t i = 0; !line.mixed_inputs && i < program.nsources; ++i) {
    const kiln_relation_desc &rel = program.sources[i];
    if (rel.connector == nullptr || named(rel))
      continue;
    absl::StatusOr<std::string> text = expand(rel);
    absl::StatusOr<detail::SourceAddress> address =
        text.ok() ? detail::parseSourceAddress(*text) : text.status();
    if (!address.ok())
      return std::string(address.status().message());
    line.inputs.push_back({address->input, rel.name, address->transactions.value_or("")});
    if (address->format && !line.formats_given.contains(rel.name))
      line.options.source_formats[rel.name] = *address->format;
  }
  for (int32_t i = 0; i < program.nsinks; ++i) {
    const kiln_relation_desc &rel = program.sinks[i];
    bool test = rel.connector != nullptr && std::string_view(rel.connector).starts_with("test:");
    if (line.tests && !test && !line.options.sinks.contains(rel.name))
      line.options.sinks[rel.name].kind = SinkTarget::Kind::None; // --tests writes no model
    if (rel.connector == nullptr || line.options.sinks.contains(rel.name))
      continue;
    absl::StatusOr<std::string> text = expand(rel);
    absl::StatusOr<SinkTarget> target = text.ok() ? detail::parseSinkTarget(*text) : text.status();
    if (!target.ok())
      return std::string(target.status().message());
    line.options.sinks[rel.name] = *std::move(target);
  }
  if (line.inputs.empty())
    line.inputs.push_back({"-", "", ""});
  // Each Debezium transaction topic named is read as an input of its own, once, on the brokers
  // of the sources naming it.
  for (size_t i = 0, n = line.inputs.size(); i < n; ++i) {
    if (line.inputs[i].transactions.empty())
      continue;
    absl::StatusOr<std::optional<detail::KafkaAddress>> data =
        detail::parseKafkaAddress(line.inputs[i].path);
    std::string path = absl::StrCat("kafka://", (*data)->brokers, "/", line.inputs[i].transactions);
    if (std::none_of(line.inputs.begin(), line.inputs.end(),
                     [&](const Input &input) { return input.path == path; }))
      line.inputs.push_back({path, "", "", true});
  }
  auto streamed =
      std::stable_partition(line.inputs.begin(), line.inputs.end(), [](const Input &input) {
        return !isKafka(input) && !isPostgres(input);
      });
  line.kafka_begin = static_cast<size_t>(streamed - line.inputs.begin());
  line.postgres = streamed != line.inputs.end() && isPostgres(*streamed);
  for (auto it = streamed; it != line.inputs.end(); ++it)
    if (isPostgres(*it) != line.postgres)
      return std::string("Kafka and PostgreSQL inputs in one run are not supported yet");
  return std::nullopt;
}

// Lines of a file or of stdin.
class LineReader {
public:
  explicit LineReader(const std::string &path)
      : file_(path == "-" ? stdin : std::fopen(path.c_str(), "r")) {}
  ~LineReader() {
    std::free(buffer_);
    if (file_ != nullptr && file_ != stdin)
      std::fclose(file_);
  }
  LineReader(const LineReader &) = delete;
  LineReader &operator=(const LineReader &) = delete;

  bool opened() const { return file_ != nullptr; }
  bool failed() const { return std::ferror(file_) != 0; }

  // Continues from byte `offset` (a checkpoint's position).
  bool seek(int64_t offset) {
    offset_ = offset;
    return std::fseek(file_, static_cast<long>(offset), SEEK_SET) == 0;
  }
  // Bytes read so far, line terminators included.
  int64_t offset() const { return offset_; }

  // The next line without its line terminator, or nullopt at end of input.
  std::optional<std::string_view> next() {
    ssize_t n = getline(&buffer_, &capacity_, file_);
    if (n < 0)
      return std::nullopt;
    offset_ += n;
    std::string_view line(buffer_, static_cast<size_t>(n));
    if (line.ends_with('\n'))
      line.remove_suffix(1);
    if (line.ends_with('\r'))
      line.remove_suffix(1);
    return line;
  }

private:
  std::FILE *file_;
  char *buffer_ = nullptr;
  size_t capacity_ = 0;
  int64_t offset_ = 0;
};

// --stats, --stats-json and --dump-state at exit; false if a file cannot be written.
// --tests: each data test's result on stdout, as `dbt test` gives them; false if a test of
// severity error fails.
bool reportTests(const kiln_program &program, const HostStats &stats) {
  int passed = 0, warned = 0, failed = 0;
  for (int32_t i = 0; i < program.nsinks; ++i) {
    std::string_view connector = program.sinks[i].connector ? program.sinks[i].connector : "";
    if (!connector.starts_with("test:"))
      continue;
    int64_t rows = stats.failing_rows.at(program.sinks[i].name);
    bool warn = connector == "test:warn";
    const char *verdict = rows == 0 ? "PASS" : warn ? "WARN" : "FAIL";
    (rows == 0 ? passed : warn ? warned : failed) += 1;
    if (rows == 0)
      std::printf("%s %s\n", verdict, program.sinks[i].name);
    else
      std::printf("%s %lld %s\n", verdict, static_cast<long long>(rows), program.sinks[i].name);
  }
  std::printf("Done. PASS=%d WARN=%d ERROR=%d TOTAL=%d\n", passed, warned, failed,
              passed + warned + failed);
  std::fflush(stdout);
  return failed == 0;
}

bool reportStats(const CommandLine &line, const Host &host, const char *argv0) {
  const HostStats &stats = host.stats();
  const kiln_program &program = host.program();
  if (line.stats) {
    std::string errors =
        stats.runtime_errors == 0
            ? ""
            : absl::StrFormat(", %d left out by runtime errors", stats.runtime_errors);
    std::fprintf(stderr, "%s: %lld records (%lld bad%s), %lld ticks, %lld changes out\n",
                 program.name, static_cast<long long>(stats.records_read),
                 static_cast<long long>(stats.bad_records), errors.c_str(),
                 static_cast<long long>(stats.ticks), static_cast<long long>(stats.changes_out));
    printStateStats(stderr, host.stateStats());
    for (const auto &[test, rows] : stats.failing_rows)
      if (rows != 0)
        std::fprintf(stderr, "test %s: %lld failing rows\n", test.c_str(),
                     static_cast<long long>(rows));
  }
  bool ok = true;
  if (line.tests)
    ok = reportTests(program, stats);
  // Writes a file at exit; false (reported) if it cannot be written.
  auto write = [&](const std::string &path, const std::function<bool(std::FILE *)> &fill) {
    std::FILE *file = std::fopen(path.c_str(), "w");
    bool ok = file != nullptr && fill(file);
    if (file != nullptr && std::fclose(file) != 0)
      ok = false;
    if (!ok)
      std::fprintf(stderr, "%s: error: cannot write %s: %s\n", argv0, path.c_str(),
                   std::strerror(errno));
    return ok;
  };
  if (!line.stats_json.empty()) {
    std::string tests;
    for (const auto &[test, rows] : stats.failing_rows)
      tests += absl::StrFormat("%s\"%s\":%d", tests.empty() ? "" : ",", test, rows);
    std::string json = absl::StrFormat(
        "{\"program\":\"%s\",\"records\":%d,\"bad_records\":%d,\"runtime_errors\":%d,"
        "\"ticks\":%d,\"changes_out\":%d,\"failing_rows\":{%s},\"state\":%s}\n",
        program.name, stats.records_read, stats.bad_records, stats.runtime_errors, stats.ticks,
        stats.changes_out, tests, stateStatsJson(host.stateStats()));
    ok &= write(line.stats_json,
                [&](std::FILE *file) { return std::fputs(json.c_str(), file) >= 0; });
  }
  if (!line.dump_state.empty())
    ok &= write(line.dump_state, [&](std::FILE *file) {
      host.dumpState(file);
      return std::ferror(file) == 0;
    });
  return ok;
}

std::string names(const kiln_relation_desc *relations, int32_t count) {
  std::vector<std::string> list;
  for (int32_t i = 0; i < count; ++i)
    list.emplace_back(relations[i].name);
  return list.empty() ? "none" : absl::StrJoin(list, ", ");
}

// A run that ends normally leaves its state to the process's exit, which gives the memory back
// at once: destroying it would walk every stored row to free its strings only to exit after (as
// clang's -disable-free). Sanitized builds destroy it, so that their leak checks see destroy()
// free everything.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kDestroyStateAtExit = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kDestroyStateAtExit = true;
#else
constexpr bool kDestroyStateAtExit = false;
#endif
#else
constexpr bool kDestroyStateAtExit = false;
#endif

// Checkpoints of a run (--checkpoint-dir): when one is due and what it records.
class Checkpointer {
public:
  Checkpointer(const CommandLine &line, Host &host, const char *argv0,
               const std::optional<Checkpoint> &resumed)
      : line_(line), host_(host), argv0_(argv0), dir_(line.checkpoint_dir),
        last_ticks_(host.stats().ticks), last_time_(std::chrono::steady_clock::now()) {
    for (const Input &input : line.inputs)
      inputs_.push_back({detail::withoutPassword(input.path), 0, 0, {}});
    if (resumed)
      inputs_ = resumed->manifest.inputs;
    // After the newest checkpoint, damaged ones included: none is ever replaced in place.
    sequence_ = dir_.lastSequence();
  }

  // A tick ended with input `current` read up to byte `offset` (line `line_number`); `force`:
  // the end of the run. False if the checkpoint could not be written (reported).
  // The Kafka inputs, from `current` on, give their positions in `kafka`.
  bool tickEnded(size_t current, int64_t offset, int64_t line_number, bool force,
                 const std::vector<KafkaPositions> *kafka = nullptr) {
    if (current < inputs_.size()) {
      inputs_[current].offset = offset;
      inputs_[current].line = line_number;
    }
    for (size_t k = 0; kafka && k < kafka->size() && current + k < inputs_.size(); ++k)
      inputs_[current + k].partitions = (*kafka)[k];
    int64_t ticks = host_.stats().ticks;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_time_).count();
    bool due = line_.checkpoint_every_ticks > 0
                   ? ticks - last_ticks_ >= line_.checkpoint_every_ticks
                   : elapsed >= line_.checkpoint_every_seconds;
    if (!(due || (force && ticks != last_ticks_)))
      return true;
    auto start = std::chrono::steady_clock::now();
    CheckpointManifest manifest;
    manifest.sequence = ++sequence_;
    manifest.ticks = ticks;
    manifest.inputs = inputs_;
    manifest.current = static_cast<int64_t>(current);
    for (const auto &[path, length] : host_.outputLengths())
      manifest.outputs.push_back({path, length});
    const HostStats &stats = host_.stats();
    manifest.records_read = stats.records_read;
    manifest.bad_records = stats.bad_records;
    manifest.runtime_errors = stats.runtime_errors;
    manifest.changes_out = stats.changes_out;
    manifest.failing_rows = stats.failing_rows;
    StateImageInfo state;
    absl::Status status = dir_.write(manifest, [&](const StateImageSink &sink) {
      absl::StatusOr<StateImageInfo> info = host_.engine().writeState(sink);
      if (info.ok())
        state = *info;
      return info;
    });
    if (!status.ok()) {
      std::fprintf(stderr, "%s: error: checkpoint: %s\n", argv0_,
                   std::string(status.message()).c_str());
      return false;
    }
    ++written_;
    last_bytes_ = state.bytes;
    write_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    written_bytes_ += last_bytes_;
    last_ticks_ = ticks;
    last_time_ = std::chrono::steady_clock::now();
    return true;
  }

  // How many checkpoints this run has written.
  int64_t written() const { return written_; }

  // For --stats: how many, how large, how fast.
  std::string describe(double restore_seconds, int64_t restored_bytes) const {
    auto rate = [](int64_t bytes, double seconds) {
      return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0;
    };
    std::string text =
        absl::StrFormat("checkpoints: %d written to %s, the last %.3f MB, written at %.1f MB/s",
                        written_, line_.checkpoint_dir, static_cast<double>(last_bytes_) / 1e6,
                        rate(written_bytes_, write_seconds_));
    if (restored_bytes > 0)
      text += absl::StrFormat("; resumed from %.3f MB, restored at %.1f MB/s",
                              static_cast<double>(restored_bytes) / 1e6,
                              rate(restored_bytes, restore_seconds));
    return text;
  }

private:
  const CommandLine &line_;
  Host &host_;
  const char *argv0_;
  CheckpointDir dir_;
  std::vector<CheckpointManifest::Input> inputs_;
  int64_t sequence_ = 0;
  int64_t last_ticks_;
  std::chrono::steady_clock::time_point last_time_;
  int64_t written_ = 0, last_bytes_ = 0, written_bytes_ = 0;
  double write_seconds_ = 0;
};

// Where a run resumes (--checkpoint-dir): the newest usable checkpoint, checked against the
// command; nullopt for a new run. Errors are reported and make `error` true.
std::optional<Checkpoint> findCheckpoint(const kiln_program &program, CommandLine &line,
                                         const char *argv0, bool &error) {
  error = true;
  for (const Input &input : line.inputs) {
    if (input.path == "-") {
      std::fprintf(stderr,
                   "%s: error: --checkpoint-dir needs file inputs: stdin cannot be read "
                   "again from a checkpoint's position\n",
                   argv0);
      return std::nullopt;
    }
  }
  // A restart cannot take back what a Kafka topic received: only a transactional producer fed
  // by Kafka inputs (whose consumer group's offsets the transactions commit) or by PostgreSQL
  // ones (whose LSN they commit) knows which ticks it delivered, and resumes exactly.
  bool kafka_inputs_only = !line.inputs.empty(), postgres_inputs_only = line.postgres;
  for (const Input &input : line.inputs) {
    kafka_inputs_only = kafka_inputs_only && isKafka(input);
    postgres_inputs_only = postgres_inputs_only && detail::parsePostgresAddress(input.path);
  }
  std::vector<std::string> kafka_targets;
  for (const auto &[sink, target] : line.options.sinks)
    if (target.kind == SinkTarget::Kind::Kafka)
      kafka_targets.push_back(absl::StrCat("sink ", sink));
  if (line.options.dead_letter_path.starts_with("kafka://"))
    kafka_targets.push_back("the dead-letter topic");
  for (const std::string &target : kafka_targets) {
    if (line.options.kafka_transactional_id.empty() ||
        !(kafka_inputs_only || postgres_inputs_only)) {
      std::fprintf(stderr,
                   "%s: error: --checkpoint-dir with Kafka %s needs Kafka transactions "
                   "(not --kafka-at-least-once) and Kafka inputs only or PostgreSQL inputs only, "
                   "so that a restart knows which ticks the topic received: or write to a file\n",
                   argv0, target.c_str());
      return std::nullopt;
    }
  }
  std::vector<std::string> to_stdout;
  for (int32_t i = 0; i < program.nsinks; ++i) {
    auto it = line.options.sinks.find(program.sinks[i].name);
    if (it == line.options.sinks.end() || it->second.kind == SinkTarget::Kind::Stdout)
      to_stdout.emplace_back(program.sinks[i].name);
  }
  if (!to_stdout.empty()) {
    std::fprintf(stderr,
                 "%s: error: --checkpoint-dir needs every sink written to a file, which a "
                 "restart can cut back to the checkpoint: add --sink NAME=file:PATH for %s\n",
                 argv0, absl::StrJoin(to_stdout, ", ").c_str());
    return std::nullopt;
  }
  std::vector<std::string> warnings;
  absl::StatusOr<std::optional<Checkpoint>> found =
      CheckpointDir(line.checkpoint_dir).latest(warnings);
  for (const std::string &warning : warnings)
    std::fprintf(stderr, "%s: warning: %s\n", argv0, warning.c_str());
  if (!found.ok()) {
    std::fprintf(stderr, "%s: error: %s\n", argv0, std::string(found.status().message()).c_str());
    return std::nullopt;
  }
  error = false;
  if (!found->has_value())
    return std::nullopt;
  const CheckpointManifest &manifest = (*found)->manifest;
  bool same_inputs = manifest.inputs.size() == line.inputs.size();
  for (size_t i = 0; same_inputs && i < line.inputs.size(); ++i)
    same_inputs = manifest.inputs[i].path == detail::withoutPassword(line.inputs[i].path);
  if (!same_inputs) {
    std::fprintf(stderr,
                 "%s: error: the inputs differ from those of the checkpoint in %s: start "
                 "with the same command, or with an empty checkpoint directory\n",
                 argv0, line.checkpoint_dir.c_str());
    error = true;
    return std::nullopt;
  }
  for (const CheckpointManifest::Output &output : manifest.outputs)
    line.options.resume_output_lengths[output.path] = output.length;
  return std::move(*found);
}

volatile std::sig_atomic_t g_stop_requested = 0;
void requestStop(int) { g_stop_requested = 1; }

// A line on stderr, rewritten about once a second while the program runs, when stderr is a
// terminal: what a long run has done so far, and how fast.
class Progress {
public:
  explicit Progress(const char *argv0) : argv0_(argv0), enabled_(::isatty(2) != 0) {}
  ~Progress() { finish(); }
  // Ends the line, before anything else is written to stderr.
  void finish() {
    if (shown_)
      std::fputc('\n', stderr);
    shown_ = false;
    enabled_ = false;
  }
  // Cheap enough to call per record: it looks at the clock every 1024 calls only.
  void update(const Host &host) {
    if (!enabled_ || (++calls_ & 1023) != 1)
      return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1))
      return;
    const HostStats &stats = host.stats();
    double seconds = std::chrono::duration<double>(now - last_).count();
    double rate = static_cast<double>(stats.records_read - last_records_) / seconds;
    std::fprintf(
        stderr, "\r%s: %lld records (%.0f/s), %lld ticks, %lld changes out, %lld bad\033[K", argv0_,
        static_cast<long long>(stats.records_read), rate, static_cast<long long>(stats.ticks),
        static_cast<long long>(stats.changes_out), static_cast<long long>(stats.bad_records));
    last_ = now;
    last_records_ = stats.records_read;
    shown_ = true;
  }

private:
  const char *argv0_;
  bool enabled_;
  bool shown_ = false;
  uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  int64_t last_records_ = 0;
};

// The HTTP endpoint (--http), if any: the main loop answers its requests between ticks.
struct Endpoint {
  std::unique_ptr<detail::HttpServer> server;
  std::function<std::vector<detail::PartitionLag>()> kafka_lag; // while Kafka inputs are read
  std::function<int64_t()> replication_lag;                     // while a PostgreSQL stream is read
  bool waiting() const { return server && server->waiting(); }
  void serve(Host &host) {
    if (!waiting())
      return;
    detail::ServingContext context{host, kafka_lag, replication_lag};
    server->serve([&](const detail::HttpServer::Request &request) {
      return detail::answer(context, request);
    });
  }
};

// What a streamed input's reader serves besides the host: checkpoints, the HTTP endpoint and the
// progress line (each may be absent).
struct StreamRead {
  Checkpointer *checkpointer = nullptr;
  Endpoint *endpoint = nullptr;
  Progress *progress = nullptr;
};

// How readKafka reads: from where, up to where.
struct KafkaRead : StreamRead {
  std::vector<KafkaPositions> start = {}; // per Kafka input, a checkpoint's (empty: beginnings)
  // An upgrade's replay: up to a checkpoint's positions, per Kafka input.
  std::optional<std::vector<KafkaPositions>> until = std::nullopt;
};

// Reads the Kafka inputs (kafka://BROKERS/TOPIC, the last inputs of the command line) together,
// through one consumer, until every partition has been read to its end (--stop-at-end), up to
// `read.until`, or until SIGINT/SIGTERM; a tick also ends --tick-interval after its first
// record. Returns 0, or the exit status: 1 (a topic cannot be read, a checkpoint cannot be
// written), 2 (a bad record with --on-bad-record=fail), 3 (a SQL runtime error).
int readKafka(Host &host, const CommandLine &line, const std::vector<int32_t> &sources,
              const char *argv0, const KafkaRead &read) {
  const size_t first = line.kafka_begin;
  std::vector<std::string> topics;
  std::string brokers;
  for (size_t i = first; i < line.inputs.size(); ++i) {
    absl::StatusOr<std::optional<detail::KafkaAddress>> address =
        detail::parseKafkaAddress(line.inputs[i].path);
    if (!address.ok()) {
      return fail(argv0, address.status());
    }
    const detail::KafkaAddress &kafka = **address;
    if (i > first && kafka.brokers != brokers) {
      std::fprintf(stderr,
                   "%s: error: Kafka inputs %s and %s are on different clusters: the Kafka inputs "
                   "of a run share one\n",
                   argv0, line.inputs[first].path.c_str(), line.inputs[i].path.c_str());
      return 1;
    }
    if (std::find(topics.begin(), topics.end(), kafka.topic) != topics.end()) {
      std::fprintf(stderr, "%s: error: Kafka topic %s is an input twice\n", argv0,
                   kafka.topic.c_str());
      return 1;
    }
    brokers = kafka.brokers;
    topics.push_back(kafka.topic);
  }
  const size_t count = topics.size();
  std::vector<detail::KafkaOffsets> next(count), until(count);
  for (size_t t = 0; t < count && t < read.start.size(); ++t)
    next[t].insert(read.start[t].begin(), read.start[t].end());
  for (size_t t = 0; read.until && t < count && t < read.until->size(); ++t)
    until[t].insert((*read.until)[t].begin(), (*read.until)[t].end());
  std::string group =
      line.kafka_group.empty() ? absl::StrCat("kiln-", host.program().name) : line.kafka_group;
  absl::StatusOr<std::unique_ptr<detail::KafkaSource>> kafka =
      detail::KafkaSource::open(brokers, topics, group, next);
  if (!kafka.ok()) {
    return fail(argv0, kafka.status());
  }
  for (size_t t = 0; t < count; ++t)
    for (int32_t p = 0; p < (*kafka)->partitions(t); ++p)
      next[t].try_emplace(p, 0);
  // Per topic and partition, the offset after the last message read; `next`, what ticks record
  // and commit, stops at the first message a Debezium transaction holds back.
  std::vector<detail::KafkaOffsets> consumed = next;
  // Debezium transaction topics, and the data topics naming them: an assembler each.
  std::vector<detail::TransactionAssembler> assemblers;
  std::vector<int> assembler_of(count, -1); // by topic, a data or a transaction topic
  for (size_t t = 0; t < count; ++t) {
    if (!line.inputs[first + t].transaction_topic)
      continue;
    std::map<int32_t, std::string> collections;
    for (size_t d = 0; d < count; ++d) {
      const Input &input = line.inputs[first + d];
      if (input.transactions != topics[t])
        continue;
      if (host.sourceFormat(sources[first + d]) != SourceFormat::Debezium) {
        std::fprintf(stderr,
                     "%s: error: --source %s=...?transactions=%s: a transaction topic is "
                     "Debezium's: the source's format must be debezium\n",
                     argv0, input.source.c_str(), topics[t].c_str());
        return 1;
      }
      std::optional<std::string> collection =
          detail::TransactionAssembler::collectionOf(topics[d], topics[t]);
      if (!collection) {
        std::fprintf(stderr,
                     "%s: error: Kafka topic %s: cannot tell which data collection it carries: "
                     "with transaction topic %s, Debezium names it %sSCHEMA.TABLE\n",
                     argv0, topics[d].c_str(), topics[t].c_str(),
                     topics[t].substr(0, topics[t].rfind('.') + 1).c_str());
        return 1;
      }
      collections[static_cast<int32_t>(d)] = *collection;
      assembler_of[d] = static_cast<int>(assemblers.size());
    }
    if ((*kafka)->partitions(t) != 1) {
      std::fprintf(stderr,
                   "%s: error: Debezium transaction topic %s has %d partitions: its END events "
                   "give the commit order only in one\n",
                   argv0, topics[t].c_str(), (*kafka)->partitions(t));
      return 1;
    }
    assembler_of[t] = static_cast<int>(assemblers.size());
    assemblers.emplace_back(static_cast<int32_t>(t), std::move(collections));
  }
  detail::DebeziumMetadataReader metadata;
  // Brings next[topic][partition] up to date with what is read and what is held.
  auto updatePosition = [&](size_t topic, int32_t partition) {
    std::optional<int64_t> held;
    if (assembler_of[topic] >= 0)
      held = assemblers[static_cast<size_t>(assembler_of[topic])].firstHeld(
          static_cast<int32_t>(topic), partition);
    next[topic][partition] = held.value_or(consumed[topic][partition]);
  };
  auto limit = [&](size_t topic, int32_t partition) {
    auto it = until[topic].find(partition);
    return it == until[topic].end() ? 0 : it->second;
  };
  auto replayed = [&] {
    for (size_t t = 0; t < count; ++t)
      for (const auto &[partition, offset] : next[t])
        if (offset < limit(t, partition))
          return false;
    return true;
  };
  auto tickEnded = [&](bool force) {
    if (!read.checkpointer)
      return true;
    std::vector<KafkaPositions> positions;
    for (const detail::KafkaOffsets &offsets : next)
      positions.emplace_back(offsets.begin(), offsets.end());
    return read.checkpointer->tickEnded(first, 0, 0, force, &positions);
  };
  // With transactional Kafka sinks, each tick's transaction commits the offsets it consumed;
  // the ticks up to those offsets were delivered before a restart, and are replayed muted.
  std::vector<detail::KafkaOffsets> delivered(count);
  if (!read.until && host.kafkaTransactions()) {
    absl::StatusOr<std::vector<detail::KafkaOffsets>> committed = (*kafka)->committed();
    if (!committed.ok()) {
      return fail(argv0, committed.status());
    }
    delivered = *std::move(committed);
    host.setKafkaInput(kafka->get(), &next);
  }
  if (read.endpoint)
    read.endpoint->kafka_lag = [&] {
      std::vector<detail::PartitionLag> lags;
      std::vector<detail::KafkaOffsets> ends = (*kafka)->ends(), read_to = (*kafka)->endsRead();
      for (size_t t = 0; t < count; ++t)
        for (const auto &[partition, end] : ends[t]) {
          // Past the last data message, a transaction's marker may remain: the end of what was
          // read counts too.
          int64_t at = std::max(next[t][partition], read_to[t][partition]);
          if (end >= 0)
            lags.push_back({topics[t], partition, std::max<int64_t>(0, end - at)});
        }
      return lags;
    };
  // The host and the endpoint must not keep pointers to this input once it is done, however it
  // ends.
  struct Detach {
    Host &host;
    Endpoint *endpoint;
    ~Detach() {
      host.setKafkaInput(nullptr, nullptr);
      host.muteKafkaSinks(false);
      if (endpoint)
        endpoint->kafka_lag = nullptr;
    }
  } detach{host, read.endpoint};
  auto caughtUp = [&] {
    for (size_t t = 0; t < count; ++t)
      for (const auto &[partition, offset] : delivered[t])
        if (next[t][partition] < offset)
          return false;
    return true;
  };
  bool muted = !caughtUp();
  host.muteKafkaSinks(muted);
  if (muted) {
    std::vector<std::string> offsets;
    for (size_t t = 0; t < count; ++t)
      for (const auto &[partition, offset] : delivered[t])
        offsets.push_back(absl::StrCat(topics[t], "/", partition, ":", offset));
    std::fprintf(stderr,
                 "%s: consumer group %s committed offsets %s with the sinks' last transaction: "
                 "replaying up to there without writing to Kafka sinks\n",
                 argv0, group.c_str(), absl::StrJoin(offsets, ",").c_str());
  }
  std::signal(SIGINT, requestStop);
  std::signal(SIGTERM, requestStop);
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> tick_started;
  std::string origin;
  // Ends the running tick: commits it and records it (a checkpoint when one is due); 0, or the
  // exit status.
  auto commitTick = [&] {
    host.commit();
    tick_started.reset();
    if (host.failed())
      return 3;
    return tickEnded(false) ? 0 : 1;
  };
  // Applies one message; 0, or the exit status.
  auto apply = [&](const detail::KafkaSource::Message &m) {
    const size_t t = static_cast<size_t>(m.topic);
    // Dead letters and messages name a record by topic, partition and offset.
    origin = absl::StrCat("kafka:", topics[t], "/", m.partition);
    int32_t source = sources[first + t];
    bool upsert = host.takesUpserts(source);
    if (!upsert && detail::stripWhitespace(m.payload).empty())
      return 0;
    int64_t tick = host.currentTick();
    if (!tick_started)
      tick_started = Clock::now();
    std::optional<std::string_view> value;
    if (!m.null_value)
      value = m.payload;
    bool pushed = upsert ? host.pushUpsert(m.key, value, origin, m.offset, source)
                         : host.pushRecord(m.payload, origin, m.offset, source);
    if (!pushed)
      if (int status = afterRejected(host, line, argv0); status != 0)
        return status;
    if (host.currentTick() != tick) { // the record ended the tick
      tick_started.reset();
      if (!tickEnded(false))
        return 1;
    }
    return 0;
  };
  // Applies the batches assembler `a` has ready: each whole transaction is a tick. 0, or the
  // exit status.
  auto release = [&](size_t a) {
    while (std::optional<detail::TransactionAssembler::Batch> batch = assemblers[a].next()) {
      for (const detail::TransactionAssembler::Message &held : batch->messages) {
        detail::KafkaSource::Message m{
            held.payload,    held.topic,
            held.partition,  held.offset,
            held.null_value, held.key ? std::optional<std::string_view>(*held.key) : std::nullopt};
        if (int status = apply(m); status != 0)
          return status;
      }
      for (size_t t = 0; t < count; ++t)
        if (assembler_of[t] == static_cast<int>(a))
          for (const auto &[partition, offset] : consumed[t])
            updatePosition(t, partition);
      if (host.hasPendingChanges())
        if (int status = commitTick(); status != 0)
          return status;
    }
    return 0;
  };
  // Takes one message read: applies it, or gives it to its Debezium transaction's assembler.
  // 0, or the exit status.
  auto take = [&](const detail::KafkaSource::Message &m) {
    const size_t t = static_cast<size_t>(m.topic);
    consumed[t][m.partition] = m.offset + 1;
    if (assembler_of[t] < 0) {
      updatePosition(t, m.partition);
      return apply(m);
    }
    const size_t a = static_cast<size_t>(assembler_of[t]);
    detail::TransactionAssembler &assembler = assemblers[a];
    if (line.inputs[first + t].transaction_topic) {
      absl::StatusOr<detail::DebeziumTransactionMarker> marker =
          metadata.marker(m.null_value ? std::string_view("null") : m.payload);
      absl::Status status =
          marker.ok() && marker->end
              ? assembler.end(marker->id, marker->event_counts, m.partition, m.offset)
              : marker.status();
      if (!status.ok()) {
        // Without its END, a transaction and every one after it would wait for good.
        return fail(argv0,
                    absl::Status(status.code(),
                                 absl::StrCat("Kafka topic ", topics[t], " partition ", m.partition,
                                              " offset ", m.offset, ": ", status.message())));
      }
    } else {
      std::optional<std::string> id;
      if (!m.null_value) {
        absl::StatusOr<std::optional<std::string>> transaction = metadata.transactionOf(m.payload);
        if (!transaction.ok()) {
          updatePosition(t, m.partition);
          if (!host.rejectRecord(m.payload, absl::StrCat("kafka:", topics[t], "/", m.partition),
                                 m.offset, transaction.status()))
            if (int status = afterRejected(host, line, argv0); status != 0)
              return status;
          return 0;
        }
        id = *std::move(transaction);
      }
      detail::TransactionAssembler::Message copy{
          m.topic,      m.partition,
          m.offset,     std::string(m.payload),
          m.null_value, m.key ? std::optional<std::string>(*m.key) : std::nullopt};
      absl::StatusOr<bool> held = assembler.event(std::move(copy), std::move(id));
      if (!held.ok()) {
        return fail(argv0, held.status());
      }
      if (!*held) {
        updatePosition(t, m.partition);
        return apply(m);
      }
    }
    updatePosition(t, m.partition);
    return release(a);
  };
  // While the sinks are muted, a partition that has passed its delivered offset waits (paused,
  // its messages kept here) for the others: what it reads next is new to the sinks, and a muted
  // tick would apply it without writing it.
  struct Held {
    detail::KafkaSource::Message message;
    std::string payload;
    std::optional<std::string> key;
  };
  std::vector<Held> held;
  auto deliveredOffset = [&](size_t topic, int32_t partition) -> std::optional<int64_t> {
    auto it = delivered[topic].find(partition);
    return it == delivered[topic].end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  while (!g_stop_requested && !(read.until && replayed())) {
    absl::StatusOr<std::optional<detail::KafkaSource::Message>> message = (*kafka)->poll(100);
    if (!message.ok()) {
      return fail(argv0, message.status());
    }
    if (message->has_value()) {
      const detail::KafkaSource::Message &m = **message;
      const size_t t = static_cast<size_t>(m.topic);
      std::optional<int64_t> done = deliveredOffset(t, m.partition);
      // A replay reads a partition up to the checkpoint's position only.
      if (read.until && m.offset >= limit(t, m.partition)) {
        // (not applied)
      } else if (muted && (!done || m.offset >= *done)) {
        Held &h = held.emplace_back(Held{m, std::string(m.payload), std::nullopt});
        if (m.key)
          h.key = std::string(*m.key);
        if (absl::Status paused = (*kafka)->pause(t, m.partition); !paused.ok()) {
          return fail(argv0, paused);
        }
      } else if (int status = take(m); status != 0) {
        return status;
      }
    }
    if (muted && caughtUp()) {
      // Every delivered tick is replayed: what follows is new to the sinks.
      if (host.hasPendingChanges()) {
        host.commit();
        if (host.failed())
          return 3;
        if (!tickEnded(false))
          return 1;
      }
      tick_started.reset();
      muted = false;
      host.muteKafkaSinks(false);
      if (absl::Status resumed = (*kafka)->resumeAll(); !resumed.ok()) {
        return fail(argv0, resumed);
      }
      for (Held &h : held) {
        h.message.payload = h.payload;
        h.message.key = h.key ? std::optional<std::string_view>(*h.key) : std::nullopt;
        if (int status = take(h.message); status != 0)
          return status;
      }
      held.clear();
    }
    // A request waits: the tick ends now (ticks here are a matter of time anyway), and the
    // answer reads whole ticks.
    bool serve = read.endpoint && read.endpoint->waiting() && !read.until;
    if (host.hasPendingChanges() && tick_started &&
        (serve || Clock::now() - *tick_started >= std::chrono::milliseconds(line.tick_interval_ms)))
      if (int status = commitTick(); status != 0)
        return status;
    if (serve)
      read.endpoint->serve(host);
    if (read.progress)
      read.progress->update(host);
    if (line.stop_at_end && !read.until && (*kafka)->atEnd())
      break;
    if (read.until && (*kafka)->atEnd() && !replayed()) {
      std::fprintf(stderr,
                   "%s: error: cannot replay the Kafka inputs: their partitions end before the "
                   "checkpoint's positions (messages deleted by retention?)\n",
                   argv0);
      return 1;
    }
  }
  int64_t held_events = 0, held_transactions = 0;
  for (const detail::TransactionAssembler &assembler : assemblers) {
    held_events += assembler.heldEvents();
    held_transactions += assembler.heldTransactions();
  }
  if (held_events > 0 && !read.until)
    std::fprintf(stderr,
                 "%s: %lld events of %lld Debezium transactions were held back, not applied: "
                 "their END events or some of their events were not read (a run from this "
                 "checkpoint or consumer group reads them again)\n",
                 argv0, static_cast<long long>(held_events),
                 static_cast<long long>(held_transactions));
  if (!host.finishInput())
    return 3;
  return tickEnded(!read.until) ? 0 : 1;
}

// How readPostgres reads.
struct PostgresRead : StreamRead {
  std::optional<uint64_t> start = std::nullopt; // a checkpoint's LSN: resume after it (else a
                                                // new snapshot)
};

// Reads the PostgreSQL inputs (postgres://..., the last inputs; one source table each) through
// one logical replication stream: a snapshot as the first tick (unless resuming), then each
// upstream transaction as one tick, until SIGINT/SIGTERM (or, with --stop-at-end, until it has
// caught up with the server's WAL position at start). The slot's position is confirmed once a
// tick is durable here: at once without checkpoints (a temporary slot), else once a checkpoint
// holds it (a slot kept across runs). Returns 0 or an exit status, as readKafka.
int readPostgres(Host &host, const CommandLine &line, const std::vector<int32_t> &sources,
                 const char *argv0, const PostgresRead &read) {
  const size_t first = line.kafka_begin;
  const kiln_program &program = host.program();
  std::string default_name = absl::StrCat("kiln_", program.name);
  detail::PgReplication::Options options;
  std::vector<detail::PgReplication::Table> tables;
  for (size_t i = first; i < line.inputs.size(); ++i) {
    detail::PostgresAddress address = *detail::parsePostgresAddress(line.inputs[i].path);
    if (sources[i] < 0) {
      std::fprintf(stderr,
                   "%s: error: a PostgreSQL input feeds one source table: --source "
                   "NAME=%s\n",
                   argv0, detail::withoutPassword(line.inputs[i].path).c_str());
      return 1;
    }
    if (i > first && address.conninfo != options.conninfo) {
      std::fprintf(stderr,
                   "%s: error: PostgreSQL inputs %s and %s are different databases: the "
                   "PostgreSQL inputs of a run share one\n",
                   argv0, detail::withoutPassword(line.inputs[first].path).c_str(),
                   detail::withoutPassword(line.inputs[i].path).c_str());
      return 1;
    }
    options.conninfo = address.conninfo;
    if (!address.publication.empty())
      options.publication = address.publication;
    if (!address.slot.empty())
      options.slot = address.slot;
    const kiln_relation_desc &desc = program.sources[sources[i]];
    std::string_view name = desc.name;
    std::string upstream = address.table.empty()
                               ? "public." + std::string(name.substr(name.rfind('.') + 1))
                               : address.table;
    if (upstream.find('.') == std::string::npos)
      upstream = "public." + upstream;
    tables.push_back({upstream, &desc});
  }
  if (options.publication.empty())
    options.publication = default_name;
  if (options.slot.empty())
    options.slot = default_name;
  options.permanent_slot = read.checkpointer != nullptr;
  options.start = read.start;
  absl::StatusOr<std::unique_ptr<detail::PgReplication>> opened =
      detail::PgReplication::open(options, tables);
  if (!opened.ok()) {
    return fail(argv0, opened.status());
  }
  detail::PgReplication &pg = **opened;
  std::string origin = absl::StrCat("postgres:", options.slot);
  uint64_t position = read.start.value_or(pg.startLsn()); // the end of the last tick applied
  int64_t checkpoints = 0;
  // The position of the newest checkpoint: a restart may resume from the one before it (if the
  // newest is damaged), so the slot is confirmed up to that one only.
  std::optional<uint64_t> newest = read.start;
  // A tick ended at `position`: checkpoint (maybe), then confirm what is durable.
  auto tickEnded = [&](bool force) {
    uint64_t durable = position;
    if (read.checkpointer) {
      if (!read.checkpointer->tickEnded(first, static_cast<int64_t>(position), 0, force))
        return false;
      if (read.checkpointer->written() == checkpoints)
        return true;
      checkpoints = read.checkpointer->written();
      std::optional<uint64_t> before = newest;
      newest = position;
      if (!before)
        return true;
      durable = *before;
    }
    absl::Status confirmed = pg.confirm(durable);
    if (!confirmed.ok())
      std::fprintf(stderr, "%s: error: %s\n", argv0, std::string(confirmed.message()).c_str());
    return confirmed.ok();
  };
  // One change record for the host, of source table `table`.
  std::string record;
  auto push = [&](int32_t table, const char *op, const std::string &row) {
    record = absl::StrCat("{\"op\":\"", op, "\",\"row\":", row, "}");
    if (host.pushRecord(record, origin, static_cast<int64_t>(position), sources[first + table]))
      return 0;
    return afterRejected(host, line, argv0);
  };
  auto keyed = [&](int32_t table) {
    return program.sources[sources[first + static_cast<size_t>(table)]].nkeys > 0;
  };
  // With transactional Kafka targets, each tick's transaction commits the LSN the tick ends at
  // (as an offset, see detail::InputPosition). A restart replays the ticks after its checkpoint:
  // those up to the LSN the last transaction committed were delivered, and are replayed muted.
  int64_t committed_position = 0;
  std::optional<uint64_t> delivered;
  if (host.kafkaTransactions()) {
    if (read.start) {
      absl::StatusOr<std::optional<int64_t>> last = host.deliveredInputPosition();
      if (!last.ok())
        return fail(argv0, last.status());
      if (*last && static_cast<uint64_t>(**last) > *read.start) {
        delivered = static_cast<uint64_t>(**last);
        std::fprintf(stderr,
                     "%s: the sinks' last Kafka transaction holds the ticks up to %s: "
                     "replaying those after the checkpoint (%s) without writing them again\n",
                     argv0, detail::formatLsn(*delivered).c_str(),
                     detail::formatLsn(*read.start).c_str());
      }
    }
    host.setInputPosition(&committed_position);
  }
  struct DetachPosition {
    Host &host;
    ~DetachPosition() {
      host.setInputPosition(nullptr);
      host.muteKafkaSinks(false);
    }
  } detach_position{host};
  // Commits the tick that ends at `position`.
  auto commit = [&] {
    committed_position = static_cast<int64_t>(position);
    host.muteKafkaSinks(delivered && position <= *delivered);
    host.commit();
    return !host.failed();
  };
  int status = 0;
  absl::Status snapshot = pg.readSnapshot([&](const detail::PgChange &change) {
    // Upserts: a snapshot read again after a crash replaces what it finds.
    status = push(change.table, keyed(change.table) ? "upsert" : "insert", change.row);
    return status == 0 ? absl::OkStatus() : absl::AbortedError("");
  });
  if (!snapshot.ok()) {
    if (status != 0)
      return status;
    return fail(argv0, snapshot);
  }
  if (host.hasPendingChanges() && !commit())
    return 3;
  if (!tickEnded(false))
    return 1;
  if (absl::Status started = pg.startStreaming(); !started.ok()) {
    return fail(argv0, started);
  }
  std::fprintf(stderr, "%s: streaming %s from %s (slot %s, publication %s)\n", argv0,
               absl::StrJoin(tables, ", ",
                             [](std::string *out, const detail::PgReplication::Table &t) {
                               out->append(t.upstream);
                             })
                   .c_str(),
               detail::formatLsn(pg.startLsn()).c_str(), options.slot.c_str(),
               options.publication.c_str());
  if (read.endpoint)
    read.endpoint->replication_lag = [&] {
      // The server reports its position in keepalives: ask for one, for the next scrape.
      static_cast<void>(pg.requestKeepalive());
      return static_cast<int64_t>(pg.lastServerLsn() > position ? pg.lastServerLsn() - position
                                                                : 0);
    };
  struct Detach {
    Endpoint *endpoint;
    ~Detach() {
      if (endpoint)
        endpoint->replication_lag = nullptr;
    }
  } detach{read.endpoint};
  std::signal(SIGINT, requestStop);
  std::signal(SIGTERM, requestStop);
  bool in_transaction = false;
  int quiet_polls = 0; // polls in a row that brought nothing, once the server is past the start
  // A stop waits for the transaction being read to end: a tick is a whole transaction.
  while (!g_stop_requested || in_transaction) {
    absl::StatusOr<detail::PgReplication::Event> event = pg.poll(100);
    if (!event.ok()) {
      return fail(argv0, event.status());
    }
    using Kind = detail::PgReplication::Event::Kind;
    if (event->kind == Kind::Change) {
      in_transaction = true;
      const detail::PgChange &change = event->change;
      using Op = detail::PgChange::Op;
      bool has_key = keyed(change.table);
      // A keyed table: inserts and updates are upserts (a transaction seen again after a
      // restart replaces what it wrote), a changed key deletes the old one first. A table without
      // a key: an update is its old row out and its new row in.
      if (change.op != Op::Insert && change.old_row)
        status = push(change.table, "delete", *change.old_row);
      if (status == 0 && change.op != Op::Delete)
        status = push(change.table, has_key ? "upsert" : "insert", change.row);
      if (status != 0)
        return status;
    } else if (event->kind == Kind::Commit) {
      in_transaction = false;
      position = event->lsn;
      // Each upstream transaction is one tick: outputs agree with a transaction boundary.
      if (host.hasPendingChanges()) {
        if (!commit())
          return 3;
        if (!tickEnded(false))
          return 1;
      }
    }
    if (in_transaction)
      continue;
    // Idle without a checkpoint to wait for: the slot may release the WAL the server has sent
    // since (changes of other tables), which this run has nothing of.
    if (event->kind == Kind::None && !read.checkpointer && !host.hasPendingChanges() &&
        pg.lastServerLsn() > position) {
      position = pg.lastServerLsn();
      if (absl::Status confirmed = pg.confirm(position); !confirmed.ok()) {
        return fail(argv0, confirmed);
      }
    }
    if (read.endpoint)
      read.endpoint->serve(host);
    if (read.progress)
      read.progress->update(host);
    // --stop-at-end: done once the server has sent all it had when the run started (its insert
    // position then). The last transaction read may end there; else the server's keepalives say
    // it has read past it, but their position can run ahead of what it has decoded and sent, so
    // that stop waits for half a second of quiet.
    if (event->kind != Kind::None)
      quiet_polls = 0;
    if (line.stop_at_end && event->kind == Kind::None) {
      if (position >= pg.serverLsnAtStart())
        break;
      if (pg.lastServerLsn() >= pg.serverLsnAtStart() && ++quiet_polls >= 5)
        break;
      if (absl::Status asked = pg.requestKeepalive(); !asked.ok()) {
        return fail(argv0, asked);
      }
    }
  }
  if (!host.finishInput())
    return 3;
  return tickEnded(true) ? 0 : 1;
}

// A run resumed from a checkpoint of an earlier build (Upgrade.h): says what becomes of each
// model, and replays the records of the plan's sources from the start of the inputs to the
// checkpoint's positions. False if a runtime error stopped it.
bool rebuild(const UpgradePlan &plan, Host &host, const CommandLine &line,
             const std::vector<int32_t> &sources, const Checkpoint &resumed, const char *argv0) {
  std::fprintf(stderr, "%s: the checkpoint %s/%s was written by another build of %s:\n", argv0,
               line.checkpoint_dir.c_str(), resumed.name.c_str(), host.program().name);
  for (const UpgradePlan::Verdict &verdict : plan.verdicts)
    std::fprintf(stderr, "  %s: %s\n", verdict.model.c_str(), verdict.what.c_str());
  if (plan.replayed.empty())
    return true;
  const CheckpointManifest &m = resumed.manifest;
  for (size_t i = 0; i <= static_cast<size_t>(m.current) && i < line.inputs.size(); ++i) {
    const std::string &path = line.inputs[i].path;
    if (i == line.kafka_begin && line.postgres) {
      std::fprintf(stderr,
                   "%s: error: the upgrade rebuilds state from PostgreSQL sources, which cannot "
                   "be read again from their start: start from an empty checkpoint directory "
                   "(a new snapshot)\n",
                   argv0);
      return false;
    }
    if (i == line.kafka_begin) { // the Kafka inputs, read together
      KafkaRead read;
      read.until.emplace();
      for (size_t k = i; k < line.inputs.size(); ++k)
        read.until->push_back(m.inputs[k].partitions);
      return readKafka(host, line, sources, argv0, read) == 0;
    }
    LineReader reader(path);
    if (!reader.opened()) {
      std::fprintf(stderr, "%s: error: cannot open %s again to replay it: %s\n", argv0,
                   path.c_str(), std::strerror(errno));
      return false;
    }
    bool whole = i < static_cast<size_t>(m.current);
    int64_t end = whole ? -1 : m.inputs[i].offset;
    int64_t line_number = 0;
    while (end < 0 || reader.offset() < end) {
      std::optional<std::string_view> text = reader.next();
      if (!text)
        break;
      ++line_number;
      if (detail::stripWhitespace(*text).empty())
        continue;
      if (!host.pushRecord(*text, path, line_number, sources[i]) && host.failed())
        return false;
    }
    if (reader.failed()) {
      std::fprintf(stderr, "%s: error: cannot read %s again to replay it: %s\n", argv0,
                   path.c_str(), std::strerror(errno));
      return false;
    }
  }
  return true;
}

int run(const kiln_program &program, CommandLine line, const char *argv0) {
  std::optional<Checkpoint> resumed;
  if (!line.checkpoint_dir.empty()) {
    bool error = false;
    resumed = findCheckpoint(program, line, argv0, error);
    if (error)
      return 1;
  }
  auto owned_host = std::make_unique<Host>(&program, line.options);
  Host &host = *owned_host;
  std::vector<int32_t> sources;
  for (const Input &input : line.inputs) {
    int32_t source = input.source.empty() ? -1 : host.findSource(input.source);
    if (!input.source.empty() && source < 0) {
      std::fprintf(stderr, "%s: error: --source %s: no such source table (sources: %s)\n", argv0,
                   input.source.c_str(), names(program.sources, program.nsources).c_str());
      return 1;
    }
    sources.push_back(source);
  }
  std::optional<Checkpointer> checkpointer;
  double restore_seconds = 0;
  Progress progress(argv0);
  auto report = [&] {
    progress.finish();
    bool ok = reportStats(line, host, argv0);
    if (checkpointer && line.stats)
      std::fprintf(
          stderr, "%s\n",
          checkpointer
              ->describe(restore_seconds, resumed ? static_cast<int64_t>(resumed->state.size()) : 0)
              .c_str());
    return ok;
  };
  size_t first_input = 0;
  if (resumed) {
    const CheckpointManifest &m = resumed->manifest;
    HostStats stats;
    stats.records_read = m.records_read;
    stats.bad_records = m.bad_records;
    stats.runtime_errors = m.runtime_errors;
    stats.changes_out = m.changes_out;
    stats.failing_rows = m.failing_rows;
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<UpgradePlan> plan = host.upgrade(resumed->state, stats);
    if (!plan.ok()) {
      std::fprintf(stderr, "%s: error: cannot resume from %s/%s: %s\n", argv0,
                   line.checkpoint_dir.c_str(), resumed->name.c_str(),
                   std::string(plan.status().message()).c_str());
      return 1;
    }
    if (plan->needed() && !rebuild(*plan, host, line, sources, *resumed, argv0)) {
      report();
      return 3;
    }
    if (!host.finishUpgrade()) {
      report();
      return 3;
    }
    restore_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    first_input = static_cast<size_t>(m.current);
  }
  if (!line.checkpoint_dir.empty())
    checkpointer.emplace(line, host, argv0, resumed);
  if (!resumed) { // a resumed run's state holds the seeds' rows
    absl::StatusOr<bool> loaded = host.loadSeeds();
    if (!loaded.ok())
      return fail(argv0, loaded.status());
    if (!*loaded) {
      report();
      return afterRejected(host, line, argv0);
    }
  }
  Endpoint endpoint;
  if (!line.http.empty()) {
    absl::StatusOr<std::unique_ptr<detail::HttpServer>> server =
        detail::HttpServer::start(line.http);
    if (!server.ok()) {
      return fail(argv0, server.status());
    }
    endpoint.server = *std::move(server);
    std::fprintf(stderr, "%s: serving http://%s:%d (/metrics, /healthz, /views)\n", argv0,
                 endpoint.server->host().c_str(), endpoint.server->port());
  }
  for (size_t i = first_input; i < line.inputs.size(); ++i) {
    const std::string &path = line.inputs[i].path;
    if (i == line.kafka_begin) { // the streamed inputs, read together, last
      StreamRead serving{checkpointer ? &*checkpointer : nullptr, &endpoint, &progress};
      bool resuming = resumed && i == first_input;
      int status = 0;
      if (line.postgres) { // the PostgreSQL tables, one replication stream
        PostgresRead read{serving};
        if (resuming)
          read.start = static_cast<uint64_t>(resumed->manifest.inputs[i].offset);
        status = readPostgres(host, line, sources, argv0, read);
      } else {
        KafkaRead read{serving};
        for (size_t k = i; resuming && k < line.inputs.size(); ++k)
          read.start.push_back(resumed->manifest.inputs[k].partitions);
        status = readKafka(host, line, sources, argv0, read);
      }
      if (status != 0) {
        if (status != 1)
          report();
        return status;
      }
      break;
    }
    std::string origin = path == "-" ? "<stdin>" : path;
    LineReader reader(path);
    if (!reader.opened()) {
      std::fprintf(stderr, "%s: error: cannot open %s: %s\n", argv0, path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    int64_t line_number = 0;
    if (resumed && i == first_input) {
      const CheckpointManifest::Input &position = resumed->manifest.inputs[i];
      if (!reader.seek(position.offset)) {
        std::fprintf(stderr, "%s: error: cannot seek %s to byte %lld: %s\n", argv0, path.c_str(),
                     static_cast<long long>(position.offset), std::strerror(errno));
        return 1;
      }
      line_number = position.line;
    }
    while (std::optional<std::string_view> text = reader.next()) {
      ++line_number;
      if (detail::stripWhitespace(*text).empty())
        continue;
      int64_t tick = host.currentTick();
      progress.update(host);
      if (!host.pushRecord(*text, origin, line_number, sources[i]))
        if (int status = afterRejected(host, line, argv0); status != 0) {
          report();
          return status;
        }
      if (host.currentTick() == tick)
        continue;
      if (checkpointer && !checkpointer->tickEnded(i, reader.offset(), line_number, false))
        return 1;
      endpoint.serve(host); // between ticks
    }
    if (reader.failed()) {
      std::fprintf(stderr, "%s: error: cannot read %s: %s\n", argv0, origin.c_str(),
                   std::strerror(errno));
      return 1;
    }
    if (!host.finishInput()) {
      report();
      return 3;
    }
    endpoint.serve(host);
    // The input is done: a checkpoint from here on starts at the next one.
    if (checkpointer &&
        !checkpointer->tickEnded(i, reader.offset(), line_number, i + 1 == line.inputs.size()))
      return 1;
  }
  int status = report() ? 0 : 1;
  if (!kDestroyStateAtExit) {
    std::fflush(nullptr); // what the host's destructor would have flushed
    static_cast<void>(owned_host.release());
  }
  return status;
}

} // namespace

int runMain(const kiln_program *program, int argc, char **argv) {
  const char *argv0 = argc > 0 ? argv[0] : program->name;
  CommandLine line;
  line.options.tick_size = program->default_tick_size; // the project's; --tick-size overrides it
  line.options.kafka_transactional_id = absl::StrCat("kiln-", program->name);
  if (std::optional<std::string> error = parseArguments(argc, argv, line)) {
    std::fprintf(stderr, "%s: error: %s\n\n", argv0, error->c_str());
    std::fprintf(stderr, kUsage, argv0, program->name);
    return 1;
  }
  if (line.kafka_at_least_once)
    line.options.kafka_transactional_id.clear();
  if (!line.help) {
    if (std::optional<std::string> error = addProjectConnectors(*program, line)) {
      std::fprintf(stderr, "%s: error: %s\n", argv0, error->c_str());
      return 1;
    }
    // Ticks of a PostgreSQL stream, or of Debezium topics with their transaction topic, are
    // upstream transactions, whatever their size.
    if (line.postgres || std::any_of(line.inputs.begin(), line.inputs.end(),
                                     [](const Input &input) { return input.transaction_topic; }))
      line.options.tick_size = 0;
  }
  if (line.help) {
    std::printf(kUsage, argv0, program->name);
    std::printf("\nsources: %s\nsinks: %s\ntick-size: %lld\n",
                names(program->sources, program->nsources).c_str(),
                names(program->sinks, program->nsinks).c_str(),
                static_cast<long long>(program->default_tick_size));
    return 0;
  }
  if (!line.empty_state_image.empty()) {
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::open(program);
    absl::Status written = engine.ok() ? writeFileAtomically(line.empty_state_image,
                                                             [&](const StateImageSink &sink) {
                                                               return (*engine)->writeState(sink);
                                                             })
                                       : engine.status();
    if (!written.ok()) {
      return fail(argv0, written);
    }
    return 0;
  }
  try {
    return run(*program, line, argv0);
  } catch (const std::runtime_error &e) {
    // Unknown sinks, unwritable files: raised by the Host.
    std::fprintf(stderr, "%s: error: %s\n", argv0, e.what());
    return 1;
  }
}

} // namespace kiln::runtime
