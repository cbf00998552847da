#include "Sinks.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <unistd.h>

#include "Strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace kiln::runtime::detail {

namespace {

// A CSV field (RFC 4180: quoted when it holds a comma, a quote or a line break).
void appendCsvField(std::string &out, std::string_view value) {
  if (!value.empty() && value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char ch : value) {
    if (ch == '"')
      out += '"';
    out += ch;
  }
  out += '"';
}

// A row's values as CSV fields in PostgreSQL's text formats: NULL is an empty field, an empty
// text a quoted one.
void appendCsvRow(std::string &out, const kiln_relation_desc &rel, const void *row) {
  for (int32_t c = 0; c < rel.ncols; ++c) {
    if (c > 0)
      out += ',';
    std::optional<std::string> value = formatValue(rel, c, row);
    if (value)
      appendCsvField(out, *value);
  }
}

const char *formatName(SinkTarget::Format format) {
  switch (format) {
  case SinkTarget::Format::Json:
    return "json";
  case SinkTarget::Format::Csv:
    return "csv";
  case SinkTarget::Format::Debezium:
    return "debezium";
  case SinkTarget::Format::Upsert:
    return "upsert";
  }
  return "?";
}

} // namespace

struct Sinks::Output {
  Output(const kiln_relation_desc &rel, SinkTarget target, std::vector<int32_t> key_columns)
      : target(std::move(target)), formatter(rel) {
    if (!key_columns.empty())
      key_formatter.emplace(rel, std::move(key_columns));
  }
  std::string_view rowOf(const Change &change) const {
    return std::string_view(text).substr(change.offset, change.length);
  }
  std::string_view keyOf(const Change &change) const {
    return std::string_view(text).substr(change.key_offset, change.key_length);
  }
  bool csv() const { return target.format == SinkTarget::Format::Csv; }

  SinkTarget target;
  RowJsonFormatter formatter;
  std::optional<RowJsonFormatter> key_formatter; // with key columns
  std::FILE *file = stdout;                      // unless the target is Kafka
  std::string text;                              // this tick's rows (and keys), one after another
  std::vector<Change> changes;                   // this tick's changes
};

Sinks::Sinks(const kiln_program &program, const std::map<std::string, SinkTarget> &targets,
             const std::string &transactional_id,
             const std::map<std::string, int64_t> &resume_lengths)
    : program_(program), transactional_id_(transactional_id) {
  std::vector<std::string> names;
  for (int32_t i = 0; i < program.nsinks; ++i)
    names.emplace_back(program.sinks[i].name);
  for (const auto &[name, target] : targets)
    if (find(name) < 0)
      throw std::runtime_error(
          absl::StrCat("unknown sink \"", name, "\" (sinks: ", absl::StrJoin(names, ", "), ")"));

  std::map<std::string, std::vector<int32_t>> sinks_by_file;
  for (int32_t i = 0; i < program.nsinks; ++i) {
    const kiln_relation_desc &rel = program.sinks[i];
    auto given = targets.find(rel.name);
    SinkTarget target = given == targets.end() ? SinkTarget{} : given->second;
    using Format = SinkTarget::Format;
    using Kind = SinkTarget::Kind;
    auto fail = [&](std::string_view why) {
      throw std::runtime_error(
          absl::StrCat("sink ", rel.name, " (", target.describe(), "): ", toAbsl(why)));
    };
    std::vector<int32_t> key_columns;
    for (const std::string &column : target.key) {
      int32_t c = 0;
      while (c < rel.ncols && column != rel.cols[c].name)
        ++c;
      if (c == rel.ncols) {
        std::vector<std::string> columns;
        for (int32_t k = 0; k < rel.ncols; ++k)
          columns.emplace_back(rel.cols[k].name);
        fail(absl::StrCat("key column \"", column, "\" is not a column of the sink (its columns: ",
                          absl::StrJoin(columns, ", "), ")"));
      }
      key_columns.push_back(c);
    }
    if (target.format == Format::Upsert && (target.kind != Kind::Kafka || key_columns.empty()))
      fail("the upsert format is for Kafka sinks with key columns (key=COLUMN,...)");
    if (target.format == Format::Csv && target.kind == Kind::Kafka)
      fail("Kafka sinks write json, debezium or upsert messages, not csv");
    if (!key_columns.empty() && target.kind != Kind::Kafka && target.format != Format::Debezium)
      fail("key columns are for Kafka sinks (message keys) and Debezium envelopes");

    auto output = std::make_unique<Output>(rel, target, std::move(key_columns));
    if (target.kind == Kind::Kafka) {
      kafkaAt(target.brokers, absl::StrCat("sink ", rel.name));
    } else if (target.kind == Kind::File) {
      std::vector<int32_t> &sharing = sinks_by_file[target.path];
      if (sharing.empty()) {
        files_.emplace_back(target.path, openOutput(target.path, "w", resume_lengths));
        output->file = files_.back().second.get();
      } else {
        output->file = outputs_[static_cast<size_t>(sharing[0])]->file;
      }
      sharing.push_back(i);
      // Change records name their sink; other formats do not, and a file holds one sink's.
      bool shared_json = true;
      for (int32_t s : sharing) {
        const SinkTarget &other = s == i ? target : outputs_[static_cast<size_t>(s)]->target;
        shared_json = shared_json && other.format == Format::Json;
      }
      if (sharing.size() > 1 && !shared_json)
        throw std::runtime_error(absl::StrCat("sink ", rel.name, " shares the file ", target.path,
                                              " with another sink: only sinks written as JSON ",
                                              "change records can share a file"));
      // A new CSV file starts with a header; a resumed one has it.
      if (target.format == Format::Csv && std::ftell(output->file) == 0) {
        std::string header = "tick,weight";
        for (int32_t c = 0; c < rel.ncols; ++c) {
          header += ',';
          appendCsvField(header, rel.cols[c].name);
        }
        header += '\n';
        writeBytes(output->file, header, rel.name);
      }
    }
    outputs_.push_back(std::move(output));
  }
}

