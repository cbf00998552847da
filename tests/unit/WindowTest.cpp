// Window functions over one partition (runtime/lib/Window.cpp): the rows a window operator keeps
// (a top-k's ordered multiset) become output rows with one column per call. Checks each function
// against PostgreSQL's definitions on a small partition with ties and NULLs, frames of ROWS,
// RANGE (with offsets) and GROUPS, EXCLUDE clauses, and that the changes between two versions of a
// partition are exactly the rows whose results changed (an update as -old +new, a row that kept its
// results as nothing).
#include <cstring>
#include <string>
#include <vector>

#include "Runtime.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/abi.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

struct In {
  uint64_t nulls;
  int64_t id;
  int64_t v; // the ORDER BY column
};
// The output: the input's columns, then one int64 per call (all calls here are int64-typed).
struct Out {
  uint64_t nulls;
  int64_t id;
  int64_t v;
  int64_t result[4];
};
const kiln_column_desc kIn[] = {
    {"id", KILN_T_INT64, 0, 0, offsetof(In, id), 1},
    {"v", KILN_T_INT64, 0, 0, offsetof(In, v), 0},
};
const kiln_column_desc kOut[] = {
    {"id", KILN_T_INT64, 0, 0, offsetof(Out, id), 1},
    {"v", KILN_T_INT64, 0, 0, offsetof(Out, v), 0},
    {"r0", KILN_T_INT64, 0, 0, offsetof(Out, result[0]), 0},
    {"r1", KILN_T_INT64, 0, 0, offsetof(Out, result[1]), 0},
    {"r2", KILN_T_INT64, 0, 0, offsetof(Out, result[2]), 0},
    {"r3", KILN_T_INT64, 0, 0, offsetof(Out, result[3]), 0},
};

class NoServices final : public RuntimeServices {
public:
  void emit(int32_t, const void *, int64_t) override {}
  [[noreturn]] void raise(int32_t, int32_t) override { std::abort(); }
};

kiln_window_call call(kiln_window_fn fn, int64_t arg = -1, int64_t n = 1) {
  return {fn,
          arg,
          -1,
          n,
          KILN_FRAME_ROWS,
          KILN_FRAME_UNBOUNDED_PRECEDING,
          0,
          KILN_FRAME_CURRENT_ROW,
          0,
          0,
          0,
          KILN_EXCLUDE_NO_OTHERS,
          0};
}

class WindowTest : public ::testing::Test {
protected:
  WindowTest() : rt_(services_), set_(kiln_ms_create(&rt_, KILN_T_TEXT)) {}
  ~WindowTest() override { kiln_ms_destroy(set_); }

  // Rows (id, v); v = INT64_MIN stands for NULL.
  void add(int64_t id, int64_t v, int64_t weight = 1) {
    In row{};
    row.id = id;
    if (v == INT64_MIN)
      setNull(&row, 1);
    else
      row.v = v;
    uint8_t order = 0; // ORDER BY v ASC NULLS LAST
    kiln_topk_add(&rt_, set_, in(), &order, &row, weight);
  }
  std::vector<kiln_str> partition() {
    int64_t n = 0;
    kiln_str *values = kiln_topk_window(&rt_, set_, 0, -1, &n);
    return {values, values + n};
  }
  // Each output row as "id:r0,r1,..." (NULL results as "-"), with its weight's sign.
  std::vector<std::string> changes(const std::vector<kiln_str> &before,
                                   const std::vector<kiln_str> &after,
                                   const std::vector<kiln_window_call> &calls) {
    out_ = {"out",  "",          static_cast<int32_t>(2 + calls.size()),
            kOut,   sizeof(Out), alignof(Out),
            0,      nullptr,     nullptr,
            nullptr};
    int64_t n = 0;
    kiln_topk_change *rows = kiln_window_changes(
        &rt_, in(), &out_, calls.data(), static_cast<int32_t>(calls.size()), before.data(),
        static_cast<int64_t>(before.size()), after.data(), static_cast<int64_t>(after.size()), &n);
    std::vector<std::string> text;
    for (int64_t i = 0; i < n; ++i) {
      const Out &row = *static_cast<const Out *>(rows[i].row);
      std::string s = (rows[i].weight > 0 ? "+" : "-") + std::to_string(row.id) + ":";
      for (size_t c = 0; c < calls.size(); ++c)
        s += (c ? "," : "") + (isNull(&row, static_cast<int32_t>(2 + c))
                                   ? std::string("-")
                                   : std::to_string(row.result[c]));
      text.push_back(s);
    }
    return text;
  }
  std::vector<std::string> rows(const std::vector<kiln_window_call> &calls) {
    return changes({}, partition(), calls);
  }
  const kiln_relation_desc *in() {
    in_ = {"in", "", 2, kIn, sizeof(In), alignof(In), 1, &key_, nullptr, nullptr};
    return &in_;
  }

  NoServices services_;
  kiln_runtime rt_;
  kiln_multiset *set_;
  int32_t key_ = 1;
  kiln_relation_desc in_{}, out_{};
};

TEST_F(WindowTest, RanksNumberPeersAsPostgreSQL) {
  add(1, 10), add(2, 20), add(3, 20), add(4, 30), add(5, INT64_MIN);
  // Rows in order: 10, 20, 20, 30, NULL (peers tie on v; their order is by their bytes).
  EXPECT_EQ(rows({call(KILN_WF_ROW_NUMBER), call(KILN_WF_RANK), call(KILN_WF_DENSE_RANK),
                  call(KILN_WF_NTILE, -1, 2)}),
            (std::vector<std::string>{"+1:1,1,1,1", "+2:2,2,2,1", "+3:3,2,2,1", "+4:4,4,3,2",
                                      "+5:5,5,4,2"}));
}

