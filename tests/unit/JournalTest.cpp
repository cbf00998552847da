// Atomic ticks through the Engine: a program made of the runtime's real containers (a hash table
// with a second chain, a multiset and a list per tick, as generated operators use them) receives
// random changes; ticks that raise a SQL runtime error must leave every container exactly as it
// was, and ticks that commit must match a model of the same changes.
#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kiln/runtime/Engine.h"
#include "kiln/runtime/abi.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

struct Row {
  uint64_t nulls;
  int64_t key;
  int64_t amount;
  int64_t raise; // nonzero: the change raises once it has changed everything
};
const kiln_column_desc kColumns[] = {
    {"key", KILN_T_INT64, 0, 0, offsetof(Row, key), 1},
    {"amount", KILN_T_INT64, 0, 0, offsetof(Row, amount), 1},
    {"raise", KILN_T_INT64, 0, 0, offsetof(Row, raise), 1},
};
const kiln_relation_desc kSources[] = {
    {"test.changes", "", 3, kColumns, sizeof(Row), alignof(Row), 0, nullptr}};
const kiln_relation_desc kSinks[] = {
    {"totals", "", 3, kColumns, sizeof(Row), alignof(Row), 0, nullptr}};
const char *const kLocations[] = {"models/totals.sql:1:8"};

// A group per key: its total and count (touched in place), linked in chain 1 by its total.
struct Group {
  int64_t key;
  int64_t total;
  int64_t count;
  uint8_t listed;
};
struct State {
  kiln_runtime *rt;
  kiln_hashtable *groups;
  kiln_multiset *amounts;
  kiln_ptrvec *changed;
};

uint64_t mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x9E3779B97F4A7C15ULL;
  return x ^ x >> 29;
}
Group *groupOf(kiln_entry *entry) { return reinterpret_cast<Group *>(entry + 1); }

void *create(kiln_runtime *rt) {
  return new State{rt, kiln_ht_create_chains(rt, sizeof(Group), 2, KILN_HT_UNIQUE_FIRST_CHAIN),
                   kiln_ms_create(rt, KILN_T_INT64), kiln_vec_create(rt)};
}

void push(void *opaque, int32_t, const void *data, int64_t weight) {
  auto *state = static_cast<State *>(opaque);
  const Row &row = *static_cast<const Row *>(data);
  uint64_t hash = mix(static_cast<uint64_t>(row.key));
  kiln_entry *entry = kiln_ht_chain(state->groups, hash);
  while (entry != nullptr && (entry->hash != hash || groupOf(entry)->key != row.key))
    entry = entry->next;
  if (entry == nullptr) {
    entry = kiln_ht_insert(state->groups, hash);
    groupOf(entry)->key = row.key;
  } else {
    kiln_ht_touch(state->groups, entry);
    kiln_ht_unlink(state->groups, entry, 1);
  }
  Group &group = *groupOf(entry);
  group.total += row.amount * weight;
  group.count += weight;
  if (!group.listed) {
    group.listed = 1;
    kiln_vec_push(state->changed, entry);
  }
  kiln_ht_link(state->groups, entry, 1, mix(static_cast<uint64_t>(group.total)));
  kiln_ms_add(state->amounts, &row.amount, weight);
  if (row.raise != 0)
    kiln_raise(state->rt, KILN_ERR_DIVISION_BY_ZERO, 0);
}

void commit(void *opaque) {
  auto *state = static_cast<State *>(opaque);
  for (int64_t i = 0; i < kiln_vec_size(state->changed); ++i) {
    auto *entry = static_cast<kiln_entry *>(kiln_vec_get(state->changed, i));
    Group &group = *groupOf(entry);
    // A group whose total went negative raises at commit, like an aggregate's output.
    if (group.total < 0)
      kiln_raise(state->rt, KILN_ERR_DIVISION_BY_ZERO, 0);
    group.listed = 0;
    if (group.count == 0)
      kiln_ht_erase(state->groups, entry);
  }
  kiln_vec_clear(state->changed);
}

void destroy(void *opaque) {
  auto *state = static_cast<State *>(opaque);
  kiln_ht_destroy(state->groups);
  kiln_ms_destroy(state->amounts);
  kiln_vec_destroy(state->changed);
  delete state;
}

const kiln_program kProgram = {KILN_ABI_VERSION, "journal", 1,    kSources, 1,      kSinks, 1,
                               kLocations,       create,    push, nullptr,  commit, destroy};

// Everything the containers hold, comparable.
struct Snapshot {
  std::map<int64_t, std::pair<int64_t, int64_t>> groups; // key -> total, count
  std::set<int64_t> linked_totals;                       // the keys found through chain 1
  int64_t size = 0, distinct = 0, min = 0, max = 0, listed = 0;
  bool operator==(const Snapshot &) const = default;
};

