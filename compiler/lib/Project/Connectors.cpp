// Connector settings (sources.yml's config/meta, a sink model's config(), dbt_project.yml's
// `models:` configs) into the address the executable reads or writes (runtime/lib/Connector.h
// parses the same syntax from --source and --sink).
#include "Loader.h"

#include "kiln/Support/Spelling.h"

#include <algorithm>

namespace kiln::project {

namespace {

constexpr std::string_view kSettings[] = {
    "connector", "format", "topic",       "brokers", "path",        "key",
    "dsn",       "slot",   "publication", "table",   "append_only", "transaction_topic"};

// The first setting as written, for errors about the whole connector.
SourceRange firstRange(const ConnectorSettings &settings) {
  SourceRange first;
  for (const auto &[name, setting] : settings)
    if (!first.valid() || setting.key_range.begin.offset < first.begin.offset)
      first = setting.key_range;
  return first;
}

std::string join(const std::vector<std::string> &items, std::string_view separator) {
  std::string out;
  for (const std::string &item : items)
    out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

} // namespace

bool isConnectorSetting(std::string_view name) {
  return std::find(std::begin(kSettings), std::end(kSettings), name) != std::end(kSettings);
}

bool checkEnvVarTemplate(std::string_view value, SourceRange range, DiagnosticEngine &diags) {
  for (size_t open = value.find("{{"); open != std::string_view::npos;
       open = value.find("{{", open + 2)) {
    size_t close = value.find("}}", open);
    std::string_view call =
        value.substr(open + 2, close == std::string_view::npos ? close : close - open - 2);
    while (!call.empty() && call.front() == ' ')
      call.remove_prefix(1);
    while (!call.empty() && call.back() == ' ')
      call.remove_suffix(1);
    // env_var('NAME') or env_var('NAME', 'default'): quoted names, an optional quoted default.
    bool ok =
        close != std::string_view::npos && call.starts_with("env_var(") && call.ends_with(")");
    std::string_view rest = ok ? call.substr(8, call.size() - 9) : std::string_view();
    int arguments = 0;
    while (ok) {
      while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
      if (rest.empty() || (rest[0] != '\'' && rest[0] != '"')) {
        ok = false;
        break;
      }
      size_t end = rest.find(rest[0], 1);
      ok = end != std::string_view::npos;
      if (!ok)
        break;
      ++arguments;
      rest.remove_prefix(end + 1);
      while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
      if (rest.empty())
        break;
      ok = rest[0] == ',';
      rest.remove_prefix(1);
    }
    if (!ok || arguments < 1 || arguments > 2) {
      diags
          .error(range, "connector settings expand only {{ env_var('NAME') }} and "
                        "{{ env_var('NAME', 'default') }}")
          .hint = "the executable reads the environment variable when it starts";
      return false;
    }
  }
  return true;
}

std::optional<ConnectorConfig> buildConnector(const ConnectorSettings &settings,
                                              const ConnectorTarget &target,
                                              DiagnosticEngine &diags) {
  ConnectorConfig config;
  if (auto append_only = settings.find("append_only"); append_only != settings.end()) {
    // (A source table's, which readTable takes out first.)
    diags.error(append_only->second.key_range, "append_only is a setting of source tables").hint =
        "a sink's changes are what its model's are";
    return std::nullopt;
  }
  if (settings.empty())
    return config;
  bool ok = true;
  for (const auto &[name, setting] : settings)
    ok &= checkEnvVarTemplate(setting.value, setting.value_range, diags);
  auto get = [&](const std::string &name) -> const ConnectorSetting * {
    auto it = settings.find(name);
    return it == settings.end() ? nullptr : &it->second;
  };
  const std::string what = target.sink ? "sink " + target.name : "table " + target.name;
  const ConnectorSetting *connector = get("connector");
  if (connector == nullptr) {
    diags.error(firstRange(settings), "connector settings for " + what + " name no connector")
        .hint = target.sink ? "add connector='kafka' (or 'file', 'stdout') to its config()"
                            : "add connector: kafka (or file) to its config";
    return std::nullopt;
  }
  config.range = connector->value_range;
  const std::string &kind = connector->value;
  std::vector<std::string> kinds = target.sink
                                       ? std::vector<std::string>{"kafka", "file", "stdout"}
                                       : std::vector<std::string>{"kafka", "file", "postgres"};
  if (kind == "postgres" && target.sink) {
    diags.error(connector->value_range, "a sink cannot write to postgres yet").hint =
        "write it to Kafka (a JDBC sink connector can take it from there) or a file";
    return std::nullopt;
  }
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    Diagnostic &error = diags.error(connector->value_range, "unknown connector \"" + kind + "\"");
    auto suggestion = closestMatch(kind, kinds);
    error.hint = suggestion ? "did you mean \"" + *suggestion + "\"?"
                            : "connectors of " + std::string(target.sink ? "sinks" : "sources") +
                                  ": " + join(kinds, ", ");
    return std::nullopt;
  }

