#include "kiln/IR/TimeZone.h"

#include "kiln/runtime/zone.h"

#include <absl/strings/match.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace kiln::ir {

namespace {

struct LoadedZone {
  std::string name, tzif;
  kiln_zone zone{};
};

} // namespace

bool isUtcZone(std::string_view name) {
  absl::string_view text(name.data(), name.size()); // Debian's Abseil has its own string_view
  return text.empty() || absl::EqualsIgnoreCase(text, "UTC") ||
         absl::EqualsIgnoreCase(text, "Etc/UTC");
}

kiln_zone *timeZone(std::string_view name, std::string *error) {
  if (isUtcZone(name))
    return nullptr;
  static std::mutex lock;
  static auto *zones = new std::map<std::string, std::unique_ptr<LoadedZone>, std::less<>>();
  std::lock_guard<std::mutex> guard(lock);
  if (auto found = zones->find(name); found != zones->end())
    return &found->second->zone;
  const char *dir = std::getenv("TZDIR");
  std::string root = dir && *dir ? dir : "/usr/share/zoneinfo";
  auto fail = [&](const std::string &why) -> kiln_zone * {
    if (error)
      *error = why;
    return nullptr;
  };
  // A name is a path under the database: nothing that climbs out of it.
  if (name.front() == '/' || name.find("..") != std::string_view::npos)
    return fail("time zone \"" + std::string(name) + "\" is not a name of the zone database");
  std::ifstream in(root + "/" + std::string(name), std::ios::binary);
  std::ostringstream bytes;
  if (in)
    bytes << in.rdbuf();
  auto loaded = std::make_unique<LoadedZone>();
  loaded->name = std::string(name);
  loaded->tzif = bytes.str();
  loaded->zone.name = loaded->name.c_str();
  loaded->zone.tzif = reinterpret_cast<const uint8_t *>(loaded->tzif.data());
  loaded->zone.tzif_size = static_cast<int64_t>(loaded->tzif.size());
  if (!in || loaded->tzif.rfind("TZif", 0) != 0 || kiln_zone_load(&loaded->zone) != 0)
    return fail("unknown time zone \"" + std::string(name) + "\" (not in " + root + ")");
  kiln_zone *zone = &loaded->zone;
  zones->emplace(loaded->name, std::move(loaded));
  return zone;
}

std::string_view timeZoneData(const kiln_zone *zone) {
  return {reinterpret_cast<const char *>(zone->tzif), static_cast<size_t>(zone->tzif_size)};
}

int64_t localTime(kiln_zone *zone, int64_t micros) {
  return micros + static_cast<int64_t>(kiln_zone_offset(zone, micros)) * 1000000;
}

int64_t instantOfLocal(kiln_zone *zone, int64_t local) {
  int32_t offset;
  return kiln_zone_from_local(zone, local, &offset);
}

} // namespace kiln::ir
