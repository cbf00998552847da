// The host around a program: change records, primary keys, ticks, output, bad records, runtime
// errors and the command line. The program is hand-written: it records what it is pushed and, at
// commit, emits every row it was pushed in the tick to the sink with the same layout.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kiln/runtime/Host.h"
#include "kiln/runtime/Values.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct OrderRow {
  uint64_t nulls;
  int64_t id;
  kiln_str region;
  __int128 amount; // NUMERIC(10,2)
};
struct EventRow {
  uint64_t nulls;
  kiln_str name;
  double value;
};

struct ItemRow {
  uint64_t nulls;
  int64_t id;
  int32_t qty;
};

const kiln_column_desc kItemColumns[] = {
    {"id", KILN_T_INT64, 0, 0, offsetof(ItemRow, id), 1},
    {"qty", KILN_T_INT32, 0, 0, offsetof(ItemRow, qty), 0},
};

const kiln_column_desc kOrderColumns[] = {
    {"id", KILN_T_INT64, 0, 0, offsetof(OrderRow, id), 1},
    {"region", KILN_T_TEXT, 0, 0, offsetof(OrderRow, region), 0},
    {"amount", KILN_T_NUMERIC, 10, 2, offsetof(OrderRow, amount), 1},
};
const int32_t kOrderKey[] = {0};
const kiln_column_desc kEventColumns[] = {
    {"name", KILN_T_TEXT, 0, 0, offsetof(EventRow, name), 1},
    {"value", KILN_T_FLOAT64, 0, 0, offsetof(EventRow, value), 0},
};

const kiln_relation_desc kSources[] = {
    {"shop.orders", "models/sources.yml:4:7", 3, kOrderColumns, sizeof(OrderRow), alignof(OrderRow),
     1, kOrderKey},
    {"shop.events", "models/sources.yml:9:7", 2, kEventColumns, sizeof(EventRow), alignof(EventRow),
     0, nullptr},
    {"audit.events", "models/sources.yml:14:7", 2, kEventColumns, sizeof(EventRow),
     alignof(EventRow), 0, nullptr},
    {"shop.items", "models/sources.yml:19:7", 2, kItemColumns, sizeof(ItemRow), alignof(ItemRow), 1,
     kOrderKey},
};
const kiln_relation_desc kSinks[] = {
    {"orders_out", "models/orders_out.sql:1:1", 3, kOrderColumns, sizeof(OrderRow),
     alignof(OrderRow), 0, nullptr},
    {"events_out", "models/events_out.sql:1:1", 2, kEventColumns, sizeof(EventRow),
     alignof(EventRow), 0, nullptr},
};
const char *const kLocations[] = {"models/marts/revenue.sql:3:12"};

struct Echo {
  struct Push {
    int32_t source;
    const void *row; // must stay valid until commit
    int64_t weight;
  };
  kiln_runtime *rt;
  std::vector<Push> tick;
  std::vector<std::string> log; // "source weight row" of every push
  // The keyed sources' rows by id (their key), as generated programs keep them: copies with
  // their own strings, kept until commit once replaced (the tick's pushes point at them).
  struct StoredRow {
    std::vector<std::byte> bytes;
    std::vector<std::unique_ptr<std::string>> texts;
  };
  std::map<std::pair<int32_t, int64_t>, StoredRow> keyed;
  std::vector<StoredRow> replaced;
  // The replaced rows of the last tick: the host delivers a tick's changes after its commit
  // returns, so their strings live until the next tick ends (as the runtime's released text).
  std::vector<StoredRow> retired;
};
Echo *g_echo = nullptr;

void *echoCreate(kiln_runtime *rt) { return g_echo = new Echo{rt, {}, {}, {}, {}, {}}; }

void echoPush(void *state, int32_t source, const void *row, int64_t weight) {
  auto *echo = static_cast<Echo *>(state);
  // Stands in for an expression that fails, e.g. a division by zero.
  if (source == 1 && std::isnan(static_cast<const EventRow *>(row)->value))
    kiln_raise(echo->rt, KILN_ERR_DIVISION_BY_ZERO, 0);
  echo->log.push_back(absl::StrCat(source, " ", weight, " ", formatRowJson(kSources[source], row)));
  echo->tick.push_back({source, row, weight});
}

