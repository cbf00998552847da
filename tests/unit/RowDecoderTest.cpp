// Rows from JSON objects: every type, NULLs, and the errors a bad record reports.
#include <cmath>
#include <cstring>

#include "RecordParser.h"
#include "TestRelations.h"
#include "kiln/runtime/Values.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

using testing::AllTypesRow;
using ::testing::HasSubstr;
using testing::kAllTypes;

class RowDecoderTest : public ::testing::Test {
protected:
  absl::Status decode(std::string_view json) {
    row_ = AllTypesRow{};
    return decoder_.decode(kAllTypes, json, &row_, strings_);
  }
  std::string value(int32_t column) {
    return formatValue(kAllTypes, column, &row_).value_or("<null>");
  }

  RowDecoder decoder_;
  Arena strings_;
  AllTypesRow row_;
};

TEST_F(RowDecoderTest, EveryTypeFromItsJsonForms) {
  ASSERT_TRUE(decode(R"({"b":true,"i":"42","l":-9000000000,"f":"NaN","n":12.345,)"
                     R"("t":"h\u00e9llo \"q\"","d":"2024-01-31","ts":"2024-01-31T12:00:00.5",)"
                     R"("j":[true]})")
                  .ok());
  EXPECT_EQ(row_.nulls, 0u);
  EXPECT_EQ(row_.b, 1);
  EXPECT_EQ(row_.i, 42);
  EXPECT_EQ(row_.l, -9000000000);
  EXPECT_TRUE(std::isnan(row_.f));
  EXPECT_EQ(row_.n, 1235); // NUMERIC(20,2), rounded half away from zero
  EXPECT_EQ(std::string(row_.t.ptr, row_.t.len), "h\xc3\xa9llo \"q\"");
  EXPECT_EQ(value(6), "2024-01-31");
  EXPECT_EQ(value(7), "2024-01-31 12:00:00.5");

  ASSERT_TRUE(decode(R"({"b":false,"i":-2147483648,"l":"12","f":-1.5e-5,"n":"-0.005"})").ok());
  EXPECT_EQ(row_.b, 0);
  EXPECT_EQ(row_.i, -2147483648LL);
  EXPECT_EQ(row_.l, 12);
  EXPECT_EQ(row_.f, -1.5e-5);
  EXPECT_EQ(row_.n, -1);
}

