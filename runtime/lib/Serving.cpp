#include "Serving.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kiln/runtime/State.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime::detail {

namespace {

// A label value in Prometheus' text format: backslash, quote and newline escaped.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

class MetricsText {
public:
  // Starts a metric family: its help and type lines.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    absl::StrAppend(&text_, "# HELP ", absl::string_view(name.data(), name.size()), " ",
                    absl::string_view(help.data(), help.size()), "\n# TYPE ",
                    absl::string_view(name.data(), name.size()), " ",
                    absl::string_view(type.data(), type.size()), "\n");
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    text_.append(name);
    if (!labels.empty())
      absl::StrAppend(&text_, "{", absl::string_view(labels.data(), labels.size()), "}");
    absl::StrAppend(&text_, " ", absl::StrFormat("%.17g", value), "\n");
  }
  std::string take() { return std::move(text_); }

private:
  std::string text_;
};

HttpServer::Response json(int status, std::string body) {
  return {status, "application/json", std::move(body) + "\n"};
}

HttpServer::Response error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  appendJsonString(body, message);
  body += "}";
  return json(status, std::move(body));
}

// The index models and their key columns.
HttpServer::Response listViews(const kiln_program &program) {
  std::string body = "{\"views\":[";
  for (int32_t i = 0; i < program.nindexes; ++i) {
    const kiln_relation_desc &rel = program.indexes[i];
    body += i ? ",{\"name\":" : "{\"name\":";
    appendJsonString(body, rel.name);
    body += ",\"key\":[";
    for (int32_t k = 0; k < rel.nkeys; ++k) {
      if (k)
        body += ",";
      appendJsonString(body, rel.cols[rel.key_cols[k]].name);
    }
    body += "]}";
  }
  return json(200, body + "]}");
}

// GET /views/<model>: every row; with the key columns as query parameters, the rows of that key.
HttpServer::Response view(Host &host, std::string_view name,
                          const std::multimap<std::string, std::string> &params) {
  const kiln_program &program = host.program();
  int32_t index = 0;
  while (index < program.nindexes && name != program.indexes[index].name)
    ++index;
  if (index == program.nindexes)
    return error(404, absl::StrCat("no index model \"", absl::string_view(name.data(), name.size()),
                                   "\" (GET /views lists them)"));
  const kiln_relation_desc &rel = program.indexes[index];
  RowJsonFormatter formatter(rel);
  std::string rows;
  int64_t count = 0;
  auto visit = [&](const void *row, int64_t weight) {
    for (int64_t n = 0; n < weight; ++n) {
      rows += count++ ? "," : "";
      formatter.appendTo(rows, row);
    }
  };
  absl::StatusOr<int64_t> visited = 0;
  if (params.empty()) {
    visited = host.engine().scan(index, visit);
  } else {
    // The key as a JSON object of its columns; values are text (PostgreSQL's input forms),
    // except true, false and null.
    std::vector<std::string> key_names;
    for (int32_t k = 0; k < rel.nkeys; ++k)
      key_names.emplace_back(rel.cols[rel.key_cols[k]].name);
    for (const auto &[param, value] : params)
      if (std::find(key_names.begin(), key_names.end(), param) == key_names.end())
        return error(400, absl::StrCat("\"", param, "\" is not a key column of ", rel.name,
                                       " (its key: ", absl::StrJoin(key_names, ", "), ")"));
    std::string key = "{";
    for (const std::string &column : key_names) {
      auto [first, last] = params.equal_range(column);
      if (first == last || std::next(first) != last)
        return error(400, absl::StrCat("a lookup in ", rel.name, " gives each key column once: ",
                                       absl::StrJoin(key_names, ", ")));
      if (key.size() > 1)
        key += ",";
      appendJsonString(key, column);
      key += ":";
      const std::string &value = first->second;
      if (value == "true" || value == "false" || value == "null")
        key += value;
      else
        appendJsonString(key, value);
    }
    key += "}";
    Arena memory; // the key row and its strings, for this request only
    absl::StatusOr<const void *> row = host.decodeIndexKey(index, key, memory);
    if (!row.ok())
      return error(400, std::string(row.status().message()));
    visited = host.engine().lookup(index, *row, visit);
  }
  if (!visited.ok())
    return error(503, std::string(visited.status().message()));
  std::string body = "{\"view\":";
  appendJsonString(body, rel.name);
  return json(200, absl::StrCat(body, ",\"rows\":[", rows, "]}"));
}

} // namespace

