#include "DebeziumTransactions.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace kiln::runtime::detail {

TransactionAssembler::TransactionAssembler(int32_t transaction_topic,
                                           std::map<int32_t, std::string> collections)
    : transaction_topic_(transaction_topic), collections_(std::move(collections)) {}

std::optional<std::string>
TransactionAssembler::collectionOf(const std::string &topic, const std::string &transaction_topic) {
  // (Debezium's topic.transaction renames the last part, "transaction" by default.)
  size_t dot = transaction_topic.rfind('.');
  if (dot == std::string::npos || dot == 0)
    return std::nullopt;
  std::string prefix = transaction_topic.substr(0, dot + 1);
  if (!topic.starts_with(prefix) || topic.size() == prefix.size() || topic == transaction_topic)
    return std::nullopt;
  return topic.substr(prefix.size());
}

absl::StatusOr<bool> TransactionAssembler::event(Message message, std::optional<std::string> id) {
  PartitionKey key{message.topic, message.partition};
  if (!id && !queues_.contains(key))
    return false; // (queues_ holds no empty queue)
  if (id) {
    Transaction &transaction = transactions_[*id];
    ++transaction.received[message.topic];
    ++transaction.received_total;
    if (transaction.ended)
      if (absl::Status status = checkCounts(*id, transaction); !status.ok())
        return status;
  }
  queues_[key].push_back({std::move(message), std::move(id)});
  ++held_events_;
  return true;
}

absl::Status
TransactionAssembler::end(const std::string &id,
                          const std::vector<std::pair<std::string, int64_t>> &event_counts,
                          int32_t partition, int64_t offset) {
  Transaction &transaction = transactions_[id];
  if (transaction.ended) {
    // The same END again before the transaction was released (a connector restart sent it
    // twice): the first one stands.
    return absl::OkStatus();
  }
  transaction.ended = true;
  for (const auto &[collection, count] : event_counts)
    for (const auto &[topic, name] : collections_)
      if (name == collection) {
        transaction.expected[topic] += count;
        transaction.expected_total += count;
      }
  ends_.push_back({id, partition, offset});
  return checkCounts(id, transaction);
}

absl::Status TransactionAssembler::checkCounts(const std::string &id,
                                               const Transaction &transaction) const {
  for (const auto &[topic, received] : transaction.received) {
    auto expected = transaction.expected.find(topic);
    int64_t count = expected == transaction.expected.end() ? 0 : expected->second;
    if (received > count)
      return absl::FailedPreconditionError(absl::StrCat(
          "Debezium transaction ", id, " has more events of data collection ",
          collections_.at(topic), " than its END event counts (", count,
          "): does the topic carry that collection (topics are named PREFIX.COLLECTION after the "
          "transaction topic PREFIX.transaction)?"));
  }
  return absl::OkStatus();
}

void TransactionAssembler::takeLeadingLoose(std::deque<Entry> &queue, Batch &batch) {
  while (!queue.empty() && !queue.front().id) {
    batch.messages.push_back(std::move(queue.front().message));
    queue.pop_front();
  }
}

std::optional<TransactionAssembler::Batch> TransactionAssembler::next() {
  if (ends_.empty())
    return std::nullopt;
  auto found = transactions_.find(ends_.front().id);
  if (found == transactions_.end() || !found->second.complete())
    return std::nullopt;
  Batch batch;
  batch.id = ends_.front().id;
  const std::optional<std::string> id = batch.id;
  for (const auto &[topic, count] : found->second.received) {
    auto first = queues_.lower_bound({topic, INT32_MIN});
    auto last = queues_.lower_bound({topic + 1, INT32_MIN});
    // In a partition, the transaction's events follow what was released before them, with
    // events outside transactions among them: they are at the front of its queue.
    int64_t taken = 0;
    for (auto it = first; it != last; ++it) {
      std::deque<Entry> &queue = it->second;
      while (!queue.empty() && (!queue.front().id || queue.front().id == id)) {
        taken += queue.front().id ? 1 : 0;
        batch.messages.push_back(std::move(queue.front().message));
        queue.pop_front();
      }
    }
    if (taken == count)
      continue;
    // A partition out of commit order (an event of a later transaction before them): they are
    // taken out all the same.
    for (auto it = first; it != last; ++it) {
      std::deque<Entry> &queue = it->second;
      std::deque<Entry> rest;
      for (Entry &entry : queue) {
        if (entry.id == id)
          batch.messages.push_back(std::move(entry.message));
        else
          rest.push_back(std::move(entry));
      }
      queue = std::move(rest);
      takeLeadingLoose(queue, batch);
    }
  }
  held_events_ -= static_cast<int64_t>(batch.messages.size());
  for (const auto &[topic, count] : found->second.received) {
    static_cast<void>(count);
    std::erase_if(queues_, [topic = topic](const auto &item) {
      return item.first.first == topic && item.second.empty();
    });
  }
  transactions_.erase(found);
  ends_.pop_front();
  // (No queue starts with an event outside transactions: event() queues one only behind
  // another, and a release takes those its removal brings to the front.)
  return batch;
}

std::optional<int64_t> TransactionAssembler::firstHeld(int32_t topic, int32_t partition) const {
  if (topic == transaction_topic_) {
    for (const End &end : ends_)
      if (end.partition == partition)
        return end.offset;
    return std::nullopt;
  }
  auto it = queues_.find({topic, partition});
  if (it == queues_.end() || it->second.empty())
    return std::nullopt;
  return it->second.front().message.offset;
}

int64_t TransactionAssembler::heldEvents() const { return held_events_; }

int64_t TransactionAssembler::heldTransactions() const {
  return static_cast<int64_t>(transactions_.size());
}

} // namespace kiln::runtime::detail
