#include "kiln/runtime/Host.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "Kafka.h"
#include "OutputFile.h"
#include "RecordParser.h"
#include "Sinks.h"
#include "Strings.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kiln/runtime/Checkpoints.h"
#include "kiln/runtime/Csv.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime {

namespace {

using Policy = HostOptions::BadRecordPolicy;

using detail::openOutput;
using detail::OwnedFile;
using detail::writeBytes;

// The table of a seed's changes: the seed's model reads it after the rows it was built with.
constexpr std::string_view kSeedPrefix = KILN_SEED_CHANGES_SOURCE ".";
std::string seedChangesTable(std::string_view seed) {
  return std::string(kSeedPrefix) + std::string(seed);
}

std::unique_ptr<Engine> openEngine(const kiln_program &program, const HostOptions &options) {
  EngineOptions engine_options;
  for (const auto &[seed, path] : options.seed_files) {
    std::string table = seedChangesTable(seed);
    std::vector<std::string> seeds;
    bool found = false;
    for (int32_t s = 0; s < program.nsources; ++s) {
      std::string_view name = program.sources[s].name;
      if (name.starts_with(kSeedPrefix))
        seeds.emplace_back(name.substr(kSeedPrefix.size()));
      found |= name == table;
    }
    if (!found)
      throw std::runtime_error(absl::StrCat(
          "--seed ", seed, ": the project has no seed \"", seed, "\"",
          seeds.empty() ? "" : absl::StrCat(" (its seeds: ", absl::StrJoin(seeds, ", "), ")")));
    // The seed's constant relation emits nothing (pruned away if no sink reads the seed).
    for (int32_t op = 0; op < program.nops; ++op)
      if (std::string_view(program.ops[op].kind) == "constant" && program.ops[op].model == seed)
        engine_options.disabled_constants.push_back(op);
  }
  engine_options.on_error = options.on_error == HostOptions::RuntimeErrorPolicy::DeadLetter
                                ? EngineOptions::OnError::Isolate
                                : EngineOptions::OnError::Fail;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::open(&program, engine_options);
  if (!engine.ok())
    throw std::runtime_error(std::string(engine.status().message()));
  return *std::move(engine);
}

} // namespace

class Host::Impl {
public:
  Impl(const kiln_program &program, HostOptions options)
      : program(program), options(std::move(options)), engine(openEngine(program, this->options)),
        parser(program),
        sinks(std::make_unique<detail::Sinks>(program, this->options.sinks,
                                              this->options.kafka_transactional_id,
                                              this->options.resume_output_lengths)) {
    for (int32_t i = 0; i < program.nsinks; ++i) {
      json_rows.emplace_back(program.sinks[i]);
      std::string_view connector = program.sinks[i].connector ? program.sinks[i].connector : "";
      test_severity.emplace_back(connector.starts_with("test:") ? connector.substr(5) : "");
      if (!test_severity.back().empty())
        stats.failing_rows[program.sinks[i].name] = 0;
    }
    reported_failing = stats.failing_rows;
    metrics.source_records.assign(static_cast<size_t>(program.nsources), 0);
    metrics.sink_changes.assign(static_cast<size_t>(program.nsinks), 0);
    metrics.sink_last_change.assign(static_cast<size_t>(program.nsinks), 0);
    metrics.tick_buckets.assign(std::size(HostMetrics::kTickBounds) + 1, 0);
    if (this->options.policy == Policy::DeadLetter ||
        this->options.on_error == HostOptions::RuntimeErrorPolicy::DeadLetter) {
      if (this->options.dead_letter_path.empty())
        throw std::runtime_error("the dead-letter policy needs a dead-letter file");
      absl::StatusOr<std::optional<detail::KafkaAddress>> topic =
          detail::parseKafkaAddress(this->options.dead_letter_path);
      if (!topic.ok())
        throw std::runtime_error(absl::StrCat("--dead-letter ", this->options.dead_letter_path,
                                              ": ", topic.status().message()));
      if (*topic)
        sinks->openDeadLetterTopic(**topic);
      else
        dead_letter =
            openOutput(this->options.dead_letter_path, "a", this->options.resume_output_lengths);
    }
    engine->setSinkCallback(
        [this](int32_t sink, const void *row, int64_t weight) { emit(sink, row, weight); });
    formats.assign(static_cast<size_t>(program.nsources), SourceFormat::Json);
    for (const auto &[table, format] : this->options.source_formats) {
      const char *name = format == SourceFormat::Upsert     ? "upsert"
                         : format == SourceFormat::Debezium ? "debezium"
                                                            : "json";
      absl::StatusOr<int32_t> source = parser.resolveTable(table);
      if (!source.ok())
        throw std::runtime_error(
            absl::StrCat("--format ", table, "=", name, ": ", source.status().message()));
      if (format == SourceFormat::Upsert && program.sources[*source].nkeys == 0)
        throw std::runtime_error(absl::StrCat(
            "--format ", table, "=upsert: ", program.sources[*source].name,
            " has no primary key, which upserts need (declare primary_key in sources.yml)"));
      formats[static_cast<size_t>(*source)] = format;
    }
  }

