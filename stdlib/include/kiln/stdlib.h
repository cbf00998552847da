/* Kiln's SQL standard library: the functions generated code calls for work that is too large to
 * emit inline (text, NUMERIC division and rescaling, conversions to and from text).
 *
 * Compiled twice: to LLVM bitcode (kiln_stdlib.bc), which `kiln build` links into every generated
 * module so LLVM can inline these into the fused pipelines, and to a static archive for embedders.
 * Signatures use only pointers and scalars so the C ABI is the same from clang and from IRBuilder.
 *
 * Semantics follow PostgreSQL. Errors are raised through kiln_raise(rt, code, location) (see
 * kiln/runtime/abi.h); `location` is an index into the program's location table. Text results are
 * allocated with kiln_scratch (valid until the end of the tick) and returned through `out`; a
 * result that is a piece of an input (trims, substr, concat with an empty side, replace without a
 * match) points into that input instead of being copied.
 * NUMERIC values are __int128 scaled by 10^scale; PostgreSQL rounds half away from zero.
 */
#ifndef KILN_STDLIB_H
#define KILN_STDLIB_H

#include "kiln/runtime/abi.h"
#include "kiln/runtime/zone.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- hashing and comparison ---- */
uint64_t kiln_hash_bytes(const char *p, int64_t n);
uint64_t kiln_hash_mix(uint64_t h, uint64_t v); /* combine a running hash with one value's bits */
int32_t kiln_text_cmp(const char *a, int64_t la, const char *b, int64_t lb); /* <0, 0, >0 ("C") */
int32_t kiln_text_eq(const char *a, int64_t la, const char *b, int64_t lb);
int32_t kiln_f64_cmp(double a, double b); /* NaN equals NaN and sorts above everything */
int32_t kiln_numeric_cmp(__int128 a, int32_t sa, __int128 b, int32_t sb); /* exact, any scales */

/* ---- NUMERIC arithmetic: result at scale rs, precision 38; overflow raises ---- */
__int128 kiln_numeric_add(kiln_runtime *rt, __int128 a, int32_t sa, __int128 b, int32_t sb,
                          int32_t rs, int32_t loc);
__int128 kiln_numeric_sub(kiln_runtime *rt, __int128 a, int32_t sa, __int128 b, int32_t sb,
                          int32_t rs, int32_t loc);
__int128 kiln_numeric_mul(kiln_runtime *rt, __int128 a, int32_t sa, __int128 b, int32_t sb,
                          int32_t rs, int32_t loc);
__int128 kiln_numeric_div(kiln_runtime *rt, __int128 a, int32_t sa, __int128 b, int32_t sb,
                          int32_t rs, int32_t loc); /* division by zero raises */
__int128 kiln_numeric_mod(kiln_runtime *rt, __int128 a, int32_t sa, __int128 b, int32_t sb,
                          int32_t rs, int32_t loc);
/* `v` at scale `from` -> scale `to`, rounding half away from zero; raises "numeric field
 * overflow" if the result needs more than `precision` digits. */
__int128 kiln_numeric_rescale(kiln_runtime *rt, __int128 v, int32_t from, int32_t to,
                              int32_t precision, int32_t loc);
/* How kiln_numeric_round drops digits. */
typedef enum kiln_round_mode {
  KILN_ROUND_HALF_AWAY = 0, /* round: half away from zero */
  KILN_ROUND_TRUNC = 1,
  KILN_ROUND_FLOOR = 2,
  KILN_ROUND_CEIL = 3
} kiln_round_mode;
/* round/trunc/floor/ceil of `v` (scale `from`) to `digits` decimals, result at scale `to`;
 * mode: a kiln_round_mode. */
__int128 kiln_numeric_round(kiln_runtime *rt, __int128 v, int32_t from, int32_t digits, int32_t to,
                            int32_t mode, int32_t loc);
/* sqrt of `v` (scale `from`) at scale `to` (at most 34), rounded half up; a negative `v` raises
 * KILN_ERR_SQRT_NEGATIVE. */
__int128 kiln_numeric_sqrt(kiln_runtime *rt, __int128 v, int32_t from, int32_t to, int32_t loc);
/* variance/stddev as PostgreSQL computes them from a = n*sum(x*x) - sum(x)^2 and b = n*(n-1)
 * (or n*n): a / b rounded at select_div_scale's scale (16 significant digits at least), with
 * `root` its square root rounded at that scale too, then moved to scale `to` (a quotient's
 * digits beyond to + 8 are cut). A negative root raises KILN_ERR_SQRT_NEGATIVE. */