  // Settings that do not belong to this connector.
  auto allowed = [&](const std::string &name) {
    if (name == "connector" || name == "format")
      return true;
    if (name == "topic" || name == "brokers")
      return kind == "kafka";
    if (name == "transaction_topic")
      return kind == "kafka" && !target.sink;
    if (name == "path")
      return kind == "file";
    if (name == "dsn" || name == "slot" || name == "publication" || name == "table")
      return kind == "postgres";
    return name == "key" && target.sink && kind == "kafka";
  };
  for (const auto &[name, setting] : settings) {
    if (allowed(name))
      continue;
    Diagnostic &error = diags.error(setting.key_range, "a " + kind + " connector of " +
                                                           (target.sink ? "a sink" : "a source") +
                                                           " takes no \"" + name + "\"");
    if (name == "key" && !target.sink)
      error.hint = "a source's key is its primary_key";
    ok = false;
  }

  std::vector<std::string> formats =
      kind == "kafka"      ? std::vector<std::string>{"json", "debezium", "upsert"}
      : kind == "postgres" ? std::vector<std::string>{"pgoutput"}
      : target.sink        ? std::vector<std::string>{"json", "csv", "debezium"}
                           : std::vector<std::string>{"json", "debezium"};
  std::string format = kind == "postgres" ? "pgoutput" : "json";
  if (const ConnectorSetting *given = get("format")) {
    format = given->value;
    if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
      diags
          .error(given->value_range,
                 "a " + kind + " connector does not take format \"" + format + "\"")
          .hint = "its formats: " + join(formats, ", ");
      ok = false;
    } else if (format == "upsert" && !target.sink && !target.has_primary_key) {
      diags
          .error(given->value_range, "an upsert source needs a primary_key: messages are keyed "
                                     "by it")
          .hint = "declare primary_key: [...] on table " + target.name;
      ok = false;
    } else if (format == "upsert" && target.sink && get("key") == nullptr) {
      diags
          .error(given->value_range, "an upsert sink needs key columns: messages are keyed by "
                                     "them")
          .hint = "add key='id' (or key=['a', 'b']) to its config()";
      ok = false;
    }
  }

  if (const ConnectorSetting *transactions = get("transaction_topic");
      transactions != nullptr && format != "debezium" && allowed("transaction_topic")) {
    diags
        .error(transactions->key_range, "transaction_topic is Debezium's transaction topic: the "
                                        "table's format must be debezium")
        .hint = "add format: debezium";
    ok = false;
  }

