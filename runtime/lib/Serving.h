// What the executable's HTTP endpoint answers (HttpServer.h carries the requests): /metrics in
// Prometheus' text format, and /views, /views/<model> for the program's `index` models (scans and
// point lookups by key, as JSON). Runs on the main loop's thread, between ticks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "HttpServer.h"
#include "kiln/runtime/Host.h"

namespace kiln::runtime::detail {

// A Kafka input partition's position, for the consumer-lag gauge.
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t lag = 0; // messages between the position and the partition's end
};

struct ServingContext {
  Host &host;
  // The Kafka inputs' lag now (empty without Kafka inputs).
  std::function<std::vector<PartitionLag>()> kafka_lag;
  // The PostgreSQL replication stream's lag in bytes of WAL (empty without one).
  std::function<int64_t()> replication_lag;
};

HttpServer::Response answer(const ServingContext &context, const HttpServer::Request &request);

// The metrics alone (also for tests).
std::string prometheusText(const ServingContext &context);

} // namespace kiln::runtime::detail
