// Top-k state (runtime/lib/TopK.cpp): rows of every column type kept as byte strings in a TEXT
// multiset must come out of the window in SQL's order (ASC/DESC, NULLS FIRST/LAST, PostgreSQL's
// float order with NaN last and -0 = 0, text in the "C" collation with embedded NUL bytes), with
// their counts, and the changes between two windows must decode to the rows that left and came.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "Runtime.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/abi.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

struct Row {
  uint64_t nulls;
  int64_t big;
  double real;
  kiln_str text;
  int32_t small;
};
const kiln_column_desc kColumns[] = {
    {"big", KILN_T_INT64, 0, 0, offsetof(Row, big), 0},
    {"real", KILN_T_FLOAT64, 0, 0, offsetof(Row, real), 0},
    {"text", KILN_T_TEXT, 0, 0, offsetof(Row, text), 0},
    {"small", KILN_T_INT32, 0, 0, offsetof(Row, small), 0},
};

class NoServices final : public RuntimeServices {
public:
  void emit(int32_t, const void *, int64_t) override {}
  [[noreturn]] void raise(int32_t, int32_t) override { std::abort(); }
};

class TopKTest : public ::testing::Test {
protected:
  TopKTest() : rt_(services_), set_(kiln_ms_create(&rt_, KILN_T_TEXT)) {}
  ~TopKTest() override { kiln_ms_destroy(set_); }

  // Sorts by `column` with `order` (bit 0 DESC, bit 1 NULLS FIRST).
  void sortBy(int32_t column, uint8_t order) {
    key_ = column;
    order_ = order;
  }
  void add(const Row &row, int64_t weight = 1) {
    kiln_topk_add(&rt_, set_, layout(), &order_, &row, weight);
  }
  std::vector<kiln_str> window(int64_t offset, int64_t limit) {
    int64_t n = 0;
    kiln_str *values = kiln_topk_window(&rt_, set_, offset, limit, &n);
    return std::vector<kiln_str>(values, values + n);
  }
  // The window's rows, as the `small` column of each (NULL: -1).
  std::vector<int32_t> smalls(int64_t offset, int64_t limit) {
    std::vector<kiln_str> w = window(offset, limit);
    int64_t n = 0;
    kiln_topk_change *rows =
        kiln_topk_changes(&rt_, layout(), nullptr, 0, w.data(), static_cast<int64_t>(w.size()), &n);
    std::vector<int32_t> out;
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(rows[i].weight, 1);
      const Row &row = *static_cast<const Row *>(rows[i].row);
      out.push_back(isNull(&row, 3) ? -1 : row.small);
    }
    return out;
  }
  const kiln_relation_desc *layout() {
    desc_ = {"test", "", 4, kColumns, sizeof(Row), alignof(Row), 1, &key_, nullptr, nullptr};
    return &desc_;
  }

  NoServices services_;
  kiln_runtime rt_;
  kiln_multiset *set_;
  int32_t key_ = 0;
  uint8_t order_ = 0;
  kiln_relation_desc desc_{};
};

Row row(int32_t small) {
  Row r{};
  r.small = small;
  return r;
}

TEST_F(TopKTest, IntegersAscendingAndDescendingAcrossTheSign) {
  sortBy(0, 0);
  const int64_t values[] = {5, -3, 0, std::numeric_limits<int64_t>::min(), 1LL << 40, -1};
  for (int i = 0; i < 6; ++i) {
    Row r = row(i);
    r.big = values[i];
    add(r);
  }
  EXPECT_EQ(smalls(0, 10), (std::vector<int32_t>{3, 1, 5, 2, 0, 4}));
  EXPECT_EQ(smalls(1, 2), (std::vector<int32_t>{1, 5}));
  sortBy(0, 1); // DESC: the same set reads the same; a new one is needed for the other order
  kiln_ms_destroy(set_);
  set_ = kiln_ms_create(&rt_, KILN_T_TEXT);
  for (int i = 0; i < 6; ++i) {
    Row r = row(i);
    r.big = values[i];
    add(r);
  }
  EXPECT_EQ(smalls(0, 3), (std::vector<int32_t>{4, 0, 2}));
}

TEST_F(TopKTest, FloatsInPostgresOrder) {
  sortBy(1, 0);
  const double values[] = {1.5, -0.0, std::nan(""), -INFINITY, 0.0, -2.25, INFINITY};
  for (int i = 0; i < 7; ++i) {
    Row r = row(i);
    r.real = values[i];
    add(r);
  }
  // -0 and 0 tie on the sort key (then the rows' bytes decide); NaN after +Infinity.
  std::vector<int32_t> order = smalls(0, 10);
  ASSERT_EQ(order.size(), 7u);
  EXPECT_EQ(order[0], 3);
  EXPECT_EQ(order[1], 5);
  EXPECT_TRUE((order[2] == 1 && order[3] == 4) || (order[2] == 4 && order[3] == 1));
  EXPECT_EQ(order[4], 0);
  EXPECT_EQ(order[5], 6);
  EXPECT_EQ(order[6], 2);
}

