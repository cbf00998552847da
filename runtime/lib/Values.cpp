#include "kiln/runtime/Values.h"

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "Strings.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

namespace kiln::runtime {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = KILN_MICROS_PER_DAY;

absl::Status syntaxError(std::string_view type, std::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrFormat("invalid input syntax for type %s: \"%s\"", type, text));
}

template <typename T> T load(const void *p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// Writes the decimal digits of `value` so that they end at `end`; returns where they start. Values
// that fit 64 bits (nearly all) divide in 64 bits, which is many times cheaper.
char *writeDigits(unsigned __int128 value, char *end) {
  while (value > UINT64_MAX) {
    *--end = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  }
  auto small = static_cast<uint64_t>(value);
  do {
    *--end = static_cast<char>('0' + small % 10);
    small /= 10;
  } while (small != 0);
  return end;
}

template <typename T> absl::StatusOr<T> parseInteger(std::string_view text, std::string_view type) {
  std::string_view digits = detail::stripWhitespace(text);
  // std::from_chars takes '-' but not '+'.
  if (digits.starts_with('+')) {
    digits.remove_prefix(1);
    if (digits.starts_with('-'))
      return syntaxError(type, text);
  }
  T value;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range)
    return absl::InvalidArgumentError(
        absl::StrFormat("value \"%s\" is out of range for type %s", text, type));
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
    return syntaxError(type, text);
  return value;
}

// Y-M-D of a civil day the way PostgreSQL prints it, written at `p` (at most kCivilDayWidth
// bytes); returns the end. Year 0 and before are 1 BC and before (`bc`), years of fewer than four
// digits have leading zeros.
constexpr size_t kCivilDayWidth = 24;
char *writeCivilDay(char *p, int64_t days, bool &bc) {
  kiln_civil day = kiln_civil_from_days(days);
  int64_t year = day.year;
  bc = year <= 0;
  int64_t shown = bc ? 1 - year : year;
  if (shown > 9999) {
    p = std::to_chars(p, p + 20, shown).ptr;
  } else {
    p[0] = static_cast<char>('0' + shown / 1000);
    p[1] = static_cast<char>('0' + shown / 100 % 10);
    p[2] = static_cast<char>('0' + shown / 10 % 10);
    p[3] = static_cast<char>('0' + shown % 10);
    p += 4;
  }
  int month = day.month, dom = day.day;
  p[0] = '-';
  p[1] = static_cast<char>('0' + month / 10);
  p[2] = static_cast<char>('0' + month % 10);
  p[3] = '-';
  p[4] = static_cast<char>('0' + dom / 10);
  p[5] = static_cast<char>('0' + dom % 10);
  return p + 6;
}

std::string formatCivilDay(int64_t days, bool &bc) {
  char text[kCivilDayWidth];
  return std::string(text, writeCivilDay(text, days, bc));
}

// The most bytes writeJsonValue writes for a value of `col` (text: of `value`).
size_t jsonValueWidth(const kiln_column_desc &col, const void *value);

} // namespace

absl::Status parseScalar(const kiln_column_desc &col, std::string_view text, void *value) {
  auto keep = [&](auto parsed) -> absl::Status {
    if (!parsed.ok())
      return parsed.status();
    auto v = *parsed;
    std::memcpy(value, &v, sizeof v);
    return absl::OkStatus();
  };
  switch (col.type) {
  case KILN_T_BOOL:
    return keep(parseBool(text));
  case KILN_T_INT32:
    return isSmallintColumn(col) ? keep(parseInt16(text)) : keep(parseInt32(text));
  case KILN_T_INT64:
    return keep(parseInt64(text));
  case KILN_T_FLOAT64:
    return isRealColumn(col) ? keep(parseReal(text)) : keep(parseFloat64(text));
  case KILN_T_NUMERIC:
    return keep(parseNumeric(text, col.precision, col.scale));
  case KILN_T_DATE:
    return keep(parseDate(text));
  case KILN_T_TIMESTAMP:
    return keep(parseTimestamp(text));
  case KILN_T_TIMESTAMPTZ:
    return keep(parseTimestampTz(text));
  case KILN_T_INTERVAL:
    return keep(parseInterval(text));
  default:
    return absl::InvalidArgumentError(std::string("parseScalar: no fixed-size storage for ") +
                                      std::string(typeName(col.type)));
  }
}

