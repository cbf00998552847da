// Connector addresses, as `--source NAME=ADDRESS` / `--sink NAME=ADDRESS` give them and as a
// project's sources.yml and config() record them in the program (kiln_relation_desc.connector):
//
//   sources: FILE | - | file:PATH | kafka://BROKERS/TOPIC            [?format=json|debezium|upsert]
//            (debezium: [&transactions=TOPIC], the transaction topic)
//   sinks:   stdout | file:PATH | csv:PATH | kafka://BROKERS/TOPIC   [?format=...&key=COL,COL]
//
// A project's addresses may hold {{ env_var('NAME') }} or {{ env_var('NAME', 'default') }},
// expanded when the program starts, so that brokers and credentials stay out of the project and
// out of the executable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kiln/runtime/Host.h"

namespace kiln::runtime::detail {

struct SourceAddress {
  std::string input; // what the input reads: a path, "-" (stdin) or kafka://BROKERS/TOPIC
  std::optional<SourceFormat> format; // ?format=, if given
  // ?transactions=TOPIC: Debezium's transaction topic on the same brokers; each upstream
  // transaction becomes one tick (DebeziumTransactions.h).
  std::optional<std::string> transactions;
};
absl::StatusOr<SourceAddress> parseSourceAddress(std::string_view address);
absl::StatusOr<SinkTarget> parseSinkTarget(std::string_view address);

// `text` with every {{ env_var(...) }} replaced by the variable's value (or its default); an
// error names a variable that is not set and has no default.
absl::StatusOr<std::string> expandEnvVars(std::string_view text);

} // namespace kiln::runtime::detail