// A stand-in for a generated program's keyed sources (Operators/Source.cpp): both have their
// id (an int64 after the null bitmap) as their key. The e2e tests check the real ones.
int32_t echoApply(void *state, int32_t source, int32_t op, const void *row) {
  auto *echo = static_cast<Echo *>(state);
  int64_t id;
  std::memcpy(&id, static_cast<const std::byte *>(row) + sizeof(uint64_t), sizeof id);
  auto it = echo->keyed.find({source, id});
  if (op == KILN_APPLY_INSERT && it != echo->keyed.end())
    return KILN_APPLY_DUPLICATE_KEY;
  if (op == KILN_APPLY_DELETE && it == echo->keyed.end())
    return KILN_APPLY_NO_SUCH_KEY;
  const kiln_relation_desc &rel = kSources[source];
  if (it != echo->keyed.end()) {
    if (op == KILN_APPLY_UPSERT && rowsEqual(rel, it->second.bytes.data(), row))
      return KILN_APPLY_UNCHANGED;
    echo->replaced.push_back(std::move(it->second));
    echo->keyed.erase(it);
    echoPush(state, source, echo->replaced.back().bytes.data(), -1);
    if (op == KILN_APPLY_DELETE)
      return KILN_APPLY_OK;
  }
  auto *bytes = static_cast<const std::byte *>(row);
  Echo::StoredRow &stored = echo->keyed[{source, id}];
  stored.bytes.assign(bytes, bytes + rel.row_size);
  for (int32_t c = 0; c < rel.ncols; ++c) {
    if (rel.cols[c].type != KILN_T_TEXT)
      continue;
    kiln_str str;
    std::memcpy(&str, stored.bytes.data() + rel.cols[c].offset, sizeof str);
    stored.texts.push_back(std::make_unique<std::string>(str.ptr, static_cast<size_t>(str.len)));
    str.ptr = stored.texts.back()->data();
    std::memcpy(stored.bytes.data() + rel.cols[c].offset, &str, sizeof str);
  }
  echoPush(state, source, stored.bytes.data(), 1);
  return KILN_APPLY_OK;
}

void echoCommit(void *state) {
  auto *echo = static_cast<Echo *>(state);
  for (const Echo::Push &push : echo->tick)
    if (push.source < 2)
      kiln_emit(echo->rt, push.source, push.row, push.weight);
  echo->tick.clear();
  echo->retired = std::move(echo->replaced);
  echo->replaced.clear();
}

void echoDestroy(void *state) {
  if (g_echo == state)
    g_echo = nullptr;
  delete static_cast<Echo *>(state);
}

const kiln_program kProgram = {KILN_ABI_VERSION, "shop",     4,          kSources,   2,
                               kSinks,           1,          kLocations, echoCreate, echoPush,
                               echoApply,        echoCommit, echoDestroy};

std::string tempPath(std::string_view name) {
  const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
  return absl::StrCat(::testing::TempDir(), "kiln_", info->test_suite_name(), "_", info->name(),
                      "_", std::string(name));
}