  ~Impl() { std::fflush(stdout); }

  int32_t findSink(std::string_view name) const { return sinks->find(name); }

  void emit(int32_t sink, const void *row, int64_t weight) {
    if (upgrading) {
      std::string text;
      json_rows[static_cast<size_t>(sink)].appendTo(text, row);
      rebuilt_rows[static_cast<size_t>(sink)][text] += weight;
      return;
    }
    ++metrics.sink_changes[static_cast<size_t>(sink)];
    if (!test_severity[static_cast<size_t>(sink)].empty())
      stats.failing_rows[program.sinks[sink].name] += weight;
    if (changed_sinks.empty() || changed_sinks.back() != sink) // sinks emit one after another
      if (std::find(changed_sinks.begin(), changed_sinks.end(), sink) == changed_sinks.end())
        changed_sinks.push_back(sink);
    if (emit_callback) {
      emit_callback(sink, row, weight);
      return;
    }
    sinks->add(sink, row, weight);
  }

  // `shown`, if given, is the record as its input has it, for messages and dead letters (a
  // seed file's CSV line, which the host reads as the JSON object `line`).
  bool pushRecord(std::string_view line, std::string_view record_origin, int64_t record_line,
                  int32_t default_source, std::optional<std::string_view> shown = std::nullopt) {
    if (failed)
      return false;
    if (upgrading && dead_lettered.contains({std::string(record_origin), record_line}))
      return true;
    if (!upgrading)
      ++stats.records_read;
    if (record_origin != origin)
      origin.assign(record_origin);
    line_number = record_line;
    if (default_source >= 0 &&
        formats[static_cast<size_t>(default_source)] == SourceFormat::Debezium)
      return pushDebezium(line, default_source);
    absl::StatusOr<detail::ChangeRecord> record =
        parser.parse(line, default_source, engine->scratch());
    if (upgrading && (!record.ok() || (record->op != detail::ChangeOp::Commit &&
                                       !replayed_source[static_cast<size_t>(record->source)])))
      return true; // handled when the run read it first, or not needed by the rebuild
    if (!record.ok())
      return reject(shown.value_or(line), record.status());
    if (record->op == detail::ChangeOp::Commit) {
      commit();
      return !failed;
    }
    int64_t tag = tagRecord(shown.value_or(line));
    ChangeOp op = engineOp(record->op);
    absl::Status status = engine->change(record->source, op, record->row, record->weight, tag);
    if (absl::IsAborted(status)) {
      runtimeError(*engine->runtimeError());
      return false;
    }
    if (!status.ok())
      return upgrading || reject(shown.value_or(line), status);
    return recordApplied(record->source);
  }

