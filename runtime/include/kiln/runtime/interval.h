/* PostgreSQL's interval: months, days and microseconds, kept apart (a month is not a fixed
 * number of days, nor a day of hours across a daylight-saving change), as its arithmetic,
 * comparison and text output treat them. Header-only C, shared by the compiler (constants), the
 * stdlib (generated code's operations) and the runtime (output).
 *
 * A value is stored in 16 bytes, as one __int128: microseconds in bits 0-63, days in bits 64-95,
 * months in bits 96-127. Two intervals compare by their span, months as 30 days and days as 24
 * hours (PostgreSQL's interval_cmp_value): '1 day' = '24 hours', though each prints as written. */
#ifndef KILN_RUNTIME_INTERVAL_H
#define KILN_RUNTIME_INTERVAL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/runtime/civil.h"

typedef struct kiln_interval {
  int32_t months;
  int32_t days;
  int64_t micros;
} kiln_interval;

static inline __int128 kiln_interval_pack(kiln_interval v) {
  unsigned __int128 bits = (unsigned __int128)(uint32_t)v.months << 96 |
                           (unsigned __int128)(uint32_t)v.days << 64 | (uint64_t)v.micros;
  return (__int128)bits;
}

static inline kiln_interval kiln_interval_unpack(__int128 packed) {
  unsigned __int128 bits = (unsigned __int128)packed;
  kiln_interval v;
  v.micros = (int64_t)(uint64_t)bits;
  v.days = (int32_t)(uint32_t)(bits >> 64);
  v.months = (int32_t)(uint32_t)(bits >> 96);
  return v;
}

/* The span in microseconds, months as 30 days: the order and equality of intervals. */
static inline __int128 kiln_interval_span(__int128 packed) {
  kiln_interval v = kiln_interval_unpack(packed);
  return ((__int128)v.months * 30 + v.days) * KILN_MICROS_PER_DAY + v.micros;
}

static inline int32_t kiln_interval_compare(__int128 a, __int128 b) {
  __int128 x = kiln_interval_span(a), y = kiln_interval_span(b);
  return x < y ? -1 : x > y;
}

/* a + sign * b, field by field; 0 if a field leaves its range ("interval out of range"). */
static inline int kiln_interval_add_checked(kiln_interval a, kiln_interval b, int sign,
                                            kiln_interval *out) {
  int64_t months = (int64_t)a.months + sign * (int64_t)b.months;
  int64_t days = (int64_t)a.days + sign * (int64_t)b.days;
  int64_t micros;
  int overflow = sign > 0 ? __builtin_add_overflow(a.micros, b.micros, &micros)
                          : __builtin_sub_overflow(a.micros, b.micros, &micros);
  if (overflow || months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX)
    return 0;
  out->months = (int32_t)months;
  out->days = (int32_t)days;
  out->micros = micros;
  return 1;
}

/* PostgreSQL's TSROUND: to microseconds, of a number of seconds or days kept in a double. */
static inline double kiln_interval_tsround(double x) { return rint(x * 1000000.0) / 1000000.0; }

/* The interval of fields scaled in doubles (a product or quotient of each), as PostgreSQL's
 * interval_mul and interval_div finish: whole months and days, the fraction of the months spilled
 * into days at 30 a month and of the days into time at 24 hours; 0 if out of range. */
static inline int kiln_interval_from_scaled(double months_exact, double days_exact,
                                            double micros_exact, kiln_interval *out) {
  if (!(months_exact >= INT32_MIN && months_exact < -(double)INT32_MIN) ||
      !(days_exact >= INT32_MIN && days_exact < -(double)INT32_MIN))
    return 0; /* NaN fails too */
  int32_t months = (int32_t)months_exact, days = (int32_t)days_exact;
  double month_remainder_days = kiln_interval_tsround((months_exact - months) * 30);
  double sec_remainder = kiln_interval_tsround(
      (days_exact - days + month_remainder_days - (int)month_remainder_days) * 86400);
  if (fabs(sec_remainder) >= 86400) {
    days += (int)(sec_remainder / 86400);
    sec_remainder -= (int)(sec_remainder / 86400) * 86400.0;
  }
  days += (int32_t)month_remainder_days;
  double time = rint(micros_exact + sec_remainder * 1000000.0);
  if (!(time >= (double)INT64_MIN && time < -(double)INT64_MIN))
    return 0;
  out->months = months;
  out->days = days;
  out->micros = (int64_t)time;
  return 1;
}

