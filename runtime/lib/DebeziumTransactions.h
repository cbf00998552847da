// Whole upstream transactions out of Debezium topics, in commit order.
//
// Debezium with provide.transaction.metadata writes each change event of a transaction with the
// transaction's id, and, on its transaction topic (PREFIX.transaction), a BEGIN and an END event
// per transaction; END counts the transaction's events per data collection ("schema.table", whose
// events go to topic PREFIX.schema.table). A transaction's events spread over topics and
// partitions that a consumer reads at different paces, so no message order gives its boundary:
// the assembler holds each event until its transaction's END has arrived and every event the END
// counts for the topics read is there, then releases the transaction whole, transactions in the
// order of their END events (the commit order). A tick per released transaction makes every
// output consistent with a transaction boundary upstream.
//
// Events outside any transaction (snapshot reads) pass through at once, unless an event read
// earlier from the same partition is held: a partition's messages are released in their order.
//
// Kafka positions: what a checkpoint or a sink's transaction may record for a partition is the
// offset of its first held message (END events included), not the offset after the last one
// read: a restart must read the held messages again. firstHeld() gives it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace kiln::runtime::detail {

class TransactionAssembler {
public:
  // A Kafka message, owned.
  struct Message {
    int32_t topic = 0; // the caller's index of its topic
    int32_t partition = 0;
    int64_t offset = 0;
    std::string payload;
    bool null_value = false;
    std::optional<std::string> key;
  };
  // What to apply next: the events of one transaction, and the events outside transactions that
  // its partitions held behind them.
  struct Batch {
    std::string id;
    std::vector<Message> messages;
  };

  // `transaction_topic`: the caller's index of the transaction topic; `collections`: the data
  // collection each data topic carries, by the caller's topic index.
  TransactionAssembler(int32_t transaction_topic, std::map<int32_t, std::string> collections);

  // The data collection a topic carries under Debezium's topic naming: `topic` is
  // PREFIX.COLLECTION where `transaction_topic` is PREFIX.transaction (or PREFIX.NAME, Debezium's
  // topic.transaction); nullopt if it is not.
  static std::optional<std::string> collectionOf(const std::string &topic,
                                                 const std::string &transaction_topic);

  // A change event (or tombstone) of a data topic, in transaction `id` (nullopt: in none).
  // Returns false if it need not wait: the caller applies it now, and nothing is held for it.
  // An error: more events of its topic than its transaction's END counts. (Debezium delivers at
  // least once: a transaction sent again after a connector restart is held and released again
  // when its END comes again.)
  absl::StatusOr<bool> event(Message message, std::optional<std::string> id);
  // A transaction topic's END event, read at `partition`/`offset`, counting `event_counts` per
  // data collection. An error: more events of a topic than the END counts for its collection.
  absl::Status end(const std::string &id,
                   const std::vector<std::pair<std::string, int64_t>> &event_counts,
                   int32_t partition, int64_t offset);
  // The next batch to apply, if one is ready: the transaction of the first END not released,
  // once its events are all in.
  std::optional<Batch> next();

  // The offset of the first message held from `topic`'s `partition`, if one is.
  std::optional<int64_t> firstHeld(int32_t topic, int32_t partition) const;
  // Messages held, and the transactions they belong to, for reports at the end of a run.
  int64_t heldEvents() const;
  int64_t heldTransactions() const;

private:
  struct Entry {
    Message message;
    std::optional<std::string> id;
  };
  struct Transaction {
    std::map<int32_t, int64_t> received; // events held, by topic
    int64_t received_total = 0;
    bool ended = false;                  // its END has arrived, with:
    std::map<int32_t, int64_t> expected; // the events of each topic read
    int64_t expected_total = 0;
    bool complete() const { return ended && received_total == expected_total; }
  };
  struct End {
    std::string id;
    int32_t partition = 0;
    int64_t offset = 0;
  };
  using PartitionKey = std::pair<int32_t, int32_t>; // topic, partition
  // Moves the events outside transactions at the front of `queue` into `batch`.
  static void takeLeadingLoose(std::deque<Entry> &queue, Batch &batch);
  // An error if transaction `id` holds more events of a topic than its END counts.
  absl::Status checkCounts(const std::string &id, const Transaction &transaction) const;

  int32_t transaction_topic_;
  std::map<int32_t, std::string> collections_;
  std::map<PartitionKey, std::deque<Entry>> queues_; // held messages, by partition, in order
  absl::flat_hash_map<std::string, Transaction> transactions_;
  std::deque<End> ends_; // END events not yet released, in commit order
  int64_t held_events_ = 0;
};

} // namespace kiln::runtime::detail
