#include "kiln/runtime/Host.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "RecordParser.h"
#include "Runtime.h"
#include "Strings.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
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
  }
  return "unknown runtime error";
}

namespace {

using Policy = HostOptions::BadRecordPolicy;

// "(id, region)=(1, EU)", as in PostgreSQL's key violation details.
std::string describeKey(const kiln_relation_desc &rel, const void *row) {
  std::vector<std::string> names, values;
  for (int32_t k = 0; k < rel.nkeys; ++k) {
    names.emplace_back(rel.cols[rel.key_cols[k]].name);
    values.push_back(formatValue(rel, rel.key_cols[k], row).value_or("null"));
  }
  return absl::StrCat("(", absl::StrJoin(names, ", "), ")=(", absl::StrJoin(values, ", "), ")");
}

struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
using OwnedFile = std::unique_ptr<std::FILE, FileCloser>;

OwnedFile openFile(const std::string &path, const char *mode) {
  OwnedFile file(std::fopen(path.c_str(), mode));
  if (file == nullptr)
    throw std::runtime_error(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  return file;
}

} // namespace

class Host::Impl final : public RuntimeServices {
public:
  Impl(const kiln_program &program, HostOptions options)
      : program(program), options(std::move(options)), parser(program) {
    for (int32_t i = 0; i < program.nsinks; ++i)
      sinks.emplace_back(program.sinks[i]);
    if (program.abi_version != KILN_ABI_VERSION)
      throw std::runtime_error(absl::StrFormat("program %s was built for runtime ABI %d, but this "
                                               "runtime implements ABI %d",
                                               program.name, program.abi_version,
                                               KILN_ABI_VERSION));
    absl::flat_hash_map<std::string, std::FILE *> files_by_path;
    for (const auto &[name, path] : this->options.sink_paths) {
      int32_t sink = findSink(name);
      if (sink < 0) {
        std::vector<std::string> names;
        for (int32_t i = 0; i < program.nsinks; ++i)
          names.emplace_back(program.sinks[i].name);
        throw std::runtime_error(
            absl::StrCat("unknown sink \"", name, "\" (sinks: ", absl::StrJoin(names, ", "), ")"));
      }
      if (path == "-")
        continue;
      auto [it, inserted] = files_by_path.try_emplace(path);
      if (inserted) {
        owned_files.push_back(openFile(path, "w"));
        it->second = owned_files.back().get();
      }
      sinks[sink].file = it->second;
    }
    if (this->options.policy == Policy::DeadLetter) {
      if (this->options.dead_letter_path.empty())
        throw std::runtime_error("the dead-letter policy needs a dead-letter file");
      dead_letter = openFile(this->options.dead_letter_path, "a");
    }
    error_handler = [this](int32_t error_code, int32_t location) {
      reportRuntimeError(error_code, location);
      std::exit(3);
    };
    state = program.create(&rt);
  }

  ~Impl() {
    program.destroy(state);
    std::fflush(stdout);
  }

  int32_t findSink(std::string_view name) const {
    for (int32_t i = 0; i < program.nsinks; ++i)
      if (name == program.sinks[i].name)
        return i;
    return -1;
  }

  void emit(int32_t sink, const void *row, int64_t weight) override {
    if (sink < 0 || sink >= program.nsinks) {
      std::fprintf(stderr, "kiln runtime: kiln_emit: program %s has no sink %d\n", program.name,
                   sink);
      std::abort();
    }
    if (weight == 0)
      return;
    ++stats.changes_out;
    if (emit_callback) {
      emit_callback(sink, row, weight);
      return;
    }
    // The row lives only during this call, so it is formatted now, into the tick's text.
    SinkOutput &out = sinks[sink];
    size_t offset = out.text.size();
    out.formatter.appendTo(out.text, row);
    // Rows are sorted by their text; they all start alike, so the sort key skips that part and
    // compares its next eight bytes as one number first.
    size_t skip = out.formatter.commonPrefix().size();
    std::string_view text = std::string_view(out.text).substr(offset + skip);
    uint64_t head = 0;
    for (size_t i = 0; i < sizeof head; ++i)
      head = head << 8 | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0);
    out.changes.push_back({weight, head, offset + skip, text.size()});
  }