absl::StatusOr<std::string> canonicalArray(const std::vector<std::optional<std::string>> &elements,
                                           const kiln_column_desc &element) {
  std::string canonical = "{";
  for (const std::optional<std::string> &text : elements) {
    if (canonical.size() > 1)
      canonical += ',';
    if (!text) {
      canonical += array_text::kNull;
      continue;
    }
    // Read as its type reads text, then written as it writes it.
    std::string written;
    if (element.type == KILN_T_JSONB) {
      absl::StatusOr<std::string> json = jsonb::normalize(*text);
      if (!json.ok())
        return json.status();
      written = std::move(*json);
    } else if (element.type == KILN_T_TEXT) {
      written = *text;
    } else {
      alignas(16) unsigned char value[16] = {};
      if (absl::Status status = parseScalar(element, *text, value); !status.ok())
        return status;
      written = formatScalar(element, value);
    }
    array_text::appendElement(canonical, written);
  }
  return canonical + '}';
}

absl::StatusOr<std::string> parseArray(std::string_view text, const kiln_column_desc &element) {
  std::string detail;
  std::optional<array_text::Elements> elements = array_text::parse(text, detail);
  if (!elements)
    return absl::InvalidArgumentError(
        absl::StrFormat("malformed array literal: \"%s\": %s", text, detail));
  return canonicalArray(*elements, element);
}

std::string arrayToJson(std::string_view array, int32_t element_kind) {
  std::string json = "[";
  for (const std::optional<std::string> &element : array_text::elements(array)) {
    if (json.size() > 1)
      json += ',';
    if (!element) {
      json += "null";
      continue;
    }
    switch (element_kind) {
    case KILN_T_BOOL:
      json += *element == "t" ? "true" : "false";
      break;
    case KILN_T_INT32:
    case KILN_T_INT64:
    case KILN_T_NUMERIC:
    case KILN_T_JSONB:
      json += *element;
      break;
    case KILN_T_FLOAT64:
      if (*element == "NaN" || *element == "Infinity" || *element == "-Infinity")
        appendJsonString(json, *element);
      else
        json += *element;
      break;
    default:
      appendJsonString(json, *element);
    }
  }
  return json + "]";
}

