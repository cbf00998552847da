#include "kiln/Binder/Literals.h"

#include "kiln/IR/TimeZone.h"
#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

namespace kiln::binder {

using ir::Type;
using ir::TypeKind;
using ir::Value;

namespace {

__int128 pow10(int n) {
  __int128 r = 1;
  while (n-- > 0)
    r *= 10;
  return r;
}

__int128 maxForPrecision(int precision) { return pow10(precision) - 1; }

// Parses a decimal number (optional sign, digits, point, exponent) into digits and a scale.
// Rounds half away from zero to `scale` digits; fails on more than 38 significant digits.
bool parseDecimal(std::string_view text, int scale, __int128 &out) {
  size_t i = 0;
  bool negative = false;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-'))
    negative = text[i++] == '-';
  std::string digits;
  int point = -1;
  bool any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c)))
      digits += c, any = true;
    else if (c == '.' && point < 0)
      point = static_cast<int>(digits.size());
    else
      break;
  }
  if (!any)
    return false;
  int exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
      exp_negative = text[i++] == '-';
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
      exponent = std::min(exponent * 10 + (text[i++] - '0'), 10000);
    if (i == start)
      return false;
    if (exp_negative)
      exponent = -exponent;
  }
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
  if (i != text.size())
    return false;
  // value = digits * 10^(exponent - fraction_digits)
  int fraction_digits = point < 0 ? 0 : static_cast<int>(digits.size()) - point;
  int shift = scale + exponent - fraction_digits; // multiply digits by 10^shift
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    out = 0;
    return true;
  }
  digits = digits.substr(first);
  bool round_up = false;
  if (shift < 0) {
    int drop = -shift;
    if (drop > static_cast<int>(digits.size())) {
      digits = "0";
    } else {
      round_up = digits[digits.size() - drop] >= '5';
      digits = digits.substr(0, digits.size() - drop);
      if (digits.empty())
        digits = "0";
    }
    shift = 0;
  }
  if (static_cast<int>(digits.size()) + shift > 38)
    return false;
  __int128 value = 0;
  for (char c : digits)
    value = value * 10 + (c - '0');
  value *= pow10(shift);
  if (round_up)
    value += 1;
  out = negative ? -value : value;
  return true;
}

bool parseInteger(std::string_view text, int64_t &out) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// A date's or a timestamp's text (kiln_parse_datetime, civil.h: the runtime reads it the same),
// as days since 2000-01-01 or microseconds; else the failure, as KILN_DATETIME_*.
int parseDateTime(std::string_view text, bool timestamp, int64_t &value) {
  int64_t days = 0, time = 0;
  int status =
      kiln_parse_datetime(text.data(), static_cast<int64_t>(text.size()),
                          timestamp ? KILN_TIMESTAMP_END_YEAR : KILN_DATE_END_YEAR, &days, &time);
  if (status == 0)
    value = timestamp ? days * KILN_MICROS_PER_DAY + time : days;
  return status;
}

std::string formatNumeric(__int128 value, int scale) {
  bool negative = value < 0;
  unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(value) : value;
  std::string digits;
  do {
    digits += static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude);
  while (static_cast<int>(digits.size()) <= scale)
    digits += '0';
  std::reverse(digits.begin(), digits.end());
  if (scale > 0)
    digits.insert(digits.size() - scale, ".");
  return (negative ? "-" : "") + digits;
}

// The value at another scale (rounded half away from zero); nullopt if it does not fit 128 bits
// (found by fuzz_model: a constant cast to a numeric of a large scale overflowed).
std::optional<__int128> rescale(__int128 value, int from, int to) {
  if (to >= from) {
    __int128 scaled;
    if (__builtin_mul_overflow(value, pow10(to - from), &scaled))
      return std::nullopt;
    return scaled;
  }
  __int128 divisor = pow10(from - to);
  __int128 q = value / divisor, r = value % divisor;
  if ((r < 0 ? -r : r) * 2 >= divisor)
    q += value < 0 ? -1 : 1;
  return q;
}

} // namespace