SinkTarget fileTarget(const std::string &path) {
  SinkTarget target;
  target.kind = SinkTarget::Kind::File;
  target.path = path;
  return target;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeFile(const std::string &path, std::string_view text) { std::ofstream(path) << text; }

class HostTest : public ::testing::Test {
protected:
  void SetUp() override { makeHost({}); }

  // A host whose sink output is collected in out_ ("sink weight row", in emit order).
  void makeHost(HostOptions options) {
    host_.reset();
    host_ = std::make_unique<Host>(&kProgram, std::move(options));
    host_->setEmitCallback([this](int32_t sink, const void *row, int64_t weight) {
      out_.push_back(
          absl::StrCat(kSinks[sink].name, " ", weight, " ", formatRowJson(kSinks[sink], row)));
    });
  }

  bool push(std::string_view line, int32_t default_source = -1) {
    return host_->pushRecord(line, "input.jsonl", ++line_, default_source);
  }
  std::vector<std::string> commit() {
    host_->commit();
    return std::exchange(out_, {});
  }
  std::vector<std::string> pushed() { return std::exchange(g_echo->log, {}); }

  std::unique_ptr<Host> host_;
  std::vector<std::string> out_;
  int64_t line_ = 0;
};

TEST_F(HostTest, InsertReachesTheProgramAndItsSink) {
  EXPECT_TRUE(push(
      R"({"table":"shop.orders","op":"insert","row":{"id":1,"region":"EU","amount":"12.5"}})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 1 {"id":1,"region":"EU","amount":12.50})"));
  EXPECT_THAT(commit(), ElementsAre(R"(orders_out 1 {"id":1,"region":"EU","amount":12.50})"));
  EXPECT_EQ(host_->stats().records_read, 1);
  EXPECT_EQ(host_->stats().ticks, 1);
  EXPECT_EQ(host_->stats().changes_out, 1);
  EXPECT_EQ(host_->currentTick(), 2);
}

TEST_F(HostTest, UpsertReplacesTheRowOfItsKey) {
  ASSERT_TRUE(push(R"({"table":"orders","op":"upsert","row":{"id":1,"region":"EU","amount":10}})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 1 {"id":1,"region":"EU","amount":10.00})"));
  // The same row again changes nothing.
  ASSERT_TRUE(
      push(R"({"table":"orders","op":"upsert","row":{"id":1,"region":"EU","amount":10.0}})"));
  EXPECT_THAT(pushed(), IsEmpty());
  ASSERT_TRUE(push(R"({"table":"orders","op":"upsert","row":{"id":1,"region":"US","amount":12}})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 -1 {"id":1,"region":"EU","amount":10.00})",
                                    R"(0 1 {"id":1,"region":"US","amount":12.00})"));
  // The replaced row is still readable when the program emits at commit.
  EXPECT_THAT(commit(), ElementsAre(R"(orders_out 1 {"id":1,"region":"EU","amount":10.00})",
                                    R"(orders_out -1 {"id":1,"region":"EU","amount":10.00})",
                                    R"(orders_out 1 {"id":1,"region":"US","amount":12.00})"));
}

TEST_F(HostTest, DeleteByKeyUsesTheStoredRow) {
  ASSERT_TRUE(
      push(R"({"table":"orders","op":"insert","row":{"id":7,"region":"NORTH","amount":3}})"));
  commit();
  pushed();
  ASSERT_TRUE(push(R"({"table":"orders","op":"delete","row":{"id":7}})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 -1 {"id":7,"region":"NORTH","amount":3.00})"));
  EXPECT_THAT(commit(), ElementsAre(R"(orders_out -1 {"id":7,"region":"NORTH","amount":3.00})"));
  // The key is free again.
  ASSERT_TRUE(push(R"({"table":"orders","op":"insert","row":{"id":7,"region":"S","amount":1}})"));
  // A delete naming other values still deletes the stored row.
  ASSERT_TRUE(push(R"({"table":"orders","op":"delete","row":{"id":7,"region":"X","amount":9}})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 1 {"id":7,"region":"S","amount":1.00})",
                                    R"(0 -1 {"id":7,"region":"S","amount":1.00})"));
}

TEST_F(HostTest, KeyViolationsAreBadRecords) {
  ASSERT_TRUE(push(R"({"table":"orders","op":"insert","row":{"id":1,"amount":1}})"));
  pushed();
  EXPECT_FALSE(push(R"({"table":"orders","op":"insert","row":{"id":1,"amount":2}})"));
  EXPECT_EQ(host_->lastBadRecord(),
            "duplicate key value violates primary key of shop.orders: (id)=(1) already exists");
  EXPECT_FALSE(push(R"({"table":"orders","op":"delete","row":{"id":2}})"));
  EXPECT_EQ(host_->lastBadRecord(), "no row with key (id)=(2) to delete in shop.orders");
  EXPECT_FALSE(push(R"({"table":"orders","op":"delete","row":{"amount":2}})"));
  EXPECT_EQ(host_->lastBadRecord(), "null value in column \"id\" violates not-null constraint");
  EXPECT_FALSE(push(R"({"table":"orders","op":"upsert","row":{"id":1}})"));
  EXPECT_EQ(host_->lastBadRecord(), "null value in column \"amount\" violates not-null constraint");
  EXPECT_FALSE(push(R"({"table":"orders","op":"insert","weight":2,"row":{"id":5,"amount":2}})"));
  EXPECT_EQ(host_->lastBadRecord(),
            "\"weight\" must be 1 for shop.orders, which has a primary key");
  EXPECT_THAT(pushed(), IsEmpty());
  EXPECT_EQ(host_->stats().bad_records, 5);
  EXPECT_EQ(host_->stats().records_read, 6);
}

TEST_F(HostTest, TablesWithoutKeyTakeWeights) {
  ASSERT_TRUE(
      push(R"({"table":"shop.events","op":"insert","weight":3,"row":{"name":"a","value":1}})"));
  ASSERT_TRUE(
      push(R"({"table":"shop.events","op":"delete","weight":2,"row":{"name":"a","value":1}})"));
  ASSERT_TRUE(push(R"({"table":"shop.events","op":"delete","row":{"name":"b"}})"));
  EXPECT_THAT(pushed(),
              ElementsAre(R"(1 3 {"name":"a","value":1})", R"(1 -2 {"name":"a","value":1})",
                          R"(1 -1 {"name":"b","value":null})"));
  EXPECT_FALSE(push(R"({"table":"shop.events","op":"upsert","row":{"name":"a"}})"));
  EXPECT_EQ(host_->lastBadRecord(), "upsert needs a primary key, and shop.events has none");
  EXPECT_FALSE(push(R"({"table":"shop.events","op":"delete","row":{"value":1}})"));
  EXPECT_EQ(host_->lastBadRecord(), "null value in column \"name\" violates not-null constraint");
}

TEST_F(HostTest, TableNames) {
  EXPECT_EQ(host_->findSource("shop.orders"), 0);
  EXPECT_EQ(host_->findSource("orders"), 0);
  EXPECT_EQ(host_->findSource("audit.events"), 2);
  EXPECT_EQ(host_->findSource("events"), -1); // shop.events or audit.events
  EXPECT_EQ(host_->findSink("events_out"), 1);
  EXPECT_EQ(host_->findSink("nope"), -1);
  EXPECT_FALSE(push(R"({"table":"events","op":"insert","row":{"name":"a"}})"));
  EXPECT_EQ(host_->lastBadRecord(),
            "table name \"events\" is ambiguous; qualify it with its source name");
  EXPECT_FALSE(push(R"({"table":"nope","op":"insert","row":{}})"));
  EXPECT_EQ(host_->lastBadRecord(), "unknown table \"nope\"");
  EXPECT_TRUE(push(R"({"table":"audit.events","op":"insert","row":{"name":"a"}})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(2 1 {"name":"a","value":null})"));
}

TEST_F(HostTest, MalformedEnvelopes) {
  const std::pair<const char *, const char *> cases[] = {
      {R"({"table":"orders","row":{"id":1}})", "missing \"op\""},
      {R"({"table":"orders","op":"insert"})", "missing \"row\""},
      {R"({"op":"insert","row":{"id":1,"amount":1}})", "missing \"table\""},
      {R"({"table":"orders","op":"merge","row":{}})",
       "unknown op \"merge\" (expected insert, delete, upsert or commit)"},
      {R"({"table":"orders","op":"insert","row":{},"ts":1})",
       "unknown field \"ts\" in change record (expected table, op, row or weight)"},
      {R"({"table":"orders","op":"insert","op":"delete","row":{}})",
       "field \"op\" given more than once"},
      {R"({"table":"orders","op":"insert","row":[1]})", "\"row\" must be a JSON object"},
      {R"({"table":"shop.events","op":"insert","weight":0,"row":{}})",
       "\"weight\" must be a non-zero integer"},
      {R"({"table":"orders","op":"upsert","weight":1,"row":{"id":1,"amount":1}})",
       "an upsert has no weight"},
      {R"({"op":"commit","table":"orders"})", "a commit record has no table, row or weight"},
      {R"({"commit":false})", "\"commit\" must be true"},
      {R"({"table":"orders","op":"insert","row":{"id":1,"amount":1}} {})",
       "unexpected text after the JSON object"},
      {R"(["orders"])", "expected a JSON object"},
  };
  for (const auto &[line, reason] : cases) {
    EXPECT_FALSE(push(line)) << line;
    EXPECT_EQ(host_->lastBadRecord(), reason) << line;
  }
  EXPECT_THAT(pushed(), IsEmpty());
  EXPECT_EQ(host_->stats().ticks, 0);
}

TEST_F(HostTest, RecordsOfAnInputWithADefaultSource) {
  // A bare row is an insert.
  ASSERT_TRUE(push(R"({"id":5,"region":"EU","amount":1})", 0));
  // Envelopes may leave out the table...
  ASSERT_TRUE(push(R"({"op":"delete","row":{"id":5}})", 0));
  // ...or name another one, even after the row.
  ASSERT_TRUE(push(R"({"row":{"name":"x"},"op":"insert","table":"shop.events"})", 0));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 1 {"id":5,"region":"EU","amount":1.00})",
                                    R"(0 -1 {"id":5,"region":"EU","amount":1.00})",
                                    R"(1 1 {"name":"x","value":null})"));
  EXPECT_FALSE(push(R"({"id":6,"amount":1,"colour":"red"})", 0));
  EXPECT_EQ(host_->lastBadRecord(), "column \"colour\" of relation \"shop.orders\" does not exist");
  ASSERT_TRUE(push(R"({"commit":true})", 0));
  EXPECT_EQ(host_->stats().ticks, 1);
}