namespace {

// Writes a non-NULL value as JSON at `p`, which has room for jsonValueWidth bytes; returns the
// end. Every value of every output row goes through here: no temporaries, no checks per byte.
char *writeJsonValue(char *p, const kiln_column_desc &col, const void *value) {
  auto copy = [&](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    return p + text.size();
  };
  switch (col.type) {
  case KILN_T_BOOL:
    return copy(load<uint8_t>(value) ? "true" : "false");
  case KILN_T_INT32:
    return std::to_chars(p, p + 11, load<int32_t>(value)).ptr;
  case KILN_T_INT64:
    return std::to_chars(p, p + 20, load<int64_t>(value)).ptr;
  case KILN_T_NUMERIC:
    return writeNumeric(p, load<__int128>(value), col.scale);
  case KILN_T_FLOAT64: {
    // Finite floats print as JSON numbers; NaN and the infinities as strings.
    std::string text =
        isRealColumn(col) ? formatReal(load<double>(value)) : formatFloat64(load<double>(value));
    return std::isfinite(load<double>(value)) ? copy(text) : writeJsonString(p, text);
  }
  case KILN_T_TEXT: {
    auto str = load<kiln_str>(value);
    return writeJsonString(p, std::string_view(str.ptr, static_cast<size_t>(str.len)));
  }
  case KILN_T_DATE: {
    bool bc;
    *p++ = '"';
    p = writeCivilDay(p, load<int32_t>(value), bc);
    if (bc)
      p = copy(" BC");
    *p++ = '"';
    return p;
  }
  case KILN_T_TIMESTAMP:
    return writeJsonString(p, formatTimestamp(load<int64_t>(value)));
  case KILN_T_TIMESTAMPTZ:
    return writeJsonString(p, formatTimestampTz(load<int64_t>(value)));
  case KILN_T_INTERVAL:
    return writeJsonString(p, formatScalar(col, value));
  case KILN_T_JSONB: {
    // Objects, arrays, numbers and booleans as themselves; a string or a JSON null as a JSON
    // string of its text, as a record's jsonb field is read (RecordParser).
    auto str = load<kiln_str>(value);
    std::string_view text(str.ptr, static_cast<size_t>(str.len));
    jsonb::Kind kind = jsonb::kindOf(text);
    return kind == jsonb::Kind::String || kind == jsonb::Kind::Null ? writeJsonString(p, text)
                                                                    : copy(text);
  }
  case KILN_T_ARRAY: { // a JSON array, its elements as a column of their type would be written
    auto str = load<kiln_str>(value);
    return copy(arrayToJson(std::string_view(str.ptr, static_cast<size_t>(str.len)), col.element));
  }
  }
  return p;
}

size_t jsonValueWidth(const kiln_column_desc &col, const void *value) {
  switch (col.type) {
  case KILN_T_BOOL:
    return 5;
  case KILN_T_INT32:
    return 11;
  case KILN_T_INT64:
    return 20;
  case KILN_T_NUMERIC:
    return kNumericWidth + static_cast<size_t>(std::abs(col.scale));
  case KILN_T_FLOAT64:
    return 64;
  case KILN_T_TEXT:
  case KILN_T_JSONB:
    return 6 * static_cast<size_t>(load<kiln_str>(value).len) + 2; // every byte as \u00XX
  case KILN_T_ARRAY: // every byte as \u00XX, and `, ` and quotes for every element (a byte)
    return 10 * static_cast<size_t>(load<kiln_str>(value).len) + 2;
  case KILN_T_INTERVAL:
    return KILN_INTERVAL_TEXT_MAX + 2;
  case KILN_T_DATE:
    return kCivilDayWidth + 5; // quotes and " BC"
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ:
    return 6 * (kCivilDayWidth + 23) + 2;
  }
  return 0;
}

} // namespace

size_t storageSize(int32_t type_kind) {
  switch (type_kind) {
  case KILN_T_BOOL:
    return 1;
  case KILN_T_INT32:
  case KILN_T_DATE:
    return 4;
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ:
  case KILN_T_FLOAT64:
    return 8;
  case KILN_T_NUMERIC:
  case KILN_T_INTERVAL:
    return 16;
  case KILN_T_TEXT:
  case KILN_T_JSONB:
  case KILN_T_ARRAY:
    return sizeof(kiln_str);
  }
  return 0;
}

std::string_view typeName(int32_t type_kind) {
  switch (type_kind) {
  case KILN_T_BOOL:
    return "boolean";
  case KILN_T_INT32:
    return "integer";
  case KILN_T_INT64:
    return "bigint";
  case KILN_T_FLOAT64:
    return "double precision";
  case KILN_T_NUMERIC:
    return "numeric";
  case KILN_T_TEXT:
    return "text";
  case KILN_T_DATE:
    return "date";
  case KILN_T_TIMESTAMP:
    return "timestamp";
  case KILN_T_TIMESTAMPTZ:
    return "timestamp with time zone";
  case KILN_T_JSONB:
    return "jsonb";
  case KILN_T_INTERVAL:
    return "interval";
  case KILN_T_ARRAY:
    return "array";
  }
  return "unknown";
}

bool rowsEqual(const kiln_relation_desc &rel, const void *a, const void *b) {
  size_t bitmap_bytes = (rel.ncols + 63) / 64 * sizeof(uint64_t);
  if (std::memcmp(a, b, bitmap_bytes) != 0)
    return false;
  for (int32_t i = 0; i < rel.ncols; ++i) {
    const kiln_column_desc &col = rel.cols[i];
    if (isNull(a, i))
      continue;
    const void *va = valuePtr(col, a);
    const void *vb = valuePtr(col, b);
    if (kiln_type_is_string(col.type)) {
      auto sa = load<kiln_str>(va), sb = load<kiln_str>(vb);
      if (sa.len != sb.len || (sa.len != 0 && std::memcmp(sa.ptr, sb.ptr, sa.len) != 0))
        return false;
    } else if (std::memcmp(va, vb, storageSize(col.type)) != 0) {
      return false;
    }
  }
  return true;
}