__int128 kiln_numeric_variance(kiln_runtime *rt, __int128 a, int32_t sa, __int128 b, int32_t sb,
                               int32_t root, int32_t to, int32_t loc);
/* Weighted sum step for aggregates: acc + v * weight, raising "numeric field overflow". */
__int128 kiln_numeric_accumulate(kiln_runtime *rt, __int128 acc, __int128 v, int64_t weight,
                                 int32_t loc);

/* ---- conversions ---- */
double kiln_numeric_to_f64(__int128 v, int32_t scale);
/* Like PostgreSQL, through the value's 15-significant-digit text ("%.15g"). NaN and infinities
 * raise KILN_ERR_NUMERIC_OVERFLOW (Kiln's NUMERIC has neither). */
__int128 kiln_f64_to_numeric(kiln_runtime *rt, double v, int32_t scale, int32_t precision,
                             int32_t loc);
/* real (float4), kept as the double of its value (kiln/IR/IR.h Type::real). A double rounded to
 * real: beyond float's range KILN_ERR_FLOAT_OUT_OF_RANGE, a nonzero that rounds to 0
 * KILN_ERR_FLOAT_UNDERFLOW, as PostgreSQL's float8 -> float4 cast and float4 arithmetic. */
double kiln_f64_to_real(kiln_runtime *rt, double v, int32_t loc);
/* NUMERIC to real through its text, rounded once (PostgreSQL's numeric_float4); beyond float's
 * range KILN_ERR_REAL_OUT_OF_RANGE. real to NUMERIC through its 6-significant-digit text
 * ("%.6g"), as PostgreSQL's float4_numeric. */
double kiln_numeric_to_real(kiln_runtime *rt, __int128 v, int32_t scale, int32_t loc);
__int128 kiln_real_to_numeric(kiln_runtime *rt, double v, int32_t scale, int32_t precision,
                              int32_t loc);
/* Rounds to an integer and range-checks against [lo, hi]; raises `code`
 * (KILN_ERR_INT_OUT_OF_RANGE or KILN_ERR_BIGINT_OUT_OF_RANGE) outside it. */
int64_t kiln_numeric_to_int(kiln_runtime *rt, __int128 v, int32_t scale, int64_t lo, int64_t hi,
                            int32_t code, int32_t loc);
int64_t kiln_f64_to_int(kiln_runtime *rt, double v, int64_t lo, int64_t hi, int32_t code,
                        int32_t loc); /* rint(), like PostgreSQL */

/* Text output, PostgreSQL's format (float8: shortest round-trip digits, fixed notation for
 * decimal exponents in [-4, 15), else 1e+20 style; NaN, Infinity, -Infinity). */
void kiln_text_from_i64(kiln_runtime *rt, int64_t v, kiln_str *out);
void kiln_text_from_f64(kiln_runtime *rt, double v, kiln_str *out);
/* A real's text: a float's shortest round-trip digits, fixed notation for decimal exponents in
 * [-4, 6) (PostgreSQL's float4out). */
void kiln_text_from_real(kiln_runtime *rt, double v, kiln_str *out);
void kiln_text_from_numeric(kiln_runtime *rt, __int128 v, int32_t scale, kiln_str *out);
void kiln_text_from_bool(kiln_runtime *rt, int32_t v, kiln_str *out);    /* "true"/"false" */
void kiln_text_from_date(kiln_runtime *rt, int32_t days, kiln_str *out); /* 2024-01-31 */
void kiln_text_from_timestamp(kiln_runtime *rt, int64_t micros,
                              kiln_str *out); /* 2024-01-31 12:00:00[.5] */
/* 2024-01-31 13:00:00[.5]+01: the time on the clock of `zone` (NULL: UTC), and its offset. */
void kiln_text_from_timestamptz(kiln_runtime *rt, int64_t micros, kiln_zone *zone, kiln_str *out);
/* Text input; malformed text raises KILN_ERR_INVALID_TEXT_CAST (out of range: the range error:
 * `code` for integers, KILN_ERR_FLOAT_OUT_OF_RANGE, KILN_ERR_NUMERIC_OVERFLOW). Dates and
 * timestamps take YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][ BC]; a field out of range (2023-02-29,
 * 25:00) or a value beyond PostgreSQL's limits raises KILN_ERR_DATE_OUT_OF_RANGE. */
