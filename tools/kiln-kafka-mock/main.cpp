// kiln-kafka-mock: a Kafka cluster for tests, on 127.0.0.1, from librdkafka's mock cluster
// (rdkafka_mock.h). No Kafka broker is packaged for Debian; this one speaks the real protocol to
// real clients (Kiln's programs through librdkafka, kcat), which is what the tests need.
//
//   kiln-kafka-mock [--brokers N] [--topic NAME[:PARTITIONS]]... [--bootstrap-file FILE]
//
// Prints the bootstrap servers ("127.0.0.1:PORT,...") on its first line of stdout (and into
// FILE, written atomically, for scripts that start it in the background), then serves until it
// gets SIGINT or SIGTERM. Topics listed are created with PARTITIONS partitions (default:
// --default-partitions, 1); the mock cluster creates others on first use.
//
//   kiln-kafka-mock --commit BROKERS GROUP TOPIC PARTITION OFFSET
//
// Commits OFFSET for TOPIC's PARTITION to consumer group GROUP on a running cluster, and exits:
// what a broker's group would hold after a transaction that committed it, which the mock cluster
// acknowledges without storing (tests then set it this way).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void onSignal(int) { g_stop = 1; }

int usage(const char *argv0, const char *error) {
  if (error != nullptr)
    std::fprintf(stderr, "%s: error: %s\n", argv0, error);
  std::fprintf(stderr,
               "usage: %s [--brokers N] [--topic NAME[:PARTITIONS]]... [--default-partitions N]\n"
               "          [--bootstrap-file FILE]\n",
               argv0);
  return error != nullptr ? 1 : 0;
}

bool set(rd_kafka_conf_t *conf, const char *name, const std::string &value) {
  char error[256];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) == RD_KAFKA_CONF_OK)
    return true;
  std::fprintf(stderr, "kiln-kafka-mock: error: %s=%s: %s\n", name, value.c_str(), error);
  return false;
}

// A client handle with `settings`; null after reporting an error.
rd_kafka_t *newClient(rd_kafka_type_t type,
                      const std::vector<std::pair<const char *, std::string>> &settings) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  for (const auto &[name, value] : settings)
    if (!set(conf, name, value)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  char error[512];
  rd_kafka_t *client = rd_kafka_new(type, conf, error, sizeof error);
  if (client == nullptr) {
    rd_kafka_conf_destroy(conf);
    std::fprintf(stderr, "kiln-kafka-mock: error: %s\n", error);
  }
  return client;
}

// --commit: see the top of the file.
int commitOffset(char **args) {
  rd_kafka_t *consumer = newClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", args[0]},
                                                       {"group.id", args[1]},
                                                       {"enable.auto.commit", "false"},
                                                       {"log_level", "3"}});
  if (consumer == nullptr)
    return 1;
  rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(offsets, args[2], std::atoi(args[3]))->offset =
      std::strtoll(args[4], nullptr, 10);
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer, offsets, 0);
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "kiln-kafka-mock: error: cannot commit the offset: %s\n",
                 rd_kafka_err2str(err));
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 7 && std::string_view(argv[1]) == "--commit")
    return commitOffset(argv + 2);
  int brokers = 1;
  int default_partitions = 1;
  std::vector<std::pair<std::string, int>> topics;
  std::string bootstrap_file;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h")
      return usage(argv[0], nullptr);
    if (i + 1 >= argc)
      return usage(argv[0], (std::string(arg) + " needs a value").c_str());
    std::string value = argv[++i];
    if (arg == "--brokers") {
      brokers = std::atoi(value.c_str());
      if (brokers < 1)
        return usage(argv[0], "--brokers takes a number of brokers, 1 or more");
    } else if (arg == "--default-partitions") {
      default_partitions = std::atoi(value.c_str());
      if (default_partitions < 1)
        return usage(argv[0], "--default-partitions takes a number, 1 or more");
    } else if (arg == "--topic") {
      size_t colon = value.find(':');
      int partitions =
          colon == std::string::npos ? default_partitions : std::atoi(value.c_str() + colon + 1);
      if (partitions < 1)
        return usage(argv[0], "--topic NAME:PARTITIONS takes a number of partitions, 1 or more");
      topics.emplace_back(value.substr(0, colon), partitions);
    } else if (arg == "--bootstrap-file") {
      bootstrap_file = value;
    } else {
      return usage(argv[0], ("unknown option " + std::string(arg)).c_str());
    }
  }

  // The mock cluster runs on the threads of a client handle that hosts it.
  rd_kafka_t *host = newClient(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
  if (host == nullptr)
    return 1;
  rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(host, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "kiln-kafka-mock: error: cannot start the mock cluster\n");
    return 1;
  }
  for (const auto &[name, partitions] : topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, std::min(brokers, 3));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "kiln-kafka-mock: error: cannot create topic %s: %s\n", name.c_str(),
                   rd_kafka_err2str(err));
      return 1;
    }
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
  std::printf("%s\n", bootstraps.c_str());
  std::fflush(stdout);
  if (!bootstrap_file.empty()) {
    std::string partial = bootstrap_file + ".partial";
    std::FILE *out = std::fopen(partial.c_str(), "w");
    if (out == nullptr || std::fprintf(out, "%s\n", bootstraps.c_str()) < 0 ||
        std::fclose(out) != 0 || std::rename(partial.c_str(), bootstrap_file.c_str()) != 0) {
      std::fprintf(stderr, "kiln-kafka-mock: error: cannot write %s: %s\n", bootstrap_file.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  while (!g_stop)
    ::usleep(100 * 1000);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}