TEST_F(HostTest, RowBeforeTableIsDecodedForThatTable) {
  ASSERT_TRUE(
      push(R"({"row":{"id":3,"region":"W","amount":"0.5"},"op":"insert","table":"orders"})"));
  EXPECT_THAT(pushed(), ElementsAre(R"(0 1 {"id":3,"region":"W","amount":0.50})"));
  EXPECT_FALSE(push(R"({"row":{"id":"z","amount":1},"op":"insert","table":"orders"})"));
  EXPECT_EQ(host_->lastBadRecord(), "column \"id\": invalid input syntax for type bigint: \"z\"");
}

TEST_F(HostTest, TicksEndAtCommitRecordsAndEveryTickSizeRecords) {
  ASSERT_TRUE(push(R"({"table":"shop.events","op":"insert","row":{"name":"a"}})"));
  ASSERT_TRUE(push(R"({"op":"commit"})"));
  EXPECT_EQ(host_->stats().ticks, 1);
  EXPECT_THAT(out_, ElementsAre(R"(events_out 1 {"name":"a","value":null})"));
  host_->finishInput(); // nothing pending: no empty tick
  EXPECT_EQ(host_->stats().ticks, 1);

  HostOptions options;
  options.tick_size = 2;
  makeHost(options);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(push(
        absl::StrCat(R"({"table":"shop.events","op":"insert","row":{"name":"e)", i, R"("}})")));
  EXPECT_EQ(host_->stats().ticks, 2);
  EXPECT_TRUE(host_->hasPendingChanges());
  host_->finishInput();
  EXPECT_EQ(host_->stats().ticks, 3);
  EXPECT_FALSE(host_->hasPendingChanges());
}