Sinks::~Sinks() { std::fflush(stdout); }

KafkaSink &Sinks::kafkaAt(const std::string &brokers, std::string_view what) {
  // One producer writes every Kafka target: a tick is one transaction across them.
  if (!kafka_) {
    absl::StatusOr<std::unique_ptr<KafkaSink>> producer =
        KafkaSink::open(brokers, transactional_id_);
    if (!producer.ok())
      throw std::runtime_error(std::string(producer.status().message()));
    kafka_ = *std::move(producer);
  } else if (kafka_->brokers() != brokers) {
    throw std::runtime_error(absl::StrCat(
        toAbsl(what), " writes to Kafka at ", brokers, ", but another Kafka target at ",
        kafka_->brokers(), ": what a run writes to Kafka goes to one cluster, in one transaction"));
  }
  return *kafka_;
}

void Sinks::openDeadLetterTopic(const KafkaAddress &address) {
  kafkaAt(address.brokers, absl::StrCat("the dead-letter topic ", address.topic));
  dead_letter_topic_ = address.topic;
}

void Sinks::deadLetter(std::string_view origin, std::string_view record) {
  // A muted tick was delivered before a restart, its rejected records with it.
  if (mute_kafka_)
    return;
  if (absl::Status status = kafka_->produce(dead_letter_topic_, origin, record); !status.ok())
    throw std::runtime_error(std::string(status.message()));
}

const std::string &Sinks::positionTopic() const {
  for (const auto &out : outputs_)
    if (out->target.kind == SinkTarget::Kind::Kafka)
      return out->target.topic;
  return dead_letter_topic_;
}

absl::StatusOr<std::optional<int64_t>> Sinks::deliveredInputPosition() const {
  return committedOffset(kafka_->brokers(), transactional_id_, positionTopic(), 0);
}

int32_t Sinks::find(std::string_view name) const {
  for (int32_t i = 0; i < program_.nsinks; ++i)
    if (name == program_.sinks[i].name)
      return i;
  return -1;
}

const SinkTarget &Sinks::target(int32_t sink) const {
  return outputs_[static_cast<size_t>(sink)]->target;
}

void Sinks::add(int32_t sink, const void *row, int64_t weight) {
  // The row lives only during this call, so it is formatted now, into the tick's text.
  Output &out = *outputs_[static_cast<size_t>(sink)];
  size_t offset = out.text.size();
  if (out.csv())
    appendCsvRow(out.text, program_.sinks[sink], row);
  else
    out.formatter.appendTo(out.text, row);
  size_t key_offset = out.text.size();
  if (out.key_formatter)
    out.key_formatter->appendTo(out.text, row);
  addChange(out, offset, weight, key_offset, out.text.size() - key_offset);
}

void Sinks::addJson(int32_t sink, std::string_view row_json, int64_t weight) {
  Output &out = *outputs_[static_cast<size_t>(sink)];
  size_t offset = out.text.size();
  out.text += row_json;
  addChange(out, offset, weight, out.text.size(), 0);
}

