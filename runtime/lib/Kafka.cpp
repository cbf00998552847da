#include "Kafka.h"

#include <librdkafka/rdkafka.h>

#include <vector>

#include "Strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::runtime::detail {

absl::StatusOr<std::optional<KafkaAddress>> parseKafkaAddress(std::string_view uri) {
  constexpr std::string_view kScheme = "kafka://";
  if (!uri.starts_with(kScheme))
    return std::nullopt;
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size())
    return absl::InvalidArgumentError(absl::StrCat(
        "a Kafka address is kafka://HOST:PORT[,HOST:PORT...]/TOPIC, not ", toAbsl(uri)));
  return KafkaAddress{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

namespace {

absl::Status configure(rd_kafka_conf_t *conf, const char *name, const std::string &value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
    return absl::InvalidArgumentError(
        absl::StrCat("Kafka setting ", name, "=", value, ": ", error));
  return absl::OkStatus();
}

absl::Status configureAll(rd_kafka_conf_t *conf,
                          const std::vector<std::pair<const char *, std::string>> &settings) {
  for (const auto &[name, value] : settings)
    if (absl::Status status = configure(conf, name, value); !status.ok())
      return status;
  return absl::OkStatus();
}

// A consumer with `settings`, owned by the caller (rd_kafka_destroy).
absl::StatusOr<rd_kafka_t *>
newConsumer(const std::vector<std::pair<const char *, std::string>> &settings) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (absl::Status status = configureAll(conf, settings); !status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  char error[512];
  rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (consumer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::UnavailableError(absl::StrCat("cannot create a Kafka consumer: ", error));
  }
  return consumer;
}

} // namespace

struct KafkaSource::Impl {
  ~Impl() {
    if (message != nullptr)
      rd_kafka_message_destroy(message);
    if (consumer != nullptr) {
      rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
    }
  }
  // The index of a topic by name, -1 if it is not read.
  int32_t topicIndex(const char *name) const {
    for (size_t t = 0; t < topics.size(); ++t)
      if (topics[t] == name)
        return static_cast<int32_t>(t);
    return -1;
  }
  rd_kafka_t *consumer = nullptr;
  rd_kafka_message_t *message = nullptr; // the last one polled
  std::string brokers;
  std::vector<std::string> topics;
  std::vector<std::vector<bool>> at_end;        // per topic and partition
  std::vector<std::vector<int64_t>> eof_offset; // per topic and partition: the last EOF's
  std::vector<std::pair<size_t, int32_t>> paused;
};

KafkaSource::KafkaSource() : impl_(std::make_unique<Impl>()) {}
KafkaSource::~KafkaSource() = default;
const std::vector<std::string> &KafkaSource::topics() const { return impl_->topics; }
const std::string &KafkaSource::brokers() const { return impl_->brokers; }
int32_t KafkaSource::partitions(size_t topic) const {
  return static_cast<int32_t>(impl_->at_end[topic].size());
}

namespace {

// How many partitions `topic` has, from the cluster's metadata.
absl::StatusOr<int> partitionCount(rd_kafka_t *client, const std::string &brokers,
                                   const std::string &topic_name) {
  rd_kafka_topic_t *topic = rd_kafka_topic_new(client, topic_name.c_str(), nullptr);
  const rd_kafka_metadata_t *metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, topic, &metadata, 10000);
  rd_kafka_topic_destroy(topic);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot read the metadata of Kafka topic ",
                                               topic_name, " from ", brokers, ": ",
                                               rd_kafka_err2str(err)));
  int partitions = 0;
  rd_kafka_resp_err_t topic_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    if (topic_name != metadata->topics[t].topic)
      continue;
    topic_error = metadata->topics[t].err;
    partitions = metadata->topics[t].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  if (topic_error != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::NotFoundError(absl::StrCat("Kafka topic ", topic_name, " on ", brokers, ": ",
                                            rd_kafka_err2str(topic_error)));
  if (partitions == 0)
    return absl::NotFoundError(
        absl::StrCat("Kafka topic ", topic_name, " on ", brokers, " has no partitions"));
  return partitions;
}

} // namespace