TEST_F(HostTest, DecodeRowAndPushRow) {
  absl::StatusOr<const void *> row = host_->decodeRow(1, R"({"name":"n","value":2.5})");
  ASSERT_TRUE(row.ok()) << row.status();
  host_->pushRow(1, *row, 4);
  EXPECT_THAT(pushed(), ElementsAre(R"(1 4 {"name":"n","value":2.5})"));
  EXPECT_THAT(commit(), ElementsAre(R"(events_out 4 {"name":"n","value":2.5})"));
  EXPECT_EQ(host_->decodeRow(1, R"({"value":1})").status().message(),
            "null value in column \"name\" violates not-null constraint");
}

TEST_F(HostTest, InternAndScratchMemory) {
  kiln_runtime *rt = host_->engine().runtime();
  std::string text = "interned";
  kiln_str copy = kiln_intern(rt, text.data(), static_cast<int64_t>(text.size()));
  text = "changed!";
  EXPECT_EQ(std::string(copy.ptr, copy.len), "interned");
  void *scratch = kiln_scratch(rt, 40);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(scratch) % 16, 0u);
  std::memset(scratch, 1, 40);
  commit();
  EXPECT_EQ(std::string(copy.ptr, copy.len), "interned"); // survives commits
  // Each distinct string is stored once, however often state stores it again.
  std::string again = "interned";
  kiln_str second = kiln_intern(rt, again.data(), static_cast<int64_t>(again.size()));
  EXPECT_EQ(second.ptr, copy.ptr);
  kiln_str other = kiln_intern(rt, "intern", 6);
  EXPECT_NE(other.ptr, copy.ptr);
  EXPECT_EQ(std::string(other.ptr, other.len), "intern");
  kiln_str empty = kiln_intern(rt, "", 0);
  EXPECT_EQ(empty.len, 0);
}

// A source's rows own their text: kept copies are counted while held, and a released copy stays
// readable until the tick ends (the tick's pushed rows may point at it).
TEST_F(HostTest, KeptTextLivesUntilTheTickOfItsRelease) {
  kiln_runtime *rt = host_->engine().runtime();
  std::string text = "a customer's name";
  kiln_str kept = kiln_text_keep(rt, text.data(), static_cast<int64_t>(text.size()));
  text = "overwritten";
  EXPECT_EQ(std::string(kept.ptr, kept.len), "a customer's name");
  EXPECT_EQ(host_->stateStats().kept_text_bytes, 17);
  EXPECT_EQ(kiln_text_keep(rt, "", 0).ptr, nullptr); // nothing to keep
  kiln_text_release(rt, kept.ptr);
  kiln_text_release(rt, nullptr);
  EXPECT_EQ(host_->stateStats().kept_text_bytes, 0);
  EXPECT_EQ(std::string(kept.ptr, kept.len), "a customer's name");
  commit(); // frees it (the sanitized build checks that it is freed once)
}