int64_t kiln_text_to_int(kiln_runtime *rt, const char *p, int64_t n, int64_t lo, int64_t hi,
                         int32_t code, int32_t loc);
double kiln_text_to_f64(kiln_runtime *rt, const char *p, int64_t n, int32_t loc);
/* Text read as a real, rounded once; beyond float's range KILN_ERR_REAL_OUT_OF_RANGE. */
double kiln_text_to_real(kiln_runtime *rt, const char *p, int64_t n, int32_t loc);
__int128 kiln_text_to_numeric(kiln_runtime *rt, const char *p, int64_t n, int32_t scale,
                              int32_t precision, int32_t loc);
int32_t kiln_text_to_bool(kiln_runtime *rt, const char *p, int64_t n, int32_t loc);
int32_t kiln_text_to_date(kiln_runtime *rt, const char *p, int64_t n, int32_t loc);
int64_t kiln_text_to_timestamp(kiln_runtime *rt, const char *p, int64_t n, int32_t loc);
/* A timestamp, then a zone (kiln_split_zone) it is in; none: `zone`, the session's. */
int64_t kiln_text_to_timestamptz(kiln_runtime *rt, const char *p, int64_t n, kiln_zone *zone,
                                 int32_t loc);

/* ---- text functions ---- */
/* % and _ (one UTF-8 character), backslash escapes; ILIKE folds ASCII. Reaching a lone backslash
 * at the end of the pattern raises KILN_ERR_LIKE_TRAILING_ESCAPE, as in PostgreSQL. */
int32_t kiln_like(kiln_runtime *rt, const char *s, int64_t n, const char *pattern, int64_t pn,
                  int32_t case_insensitive, int32_t loc);
void kiln_concat(kiln_runtime *rt, const char *a, int64_t la, const char *b, int64_t lb,
                 kiln_str *out);
void kiln_lower(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out); /* ASCII folding */
void kiln_upper(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out);
void kiln_btrim(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out); /* spaces */
void kiln_ltrim(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out);
void kiln_rtrim(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out);
int32_t kiln_length(const char *p, int64_t n); /* characters (UTF-8) */
void kiln_replace(kiln_runtime *rt, const char *p, int64_t n, const char *from, int64_t fn,
                  const char *to, int64_t tn, kiln_str *out);
/* substr(s, start [, count]) in characters, with PostgreSQL's rules for start < 1; count < 0
 * raises KILN_ERR_NEGATIVE_SUBSTRING_LENGTH. */
void kiln_substr(kiln_runtime *rt, const char *p, int64_t n, int64_t start, int64_t count,
                 int32_t has_count, int32_t loc, kiln_str *out);

/* Characters (UTF-8), as PostgreSQL counts them. initcap: the first letter of each run of
 * letters and digits upper case, the others lower (ASCII). left/right with n < 0: all but the
 * last/first -n. repeat, lpad and rpad raise KILN_ERR_LENGTH_TOO_LARGE beyond 1 GB; split_part
 * raises KILN_ERR_FIELD_POSITION_ZERO for field 0 and counts a negative field from the end. */
void kiln_initcap(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out);
void kiln_reverse(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out);
void kiln_md5(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out); /* 32 hex digits */
void kiln_left(kiln_runtime *rt, const char *p, int64_t n, int64_t k, int32_t loc, kiln_str *out);
void kiln_right(kiln_runtime *rt, const char *p, int64_t n, int64_t k, int32_t loc, kiln_str *out);
void kiln_repeat(kiln_runtime *rt, const char *p, int64_t n, int64_t k, int32_t loc, kiln_str *out);
int32_t kiln_strpos(const char *p, int64_t n, const char *sub, int64_t sn); /* 0: not found */
void kiln_split_part(kiln_runtime *rt, const char *p, int64_t n, const char *delim, int64_t dn,
                     int64_t field, int32_t loc, kiln_str *out);
