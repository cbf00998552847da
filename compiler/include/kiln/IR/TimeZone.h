// The session time zone (Module::time_zone) that `timestamp with time zone` values are shown,
// read and converted in, as PostgreSQL's TimeZone setting. Empty (and "UTC") is UTC, which costs
// nothing; any other zone comes from the system's IANA database, and `kiln build` embeds its rules
// in the program (kiln/runtime/zone.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

extern "C" {
struct kiln_zone;
}

namespace kiln::ir {

// Whether the zone named so is UTC: the empty name, "UTC" and "Etc/UTC" (in any case).
bool isUtcZone(std::string_view name);

// The zone named `name` from the zone database (the directory $TZDIR, else /usr/share/zoneinfo),
// read and loaded once per process and kept; nullptr for UTC. An unknown name gives nullptr and
// a message in *error (which stays empty for UTC).
kiln_zone *timeZone(std::string_view name, std::string *error);

// The TZif bytes of a zone timeZone() returned, which the program embeds.
std::string_view timeZoneData(const kiln_zone *zone);

// The wall-clock time in `zone` (nullptr: UTC) of the instant `micros`, and the instant of a
// wall-clock time (PostgreSQL's choice where a transition skips or repeats it), both in
// microseconds since 2000-01-01 (kiln/runtime/zone.h).
int64_t localTime(kiln_zone *zone, int64_t micros);
int64_t instantOfLocal(kiln_zone *zone, int64_t local);

} // namespace kiln::ir
