// kiln/runtime/zone.h over Abseil's time zones. Abseil loads a zone by name through a factory that
// programs may replace (cctz_extension::zone_info_source_factory); Kiln's serves the TZif bytes a
// program embeds under a name no file has, and leaves every other name to Abseil's own factory.

#include "kiln/runtime/zone.h"

#include <absl/time/civil_time.h>
#include <absl/time/internal/cctz/include/cctz/zone_info_source.h>
#include <absl/time/time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cctz = absl::time_internal::cctz;

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
// Seconds from 1970-01-01 (Abseil's epoch) to 2000-01-01 (PostgreSQL's and Kiln's).
constexpr int64_t kUnixToKilnSeconds = 946684800;

class BytesSource : public cctz::ZoneInfoSource {
public:
  explicit BytesSource(const std::string &bytes) : bytes_(bytes) {}
  std::size_t Read(void *ptr, std::size_t size) override {
    size = std::min(size, bytes_.size() - at_);
    std::memcpy(ptr, bytes_.data() + at_, size);
    at_ += size;
    return size;
  }
  int Skip(std::size_t offset) override {
    if (offset > bytes_.size() - at_)
      return -1;
    at_ += offset;
    return 0;
  }

private:
  const std::string &bytes_; // owned by the registry, which never forgets a zone
  std::size_t at_ = 0;
};

// Embedded zones by the name they are loaded under: "kiln-embedded:" + IANA name + ":" + a hash
// of the bytes, so that two programs in one process (kiln-slt compiles many) that embed the
// same zone from different databases do not share Abseil's cache entry. Entries are never
// removed: a kiln_zone's `loaded` points at one, whatever memory the kiln_zone itself is in.
struct Embedded {
  std::string bytes;
  std::unique_ptr<absl::TimeZone> rules; // once loaded
};
std::mutex registry_lock;
std::map<std::string, Embedded> &registry() {
  static auto *zones = new std::map<std::string, Embedded>();
  return *zones;
}
constexpr char kEmbeddedPrefix[] = "kiln-embedded:";

std::unique_ptr<cctz::ZoneInfoSource>
embeddedFactory(const std::string &name,
                const std::function<std::unique_ptr<cctz::ZoneInfoSource>(const std::string &)>
                    &default_factory) {
  if (name.rfind(kEmbeddedPrefix, 0) == 0) {
    std::lock_guard<std::mutex> guard(registry_lock);
    auto found = registry().find(name);
    if (found != registry().end())
      return std::make_unique<BytesSource>(found->second.bytes);
    return nullptr;
  }
  return default_factory(name);
}

std::string bytesOf(const kiln_zone *zone) {
  return std::string(reinterpret_cast<const char *>(zone->tzif),
                     static_cast<size_t>(zone->tzif_size));
}

std::string embeddedName(const kiln_zone *zone, const std::string &bytes) {
  return std::string(kEmbeddedPrefix) + (zone->name ? zone->name : "") + ":" +
         std::to_string(std::hash<std::string>()(bytes));
}

const absl::TimeZone *load(kiln_zone *zone) {
  std::string bytes = bytesOf(zone);
  std::string name = embeddedName(zone, bytes);
  {
    std::lock_guard<std::mutex> guard(registry_lock);
    static std::once_flag installed;
    std::call_once(installed, [] {
      absl::time_internal::cctz_extension::zone_info_source_factory = embeddedFactory;
    });
    Embedded &entry = registry()[name];
    if (entry.rules)
      return entry.rules.get();
    if (entry.bytes.empty())
      entry.bytes = std::move(bytes);
  }
  // Outside the lock: Abseil calls embeddedFactory, which takes it.
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz))
    return nullptr;
  std::lock_guard<std::mutex> guard(registry_lock);
  Embedded &entry = registry()[name];
  if (!entry.rules)
    entry.rules = std::make_unique<absl::TimeZone>(tz);
  return entry.rules.get();
}

// The zone's rules, loaded by the first caller; NULL if its bytes are not a zone.
const absl::TimeZone *rules(kiln_zone *zone) {
  auto *slot = reinterpret_cast<std::atomic<void *> *>(&zone->loaded);
  static_assert(sizeof(std::atomic<void *>) == sizeof(void *));
  if (void *loaded = slot->load(std::memory_order_acquire))
    return static_cast<const absl::TimeZone *>(loaded);
  const absl::TimeZone *rules = load(zone);
  if (rules) // every loader finds the same entry: storing it twice is harmless
    slot->store(const_cast<absl::TimeZone *>(rules), std::memory_order_release);
  return rules;
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

} // namespace

extern "C" kiln_zone *kiln_zone_keep(const kiln_zone *zone) {
  if (!zone)
    return nullptr;
  struct Kept {
    std::string name, bytes;
    kiln_zone zone{};
  };
  static std::mutex lock;
  static auto *kept = new std::map<std::string, std::unique_ptr<Kept>>();
  std::string bytes = bytesOf(zone);
  std::string key = embeddedName(zone, bytes);
  std::lock_guard<std::mutex> guard(lock);
  std::unique_ptr<Kept> &copy = (*kept)[key];
  if (!copy) {
    copy = std::make_unique<Kept>();
    copy->name = zone->name ? zone->name : "";
    copy->bytes = std::move(bytes);
    copy->zone.name = copy->name.c_str();
    copy->zone.tzif = reinterpret_cast<const uint8_t *>(copy->bytes.data());
    copy->zone.tzif_size = static_cast<int64_t>(copy->bytes.size());
  }
  return rules(&copy->zone) ? &copy->zone : nullptr;
}

extern "C" int32_t kiln_zone_load(kiln_zone *zone) {
  return zone == nullptr || rules(zone) != nullptr ? 0 : -1;
}

extern "C" int32_t kiln_zone_offset(kiln_zone *zone, int64_t micros) {
  const absl::TimeZone *tz = zone ? rules(zone) : nullptr;
  if (!tz)
    return 0;
  absl::Time instant =
      absl::FromUnixSeconds(floorDiv(micros, kMicrosPerSecond) + kUnixToKilnSeconds);
  return tz->At(instant).offset;
}

extern "C" int64_t kiln_zone_from_local(kiln_zone *zone, int64_t local, int32_t *offset) {
  const absl::TimeZone *tz = zone ? rules(zone) : nullptr;
  if (!tz) {
    *offset = 0;
    return local;
  }
  int64_t seconds = floorDiv(local, kMicrosPerSecond) + kUnixToKilnSeconds;
  absl::CivilSecond wall = absl::CivilSecond(1970, 1, 1, 0, 0, 0) + seconds;
  absl::TimeZone::TimeInfo info = tz->At(wall);
  absl::Time chosen = info.kind == absl::TimeZone::TimeInfo::REPEATED ? info.post : info.pre;
  *offset = static_cast<int32_t>(seconds - absl::ToUnixSeconds(chosen));
  return local - static_cast<int64_t>(*offset) * kMicrosPerSecond;
}

extern "C" int32_t kiln_zone_abbreviation(kiln_zone *zone, int64_t micros, char *out, int32_t cap) {
  const absl::TimeZone *tz = zone ? rules(zone) : nullptr;
  std::string abbreviation = "UTC";
  if (tz) {
    absl::Time instant =
        absl::FromUnixSeconds(floorDiv(micros, kMicrosPerSecond) + kUnixToKilnSeconds);
    abbreviation = tz->At(instant).zone_abbr;
  }
  size_t n = std::min(abbreviation.size(), static_cast<size_t>(cap > 0 ? cap : 0));
  std::memcpy(out, abbreviation.data(), n);
  return static_cast<int32_t>(n);
}