// PostgreSQL prints the shortest digits that read back to the same double (extra_float_digits=1,
// the default since PostgreSQL 12), in fixed notation for decimal exponents in [-4, 15) and in
// scientific notation otherwise.
namespace {
// PostgreSQL's layout of a float's or double's shortest digits: fixed notation for decimal
// exponents in [-4, fixed_below), else as "-1.2345e+20".
template <typename Float> std::string formatShortest(Float value, int fixed_below) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, end - buf); // e.g. "-1.2345e+20": already PostgreSQL's layout
  size_t e = sci.find('e');
  int exponent = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
  if (exponent < -4 || exponent >= fixed_below)
    return std::string(sci);

  bool negative = sci[0] == '-';
  std::string digits; // the significant digits without sign and point
  for (char c : sci.substr(0, e))
    if (absl::ascii_isdigit(c))
      digits += c;
  std::string out = negative ? "-" : "";
  if (exponent < 0) {
    out += "0.";
    out.append(-exponent - 1, '0');
    out += digits;
  } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
    out += digits;
    out.append(exponent + 1 - digits.size(), '0');
  } else {
    absl::StrAppend(&out, digits.substr(0, exponent + 1), ".", digits.substr(exponent + 1));
  }
  return out;
}
} // namespace

std::string formatFloat64(double value) { return formatShortest(value, 15); }
std::string formatReal(double value) { return formatShortest(static_cast<float>(value), 6); }

char *writeNumeric(char *p, __int128 scaled, int32_t scale) {
  bool negative = scaled < 0;
  auto magnitude =
      negative ? -static_cast<unsigned __int128>(scaled) : static_cast<unsigned __int128>(scaled);
  char buf[40];
  char *end = buf + sizeof buf;
  char *digits = writeDigits(magnitude, end);
  auto count = static_cast<size_t>(end - digits);
  auto append = [&](const char *from, size_t n) {
    std::memcpy(p, from, n);
    p += n;
  };
  auto zeros = [&](size_t n) {
    std::memset(p, '0', n);
    p += n;
  };
  if (negative)
    *p++ = '-';
  if (scale <= 0) {
    append(digits, count);
    // A negative scale stores the value divided by 10^-scale.
    if (scale < 0 && magnitude != 0)
      zeros(static_cast<size_t>(-scale));
    return p;
  }
  auto fraction = static_cast<size_t>(scale);
  if (count <= fraction) { // 0.05
    append("0.", 2);
    zeros(fraction - count);
    append(digits, count);
  } else {
    append(digits, count - fraction);
    *p++ = '.';
    append(digits + count - fraction, fraction);
  }
  return p;
}

void appendNumeric(std::string &out, __int128 scaled, int32_t scale) {
  size_t at = out.size();
  out.resize(at + kNumericWidth + static_cast<size_t>(std::abs(scale)));
  out.resize(static_cast<size_t>(writeNumeric(out.data() + at, scaled, scale) - out.data()));
}

std::string formatNumeric(__int128 scaled, int32_t scale) {
  std::string out;
  appendNumeric(out, scaled, scale);
  return out;
}

std::string formatDate(int32_t days) {
  bool bc;
  std::string out = formatCivilDay(days, bc);
  return bc ? out + " BC" : out;
}