std::optional<std::pair<Value, Type>> parseNumberLiteral(std::string_view text,
                                                         std::string &error) {
  Value v;
  v.is_null = false;
  int64_t integer = 0;
  if (text.find_first_of(".eE") == std::string_view::npos && parseInteger(text, integer)) {
    v.i = integer;
    bool fits32 = integer >= INT32_MIN && integer <= INT32_MAX;
    return std::make_pair(v, fits32 ? Type::int32() : Type::int64());
  }
  // Scale: digits after the point, adjusted by the exponent.
  int scale = 0;
  size_t point = text.find('.');
  size_t exp = text.find_first_of("eE");
  if (point != std::string_view::npos)
    scale = static_cast<int>((exp == std::string_view::npos ? text.size() : exp) - point - 1);
  if (exp != std::string_view::npos) {
    int e = 0;
    std::from_chars(text.data() + exp + 1 + (text[exp + 1] == '+'), text.data() + text.size(), e);
    scale = std::max(0, scale - e);
  }
  scale = std::min(scale, 37);
  if (!parseDecimal(text, scale, v.n)) {
    error = "numeric constant " + std::string(text) + " does not fit Kiln's 38-digit NUMERIC";
    return std::nullopt;
  }
  return std::make_pair(v, Type::numeric(ir::kMaxNumericPrecision, scale));
}

namespace {
// A boolean as its type writes it in an array (boolout: t or f), not as a cast to text writes it.
Value boolText(bool b) {
  Value v;
  v.is_null = false;
  v.s = b ? "t" : "f";
  return v;
}
} // namespace

std::optional<Value> parseLiteral(std::string_view text, const Type &type, std::string &error,
                                  std::string_view time_zone) {
  Value v;
  v.is_null = false;
  auto invalid = [&]() -> std::optional<Value> {
    error = "invalid input syntax for type " + type.sqlName() + ": \"" + std::string(text) + "\"";
    return std::nullopt;
  };
  switch (type.kind) {
  case TypeKind::Bool: {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == "t" || lower == "true" || lower == "yes" || lower == "on" || lower == "1")
      v.b = true;
    else if (lower == "f" || lower == "false" || lower == "no" || lower == "off" || lower == "0")
      v.b = false;
    else
      return invalid();
    return v;
  }
  case TypeKind::Int32:
  case TypeKind::Int64:
    if (!parseInteger(text, v.i))
      return invalid();
    if ((type.isSmallint() && (v.i < INT16_MIN || v.i > INT16_MAX)) ||
        (type.kind == TypeKind::Int32 && (v.i < INT32_MIN || v.i > INT32_MAX))) {
      error = "value \"" + std::string(text) + "\" is out of range for type " + type.sqlName();
      return std::nullopt;
    }
    return v;
  case TypeKind::Float64: {
    std::string s(text);
    char *end = nullptr;
    if (type.isReal()) { // the text rounded once to a float; beyond its range an error
      float f = std::strtof(s.c_str(), &end);
      if (s.empty() || *end)
        return invalid();
      if (std::isinf(f) != std::isinf(std::strtod(s.c_str(), nullptr)) ||
          (f == 0.0f && std::strtod(s.c_str(), nullptr) != 0.0)) {
        error = "\"" + s + "\" is out of range for type real";
        return std::nullopt;
      }
      v.f = f;
      return v;
    }
    v.f = std::strtod(s.c_str(), &end);
    if (s.empty() || *end)
      return invalid();
    return v;
  }
  case TypeKind::Numeric:
    if (!parseDecimal(text, type.scale, v.n))
      return invalid();
    if ((v.n < 0 ? -v.n : v.n) > maxForPrecision(type.precision)) {
      error = "numeric field overflow";
      return std::nullopt;
    }
    return v;
  case TypeKind::Text:
    v.s = std::string(text);
    return v;
  case TypeKind::Date:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz: { // in the zone the text names, else in the session's
    int64_t offset = 0, len = static_cast<int64_t>(text.size());
    bool zoned = false;
    if (type.kind == TypeKind::TimestampTz) {
      len = kiln_split_zone(text.data(), len, &offset);
      zoned = len != static_cast<int64_t>(text.size());
    }
    int status = len < 0 ? KILN_DATETIME_SYNTAX
                         : parseDateTime(text.substr(0, static_cast<size_t>(len)),
                                         type.kind != TypeKind::Date, v.i);
    if (status == KILN_DATETIME_SYNTAX)
      return invalid();
    if (status != 0) {
      error = status == KILN_DATETIME_FIELD_RANGE
                  ? "date/time field value out of range: \"" + std::string(text) + "\""
                  : std::string(type.kind == TypeKind::Date ? "date" : "timestamp") +
                        " out of range: \"" + std::string(text) + "\"";
      return std::nullopt;
    }
    v.i -= offset * 1000000;
    if (type.kind == TypeKind::TimestampTz && !zoned)
      v.i = ir::instantOfLocal(ir::timeZone(time_zone, nullptr), v.i);
    return v;
  }
  case TypeKind::Interval:
    return parseIntervalLiteral(text, "", error);
  case TypeKind::Jsonb: { // in canonical form, as the runtime would put it
    absl::StatusOr<std::string> canonical = jsonb::normalize(text);
    if (!canonical.ok()) {
      error = std::string(canonical.status().message());
      return std::nullopt;
    }
    v.s = std::move(*canonical);
    return v;
  }
  case TypeKind::Array: { // in canonical form, each element read and written as its type
    std::string detail;
    std::optional<array_text::Elements> elements = array_text::parse(text, detail);
    if (!elements) {
      error = "malformed array literal: \"" + std::string(text) + "\": " + detail;
      return std::nullopt;
    }
    Type element_type = type.elementType();
    v.s = "{";
    for (const std::optional<std::string> &element : *elements) {
      if (v.s.size() > 1)
        v.s += ',';
      if (!element) {
        v.s += array_text::kNull;
        continue;
      }
      std::optional<Value> value = parseLiteral(*element, element_type, error, time_zone);
      if (!value)
        return std::nullopt;
      // An element's text output; a type whose output only the runtime writes (a float, a date)
      // leaves the whole constant to run time: no error.
      std::string ignored;
      std::optional<Value> out =
          element_type.kind == TypeKind::Bool
              ? std::optional<Value>(boolText(value->b))
              : castLiteral(*value, element_type, Type::text(), ignored, time_zone);
      if (!out) {
        error.clear();
        return std::nullopt;
      }
      array_text::appendElement(v.s, out->s);
    }
    v.s += '}';
    return v;
  }
  case TypeKind::Null:
    break;
  }
  return invalid();
}