/* span * factor and span / factor (the caller rejects a zero divisor). */
static inline int kiln_interval_mul_checked(kiln_interval span, double factor, kiln_interval *out) {
  return kiln_interval_from_scaled(span.months * factor, span.days * factor,
                                   (double)span.micros * factor, out);
}

static inline int kiln_interval_div_checked(kiln_interval span, double divisor,
                                            kiln_interval *out) {
  return kiln_interval_from_scaled(span.months / divisor, span.days / divisor,
                                   (double)span.micros / divisor, out);
}

/* timestamp a - timestamp b, as PostgreSQL's timestamp_mi: the microseconds, then whole days of
 * them moved into days (interval_justify_hours), time and days of one sign. */
static inline kiln_interval kiln_timestamp_diff(int64_t a, int64_t b) {
  kiln_interval v;
  int64_t time = a - b;
  int64_t days = time / KILN_MICROS_PER_DAY;
  time -= days * KILN_MICROS_PER_DAY;
  if (days > 0 && time < 0) {
    time += KILN_MICROS_PER_DAY;
    days--;
  } else if (days < 0 && time > 0) {
    time -= KILN_MICROS_PER_DAY;
    days++;
  }
  v.months = 0;
  v.days = (int32_t)days;
  v.micros = time;
  return v;
}

/* The fields extract() takes of an interval: those of a date or timestamp but the week, ISO,
 * day-of and time zone fields. */
static inline int kiln_interval_has_field(int32_t field) {
  return field != KILN_FIELD_WEEK && field != KILN_FIELD_ISOYEAR && field != KILN_FIELD_DOW &&
         field != KILN_FIELD_ISODOW && field != KILN_FIELD_DOY && !kiln_date_field_is_zone(field);
}

/* extract(field FROM v) in millionths (seconds, milliseconds and epoch have fractions; the
 * caller scales the others), as PostgreSQL's interval_part decomposes v: years and months of the
 * months, hours, minutes and seconds of the microseconds, each keeping the sign. */
static inline __int128 kiln_interval_field_micros(int32_t field, kiln_interval v) {
  const int64_t M = 1000000;
  int64_t hours = v.micros / (3600 * M), minutes = v.micros / (60 * M) % 60;
  int64_t seconds = v.micros % (60 * M); /* with its fraction, in micros */
  int32_t years = v.months / 12, months = v.months % 12;
  switch (field) {
  case KILN_FIELD_MICROSECONDS:
    return (__int128)seconds * M;
  case KILN_FIELD_MILLISECONDS:
    return (__int128)seconds * 1000;
  case KILN_FIELD_SECOND:
    return seconds;
  case KILN_FIELD_MINUTE:
    return (__int128)minutes * M;
  case KILN_FIELD_HOUR:
    return (__int128)hours * M;
  case KILN_FIELD_DAY:
    return (__int128)v.days * M;
  case KILN_FIELD_MONTH:
    return (__int128)months * M;
  case KILN_FIELD_QUARTER:
    return (__int128)(months / 3 + 1) * M;
  case KILN_FIELD_YEAR:
    return (__int128)years * M;
  case KILN_FIELD_DECADE:
    return (__int128)(years / 10) * M;
  case KILN_FIELD_CENTURY:
    return (__int128)(years / 100) * M;
  case KILN_FIELD_MILLENNIUM:
    return (__int128)(years / 1000) * M;
  case KILN_FIELD_EPOCH: {
    /* 365.25 days a year: in quarter days, to stay in integers. */
    __int128 quarter_days = (__int128)1461 * years + (__int128)120 * months + (__int128)4 * v.days;
    return quarter_days * 86400 / 4 * M + v.micros;
  }
  default:
    return 0;
  }
}

/* ---- Input: PostgreSQL's interval_in for the forms data and queries write ---- */

/* One of a unit in months, days and microseconds, by the names PostgreSQL accepts. */
typedef struct kiln_interval_unit {
  const char *name;
  int64_t months, days, micros;
} kiln_interval_unit;