  std::string address;
  if (kind == "kafka") {
    const ConnectorSetting *brokers = get("brokers");
    if (brokers == nullptr || brokers->value.empty()) {
      diags.error(connector->value_range, "a kafka connector needs brokers").hint =
          target.sink ? "e.g. brokers=env_var('KAFKA_BROKERS', 'localhost:9092')"
                      : "e.g. brokers: \"{{ env_var('KAFKA_BROKERS', 'localhost:9092') }}\"";
      return std::nullopt;
    }
    const ConnectorSetting *topic = get("topic");
    address = "kafka://" + brokers->value + "/" + (topic ? topic->value : target.default_topic);
  } else if (kind == "file") {
    const ConnectorSetting *path = get("path");
    if (path == nullptr || path->value.empty()) {
      diags.error(connector->value_range, "a file connector needs a path").hint =
          target.sink ? "e.g. path='out/" + target.name + ".jsonl'"
                      : "e.g. path: data/orders.jsonl";
      return std::nullopt;
    }
    address = "file:" + path->value;
  } else if (kind == "postgres") {
    const ConnectorSetting *dsn = get("dsn");
    if (dsn == nullptr || dsn->value.empty()) {
      diags.error(connector->value_range, "a postgres connector needs a dsn").hint =
          "e.g. dsn: \"{{ env_var('PG_URL', 'postgres://localhost/shop') }}\"";
      return std::nullopt;
    }
    if (!dsn->value.starts_with("postgres://") && !dsn->value.starts_with("postgresql://") &&
        !dsn->value.starts_with("{{")) {
      diags.error(dsn->value_range, "a dsn is a URI: postgres://USER@HOST:PORT/DATABASE");
      return std::nullopt;
    }
    std::vector<std::string> params;
    for (const char *name : {"publication", "slot"})
      if (const ConnectorSetting *setting = get(name))
        params.push_back(std::string(name) + "=" + setting->value);
    const ConnectorSetting *table = get("table");
    params.push_back("table=" + (table ? table->value : target.default_topic));
    address =
        dsn->value + (dsn->value.find('?') == std::string::npos ? "?" : "&") + join(params, "&");
  } else {
    address = "stdout";
  }
  std::vector<std::string> query;
  if (format != "json" && format != "pgoutput")
    query.push_back("format=" + format);
  if (const ConnectorSetting *transactions = get("transaction_topic");
      transactions != nullptr && allowed("transaction_topic"))
    query.push_back("transactions=" + transactions->value);
  if (const ConnectorSetting *key = get("key"); key != nullptr && allowed("key")) {
    config.key = key->key;
    config.key_range = key->value_range;
    query.push_back("key=" + join(key->key, ","));
  }
  if (!query.empty())
    address += "?" + join(query, "&");
  if (!ok)
    return std::nullopt;
  config.address = std::move(address);
  return config;
}

void readConnectorSetting(YamlFile &yaml, const YAML::Node &key, const YAML::Node &value,
                          ConnectorSettings &into) {
  std::string name = key.Scalar();
  if (!name.empty() && name[0] == '+')
    name.erase(0, 1);
  ConnectorSetting setting;
  setting.key_range = yaml.range(key);
  setting.value_range = yaml.range(value);
  if (name == "key" && value.IsSequence()) {
    for (const YAML::Node &item : value) {
      if (!item.IsScalar()) {
        yaml.diags().error(yaml.range(item), "key columns must be names");
        return;
      }
      setting.key.push_back(item.Scalar());
    }
  } else if (value.IsScalar()) {
    setting.value = value.Scalar();
    if (name == "key")
      setting.key.push_back(setting.value);
  } else {
    yaml.diags().error(yaml.range(value),
                       "\"" + name + "\" takes " +
                           (name == "key" ? "a column or a list of columns" : "a string"));
    return;
  }
  if (name == "key")
    setting.value = join(setting.key, ",");
  into[name] = std::move(setting);
}

void readConnectorSettings(YamlFile &yaml, const YAML::Node &map, bool warn_unknown,
                           ConnectorSettings &into) {
  if (map.IsNull() || !yaml.expectMap(map, "a config", yaml.range(map)))
    return;
  // dbt's own configs of sources and tables: accepted, not used.
  static const std::vector<std::string> kDbtKeys = {
      "enabled", "event_time", "meta", "freshness", "tags", "loaded_at_field", "loaded_at_query"};
  for (const auto &entry : map) {
    const YAML::Node &key = entry.first;
    if (!key.IsScalar())
      continue;
    if (isConnectorSetting(key.Scalar())) {
      readConnectorSetting(yaml, key, entry.second, into);
    } else if (warn_unknown &&
               std::find(kDbtKeys.begin(), kDbtKeys.end(), key.Scalar()) == kDbtKeys.end()) {
      Diagnostic &warning = yaml.diags().warning(
          yaml.range(key), "unknown config \"" + key.Scalar() + "\"; it is ignored");
      std::vector<std::string> known(std::begin(kSettings), std::end(kSettings));
      known.insert(known.end(), kDbtKeys.begin(), kDbtKeys.end());
      if (auto suggestion = closestMatch(key.Scalar(), known))
        warning.hint = "did you mean \"" + *suggestion + "\"?";
    }
  }
}

} // namespace kiln::project
