#include "Kafka.h"

#include <librdkafka/rdkafka.h>

#include <vector>

#include "Strings.h"
#include "absl/strings/str_cat.h"

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
  rd_kafka_t *consumer = nullptr;
  rd_kafka_message_t *message = nullptr; // the last one polled
  std::string topic;
  std::vector<bool> at_end; // per partition
};

KafkaSource::KafkaSource() : impl_(std::make_unique<Impl>()) {}
KafkaSource::~KafkaSource() = default;
const std::string &KafkaSource::topic() const { return impl_->topic; }
int32_t KafkaSource::partitions() const { return static_cast<int32_t>(impl_->at_end.size()); }

absl::StatusOr<std::unique_ptr<KafkaSource>>
KafkaSource::open(const KafkaAddress &address, const std::string &group,
                  const std::map<int32_t, int64_t> &start) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (absl::Status status = configureAll(conf, {{"bootstrap.servers", address.brokers},
                                                {"group.id", group},
                                                {"enable.auto.commit", "false"},
                                                {"enable.auto.offset.store", "false"},
                                                {"enable.partition.eof", "true"},
                                                {"auto.offset.reset", "earliest"},
                                                {"isolation.level", "read_committed"},
                                                {"log_level", "3"}});
      !status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  char error[512];
  std::unique_ptr<KafkaSource> source(new KafkaSource());
  source->impl_->topic = address.topic;
  source->impl_->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (source->impl_->consumer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::UnavailableError(absl::StrCat("cannot create a Kafka consumer: ", error));
  }
  rd_kafka_t *consumer = source->impl_->consumer;
  rd_kafka_poll_set_consumer(consumer);
  // Every partition, assigned by Kiln (not by the group's rebalancing), from the beginning or
  // from where a checkpoint says.
  rd_kafka_topic_t *topic = rd_kafka_topic_new(consumer, address.topic.c_str(), nullptr);
  const rd_kafka_metadata_t *metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(consumer, 0, topic, &metadata, 10000);
  rd_kafka_topic_destroy(topic);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot read the metadata of Kafka topic ",
                                               address.topic, " from ", address.brokers, ": ",
                                               rd_kafka_err2str(err)));
  int partitions = 0;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    if (address.topic != metadata->topics[t].topic)
      continue;
    if (metadata->topics[t].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string why = rd_kafka_err2str(metadata->topics[t].err);
      rd_kafka_metadata_destroy(metadata);
      return absl::NotFoundError(
          absl::StrCat("Kafka topic ", address.topic, " on ", address.brokers, ": ", why));
    }
    partitions = metadata->topics[t].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  if (partitions == 0)
    return absl::NotFoundError(
        absl::StrCat("Kafka topic ", address.topic, " on ", address.brokers, " has no partitions"));
  rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(assignment, address.topic.c_str(), p)->offset =
        start.contains(p) ? start.at(p) : RD_KAFKA_OFFSET_BEGINNING;
  err = rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot assign the partitions of Kafka topic ",
                                               address.topic, ": ", rd_kafka_err2str(err)));
  source->impl_->at_end.assign(static_cast<size_t>(partitions), false);
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
    int32_t partition = message->partition;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (partition >= 0 && static_cast<size_t>(partition) < impl.at_end.size())
        impl.at_end[static_cast<size_t>(partition)] = true;
      rd_kafka_message_destroy(message);
      if (atEnd())
        return std::nullopt;
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string why = rd_kafka_message_errstr(message);
      rd_kafka_message_destroy(message);
      return absl::UnavailableError(absl::StrCat("Kafka topic ", impl.topic, ": ", why));
    }
    if (partition >= 0 && static_cast<size_t>(partition) < impl.at_end.size())
      impl.at_end[static_cast<size_t>(partition)] = false;
    impl.message = message;
    Message out{std::string_view(static_cast<const char *>(message->payload), message->len),
                partition, message->offset, message->payload == nullptr, std::nullopt};
    if (message->key != nullptr)
      out.key = std::string_view(static_cast<const char *>(message->key), message->key_len);
    return out;
  }
}

absl::StatusOr<std::map<int32_t, int64_t>> KafkaSource::committed() {
  Impl &impl = *impl_;
  rd_kafka_topic_partition_list_t *partitions =
      rd_kafka_topic_partition_list_new(static_cast<int>(impl.at_end.size()));
  for (size_t p = 0; p < impl.at_end.size(); ++p)
    rd_kafka_topic_partition_list_add(partitions, impl.topic.c_str(), static_cast<int32_t>(p));
  rd_kafka_resp_err_t err = rd_kafka_committed(impl.consumer, partitions, 30000);
  std::map<int32_t, int64_t> offsets;
  for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < partitions->cnt; ++i)
    if (partitions->elems[i].offset >= 0)
      offsets[partitions->elems[i].partition] = partitions->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(partitions);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return absl::UnavailableError(absl::StrCat("cannot read the committed offsets of Kafka topic ",
                                               impl.topic, ": ", rd_kafka_err2str(err)));
  return offsets;
}

bool KafkaSource::atEnd() const {
  for (bool end : impl_->at_end)
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

absl::Status KafkaSink::produce(const std::string &topic_name, std::string_view value) {
  Impl &impl = *impl_;
  if (absl::Status status = begin(); !status.ok())
    return status;
  rd_kafka_topic_t *&topic = impl.topics[topic_name];
  if (topic == nullptr)
    topic = rd_kafka_topic_new(impl.producer, topic_name.c_str(), nullptr);
  for (;;) {
    if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                         const_cast<char *>(value.data()), value.size(), nullptr, 0, nullptr) == 0)
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

absl::Status KafkaSink::commitTick(KafkaSource *source, const std::map<int32_t, int64_t> &next) {
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
  if (source != nullptr && !next.empty()) {
    rd_kafka_topic_partition_list_t *offsets =
        rd_kafka_topic_partition_list_new(static_cast<int>(next.size()));
    for (const auto &[partition, offset] : next)
      rd_kafka_topic_partition_list_add(offsets, source->topic().c_str(), partition)->offset =
          offset;
    rd_kafka_consumer_group_metadata_t *group =
        rd_kafka_consumer_group_metadata(source->impl_->consumer);
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
