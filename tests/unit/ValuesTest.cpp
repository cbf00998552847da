// PostgreSQL-compatible text input and output of values, and JSON rows.
#include <cmath>
#include <limits>

#include "TestRelations.h"
#include "kiln/runtime/Values.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

using testing::AllTypesRow;
using ::testing::HasSubstr;
using testing::kAllTypes;

constexpr int32_t k2024_01_31 = 8796; // days from 2000-01-01
constexpr int64_t kMicrosPerDay = 86'400'000'000;

TEST(FormatFloat64, ShortestDigitsInPostgresLayout) {
  EXPECT_EQ(formatFloat64(0.0), "0");
  EXPECT_EQ(formatFloat64(-0.0), "-0");
  EXPECT_EQ(formatFloat64(1.5), "1.5");
  EXPECT_EQ(formatFloat64(0.1), "0.1");
  EXPECT_EQ(formatFloat64(100), "100");
  EXPECT_EQ(formatFloat64(-123.456), "-123.456");
  EXPECT_EQ(formatFloat64(0.1 + 0.2), "0.30000000000000004");
  // Fixed notation for decimal exponents in [-4, 15).
  EXPECT_EQ(formatFloat64(0.0001), "0.0001");
  EXPECT_EQ(formatFloat64(0.00012), "0.00012");
  EXPECT_EQ(formatFloat64(1e14), "100000000000000");
  EXPECT_EQ(formatFloat64(123456789012345.6), "123456789012345.6");
  // Scientific notation otherwise, with at least two exponent digits.
  EXPECT_EQ(formatFloat64(1e15), "1e+15");
  EXPECT_EQ(formatFloat64(1e20), "1e+20");
  EXPECT_EQ(formatFloat64(1.5e-5), "1.5e-05");
  EXPECT_EQ(formatFloat64(123456789012345678901.0), "1.2345678901234568e+20");
  EXPECT_EQ(formatFloat64(-2.5e-310), "-2.5e-310");
  EXPECT_EQ(formatFloat64(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(formatFloat64(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(formatFloat64(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(formatFloat64(-std::numeric_limits<double>::infinity()), "-Infinity");
}

// real and smallint columns (FLOAT64 and INT32 of precision 24 and 16): PostgreSQL 15's answers.
TEST(FormatReal, FloatShortestDigitsFixedBelowExponentSix) {
  EXPECT_EQ(formatReal(0.1f), "0.1");
  EXPECT_EQ(formatReal(123456), "123456");
  EXPECT_EQ(formatReal(1234567), "1.234567e+06");
  EXPECT_EQ(formatReal(16777217.0), "1.6777216e+07"); // the float nearest
  EXPECT_EQ(formatReal(0.0001f), "0.0001");
  EXPECT_EQ(formatReal(0.00001f), "1e-05");
  EXPECT_EQ(formatReal(3.4e38f), "3.4e+38");
  EXPECT_EQ(formatReal(-0.0), "-0");
  EXPECT_EQ(formatReal(std::numeric_limits<double>::infinity()), "Infinity");
}

TEST(ParseReal, RoundsOnceAndRejectsWhatFloatCannotHold) {
  EXPECT_EQ(*parseReal("0.1"), static_cast<double>(0.1f));
  EXPECT_EQ(*parseReal(" 16777217 "), 16777216.0);
  EXPECT_EQ(*parseReal("1e-45"), static_cast<double>(1e-45f));
  EXPECT_TRUE(std::isnan(*parseReal("NaN")));
  EXPECT_THAT(std::string(parseReal("1e39").status().message()),
              HasSubstr("\"1e39\" is out of range for type real"));
  EXPECT_THAT(std::string(parseReal("1e-50").status().message()),
              HasSubstr("is out of range for type real"));
  EXPECT_THAT(std::string(parseReal("one").status().message()), HasSubstr("invalid input"));
  EXPECT_EQ(*narrowToReal(0.1), static_cast<double>(0.1f));
  EXPECT_EQ(narrowToReal(1e39).status().message(), "value out of range: overflow");
  EXPECT_EQ(narrowToReal(1e-50).status().message(), "value out of range: underflow");
}

TEST(ParseInt16, SmallintRange) {
  EXPECT_EQ(*parseInt16("-32768"), -32768);
  EXPECT_EQ(*parseInt16(" 32767 "), 32767);
  EXPECT_THAT(std::string(parseInt16("32768").status().message()),
              HasSubstr("out of range for type smallint"));
}

TEST(FormatNumeric, ExactlyAtScale) {
  EXPECT_EQ(formatNumeric(1250, 2), "12.50");
  EXPECT_EQ(formatNumeric(-5, 2), "-0.05");
  EXPECT_EQ(formatNumeric(0, 0), "0");
  EXPECT_EQ(formatNumeric(0, 2), "0.00");
  EXPECT_EQ(formatNumeric(5, 3), "0.005");
  EXPECT_EQ(formatNumeric(-123, 0), "-123");
  EXPECT_EQ(formatNumeric(12, -2), "1200");
  __int128 big = 1;
  for (int i = 0; i < 38; ++i)
    big *= 10;
  big -= 1; // 38 nines
  EXPECT_EQ(formatNumeric(-big, 10), "-9999999999999999999999999999.9999999999");
}

TEST(FormatDate, IsoAndBc) {
  EXPECT_EQ(formatDate(0), "2000-01-01");
  EXPECT_EQ(formatDate(-1), "1999-12-31");
  EXPECT_EQ(formatDate(k2024_01_31), "2024-01-31");
  EXPECT_EQ(formatDate(-730119), "0001-01-01");
  EXPECT_EQ(formatDate(-730120), "0001-12-31 BC");
  EXPECT_EQ(formatDate(-2451545), "4714-11-24 BC"); // PostgreSQL's first day
  EXPECT_EQ(formatDate(2921939), "9999-12-31");     // the last one formatted by hand
  EXPECT_EQ(formatDate(2921940), "10000-01-01");
  EXPECT_EQ(formatDate(2145031948), "5874897-12-31"); // PostgreSQL's last day
}

TEST(FormatTimestamp, FractionOnlyWhenNonZero) {
  int64_t noon = k2024_01_31 * kMicrosPerDay + 12 * 3'600'000'000LL;
  EXPECT_EQ(formatTimestamp(0), "2000-01-01 00:00:00");
  EXPECT_EQ(formatTimestamp(noon), "2024-01-31 12:00:00");
  EXPECT_EQ(formatTimestamp(noon + 500'000), "2024-01-31 12:00:00.5");
  EXPECT_EQ(formatTimestamp(noon + 1), "2024-01-31 12:00:00.000001");
  EXPECT_EQ(formatTimestamp(noon + 123'450), "2024-01-31 12:00:00.12345");
  EXPECT_EQ(formatTimestamp(-1), "1999-12-31 23:59:59.999999");
}

TEST(ParseNumeric, RoundsHalfAwayFromZeroAtScale) {
  EXPECT_EQ(*parseNumeric("12.5", 10, 2), 1250);
  EXPECT_EQ(*parseNumeric("12.345", 10, 2), 1235);
  EXPECT_EQ(*parseNumeric("-12.345", 10, 2), -1235);
  EXPECT_EQ(*parseNumeric("12.344999", 10, 2), 1234);
  EXPECT_EQ(*parseNumeric("0.005", 10, 2), 1);
  EXPECT_EQ(*parseNumeric("-0.004", 10, 2), 0);
  EXPECT_EQ(*parseNumeric("0.0049", 10, 2), 0);
  EXPECT_EQ(*parseNumeric("1e2", 10, 2), 10000);
  EXPECT_EQ(*parseNumeric("1.5E-1", 10, 2), 15);
  EXPECT_EQ(*parseNumeric("  +3 ", 10, 2), 300);
  EXPECT_EQ(*parseNumeric(".5", 10, 2), 50);
  EXPECT_EQ(*parseNumeric("5.", 10, 2), 500);
  EXPECT_EQ(*parseNumeric("0e999999999", 10, 2), 0);
  EXPECT_EQ(*parseNumeric("7e-999999999", 10, 2), 0);
  EXPECT_EQ(*parseNumeric("000000000000000000000000000000000000000001", 10, 0), 1);
  EXPECT_EQ(*parseNumeric("1250", 5, -2), 13); // negative scale: hundreds
}

TEST(ParseNumeric, PrecisionLimitsIntegerDigits) {
  EXPECT_EQ(*parseNumeric("999.994", 5, 2), 99999);
  EXPECT_THAT(parseNumeric("999.995", 5, 2).status().message(),
              HasSubstr("numeric field overflow")); // rounds up to 1000.00
  EXPECT_EQ(parseNumeric("1000", 5, 2).status().message(),
            "numeric field overflow: a field with precision 5, scale 2 must round to an "
            "absolute value less than 10^3");
  EXPECT_THAT(parseNumeric("1e999999", 5, 2).status().message(),
              HasSubstr("numeric field overflow"));
  std::string nines(38, '9');
  __int128 expected = 0;
  for (int i = 0; i < 38; ++i)
    expected = expected * 10 + 9;
  EXPECT_EQ(*parseNumeric(nines, 38, 0), expected);
  EXPECT_EQ(*parseNumeric("-" + nines, 38, 0), -expected);
  EXPECT_THAT(parseNumeric(nines + "9", 38, 0).status().message(),
              HasSubstr("numeric field overflow"));
  EXPECT_THAT(parseNumeric(nines + ".5", 38, 0).status().message(),
              HasSubstr("numeric field overflow"));
}

TEST(ParseNumeric, RejectsBadSyntax) {
  for (const char *text : {"", " ", ".", "abc", "1.2.3", "1e", "--1", "1 2", "NaN", "0x10", "1e+"})
    EXPECT_EQ(parseNumeric(text, 10, 2).status().message(),
              std::string("invalid input syntax for type numeric: \"") + text + "\"")
        << text;
}

TEST(ParseIntegers, RangeAndSyntax) {
  EXPECT_EQ(*parseInt32("2147483647"), 2147483647);
  EXPECT_EQ(*parseInt32("-2147483648"), -2147483648LL);
  EXPECT_EQ(*parseInt32(" -12 "), -12);
  EXPECT_EQ(*parseInt32("+7"), 7);
  EXPECT_EQ(parseInt32("2147483648").status().message(),
            "value \"2147483648\" is out of range for type integer");
  EXPECT_EQ(parseInt32("1.0").status().message(), "invalid input syntax for type integer: \"1.0\"");
  EXPECT_FALSE(parseInt32("").ok());
  EXPECT_FALSE(parseInt32("+-1").ok());
  EXPECT_FALSE(parseInt32("12abc").ok());
  EXPECT_EQ(*parseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parseInt64("9223372036854775808").status().message(),
            "value \"9223372036854775808\" is out of range for type bigint");
}

TEST(ParseFloat64, NumbersAndSpecialValues) {
  EXPECT_EQ(*parseFloat64("1.5"), 1.5);
  EXPECT_EQ(*parseFloat64(" -2e3 "), -2000);
  EXPECT_EQ(*parseFloat64("+0.25"), 0.25);
  EXPECT_TRUE(std::isnan(*parseFloat64("NaN")));
  EXPECT_TRUE(std::isnan(*parseFloat64("nan")));
  EXPECT_EQ(*parseFloat64("Infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(*parseFloat64("-Infinity"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*parseFloat64("-inf"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(parseFloat64("1e400").status().message(),
            "\"1e400\" is out of range for type double precision");
  EXPECT_EQ(parseFloat64("abc").status().message(),
            "invalid input syntax for type double precision: \"abc\"");
  EXPECT_FALSE(parseFloat64("").ok());
  EXPECT_FALSE(parseFloat64("1.5x").ok());
  EXPECT_FALSE(parseFloat64("+-1.5").ok());
}

TEST(ParseDate, IsoDatesAsPostgresReadsThem) {
  EXPECT_EQ(*parseDate("2024-01-31"), k2024_01_31);
  EXPECT_EQ(*parseDate("1999-12-31"), -1);
  EXPECT_EQ(*parseDate("0001-01-01"), -730119);
  EXPECT_EQ(*parseDate("2024-02-29"), k2024_01_31 + 29);
  EXPECT_EQ(parseDate("2023-02-29").status().message(),
            "date/time field value out of range: \"2023-02-29\"");
  EXPECT_FALSE(parseDate("2024-13-01").ok());
  EXPECT_EQ(parseDate("0000-01-01").status().message(),
            "date/time field value out of range: \"0000-01-01\"");
  EXPECT_EQ(parseDate("5874898-01-01").status().message(), "date out of range: \"5874898-01-01\"");
  EXPECT_EQ(parseDate("2024-01-31x").status().message(),
            "invalid input syntax for type date: \"2024-01-31x\"");
  // PostgreSQL's other spellings: one-digit fields, a time of day (ignored), an era.
  EXPECT_EQ(*parseDate("2024-1-31"), k2024_01_31);
  EXPECT_EQ(*parseDate("2024-01-31 10:00"), k2024_01_31);
  EXPECT_EQ(*parseDate("0001-01-01 BC"), -730119 - 366);
  EXPECT_FALSE(parseDate("2024-01-31x").ok());
  EXPECT_FALSE(parseDate("").ok());
  EXPECT_FALSE(parseDate("1900-02-29").ok()); // a century is a leap year only every 400 years
  EXPECT_EQ(*parseDate("2000-02-29"), 59);
  EXPECT_EQ(*parseDate(" 2024-01-31 "), k2024_01_31);
}

TEST(ParseDate, EveryDayOfYears1To9999RoundTrips) {
  // The YYYY-MM-DD fast path against the formatter (absl's civil time) on every day it covers.
  for (int32_t day = -730119; day <= 2921939; ++day) {
    std::string text = formatDate(day);
    absl::StatusOr<int32_t> parsed = parseDate(text);
    ASSERT_TRUE(parsed.ok()) << text;
    ASSERT_EQ(*parsed, day) << text;
  }
}

TEST(ParseTimestamp, SpaceOrTAndMicroseconds) {
  int64_t noon = k2024_01_31 * kMicrosPerDay + 12 * 3'600'000'000LL;
  EXPECT_EQ(*parseTimestamp("2024-01-31 12:00:00"), noon);
  EXPECT_EQ(*parseTimestamp("2024-01-31T12:00:00"), noon);
  EXPECT_EQ(*parseTimestamp("2024-01-31 12:00:00.5"), noon + 500'000);
  EXPECT_EQ(*parseTimestamp("2024-01-31 12:00:00.000001"), noon + 1);
  EXPECT_EQ(*parseTimestamp("2024-01-31 12:00:00.1234567"), noon + 123'457); // rounded
  EXPECT_EQ(*parseTimestamp("2024-01-31"), k2024_01_31 * kMicrosPerDay);
  EXPECT_EQ(*parseTimestamp("1999-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(parseTimestamp("2024-01-31 25:00:00").status().message(),
            "date/time field value out of range: \"2024-01-31 25:00:00\"");
  EXPECT_EQ(*parseTimestamp("2024-01-31 12:00"), noon); // seconds may be left out
  EXPECT_EQ(*parseTimestamp("2024-01-30 24:00"), k2024_01_31 * kMicrosPerDay);
  EXPECT_FALSE(parseTimestamp("2024-01-31 12:00:00.").ok());
  EXPECT_FALSE(parseTimestamp("2024-01-31 12:00:00+02").ok());
}

TEST(ParseTimestampTz, ZonesToUtc) {
  int64_t noon = k2024_01_31 * kMicrosPerDay + 12 * 3'600'000'000LL, hour = 3'600'000'000LL;
  EXPECT_EQ(*parseTimestampTz("2024-01-31 12:00:00"), noon); // the session's zone: UTC
  EXPECT_EQ(*parseTimestampTz("2024-01-31T12:00:00Z"), noon);
  EXPECT_EQ(*parseTimestampTz("2024-01-31 12:00:00 UTC"), noon);
  EXPECT_EQ(*parseTimestampTz("2024-01-31 14:00:00+02"), noon);
  EXPECT_EQ(*parseTimestampTz("2024-01-31 14:30:00+02:30"), noon);
  EXPECT_EQ(*parseTimestampTz("2024-01-31 06:30:00-0530"), noon);
  EXPECT_EQ(*parseTimestampTz("2024-01-31 12:00:10+00:00:10"), noon);
  EXPECT_EQ(*parseTimestampTz("2024-01-31 12:00:00.5+01"), noon - hour + 500'000);
  EXPECT_EQ(*parseTimestampTz("2024-01-31"), k2024_01_31 * kMicrosPerDay); // no time: no zone
  EXPECT_FALSE(parseTimestampTz("2024-01-31 12:00:00+16").ok());
  EXPECT_FALSE(parseTimestampTz("2024-01-31 12:00:00+1:2:3:4").ok());
  EXPECT_FALSE(parseTimestampTz("2024-01-31 12:00:00+123").ok());
  EXPECT_FALSE(parseTimestampTz("2024-01-31 12:00:00 CET").ok()); // named zones: not yet
  EXPECT_EQ(formatTimestampTz(noon), "2024-01-31 12:00:00+00");
}

AllTypesRow sampleRow() {
  static const char kText[] = "a\"b\\c\n\x01";
  static const char kJson[] = R"({"a": [1, "x"]})";
  AllTypesRow row{};
  row.b = 1;
  row.i = -7;
  row.l = 9'000'000'000;
  row.f = 1.5;
  row.n = -5;
  row.t = {kText, sizeof kText - 1};
  row.d = k2024_01_31;
  row.ts = k2024_01_31 * kMicrosPerDay + 12 * 3'600'000'000LL + 500'000;
  row.j = {kJson, sizeof kJson - 1};
  return row;
}

TEST(FormatRow, TextValuesAndNulls) {
  AllTypesRow row = sampleRow();
  EXPECT_EQ(formatValue(kAllTypes, 0, &row), "t");
  EXPECT_EQ(formatValue(kAllTypes, 4, &row), "-0.05");
  EXPECT_EQ(formatValue(kAllTypes, 7, &row), "2024-01-31 12:00:00.5");
  setNull(&row, 5);
  row.t = {};
  EXPECT_EQ(formatValue(kAllTypes, 5, &row), std::nullopt);
  EXPECT_TRUE(isNull(&row, 5));
  EXPECT_FALSE(isNull(&row, 4));
}

TEST(FormatRow, Json) {
  AllTypesRow row = sampleRow();
  EXPECT_EQ(formatRowJson(kAllTypes, &row),
            R"({"b":true,"i":-7,"l":9000000000,"f":1.5,"n":-0.05,"t":"a\"b\\c\n\u0001",)"
            R"("d":"2024-01-31","ts":"2024-01-31 12:00:00.5","j":{"a": [1, "x"]}})");
  row.f = -std::numeric_limits<double>::infinity();
  row.b = 0;
  setNull(&row, 1);
  row.i = 0;
  EXPECT_EQ(formatRowJson(kAllTypes, &row),
            R"({"b":false,"i":null,"l":9000000000,"f":"-Infinity","n":-0.05,)"
            R"("t":"a\"b\\c\n\u0001","d":"2024-01-31","ts":"2024-01-31 12:00:00.5",)"
            R"("j":{"a": [1, "x"]}})");
  // A jsonb string or JSON null is written as a JSON string of its text, as it is read.
  static const char kString[] = R"("x")";
  row.j = {kString, sizeof kString - 1};
  EXPECT_TRUE(formatRowJson(kAllTypes, &row).ends_with(R"("j":"\"x\""})"));
}

TEST(FormatRow, JsonStringEscapesOnlyWhatItMust) {
  std::string out;
  appendJsonString(out, "");
  appendJsonString(out, "plain text, ünïcode");
  appendJsonString(out, "\"\\\r\t\x1f end");
  appendJsonString(out, "\n");
  EXPECT_EQ(out, R"("""plain text, ünïcode""\"\\\r\t\u001f end""\n")");
}

TEST(RowsEqual, ComparesTextByContent) {
  AllTypesRow a = sampleRow(), b = sampleRow();
  std::string copy(a.t.ptr, a.t.len);
  b.t = {copy.data(), static_cast<int64_t>(copy.size())};
  EXPECT_TRUE(rowsEqual(kAllTypes, &a, &b));
  b.n = 5;
  EXPECT_FALSE(rowsEqual(kAllTypes, &a, &b));
  b = sampleRow();
  setNull(&b, 2);
  b.l = 0;
  EXPECT_FALSE(rowsEqual(kAllTypes, &a, &b));
}

TEST(CheckNotNull, NamesTheColumn) {
  kiln_column_desc cols[] = {{"id", KILN_T_INT64, 0, 0, 8, 1}, {"note", KILN_T_TEXT, 0, 0, 16, 0}};
  kiln_relation_desc rel = {"t", "", 2, cols, 32, 8, 0, nullptr, nullptr, nullptr};
  alignas(16) unsigned char row[32] = {};
  EXPECT_TRUE(checkNotNull(rel, row).ok());
  setNull(row, 1);
  EXPECT_TRUE(checkNotNull(rel, row).ok());
  setNull(row, 0);
  EXPECT_EQ(checkNotNull(rel, row).message(),
            "null value in column \"id\" violates not-null constraint");
}

} // namespace
} // namespace kiln::runtime