std::string formatTimestamp(int64_t micros) {
  // Floor division: the time of day of an instant before the epoch is still positive.
  int64_t days = micros / kMicrosPerDay;
  int64_t time = micros % kMicrosPerDay;
  if (time < 0) {
    time += kMicrosPerDay;
    --days;
  }
  bool bc;
  std::string out = formatCivilDay(days, bc);
  int64_t seconds = time / kMicrosPerSecond;
  absl::StrAppendFormat(&out, " %02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
  if (int64_t fraction = time % kMicrosPerSecond; fraction != 0) {
    std::string digits = absl::StrFormat("%06d", fraction);
    absl::StrAppend(&out, ".", digits.substr(0, digits.find_last_not_of('0') + 1));
  }
  return bc ? out + " BC" : out;
}

namespace {
std::atomic<kiln_zone *> session_zone{nullptr};
} // namespace

void setSessionZone(kiln_zone *zone) { session_zone.store(zone, std::memory_order_release); }
kiln_zone *sessionZone() { return session_zone.load(std::memory_order_acquire); }

std::string formatTimestampTz(int64_t micros) {
  kiln_zone *zone = sessionZone();
  int32_t offset = kiln_zone_offset(zone, micros);
  std::string out = formatTimestamp(micros + static_cast<int64_t>(offset) * kMicrosPerSecond);
  char suffix[16];
  int n = kiln_format_zone_offset(suffix, offset);
  out.insert(out.ends_with(" BC") ? out.size() - 3 : out.size(), suffix, static_cast<size_t>(n));
  return out;
}

std::string formatScalar(const kiln_column_desc &col, const void *value) {
  switch (col.type) {
  case KILN_T_BOOL:
    return load<uint8_t>(value) ? "t" : "f";
  case KILN_T_INT32:
    return absl::StrCat(load<int32_t>(value));
  case KILN_T_INT64:
    return absl::StrCat(load<int64_t>(value));
  case KILN_T_FLOAT64:
    return isRealColumn(col) ? formatReal(load<double>(value)) : formatFloat64(load<double>(value));
  case KILN_T_NUMERIC:
    return formatNumeric(load<__int128>(value), col.scale);
  case KILN_T_TEXT:
  case KILN_T_JSONB:
  case KILN_T_ARRAY: {
    auto str = load<kiln_str>(value);
    return std::string(str.ptr, static_cast<size_t>(str.len));
  }
  case KILN_T_DATE:
    return formatDate(load<int32_t>(value));
  case KILN_T_TIMESTAMP:
    return formatTimestamp(load<int64_t>(value));
  case KILN_T_TIMESTAMPTZ:
    return formatTimestampTz(load<int64_t>(value));
  case KILN_T_INTERVAL: {
    char text[KILN_INTERVAL_TEXT_MAX];
    int n = kiln_interval_format(text, kiln_interval_unpack(load<__int128>(value)));
    return std::string(text, static_cast<size_t>(n));
  }
  }
  return "?";
}

std::optional<std::string> formatValue(const kiln_relation_desc &rel, int32_t column,
                                       const void *row) {
  if (isNull(row, column))
    return std::nullopt;
  return formatScalar(rel.cols[column], valuePtr(rel.cols[column], row));
}

namespace {
std::vector<int32_t> allColumns(const kiln_relation_desc &rel) {
  std::vector<int32_t> columns(static_cast<size_t>(rel.ncols));
  for (int32_t i = 0; i < rel.ncols; ++i)
    columns[static_cast<size_t>(i)] = i;
  return columns;
}
} // namespace

RowJsonFormatter::RowJsonFormatter(const kiln_relation_desc &rel)
    : RowJsonFormatter(rel, allColumns(rel)) {}

RowJsonFormatter::RowJsonFormatter(const kiln_relation_desc &rel, std::vector<int32_t> columns)
    : rel_(&rel), columns_(std::move(columns)) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::string key = i == 0 ? "{" : ",";
    appendJsonString(key, rel.cols[columns_[i]].name);
    key += ':';
    keys_width_ += key.size() + 4; // a NULL's "null" if nothing longer
    keys_.push_back(std::move(key));
  }
}

void RowJsonFormatter::appendTo(std::string &out, const void *row) const {
  // Room for the longest text the row can have, then written without a check per byte.
  size_t width = keys_width_ + 2;
  for (int32_t c : columns_)
    if (!isNull(row, c))
      width += jsonValueWidth(rel_->cols[c], valuePtr(rel_->cols[c], row));
  size_t at = out.size();
  out.resize(at + width);
  char *p = out.data() + at;
  for (size_t i = 0; i < columns_.size(); ++i) {
    int32_t c = columns_[i];
    std::memcpy(p, keys_[i].data(), keys_[i].size());
    p += keys_[i].size();
    if (isNull(row, c)) {
      std::memcpy(p, "null", 4);
      p += 4;
    } else {
      p = writeJsonValue(p, rel_->cols[c], valuePtr(rel_->cols[c], row));
    }
  }
  if (columns_.empty())
    *p++ = '{';
  *p++ = '}';
  out.resize(static_cast<size_t>(p - out.data()));
}

