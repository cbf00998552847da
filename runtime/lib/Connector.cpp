#include "Connector.h"

#include <cstdlib>
#include <vector>

#include "Kafka.h"
#include "Strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kiln::runtime::detail {

namespace {

// An address's settings after `?`: format=..., key=a,b. Only a query of such settings is one:
// a file name may hold a `?` of its own.
struct Query {
  std::optional<std::string> format;
  std::vector<std::string> key;
  std::optional<std::string> transactions; // a Debezium source's transaction topic
};

std::optional<Query> parseQuery(std::string_view text) {
  Query query;
  for (absl::string_view setting : absl::StrSplit(toAbsl(text), '&')) {
    if (absl::ConsumePrefix(&setting, "format=") && !setting.empty()) {
      query.format = std::string(setting);
    } else if (absl::ConsumePrefix(&setting, "transactions=") && !setting.empty()) {
      query.transactions = std::string(setting);
    } else if (absl::ConsumePrefix(&setting, "key=") && !setting.empty()) {
      for (absl::string_view column : absl::StrSplit(setting, ','))
        query.key.emplace_back(column);
    } else {
      return std::nullopt;
    }
  }
  return query;
}

// Splits `address` into its part before a settings query and the query.
std::pair<std::string_view, Query> splitQuery(std::string_view address) {
  size_t mark = address.rfind('?');
  if (mark != std::string_view::npos)
    if (std::optional<Query> query = parseQuery(address.substr(mark + 1)))
      return {address.substr(0, mark), *query};
  return {address, Query{}};
}

} // namespace

absl::StatusOr<SourceAddress> parseSourceAddress(std::string_view address) {
  auto [base, query] = splitQuery(address);
  SourceAddress source;
  if (base.starts_with("file:"))
    base.remove_prefix(5);
  source.input = std::string(base);
  if (source.input.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        "a source is FILE, file:PATH, - or kafka://BROKERS/TOPIC, not \"", toAbsl(address), "\""));
  if (absl::StatusOr<std::optional<KafkaAddress>> kafka = parseKafkaAddress(source.input);
      !kafka.ok())
    return kafka.status();
  if (!query.key.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("key= is for sinks; a source's key is its primary_key in sources.yml, in ",
                     toAbsl(address)));
  if (query.transactions) {
    if (!source.input.starts_with("kafka://") || (query.format && *query.format != "debezium"))
      return absl::InvalidArgumentError(absl::StrCat(
          "transactions= names the Debezium transaction topic of a Kafka source of format "
          "debezium (kafka://BROKERS/TOPIC?format=debezium&transactions=PREFIX.transaction), in ",
          toAbsl(address)));
    source.transactions = query.transactions;
  }
  if (query.format) {
    if (*query.format == "json")
      source.format = SourceFormat::Json;
    else if (*query.format == "debezium")
      source.format = SourceFormat::Debezium;
    else if (*query.format == "upsert")
      source.format = SourceFormat::Upsert;
    else
      return absl::InvalidArgumentError(absl::StrCat("a source's format is json, debezium or ",
                                                     "upsert, not ", *query.format, " in ",
                                                     toAbsl(address)));
  }
  return source;
}

absl::StatusOr<SinkTarget> parseSinkTarget(std::string_view address) {
  auto [base, query] = splitQuery(address);
  SinkTarget target;
  auto malformed = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("a sink is file:PATH, csv:PATH, kafka://BROKERS/TOPIC, stdout or none, not \"",
                     toAbsl(address), "\""));
  };
  absl::StatusOr<std::optional<KafkaAddress>> kafka = parseKafkaAddress(base);
  if (!kafka.ok())
    return kafka.status();
  if (kafka->has_value()) {
    target.kind = SinkTarget::Kind::Kafka;
    target.brokers = (*kafka)->brokers;
    target.topic = (*kafka)->topic;
  } else if (base == "stdout" || base == "-") {
    target.kind = SinkTarget::Kind::Stdout;
  } else if (base == "none" || base == "test:error" || base == "test:warn") {
    // A data test's own connector: its failing rows are counted, not written.
    target.kind = SinkTarget::Kind::None;
  } else if (base.starts_with("file:") && base.size() > 5) {
    target.kind = SinkTarget::Kind::File;
    target.path = std::string(base.substr(5));
  } else if (base.starts_with("csv:") && base.size() > 4) {
    target.kind = SinkTarget::Kind::File;
    target.path = std::string(base.substr(4));
    target.format = SinkTarget::Format::Csv;
  } else {
    return malformed();
  }
  if (query.format) {
    if (*query.format == "json")
      target.format = SinkTarget::Format::Json;
    else if (*query.format == "csv")
      target.format = SinkTarget::Format::Csv;
    else if (*query.format == "debezium")
      target.format = SinkTarget::Format::Debezium;
    else if (*query.format == "upsert")
      target.format = SinkTarget::Format::Upsert;
    else
      return absl::InvalidArgumentError(absl::StrCat("a sink's format is json, csv, debezium or ",
                                                     "upsert, not ", *query.format, " in ",
                                                     toAbsl(address)));
  }
  if (query.transactions)
    return absl::InvalidArgumentError(absl::StrCat(
        "transactions= is a setting of Debezium sources, not of sinks, in ", toAbsl(address)));
  target.key = query.key;
  return target;
}

absl::StatusOr<std::string> expandEnvVars(std::string_view text) {
  std::string out;
  for (;;) {
    size_t open = text.find("{{");
    if (open == std::string_view::npos)
      break;
    out.append(text.substr(0, open));
    size_t close = text.find("}}", open);
    if (close == std::string_view::npos)
      return absl::InvalidArgumentError(absl::StrCat("unterminated {{ in ", toAbsl(text)));
    // {{ env_var('NAME') }} or {{ env_var('NAME', 'default') }}, quoted with ' or ".
    std::string_view call = stripWhitespace(text.substr(open + 2, close - open - 2));
    std::vector<std::string> arguments;
    bool well_formed = call.starts_with("env_var(") && call.ends_with(")");
    std::string_view rest = well_formed ? call.substr(8, call.size() - 9) : std::string_view();
    while (well_formed) {
      rest = stripWhitespace(rest);
      if (rest.empty() || (rest[0] != '\'' && rest[0] != '"')) {
        well_formed = false;
        break;
      }
      size_t end = rest.find(rest[0], 1);
      if (end == std::string_view::npos) {
        well_formed = false;
        break;
      }
      arguments.emplace_back(rest.substr(1, end - 1));
      rest = stripWhitespace(rest.substr(end + 1));
      if (rest.empty())
        break;
      if (rest[0] != ',') {
        well_formed = false;
        break;
      }
      rest.remove_prefix(1);
    }
    if (!well_formed || arguments.empty() || arguments.size() > 2)
      return absl::InvalidArgumentError(absl::StrCat(
          "expected {{ env_var('NAME') }} or {{ env_var('NAME', 'default') }}, not {{ ",
          toAbsl(call), " }}"));
    if (const char *value = std::getenv(arguments[0].c_str()))
      out += value;
    else if (arguments.size() == 2)
      out += arguments[1];
    else
      return absl::NotFoundError(absl::StrCat("environment variable ", arguments[0],
                                              " is not set, and its env_var() has no default"));
    text.remove_prefix(close + 2);
  }
  out.append(text);
  return out;
}

} // namespace kiln::runtime::detail
