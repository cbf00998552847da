// Order keys (OrderKeys.h) and the calls of abi.h that compare arrays and jsonb by them.
#include "OrderKeys.h"

#include <cmath>
#include <cstring>
#include <optional>

#include "Runtime.h"
#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/interval.h"

namespace kiln::runtime::detail {

namespace {

void appendBigEndian(std::string &out, unsigned __int128 bits, size_t bytes, bool invert) {
  for (size_t i = bytes; i-- > 0;) {
    auto byte = static_cast<uint8_t>(bits >> (8 * i));
    out += static_cast<char>(invert ? ~byte : byte);
  }
}

// `bytes` as text keys them: 0x00 escaped as 0x00 0xFF, then 0x00 0x00.
void appendEscaped(std::string &out, std::string_view bytes, bool descending) {
  auto put = [&](uint8_t byte) { out += static_cast<char>(descending ? ~byte : byte); };
  for (char c : bytes) {
    auto byte = static_cast<uint8_t>(c);
    put(byte);
    if (byte == 0)
      put(0xFF);
  }
  put(0x00);
  put(0x00);
}

// A decimal number's text (numeric_out's or a JSON number: sign, digits, a point, an exponent;
// NaN and the infinities) keyed by its value whatever its scale: a sign class, then for nonzero
// numbers the decimal exponent E and the significant digits d1 d2 ... of 0.d1d2... * 10^E, each
// digit as 1-10 and ended by 0 (a shorter fraction is smaller); a negative number's bytes are
// inverted (its terminator is then 0xFF, above every inverted digit).
void appendDecimalKey(std::string &out, std::string_view text) {
  enum : uint8_t { kMinusInfinity, kNegative, kZero, kPositive, kPlusInfinity, kNaN };
  if (text == "NaN") {
    out += static_cast<char>(kNaN);
    return;
  }
  bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  if (text == "Infinity") {
    out += static_cast<char>(negative ? kMinusInfinity : kPlusInfinity);
    return;
  }
  std::string digits;
  int64_t exponent = 0; // of the first digit kept, as 0.d1... * 10^exponent
  bool point = false;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      point = true;
    } else if (c >= '0' && c <= '9') {
      if (digits.empty() && c == '0') {
        if (point)
          --exponent; // 0.05: a zero after the point moves the first digit down
        continue;
      }
      digits += c;
      if (!point)
        ++exponent;
    } else {
      break;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    int64_t power = 0;
    bool minus = false;
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '-' || text[j] == '+'))
      minus = text[j++] == '-';
    for (; j < text.size() && text[j] >= '0' && text[j] <= '9' && power < 1'000'000'000; ++j)
      power = power * 10 + (text[j] - '0');
    exponent += minus ? -power : power;
  }
  while (!digits.empty() && digits.back() == '0')
    digits.pop_back();
  if (digits.empty()) {
    out += static_cast<char>(kZero);
    return;
  }
  out += static_cast<char>(negative ? kNegative : kPositive);
  appendBigEndian(out, static_cast<uint32_t>(static_cast<int32_t>(exponent)) ^ 0x80000000u, 4,
                  negative);
  for (char d : digits) {
    auto byte = static_cast<uint8_t>(d - '0' + 1);
    out += static_cast<char>(negative ? ~byte : byte);
  }
  out += static_cast<char>(negative ? 0xFF : 0x00);
}

// A jsonb value's structural key (OrderKeys.h); `top`: the whole value, where a scalar is a raw
// scalar array.
void appendJsonbKey(std::string &out, std::string_view value, bool top) {
  enum : uint8_t { kNull = 0x10, kString = 0x20, kNumber = 0x30, kBool = 0x40 };
  enum : uint8_t { kArray = 0x50, kObject = 0x60 };
  jsonb::Kind kind = jsonb::kindOf(value);
  bool container = kind == jsonb::Kind::Array || kind == jsonb::Kind::Object;
  if (top && !container) { // a raw scalar: an array of one, before a real one
    out += static_cast<char>(kArray);
    appendBigEndian(out, 1, 4, false);
    out += '\0';
    appendJsonbKey(out, value, false);
    return;
  }
  std::string scratch;
  switch (kind) {
  case jsonb::Kind::Null:
    out += static_cast<char>(kNull);
    return;
  case jsonb::Kind::String:
    out += static_cast<char>(kString);
    appendEscaped(out, *jsonb::text(value, scratch), false);
    return;
  case jsonb::Kind::Number:
    out += static_cast<char>(kNumber);
    appendDecimalKey(out, value);
    return;
  case jsonb::Kind::Boolean:
    out += static_cast<char>(kBool);
    out += value == "true" ? '\1' : '\0';
    return;
  case jsonb::Kind::Array:
  case jsonb::Kind::Object:
    break;
  }
  // The members' keys go after the count, which is known once they are written.
  std::string members;
  uint32_t count = 0;
  size_t pos = 0;
  std::string_view key, member;
  while (jsonb::nextMember(value, pos, key, member)) {
    ++count;
    if (kind == jsonb::Kind::Object)
      appendEscaped(members, *jsonb::text(key, scratch), false);
    appendJsonbKey(members, member, false);
  }
  out += static_cast<char>(kind == jsonb::Kind::Array ? kArray : kObject);
  appendBigEndian(out, count, 4, false);
  if (top && kind == jsonb::Kind::Array)
    out += '\1'; // not a raw scalar
  out += members;
}