/* Regular expressions (PCRE2, compiled once per pattern and thread): PostgreSQL's advanced
 * regular expressions where the two agree (the usual syntax: classes, quantifiers, groups,
 * alternation, anchors, backreferences, POSIX bracket classes), with PostgreSQL's defaults: `.`
 * matches a newline and `$` only the end. `flags` (may be empty): i (case-insensitive), c (case
 * sensitive), n (newline-sensitive: `.` stops at newlines, `^`/`$` match at lines), s (not), x
 * (expanded: whitespace and # comments ignored), g (replace every match: regexp_replace only).
 * An invalid pattern raises KILN_ERR_INVALID_REGEX, an unknown flag
 * KILN_ERR_INVALID_REGEX_OPTION.
 * regexp_like: whether s has a match. regexp_replace: s with the first (or every, g) match
 * replaced by `r`, where \1..\9 stand for the match's groups and \& for the whole match. */
int32_t kiln_regexp_like(kiln_runtime *rt, const char *p, int64_t n, const char *pattern,
                         int64_t pn, const char *flags, int64_t fn, int32_t loc);
void kiln_regexp_replace(kiln_runtime *rt, const char *p, int64_t n, const char *pattern,
                         int64_t pn, const char *r, int64_t rn, const char *flags, int64_t fn,
                         int32_t loc, kiln_str *out);
/* regexp_split_to_array's pieces: of s between the pattern's matches (a match of no characters
 * at the start or the end, or right after another match, splits nothing, as in PostgreSQL), in
 * scratch memory: *pieces, and *nulls as many zero bytes, for kiln_array_build; returns how
 * many. The g flag raises KILN_ERR_INVALID_REGEX_OPTION. */
int32_t kiln_regexp_split(kiln_runtime *rt, const char *p, int64_t n, const char *pattern,
                          int64_t pn, const char *flags, int64_t fn, int32_t loc, kiln_str **pieces,
                          uint8_t **nulls);
void kiln_lpad(kiln_runtime *rt, const char *p, int64_t n, int64_t len, const char *fill,
               int64_t fn, int32_t loc, kiln_str *out);
void kiln_rpad(kiln_runtime *rt, const char *p, int64_t n, int64_t len, const char *fill,
               int64_t fn, int32_t loc, kiln_str *out);

/* ---- double precision functions, with PostgreSQL's errors ---- */
double kiln_f64_sqrt(kiln_runtime *rt, double x, int32_t loc);
double kiln_f64_cbrt(double x);
double kiln_f64_exp(kiln_runtime *rt, double x, int32_t loc);
double kiln_f64_ln(kiln_runtime *rt, double x, int32_t loc);
double kiln_f64_log10(kiln_runtime *rt, double x, int32_t loc);
double kiln_f64_power(kiln_runtime *rt, double x, double y, int32_t loc);

/* ---- dates and times ---- */
/* unit: a kiln_date_unit (kiln/runtime/civil.h). */
int64_t kiln_date_trunc(int32_t unit, int64_t micros);
/* extract(field FROM timestamp) as a NUMERIC of `scale` digits (kiln_extract_scale), scaled. */
int64_t kiln_extract(int32_t field, int64_t micros, int32_t scale);
/* extract(field FROM date): a whole number (the field is not a time of day). */
int64_t kiln_extract_date(int32_t field, int32_t days);
/* date_part('field', timestamp). */
double kiln_date_part(int32_t field, int64_t micros);
/* timestamp + interval (kiln_timestamp_add_interval), the interval packed
 * (kiln/runtime/interval.h). */
int64_t kiln_add_interval(kiln_runtime *rt, int64_t micros, __int128 interval, int32_t loc);

/* make_date(year, month, day): a negative year is BC; year 0 or a day the month lacks raises
 * KILN_ERR_DATE_FIELD_OUT_OF_RANGE. make_timestamp(year, month, day, hour, min, sec) too; the
 * time may be 24:00:00 and the seconds 60; other times raise KILN_ERR_TIME_FIELD_OUT_OF_RANGE. */
int32_t kiln_make_date(kiln_runtime *rt, int32_t year, int32_t month, int32_t day, int32_t loc);
int64_t kiln_make_timestamp(kiln_runtime *rt, int32_t year, int32_t month, int32_t day,
                            int32_t hour, int32_t minute, double second, int32_t loc);
/* to_char(timestamp, format) with PostgreSQL's template patterns (YYYY, MM, DD, HH24, MI, SS,
 * MS, US, Month, Mon, Day, Dy, AM, Q, WW, IW, J, RM, TZ, OF, ... with FM and TH), `micros` read
 * on the clock of `zone` when `zoned` (a timestamptz), else as it is (a timestamp: its zone
 * fields are empty or +00). */