std::string RowJsonFormatter::format(const void *row) const {
  std::string out;
  out.reserve(16 * keys_.size() + 2);
  appendTo(out, row);
  return out;
}

std::string formatRowJson(const kiln_relation_desc &rel, const void *row) {
  return RowJsonFormatter(rel).format(row);
}

char *writeJsonString(char *p, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '"';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && c != '"' && c != '\\') {
      *p++ = c;
      continue;
    }
    *p++ = '\\';
    switch (c) {
    case '"':
    case '\\':
      *p++ = c;
      break;
    case '\n':
      *p++ = 'n';
      break;
    case '\r':
      *p++ = 'r';
      break;
    case '\t':
      *p++ = 't';
      break;
    default:
      std::memcpy(p, "u00", 3);
      p[3] = kHex[byte >> 4];
      p[4] = kHex[byte & 15];
      p += 5;
    }
  }
  *p++ = '"';
  return p;
}

void appendJsonString(std::string &out, std::string_view text) {
  size_t at = out.size();
  out.resize(at + 6 * text.size() + 2);
  out.resize(static_cast<size_t>(writeJsonString(out.data() + at, text) - out.data()));
}

absl::StatusOr<bool> parseBool(std::string_view text) {
  std::string_view body = detail::stripWhitespace(text);
  std::string lower(body);
  for (char &c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // boolin(): a prefix of true, false, yes or no; "on" and "of"/"off" need two letters.
  auto prefixOf = [&](std::string_view word, size_t least) {
    return lower.size() >= least && lower.size() <= word.size() && word.starts_with(lower);
  };
  if (prefixOf("true", 1) || prefixOf("yes", 1) || lower == "on" || lower == "1")
    return true;
  if (prefixOf("false", 1) || prefixOf("no", 1) || prefixOf("off", 2) || lower == "0")
    return false;
  return syntaxError("boolean", body);
}

absl::StatusOr<int32_t> parseInt32(std::string_view text) {
  return parseInteger<int32_t>(text, "integer");
}

absl::StatusOr<int64_t> parseInt64(std::string_view text) {
  return parseInteger<int64_t>(text, "bigint");
}

absl::StatusOr<double> parseFloat64(std::string_view text) {
  std::string_view body = detail::stripWhitespace(text);
  // PostgreSQL's spellings of the special values, in any case ("inf" is std::from_chars's).
  std::string lower(body.substr(0, 10));
  for (char &c : lower)
    c = absl::ascii_tolower(c);
  if (lower == "nan")
    return std::numeric_limits<double>::quiet_NaN();
  if (lower == "infinity" || lower == "+infinity")
    return std::numeric_limits<double>::infinity();
  if (lower == "-infinity")
    return -std::numeric_limits<double>::infinity();
  if (body.starts_with('+')) {
    body.remove_prefix(1);
    if (body.starts_with('-'))
      return syntaxError("double precision", text);
  }
  double value;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec == std::errc::result_out_of_range)
    return absl::InvalidArgumentError(
        absl::StrFormat("\"%s\" is out of range for type double precision", text));
  if (ec != std::errc() || end != body.data() + body.size() || body.empty())
    return syntaxError("double precision", text);
  return value;
}

absl::StatusOr<double> parseReal(std::string_view text) {
  absl::StatusOr<double> wide = parseFloat64(text); // the syntax, NaN and the infinities
  if (!wide.ok() || !std::isfinite(*wide))
    return wide;
  std::string_view body = detail::stripWhitespace(text);
  if (body.starts_with('+'))
    body.remove_prefix(1);
  float value; // the digits rounded once to a float, not through the double
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec == std::errc::result_out_of_range || std::isinf(value) || (value == 0 && *wide != 0))
    return absl::InvalidArgumentError(
        absl::StrFormat("\"%s\" is out of range for type real", text));
  return static_cast<double>(value);
}