static inline const kiln_interval_unit *kiln_interval_find_unit(const char *name, size_t n) {
  static const kiln_interval_unit units[] = {
      {"microsecond", 0, 0, 1},
      {"microseconds", 0, 0, 1},
      {"us", 0, 0, 1},
      {"usec", 0, 0, 1},
      {"usecs", 0, 0, 1},
      {"millisecond", 0, 0, 1000},
      {"milliseconds", 0, 0, 1000},
      {"ms", 0, 0, 1000},
      {"msec", 0, 0, 1000},
      {"msecs", 0, 0, 1000},
      {"second", 0, 0, 1000000},
      {"seconds", 0, 0, 1000000},
      {"s", 0, 0, 1000000},
      {"sec", 0, 0, 1000000},
      {"secs", 0, 0, 1000000},
      {"minute", 0, 0, 60000000},
      {"minutes", 0, 0, 60000000},
      {"m", 0, 0, 60000000},
      {"min", 0, 0, 60000000},
      {"mins", 0, 0, 60000000},
      {"hour", 0, 0, 3600000000LL},
      {"hours", 0, 0, 3600000000LL},
      {"h", 0, 0, 3600000000LL},
      {"hr", 0, 0, 3600000000LL},
      {"hrs", 0, 0, 3600000000LL},
      {"day", 0, 1, 0},
      {"days", 0, 1, 0},
      {"d", 0, 1, 0},
      {"week", 0, 7, 0},
      {"weeks", 0, 7, 0},
      {"w", 0, 7, 0},
      {"month", 1, 0, 0},
      {"months", 1, 0, 0},
      {"mon", 1, 0, 0},
      {"mons", 1, 0, 0},
      {"year", 12, 0, 0},
      {"years", 12, 0, 0},
      {"y", 12, 0, 0},
      {"yr", 12, 0, 0},
      {"yrs", 12, 0, 0},
      {"decade", 120, 0, 0},
      {"decades", 120, 0, 0},
      {"dec", 120, 0, 0},
      {"decs", 120, 0, 0},
      {"century", 1200, 0, 0},
      {"centuries", 1200, 0, 0},
      {"c", 1200, 0, 0},
      {"cent", 1200, 0, 0},
      {"millennium", 12000, 0, 0},
      {"millennia", 12000, 0, 0},
      {"mil", 12000, 0, 0},
      {"mils", 12000, 0, 0},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; ++i)
    if (strlen(units[i].name) == n && strncmp(units[i].name, name, n) == 0)
      return &units[i];
  return NULL;
}

/* `part` added to `*total`, unless it is not a number or either leaves 64 bits. */
static inline int kiln_interval_add_part(int64_t *total, double part) {
  if (!(fabs(part) < 9.2e18))
    return 0;
  return !__builtin_add_overflow(*total, (int64_t)part, total);
}

/* [-]H:MM[:SS[.ffffff]] as microseconds. */
static inline int kiln_interval_parse_clock(const char *p, size_t n, int64_t *micros) {
  int negative = n > 0 && p[0] == '-';
  if (n > 0 && (p[0] == '-' || p[0] == '+'))
    ++p, --n;
  double parts[3] = {0, 0, 0};
  int count = 0;
  size_t i = 0;
  while (count < 3) {
    size_t start = i;
    int dot = 0;
    char digits[64];
    while (i < n && p[i] != ':') {
      if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
        return 0;
      dot |= p[i] == '.';
      ++i;
    }
    if (i == start || i - start >= sizeof digits || (count < 2 && dot))
      return 0;
    memcpy(digits, p + start, i - start);
    digits[i - start] = '\0';
    parts[count++] = strtod(digits, NULL);
    if (i == n)
      break;
    ++i; /* the colon */
    if (count == 3)
      return 0;
  }
  if (count < 2)
    return 0;
  double total = (parts[0] * 3600 + parts[1] * 60 + parts[2]) * 1000000.0;
  if (!(total < 9.2e18))
    return 0;
  *micros = llround(negative ? -total : total);
  return 1;
}

/* Whether a word is a number (digits, a sign, a point). */
static inline int kiln_interval_number(const char *w, size_t n, double *value) {
  char buffer[64];
  int digit = 0;
  if (n == 0 || n >= sizeof buffer)
    return 0;
  for (size_t i = 0; i < n; ++i) {
    if (!((w[i] >= '0' && w[i] <= '9') || w[i] == '+' || w[i] == '-' || w[i] == '.'))
      return 0;
    digit |= w[i] >= '0' && w[i] <= '9';
  }
  if (!digit)
    return 0;
  memcpy(buffer, w, n);
  buffer[n] = '\0';
  char *end = NULL;
  *value = strtod(buffer, &end);
  return *end == '\0';
}

/* `value` of a unit of `months`, `days` and `micros` added to the totals, its fraction spilled
 * down as PostgreSQL's DecodeInterval does: a fraction of a year-based unit becomes whole
 * months (rounded, AdjustFractYears), of a month 30 days, of a day 24 hours. 0 if a total
 * leaves 64 bits. */
