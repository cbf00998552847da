// The sinks of a host: each sink's changes of a tick, gathered as the program emits them,
// formatted (change records, CSV, Debezium envelopes, upserts) and written at the end of the tick
// to stdout, a file or a Kafka topic, in a deterministic order.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "Kafka.h"
#include "OutputFile.h"
#include "absl/status/statusor.h"
#include "kiln/runtime/Host.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime::detail {

class Sinks {
public:
  // Opens every target (files: created, or cut back to `resume_lengths`'s length; Kafka: one
  // producer for all Kafka sinks, transactional if `transactional_id` is not empty). Throws
  // std::runtime_error for an unknown sink, a key column the sink does not have, a file that
  // cannot be opened, a Kafka cluster that cannot be reached.
  Sinks(const kiln_program &program, const std::map<std::string, SinkTarget> &targets,
        const std::string &transactional_id, const std::map<std::string, int64_t> &resume_lengths);
  ~Sinks();

  int32_t find(std::string_view name) const; // -1 if no sink has that name
  const SinkTarget &target(int32_t sink) const;

  // One change of the running tick; the row lives only during the call.
  void add(int32_t sink, const void *row, int64_t weight);
  // One change given as the row's JSON (upgrade corrections; JSON-format sinks only).
  void addJson(int32_t sink, std::string_view row_json, int64_t weight);
  // Writes the tick's changes and ends the tick at every target (flushed files, a committed
  // Kafka transaction). Throws std::runtime_error if a target cannot be written.
  void write(int64_t tick);

  // Flushes the files (write() also does, at the end of every tick).
  void flush();
  // The files written, with their lengths now.
  std::vector<std::pair<std::string, int64_t>> fileLengths() const;

  bool kafkaTransactions() const { return kafka_ != nullptr && kafka_->transactional(); }
  // The Kafka input whose positions (per topic) each tick's transaction commits; null for none.
  void setKafkaInput(KafkaSource *source, const std::vector<KafkaOffsets> *next) {
    transaction_source_ = source;
    transaction_next_ = next;
  }
  // A position of a non-Kafka input (a PostgreSQL LSN) that each tick's transaction commits
  // (see InputPosition), read at the end of every tick; null for none.
  void setInputPosition(const int64_t *position) { input_position_ = position; }
  // The input position the last committed transaction holds (nullopt if none has).
  absl::StatusOr<std::optional<int64_t>> deliveredInputPosition() const;
  // While muted, ticks write nothing to Kafka and commit no transaction.
  void muteKafka(bool mute) { mute_kafka_ = mute; }

  // Rejected records go to Kafka topic `address.topic` too, in the ticks' transactions. Throws
  // std::runtime_error if the Kafka sinks write to another cluster or it cannot be reached.
  void openDeadLetterTopic(const KafkaAddress &address);
  // One rejected record (as a JSON object), keyed by where it came from.
  void deadLetter(std::string_view origin, std::string_view record);

private:
  // One change of a sink in this tick: its weight, its row as JSON (a range of the sink's text
  // after the part every row starts with, whose first eight bytes `head` holds big-endian) and,
  // with key columns, its key as JSON (another range of the text).
  struct Change {
    int64_t weight;
    uint64_t head;
    size_t offset, length;
    size_t key_offset = 0, key_length = 0;
  };
  struct Output;
  void addChange(Output &out, size_t offset, int64_t weight, size_t key_offset, size_t key_length);
  void writeJson(Output &out, int32_t sink, int64_t tick, std::string &lines);
  void writeKeyed(Output &out, int32_t sink, int64_t tick);
  void send(Output &out, std::string_view key, std::optional<std::string_view> value);
  // The producer of every Kafka target, opened for the first at `brokers`; `what` names the
  // target for an error.
  KafkaSink &kafkaAt(const std::string &brokers, std::string_view what);
  // The topic whose offset in the transactional id's group holds the input position.
  const std::string &positionTopic() const;

  const kiln_program &program_;
  std::vector<std::unique_ptr<Output>> outputs_; // by sink
  std::vector<std::pair<std::string, OwnedFile>> files_;
  std::unique_ptr<KafkaSink> kafka_;
  std::string transactional_id_;
  std::string dead_letter_topic_; // empty unless rejected records go to Kafka
  const int64_t *input_position_ = nullptr;
  KafkaSource *transaction_source_ = nullptr;
  const std::vector<KafkaOffsets> *transaction_next_ = nullptr;
  bool mute_kafka_ = false;
};

} // namespace kiln::runtime::detail