absl::StatusOr<double> narrowToReal(double value) {
  float narrow = static_cast<float>(value);
  if (std::isinf(narrow) && !std::isinf(value))
    return absl::InvalidArgumentError("value out of range: overflow");
  if (narrow == 0 && value != 0)
    return absl::InvalidArgumentError("value out of range: underflow");
  return static_cast<double>(narrow);
}

absl::StatusOr<int32_t> parseInt16(std::string_view text) {
  absl::StatusOr<int16_t> value = parseInteger<int16_t>(text, "smallint");
  if (!value.ok())
    return value.status();
  return static_cast<int32_t>(*value);
}

// Exact decimal arithmetic on the digits: the text is [sign] digits [. digits] [e [sign] digits],
// i.e. D * 10^E for an integer D; the result is D * 10^(E + scale) rounded half away from zero,
// which must stay below 10^precision.
absl::StatusOr<__int128> parseNumeric(std::string_view text, int32_t precision, int32_t scale) {
  std::string_view s = detail::stripWhitespace(text);
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
    negative = s[pos++] == '-';
  size_t int_begin = pos;
  while (pos < s.size() && absl::ascii_isdigit(s[pos]))
    ++pos;
  std::string_view int_digits = s.substr(int_begin, pos - int_begin);
  std::string_view frac_digits;
  if (pos < s.size() && s[pos] == '.') {
    size_t frac_begin = ++pos;
    while (pos < s.size() && absl::ascii_isdigit(s[pos]))
      ++pos;
    frac_digits = s.substr(frac_begin, pos - frac_begin);
  }
  if (int_digits.empty() && frac_digits.empty())
    return syntaxError("numeric", text);
  int64_t exponent = 0;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    bool negative_exponent = false;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
      negative_exponent = s[pos++] == '-';
    size_t exp_begin = pos;
    for (; pos < s.size() && absl::ascii_isdigit(s[pos]); ++pos)
      exponent = std::min<int64_t>(exponent * 10 + (s[pos] - '0'), 1'000'000); // saturate
    if (pos == exp_begin)
      return syntaxError("numeric", text);
    if (negative_exponent)
      exponent = -exponent;
  }
  if (pos != s.size())
    return syntaxError("numeric", text);

  const int32_t max_digits = precision > 0 ? precision : 38;
  __int128 limit = 1;
  for (int32_t i = 1; i < max_digits; ++i)
    limit *= 10; // 10^(max_digits - 1)
  auto overflow = [&] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "numeric field overflow: a field with precision %d, scale %d must round to an absolute "
        "value less than %s",
        max_digits, scale, max_digits - scale > 0 ? absl::StrCat("10^", max_digits - scale) : "1"));
  };
  // Appends a digit unless that reaches 10^max_digits (checked before multiplying, so the
  // accumulator cannot overflow).
  __int128 magnitude = 0;
  auto append = [&](int digit) {
    if (magnitude >= limit)
      return false;
    magnitude = magnitude * 10 + digit;
    return true;
  };

  // The digits kept are those above 10^-(scale) in the value: all of D but the last `dropped`.
  int64_t shift = exponent - static_cast<int64_t>(frac_digits.size()) + scale;
  std::string_view all[2] = {int_digits, frac_digits};
  int64_t total = static_cast<int64_t>(int_digits.size() + frac_digits.size());
  int64_t keep = shift >= 0 ? total : total + shift;
  int64_t index = 0;
  int round_digit = 0;
  for (std::string_view part : all) {
    for (char c : part) {
      if (index < keep) {
        if (!append(c - '0'))
          return overflow();
      } else if (index == keep) {
        round_digit = c - '0';
      }
      ++index;
    }
  }
  for (int64_t i = 0; i < shift && magnitude != 0; ++i)
    if (!append(0))
      return overflow();
  if (round_digit >= 5) {
    ++magnitude;
    if (magnitude >= limit * 10)
      return overflow();
  }
  return negative ? -magnitude : magnitude;
}