  bool pushUpsert(std::optional<std::string_view> key, std::optional<std::string_view> value,
                  std::string_view record_origin, int64_t position, int32_t source) {
    if (failed)
      return false;
    if (!upgrading)
      ++stats.records_read;
    if (record_origin != origin)
      origin.assign(record_origin);
    line_number = position;
    // The record as the dead-letter output shows it: its value, or its key for a deletion.
    std::string shown =
        value ? std::string(*value) : absl::StrCat("key ", detail::toAbsl(key.value_or("(none)")));
    const kiln_relation_desc &rel = program.sources[source];
    absl::StatusOr<const void *> row = absl::InvalidArgumentError("");
    ChangeOp op = ChangeOp::Upsert;
    if (value) {
      row = decodeRow(source, *value);
    } else if (!key) {
      row = absl::InvalidArgumentError("a message without a value deletes by key, and has none");
    } else {
      op = ChangeOp::Delete;
      std::string_view trimmed = detail::stripWhitespace(*key);
      std::string json(trimmed);
      if (!trimmed.starts_with("{")) {
        // The value of a one-column key: a JSON scalar, or else the text itself.
        if (rel.nkeys != 1) {
          json.clear();
          row = absl::InvalidArgumentError(absl::StrCat(
              "the key of a deletion of ", rel.name, " must be a JSON object of its key columns"));
        } else {
          json = "{";
          appendJsonString(json, rel.cols[rel.key_cols[0]].name);
          json += ":";
          bool scalar = !trimmed.empty() && (trimmed.front() == '"' || trimmed == "true" ||
                                             trimmed == "false" || trimmed.front() == '-' ||
                                             (trimmed.front() >= '0' && trimmed.front() <= '9'));
          if (scalar)
            json += trimmed;
          else
            appendJsonString(json, trimmed);
          json += "}";
        }
      }
      if (!json.empty())
        row = decodeKey(source, json);
    }
    if (!row.ok())
      return upgrading || reject(shown, row.status());
    if (upgrading && !replayed_source[static_cast<size_t>(source)])
      return true;
    int64_t tag = tagRecord(shown);
    absl::Status status = engine->change(source, op, *row, 1, tag);
    if (absl::IsAborted(status)) {
      runtimeError(*engine->runtimeError());
      return false;
    }
    if (!status.ok())
      return upgrading || reject(shown, status);
    return recordApplied(source);
  }

  // A row of `source` holding the key columns `json` gives (the others NULL): a deletion's.
  absl::StatusOr<const void *> decodeKey(int32_t source, std::string_view json) {
    const kiln_relation_desc &rel = program.sources[source];
    void *row = engine->scratch().allocateZeroed(static_cast<size_t>(rel.row_size),
                                                 std::max<int32_t>(rel.row_align, 8));
    if (absl::Status status = decoder.decode(rel, json, row, engine->scratch()); !status.ok())
      return status;
    return row;
  }

  // A Debezium change event: its changes, one or two, under one tag. (When the second of two
  // fails, the first stays applied: the key change of a row whose old key Kiln never had.)
  bool pushDebezium(std::string_view line, int32_t source) {
    absl::StatusOr<std::vector<detail::ChangeRecord>> changes =
        parser.parseDebezium(line, source, engine->scratch());
    if (upgrading && (!changes.ok() || !replayed_source[static_cast<size_t>(source)]))
      return true;
    if (!changes.ok())
      return reject(line, changes.status());
    int64_t tag = tagRecord(line);
    for (const detail::ChangeRecord &record : *changes) {
      absl::Status status = engine->change(record.source, engineOp(record.op), record.row, 1, tag);
      if (absl::IsAborted(status)) {
        runtimeError(*engine->runtimeError());
        return false;
      }
      if (!status.ok())
        return upgrading || reject(line, status);
    }
    return recordApplied(source);
  }

  // Keeps a record of the running tick (its origin, position and text), so that a runtime error
  // can name the record that raised it; returns its tag.
  int64_t tagRecord(std::string_view text) {
    int64_t tag = static_cast<int64_t>(tick_records.size());
    if (origins.empty() || origins.back() != origin)
      origins.push_back(origin);
    tick_records.push_back({origins.size() - 1, line_number, tick_text.size(), text.size()});
    tick_text.append(text);
    return tag;
  }

  // A record's changes were applied: the tick ends after --tick-size of them.
  bool recordApplied(int32_t source) {
    if (!upgrading)
      ++metrics.source_records[static_cast<size_t>(source)];
    ++records_in_tick;
    if (options.tick_size > 0 && records_in_tick >= options.tick_size)
      commit();
    return !failed;
  }

  static ChangeOp engineOp(detail::ChangeOp op) {
    return op == detail::ChangeOp::Insert   ? ChangeOp::Insert
           : op == detail::ChangeOp::Delete ? ChangeOp::Delete
                                            : ChangeOp::Upsert;
  }