  [[noreturn]] void raise(int32_t error_code, int32_t location) override {
    if (error_handler)
      error_handler(error_code, location);
    std::fprintf(stderr, "kiln runtime: the runtime error handler returned\n");
    std::abort();
  }

  void reportRuntimeError(int32_t error_code, int32_t location) const {
    const char *where = location >= 0 && location < program.nlocations ? program.locations[location]
                                                                       : "<unknown location>";
    std::fprintf(stderr, "%s: error: %s\n", where, std::string(errorMessage(error_code)).c_str());
    std::string record = origin.empty() ? "" : absl::StrCat(origin, ":", line_number);
    int64_t tick = stats.ticks + 1;
    if (in_commit)
      std::fprintf(stderr, "note: while committing tick %lld%s\n", static_cast<long long>(tick),
                   record.empty() ? "" : absl::StrCat(" (last record ", record, ")").c_str());
    else if (!record.empty())
      std::fprintf(stderr, "note: while processing record %s in tick %lld\n", record.c_str(),
                   static_cast<long long>(tick));
    else
      std::fprintf(stderr, "note: in tick %lld\n", static_cast<long long>(tick));
  }

  bool pushRecord(std::string_view line, std::string_view record_origin, int64_t record_line,
                  int32_t default_source) {
    ++stats.records_read;
    if (record_origin != origin)
      origin.assign(record_origin);
    line_number = record_line;
    absl::StatusOr<detail::ChangeRecord> record = parser.parse(line, default_source, rt.scratch);
    if (!record.ok())
      return reject(line, record.status());
    if (record->op == detail::ChangeOp::Commit) {
      commit();
      return true;
    }
    if (absl::Status status = apply(*record); !status.ok())
      return reject(line, status);
    ++records_in_tick;
    if (options.tick_size > 0 && records_in_tick >= options.tick_size)
      commit();
    return true;
  }

  // Turns a decoded change into pushes, keeping the current row per primary key.
  absl::Status apply(const detail::ChangeRecord &change) {
    const kiln_relation_desc &rel = program.sources[change.source];
    if (rel.nkeys == 0) {
      if (change.op == detail::ChangeOp::Upsert)
        return absl::InvalidArgumentError(
            absl::StrCat("upsert needs a primary key, and ", rel.name, " has none"));
      if (absl::Status status = checkNotNull(rel, change.row); !status.ok())
        return status;
      pushRow(change.source, change.row,
              change.op == detail::ChangeOp::Delete ? -change.weight : change.weight);
      return absl::OkStatus();
    }

    if (change.weight != 1)
      return absl::InvalidArgumentError(
          absl::StrCat("\"weight\" must be 1 for ", rel.name, ", which has a primary key"));
    // A delete names its row by key alone; inserts and upserts carry the whole row.
    for (int32_t k = 0; k < rel.nkeys; ++k) {
      if (isNull(change.row, rel.key_cols[k]))
        return absl::InvalidArgumentError(absl::StrCat("null value in column \"",
                                                       rel.cols[rel.key_cols[k]].name,
                                                       "\" violates not-null constraint"));
    }
    if (change.op != detail::ChangeOp::Delete) {
      if (absl::Status status = checkNotNull(rel, change.row); !status.ok())
        return status;
    }
    kiln_apply_op op = change.op == detail::ChangeOp::Insert   ? KILN_APPLY_INSERT
                       : change.op == detail::ChangeOp::Delete ? KILN_APPLY_DELETE
                                                               : KILN_APPLY_UPSERT;
    switch (program.apply(state, change.source, op, change.row)) {
    case KILN_APPLY_OK:
      pending = true;
      break;
    case KILN_APPLY_UNCHANGED:
      break;
    case KILN_APPLY_DUPLICATE_KEY:
      return absl::InvalidArgumentError(absl::StrCat("duplicate key value violates primary key of ",
                                                     rel.name, ": ", describeKey(rel, change.row),
                                                     " already exists"));
    case KILN_APPLY_NO_SUCH_KEY:
      return absl::InvalidArgumentError(absl::StrCat(
          "no row with key ", describeKey(rel, change.row), " to delete in ", rel.name));
    }
    return absl::OkStatus();
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
    std::string out = "{\"origin\":";
    appendJsonString(out, origin);
    absl::StrAppend(&out, ",\"line\":", line_number, ",\"reason\":");
    appendJsonString(out, last_bad_record);
    // JSON strings hold UTF-8 only: other bytes are kept exactly in base64.
    if (detail::isValidUtf8(line)) {
      out += ",\"raw\":";
      appendJsonString(out, line);
    } else {
      absl::StrAppend(&out, ",\"raw_base64\":\"", absl::Base64Escape(detail::toAbsl(line)), "\"");
    }
    out += "}\n";
    writeBytes(dead_letter.get(), out, options.dead_letter_path);
    if (std::fflush(dead_letter.get()) != 0)
      throw std::runtime_error(
          absl::StrCat("cannot write to ", options.dead_letter_path, ": ", std::strerror(errno)));
    return false;
  }