static inline int kiln_interval_add_unit(double value, int64_t unit_months, int64_t unit_days,
                                         int64_t unit_micros, int64_t *months, int64_t *days,
                                         int64_t *micros) {
  double m, d, whole_months, whole_days;
  if (unit_months != 0 && unit_months % 12 == 0) {
    double whole = trunc(value);
    whole_months = whole * (double)unit_months + rint((value - whole) * (double)unit_months);
    d = 0;
  } else {
    m = value * (double)unit_months;
    whole_months = trunc(m);
    d = (m - whole_months) * 30;
  }
  d += value * (double)unit_days;
  whole_days = trunc(d);
  double us = round(value * (double)unit_micros + (d - whole_days) * (double)KILN_MICROS_PER_DAY);
  return kiln_interval_add_part(months, whole_months) && kiln_interval_add_part(days, whole_days) &&
         kiln_interval_add_part(micros, us);
}

/* The totals as an interval; 0 if months or days leave 32 bits. */
static inline int kiln_interval_from_totals(int64_t months, int64_t days, int64_t micros,
                                            kiln_interval *out) {
  if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX)
    return 0;
  out->months = (int32_t)months;
  out->days = (int32_t)days;
  out->micros = micros;
  return 1;
}

/* ISO 8601's "format with designators", as PostgreSQL reads it: P, then numbers (signed, with a
 * fraction) each followed by Y, M (months), W or D, then T and numbers followed by H, M
 * (minutes) or S: `P1Y2M3DT4H5M6.5S`, `PT36H`, `P-1DT-2H`, `P0.5W`. Debezium writes intervals
 * so with interval.handling.mode=string. Returns as kiln_interval_parse does. */
static inline int kiln_interval_parse_iso(const char *p, size_t n, kiln_interval *out) {
  if (n < 2 || p[0] != 'P')
    return 0;
  int64_t months = 0, days = 0, micros = 0;
  int time = 0, fields = 0;
  for (size_t i = 1; i < n;) {
    if (p[i] == 'T' && !time) {
      time = 1;
      ++i;
      continue;
    }
    size_t start = i;
    if (p[i] == '-' || p[i] == '+')
      ++i;
    while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
      ++i;
    double value;
    if (i == start || i >= n || !kiln_interval_number(p + start, i - start, &value))
      return 0;
    char designator = p[i++];
    int64_t unit_months = 0, unit_days = 0, unit_micros = 0;
    if (!time && designator == 'Y')
      unit_months = 12;
    else if (!time && designator == 'M')
      unit_months = 1;
    else if (!time && designator == 'W')
      unit_days = 7;
    else if (!time && designator == 'D')
      unit_days = 1;
    else if (time && designator == 'H')
      unit_micros = 3600000000LL;
    else if (time && designator == 'M')
      unit_micros = 60000000LL;
    else if (time && designator == 'S')
      unit_micros = 1000000LL;
    else
      return 0;
    if (!kiln_interval_add_unit(value, unit_months, unit_days, unit_micros, &months, &days,
                                &micros))
      return -1;
    ++fields;
  }
  if (fields == 0)
    return 0;
  return kiln_interval_from_totals(months, days, micros, out) ? 1 : -1;
}

/* PostgreSQL's interval input in the forms queries and data write: `3 days`, `1 year 2 mons`,
 * `1 day 02:00:00`, `-1 days +02:00:00`, `@ 3 hours ago`, `3days`, ISO 8601's `P1DT2H`
 * (kiln_interval_parse_iso), or a bare number in `bare_unit` (`interval '90' day`; NULL:
 * seconds). Fractions spill down as PostgreSQL's do (kiln_interval_add_unit). Returns 1 and the
 * value, 0 if the text is not one, -1 if a field leaves its range ("interval out of range").
 * The SQL standard's forms ('1-2', '1 2:03:04' as days) and ISO 8601's alternative format
 * ('P0001-02-03T04:05:06') are not read. */