void kiln_to_char(kiln_runtime *rt, int64_t micros, kiln_zone *zone, int32_t zoned, const char *fmt,
                  int64_t fn, kiln_str *out);
/* to_char of a number (kiln/runtime/numformat.h): a NUMERIC at `scale` (integers at scale 0;
 * int4: an integer or smallint, whose EEEE goes through a double as int4_to_char's does), or a
 * double precision (real: a real, FLT_DIG digits instead of DBL_DIG). */
void kiln_to_char_numeric(kiln_runtime *rt, __int128 v, int32_t scale, int32_t int4,
                          const char *fmt, int64_t fn, kiln_str *out);
void kiln_to_char_float(kiln_runtime *rt, double v, int32_t real, const char *fmt, int64_t fn,
                        kiln_str *out);

/* timestamptz in a session time zone (`zone`, kiln/runtime/zone.h; generated code calls these
 * only for a zone other than UTC). The wall-clock time of an instant (timestamptz::timestamp) and
 * the instant of a wall-clock time (timestamp::timestamptz, PostgreSQL's choice where a
 * transition skips or repeats it). */
int64_t kiln_local_time(kiln_zone *zone, int64_t micros);
int64_t kiln_instant_of_local(kiln_zone *zone, int64_t local);
/* date_trunc on the zone's clock: units of a day and up start at local midnight (its offset
 * found again, as PostgreSQL's timestamptz_trunc does), smaller ones keep the offset. */
int64_t kiln_date_trunc_tz(int32_t unit, int64_t micros, kiln_zone *zone);
/* timestamptz + interval as PostgreSQL's timestamptz_pl_interval adds it: months, then days,
 * on the zone's clock (a day is 23 or 25 hours across a transition), then the time. */
int64_t kiln_add_interval_tz(kiln_runtime *rt, int64_t micros, __int128 interval, kiln_zone *zone,
                             int32_t loc);

/* ---- intervals, packed as kiln/runtime/interval.h says ---- */
/* Its text, as PostgreSQL prints it ("1 day 02:00:00"), and text read as one. */
void kiln_text_from_interval(kiln_runtime *rt, __int128 v, kiln_str *out);
__int128 kiln_text_to_interval(kiln_runtime *rt, const char *p, int64_t n, int32_t loc);
/* timestamp a - timestamp b. */
__int128 kiln_interval_diff(int64_t a, int64_t b);
/* sum(interval)'s accumulator: acc + weight * v, field by field; beyond a field's range an
 * error ("interval out of range"). */
__int128 kiln_interval_accumulate(kiln_runtime *rt, __int128 acc, __int128 v, int64_t weight,
                                  int32_t loc);
/* age(a, b): a - b in years, months, days and time, as PostgreSQL's timestamp_age subtracts
 * field by field (borrowing a month of the length of the earlier timestamp's month). */
__int128 kiln_age(int64_t a, int64_t b);
/* justify_days (30 days a month), justify_hours (24 hours a day), justify_interval (both), with
 * PostgreSQL's sign rules; beyond a field's range an error. */
__int128 kiln_justify_days(kiln_runtime *rt, __int128 v, int32_t loc);
__int128 kiln_justify_hours(kiln_runtime *rt, __int128 v, int32_t loc);
__int128 kiln_justify_interval(kiln_runtime *rt, __int128 v, int32_t loc);
/* a + sign * b (sign 1 or -1; -b is 0 - b); beyond a field's range an error. */
__int128 kiln_interval_add(kiln_runtime *rt, __int128 a, __int128 b, int32_t sign, int32_t loc);
/* v * factor and v / factor as PostgreSQL computes them; out of range, or / 0, an error. */
__int128 kiln_interval_mul(kiln_runtime *rt, __int128 v, double factor, int32_t loc);
__int128 kiln_interval_div(kiln_runtime *rt, __int128 v, double factor, int32_t loc);
/* -1, 0, 1 by span (a month 30 days, a day 24 hours); the span itself, for hashing. */
int32_t kiln_interval_cmp(__int128 a, __int128 b);
__int128 kiln_interval_span_of(__int128 v);
/* extract(field FROM interval) as a NUMERIC of `scale` digits, scaled; date_part's double. */
__int128 kiln_extract_interval(int32_t field, __int128 v, int32_t scale);
double kiln_date_part_interval(int32_t field, __int128 v);

#ifdef __cplusplus
}
#endif

#endif /* KILN_STDLIB_H */