// An array text's structural key (OrderKeys.h).
void appendArrayKey(std::string &out, std::string_view array, const kiln_column_desc &element) {
  size_t pos = 0;
  std::string text;
  bool is_null = false;
  while (array_text::nextElement(array, pos, text, is_null)) {
    if (is_null) {
      out += '\2';
      continue;
    }
    alignas(16) char value[16] = {};
    switch (element.type) {
    case KILN_T_NUMERIC: // by value, not by the scaled integer: the scale may differ
      out += kPresentMarker;
      appendDecimalKey(out, text);
      continue;
    case KILN_T_TEXT:
    case KILN_T_JSONB: {
      kiln_str str{text.data(), static_cast<int64_t>(text.size())};
      std::memcpy(value, &str, sizeof str);
      break;
    }
    default:
      // Canonical text always reads back; were it not to, its bytes still give an order.
      if (!parseScalar(element, text, value).ok()) {
        out += kPresentMarker;
        appendEscaped(out, text, false);
        continue;
      }
    }
    appendValueKey(out, element, value, false);
  }
  out += '\0';
}

// The value of type T stored at `at` (row storage may be unaligned).
template <typename T> T load(const char *at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

std::string_view view(kiln_str text) { return {text.ptr, static_cast<size_t>(text.len)}; }

} // namespace

void appendValueKey(std::string &out, const kiln_column_desc &col, const char *at,
                    bool descending) {
  out += kPresentMarker;
  switch (col.type) {
  case KILN_T_BOOL:
    appendBigEndian(out, static_cast<uint8_t>(*at != 0), 1, descending);
    return;
  case KILN_T_INT32:
  case KILN_T_DATE: {
    uint32_t v;
    std::memcpy(&v, at, sizeof v);
    appendBigEndian(out, v ^ 0x80000000u, 4, descending);
    return;
  }
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ: {
    uint64_t v;
    std::memcpy(&v, at, sizeof v);
    appendBigEndian(out, v ^ (uint64_t{1} << 63), 8, descending);
    return;
  }
  case KILN_T_INTERVAL: { // by span; equal spans are peers (a top-k then orders by the row)
    __int128 v;
    std::memcpy(&v, at, sizeof v);
    auto span = static_cast<unsigned __int128>(kiln_interval_span(v));
    appendBigEndian(out, span ^ (static_cast<unsigned __int128>(1) << 127), 16, descending);
    return;
  }
  case KILN_T_NUMERIC: { // a scaled integer: every value of a column has the column's scale
    unsigned __int128 v;
    std::memcpy(&v, at, sizeof v);
    appendBigEndian(out, v ^ (static_cast<unsigned __int128>(1) << 127), 16, descending);
    return;
  }
  case KILN_T_FLOAT64: {
    double d;
    std::memcpy(&d, at, sizeof d);
    uint64_t bits;
    if (std::isnan(d)) {
      bits = ~uint64_t{0};
    } else {
      if (d == 0)
        d = 0; // -0 sorts as 0
      std::memcpy(&bits, &d, sizeof bits);
      bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
    }
    appendBigEndian(out, bits, 8, descending);
    return;
  }
  case KILN_T_TEXT:
    appendEscaped(out, view(load<kiln_str>(at)), descending);
    return;
  case KILN_T_JSONB:
  case KILN_T_ARRAY: {
    std::string structure;
    if (col.type == KILN_T_JSONB)
      appendJsonbKey(structure, view(load<kiln_str>(at)), true);
    else
      appendArrayKey(structure, view(load<kiln_str>(at)), arrayElement(col));
    appendEscaped(out, structure, descending);
    return;
  }
  }
}