  void pushRow(int32_t source, const void *row, int64_t weight) {
    pending = true;
    if (program.sources[source].nkeys == 0) {
      program.push(state, source, row, weight);
      return;
    }
    // The program keeps a keyed source's rows: each unit of weight inserts or deletes one.
    for (int64_t n = weight < 0 ? -weight : weight; n > 0; --n) {
      int32_t result =
          program.apply(state, source, weight > 0 ? KILN_APPLY_INSERT : KILN_APPLY_DELETE, row);
      if (result != KILN_APPLY_OK)
        throw std::runtime_error(absl::StrCat(weight > 0 ? "duplicate key " : "no row with key ",
                                              describeKey(program.sources[source], row), " in ",
                                              program.sources[source].name));
    }
  }

  absl::StatusOr<const void *> decodeRow(int32_t source, std::string_view json) {
    const kiln_relation_desc &rel = program.sources[source];
    void *row = rt.scratch.allocateZeroed(rel.row_size, std::max<int32_t>(rel.row_align, 8));
    if (absl::Status status = decoder.decode(rel, json, row, rt.scratch); !status.ok())
      return status;
    if (absl::Status status = checkNotNull(rel, row); !status.ok())
      return status;
    return row;
  }

  void commit() {
    in_commit = true;
    program.commit(state);
    in_commit = false;
    ++stats.ticks;
    writeOutput();
    rt.scratch.reset();
    rt.freeReleasedText();
    pending = false;
    records_in_tick = 0;
  }

  // Writes the tick's changes, per sink in a deterministic order: deletions first, then by row.
  void writeOutput() {
    for (int32_t i = 0; i < program.nsinks; ++i) {
      SinkOutput &sink = sinks[i];
      if (sink.changes.empty())
        continue;
      // Deletions first, then by row (JSON has no NUL bytes: the zero padding of a short head
      // orders a row before the longer rows it is a prefix of, as comparing the text would).
      std::sort(sink.changes.begin(), sink.changes.end(), [&](const Change &a, const Change &b) {
        bool a_inserts = a.weight > 0, b_inserts = b.weight > 0;
        if (a_inserts != b_inserts)
          return b_inserts;
        if (a.head != b.head)
          return a.head < b.head;
        if (int order = sink.rowOf(a).compare(sink.rowOf(b)); order != 0)
          return order < 0;
        return a.weight < b.weight;
      });
      std::string_view common = sink.formatter.commonPrefix();
      std::string prefix = absl::StrCat("{\"tick\":", stats.ticks, ",\"sink\":");
      appendJsonString(prefix, program.sinks[i].name);
      absl::StrAppend(&prefix, ",\"weight\":");
      std::string lines;
      lines.reserve(sink.text.size() + sink.changes.size() * (prefix.size() + 16));
      for (const Change &change : sink.changes) {
        absl::StrAppend(&lines, prefix, change.weight, ",\"row\":");
        lines.append(common);
        lines.append(sink.rowOf(change));
        lines += "}\n";
      }
      writeBytes(sink.file, lines, program.sinks[i].name);
      sink.changes.clear();
      sink.text.clear();
    }
    // Each tick reaches its readers as soon as it is complete.
    for (const SinkOutput &sink : sinks) {
      if (std::fflush(sink.file) != 0)
        throw std::runtime_error(absl::StrCat("cannot write output: ", std::strerror(errno)));
    }
  }