TEST_F(TopKTest, TextInTheCCollationWithNulBytesAndPrefixes) {
  sortBy(2, 0);
  const std::string values[] = {"b", "a", std::string("a\0b", 3), "ab", "", std::string("a\0", 2)};
  for (int i = 0; i < 6; ++i) {
    Row r = row(i);
    r.text = {values[i].data(), static_cast<int64_t>(values[i].size())};
    add(r);
  }
  // "" < "a" < "a\0" < "a\0b" < "ab" < "b"
  EXPECT_EQ(smalls(0, 10), (std::vector<int32_t>{4, 1, 5, 2, 3, 0}));
}

TEST_F(TopKTest, NullsLastOrFirstInEitherDirection) {
  for (uint8_t order : {0, 1, 2, 3}) {
    kiln_ms_destroy(set_);
    set_ = kiln_ms_create(&rt_, KILN_T_TEXT);
    sortBy(3, order);
    add(row(2));
    Row null_row = row(0);
    setNull(&null_row, 3);
    add(null_row);
    add(row(1));
    bool descending = order & 1, nulls_first = order & 2;
    std::vector<int32_t> values =
        descending ? std::vector<int32_t>{2, 1} : std::vector<int32_t>{1, 2};
    values.insert(nulls_first ? values.begin() : values.end(), -1);
    EXPECT_EQ(smalls(0, 10), values) << int(order);
  }
}

TEST_F(TopKTest, CountsFillPlacesAndChangesDecodeTheDifference) {
  sortBy(3, 0);
  add(row(1), 2);
  add(row(2));
  add(row(3));
  EXPECT_EQ(smalls(0, 3), (std::vector<int32_t>{1, 1, 2}));
  std::vector<kiln_str> before = window(0, 3);
  add(row(1), -1);
  add(row(0));
  add(row(2), -1);
  std::vector<kiln_str> after = window(0, 3); // 0, 1, 3
  int64_t n = 0;
  kiln_topk_change *changes =
      kiln_topk_changes(&rt_, layout(), before.data(), static_cast<int64_t>(before.size()),
                        after.data(), static_cast<int64_t>(after.size()), &n);
  std::vector<std::pair<int32_t, int64_t>> got;
  for (int64_t i = 0; i < n; ++i)
    got.emplace_back(static_cast<const Row *>(changes[i].row)->small, changes[i].weight);
  EXPECT_EQ(got, (std::vector<std::pair<int32_t, int64_t>>{{0, 1}, {1, -1}, {2, -1}, {3, 1}}));
}

TEST_F(TopKTest, DecodedTextAndNullsRoundTrip) {
  sortBy(3, 0);
  Row r = row(7);
  std::string text = std::string("x\0y", 3);
  r.text = {text.data(), 3};
  setNull(&r, 1);
  r.big = -42;
  add(r);
  std::vector<kiln_str> w = window(0, 1);
  int64_t n = 0;
  kiln_topk_change *changes = kiln_topk_changes(&rt_, layout(), nullptr, 0, w.data(), 1, &n);
  ASSERT_EQ(n, 1);
  const Row &back = *static_cast<const Row *>(changes[0].row);
  EXPECT_EQ(back.big, -42);
  EXPECT_TRUE(isNull(&back, 1));
  EXPECT_FALSE(isNull(&back, 2));
  EXPECT_EQ(std::string(back.text.ptr, static_cast<size_t>(back.text.len)), text);
  EXPECT_EQ(back.small, 7);
}