absl::StatusOr<std::unique_ptr<KafkaSource>>
KafkaSource::open(const std::string &brokers, const std::vector<std::string> &topics,
                  const std::string &group, const std::vector<KafkaOffsets> &start) {
  absl::StatusOr<rd_kafka_t *> consumer = newConsumer({{"bootstrap.servers", brokers},
                                                       {"group.id", group},
                                                       {"enable.auto.commit", "false"},
                                                       {"enable.auto.offset.store", "false"},
                                                       {"enable.partition.eof", "true"},
                                                       {"auto.offset.reset", "earliest"},
                                                       {"isolation.level", "read_committed"},
                                                       {"log_level", "3"}});
  if (!consumer.ok())
    return consumer.status();
  std::unique_ptr<KafkaSource> source(new KafkaSource());
  Impl &impl = *source->impl_;
  impl.brokers = brokers;
  impl.topics = topics;
  impl.consumer = *consumer;
  rd_kafka_poll_set_consumer(impl.consumer);
  // Every partition, assigned by Kiln (not by the group's rebalancing), from the beginning or
  // from where a checkpoint says.
  rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(0);
  for (size_t t = 0; t < topics.size(); ++t) {
    absl::StatusOr<int> partitions = partitionCount(impl.consumer, brokers, topics[t]);
    if (!partitions.ok()) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return partitions.status();
    }
    for (int p = 0; p < *partitions; ++p) {
      bool given = t < start.size() && start[t].contains(p);
      rd_kafka_topic_partition_list_add(assignment, topics[t].c_str(), p)->offset =
          given ? start[t].at(p) : RD_KAFKA_OFFSET_BEGINNING;
    }
    impl.at_end.emplace_back(static_cast<size_t>(*partitions), false);
    impl.eof_offset.emplace_back(static_cast<size_t>(*partitions), -1);
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(impl.consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot assign the partitions of Kafka topics ",
                                               absl::StrJoin(topics, ", "), ": ",
                                               rd_kafka_err2str(err)));
  return source;
}

absl::StatusOr<std::optional<KafkaSource::Message>> KafkaSource::poll(int timeout_ms) {
  Impl &impl = *impl_;
  if (impl.message != nullptr) {
    rd_kafka_message_destroy(impl.message);
    impl.message = nullptr;
  }
  for (;;) {
    rd_kafka_message_t *message = rd_kafka_consumer_poll(impl.consumer, timeout_ms);
    if (message == nullptr)
      return std::nullopt;
    int32_t topic = message->rkt ? impl.topicIndex(rd_kafka_topic_name(message->rkt)) : -1;
    int32_t partition = message->partition;
    std::vector<bool> *ends = topic >= 0 ? &impl.at_end[static_cast<size_t>(topic)] : nullptr;
    bool known_partition =
        ends != nullptr && partition >= 0 && static_cast<size_t>(partition) < ends->size();
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (known_partition) {
        (*ends)[static_cast<size_t>(partition)] = true;
        impl.eof_offset[static_cast<size_t>(topic)][static_cast<size_t>(partition)] =
            message->offset;
      }
      rd_kafka_message_destroy(message);
      if (atEnd())
        return std::nullopt;
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR || !known_partition) {
      std::string why = message->err != RD_KAFKA_RESP_ERR_NO_ERROR
                            ? rd_kafka_message_errstr(message)
                            : "a message of a partition that was not assigned";
      std::string where = message->rkt ? rd_kafka_topic_name(message->rkt) : impl.brokers;
      rd_kafka_message_destroy(message);
      return absl::UnavailableError(absl::StrCat("Kafka topic ", where, ": ", why));
    }
    (*ends)[static_cast<size_t>(partition)] = false;
    impl.message = message;
    Message out{std::string_view(static_cast<const char *>(message->payload), message->len),
                topic,
                partition,
                message->offset,
                message->payload == nullptr,
                std::nullopt};
    if (message->key != nullptr)
      out.key = std::string_view(static_cast<const char *>(message->key), message->key_len);
    return out;
  }
}