TEST_F(WindowTest, NavigationAndFrames) {
  add(1, 10), add(2, 20), add(3, 20), add(4, 30), add(5, INT64_MIN);
  kiln_window_call lag = call(KILN_WF_LAG, 1), lead2 = call(KILN_WF_LEAD, 1, 2);
  // RANGE UNBOUNDED PRECEDING .. CURRENT ROW: the current row's peers are in its frame.
  kiln_window_call running = call(KILN_WF_SUM, 1);
  running.units = KILN_FRAME_RANGE;
  // ROWS 1 PRECEDING .. 1 FOLLOWING.
  kiln_window_call around = call(KILN_WF_MAX, 1);
  around.start = KILN_FRAME_PRECEDING, around.start_offset = 1;
  around.end = KILN_FRAME_FOLLOWING, around.end_offset = 1;
  EXPECT_EQ(rows({lag, lead2, running, around}),
            (std::vector<std::string>{"+1:-,20,10,20", "+2:10,30,50,20", "+3:20,-,50,30",
                                      "+4:20,-,80,30", "+5:30,-,80,30"}));
  kiln_window_call count = call(KILN_WF_COUNT, 1), last = call(KILN_WF_LAST_VALUE, 1);
  last.end = KILN_FRAME_UNBOUNDED_FOLLOWING;
  kiln_window_call empty = call(KILN_WF_COUNT_STAR); // ROWS 3 FOLLOWING .. 4 FOLLOWING
  empty.start = KILN_FRAME_FOLLOWING, empty.start_offset = 3;
  empty.end = KILN_FRAME_FOLLOWING, empty.end_offset = 4;
  EXPECT_EQ(rows({count, last, empty}),
            (std::vector<std::string>{"+1:1,-,2", "+2:2,-,1", "+3:3,-,0", "+4:4,-,0", "+5:4,-,0"}));
}

TEST_F(WindowTest, GroupsRangeOffsetsAndExclusions) {
  add(1, 10), add(2, 20), add(3, 20), add(4, 30), add(5, INT64_MIN);
  // RANGE BETWEEN 10 PRECEDING AND CURRENT ROW: values in [v - 10, v]; a NULL's frame is the NULLs.
  kiln_window_call trailing = call(KILN_WF_SUM, 1);
  trailing.units = KILN_FRAME_RANGE;
  trailing.start = KILN_FRAME_PRECEDING, trailing.start_offset = 10;
  // RANGE BETWEEN 5 FOLLOWING AND 15 FOLLOWING.
  kiln_window_call ahead = call(KILN_WF_SUM, 1);
  ahead.units = KILN_FRAME_RANGE;
  ahead.start = KILN_FRAME_FOLLOWING, ahead.start_offset = 5;
  ahead.end = KILN_FRAME_FOLLOWING, ahead.end_offset = 15;
  // GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING: the peer groups next to the row's.
  kiln_window_call groups = call(KILN_WF_COUNT, 1);
  groups.units = KILN_FRAME_GROUPS;
  groups.start = KILN_FRAME_PRECEDING, groups.start_offset = 1;
  groups.end = KILN_FRAME_FOLLOWING, groups.end_offset = 1;
  // ROWS over the partition EXCLUDE TIES: the row's peers, not itself, are left out.
  kiln_window_call ties = call(KILN_WF_COUNT_STAR);
  ties.end = KILN_FRAME_UNBOUNDED_FOLLOWING, ties.exclude = KILN_EXCLUDE_TIES;
  EXPECT_EQ(rows({trailing, ahead, groups, ties}),
            (std::vector<std::string>{"+1:10,40,3,5", "+2:50,30,4,4", "+3:50,30,4,4", "+4:70,-,3,5",
                                      "+5:-,-,1,5"}));
  // EXCLUDE CURRENT ROW and GROUP; first_value and nth_value skip the excluded rows.
  kiln_window_call others = ties, group = ties;
  others.exclude = KILN_EXCLUDE_CURRENT_ROW, group.exclude = KILN_EXCLUDE_GROUP;
  kiln_window_call first = call(KILN_WF_FIRST_VALUE, 1), second = call(KILN_WF_NTH_VALUE, 1, 2);
  first.end = second.end = KILN_FRAME_UNBOUNDED_FOLLOWING;
  first.exclude = second.exclude = KILN_EXCLUDE_GROUP;
  EXPECT_EQ(rows({others, group, first, second}),
            (std::vector<std::string>{"+1:4,4,20,20", "+2:4,3,10,30", "+3:4,3,10,30",
                                      "+4:4,4,10,20", "+5:4,4,10,20"}));
}

TEST_F(WindowTest, ChangesAreTheRowsWhoseResultsChanged) {
  add(1, 10), add(2, 20), add(4, 40);
  std::vector<kiln_str> before = partition();
  add(3, 30); // lands third: the row after it is renumbered, those before keep their numbers
  std::vector<kiln_str> after = partition();
  EXPECT_EQ(changes(before, after, {call(KILN_WF_ROW_NUMBER)}),
            (std::vector<std::string>{"+3:3", "-4:3", "+4:4"}));
  add(1, 10, -1); // the first row goes: every other row moves up
  EXPECT_EQ(changes(after, partition(), {call(KILN_WF_ROW_NUMBER)}),
            (std::vector<std::string>{"-1:1", "-2:2", "+2:1", "-3:3", "+3:2", "-4:4", "+4:3"}));
}

} // namespace
} // namespace kiln::runtime