TEST_F(HostTest, SkippedBadRecordsAreReportedWithTheirLine) {
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(push("{oops"));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, ::testing::StartsWith("input.jsonl:1: error: invalid JSON: "));
  EXPECT_THAT(err, ::testing::EndsWith("\n  {oops\n"));
  EXPECT_EQ(host_->stats().bad_records, 1);
}

TEST_F(HostTest, DeadLetterKeepsRawRecordAndReason) {
  std::string path = tempPath("dead.jsonl");
  std::remove(path.c_str());
  HostOptions options;
  options.policy = HostOptions::BadRecordPolicy::DeadLetter;
  options.dead_letter_path = path;
  makeHost(options);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(push(R"({"table":"orders","op":"insert","row":{"id":"x"}})"));
  EXPECT_FALSE(push("\xff\xfe"));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  std::vector<std::string> lines = absl::StrSplit(readFile(path), '\n');
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            R"({"origin":"input.jsonl","line":1,"reason":"column \"id\": invalid input syntax )"
            R"(for type bigint: \"x\"","raw":"{\"table\":\"orders\",\"op\":\"insert\",\"row\":)"
            R"({\"id\":\"x\"}}"})");
  // Bytes that are not UTF-8 cannot be a JSON string: they are kept in base64.
  EXPECT_THAT(lines[1], ::testing::StartsWith(
                            R"({"origin":"input.jsonl","line":2,"reason":"invalid JSON: )"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(R"(","raw_base64":"//4="})"));
  EXPECT_EQ(lines[2], "");
}

// A SQL runtime error stops the host (the default policy): it is reported with the model's
// location and the record that raised it, and no more input is taken.
TEST_F(HostTest, RuntimeErrorsStopTheHost) {
  push(R"({"table":"shop.events","op":"insert","row":{"name":"a","value":2}})");
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(
      host_->pushRecord(R"({"table":"shop.events","op":"insert","row":{"name":"b","value":"NaN"}})",
                        "input.jsonl", 2));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "models/marts/revenue.sql:3:12: error: division by zero\n"
            "note: raised in model revenue by record input.jsonl:2 of tick 1, which was not "
            "applied\n");
  EXPECT_TRUE(host_->failed());
  EXPECT_FALSE(host_->pushRecord(R"({"table":"shop.events","op":"insert","row":{"name":"c"}})",
                                 "input.jsonl", 3));
  EXPECT_FALSE(host_->finishInput());
  EXPECT_EQ(host_->stats().ticks, 0);
}

// The JSON lines a host writes by default, here to files.
TEST(HostOutput, TicksAreWrittenSortedPerSink) {
  std::string orders = tempPath("orders.jsonl"), events = tempPath("events.jsonl");
  HostOptions options;
  options.sinks["orders_out"] = fileTarget(orders);
  options.sinks["events_out"] = fileTarget(events);
  {
    Host host(&kProgram, options);
    int64_t line = 0;
    for (std::string_view record : {
             R"({"table":"orders","op":"insert","row":{"id":2,"region":"b","amount":1}})",
             R"({"table":"shop.events","op":"insert","row":{"name":"z\"q","value":1e20}})",
             R"({"table":"orders","op":"insert","row":{"id":10,"region":"a","amount":1}})",
             R"({"table":"orders","op":"insert","row":{"id":1,"region":null,"amount":1}})",
             R"({"table":"orders","op":"delete","row":{"id":2}})",
             R"({"table":"shop.events","op":"insert","row":{"name":"a","value":"-Infinity"}})",
             R"({"op":"commit"})",
             R"({"table":"orders","op":"delete","row":{"id":10}})",
         })
      ASSERT_TRUE(host.pushRecord(record, "in.jsonl", ++line));
    host.finishInput();
    EXPECT_EQ(host.stats().ticks, 2);
    EXPECT_EQ(host.stats().changes_out, 7);
  }
  EXPECT_EQ(
      readFile(orders),
      R"({"tick":1,"sink":"orders_out","weight":-1,"row":{"id":2,"region":"b","amount":1.00}})"
      "\n"
      R"({"tick":1,"sink":"orders_out","weight":1,"row":{"id":1,"region":null,"amount":1.00}})"
      "\n"
      R"({"tick":1,"sink":"orders_out","weight":1,"row":{"id":10,"region":"a","amount":1.00}})"
      "\n"
      R"({"tick":1,"sink":"orders_out","weight":1,"row":{"id":2,"region":"b","amount":1.00}})"
      "\n"
      R"({"tick":2,"sink":"orders_out","weight":-1,"row":{"id":10,"region":"a","amount":1.00}})"
      "\n");
  EXPECT_EQ(readFile(events),
            R"({"tick":1,"sink":"events_out","weight":1,"row":{"name":"a","value":"-Infinity"}})"
            "\n"
            R"({"tick":1,"sink":"events_out","weight":1,"row":{"name":"z\"q","value":1e+20}})"
            "\n");
}

