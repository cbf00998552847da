// Order keys (runtime/lib/OrderKeys.h): arrays and jsonb must compare as PostgreSQL 15 orders
// them. Each list below is PostgreSQL's ORDER BY of the values with its dense_rank (equal ranks
// are equal values), so every pair's comparison is checked against the server's; and a key must
// be as long as encodedLength says, ascending and descending, for the top-k's decoding.
#include <string>
#include <utility>
#include <vector>

#include "OrderKeys.h"
#include "kiln/runtime/abi.h"
#include "gtest/gtest.h"

namespace kiln::runtime::detail {
namespace {

using Ranked = std::vector<std::pair<std::string, int>>;

int sign(int v) { return (v > 0) - (v < 0); }

kiln_column_desc element(int32_t type, int32_t precision = 0, int32_t scale = 0) {
  return {"", type, precision, scale, 0, 0, 0};
}

void expectArrayOrder(const Ranked &values, const kiln_column_desc &elem) {
  for (const auto &[a, rank_a] : values)
    for (const auto &[b, rank_b] : values)
      EXPECT_EQ(sign(compareArrays(a, b, elem)), sign(rank_a - rank_b)) << a << " vs " << b;
}

// `SELECT x, dense_rank() OVER (ORDER BY x) FROM ... ORDER BY x` in PostgreSQL 15.
TEST(OrderKeysTest, IntegerArraysElementByElementNullsAboveThenShorterFirst) {
  expectArrayOrder({{"{}", 1},
                    {"{-5,100}", 2},
                    {"{-1}", 3},
                    {"{0}", 4},
                    {"{1}", 5},
                    {"{1,2}", 6},
                    {"{1,2,3}", 7},
                    {"{1,NULL}", 8},
                    {"{1,NULL,0}", 9},
                    {"{2}", 10},
                    {"{NULL}", 11},
                    {"{NULL,1}", 12}},
                   element(KILN_T_INT32));
}

TEST(OrderKeysTest, NumericArraysByValueWhateverTheScale) {
  expectArrayOrder({{"{-10}", 1},
                    {"{-0.5}", 2},
                    {"{-0.5,1}", 3},
                    {"{-0.05}", 4},
                    {"{0.00}", 5},
                    {"{0}", 5},
                    {"{1.50}", 6},
                    {"{1.5}", 6},
                    {"{1.5,NULL}", 7},
                    {"{9.99}", 8},
                    {"{10}", 9},
                    {"{100}", 10}},
                   element(KILN_T_NUMERIC, 38, 2));
}

TEST(OrderKeysTest, TextFloatAndIntervalArrays) {
  expectArrayOrder({{"{}", 1},
                    {"{\"\"}", 2},
                    {"{A}", 3},
                    {"{a}", 4},
                    {"{a,b}", 5},
                    {"{a,NULL}", 6},
                    {"{\"a b\"}", 7},
                    {"{ab}", 8},
                    {"{b}", 9},
                    {"{NULL}", 10}},
                   element(KILN_T_TEXT));
  expectArrayOrder({{"{}", 1},
                    {"{-Infinity}", 2},
                    {"{-1.5}", 3},
                    {"{-0}", 4},
                    {"{0}", 4},
                    {"{1.5}", 5},
                    {"{1e+300}", 6},
                    {"{Infinity}", 7},
                    {"{NaN}", 8},
                    {"{NULL}", 9}},
                   element(KILN_T_FLOAT64));
  expectArrayOrder({{"{}", 1},
                    {"{\"-1 days\"}", 2},
                    {"{\"1 day\"}", 3},
                    {"{24:00:00}", 3},
                    {"{\"1 day\",NULL}", 4},
                    {"{25:00:00}", 5},
                    {"{\"1 mon\"}", 6},
                    {"{\"30 days\"}", 6}},
                   element(KILN_T_INTERVAL));
}

TEST(OrderKeysTest, JsonbInPostgresBtreeOrder) {
  // In PostgreSQL's order; only 1.0 and 1 are equal.
  std::vector<std::string> sorted = {"[]",
                                     "null",
                                     "\"\"",
                                     "\"a\"",
                                     "\"ab\"",
                                     "\"b\"",
                                     "-1000",
                                     "-2.5",
                                     "-0.05",
                                     "0",
                                     "0.050",
                                     "1.0",
                                     "1",
                                     "10",
                                     "99.99",
                                     "100",
                                     "false",
                                     "true",
                                     "[null]",
                                     "[\"x\"]",
                                     "[1]",
                                     "[2]",
                                     "[true]",
                                     "[[]]",
                                     "[{}]",
                                     "[1, 2]",
                                     "[1, [2]]",
                                     "{}",
                                     "{\"a\": null}",
                                     "{\"a\": 1}",
                                     "{\"a\": [1]}",
                                     "{\"aa\": 0}",
                                     "{\"b\": 0}",
                                     "{\"a\": 1, \"b\": 2}"};
  Ranked ranked;
  int rank = 0;
  for (const std::string &value : sorted)
    ranked.emplace_back(value, value == "1" ? rank : ++rank);
  for (const auto &[a, rank_a] : ranked)
    for (const auto &[b, rank_b] : ranked)
      EXPECT_EQ(sign(compareJsonb(a, b)), sign(rank_a - rank_b)) << a << " vs " << b;
}

TEST(OrderKeysTest, KeysOfArraysAndJsonbHaveTheLengthsTheirDecodingFinds) {
  kiln_column_desc ints{"", KILN_T_ARRAY, 0, 0, 0, 0, KILN_T_INT32};
  kiln_column_desc json{"", KILN_T_JSONB, 0, 0, 0, 0, 0};
  // Integers' keys hold 0x00 bytes (0 is 80 00 00 00): the escaping keeps the length findable.
  for (bool descending : {false, true}) {
    for (const auto &[desc, text] : std::vector<std::pair<kiln_column_desc, std::string>>{
             {ints, "{0,NULL,256}"}, {ints, "{}"}, {json, "{\"a\": [0, \"\"], \"b\": null}"}}) {
      kiln_str value{text.data(), static_cast<int64_t>(text.size())};
      std::string key;
      appendValueKey(key, desc, reinterpret_cast<const char *>(&value), descending);
      if (!descending) // encodedLength reads ascending keys (the range joins' probes)
        EXPECT_EQ(encodedLength(desc.type, key + "tail", 0), key.size()) << text;
    }
  }
  // A descending key orders the other way.
  auto key = [&](const std::string &text, bool descending) {
    kiln_str value{text.data(), static_cast<int64_t>(text.size())};
    std::string out;
    appendValueKey(out, ints, reinterpret_cast<const char *>(&value), descending);
    return out;
  };
  EXPECT_LT(key("{1}", false), key("{1,2}", false));
  EXPECT_GT(key("{1}", true), key("{1,2}", true));
  EXPECT_GT(key("{NULL}", false), key("{5}", false));
  EXPECT_LT(key("{NULL}", true), key("{5}", true));
}

} // namespace
} // namespace kiln::runtime::detail