void Sinks::addChange(Output &out, size_t offset, int64_t weight, size_t key_offset,
                      size_t key_length) {
  // Rows are sorted by their text; they all start alike, so the sort key skips that part and
  // compares its next eight bytes as one number first.
  size_t skip = out.csv() ? 0 : out.formatter.commonPrefix().size();
  size_t length = key_offset - offset - skip;
  std::string_view text = std::string_view(out.text).substr(offset + skip, length);
  uint64_t head = 0;
  for (size_t i = 0; i < sizeof head; ++i)
    head = head << 8 | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0);
  out.changes.push_back({weight, head, offset + skip, length, key_offset, key_length});
}

void Sinks::write(int64_t tick) {
  for (int32_t i = 0; i < program_.nsinks; ++i) {
    Output &out = *outputs_[static_cast<size_t>(i)];
    if (out.target.kind == SinkTarget::Kind::None) {
      out.changes.clear();
      out.text.clear();
    }
    if (out.changes.empty())
      continue;
    if (out.target.format == SinkTarget::Format::Debezium ||
        out.target.format == SinkTarget::Format::Upsert) {
      writeKeyed(out, i, tick);
    } else {
      std::string lines;
      writeJson(out, i, tick, lines);
      if (out.target.kind != SinkTarget::Kind::Kafka) {
        writeBytes(out.file, lines, program_.sinks[i].name);
      } else if (!mute_kafka_) { // one message per change, keyed if the sink has key columns
        std::string_view rest = lines;
        for (const Change &change : out.changes) {
          size_t end = rest.find('\n');
          send(out, out.keyOf(change), rest.substr(0, end));
          rest.remove_prefix(end + 1);
        }
      }
    }
    out.changes.clear();
    out.text.clear();
  }
  // Each tick reaches its readers as soon as it is complete: a Kafka transaction per tick, with
  // the offsets the tick consumed from a Kafka input.
  if (kafka_ && !mute_kafka_) {
    static const std::vector<KafkaOffsets> kNone;
    std::optional<InputPosition> position;
    if (input_position_ != nullptr)
      position = InputPosition{transactional_id_, positionTopic(), *input_position_};
    if (absl::Status status =
            kafka_->commitTick(transaction_source_, transaction_next_ ? *transaction_next_ : kNone,
                               position ? &*position : nullptr);
        !status.ok())
      throw std::runtime_error(std::string(status.message()));
  }
  flush();
}

void Sinks::flush() {
  for (const auto &out : outputs_)
    if (out->target.kind != SinkTarget::Kind::Kafka && out->target.kind != SinkTarget::Kind::None &&
        std::fflush(out->file) != 0)
      throw std::runtime_error(absl::StrCat("cannot write output: ", std::strerror(errno)));
}

// Change records (or CSV lines), sorted: deletions first, then by row.
void Sinks::writeJson(Output &out, int32_t sink, int64_t tick, std::string &lines) {
  // JSON has no NUL bytes: the zero padding of a short head orders a row before the longer rows
  // it is a prefix of, as comparing the text would.
  std::sort(out.changes.begin(), out.changes.end(), [&](const Change &a, const Change &b) {
    bool a_inserts = a.weight > 0, b_inserts = b.weight > 0;
    if (a_inserts != b_inserts)
      return b_inserts;
    if (a.head != b.head)
      return a.head < b.head;
    if (int order = out.rowOf(a).compare(out.rowOf(b)); order != 0)
      return order < 0;
    return a.weight < b.weight;
  });
  std::string_view common = out.formatter.commonPrefix();
  std::string prefix = absl::StrCat("{\"tick\":", tick, ",\"sink\":");
  appendJsonString(prefix, program_.sinks[sink].name);
  absl::StrAppend(&prefix, ",\"weight\":");
  lines.reserve(out.text.size() + out.changes.size() * (prefix.size() + 16));
  for (const Change &change : out.changes) {
    if (out.csv()) { // tick,weight,columns...
      absl::StrAppend(&lines, tick, ",", change.weight, ",");
      lines.append(out.rowOf(change));
      lines += "\n";
      continue;
    }
    absl::StrAppend(&lines, prefix, change.weight, ",\"row\":");
    lines.append(common);
    lines.append(out.rowOf(change));
    lines += "}\n";
  }
}