  // A record whose change raised a SQL runtime error: left out of the tick (dead-letter), or the
  // end of the input, the tick not applied.
  void runtimeError(const RuntimeError &error) {
    const TickRecord *record =
        error.tag && *error.tag >= 0 && static_cast<size_t>(*error.tag) < tick_records.size()
            ? &tick_records[static_cast<size_t>(*error.tag)]
            : nullptr;
    if (options.on_error == HostOptions::RuntimeErrorPolicy::DeadLetter && record != nullptr) {
      ++stats.runtime_errors;
      deadLetter(originOf(*record), record->line, rawOf(*record), error.message, &error);
      return;
    }
    failed = true;
    std::string where = error.location.empty() ? "<unknown location>" : error.location;
    std::fprintf(stderr, "%s: error: %s\n", where.c_str(), error.message.c_str());
    std::string in_model = error.model.empty() ? "" : absl::StrCat(" in model ", error.model);
    int64_t tick = engine->ticksCommitted() + 1;
    if (record != nullptr)
      std::fprintf(stderr, "note: raised%s by record %s:%lld of tick %lld, which was not applied\n",
                   in_model.c_str(), originOf(*record).c_str(),
                   static_cast<long long>(record->line), static_cast<long long>(tick));
    else
      std::fprintf(stderr, "note: raised%s while committing tick %lld, which was not applied\n",
                   in_model.c_str(), static_cast<long long>(tick));
  }

  // A record its reader found bad before the host parsed it: counted as read, handled per the
  // policy.
  bool rejectRecord(std::string_view line, std::string_view record_origin, int64_t record_line,
                    const absl::Status &status) {
    if (failed)
      return false;
    if (upgrading)
      return true; // handled when the run read it first
    ++stats.records_read;
    origin.assign(record_origin);
    line_number = record_line;
    return reject(line, status);
  }

  bool reject(std::string_view line, const absl::Status &status) {
    ++stats.bad_records;
    last_bad_record = std::string(status.message());
    if (options.policy != Policy::DeadLetter) {
      constexpr size_t kShown = 200;
      std::string shown(line.substr(0, kShown));
      if (line.size() > kShown)
        shown += "...";
      std::fprintf(stderr, "%s:%lld: error: %s\n  %s\n", origin.c_str(),
                   static_cast<long long>(line_number), last_bad_record.c_str(), shown.c_str());
      return false;
    }
    deadLetter(origin, line_number, line, last_bad_record, nullptr);
    return false;
  }

  // Appends a record to the dead-letter file: where it came from, why, and its bytes.
  void deadLetter(std::string_view record_origin, int64_t record_line, std::string_view line,
                  std::string_view reason, const RuntimeError *error) {
    std::string out = "{\"origin\":";
    appendJsonString(out, record_origin);
    // A file's records are numbered by line, a Kafka partition's by offset.
    absl::StrAppend(&out, record_origin.starts_with("kafka:") ? ",\"offset\":" : ",\"line\":",
                    record_line, ",\"reason\":");
    appendJsonString(out, reason);
    if (error != nullptr) {
      out += ",\"location\":";
      appendJsonString(out, error->location);
      out += ",\"model\":";
      appendJsonString(out, error->model);
    }
    // JSON strings hold UTF-8 only: other bytes are kept exactly in base64.
    if (detail::isValidUtf8(line)) {
      out += ",\"raw\":";
      appendJsonString(out, line);
    } else {
      absl::StrAppend(&out, ",\"raw_base64\":\"", absl::Base64Escape(detail::toAbsl(line)), "\"");
    }
    out += "}";
    if (!dead_letter) {
      // A replay for an upgrade reads again what a run read: its rejected records were sent then.
      if (!upgrading)
        sinks->deadLetter(record_origin, out);
      return;
    }
    out += "\n";
    writeBytes(dead_letter.get(), out, options.dead_letter_path);
    if (std::fflush(dead_letter.get()) != 0)
      throw std::runtime_error(
          absl::StrCat("cannot write to ", options.dead_letter_path, ": ", std::strerror(errno)));
  }

  void pushRow(int32_t source, const void *row, int64_t weight) {
    if (weight == 0)
      return;
    ChangeOp op = weight > 0 ? ChangeOp::Insert : ChangeOp::Delete;
    int64_t units = weight < 0 ? -weight : weight;
    // A keyed source's rows are inserted or deleted one unit of weight at a time.
    int64_t repeat = program.sources[source].nkeys == 0 ? 1 : units;
    for (int64_t n = 0; n < repeat; ++n) {
      absl::Status status = engine->change(source, op, row, repeat == 1 ? units : 1, -1);
      if (!status.ok())
        throw std::runtime_error(std::string(status.message()));
    }
  }