TEST(HostOutput, UnknownSinkIsAnError) {
  HostOptions options;
  options.sinks["nope"] = SinkTarget{};
  EXPECT_THROW(Host(&kProgram, options), std::runtime_error);
}

// Debezium envelopes: with key columns, a key's row replaced in a tick is one "u" event.
TEST(HostOutput, DebeziumEnvelopesPairAKeysChanges) {
  std::string orders = tempPath("orders.dbz");
  HostOptions options;
  options.sinks["orders_out"] = fileTarget(orders);
  options.sinks["orders_out"].format = SinkTarget::Format::Debezium;
  options.sinks["orders_out"].key = {"id"};
  {
    Host host(&kProgram, options);
    int64_t line = 0;
    for (std::string_view record : {
             R"({"table":"orders","op":"insert","row":{"id":1,"region":"a","amount":1}})",
             R"({"table":"orders","op":"insert","row":{"id":2,"region":"b","amount":2}})",
             R"({"op":"commit"})",
             R"({"table":"orders","op":"upsert","row":{"id":1,"region":"c","amount":1}})",
             R"({"table":"orders","op":"delete","row":{"id":2}})",
         })
      ASSERT_TRUE(host.pushRecord(record, "in.jsonl", ++line));
    host.finishInput();
  }
  std::string source = R"("source":{"connector":"kiln","name":"shop","table":"orders_out")";
  EXPECT_EQ(
      readFile(orders),
      R"({"before":null,"after":{"id":1,"region":"a","amount":1.00},"op":"c",)" + source +
          R"(,"tick":1}})"
          "\n"
          R"({"before":null,"after":{"id":2,"region":"b","amount":2.00},"op":"c",)" +
          source +
          R"(,"tick":1}})"
          "\n"
          R"({"before":{"id":1,"region":"a","amount":1.00},"after":{"id":1,"region":"c","amount":1.00},"op":"u",)" +
          source +
          R"(,"tick":2}})"
          "\n"
          R"({"before":{"id":2,"region":"b","amount":2.00},"after":null,"op":"d",)" +
          source +
          R"(,"tick":2}})"
          "\n");
}

TEST(HostOutput, UpsertSinksNeedKafkaAndKeyColumns) {
  HostOptions options;
  options.sinks["orders_out"] = fileTarget(tempPath("orders.upsert"));
  options.sinks["orders_out"].format = SinkTarget::Format::Upsert;
  EXPECT_THROW(Host(&kProgram, options), std::runtime_error);
  options.sinks["orders_out"].format = SinkTarget::Format::Debezium;
  options.sinks["orders_out"].key = {"nope"};
  EXPECT_THROW(Host(&kProgram, options), std::runtime_error);
}

TEST(AbiSymbols, NameEveryFunctionOfTheAbi) {
  std::set<std::string_view> names;
  for (const AbiSymbol &symbol : abiSymbols()) {
    EXPECT_NE(symbol.address, nullptr) << symbol.name;
    names.insert(symbol.name);
  }
  EXPECT_EQ(names.size(), 72u); // the functions declared in abi.h
  EXPECT_TRUE(names.contains("kiln_constant_enabled"));
  EXPECT_TRUE(names.contains("kiln_array_cmp"));
  EXPECT_TRUE(names.contains("kiln_jsonb_cmp"));
  EXPECT_TRUE(names.contains("kiln_array_slice"));
  EXPECT_TRUE(names.contains("kiln_jsonb_contains"));
  EXPECT_TRUE(names.contains("kiln_jsonb_build"));
  EXPECT_TRUE(names.contains("kiln_window_changes"));
  EXPECT_TRUE(names.contains("kiln_ms_sum"));
  EXPECT_TRUE(names.contains("kiln_jsonb_get"));
  EXPECT_TRUE(names.contains("kiln_agg_entries_join"));
  EXPECT_TRUE(names.contains("kiln_array_in"));
  EXPECT_TRUE(names.contains("kiln_array_to_jsonb"));
  EXPECT_TRUE(names.contains("kiln_topk_trim"));
  EXPECT_TRUE(names.contains("kiln_topk_window"));
  EXPECT_TRUE(names.contains("kiln_ht_insert"));
  EXPECT_TRUE(names.contains("kiln_ms_max"));
  EXPECT_TRUE(names.contains("kiln_ht_unlink"));
  EXPECT_TRUE(names.contains("kiln_text_keep"));
  EXPECT_TRUE(names.contains("kiln_ht_touch"));
}

