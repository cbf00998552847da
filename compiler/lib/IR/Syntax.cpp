#include "Syntax.h"

#include "kiln/runtime/civil.h"

#include <cstdio>

namespace kiln::ir::syntax {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if ((unsigned char)c < 0x20 || c == 0x7f) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\x%02x", (unsigned char)c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

std::string name(std::string_view s) { return isBareName(s) ? std::string(s) : quote(s); }

static const int64_t kFirstDay = kiln_days_from_civil(1, 1, 1);
static const int64_t kLastDay = kiln_days_from_civil(9999, 12, 31);
static constexpr int64_t kMicrosPerDay = KILN_MICROS_PER_DAY;

std::optional<std::string> formatDate(int64_t days) {
  if (days < kFirstDay || days > kLastDay)
    return std::nullopt;
  kiln_civil c = kiln_civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", (long long)c.year, c.month, c.day);
  return std::string(buf);
}

std::optional<std::string> formatTimestamp(int64_t micros) {
  int64_t days = micros / kMicrosPerDay, rest = micros % kMicrosPerDay;
  if (rest < 0)
    rest += kMicrosPerDay, days -= 1;
  std::optional<std::string> date = formatDate(days);
  if (!date)
    return std::nullopt;
  int64_t secs = rest / 1000000, frac = rest % 1000000;
  char buf[32];
  std::snprintf(buf, sizeof buf, " %02lld:%02lld:%02lld", (long long)(secs / 3600),
                (long long)(secs / 60 % 60), (long long)(secs % 60));
  std::string out = *date + buf;
  if (frac) {
    std::snprintf(buf, sizeof buf, ".%06lld", (long long)frac);
    std::string f = buf;
    while (f.back() == '0')
      f.pop_back();
    out += f;
  }
  return out;
}

// Reads exactly `n` digits at `pos`.
static bool digits(std::string_view s, size_t &pos, int n, int64_t &out) {
  out = 0;
  for (int i = 0; i < n; ++i, ++pos) {
    if (pos >= s.size() || s[pos] < '0' || s[pos] > '9')
      return false;
    out = out * 10 + (s[pos] - '0');
  }
  return true;
}

static bool expect(std::string_view s, size_t &pos, char c) {
  if (pos >= s.size() || s[pos] != c)
    return false;
  ++pos;
  return true;
}

static std::optional<int64_t> parseDatePrefix(std::string_view s, size_t &pos) {
  int64_t y, m, d;
  if (!digits(s, pos, 4, y) || !expect(s, pos, '-') || !digits(s, pos, 2, m) ||
      !expect(s, pos, '-') || !digits(s, pos, 2, d))
    return std::nullopt;
  if (y < 1 || !kiln_civil_valid(y, m, d))
    return std::nullopt;
  return kiln_days_from_civil(y, int32_t(m), int32_t(d));
}

std::optional<int64_t> parseDate(std::string_view text) {
  size_t pos = 0;
  std::optional<int64_t> days = parseDatePrefix(text, pos);
  if (!days || pos != text.size())
    return std::nullopt;
  return days;
}

std::optional<int64_t> parseTimestamp(std::string_view text) {
  size_t pos = 0;
  std::optional<int64_t> days = parseDatePrefix(text, pos);
  int64_t h, m, s;
  if (!days || !expect(text, pos, ' ') || !digits(text, pos, 2, h) || !expect(text, pos, ':') ||
      !digits(text, pos, 2, m) || !expect(text, pos, ':') || !digits(text, pos, 2, s))
    return std::nullopt;
  if (h > 23 || m > 59 || s > 59)
    return std::nullopt;
  int64_t frac = 0;
  if (pos < text.size()) {
    if (!expect(text, pos, '.'))
      return std::nullopt;
    int n = 0;
    for (; pos < text.size() && n < 6 && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++n)
      frac = frac * 10 + (text[pos] - '0');
    if (n == 0 || pos != text.size())
      return std::nullopt;
    for (; n < 6; ++n)
      frac *= 10;
  }
  return *days * kMicrosPerDay + ((h * 60 + m) * 60 + s) * 1000000 + frac;
}

} // namespace kiln::ir::syntax
