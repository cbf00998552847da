// Kafka connectors through librdkafka: a source that reads a topic's partitions, and a sink
// that writes a sink model's changes to a topic. librdkafka is confined to Kafka.cpp.
//
// Addresses are URIs: kafka://HOST:PORT[,HOST:PORT...]/TOPIC.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::runtime::detail {

struct KafkaAddress {
  std::string brokers; // bootstrap.servers
  std::string topic;
};
// Parses kafka://BROKERS/TOPIC; nullopt if `uri` is not a Kafka address, an error if it is one
// that is malformed.
absl::StatusOr<std::optional<KafkaAddress>> parseKafkaAddress(std::string_view uri);

// Reads every partition of a topic from its start (or from given offsets), in a consumer group
// whose offsets Kiln does not commit: positions are Kiln's to keep. Reads committed messages
// only (isolation.level=read_committed).
class KafkaSource {
public:
  struct Message {
    std::string_view payload; // valid until the next poll
    int32_t partition = 0;
    int64_t offset = 0;
    bool null_value = false;             // a tombstone: no value at all
    std::optional<std::string_view> key; // the message key, if it has one
  };
  // Reads each partition from `start`'s offset for it (a checkpoint's), else from its beginning.
  static absl::StatusOr<std::unique_ptr<KafkaSource>>
  open(const KafkaAddress &address, const std::string &group,
       const std::map<int32_t, int64_t> &start = {});
  ~KafkaSource();
  // The next message, or nullopt if none arrived within `timeout_ms`.
  absl::StatusOr<std::optional<Message>> poll(int timeout_ms);
  // Whether every partition has been read to its end (as of the last poll).
  bool atEnd() const;
  const std::string &topic() const;
  int32_t partitions() const;
  // The offsets the consumer group has committed (by a transactional sink's ticks), per
  // partition that has one.
  absl::StatusOr<std::map<int32_t, int64_t>> committed();

private:
  friend class KafkaSink;
  KafkaSource();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes the messages of sinks to topics of one cluster, a tick at a time. With a
// transactional id, each tick is one Kafka transaction, which also commits the offsets a Kafka
// source consumed in it to that source's consumer group (send_offsets_to_transaction): readers
// with isolation.level=read_committed see a tick's messages completely or not at all, and the
// group's offsets tell a restarted run which ticks were delivered. Without one, each tick is
// flushed (delivered at least once).
class KafkaSink {
public:
  static absl::StatusOr<std::unique_ptr<KafkaSink>> open(const std::string &brokers,
                                                         const std::string &transactional_id);
  ~KafkaSink();
  const std::string &brokers() const;
  bool transactional() const;
  absl::Status produce(const std::string &topic, std::string_view value);
  // Ends the tick: its messages delivered (and, transactional, committed with `source`'s
  // positions `next`, the offsets of the messages to read next, if there is a source).
  absl::Status commitTick(KafkaSource *source, const std::map<int32_t, int64_t> &next);

private:
  KafkaSink();
  absl::Status begin();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace kiln::runtime::detail