// ---- The executable's command line ----

int runMainWith(std::vector<std::string> args) {
  args.insert(args.begin(), "shop");
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  return runMain(&kProgram, static_cast<int>(argv.size()), argv.data());
}

TEST(RunMain, ReadsInputsInOrderAndWritesSinks) {
  std::string input = tempPath("in.jsonl"), orders = tempPath("orders.jsonl");
  std::string bare = tempPath("orders_rows.jsonl"), events = tempPath("events.jsonl");
  writeFile(input, "{\"table\":\"orders\",\"op\":\"insert\",\"row\":{\"id\":1,\"amount\":5}}\n"
                   "\n"
                   "{\"op\":\"commit\"}\r\n"
                   "{\"table\":\"orders\",\"op\":\"upsert\",\"row\":{\"id\":1,\"amount\":6}}\n"
                   "not json\n");
  writeFile(bare, "{\"id\":2,\"amount\":7}\n");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(
      runMainWith({"--input", input, "--source=orders=" + bare, "--sink",
                   "orders_out=file:" + orders, "--sink=events_out=file:" + events, "--stats"}),
      0);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr(input + ":5: error: expected a JSON object\n  not json\n"));
  EXPECT_THAT(err, HasSubstr("shop: 5 records (1 bad), 3 ticks, 4 changes out\n"));
  EXPECT_EQ(
      readFile(orders),
      R"({"tick":1,"sink":"orders_out","weight":1,"row":{"id":1,"region":null,"amount":5.00}})"
      "\n"
      R"({"tick":2,"sink":"orders_out","weight":-1,"row":{"id":1,"region":null,"amount":5.00}})"
      "\n"
      R"({"tick":2,"sink":"orders_out","weight":1,"row":{"id":1,"region":null,"amount":6.00}})"
      "\n"
      R"({"tick":3,"sink":"orders_out","weight":1,"row":{"id":2,"region":null,"amount":7.00}})"
      "\n");
  EXPECT_EQ(readFile(events), "");
}

TEST(RunMain, FailPolicyStopsWithStatus2) {
  std::string input = tempPath("in.jsonl"), out = tempPath("out.jsonl");
  writeFile(input,
            "{\"table\":\"orders\",\"op\":\"delete\",\"row\":{\"id\":1}}\n{\"op\":\"commit\"}\n");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(
      runMainWith({"--input", input, "--on-bad-record=fail", "--sink", "orders_out=file:" + out}),
      2);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr(":1: error: no row with key (id)=(1) to delete in shop.orders"));
  EXPECT_THAT(err, HasSubstr("stopping at the first bad record"));
}

TEST(RunMain, UsageErrorsExitWith1) {
  std::string input = tempPath("in.jsonl");
  writeFile(input, "");
  const std::vector<std::vector<std::string>> cases = {
      {"--bogus"},
      {"stray"},
      {"--input"},
      {"--tick-size", "many"},
      {"--on-bad-record=maybe"},
      {"--on-bad-record=dead-letter"},
      {"--on-bad-record=skip", "--dead-letter", "dead.jsonl"},
      {"--source", "orders"},
      {"--sink", "orders_out=kafka://x"},
      {"--sink", "nope=stdout", "--input", input},
      {"--source", "nope=" + input},
      {"--input", tempPath("missing.jsonl")},
  };
  for (const auto &args : cases) {
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(runMainWith(args), 1) << args[0];
    EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("error: ")) << args[0];
  }
}

TEST(RunMain, HelpListsSourcesAndSinks) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(runMainWith({"--help"}), 0);
  std::string help = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(help, HasSubstr("--on-bad-record=POLICY"));
  EXPECT_THAT(
      help,
      HasSubstr("sources: shop.orders, shop.events, audit.events, shop.items\nsinks: orders_out, "
                "events_out\n"));
}

} // namespace
} // namespace kiln::runtime