TEST_F(RowDecoderTest, JsonbIsTheFieldOrTheJsonTextOfAString) {
  ASSERT_TRUE(decode(R"({"j":{"b":[1,2.50],"a":null}})").ok());
  EXPECT_EQ(value(8), R"({"a": null, "b": [1, 2.50]})");
  ASSERT_TRUE(decode(R"({"j":"{\"b\":1e2,\"a\":\"x\"}"})").ok()); // Debezium's Json type
  EXPECT_EQ(value(8), R"({"a": "x", "b": 100})");
  ASSERT_TRUE(decode(R"({"j":"\"s\""})").ok());
  EXPECT_EQ(value(8), R"("s")");
  ASSERT_TRUE(decode(R"({"j":-0.50})").ok());
  EXPECT_EQ(value(8), "-0.50");
  ASSERT_TRUE(decode(R"({"j":null})").ok());
  EXPECT_EQ(value(8), "<null>");
  absl::Status bad = decode(R"({"j":"{not json"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(
      std::string(bad.message()).starts_with(R"(column "j": invalid input syntax for type json)"))
      << bad.message();
}

TEST_F(RowDecoderTest, NumericUsesTheDigitsAsWritten) {
  // 0.1 + 0.2 style trouble and 17+ significant digits would not survive a double.
  ASSERT_TRUE(decode(R"({"n":123456789012345678.91})").ok());
  EXPECT_EQ(value(4), "123456789012345678.91");
  ASSERT_TRUE(decode(R"({"n":1e-2})").ok());
  EXPECT_EQ(value(4), "0.01");
}

TEST_F(RowDecoderTest, MissingOrNullIsNull) {
  ASSERT_TRUE(decode(R"({"i":1,"t":null})").ok());
  for (int32_t c : {0, 2, 3, 4, 5, 6, 7})
    EXPECT_TRUE(isNull(&row_, c)) << c;
  EXPECT_FALSE(isNull(&row_, 1));
  EXPECT_EQ(row_.t.ptr, nullptr); // storage of a NULL stays zero
  ASSERT_TRUE(decode("  {}  ").ok());
  for (int32_t c = 0; c < 8; ++c)
    EXPECT_TRUE(isNull(&row_, c)) << c;
}

TEST_F(RowDecoderTest, FieldsInAnyOrder) {
  ASSERT_TRUE(decode(R"({"ts":"2000-01-01","t":"x","b":true})").ok());
  EXPECT_EQ(row_.ts, 0);
  EXPECT_EQ(std::string(row_.t.ptr, row_.t.len), "x");
  EXPECT_EQ(row_.b, 1);
}

TEST_F(RowDecoderTest, TextIsCopiedIntoTheArena) {
  std::string json = R"({"t":"abc"})";
  ASSERT_TRUE(decode(json).ok());
  json.assign(json.size(), ' ');
  ASSERT_TRUE(decode(R"({"t":"zzzzz"})").ok()); // reuses the parser's buffers
  AllTypesRow first = row_;
  ASSERT_TRUE(decode(R"({"t":"yy"})").ok());
  EXPECT_EQ(std::string(first.t.ptr, first.t.len), "zzzzz");
}

TEST_F(RowDecoderTest, BooleanFromPostgresText) {
  const std::pair<const char *, uint8_t> cases[] = {
      {"t", 1}, {"TRUE", 1},  {"yes", 1}, {"y", 1},   {"on", 1}, {"1", 1}, {" true ", 1},
      {"f", 0}, {"False", 0}, {"no", 0},  {"off", 0}, {"of", 0}, {"0", 0},
  };
  for (const auto &[text, expected] : cases) {
    ASSERT_TRUE(decode(std::string(R"({"b":")") + text + "\"}").ok()) << text;
    EXPECT_EQ(row_.b, expected) << text;
  }
}

struct BadInput {
  const char *json;
  const char *reason;
};

TEST_F(RowDecoderTest, BadInputsSayWhy) {
  const BadInput cases[] = {
      {R"({"i":2147483648})", R"(column "i": value "2147483648" is out of range for type integer)"},
      {R"({"i":1.5})", R"(column "i": invalid input syntax for type integer: "1.5")"},
      {R"({"i":1e2})", R"(column "i": invalid input syntax for type integer: "1e2")"},
      {R"({"i":-2147483649})",
       R"(column "i": value "-2147483649" is out of range for type integer)"},
      {R"({"l":9223372036854775808})",
       R"(column "l": value "9223372036854775808" is out of range for type bigint)"},
      {R"({"i":"x"})", R"(column "i": invalid input syntax for type integer: "x")"},
      {R"({"i":true})",
       R"(column "i": expected a number or a string for type integer, got a boolean)"},
      {R"({"l":[1]})",
       R"(column "l": expected a number or a string for type bigint, got an array)"},
      {R"({"b":"maybe"})", R"(column "b": invalid input syntax for type boolean: "maybe")"},
      {R"({"b":"o"})", R"(column "b": invalid input syntax for type boolean: "o")"},
      {R"({"b":1})", R"(column "b": expected true or false for type boolean, got a number)"},
      {R"({"t":5})", R"(column "t": expected a string for type text, got a number)"},
      {R"({"d":20240131})", R"(column "d": expected a string for type date, got a number)"},
      {R"({"d":"2024-13-01"})", R"(column "d": date/time field value out of range: "2024-13-01")"},
      {R"({"ts":"yesterday"})",
       R"(column "ts": invalid input syntax for type timestamp: "yesterday")"},
      {R"({"f":1e400})", R"(column "f": "1e400" is out of range for type double precision)"},
      {R"({"f":"fast"})", R"(column "f": invalid input syntax for type double precision: "fast")"},
      {R"({"n":"1e30"})",
       "column \"n\": numeric field overflow: a field with precision 20, scale 2 "
       "must round to an absolute value less than 10^18"},
      {R"({"zz":1})", R"(column "zz" of relation "test.all_types" does not exist)"},
      {R"({"I":1})", R"(column "I" of relation "test.all_types" does not exist)"},
      {R"({"i":1,"i":2})", R"(column "i" specified more than once)"},
      {R"([1])", "expected a JSON object"},
      {R"("row")", "expected a JSON object"},
      {R"({"i":1} {})", "unexpected text after the JSON object"},
  };
  for (const BadInput &c : cases)
    EXPECT_EQ(decode(c.json).message(), c.reason) << c.json;
}

TEST_F(RowDecoderTest, MalformedJsonIsAnError) {
  for (const char *json : {R"({"i":1)", R"({"i":1,})", R"({"i" 1})", R"({"b":tru})", R"({"i":nul})",
                           "", R"({"t":"unterminated})", "{\"t\":\"\xff\"}"}) {
    absl::Status status = decode(json);
    EXPECT_FALSE(status.ok()) << json;
    EXPECT_THAT(status.message(), HasSubstr("JSON")) << json;
  }
}

// Malformed Debezium events are errors, not exceptions out of the JSON parser (found by the
// fuzz_records target): a bad literal where "before" or the whole event should be.
TEST(RecordParserTest, MalformedDebeziumEventsAreErrors) {
  const kiln_relation_desc sources[] = {testing::kAllTypes};
  kiln_program program{};
  program.abi_version = KILN_ABI_VERSION;
  program.name = "test";
  program.nsources = 1;
  program.sources = sources;
  detail::RecordParser parser(program);
  Arena scratch;
  EXPECT_FALSE(
      parser.parseDebezium(R"({"before":nuler_l,"after":{"i":5},"op":"u"})", 0, scratch).ok());
  EXPECT_FALSE(parser.parseDebezium("nulx", 0, scratch).ok());
  absl::StatusOr<std::vector<detail::ChangeRecord>> tombstone =
      parser.parseDebezium("null", 0, scratch);
  ASSERT_TRUE(tombstone.ok());
  EXPECT_TRUE(tombstone->empty());
}

} // namespace
} // namespace kiln::runtime
