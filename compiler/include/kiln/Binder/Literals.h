// Parsing and converting constant values at compile time, with PostgreSQL's rules.
#pragma once

#include "kiln/IR/IR.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kiln::binder {

// A number as written in SQL: integers become integer (or bigint when they do not fit in 32
// bits, numeric beyond that), anything with a point or exponent becomes numeric(p, s).
std::optional<std::pair<ir::Value, ir::Type>> parseNumberLiteral(std::string_view text,
                                                                 std::string &error);

// Text converted to a value of `type`, as PostgreSQL's input functions do ('2024-01-31'::date).
// A timestamptz without a zone in its text is a time in `time_zone`, the session's (empty: UTC).
std::optional<ir::Value> parseLiteral(std::string_view text, const ir::Type &type,
                                      std::string &error, std::string_view time_zone = {});

// PostgreSQL's interval input ('1 day 02:00:00', '3 mons', '@ 2 hours ago'; a bare number in
// the unit of the last of `fields`, as `interval '3' month` writes it, else in seconds), packed
// (kiln/runtime/interval.h).
std::optional<ir::Value> parseIntervalLiteral(std::string_view text, std::string_view fields,
                                              std::string &error);

// A constant cast between types (integers, numeric, double, text, date, timestamp, boolean).
// Between timestamptz and text, date or timestamp it is on the clock of `time_zone`, the
// session's (empty: UTC).
std::optional<ir::Value> castLiteral(const ir::Value &value, const ir::Type &from,
                                     const ir::Type &to, std::string &error,
                                     std::string_view time_zone = {});

} // namespace kiln::binder