// Debezium envelopes or upserts: per key, in key order, what became of its row in the tick.
void Sinks::writeKeyed(Output &out, int32_t sink, int64_t tick) {
  std::sort(out.changes.begin(), out.changes.end(), [&](const Change &a, const Change &b) {
    if (int order = out.keyOf(a).compare(out.keyOf(b)); order != 0)
      return order < 0;
    bool a_inserts = a.weight > 0, b_inserts = b.weight > 0;
    if (a_inserts != b_inserts)
      return b_inserts;
    if (a.head != b.head)
      return a.head < b.head;
    return out.rowOf(a) < out.rowOf(b);
  });
  const char *name = program_.sinks[sink].name;
  std::string common(out.formatter.commonPrefix());
  auto row = [&](const Change *change) {
    return change == nullptr ? std::string("null")
                             : absl::StrCat(common, toAbsl(out.rowOf(*change)));
  };
  std::string source = absl::StrCat(",\"source\":{\"connector\":\"kiln\",\"name\":");
  appendJsonString(source, program_.name);
  source += ",\"table\":";
  appendJsonString(source, name);
  absl::StrAppend(&source, ",\"tick\":", tick, "}}");
  bool kafka = out.target.kind == SinkTarget::Kind::Kafka;
  std::string lines;
  auto envelope = [&](std::string_view key, const Change *before, const Change *after,
                      bool tombstone) {
    const char *op = before == nullptr ? "c" : after == nullptr ? "d" : "u";
    std::string value = absl::StrCat("{\"before\":", row(before), ",\"after\":", row(after),
                                     ",\"op\":\"", op, "\"", source);
    if (!kafka) {
      absl::StrAppend(&lines, value, "\n");
      return;
    }
    send(out, key, value);
    // Debezium follows a delete with a tombstone, so that compaction drops the key.
    if (after == nullptr && !key.empty() && tombstone)
      send(out, key, std::nullopt);
  };
  bool upsert = out.target.format == SinkTarget::Format::Upsert;
  for (size_t begin = 0; begin < out.changes.size();) {
    size_t end = begin;
    int64_t deleted = 0, inserted = 0;
    const Change *before = nullptr, *after = nullptr;
    while (end < out.changes.size() &&
           out.keyOf(out.changes[end]) == out.keyOf(out.changes[begin])) {
      const Change &change = out.changes[end++];
      (change.weight < 0 ? deleted : inserted) += std::abs(change.weight);
      (change.weight < 0 ? before : after) = &change;
    }
    std::string_view key = out.keyOf(out.changes[begin]);
    // A key whose row was replaced, added or removed: one message.
    bool one_row = !key.empty() && deleted <= 1 && inserted <= 1;
    if (upsert) {
      if (!one_row)
        throw std::runtime_error(
            absl::StrCat("sink ", name, ": key ", toAbsl(key), " has more than one row at tick ",
                         tick, ": an upsert sink needs key columns that are unique in the model"));
      if (!mute_kafka_ && after != nullptr)
        send(out, key, row(after));
      else if (!mute_kafka_)
        send(out, key, std::nullopt); // the key's row is gone: a tombstone
    } else if (one_row) {
      if (!mute_kafka_ || !kafka)
        envelope(key, before, after, true);
    } else if (!mute_kafka_ || !kafka) {
      // No key, or a key with several rows: each row in or out, keyed (so that a key's messages
      // stay in one partition, in order) but without tombstones (other rows of the key remain).
      for (size_t i = begin; i < end; ++i)
        for (int64_t n = 0; n < std::abs(out.changes[i].weight); ++n)
          envelope(key, out.changes[i].weight < 0 ? &out.changes[i] : nullptr,
                   out.changes[i].weight > 0 ? &out.changes[i] : nullptr, false);
    }
    begin = end;
  }
  if (!kafka)
    writeBytes(out.file, lines, name);
}

void Sinks::send(Output &out, std::string_view key, std::optional<std::string_view> value) {
  std::optional<std::string_view> message_key;
  if (!key.empty())
    message_key = key;
  if (absl::Status status = kafka_->produce(out.target.topic, message_key, value); !status.ok())
    throw std::runtime_error(std::string(status.message()));
}

std::vector<std::pair<std::string, int64_t>> Sinks::fileLengths() const {
  std::vector<std::pair<std::string, int64_t>> lengths;
  for (const auto &[path, file] : files_)
    lengths.emplace_back(path, std::ftell(file.get()));
  return lengths;
}

} // namespace kiln::runtime::detail

namespace kiln::runtime {

std::string SinkTarget::describe() const {
  std::string address = kind == Kind::Stdout ? "stdout"
                        : kind == Kind::File ? absl::StrCat("file:", path)
                        : kind == Kind::None ? "none"
                                             : absl::StrCat("kafka://", brokers, "/", topic);
  std::vector<std::string> query;
  if (format != Format::Json)
    query.push_back(absl::StrCat("format=", detail::formatName(format)));
  if (!key.empty())
    query.push_back(absl::StrCat("key=", absl::StrJoin(key, ",")));
  if (!query.empty())
    absl::StrAppend(&address, "?", absl::StrJoin(query, "&"));
  return address;
}

} // namespace kiln::runtime