  absl::StatusOr<const void *> decodeRow(int32_t source, std::string_view json) {
    const kiln_relation_desc &rel = program.sources[source];
    void *row = engine->scratch().allocateZeroed(static_cast<size_t>(rel.row_size),
                                                 std::max<int32_t>(rel.row_align, 8));
    if (absl::Status status = decoder.decode(rel, json, row, engine->scratch()); !status.ok())
      return status;
    if (absl::Status status = checkNotNull(rel, row); !status.ok())
      return status;
    return row;
  }

  void commit() {
    if (failed)
      return;
    auto started = std::chrono::steady_clock::now();
    absl::StatusOr<CommitReport> report = engine->commit();
    if (!report.ok()) {
      runtimeError(*engine->runtimeError());
      forgetTick();
      return;
    }
    for (const CommitReport::LeftOut &left : report->left_out) {
      const TickRecord &record = tick_records[static_cast<size_t>(left.tag)];
      if (left.error)
        ++stats.runtime_errors;
      else
        ++stats.bad_records;
      deadLetter(originOf(record), record.line, rawOf(record),
                 left.error ? std::string_view(left.error->message) : left.reason,
                 left.error ? &*left.error : nullptr);
    }
    writeOutput();
    reportTests();
    forgetTick();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.tick_seconds += seconds;
    ++metrics.tick_buckets[static_cast<size_t>(
        std::lower_bound(std::begin(HostMetrics::kTickBounds), std::end(HostMetrics::kTickBounds),
                         seconds) -
        std::begin(HostMetrics::kTickBounds))];
    double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    metrics.last_tick = now;
    for (int32_t s : changed_sinks)
      metrics.sink_last_change[static_cast<size_t>(s)] = now;
    changed_sinks.clear();
  }

  // A data test that starts or stops failing in this tick, on stderr: seen when it happens.
  void reportTests() {
    for (int32_t sink : changed_sinks) {
      const std::string &severity = test_severity[static_cast<size_t>(sink)];
      if (severity.empty())
        continue;
      const char *name = program.sinks[sink].name;
      int64_t now = stats.failing_rows[name];
      int64_t &before = reported_failing[name];
      long long tick = static_cast<long long>(engine->ticksCommitted());
      if (before == 0 && now != 0)
        std::fprintf(stderr, "%s: test %s %s at tick %lld: %lld failing row%s\n", program.name,
                     name, severity == "warn" ? "warns" : "fails", tick,
                     static_cast<long long>(now), now == 1 ? "" : "s");
      else if (before != 0 && now == 0)
        std::fprintf(stderr, "%s: test %s passes again at tick %lld\n", program.name, name, tick);
      before = now;
    }
  }

  void forgetTick() {
    tick_records.clear();
    tick_text.clear();
    if (origins.size() > 1)
      origins.erase(origins.begin(), origins.end() - 1);
    records_in_tick = 0;
  }
  // Writes the tick's changes, per sink in a deterministic order.
  void writeOutput() { sinks->write(engine->ticksCommitted()); }

  // A record of the running tick: where it came from and its text (in tick_text), for messages
  // and the dead-letter file.
  struct TickRecord {
    size_t origin; // in origins
    int64_t line;
    size_t offset, length;
  };
  const std::string &originOf(const TickRecord &record) const { return origins[record.origin]; }
  std::string_view rawOf(const TickRecord &record) const {
    return std::string_view(tick_text).substr(record.offset, record.length);
  }

  const kiln_program &program;
  const HostOptions options;
  std::unique_ptr<Engine> engine;
  detail::RecordParser parser;
  RowDecoder decoder;
  std::unique_ptr<detail::Sinks> sinks;
  std::vector<RowJsonFormatter> json_rows; // by sink: rows as an upgrade gathers them
  HostMetrics metrics;
  std::vector<int32_t> changed_sinks;     // sinks the running tick changed
  std::vector<std::string> test_severity; // by sink: a data test's ("error", "warn") or empty
  std::map<std::string, int64_t> reported_failing; // by test: its failing rows at the last report
  OwnedFile dead_letter;
  EmitCallback emit_callback;