  static void writeBytes(std::FILE *file, std::string_view bytes, std::string_view what) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size())
      throw std::runtime_error(
          absl::StrFormat("cannot write output of %s: %s", what, std::strerror(errno)));
  }

  // One change of a sink in this tick: its weight and its row as JSON, a range of the sink's text
  // after the part every row starts with, whose first eight bytes `head` holds big-endian.
  struct Change {
    int64_t weight;
    uint64_t head;
    size_t offset, length;
  };
  struct SinkOutput {
    explicit SinkOutput(const kiln_relation_desc &rel) : formatter(rel) {}
    std::string_view rowOf(const Change &change) const {
      return std::string_view(text).substr(change.offset, change.length);
    }
    RowJsonFormatter formatter;
    std::FILE *file = stdout;
    std::string text;            // this tick's rows as JSON, one after another
    std::vector<Change> changes; // this tick's changes
  };

  const kiln_program &program;
  const HostOptions options;
  kiln_runtime rt{*this};
  detail::RecordParser parser;
  RowDecoder decoder;
  std::vector<SinkOutput> sinks;
  std::vector<OwnedFile> owned_files;
  OwnedFile dead_letter;
  EmitCallback emit_callback;
  ErrorHandler error_handler;
  void *state = nullptr;

  HostStats stats;
  std::string last_bad_record;
  std::string origin; // the record being processed, for messages
  int64_t line_number = 0;
  bool in_commit = false;
  bool pending = false; // pushed since the last commit
  int64_t records_in_tick = 0;
};

Host::Host(const kiln_program *program, HostOptions options)
    : impl_(std::make_unique<Impl>(*program, std::move(options))) {}
Host::~Host() = default;

const kiln_program &Host::program() const { return impl_->program; }
kiln_runtime *Host::runtime() { return &impl_->rt; }

int32_t Host::findSource(std::string_view name) const {
  return impl_->parser.resolveTable(name).value_or(-1);
}
int32_t Host::findSink(std::string_view name) const { return impl_->findSink(name); }

void Host::setEmitCallback(EmitCallback callback) { impl_->emit_callback = std::move(callback); }
void Host::setErrorHandler(ErrorHandler handler) { impl_->error_handler = std::move(handler); }

bool Host::pushRecord(std::string_view json_line, std::string_view origin, int64_t line_number,
                      int32_t default_source) {
  return impl_->pushRecord(json_line, origin, line_number, default_source);
}
const std::string &Host::lastBadRecord() const { return impl_->last_bad_record; }

absl::StatusOr<const void *> Host::decodeRow(int32_t source, std::string_view json) {
  return impl_->decodeRow(source, json);
}
void Host::pushRow(int32_t source, const void *row, int64_t weight) {
  impl_->pushRow(source, row, weight);
}

void Host::commit() { impl_->commit(); }
void Host::finishInput() {
  if (impl_->pending)
    impl_->commit();
}
bool Host::hasPendingChanges() const { return impl_->pending; }
int64_t Host::currentTick() const { return impl_->stats.ticks + 1; }
const HostStats &Host::stats() const { return impl_->stats; }

int64_t Host::dumpState(std::FILE *out) const {
  return kiln::runtime::dumpState(impl_->program, impl_->state, out);
}

StateStats Host::stateStats() const { return measureState(impl_->program, impl_->state); }

} // namespace kiln::runtime
