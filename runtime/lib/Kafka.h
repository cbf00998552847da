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
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::runtime::detail {

struct KafkaAddress {
  std::string brokers; // bootstrap.servers
  std::string topic;
};
// Parses kafka://BROKERS/TOPIC; nullopt if `uri` is not a Kafka address, an error if it is one
// that is malformed.
absl::StatusOr<std::optional<KafkaAddress>> parseKafkaAddress(std::string_view uri);

// Positions in a Kafka topic: per partition, the offset of the next message to read.
using KafkaOffsets = std::map<int32_t, int64_t>;

// Reads every partition of one or more topics of a cluster from their start (or from given
// offsets), through one consumer whose group's offsets Kiln does not commit itself: positions are
// Kiln's to keep (or a transactional sink's to commit with its ticks). Reads committed messages
// only (isolation.level=read_committed). Messages of different topics interleave as they arrive.
class KafkaSource {
public:
  struct Message {
    std::string_view payload; // valid until the next poll
    int32_t topic = 0;        // index into topics()
    int32_t partition = 0;
    int64_t offset = 0;
    bool null_value = false;             // a tombstone: no value at all
    std::optional<std::string_view> key; // the message key, if it has one
  };
  // Reads topic t's partitions from `start[t]`'s offset for each (a checkpoint's), else from
  // its beginning.
  static absl::StatusOr<std::unique_ptr<KafkaSource>>
  open(const std::string &brokers, const std::vector<std::string> &topics, const std::string &group,
       const std::vector<KafkaOffsets> &start = {});
  ~KafkaSource();
  // The next message, or nullopt if none arrived within `timeout_ms`.
  absl::StatusOr<std::optional<Message>> poll(int timeout_ms);
  // Whether every partition of every topic has been read to its end (as of the last poll).
  bool atEnd() const;
  const std::vector<std::string> &topics() const;
  const std::string &brokers() const;
  int32_t partitions(size_t topic) const;
  // Per topic and partition, the offset after its last message as librdkafka last heard from
  // the brokers (-1 before it has), for consumer lag.
  std::vector<KafkaOffsets> ends() const;
  // Stops fetching a partition (until resumeAll), keeping its position.
  absl::Status pause(size_t topic, int32_t partition);
  absl::Status resumeAll();
  // Per topic and partition, the offset the last end-of-partition event was at (-1 before one):
  // the end of what was read, transaction markers included.
  std::vector<KafkaOffsets> endsRead() const;
  // The offsets the consumer group has committed (by a transactional sink's ticks), per topic
  // and partition that has one.
  absl::StatusOr<std::vector<KafkaOffsets>> committed();

private:
  friend class KafkaSink;
  KafkaSource();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A position in an input that is not Kafka (a PostgreSQL LSN), committed with each tick's
// transaction as consumer group `group`'s offset of partition 0 of `topic`: a topic the sinks
// write, so that it exists. The group's committed offset tells a restarted run which ticks were
// delivered, as a Kafka input's consumed offsets do.
struct InputPosition {
  std::string group;
  std::string topic;
  int64_t offset = 0;
};

// The offset consumer group `group` has committed for `topic`'s `partition` (nullopt if none),
// as a read_committed consumer sees it: a transaction's commit counts once it is committed.
absl::StatusOr<std::optional<int64_t>> committedOffset(const std::string &brokers,
                                                       const std::string &group,
                                                       const std::string &topic, int32_t partition);

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
  // One message of the running tick: `key` (if any) partitions it; no value is a tombstone.
  absl::Status produce(const std::string &topic, std::optional<std::string_view> key,
                       std::optional<std::string_view> value);
  // Ends the tick: its messages delivered (and, transactional, committed with `source`'s
  // positions `next` per topic, the offsets of the messages to read next, if there is a source,
  // or with `position`, if there is one).
  absl::Status commitTick(KafkaSource *source, const std::vector<KafkaOffsets> &next,
                          const InputPosition *position = nullptr);

private:
  KafkaSink();
  absl::Status begin();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace kiln::runtime::detail