absl::StatusOr<std::vector<KafkaOffsets>> KafkaSource::committed() {
  Impl &impl = *impl_;
  rd_kafka_topic_partition_list_t *partitions = rd_kafka_topic_partition_list_new(0);
  for (size_t t = 0; t < impl.topics.size(); ++t)
    for (size_t p = 0; p < impl.at_end[t].size(); ++p)
      rd_kafka_topic_partition_list_add(partitions, impl.topics[t].c_str(),
                                        static_cast<int32_t>(p));
  rd_kafka_resp_err_t err = rd_kafka_committed(impl.consumer, partitions, 30000);
  std::vector<KafkaOffsets> offsets(impl.topics.size());
  for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t &elem = partitions->elems[i];
    int32_t topic = impl.topicIndex(elem.topic);
    if (topic >= 0 && elem.offset >= 0)
      offsets[static_cast<size_t>(topic)][elem.partition] = elem.offset;
  }
  rd_kafka_topic_partition_list_destroy(partitions);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot read the committed offsets of Kafka topics ",
                                               absl::StrJoin(impl.topics, ", "), ": ",
                                               rd_kafka_err2str(err)));
  return offsets;
}

absl::StatusOr<std::optional<int64_t>> committedOffset(const std::string &brokers,
                                                       const std::string &group,
                                                       const std::string &topic,
                                                       int32_t partition) {
  absl::StatusOr<rd_kafka_t *> created = newConsumer({{"bootstrap.servers", brokers},
                                                      {"group.id", group},
                                                      {"enable.auto.commit", "false"},
                                                      {"isolation.level", "read_committed"},
                                                      {"log_level", "3"}});
  if (!created.ok())
    return created.status();
  rd_kafka_t *consumer = *created;
  rd_kafka_topic_partition_list_t *partitions = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(partitions, topic.c_str(), partition);
  rd_kafka_resp_err_t err = rd_kafka_committed(consumer, partitions, 30000);
  int64_t offset = partitions->elems[0].offset;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    err = partitions->elems[0].err;
  rd_kafka_topic_partition_list_destroy(partitions);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    return std::nullopt; // the topic is new: nothing was delivered to it
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot read the offset consumer group ", group,
                                               " committed for Kafka topic ", topic, " on ",
                                               brokers, ": ", rd_kafka_err2str(err)));
  if (offset < 0)
    return std::nullopt;
  return offset;
}

std::vector<KafkaOffsets> KafkaSource::ends() const {
  std::vector<KafkaOffsets> ends(impl_->topics.size());
  for (size_t t = 0; t < impl_->topics.size(); ++t)
    for (size_t p = 0; p < impl_->at_end[t].size(); ++p) {
      int64_t low = -1, high = -1;
      if (rd_kafka_get_watermark_offsets(impl_->consumer, impl_->topics[t].c_str(),
                                         static_cast<int32_t>(p), &low,
                                         &high) != RD_KAFKA_RESP_ERR_NO_ERROR)
        high = -1;
      ends[t][static_cast<int32_t>(p)] = high;
    }
  return ends;
}

std::vector<KafkaOffsets> KafkaSource::endsRead() const {
  std::vector<KafkaOffsets> ends(impl_->topics.size());
  for (size_t t = 0; t < impl_->topics.size(); ++t)
    for (size_t p = 0; p < impl_->eof_offset[t].size(); ++p)
      ends[t][static_cast<int32_t>(p)] = impl_->eof_offset[t][p];
  return ends;
}

