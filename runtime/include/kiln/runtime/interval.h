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
static inline int kiln_interval_mul_checked(kiln_interval span, double factor,
                                            kiln_interval *out) {
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

/* The fields extract() takes of an interval: those of a date or timestamp but the week, ISO and
 * day-of fields. */
static inline int kiln_interval_has_field(int32_t field) {
  return field != KILN_FIELD_WEEK && field != KILN_FIELD_ISOYEAR && field != KILN_FIELD_DOW &&
         field != KILN_FIELD_ISODOW && field != KILN_FIELD_DOY;
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
                  zero ? "" : " ", minus ? "-" : before ? "+" : "", (long long)llabs(hours),
                  (long long)llabs(minutes), (long long)llabs(seconds));
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