Snapshot snapshot(const State &state) {
  Snapshot s;
  for (kiln_entry *e = kiln_ht_first(state.groups); e != nullptr;
       e = kiln_ht_next(state.groups, e)) {
    const Group &group = *groupOf(e);
    s.groups[group.key] = {group.total, group.count};
    // Found again by its total in chain 1.
    uint64_t hash = mix(static_cast<uint64_t>(group.total));
    int64_t link = kiln_entry_link_offset(sizeof(Group), 1);
    for (kiln_entry *c = kiln_ht_chain_at(state.groups, 1, hash); c != nullptr;
         c = reinterpret_cast<kiln_entry_link *>(reinterpret_cast<std::byte *>(c) + link)->next)
      if (c == e)
        s.linked_totals.insert(group.key);
  }
  s.size = kiln_ht_size(state.groups);
  s.distinct = kiln_ms_distinct(state.amounts);
  kiln_ms_min(state.amounts, &s.min);
  kiln_ms_max(state.amounts, &s.max);
  s.listed = kiln_vec_size(state.changed);
  return s;
}

TEST(JournalTest, FailedTicksLeaveEveryContainerAsItWas) {
  std::mt19937_64 random(7);
  for (EngineOptions::OnError policy :
       {EngineOptions::OnError::Fail, EngineOptions::OnError::Isolate}) {
    auto engine = Engine::open(&kProgram, {policy});
    ASSERT_TRUE(engine.ok());
    const State &state = *static_cast<const State *>((*engine)->state());
    std::map<int64_t, std::pair<int64_t, int64_t>> model; // the committed changes
    int failed_ticks = 0, left_out = 0;
    for (int tick = 0; tick < 300; ++tick) {
      Snapshot before = snapshot(state);
      std::map<int64_t, std::pair<int64_t, int64_t>> next = model;
      std::vector<Row> rows(1 + random() % 20);
      struct Applied {
        int64_t tag, key, amount, count;
      };
      std::vector<Applied> applied;
      bool raised = false;
      for (size_t i = 0; i < rows.size(); ++i) {
        Row &row = rows[i];
        row = {0, static_cast<int64_t>(random() % 12), static_cast<int64_t>(random() % 9) - 2,
               random() % 25 == 0 ? 1 : 0};
        bool remove = next.contains(row.key) && random() % 3 == 0;
        ChangeOp op = remove ? ChangeOp::Delete : ChangeOp::Insert;
        absl::Status status = (*engine)->change(0, op, &row, 1, static_cast<int64_t>(i));
        if (row.raise != 0) {
          ASSERT_TRUE(absl::IsAborted(status)) << status;
          ASSERT_EQ((*engine)->runtimeError()->location, "models/totals.sql:1:8");
          ASSERT_EQ((*engine)->runtimeError()->tag, static_cast<int64_t>(i));
          if (policy == EngineOptions::OnError::Fail) {
            (*engine)->rollback();
            raised = true;
            break;
          }
          continue; // left out; the rest of the tick goes on
        }
        ASSERT_TRUE(status.ok()) << status;
        applied.push_back(
            {static_cast<int64_t>(i), row.key, remove ? -row.amount : row.amount, remove ? -1 : 1});
        auto &[total, count] = next[row.key];
        total += applied.back().amount;
        count += applied.back().count;
      }
      if (raised) {
        ++failed_ticks;
        ASSERT_EQ(snapshot(state), before) << "tick " << tick;
        continue;
      }
      absl::StatusOr<CommitReport> report = (*engine)->commit();
      // The program raises for a negative total, then drops the groups whose count is zero.
      bool negative = false;
      for (const auto &[key, group] : next)
        negative |= group.first < 0;
      std::erase_if(next, [](const auto &group) { return group.second.second == 0; });
      if (policy == EngineOptions::OnError::Fail && negative) {
        ++failed_ticks;
        ASSERT_TRUE(absl::IsAborted(report.status()));
        ASSERT_EQ(snapshot(state), before) << "tick " << tick;
        continue;
      }
      ASSERT_TRUE(report.ok()) << report.status() << " tick " << tick;
      left_out += static_cast<int>(report->left_out.size());
      // The model without the changes left out.
      next = model;
      for (const Applied &change : applied) {
        if (std::any_of(report->left_out.begin(), report->left_out.end(),
                        [&](const CommitReport::LeftOut &left) { return left.tag == change.tag; }))
          continue;
        auto &[total, count] = next[change.key];
        total += change.amount;
        count += change.count;
      }
      std::erase_if(next, [](const auto &group) { return group.second.second == 0; });
      Snapshot after = snapshot(state);
      ASSERT_EQ(after.groups, next) << "tick " << tick;
      model = next;
      std::set<int64_t> keys;
      for (const auto &[key, group] : after.groups)
        keys.insert(key);
      ASSERT_EQ(after.linked_totals, keys);
      ASSERT_EQ(after.size, static_cast<int64_t>(keys.size()));
      ASSERT_EQ(after.listed, 0);
    }
    if (policy == EngineOptions::OnError::Fail)
      EXPECT_GT(failed_ticks, 20);
    else
      EXPECT_GT(left_out, 10); // at commit
  }
}

} // namespace
} // namespace kiln::runtime
