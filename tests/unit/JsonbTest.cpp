// jsonb's canonical text (kiln/runtime/Jsonb.h) against PostgreSQL 15's jsonb_out, and the
// navigation that reads it. The expected texts are PostgreSQL's answers.
#include "kiln/runtime/Jsonb.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln::jsonb {
namespace {

std::string canonical(std::string_view text) {
  absl::StatusOr<std::string> out = normalize(text);
  return out.ok() ? *out : "error: " + std::string(out.status().message());
}

TEST(Jsonb, NormalizesAsPostgreSQLPrints) {
  EXPECT_EQ(canonical(R"({"b":1,"a":[1,2.50,1e2,1.50e1,-0,1E-2,-0.0],"aa":{"x":null,"y":true}})"),
            R"({"a": [1, 2.50, 100, 15.0, 0, 0.01, 0.0], "b": 1, "aa": {"x": null, "y": true}})");
  // Shorter keys first, then bytewise; the last of duplicate keys stays.
  EXPECT_EQ(canonical(R"({"a":{"b":1,"b":2,"a":[]},"":0})"), R"({"": 0, "a": {"a": [], "b": 2}})");
  EXPECT_EQ(canonical("  [ ]  "), "[]");
  EXPECT_EQ(canonical("{ }"), "{}");
  EXPECT_EQ(canonical("[true,false,null]"), "[true, false, null]");
  EXPECT_EQ(canonical("-1.5E+2"), "-150");
  EXPECT_EQ(canonical("0.0"), "0.0");
  EXPECT_EQ(canonical("-0.00"), "0.00");
  EXPECT_EQ(canonical("1e-5"), "0.00001");
  EXPECT_EQ(canonical("123456789012345678901234567890.5e-3"), "123456789012345678901234567.8905");
  EXPECT_EQ(canonical("0.000e5"), "0");
  EXPECT_EQ(canonical("[1e400]"), "[1" + std::string(400, '0') + "]");
  EXPECT_EQ(canonical(R"("tab\tnl\nquote\"back\\slash\/ctl\u001f")"),
            R"("tab\tnl\nquote\"back\\slash/ctl\u001f")");
  EXPECT_EQ(canonical(R"("\u00e9\ud83d\ude00")"), "\"\xc3\xa9\xf0\x9f\x98\x80\"");
}

TEST(Jsonb, RejectsWhatPostgreSQLRejects) {
  for (const char *bad : {"{\"a\":1} 2", "{\"a\":1}}", "1.", ".5", "+1", "NaN", "[1,2", "{\"a\"}",
                          "", "[1,]", "01", "nul", "{\"a\":1}x", "'a'"}) {
    absl::StatusOr<std::string> out = normalize(bad);
    ASSERT_FALSE(out.ok()) << bad << " gave " << *out;
    EXPECT_TRUE(
        std::string(out.status().message()).starts_with("invalid input syntax for type json"))
        << bad << ": " << out.status().message();
  }
  absl::StatusOr<std::string> nul = normalize(R"("a\u0000b")");
  ASSERT_FALSE(nul.ok());
  EXPECT_TRUE(isUnicodeEscapeError(nul.status()));
}

TEST(Jsonb, NavigatesTheCanonicalText) {
  std::string doc = *normalize(R"({"tags":["a","b",{"c":[1,"x,y]"]}],"user":{"name":"A\"n"}})");
  EXPECT_EQ(objectField(doc, "user").value_or("?"), R"({"name": "A\"n"})");
  EXPECT_EQ(objectField(*objectField(doc, "user"), "name").value_or("?"), R"("A\"n")");
  EXPECT_FALSE(objectField(doc, "nope"));
  EXPECT_FALSE(objectField("[1]", "0"));
  std::string_view tags = *objectField(doc, "tags");
  EXPECT_EQ(arrayElement(tags, 0).value_or("?"), R"("a")");
  EXPECT_EQ(arrayElement(tags, -1).value_or("?"), R"({"c": [1, "x,y]"]})");
  EXPECT_EQ(arrayElement(tags, -3).value_or("?"), R"("a")");
  EXPECT_FALSE(arrayElement(tags, 3));
  EXPECT_FALSE(arrayElement(tags, -4));
  // A scalar is an array of one, as PostgreSQL keeps it ('"abc"'::jsonb -> 0 is "abc").
  EXPECT_EQ(arrayElement(R"("abc")", 0).value_or("?"), R"("abc")");
  EXPECT_FALSE(arrayElement(R"("abc")", 1));
  EXPECT_EQ(pathStep(tags, "2").value_or("?"), R"({"c": [1, "x,y]"]})");
  EXPECT_EQ(pathStep(tags, "-1").value_or("?"), R"({"c": [1, "x,y]"]})");
  EXPECT_FALSE(pathStep(tags, "x"));
  EXPECT_FALSE(pathStep(R"("abc")", "0")); // but a path has no steps into a scalar
  EXPECT_EQ(arrayLength(tags), 3);
  EXPECT_FALSE(arrayLength(doc));
  EXPECT_EQ(arrayLength("[]"), 0);
  EXPECT_TRUE(exists(doc, "tags"));
  EXPECT_TRUE(exists(tags, "b"));
  EXPECT_FALSE(exists(tags, "c"));
  EXPECT_TRUE(exists(R"("a")", "a"));
  EXPECT_EQ(kindName(kindOf("-1")), "number");
  EXPECT_EQ(kindName(kindOf("null")), "null");
}

TEST(Jsonb, TextOfAValue) {
  std::string scratch;
  EXPECT_EQ(text(R"("plain")", scratch).value_or("?"), "plain");
  EXPECT_EQ(text(R"("q\"b\\t\tu\u0001")", scratch).value_or("?"), "q\"b\\t\tu\x01");
  EXPECT_FALSE(text("null", scratch));
  EXPECT_EQ(text("[1, 2]", scratch).value_or("?"), "[1, 2]");
  EXPECT_EQ(text("true", scratch).value_or("?"), "true");
  // Escaping and unescaping are inverses over every byte.
  std::string all;
  for (int c = 1; c < 256; ++c)
    all += static_cast<char>(c);
  std::string quoted;
  appendQuoted(quoted, all);
  EXPECT_EQ(text(quoted, scratch).value_or("?"), all);
}

} // namespace
} // namespace kiln::jsonb