namespace {
absl::Status pauseOrResume(rd_kafka_t *consumer, const std::vector<std::string> &topics,
                           const std::vector<std::pair<size_t, int32_t>> &partitions, bool pause) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(0);
  for (const auto &[topic, partition] : partitions)
    rd_kafka_topic_partition_list_add(list, topics[topic].c_str(), partition);
  rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(consumer, list)
                                  : rd_kafka_resume_partitions(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot ", pause ? "pause" : "resume",
                                               " Kafka partitions: ", rd_kafka_err2str(err)));
  return absl::OkStatus();
}
} // namespace

absl::Status KafkaSource::pause(size_t topic, int32_t partition) {
  Impl &impl = *impl_;
  for (const auto &paused : impl.paused)
    if (paused == std::make_pair(topic, partition))
      return absl::OkStatus();
  impl.paused.emplace_back(topic, partition);
  return pauseOrResume(impl.consumer, impl.topics, {{topic, partition}}, true);
}

absl::Status KafkaSource::resumeAll() {
  Impl &impl = *impl_;
  if (impl.paused.empty())
    return absl::OkStatus();
  absl::Status status = pauseOrResume(impl.consumer, impl.topics, impl.paused, false);
  impl.paused.clear();
  return status;
}

bool KafkaSource::atEnd() const {
  for (const std::vector<bool> &topic : impl_->at_end)
    for (bool end : topic)
      if (!end)
        return false;
  return true;
}

struct KafkaSink::Impl {
  ~Impl() {
    for (auto &[name, topic] : topics)
      rd_kafka_topic_destroy(topic);
    if (producer != nullptr)
      rd_kafka_destroy(producer);
  }
  rd_kafka_t *producer = nullptr;
  std::map<std::string, rd_kafka_topic_t *> topics;
  std::string brokers;
  bool transactional = false;
  bool in_transaction = false;
  rd_kafka_resp_err_t delivery_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

namespace {

// Keeps the first delivery error, which the end of the tick reports.
void onDelivery(rd_kafka_t *, const rd_kafka_message_t *message, void *opaque) {
  auto *error = static_cast<rd_kafka_resp_err_t *>(opaque);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && *error == RD_KAFKA_RESP_ERR_NO_ERROR)
    *error = message->err;
}

// An rd_kafka_error_t as a status (and freed).
absl::Status statusOf(rd_kafka_error_t *error, std::string_view what) {
  if (error == nullptr)
    return absl::OkStatus();
  absl::Status status =
      absl::UnavailableError(absl::StrCat(toAbsl(what), ": ", rd_kafka_error_string(error)));
  rd_kafka_error_destroy(error);
  return status;
}

} // namespace

KafkaSink::KafkaSink() : impl_(std::make_unique<Impl>()) {}
KafkaSink::~KafkaSink() = default;
const std::string &KafkaSink::brokers() const { return impl_->brokers; }
bool KafkaSink::transactional() const { return impl_->transactional; }

absl::StatusOr<std::unique_ptr<KafkaSink>> KafkaSink::open(const std::string &brokers,
                                                           const std::string &transactional_id) {
  std::unique_ptr<KafkaSink> sink(new KafkaSink());
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  // Idempotent: a retried batch is not written twice, and order per partition holds.
  std::vector<std::pair<const char *, std::string>> settings = {{"bootstrap.servers", brokers},
                                                                {"enable.idempotence", "true"},
                                                                {"linger.ms", "5"},
                                                                {"log_level", "3"}};
  if (!transactional_id.empty())
    settings.push_back({"transactional.id", transactional_id});
  if (absl::Status status = configureAll(conf, settings); !status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, &sink->impl_->delivery_error);
  rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
  char error[512];
  sink->impl_->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (sink->impl_->producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::UnavailableError(absl::StrCat("cannot create a Kafka producer: ", error));
  }
  sink->impl_->brokers = brokers;
  sink->impl_->transactional = !transactional_id.empty();
  if (sink->impl_->transactional) {
    // Fences an earlier instance with the same id (a run killed mid-tick) and aborts the
    // transaction it left open.
    if (absl::Status status =
            statusOf(rd_kafka_init_transactions(sink->impl_->producer, 60000),
                     absl::StrCat("cannot start Kafka transactions (transactional.id ",
                                  transactional_id, ") on ", brokers));
        !status.ok())
      return status;
  }
  return sink;
}

