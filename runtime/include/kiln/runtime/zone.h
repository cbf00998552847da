/* Time zones of the IANA database, for `timestamp with time zone` in a session time zone other
 * than UTC. A program carries its session zone's TZif file (what /usr/share/zoneinfo holds),
 * embedded by `kiln build`, so that it needs no zone database where it runs; Abseil's time zone
 * library (CCTZ) reads the rules from those bytes.
 *
 * Every function takes NULL for UTC and then does no work: UTC, Kiln's default session zone,
 * costs nothing.
 *
 * Plain C: the stdlib (C, compiled to bitcode) calls these from generated code. The
 * implementation is C++ (lib/Zone.cpp). */
#ifndef KILN_RUNTIME_ZONE_H
#define KILN_RUNTIME_ZONE_H

#include <stdint.h>

#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_zone {
  const char *name;    /* the IANA name, e.g. "Europe/Paris" */
  const uint8_t *tzif; /* the zone's TZif file */
  int64_t tzif_size;
  void *loaded; /* the zone's rules, read from tzif by the first use; NULL before */
} kiln_zone;

/* Reads the zone's rules from its TZif bytes (at most once). 0 on success, -1 if the bytes are
 * not a zone. The other functions load on first use too; a program calls this at start so that a
 * damaged zone is an error there, not a fall back to UTC later. */
int32_t kiln_zone_load(kiln_zone *zone);

/* A copy of `zone` that lives as long as the process (NULL for NULL), loaded; NULL if its bytes
 * are not a zone. For whoever keeps a zone longer than the program that carries it: the
 * runtime's session zone outlives a program kiln-slt compiled and freed. Equal zones (name and
 * bytes) share one copy. */
kiln_zone *kiln_zone_keep(const kiln_zone *zone);

/* The zone's offset from UTC, seconds east, at the instant `micros` (microseconds since
 * 2000-01-01 00:00:00 UTC). */
int32_t kiln_zone_offset(kiln_zone *zone, int64_t micros);

/* The instant whose wall-clock time in the zone is `local` (microseconds since 2000-01-01
 * 00:00:00 on the zone's clock), and its offset in *offset (seconds east), as PostgreSQL's
 * DetermineTimeZoneOffset resolves a time a transition skips or repeats: a skipped time (spring
 * forward) is read with the offset before the transition, so 02:30 becomes 03:30 of the new
 * offset; a repeated time (fall back) with the offset after it. */
int64_t kiln_zone_from_local(kiln_zone *zone, int64_t local, int32_t *offset);

/* The zone's abbreviation at the instant `micros` ("CET", "CEST", "-03", "LMT"; "UTC" for
 * NULL), written to `out` (at most `cap` bytes, no NUL); returns its length. */
int32_t kiln_zone_abbreviation(kiln_zone *zone, int64_t micros, char *out, int32_t cap);

/* timestamptz + interval as PostgreSQL's timestamptz_pl_interval adds them: the months, then the
 * days, each on the zone's wall clock (so a day across a DST change is 23 or 25 hours), then the
 * microseconds. 0 if the result leaves the timestamp range, else 1 and the instant in *out. */
static inline int kiln_zone_add_interval(kiln_zone *zone, int64_t micros, kiln_interval v,
                                         int64_t *out) {
  int32_t offset;
  *out = micros;
  if (v.months != 0) {
    int64_t local = zone ? *out + (int64_t)kiln_zone_offset(zone, *out) * 1000000 : *out;
    if (!kiln_timestamp_add_interval(local, v.months, 0, 0, out))
      return 0;
    if (zone)
      *out = kiln_zone_from_local(zone, *out, &offset);
  }
  if (v.days != 0) {
    int64_t local = zone ? *out + (int64_t)kiln_zone_offset(zone, *out) * 1000000 : *out;
    if (!kiln_timestamp_add_interval(local, 0, v.days, 0, out))
      return 0;
    if (zone)
      *out = kiln_zone_from_local(zone, *out, &offset);
  }
  return kiln_timestamp_add_interval(*out, 0, 0, v.micros, out);
}

#ifdef __cplusplus
}
#endif

#endif