  HostStats stats;
  int64_t changes_out_base = 0; // written before the checkpoint a run resumed from
  std::string last_bad_record;
  std::string origin; // the record being processed, for messages
  int64_t line_number = 0;
  std::vector<TickRecord> tick_records;
  std::string tick_text;            // the tick's records, one after another
  std::vector<std::string> origins; // of the tick's records
  int64_t records_in_tick = 0;
  bool failed = false; // a runtime error stopped the input (RuntimeErrorPolicy::Fail)

  // An upgrade in progress (Host::upgrade).
  std::vector<SourceFormat> formats; // by source: what its inputs hold
  bool upgrading = false;
  bool rebuilding = false;           // the upgrade's plan rebuilds operators
  std::vector<bool> replayed_source; // by source
  std::vector<bool> rebuilt_sink;    // by sink
  std::vector<absl::flat_hash_map<std::string, int64_t>> rebuilt_rows; // by sink: row -> weight
  absl::flat_hash_set<std::pair<std::string, int64_t>> dead_lettered;  // origin, line
};

Host::Host(const kiln_program *program, HostOptions options)
    : impl_(std::make_unique<Impl>(*program, std::move(options))) {}
Host::~Host() = default;

const kiln_program &Host::program() const { return impl_->program; }
Engine &Host::engine() { return *impl_->engine; }

int32_t Host::findSource(std::string_view name) const {
  return impl_->parser.resolveTable(name).value_or(-1);
}
int32_t Host::findSink(std::string_view name) const { return impl_->findSink(name); }

void Host::setEmitCallback(EmitCallback callback) { impl_->emit_callback = std::move(callback); }

bool Host::pushRecord(std::string_view json_line, std::string_view origin, int64_t line_number,
                      int32_t default_source) {
  return impl_->pushRecord(json_line, origin, line_number, default_source);
}
bool Host::rejectRecord(std::string_view text, std::string_view origin, int64_t position,
                        const absl::Status &reason) {
  return impl_->rejectRecord(text, origin, position, reason);
}
const std::string &Host::lastBadRecord() const { return impl_->last_bad_record; }

absl::StatusOr<bool> Host::loadSeeds() {
  for (const auto &[seed, path] : impl_->options.seed_files) {
    absl::StatusOr<std::string> text = readFile(path);
    if (!text.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--seed ", seed, ": ", text.status().message()));
    int32_t source = findSource(seedChangesTable(seed));
    const kiln_relation_desc &rel = impl_->program.sources[source];
    std::vector<csv::Row> rows;
    uint32_t error_at = 0;
    auto lineOf = [&](uint32_t offset) {
      return 1 + std::count(text->begin(), text->begin() + offset, '\n');
    };
    if (!csv::parse(*text, rows, error_at))
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", lineOf(error_at), ": a quoted field is never closed"));
    std::vector<std::string> expected, header;
    for (int32_t c = 0; c < rel.ncols; ++c)
      expected.emplace_back(rel.cols[c].name);
    if (!rows.empty())
      for (const csv::Field &field : rows[0].fields)
        header.push_back(field.text);
    std::vector<std::string> sorted_expected = expected, sorted_header = header;
    std::sort(sorted_expected.begin(), sorted_expected.end());
    std::sort(sorted_header.begin(), sorted_header.end());
    if (sorted_header != sorted_expected)
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":1: the header of seed ", seed, "'s file must name its columns (",
          absl::StrJoin(expected, ","), "), in any order; it has ", absl::StrJoin(header, ",")));
    // Each row as the JSON object a bare row of the table is: the decoder reads every type from
    // its text, as PostgreSQL's COPY would.
    int64_t line = 1;
    uint32_t counted_to = 0;
    for (size_t r = 1; r < rows.size(); ++r) {
      line += std::count(text->begin() + counted_to, text->begin() + rows[r].begin, '\n');
      counted_to = rows[r].begin;
      std::string_view csv_line =
          std::string_view(*text).substr(rows[r].begin, rows[r].end - rows[r].begin);
      bool taken;
      if (rows[r].fields.size() != header.size()) {
        impl_->origin = path;
        impl_->line_number = line;
        ++impl_->stats.records_read;
        taken = impl_->reject(
            csv_line, absl::InvalidArgumentError(absl::StrCat("the row has ", rows[r].fields.size(),
                                                              " fields, but the header names ",
                                                              header.size(), " columns")));
      } else {
        std::string json = "{";
        for (size_t c = 0; c < header.size(); ++c) {
          if (c > 0)
            json += ',';
          appendJsonString(json, header[c]);
          json += ':';
          if (csv::isNull(rows[r].fields[c]))
            json += "null";
          else
            appendJsonString(json, rows[r].fields[c].text);
        }
        json += '}';
        taken = impl_->pushRecord(json, path, line, source, csv_line);
      }
      if (!taken && (impl_->failed || impl_->options.policy == HostOptions::BadRecordPolicy::Fail))
        return false;
    }
  }
  return true;
}