// Range joins: rows stored by (big, small) (an equality column, then the indexed one), matched by
// probes of the same layout: small in a range, big equal, text compared too.
TEST_F(TopKTest, RangeMatchesScanOnlyTheProbesKeyAndBounds) {
  // Key columns: big (equal), small (indexed), then the other compared columns: text, big.
  const int32_t keys[] = {0, 3, 2, 0};
  desc_ = {"test", "", 4, kColumns, sizeof(Row), alignof(Row), 4, keys, nullptr, nullptr};
  auto store = [&](int64_t big, int32_t small, const char *text, int64_t weight = 1) {
    Row r = row(small);
    r.big = big;
    r.text = {text, static_cast<int64_t>(std::strlen(text))};
    kiln_range_add(&rt_, set_, &desc_, &r, weight);
  };
  store(1, 10, "a");
  store(1, 20, "b", 2);
  store(1, 30, "c");
  store(2, 15, "d");
  Row nulled = row(5);
  nulled.big = 1;
  setNull(&nulled, 3); // a NULL key column: never stored
  kiln_range_add(&rt_, set_, &desc_, &nulled, 1);
  EXPECT_EQ(kiln_ms_size(set_), 4);

  // Probe: stored.big = probe.big, probe.small < stored.small, probe.text < stored.text.
  const int32_t probe_keys[] = {0};
  auto match = [&](int64_t big, int32_t low, const char *text) {
    Row probe = row(low);
    probe.big = big;
    probe.text = {text, static_cast<int64_t>(std::strlen(text))};
    const kiln_range_condition conditions[] = {
        {3, KILN_RANGE_LT, 3, 0}, // probe.small < stored.small
        {2, KILN_RANGE_LT, 2, 0}, // probe.text < stored.text
    };
    int64_t n = 0;
    kiln_topk_change *found =
        kiln_range_match(&rt_, set_, &desc_, 1, &desc_, &probe, probe_keys, conditions, 2, -1, &n);
    std::vector<std::pair<int32_t, int64_t>> got;
    for (int64_t i = 0; i < n; ++i)
      got.emplace_back(static_cast<const Row *>(found[i].row)->small, found[i].weight);
    return got;
  };
  using Found = std::vector<std::pair<int32_t, int64_t>>;
  EXPECT_EQ(match(1, 10, ""), (Found{{20, 2}, {30, 1}}));
  EXPECT_EQ(match(1, 9, "a"), (Found{{20, 2}, {30, 1}})); // "a" < "a" fails
  EXPECT_EQ(match(1, 0, ""), (Found{{10, 1}, {20, 2}, {30, 1}}));
  EXPECT_EQ(match(2, 0, ""), (Found{{15, 1}}));
  EXPECT_EQ(match(3, 0, ""), Found{});
  EXPECT_EQ(match(1, 30, ""), Found{});

  // Both bounds on the indexed column: low <= stored.small <= high.
  const kiln_range_condition between[] = {
      {3, KILN_RANGE_LE, 3, 0}, // probe.small <= stored.small
      {0, KILN_RANGE_GE, 0, 0}, // (an equality column may be compared too)
  };
  Row probe = row(15);
  probe.big = 1;
  int64_t n = 0;
  kiln_range_match(&rt_, set_, &desc_, 1, &desc_, &probe, probe_keys, between, 2, -1, &n);
  EXPECT_EQ(n, 2);
  setNull(&probe, 3);
  kiln_range_match(&rt_, set_, &desc_, 1, &desc_, &probe, probe_keys, between, 2, -1, &n);
  EXPECT_EQ(n, 0); // a NULL probe value matches nothing
}

TEST_F(TopKTest, RangeMatchesStopAtTheUpperBound) {
  const int32_t keys[] = {3};
  desc_ = {"test", "", 4, kColumns, sizeof(Row), alignof(Row), 1, keys, nullptr, nullptr};
  for (int32_t v = 0; v < 100; ++v) {
    Row r = row(v);
    kiln_range_add(&rt_, set_, &desc_, &r, 1);
  }
  // A probe of another layout bounds the indexed column on both sides: low <= small < high.
  struct Probe {
    uint64_t nulls;
    int32_t low, high;
  };
  const kiln_column_desc probe_columns[] = {
      {"low", KILN_T_INT32, 0, 0, offsetof(Probe, low), 0},
      {"high", KILN_T_INT32, 0, 0, offsetof(Probe, high), 0},
  };
  const kiln_relation_desc probe_layout = {
      "probe", "", 2, probe_columns, sizeof(Probe), alignof(Probe), 0, nullptr, nullptr, nullptr};
  const kiln_range_condition window[] = {
      {0, KILN_RANGE_LE, 3, 0}, // low <= stored.small
      {1, KILN_RANGE_GT, 3, 0}, // high > stored.small
  };
  Probe probe{0, 40, 45};
  int64_t n = 0;
  kiln_topk_change *found =
      kiln_range_match(&rt_, set_, &desc_, 0, &probe_layout, &probe, nullptr, window, 2, -1, &n);
  ASSERT_EQ(n, 5);
  EXPECT_EQ(static_cast<const Row *>(found[0].row)->small, 40);
  EXPECT_EQ(static_cast<const Row *>(found[4].row)->small, 44);
  probe = {0, -5, 2};
  kiln_range_match(&rt_, set_, &desc_, 0, &probe_layout, &probe, nullptr, window, 2, -1, &n);
  EXPECT_EQ(n, 2);
}

} // namespace
} // namespace kiln::runtime