namespace {

// The spelling nearly every input uses, YYYY-MM-DD with a valid day, without the general parser;
// nullopt sends anything else (other spellings, BC, errors) to it.
std::optional<int32_t> parseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  int64_t digits[8];
  for (int i = 0, j = 0; i < 10; ++i) {
    if (i == 4 || i == 7)
      continue;
    if (s[i] < '0' || s[i] > '9')
      return std::nullopt;
    digits[j++] = s[i] - '0';
  }
  int64_t year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  int64_t month = digits[4] * 10 + digits[5], day = digits[6] * 10 + digits[7];
  if (year < 1 || !kiln_civil_valid(year, month, day))
    return std::nullopt;
  return static_cast<int32_t>(
      kiln_days_from_civil(year, static_cast<int32_t>(month), static_cast<int32_t>(day)));
}

} // namespace

namespace {

// kiln_parse_datetime (civil.h) of a date or timestamp, its failures worded as PostgreSQL's.
absl::StatusOr<int64_t> parseDateTime(std::string_view text, std::string_view type,
                                      int64_t end_year, int64_t &time) {
  int64_t days = 0;
  switch (
      kiln_parse_datetime(text.data(), static_cast<int64_t>(text.size()), end_year, &days, &time)) {
  case 0:
    return days;
  case KILN_DATETIME_SYNTAX:
    return syntaxError(type, text);
  case KILN_DATETIME_FIELD_RANGE:
    return absl::InvalidArgumentError(
        absl::StrFormat("date/time field value out of range: \"%s\"", text));
  default:
    return absl::InvalidArgumentError(
        absl::StrFormat("%s out of range: \"%s\"", type == "date" ? "date" : "timestamp", text));
  }
}

} // namespace

absl::StatusOr<int32_t> parseDate(std::string_view text) {
  if (std::optional<int32_t> days = parseIsoDate(detail::stripWhitespace(text)))
    return *days;
  // PostgreSQL's date_in takes a time of day too, and ignores it.
  int64_t time = 0;
  absl::StatusOr<int64_t> days = parseDateTime(text, "date", KILN_DATE_END_YEAR, time);
  if (!days.ok())
    return days.status();
  return static_cast<int32_t>(*days);
}

absl::StatusOr<int64_t> parseTimestamp(std::string_view text) {
  int64_t time = 0;
  absl::StatusOr<int64_t> days = parseDateTime(text, "timestamp", KILN_TIMESTAMP_END_YEAR, time);
  if (!days.ok())
    return days.status();
  return *days * kMicrosPerDay + time;
}

absl::StatusOr<__int128> parseInterval(std::string_view text) {
  kiln_interval v;
  int status = kiln_interval_parse(text.data(), text.size(), nullptr, &v);
  if (status <= 0)
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: \"%s\"",
        status < 0 ? "interval field value out of range" : "invalid input syntax for type interval",
        text));
  return kiln_interval_pack(v);
}

absl::StatusOr<int64_t> parseTimestampTz(std::string_view text) {
  int64_t offset = 0;
  int64_t len = kiln_split_zone(text.data(), static_cast<int64_t>(text.size()), &offset);
  if (len < 0)
    return syntaxError("timestamp with time zone", text);
  absl::StatusOr<int64_t> local = parseTimestamp(text.substr(0, static_cast<size_t>(len)));
  if (!local.ok())
    return local.status();
  if (len == static_cast<int64_t>(text.size())) { // no zone written: the session's
    int32_t session_offset;
    return kiln_zone_from_local(sessionZone(), *local, &session_offset);
  }
  return *local - offset * kMicrosPerSecond;
}

absl::Status checkNotNull(const kiln_relation_desc &rel, const void *row) {
  for (int32_t i = 0; i < rel.ncols; ++i) {
    if (rel.cols[i].not_null && isNull(row, i))
      return absl::InvalidArgumentError(absl::StrCat("null value in column \"", rel.cols[i].name,
                                                     "\" violates not-null constraint"));
  }
  return absl::OkStatus();
}

} // namespace kiln::runtime
