// kiln/runtime/zone.h: offsets, PostgreSQL's reading of skipped and repeated wall-clock times,
// zones kept past their program, damaged zones; and the runtime's timestamptz text in a session
// zone (Values.h). Expected values are PostgreSQL 15's in the same zone.
#include "kiln/runtime/zone.h"
#include "kiln/runtime/Values.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

// A zone over the system database's TZif file, as `kiln build` embeds it.
struct TestZone {
  explicit TestZone(const std::string &name) : name(name) {
    std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    bytes = out.str();
    zone.name = this->name.c_str();
    zone.tzif = reinterpret_cast<const uint8_t *>(bytes.data());
    zone.tzif_size = static_cast<int64_t>(bytes.size());
  }
  std::string name, bytes;
  kiln_zone zone{};
};

constexpr int64_t kSecond = 1000000;
constexpr int64_t kHour = 3600 * kSecond;

// Microseconds since 2000-01-01 of a UTC or wall-clock time, through the runtime's parser.
int64_t at(const char *text) { return *kiln::runtime::parseTimestamp(text); }

TEST(ZoneTest, OffsetsFollowTheRules) {
  TestZone paris("Europe/Paris");
  ASSERT_EQ(kiln_zone_load(&paris.zone), 0);
  EXPECT_EQ(kiln_zone_offset(&paris.zone, at("2024-01-15 12:00:00")), 3600);
  EXPECT_EQ(kiln_zone_offset(&paris.zone, at("2024-07-01 12:00:00")), 7200);
  // Before 1911 Paris kept its local mean time, 9 minutes 21 seconds east.
  EXPECT_EQ(kiln_zone_offset(&paris.zone, at("1900-06-01 12:00:00")), 561);
  // The change happens at 01:00 UTC.
  EXPECT_EQ(kiln_zone_offset(&paris.zone, at("2024-03-31 00:59:59")), 3600);
  EXPECT_EQ(kiln_zone_offset(&paris.zone, at("2024-03-31 01:00:00")), 7200);
  EXPECT_EQ(kiln_zone_offset(nullptr, at("2024-07-01 12:00:00")), 0);
}

TEST(ZoneTest, WallClockTimesAsPostgreSQLReadsThem) {
  TestZone paris("Europe/Paris");
  int32_t offset = 0;
  // An ordinary time.
  EXPECT_EQ(kiln_zone_from_local(&paris.zone, at("2024-07-01 12:00:00"), &offset),
            at("2024-07-01 10:00:00"));
  EXPECT_EQ(offset, 7200);
  // 02:30 on 2024-03-31 never happened: PostgreSQL reads it with the offset before the change,
  // 03:30+02.
  EXPECT_EQ(kiln_zone_from_local(&paris.zone, at("2024-03-31 02:30:00"), &offset),
            at("2024-03-31 01:30:00"));
  EXPECT_EQ(offset, 3600);
  // 02:30 on 2024-10-27 happened twice: PostgreSQL takes the second, 02:30+01.
  EXPECT_EQ(kiln_zone_from_local(&paris.zone, at("2024-10-27 02:30:00"), &offset),
            at("2024-10-27 01:30:00"));
  EXPECT_EQ(offset, 3600);
  EXPECT_EQ(kiln_zone_from_local(nullptr, at("2024-10-27 02:30:00"), &offset),
            at("2024-10-27 02:30:00"));
  EXPECT_EQ(offset, 0);
  // Sub-second times keep their fraction; before the epoch too.
  EXPECT_EQ(kiln_zone_from_local(&paris.zone, at("1999-12-31 23:59:59.25"), &offset),
            at("1999-12-31 22:59:59.25"));
}

TEST(ZoneTest, KeptZonesOutliveTheirProgram) {
  kiln_zone *kept;
  {
    TestZone kolkata("Asia/Kolkata");
    kept = kiln_zone_keep(&kolkata.zone);
    ASSERT_NE(kept, nullptr);
    TestZone again("Asia/Kolkata");
    EXPECT_EQ(kiln_zone_keep(&again.zone), kept); // equal zones share one copy
  }
  EXPECT_EQ(kiln_zone_offset(kept, at("2024-01-01 00:00:00")), 19800);
  EXPECT_STREQ(kept->name, "Asia/Kolkata");
  EXPECT_EQ(kiln_zone_keep(nullptr), nullptr);
}

TEST(ZoneTest, DamagedZonesAreErrors) {
  TestZone damaged("Europe/Paris");
  damaged.bytes = "TZif2 but nothing after it";
  damaged.zone.tzif = reinterpret_cast<const uint8_t *>(damaged.bytes.data());
  damaged.zone.tzif_size = static_cast<int64_t>(damaged.bytes.size());
  damaged.zone.name = "Damaged/Zone";
  EXPECT_EQ(kiln_zone_load(&damaged.zone), -1);
  EXPECT_EQ(kiln_zone_keep(&damaged.zone), nullptr);
  // Using it anyway reads UTC rather than crashing.
  EXPECT_EQ(kiln_zone_offset(&damaged.zone, at("2024-07-01 12:00:00")), 0);
}

TEST(ZoneTest, SessionZoneText) {
  TestZone st_johns("America/St_Johns"), paris("Europe/Paris");
  using kiln::runtime::formatTimestampTz;
  using kiln::runtime::parseTimestampTz;
  kiln::runtime::setSessionZone(kiln_zone_keep(&st_johns.zone));
  EXPECT_EQ(formatTimestampTz(at("2024-01-15 12:00:00")), "2024-01-15 08:30:00-03:30");
  EXPECT_EQ(formatTimestampTz(at("2024-07-15 12:00:00.5")), "2024-07-15 09:30:00.5-02:30");
  EXPECT_EQ(*parseTimestampTz("2024-01-15 08:30:00"), at("2024-01-15 12:00:00"));
  EXPECT_EQ(*parseTimestampTz("2024-01-15 08:30:00+00"), at("2024-01-15 08:30:00"));
  kiln::runtime::setSessionZone(kiln_zone_keep(&paris.zone));
  EXPECT_EQ(formatTimestampTz(at("1900-06-01 11:50:39")), "1900-06-01 12:00:00+00:09:21");
  EXPECT_EQ(*parseTimestampTz("2024-03-31 02:30:00"), at("2024-03-31 01:30:00"));
  kiln::runtime::setSessionZone(nullptr);
  EXPECT_EQ(formatTimestampTz(at("2024-01-15 12:00:00")), "2024-01-15 12:00:00+00");
  EXPECT_EQ(*parseTimestampTz("2024-01-15 12:00:00"), at("2024-01-15 12:00:00"));
}

} // namespace