absl::Status KafkaSink::begin() {
  Impl &impl = *impl_;
  if (!impl.transactional || impl.in_transaction)
    return absl::OkStatus();
  if (absl::Status status =
          statusOf(rd_kafka_begin_transaction(impl.producer), "cannot begin a Kafka transaction");
      !status.ok())
    return status;
  impl.in_transaction = true;
  return absl::OkStatus();
}

absl::Status KafkaSink::produce(const std::string &topic_name, std::optional<std::string_view> key,
                                std::optional<std::string_view> value) {
  Impl &impl = *impl_;
  if (absl::Status status = begin(); !status.ok())
    return status;
  rd_kafka_topic_t *&topic = impl.topics[topic_name];
  if (topic == nullptr)
    topic = rd_kafka_topic_new(impl.producer, topic_name.c_str(), nullptr);
  for (;;) {
    // Keyed messages go to the partition of their key's hash (librdkafka's default
    // partitioner), so a key's changes stay in order.
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                         value ? const_cast<char *>(value->data()) : nullptr,
                         value ? value->size() : 0, key ? key->data() : nullptr,
                         key ? key->size() : 0, nullptr) == 0)
      break;
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return absl::UnavailableError(
          absl::StrCat("cannot produce to Kafka topic ", topic_name, ": ", rd_kafka_err2str(err)));
    rd_kafka_poll(impl.producer, 100); // the queue drains as deliveries are acknowledged
  }
  rd_kafka_poll(impl.producer, 0);
  return absl::OkStatus();
}

absl::Status KafkaSink::commitTick(KafkaSource *source, const std::vector<KafkaOffsets> &next,
                                   const InputPosition *position) {
  Impl &impl = *impl_;
  if (!impl.transactional) {
    rd_kafka_resp_err_t err = rd_kafka_flush(impl.producer, 60000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      err = impl.delivery_error;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return absl::UnavailableError(
          absl::StrCat("cannot deliver to Kafka on ", impl.brokers, ": ", rd_kafka_err2str(err)));
    return absl::OkStatus();
  }
  if (absl::Status status = begin(); !status.ok())
    return status;
  rd_kafka_topic_partition_list_t *offsets = nullptr;
  rd_kafka_consumer_group_metadata_t *group = nullptr;
  if (source != nullptr && !next.empty()) {
    offsets = rd_kafka_topic_partition_list_new(0);
    for (size_t t = 0; t < next.size() && t < source->topics().size(); ++t)
      for (const auto &[partition, offset] : next[t])
        rd_kafka_topic_partition_list_add(offsets, source->topics()[t].c_str(), partition)->offset =
            offset;
    group = rd_kafka_consumer_group_metadata(source->impl_->consumer);
  } else if (position != nullptr) {
    offsets = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offsets, position->topic.c_str(), 0)->offset =
        position->offset;
    group = rd_kafka_consumer_group_metadata_new(position->group.c_str());
  }
  if (offsets != nullptr) {
    absl::Status sent =
        statusOf(rd_kafka_send_offsets_to_transaction(impl.producer, offsets, group, 60000),
                 "cannot commit the consumed offsets in the Kafka transaction");
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (!sent.ok())
      return sent;
  }
  impl.in_transaction = false;
  return statusOf(rd_kafka_commit_transaction(impl.producer, 60000),
                  "cannot commit the Kafka transaction");
}

} // namespace kiln::runtime::detail