std::optional<Value> castLiteral(const Value &value, const Type &from, const Type &to,
                                 std::string &error, std::string_view time_zone) {
  if (value.is_null)
    return value;
  if (from == to)
    return value;
  if (from.kind == TypeKind::Text)
    return parseLiteral(value.s, to, error, time_zone);
  Value v;
  v.is_null = false;
  auto outOfRange = [&]() -> std::optional<Value> {
    error = to.isSmallint()              ? "smallint out of range"
            : to.kind == TypeKind::Int32 ? "integer out of range"
                                         : "bigint out of range";
    return std::nullopt;
  };
  switch (to.kind) {
  case TypeKind::Int32:
  case TypeKind::Int64: {
    int64_t lo = to.isSmallint() ? INT16_MIN : to.kind == TypeKind::Int32 ? INT32_MIN : INT64_MIN;
    int64_t hi = to.isSmallint() ? INT16_MAX : to.kind == TypeKind::Int32 ? INT32_MAX : INT64_MAX;
    if (from.isInteger())
      v.i = value.i;
    else if (from.kind == TypeKind::Numeric) {
      __int128 r = *rescale(value.n, from.scale, 0); // scaling down cannot overflow
      if (r < lo || r > hi)
        return outOfRange();
      v.i = static_cast<int64_t>(r);
    } else if (from.kind == TypeKind::Float64) {
      double r = std::nearbyint(value.f);
      if (!(r >= static_cast<double>(lo) && r < -static_cast<double>(lo)))
        return outOfRange();
      v.i = static_cast<int64_t>(r);
    } else if (from.kind == TypeKind::Bool)
      v.i = value.b;
    else
      break;
    if (v.i < lo || v.i > hi)
      return outOfRange();
    return v;
  }
  case TypeKind::Numeric: {
    std::optional<__int128> scaled;
    if (from.isInteger())
      scaled = rescale(value.i, 0, to.scale);
    else if (from.kind == TypeKind::Numeric)
      scaled = rescale(value.n, from.scale, to.scale);
    if (from.isInteger() || from.kind == TypeKind::Numeric) {
      if (!scaled) {
        error = "numeric field overflow";
        return std::nullopt;
      }
      v.n = *scaled;
    } else if (from.kind == TypeKind::Float64) {
      char buffer[64];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.f);
      if (!parseDecimal(std::string_view(buffer, end - buffer), to.scale, v.n)) {
        error = "numeric field overflow";
        return std::nullopt;
      }
    } else
      break;
    if ((v.n < 0 ? -v.n : v.n) > maxForPrecision(to.precision)) {
      error = "numeric field overflow";
      return std::nullopt;
    }
    return v;
  }
  case TypeKind::Float64:
    if (to.isReal()) { // rounded once, from the exact value, as PostgreSQL's float4 casts do
      std::string digits = from.isInteger()                 ? std::to_string(value.i)
                           : from.kind == TypeKind::Numeric ? formatNumeric(value.n, from.scale)
                                                            : "";
      if (from.kind == TypeKind::Float64) {
        float f = static_cast<float>(value.f);
        if (std::isinf(f) && !std::isinf(value.f)) {
          error = "value out of range: overflow";
          return std::nullopt;
        }
        if (f == 0.0f && value.f != 0.0) {
          error = "value out of range: underflow";
          return std::nullopt;
        }
        v.f = f;
        return v;
      }
      if (digits.empty())
        break;
      return parseLiteral(digits, to, error);
    }
    if (from.isInteger())
      v.f = static_cast<double>(value.i);
    else if (from.kind == TypeKind::Numeric)
      v.f = std::strtod(formatNumeric(value.n, from.scale).c_str(), nullptr);
    else if (from.kind == TypeKind::Float64) // real -> double precision: exact
      v.f = value.f;
    else
      break;
    return v;
  case TypeKind::Text:
    if (from.isInteger())
      v.s = std::to_string(value.i);
    else if (from.kind == TypeKind::Numeric)
      v.s = formatNumeric(value.n, from.scale);
    else if (from.kind == TypeKind::Bool)
      v.s = value.b ? "true" : "false";
    else if (from.kind == TypeKind::Jsonb || from.kind == TypeKind::Array)
      v.s = value.s;
    else if (from.kind == TypeKind::Interval) {
      char text[KILN_INTERVAL_TEXT_MAX];
      v.s.assign(text,
                 static_cast<size_t>(kiln_interval_format(text, kiln_interval_unpack(value.n))));
    } else
      break;
    return v;
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz: // a timestamptz meets the others on the session zone's clock
    if (from.kind == TypeKind::Date)
      v.i = value.i * 86400000000LL;
    else if (from.isTimestamp())
      v.i = from.kind == TypeKind::TimestampTz && to.kind == TypeKind::Timestamp
                ? ir::localTime(ir::timeZone(time_zone, nullptr), value.i)
                : value.i;
    else
      break;
    if (to.kind == TypeKind::TimestampTz && from.kind != TypeKind::TimestampTz)
      v.i = ir::instantOfLocal(ir::timeZone(time_zone, nullptr), v.i);
    return v;
  case TypeKind::Date:
    if (from.isTimestamp()) {
      int64_t local = from.kind == TypeKind::TimestampTz
                          ? ir::localTime(ir::timeZone(time_zone, nullptr), value.i)
                          : value.i;
      v.i = local >= 0 ? local / 86400000000LL : -((-local + 86400000000LL - 1) / 86400000000LL);
      return v;
    }
    break;
  case TypeKind::Bool:
    if (from.kind == TypeKind::Int32) {
      v.b = value.i != 0;
      return v;
    }
    break;
  case TypeKind::Jsonb: // only from text (above)
  case TypeKind::Array:
  case TypeKind::Interval:
  case TypeKind::Null:
    break;
  }
  error = "cannot cast constant of type " + from.sqlName() + " to " + to.sqlName();
  return std::nullopt;
}

} // namespace kiln::binder