static inline int kiln_interval_parse(const char *text, size_t n, const char *bare_unit,
                                      kiln_interval *out) {
  if (n > 0 && text[0] == 'P') /* as PostgreSQL decides: no blanks around it */
    return kiln_interval_parse_iso(text, n, out);
  char lower[256];
  if (n >= sizeof lower)
    return 0;
  for (size_t i = 0; i < n; ++i)
    lower[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
  /* Words: runs of non-spaces, a number and a unit written together ("3days") split. */
  size_t starts[64], lengths[64], words = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && (lower[i] == ' ' || lower[i] == '\t' || lower[i] == '\n'))
      ++i;
    size_t start = i;
    while (i < n && lower[i] != ' ' && lower[i] != '\t' && lower[i] != '\n' &&
           !(i > start && lower[i] >= 'a' && lower[i] <= 'z' &&
             !(lower[i - 1] >= 'a' && lower[i - 1] <= 'z')))
      ++i;
    if (i > start) {
      if (words == 64)
        return 0;
      starts[words] = start;
      lengths[words++] = i - start;
    }
  }
  size_t first = 0;
  if (words > 0 && lengths[0] == 1 && lower[starts[0]] == '@')
    first = 1;
  int ago =
      words > first && lengths[words - 1] == 3 && strncmp(lower + starts[words - 1], "ago", 3) == 0;
  if (ago)
    --words;
  if (words <= first)
    return 0;
  int64_t months = 0, days = 0, micros = 0;
  for (size_t w = first; w < words; ++w) {
    const char *word = lower + starts[w];
    size_t len = lengths[w];
    if (memchr(word, ':', len) != NULL) {
      int64_t clock = 0;
      if (!kiln_interval_parse_clock(word, len, &clock))
        return 0;
      if (__builtin_add_overflow(micros, clock, &micros))
        return -1;
      continue;
    }
    double value = 0, next = 0;
    if (!kiln_interval_number(word, len, &value))
      return 0;
    const kiln_interval_unit *unit;
    if (w + 1 < words && !kiln_interval_number(lower + starts[w + 1], lengths[w + 1], &next) &&
        memchr(lower + starts[w + 1], ':', lengths[w + 1]) == NULL) {
      ++w;
      unit = kiln_interval_find_unit(lower + starts[w], lengths[w]);
    } else {
      const char *bare = bare_unit != NULL && bare_unit[0] != '\0' ? bare_unit : "second";
      unit = kiln_interval_find_unit(bare, strlen(bare));
    }
    if (unit == NULL)
      return 0;
    if (!kiln_interval_add_unit(value, unit->months, unit->days, unit->micros, &months, &days,
                                &micros))
      return -1;
  }
  if (ago) {
    months = -months;
    days = -days;
    micros = -micros;
  }
  return kiln_interval_from_totals(months, days, micros, out) ? 1 : -1;
}

/* The longest text kiln_interval_format writes, with its NUL. */
#define KILN_INTERVAL_TEXT_MAX 96

/* PostgreSQL's output in its default style (IntervalStyle postgres): "1 year 2 mons 3 days
 * 04:05:06.5", "-1 days +02:00:00", "00:00:00". Returns the length written to `out`. */
static inline int kiln_interval_format(char *out, kiln_interval v) {
  int n = 0, zero = 1, before = 0;
  int64_t parts[3] = {v.months / 12, v.months % 12, v.days};
  static const char *const units[3] = {"year", "mon", "day"};
  for (int i = 0; i < 3; ++i) {
    if (parts[i] == 0)
      continue;
    n += snprintf(out + n, (size_t)(KILN_INTERVAL_TEXT_MAX - n), "%s%s%lld %s%s", zero ? "" : " ",
                  before && parts[i] > 0 ? "+" : "", (long long)parts[i], units[i],
                  parts[i] != 1 ? "s" : "");
    before = parts[i] < 0;
    zero = 0;
  }
  const int64_t M = 1000000;
  int64_t hours = v.micros / (3600 * M), minutes = v.micros / (60 * M) % 60;
  int64_t seconds = v.micros / M % 60, fraction = v.micros % M;
  if (zero || v.micros != 0) {
    int minus = v.micros < 0;
    n += snprintf(out + n, (size_t)(KILN_INTERVAL_TEXT_MAX - n), "%s%s%02lld:%02lld:%02lld",
                  zero ? "" : " ",
                  minus    ? "-"
                  : before ? "+"
                           : "",
                  (long long)llabs(hours), (long long)llabs(minutes), (long long)llabs(seconds));
    if (fraction != 0) {
      char digits[8];
      snprintf(digits, sizeof digits, "%06lld", (long long)llabs(fraction));
      int last = 5;
      while (last > 0 && digits[last] == '0')
        --last;
      digits[last + 1] = '\0';
      n += snprintf(out + n, (size_t)(KILN_INTERVAL_TEXT_MAX - n), ".%s", digits);
    }
  }
  return n;
}

#endif /* KILN_RUNTIME_INTERVAL_H */