absl::StatusOr<const void *> Host::decodeRow(int32_t source, std::string_view json) {
  return impl_->decodeRow(source, json);
}
absl::StatusOr<const void *> Host::decodeIndexKey(int32_t index, std::string_view json,
                                                  Arena &memory) {
  const kiln_relation_desc &rel = impl_->program.indexes[index];
  void *row =
      memory.allocateZeroed(static_cast<size_t>(rel.row_size), std::max<int32_t>(rel.row_align, 8));
  if (absl::Status status = impl_->decoder.decode(rel, json, row, memory); !status.ok())
    return status;
  return row;
}
void Host::pushRow(int32_t source, const void *row, int64_t weight) {
  impl_->pushRow(source, row, weight);
}

void Host::commit() { impl_->commit(); }
bool Host::finishInput() {
  // An input of no changes still ends the first tick, where constant relations (VALUES lists,
  // seeds) emit their rows.
  if (impl_->engine->hasPendingChanges() || impl_->engine->ticksCommitted() == 0)
    impl_->commit();
  return !impl_->failed;
}
bool Host::hasPendingChanges() const { return impl_->engine->hasPendingChanges(); }
bool Host::failed() const { return impl_->failed; }
int64_t Host::currentTick() const { return impl_->engine->ticksCommitted() + 1; }
const HostStats &Host::stats() const {
  impl_->stats.ticks = impl_->engine->ticksCommitted();
  impl_->stats.changes_out = impl_->changes_out_base + impl_->engine->changesOut();
  return impl_->stats;
}

int64_t Host::dumpState(std::FILE *out) const { return impl_->engine->dumpState(out); }

std::vector<std::pair<std::string, int64_t>> Host::outputLengths() const {
  std::vector<std::pair<std::string, int64_t>> lengths = impl_->sinks->fileLengths();
  if (impl_->dead_letter)
    lengths.emplace_back(impl_->options.dead_letter_path, std::ftell(impl_->dead_letter.get()));
  return lengths;
}

absl::StatusOr<UpgradePlan> Host::upgrade(std::string_view state_image, const HostStats &stats) {
  Impl &impl = *impl_;
  const kiln_program &program = impl.program;
  if (impl.dead_letter) {
    std::fflush(impl.dead_letter.get());
    absl::StatusOr<std::string> text = readFile(impl.options.dead_letter_path);
    if (!text.ok())
      return text.status();
    if (absl::Status status = detail::deadLetterRecords(*text, impl.dead_lettered); !status.ok())
      return absl::DataLossError(
          absl::StrCat(impl.options.dead_letter_path, ": ", status.message()));
  }
  impl.replayed_source.assign(static_cast<size_t>(program.nsources), false);
  impl.rebuilt_sink.assign(static_cast<size_t>(program.nsinks), false);
  impl.rebuilt_rows.assign(static_cast<size_t>(program.nsinks), {});
  impl.upgrading = true;
  absl::StatusOr<UpgradePlan> plan = impl.engine->restoreStateForUpgrade(state_image);
  if (!plan.ok())
    return plan.status();
  for (int32_t i = 0; i < program.nops && plan->needed(); ++i) {
    if (!plan->rebuilt[static_cast<size_t>(i)])
      continue;
    if (program.ops[i].source >= 0)
      impl.replayed_source[static_cast<size_t>(program.ops[i].source)] = true;
    if (program.ops[i].sink >= 0)
      impl.rebuilt_sink[static_cast<size_t>(program.ops[i].sink)] = true;
  }
  // A rebuilt sink's correction retracts what its output holds, which a topic cannot give back
  // (and which Kiln reads back from JSON lines only).
  for (int32_t s = 0; s < program.nsinks; ++s) {
    if (!impl.rebuilt_sink[static_cast<size_t>(s)])
      continue;
    const SinkTarget &target = impl.sinks->target(s);
    if (target.kind == SinkTarget::Kind::Kafka)
      return absl::FailedPreconditionError(absl::StrCat(
          "the plan of sink ", program.sinks[s].name,
          " changed, and it writes to Kafka: Kiln cannot read its topic back to correct it; "
          "write the new build's sink to a new topic (or start from an empty checkpoint "
          "directory)"));
    if (target.format != SinkTarget::Format::Json)
      return absl::FailedPreconditionError(absl::StrCat(
          "the plan of sink ", program.sinks[s].name, " changed, and it writes ", target.describe(),
          ": Kiln corrects sink files of JSON change records only; write the "
          "new build's sink to a new file (or start from an empty checkpoint directory)"));
  }
  impl.rebuilding = plan->needed();
  std::map<std::string, int64_t> tests = std::move(impl.stats.failing_rows);
  impl.stats = stats;
  for (auto &[name, rows] : tests) // the checkpoint's counts, for the tests this build has
    if (auto it = stats.failing_rows.find(name); it != stats.failing_rows.end())
      rows = it->second;
  impl.stats.failing_rows = tests;
  impl.reported_failing = std::move(tests);
  impl.changes_out_base = stats.changes_out;
  return plan;
}