size_t encodedLength(int32_t type, std::string_view key, size_t at) {
  if (key[at] != kPresentMarker)
    return 1; // NULL
  switch (type) {
  case KILN_T_BOOL:
    return 2;
  case KILN_T_INT32:
  case KILN_T_DATE:
    return 5;
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ:
  case KILN_T_FLOAT64:
    return 9;
  case KILN_T_NUMERIC:
  case KILN_T_INTERVAL:
    return 17;
  default: { // escaped bytes (text, arrays, jsonb): 0x00 0xFF is an escaped 0x00; 0x00 0x00 ends
    size_t i = at + 1;
    while (i + 1 < key.size() && !(key[i] == 0 && key[i + 1] == 0))
      i += key[i] == 0 ? 2 : 1;
    return i + 2 - at;
  }
  }
}

int compareArrays(std::string_view a, std::string_view b, const kiln_column_desc &element) {
  if (a == b)
    return 0; // one value has one canonical text
  std::string x, y;
  appendArrayKey(x, a, element);
  appendArrayKey(y, b, element);
  int order = x.compare(y);
  return (order > 0) - (order < 0);
}

int compareJsonb(std::string_view a, std::string_view b) {
  if (a == b)
    return 0;
  std::string x, y;
  appendJsonbKey(x, a, true);
  appendJsonbKey(y, b, true);
  int order = x.compare(y);
  return (order > 0) - (order < 0);
}

int compareValues(const kiln_column_desc &col, const char *a, const char *b) {
  auto three_way = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  switch (col.type) {
  case KILN_T_BOOL:
    return three_way(*a != 0, *b != 0);
  case KILN_T_INT32:
  case KILN_T_DATE:
    return three_way(load<int32_t>(a), load<int32_t>(b));
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ:
    return three_way(load<int64_t>(a), load<int64_t>(b));
  case KILN_T_INTERVAL:
    return kiln_interval_compare(load<__int128>(a), load<__int128>(b));
  case KILN_T_NUMERIC: // one column: one scale
    return three_way(load<__int128>(a), load<__int128>(b));
  case KILN_T_FLOAT64: {
    double x = load<double>(a), y = load<double>(b);
    if (std::isnan(x) || std::isnan(y))
      return three_way(std::isnan(x), std::isnan(y));
    return three_way(x, y);
  }
  case KILN_T_TEXT:
    return three_way(view(load<kiln_str>(a)).compare(view(load<kiln_str>(b))), 0);
  case KILN_T_JSONB:
    return compareJsonb(view(load<kiln_str>(a)), view(load<kiln_str>(b)));
  case KILN_T_ARRAY:
    return compareArrays(view(load<kiln_str>(a)), view(load<kiln_str>(b)), arrayElement(col));
  }
  return 0;
}

} // namespace kiln::runtime::detail

namespace {

std::string_view view(const char *p, int64_t n) { return {p, static_cast<size_t>(n)}; }

} // namespace

extern "C" {

int32_t kiln_array_cmp(const char *p, int64_t n, const char *q, int64_t m, int32_t element,
                       int32_t precision, int32_t scale) {
  kiln_column_desc desc{"", element, precision, scale, 0, 0, 0};
  return kiln::runtime::detail::compareArrays(view(p, n), view(q, m), desc);
}

int32_t kiln_jsonb_cmp(const char *p, int64_t n, const char *q, int64_t m) {
  return kiln::runtime::detail::compareJsonb(view(p, n), view(q, m));
}

void kiln_array_ordered_entry(kiln_runtime *rt, const char *p, int64_t n, int32_t element,
                              int32_t precision, int32_t scale, kiln_str *out) {
  kiln_column_desc desc{"", KILN_T_ARRAY, precision, scale, 0, 0, element};
  kiln_str text{p, n};
  std::string entry;
  kiln::runtime::detail::appendValueKey(entry, desc, reinterpret_cast<const char *>(&text), false);
  entry.append(p, static_cast<size_t>(n));
  auto length = static_cast<uint32_t>(n);
  entry.append(reinterpret_cast<const char *>(&length), sizeof length);
  *out = kiln::runtime::scratchText(rt, entry);
}

kiln_str kiln_ordered_entry_value(const char *p, int64_t n) {
  uint32_t length;
  std::memcpy(&length, p + n - sizeof length, sizeof length);
  return {p + n - sizeof length - length, static_cast<int64_t>(length)};
}

} // extern "C"
