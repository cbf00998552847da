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

/* A unit by the name PostgreSQL accepts (lower case), or -1. */
static inline int32_t kiln_date_unit_named(const char *name, size_t length) {
  static const struct {
    const char *name;
    int32_t unit;
  } names[] = {{"microseconds", KILN_UNIT_MICROSECONDS},
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
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (strlen(names[i].name) == length && memcmp(names[i].name, name, length) == 0)
      return names[i].unit;
  return -1;
}

#endif /* KILN_RUNTIME_CIVIL_H */
