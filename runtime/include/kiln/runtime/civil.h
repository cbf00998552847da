/* Civil dates as PostgreSQL counts them: the proleptic Gregorian calendar, days since 2000-01-01
 * (negative before it; year 0 is 1 BC). The one implementation of the calendar that the compiler
 * (literals, the IR's text form), the stdlib (date functions) and the runtime (input and output)
 * share: header-only C, so that the runtime and the stdlib depend on nothing of the compiler.
 *
 * The day counts are Howard Hinnant's days_from_civil / civil_from_days ("chrono-Compatible
 * Low-Level Date Algorithms"), shifted from 1970-01-01 to 2000-01-01. */
#ifndef KILN_RUNTIME_CIVIL_H
#define KILN_RUNTIME_CIVIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KILN_UNIX_TO_PG_DAYS 10957 /* 2000-01-01 - 1970-01-01 */
#define KILN_MICROS_PER_DAY 86400000000LL

typedef struct kiln_civil {
  int64_t year;  /* 0 is 1 BC */
  int32_t month; /* 1..12 */
  int32_t day;   /* 1..31 */
} kiln_civil;

static inline int kiln_is_leap_year(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static inline int32_t kiln_days_in_month(int64_t year, int32_t month) {
  static const int32_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[month - 1] + (month == 2 && kiln_is_leap_year(year));
}

/* Whether year-month-day names a day (any year). */
static inline int kiln_civil_valid(int64_t year, int64_t month, int64_t day) {
  return month >= 1 && month <= 12 && day >= 1 && day <= kiln_days_in_month(year, (int32_t)month);
}

static inline int64_t kiln_days_from_civil(int64_t year, int32_t month, int32_t day) {
  int64_t y = year - (month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 - KILN_UNIX_TO_PG_DAYS;
}

static inline kiln_civil kiln_civil_from_days(int64_t days) {
  int64_t z = days + 719468 + KILN_UNIX_TO_PG_DAYS;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  kiln_civil c;
  c.day = (int32_t)(doy - (153 * mp + 2) / 5 + 1);
  c.month = (int32_t)(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  return c;
}

/* The units date_trunc truncates to, finest first. */
typedef enum kiln_date_unit {
  KILN_UNIT_MICROSECONDS = 0,
  KILN_UNIT_MILLISECONDS = 1,
  KILN_UNIT_SECOND = 2,
  KILN_UNIT_MINUTE = 3,
  KILN_UNIT_HOUR = 4,
  KILN_UNIT_DAY = 5,
  KILN_UNIT_WEEK = 6, /* starting on Monday */
  KILN_UNIT_MONTH = 7,
  KILN_UNIT_QUARTER = 8,
  KILN_UNIT_YEAR = 9
} kiln_date_unit;

/* A PostgreSQL keyword (a date unit or field) and its code. */
typedef struct kiln_named_code {
  const char *name;
  int32_t code;
} kiln_named_code;

/* The code of `name` in `names`, or -1. */
static inline int32_t kiln_code_named(const kiln_named_code *names, size_t count, const char *name,
                                      size_t length) {
  for (size_t i = 0; i < count; ++i)
    if (strlen(names[i].name) == length && memcmp(names[i].name, name, length) == 0)
      return names[i].code;
  return -1;
}

/* A unit by the name PostgreSQL accepts (lower case), or -1. */
static inline int32_t kiln_date_unit_named(const char *name, size_t length) {
  static const kiln_named_code names[] = {{"microseconds", KILN_UNIT_MICROSECONDS},
                                          {"millisecond", KILN_UNIT_MILLISECONDS},
                                          {"milliseconds", KILN_UNIT_MILLISECONDS},
                                          {"second", KILN_UNIT_SECOND},
                                          {"minute", KILN_UNIT_MINUTE},
                                          {"hour", KILN_UNIT_HOUR},
                                          {"day", KILN_UNIT_DAY},
                                          {"week", KILN_UNIT_WEEK},
                                          {"month", KILN_UNIT_MONTH},
                                          {"quarter", KILN_UNIT_QUARTER},
                                          {"year", KILN_UNIT_YEAR}};
  return kiln_code_named(names, sizeof names / sizeof names[0], name, length);
}

/* The fields extract and date_part take. */
typedef enum kiln_date_field {
  KILN_FIELD_MICROSECONDS = 0, /* seconds with their fraction, times 1,000,000 */
  KILN_FIELD_MILLISECONDS = 1, /* seconds with their fraction, times 1,000 */
  KILN_FIELD_SECOND = 2,       /* with its fraction */
  KILN_FIELD_MINUTE = 3,
  KILN_FIELD_HOUR = 4,
  KILN_FIELD_DAY = 5,
  KILN_FIELD_MONTH = 6,
  KILN_FIELD_QUARTER = 7,
  KILN_FIELD_YEAR = 8, /* 1 BC is -1 */
  KILN_FIELD_DECADE = 9,
  KILN_FIELD_CENTURY = 10,
  KILN_FIELD_MILLENNIUM = 11,
  KILN_FIELD_WEEK = 12, /* ISO 8601 week of the ISO year */
  KILN_FIELD_ISOYEAR = 13,
  KILN_FIELD_DOW = 14,    /* 0 Sunday .. 6 Saturday */
  KILN_FIELD_ISODOW = 15, /* 1 Monday .. 7 Sunday */
  KILN_FIELD_DOY = 16,    /* 1 .. 366 */
  KILN_FIELD_EPOCH = 17,  /* seconds since 1970-01-01 00:00:00 */
  /* A timestamptz's offset from UTC in the session zone, seconds east, and its hours and
   * minutes (each with the offset's sign). */
  KILN_FIELD_TIMEZONE = 18,
  KILN_FIELD_TIMEZONE_HOUR = 19,
  KILN_FIELD_TIMEZONE_MINUTE = 20
} kiln_date_field;

/* A field by the name PostgreSQL accepts (lower case; its plural and abbreviated spellings too),
 * or -1. */
static inline int32_t kiln_date_field_named(const char *name, size_t length) {
  static const kiln_named_code names[] = {{"microseconds", KILN_FIELD_MICROSECONDS},
                                          {"microsecond", KILN_FIELD_MICROSECONDS},
                                          {"us", KILN_FIELD_MICROSECONDS},
                                          {"milliseconds", KILN_FIELD_MILLISECONDS},
                                          {"millisecond", KILN_FIELD_MILLISECONDS},
                                          {"ms", KILN_FIELD_MILLISECONDS},
                                          {"second", KILN_FIELD_SECOND},
                                          {"seconds", KILN_FIELD_SECOND},
                                          {"sec", KILN_FIELD_SECOND},
                                          {"minute", KILN_FIELD_MINUTE},
                                          {"minutes", KILN_FIELD_MINUTE},
                                          {"min", KILN_FIELD_MINUTE},
                                          {"hour", KILN_FIELD_HOUR},
                                          {"hours", KILN_FIELD_HOUR},
                                          {"day", KILN_FIELD_DAY},
                                          {"days", KILN_FIELD_DAY},
                                          {"month", KILN_FIELD_MONTH},
                                          {"months", KILN_FIELD_MONTH},
                                          {"mon", KILN_FIELD_MONTH},
                                          {"quarter", KILN_FIELD_QUARTER},
                                          {"year", KILN_FIELD_YEAR},
                                          {"years", KILN_FIELD_YEAR},
                                          {"decade", KILN_FIELD_DECADE},
                                          {"century", KILN_FIELD_CENTURY},
                                          {"millennium", KILN_FIELD_MILLENNIUM},
                                          {"week", KILN_FIELD_WEEK},
                                          {"isoyear", KILN_FIELD_ISOYEAR},
                                          {"dow", KILN_FIELD_DOW},
                                          {"isodow", KILN_FIELD_ISODOW},
                                          {"doy", KILN_FIELD_DOY},
                                          {"epoch", KILN_FIELD_EPOCH},
                                          {"timezone", KILN_FIELD_TIMEZONE},
                                          {"timezone_hour", KILN_FIELD_TIMEZONE_HOUR},
                                          {"timezone_minute", KILN_FIELD_TIMEZONE_MINUTE}};
  return kiln_code_named(names, sizeof names / sizeof names[0], name, length);
}

/* Whether a field is a time zone's (only a timestamptz has one). */
static inline int kiln_date_field_is_zone(int32_t field) { return field >= KILN_FIELD_TIMEZONE; }

/* Whether a field is a time of day, which a date has none of (extract from a date rejects it). */
static inline int kiln_date_field_is_time(int32_t field) { return field <= KILN_FIELD_HOUR; }

/* The decimal digits after the point of extract's NUMERIC result for a field: PostgreSQL gives
 * the seconds of a timestamp in microseconds. */
static inline int32_t kiln_extract_scale(int32_t field, int from_date) {
  if (from_date)
    return 0;
  return field == KILN_FIELD_SECOND || field == KILN_FIELD_EPOCH ? 6
         : field == KILN_FIELD_MILLISECONDS                      ? 3
                                                                 : 0;
}

/* PostgreSQL's timestamp range: 4714-11-24 00:00:00 BC up to (not including) 294277-01-01. */
#define KILN_MIN_TIMESTAMP (-211813488000000000LL)
#define KILN_END_TIMESTAMP 9223371331200000000LL

/* A timestamp (microseconds since 2000-01-01) plus an interval of `months`, `days` and
 * `micros`, as PostgreSQL's timestamp_pl_interval adds one: the months first, on the calendar (a
 * day past the end of the new month becomes its last day: Jan 31 + 1 month is Feb 28 or 29),
 * then the days, then the microseconds. Returns 0 where the result leaves the timestamp range
 * (PostgreSQL's "timestamp out of range"). */
static inline int kiln_timestamp_add_interval(int64_t timestamp, int64_t months, int64_t days,
                                              int64_t micros, int64_t *out) {
  int64_t result = timestamp;
  if (months != 0 || days != 0) {
    int64_t day = timestamp / KILN_MICROS_PER_DAY;
    if (timestamp % KILN_MICROS_PER_DAY < 0)
      --day;
    int64_t time = timestamp - day * KILN_MICROS_PER_DAY;
    if (months != 0) {
      kiln_civil c = kiln_civil_from_days(day);
      int64_t month0 = c.year * 12 + (c.month - 1) + months;
      int64_t year = month0 / 12 - (month0 % 12 < 0);
      if (year < -300000 || year > 300000) /* far outside the range; keeps the calendar exact */
        return 0;
      int32_t month = (int32_t)(month0 - year * 12) + 1;
      int32_t last = kiln_days_in_month(year, month);
      day = kiln_days_from_civil(year, month, c.day > last ? last : c.day);
    }
    if (__builtin_add_overflow(day, days, &day) ||
        __builtin_mul_overflow(day, KILN_MICROS_PER_DAY, &result) ||
        __builtin_add_overflow(result, time, &result))
      return 0;
  }
  if (__builtin_add_overflow(result, micros, &result) || result < KILN_MIN_TIMESTAMP ||
      result >= KILN_END_TIMESTAMP)
    return 0;
  *out = result;
  return 1;
}

/* A UTC offset (seconds east) as PostgreSQL prints it after a timestamptz: "+02", "-03:30",
 * "+00:09:21" (the seconds of a local mean time). Writes at most 9 bytes; returns how many. */
static inline int kiln_format_zone_offset(char *out, int32_t offset) {
  int32_t a = offset < 0 ? -offset : offset;
  int32_t parts[3] = {a / 3600, a / 60 % 60, a % 60};
  int shown = parts[2] != 0 ? 3 : parts[1] != 0 ? 2 : 1;
  int n = 0;
  out[n++] = offset < 0 ? '-' : '+';
  for (int i = 0; i < shown; ++i) {
    if (i > 0)
      out[n++] = ':';
    out[n++] = (char)('0' + parts[i] / 10 % 10);
    out[n++] = (char)('0' + parts[i] % 10);
  }
  return n;
}

/* A timestamp with time zone's text may end in a zone after its time of day: "Z", "UTC" or
 * "GMT", or an offset east of Greenwich, +HH, +HH:MM, +HH:MM:SS, +HHMM or +HHMMSS (or with -),
 * hours up to 15 as PostgreSQL allows. Returns the length of the text before the zone (spaces
 * before it dropped) and sets *offset to the zone's seconds east of UTC; n and 0 when the text
 * names no zone (the session's, UTC, applies); -1 when what follows the time's sign is not an
 * offset. A date alone has no time of day, so its dashes are never taken for a sign. */
static inline int64_t kiln_split_zone(const char *p, int64_t n, int64_t *offset) {
  int64_t end = n;
  *offset = 0;
  while (end > 0 && p[end - 1] == ' ')
    --end;
  int64_t colon = -1; /* the time of day's first colon: a zone comes after it */
  for (int64_t i = 0; i < end; ++i)
    if (p[i] == ':') {
      colon = i;
      break;
    }
  if (colon < 0)
    return n;
  int64_t zone = -1;
  if (p[end - 1] == 'Z' || p[end - 1] == 'z') {
    zone = end - 1;
  } else if (end - colon > 3) {
    char a = (char)(p[end - 3] | 0x20), b = (char)(p[end - 2] | 0x20),
         c = (char)(p[end - 1] | 0x20);
    if ((a == 'u' && b == 't' && c == 'c') || (a == 'g' && b == 'm' && c == 't'))
      zone = end - 3;
  }
  if (zone < 0) {
    int64_t sign = -1;
    for (int64_t i = end - 1; i > colon; --i)
      if (p[i] == '+' || p[i] == '-') {
        sign = i;
        break;
      }
    if (sign < 0)
      return n;
    int64_t fields[3] = {0, 0, 0}, nfields = 0, digits = 0, value = 0, i = sign + 1;
    for (; i <= end; ++i) {
      if (i < end && p[i] >= '0' && p[i] <= '9') {
        value = value * 10 + (p[i] - '0');
        if (++digits > 6)
          return -1;
        continue;
      }
      if (i < end && p[i] != ':')
        return -1;
      if (digits == 0 || nfields == 3)
        return -1;
      if (nfields == 0 && digits > 2) { /* HHMM or HHMMSS: split by pairs */
        if (digits != 4 && digits != 6)
          return -1;
        for (int64_t k = digits / 2 - 1; k >= 0; --k, value /= 100)
          fields[k] = value % 100;
        nfields = digits / 2;
      } else {
        if (digits > 2)
          return -1;
        fields[nfields++] = value;
      }
      digits = 0;
      value = 0;
    }
    if (fields[0] > 15 || fields[1] > 59 || fields[2] > 59)
      return -1;
    *offset = (fields[0] * 3600 + fields[1] * 60 + fields[2]) * (p[sign] == '-' ? -1 : 1);
    zone = sign;
  }
  while (zone > 0 && p[zone - 1] == ' ')
    --zone;
  return zone;
}

/* ---- Date and timestamp text, as PostgreSQL's date_in and timestamp_in read ISO dates ----
 * [space]Y-M-D[( |T)H:MM[:SS[.ffffff]]][ BC|AD][space]: years of 4 to 9 digits, month, day and
 * hour of 1 or 2, seconds optional, microseconds rounded, 24:00:00 and :60 rolled over. The one
 * parser the compiler (literals), the stdlib (casts from text) and the runtime (input) share.
 * Returns 0 with the day (days since 2000-01-01) and the time of day (microseconds), or what is
 * wrong: */
#define KILN_DATETIME_SYNTAX 1      /* not such a text */
#define KILN_DATETIME_FIELD_RANGE 2 /* a field out of range: month 13, February 30, hour 25 */
#define KILN_DATETIME_RANGE 3       /* beyond the type's limits */
/* PostgreSQL's limits: both types start at 4714-11-24 BC (Julian day 0); DATE ends with
 * 5874897-12-31, TIMESTAMP with 294276-12-31 23:59:59.999999. */
#define KILN_MIN_DAY (-2451545LL)
#define KILN_DATE_END_YEAR 5874898
#define KILN_TIMESTAMP_END_YEAR 294277

static inline int kiln_civil_is_space(char c) { /* isspace in the "C" locale */
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static inline int kiln_civil_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads 1..max_len digits at s[*i]; returns the count read. */
static inline int kiln_civil_read_num(const char *s, int64_t n, int64_t *i, int max_len,
                                      int64_t *out) {
  int len = 0;
  *out = 0;
  while (*i < n && kiln_civil_is_digit(s[*i]) && len < max_len)
    *out = *out * 10 + (s[(*i)++] - '0'), ++len;
  return len;
}

static inline int kiln_parse_datetime(const char *s, int64_t n, int64_t end_year, int64_t *days_out,
                                      int64_t *time_out) {
  int64_t i = 0, y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
  while (i < n && kiln_civil_is_space(s[i]))
    ++i;
  if (kiln_civil_read_num(s, n, &i, 9, &y) < 4 || i >= n || s[i++] != '-' ||
      !kiln_civil_read_num(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
      !kiln_civil_read_num(s, n, &i, 2, &d))
    return KILN_DATETIME_SYNTAX;
  if (i + 1 < n && (s[i] == ' ' || s[i] == 'T') && kiln_civil_is_digit(s[i + 1])) {
    ++i;
    if (!kiln_civil_read_num(s, n, &i, 2, &h) || i >= n || s[i++] != ':' ||
        kiln_civil_read_num(s, n, &i, 2, &mi) != 2)
      return KILN_DATETIME_SYNTAX;
    if (i < n && s[i] == ':') {
      ++i;
      if (kiln_civil_read_num(s, n, &i, 2, &sec) != 2)
        return KILN_DATETIME_SYNTAX;
      if (i < n && s[i] == '.') {
        int64_t begin = ++i, unit = 1000000;
        for (; i < n && kiln_civil_is_digit(s[i]); ++i) {
          if (i - begin < 6)
            frac += (s[i] - '0') * (unit /= 10);
          else if (i - begin == 6 && s[i] >= '5')
            ++frac; /* rounds at microseconds */
        }
        if (i == begin)
          return KILN_DATETIME_SYNTAX;
      }
    }
  }
  int64_t j = i;
  int bc = 0;
  while (j < n && kiln_civil_is_space(s[j]))
    ++j;
  if (j > i && j + 1 < n) { /* era suffix */
    char a = (char)(s[j] | 0x20), b = (char)(s[j + 1] | 0x20);
    if ((a == 'b' && b == 'c') || (a == 'a' && b == 'd')) {
      bc = a == 'b';
      i = j + 2;
    }
  }
  while (i < n && kiln_civil_is_space(s[i]))
    ++i;
  if (i != n)
    return KILN_DATETIME_SYNTAX;
  if (y == 0)
    return KILN_DATETIME_FIELD_RANGE; /* there is no year 0 */
  if (bc)
    y = 1 - y; /* 1 BC is astronomical year 0 */
  if (mo < 1 || mo > 12 || d < 1 || d > kiln_days_in_month(y, (int32_t)mo) || h > 24 || mi > 59 ||
      sec > 60 || (h == 24 && (mi | sec | frac)))
    return KILN_DATETIME_FIELD_RANGE;
  int64_t days = kiln_days_from_civil(y, (int32_t)mo, (int32_t)d);
  int64_t time = ((h * 60 + mi) * 60 + sec) * 1000000 + frac; /* 24:00:00 and :60 roll over */
  int64_t total_days = days + time / KILN_MICROS_PER_DAY;
  if (total_days < KILN_MIN_DAY || y >= end_year ||
      total_days >= kiln_days_from_civil(end_year, 1, 1))
    return KILN_DATETIME_RANGE;
  *days_out = days;
  *time_out = time;
  return 0;
}

#endif /* KILN_RUNTIME_CIVIL_H */