std::string prometheusText(const ServingContext &context) {
  const Host &host = context.host;
  const kiln_program &program = host.program();
  const HostStats &stats = host.stats();
  const HostMetrics &metrics = host.metrics();
  MetricsText out;
  auto counter = [&](const char *name, const char *help, double value) {
    out.family(name, "counter", help);
    out.sample(name, "", value);
  };
  counter("kiln_records_read_total", "Input records read (commit records and bad ones included).",
          static_cast<double>(stats.records_read));
  counter("kiln_bad_records_total", "Input records rejected (skipped or dead-lettered).",
          static_cast<double>(stats.bad_records));
  counter("kiln_runtime_errors_total", "Records left out of their tick by a SQL runtime error.",
          static_cast<double>(stats.runtime_errors));
  counter("kiln_ticks_total", "Ticks committed.", static_cast<double>(stats.ticks));
  counter("kiln_changes_out_total", "Changes the sinks emitted.",
          static_cast<double>(stats.changes_out));

  out.family("kiln_source_records_total", "counter", "Records applied per source table.");
  for (int32_t s = 0; s < program.nsources; ++s)
    out.sample("kiln_source_records_total",
               absl::StrCat("source=\"", label(program.sources[s].name), "\""),
               static_cast<double>(metrics.source_records[static_cast<size_t>(s)]));
  out.family("kiln_sink_changes_total", "counter", "Changes emitted per sink.");
  for (int32_t s = 0; s < program.nsinks; ++s)
    out.sample("kiln_sink_changes_total",
               absl::StrCat("sink=\"", label(program.sinks[s].name), "\""),
               static_cast<double>(metrics.sink_changes[static_cast<size_t>(s)]));

  // Every tick brings every sink up to date with the input read so far: a sink's freshness is
  // the time since the last tick; its last change tells when its contents last moved.
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  out.family("kiln_last_tick_timestamp_seconds", "gauge",
             "When the last tick ended (Unix time; 0 before the first).");
  out.sample("kiln_last_tick_timestamp_seconds", "", metrics.last_tick);
  out.family("kiln_sink_freshness_seconds", "gauge",
             "Seconds since each sink was last brought up to date (the last tick).");
  for (int32_t s = 0; s < program.nsinks && metrics.last_tick > 0; ++s)
    out.sample("kiln_sink_freshness_seconds",
               absl::StrCat("sink=\"", label(program.sinks[s].name), "\""),
               now - metrics.last_tick);
  out.family("kiln_sink_last_change_timestamp_seconds", "gauge",
             "When a tick last changed each sink (Unix time; 0 if none has).");
  for (int32_t s = 0; s < program.nsinks; ++s)
    out.sample("kiln_sink_last_change_timestamp_seconds",
               absl::StrCat("sink=\"", label(program.sinks[s].name), "\""),
               metrics.sink_last_change[static_cast<size_t>(s)]);

  out.family("kiln_tick_duration_seconds", "histogram",
             "Time to commit a tick and write its output.");
  int64_t cumulative = 0;
  for (size_t b = 0; b < std::size(HostMetrics::kTickBounds); ++b) {
    cumulative += metrics.tick_buckets[b];
    out.sample("kiln_tick_duration_seconds_bucket",
               absl::StrFormat("le=\"%g\"", HostMetrics::kTickBounds[b]),
               static_cast<double>(cumulative));
  }
  cumulative += metrics.tick_buckets.back();
  out.sample("kiln_tick_duration_seconds_bucket", "le=\"+Inf\"", static_cast<double>(cumulative));
  out.sample("kiln_tick_duration_seconds_sum", "", metrics.tick_seconds);
  out.sample("kiln_tick_duration_seconds_count", "", static_cast<double>(cumulative));

  if (context.kafka_lag) {
    out.family("kiln_kafka_consumer_lag", "gauge",
               "Messages between each Kafka input partition's position and its end.");
    for (const PartitionLag &lag : context.kafka_lag())
      out.sample("kiln_kafka_consumer_lag",
                 absl::StrCat("topic=\"", label(lag.topic), "\",partition=\"", lag.partition, "\""),
                 static_cast<double>(lag.lag));
  }

  if (context.replication_lag) {
    out.family("kiln_postgres_replication_lag_bytes", "gauge",
               "Bytes of WAL between the last upstream transaction applied and the server's "
               "position as it last reported it.");
    out.sample("kiln_postgres_replication_lag_bytes", "",
               static_cast<double>(context.replication_lag()));
  }

  StateStats state = host.stateStats();
  out.family("kiln_state_entries", "gauge", "Entries of each operator's lasting state.");
  auto operatorLabels = [](const OperatorStats &op) {
    return absl::StrCat("operator=\"", label(op.op), "\",kind=\"", label(op.kind), "\",model=\"",
                        label(op.model), "\"");
  };
  for (const OperatorStats &op : state.operators)
    out.sample("kiln_state_entries", operatorLabels(op), static_cast<double>(op.entries));
  out.family("kiln_state_bytes", "gauge", "Bytes of each operator's lasting state.");
  for (const OperatorStats &op : state.operators)
    out.sample("kiln_state_bytes", operatorLabels(op), static_cast<double>(op.bytes));
  out.family("kiln_state_total_bytes", "gauge",
             "Bytes of all state, interned and kept strings included.");
  out.sample("kiln_state_total_bytes", "", static_cast<double>(state.total_bytes));
  return out.take();
}

HttpServer::Response answer(const ServingContext &context, const HttpServer::Request &request) {
  if (request.path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", prometheusText(context)};
  if (request.path == "/views" || request.path == "/views/")
    return listViews(context.host.program());
  constexpr std::string_view kViews = "/views/";
  if (request.path.starts_with(kViews))
    return view(context.host, std::string_view(request.path).substr(kViews.size()), request.params);
  return error(404, "not found: GET /metrics, /healthz, /views or /views/<model>");
}

} // namespace kiln::runtime::detail