bool Host::finishUpgrade() {
  Impl &impl = *impl_;
  const kiln_program &program = impl.program;
  if (impl.engine->hasPendingChanges())
    impl.commit();
  impl.upgrading = false;
  impl.dead_lettered.clear();
  if (impl.failed)
    return false;
  impl.engine->finishUpgrade();
  if (!impl.rebuilding)
    return true;
  impl.rebuilding = false;
  int64_t corrections = 0;
  for (int32_t s = 0; s < program.nsinks; ++s) {
    if (!impl.rebuilt_sink[static_cast<size_t>(s)])
      continue;
    absl::flat_hash_map<std::string, int64_t> written;
    const SinkTarget &target = impl.sinks->target(s);
    if (target.kind == SinkTarget::Kind::File) {
      impl.sinks->flush();
      absl::StatusOr<std::string> text = readFile(target.path);
      if (!text.ok())
        throw std::runtime_error(std::string(text.status().message()));
      if (absl::Status status = detail::sumSinkOutput(*text, program.sinks[s].name, written);
          !status.ok())
        throw std::runtime_error(
            absl::StrCat("cannot read back ", target.path, ": ", status.message()));
    }
    absl::flat_hash_map<std::string, int64_t> &rebuilt = impl.rebuilt_rows[static_cast<size_t>(s)];
    for (const auto &[row, weight] : written)
      rebuilt[row] -= weight;
    for (const auto &[row, weight] : rebuilt) {
      if (weight == 0)
        continue;
      impl.sinks->addJson(s, row, weight);
      ++corrections;
    }
    rebuilt.clear();
  }
  impl.writeOutput();
  impl.changes_out_base += corrections;
  return true;
}

bool Host::kafkaTransactions() const { return impl_->sinks->kafkaTransactions(); }
void Host::setKafkaInput(detail::KafkaSource *source,
                         const std::vector<std::map<int32_t, int64_t>> *next) {
  impl_->sinks->setKafkaInput(source, next);
}
void Host::setInputPosition(const int64_t *position) { impl_->sinks->setInputPosition(position); }
absl::StatusOr<std::optional<int64_t>> Host::deliveredInputPosition() const {
  return impl_->sinks->deliveredInputPosition();
}
void Host::muteKafkaSinks(bool mute) { impl_->sinks->muteKafka(mute); }

bool Host::takesUpserts(int32_t source) const {
  return sourceFormat(source) == SourceFormat::Upsert;
}
SourceFormat Host::sourceFormat(int32_t source) const {
  return source >= 0 ? impl_->formats[static_cast<size_t>(source)] : SourceFormat::Json;
}
bool Host::pushUpsert(std::optional<std::string_view> key, std::optional<std::string_view> value,
                      std::string_view origin, int64_t position, int32_t source) {
  return impl_->pushUpsert(key, value, origin, position, source);
}

StateStats Host::stateStats() const { return impl_->engine->stateStats(); }
const HostMetrics &Host::metrics() const { return impl_->metrics; }

} // namespace kiln::runtime
