// The containers generated code calls through abi.h: hash tables, pointer vectors, multisets.
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kiln/runtime/Arena.h"
#include "kiln/runtime/abi.h"
#include "gtest/gtest.h"

namespace {

// A well-mixed hash of a key, as generated code computes (the low bits pick the bucket).
uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

struct Payload {
  int64_t key;
  int64_t value;
};

Payload *payload(kiln_entry *entry) { return reinterpret_cast<Payload *>(entry + 1); }

// Walks the chain the way generated code does: hash first, then the key.
kiln_entry *find(kiln_hashtable *ht, uint64_t hash, int64_t key) {
  for (kiln_entry *e = kiln_ht_chain(ht, hash); e != nullptr; e = e->next)
    if (e->hash == hash && payload(e)->key == key)
      return e;
  return nullptr;
}

class HashTableTest : public ::testing::Test {
protected:
  void TearDown() override { kiln_ht_destroy(ht_); }
  kiln_entry *insert(int64_t key, uint64_t hash) {
    kiln_entry *e = kiln_ht_insert(ht_, hash);
    payload(e)->key = key;
    payload(e)->value = key * 10;
    return e;
  }
  kiln_hashtable *ht_ = kiln_ht_create(nullptr, sizeof(Payload));
};

TEST_F(HashTableTest, EmptyTable) {
  EXPECT_EQ(kiln_ht_size(ht_), 0);
  EXPECT_EQ(kiln_ht_first(ht_), nullptr);
  EXPECT_EQ(kiln_ht_chain(ht_, mix(1)), nullptr);
}

TEST_F(HashTableTest, InsertFindEraseThroughGrowth) {
  constexpr int64_t kCount = 20000;
  std::vector<kiln_entry *> entries;
  for (int64_t k = 0; k < kCount; ++k)
    entries.push_back(insert(k, mix(k)));
  EXPECT_EQ(kiln_ht_size(ht_), kCount);
  for (int64_t k = 0; k < kCount; ++k) {
    kiln_entry *e = find(ht_, mix(k), k);
    // Growth re-links entries but never moves them.
    ASSERT_EQ(e, entries[k]) << k;
    EXPECT_EQ(payload(e)->value, k * 10);
  }
  EXPECT_EQ(find(ht_, mix(kCount), kCount), nullptr);

  for (int64_t k = 0; k < kCount; k += 2)
    kiln_ht_erase(ht_, find(ht_, mix(k), k));
  EXPECT_EQ(kiln_ht_size(ht_), kCount / 2);
  for (int64_t k = 0; k < kCount; ++k)
    EXPECT_EQ(find(ht_, mix(k), k) != nullptr, k % 2 == 1) << k;
}

TEST_F(HashTableTest, CollidingHashesShareAChain) {
  constexpr uint64_t kHash = 42;
  for (int64_t k = 0; k < 100; ++k)
    insert(k, kHash);
  insert(1000, kHash + 16); // another hash that may land in the same bucket
  for (int64_t k = 0; k < 100; ++k)
    ASSERT_NE(find(ht_, kHash, k), nullptr) << k;
  EXPECT_EQ(find(ht_, kHash, 1000), nullptr); // same bucket, different hash
  ASSERT_NE(find(ht_, kHash + 16, 1000), nullptr);

  // Erase from the middle, the head and the tail of the chain.
  for (int64_t k : {50, 99, 0})
    kiln_ht_erase(ht_, find(ht_, kHash, k));
  EXPECT_EQ(kiln_ht_size(ht_), 98);
  for (int64_t k = 0; k < 100; ++k)
    EXPECT_EQ(find(ht_, kHash, k) != nullptr, k != 50 && k != 99 && k != 0) << k;
}

// A directory slot's tag (the top bits of its pointer) filters lookups: a hash whose tag bit no
// entry of the bucket set finds no chain without reading an entry, one that shares it finds the
// chain (and compares hashes there). An emptied bucket keeps its stale tag and finds nothing.
TEST_F(HashTableTest, TagsFilterLookupsOfAbsentHashes) {
  constexpr uint64_t kTop = uint64_t{1} << 60; // the top four bits choose the tag bit
  const uint64_t hash = 5;                     // tag bit 0
  kiln_entry *entry = insert(1, hash);
  EXPECT_EQ(kiln_ht_chain(ht_, hash), entry);
  EXPECT_EQ(kiln_ht_chain(ht_, hash + 3 * kTop), nullptr); // same bucket, another tag bit
  EXPECT_EQ(kiln_ht_chain(ht_, hash + 16), entry);         // same bucket and tag bit
  kiln_entry *other = insert(2, hash + 3 * kTop);
  EXPECT_EQ(kiln_ht_chain(ht_, hash + 3 * kTop), other);
  EXPECT_EQ(find(ht_, hash, 1), entry);
  kiln_ht_erase(ht_, other);
  kiln_ht_erase(ht_, entry);
  EXPECT_EQ(kiln_ht_chain(ht_, hash), nullptr);
  EXPECT_EQ(kiln_ht_first(ht_), nullptr);
}

TEST_F(HashTableTest, RandomInsertsAndErasesAgreeWithAModel) {
  // Few distinct hashes, so chains are long and erases hit heads, middles and tails, interleaved
  // with growth, which re-links every chain and must keep the erase back links right.
  std::mt19937_64 random(7);
  std::map<int64_t, kiln_entry *> live;
  auto hashOf = [](int64_t key) { return mix(static_cast<uint64_t>(key % 37)); };
  for (int step = 0; step < 50000; ++step) {
    int64_t key = static_cast<int64_t>(random() % 4000);
    auto it = live.find(key);
    if (it == live.end()) {
      live.emplace(key, insert(key, hashOf(key)));
    } else {
      ASSERT_EQ(find(ht_, hashOf(key), key), it->second) << step;
      kiln_ht_erase(ht_, it->second);
      live.erase(it);
      ASSERT_EQ(find(ht_, hashOf(key), key), nullptr) << step;
    }
  }
  EXPECT_EQ(kiln_ht_size(ht_), static_cast<int64_t>(live.size()));
  std::set<int64_t> seen;
  for (kiln_entry *e = kiln_ht_first(ht_); e != nullptr; e = kiln_ht_next(ht_, e))
    EXPECT_TRUE(seen.insert(payload(e)->key).second);
  EXPECT_EQ(seen.size(), live.size());
  for (auto &[key, entry] : live)
    EXPECT_EQ(find(ht_, hashOf(key), key), entry);
}

TEST_F(HashTableTest, IterationVisitsEveryEntryOnce) {
  std::set<int64_t> expected;
  for (int64_t k = 0; k < 1000; ++k) {
    insert(k, k % 7 == 0 ? 7 : mix(k)); // some collisions too
    expected.insert(k);
  }
  for (int64_t k = 0; k < 1000; k += 3) {
    kiln_ht_erase(ht_, find(ht_, k % 7 == 0 ? 7 : mix(k), k));
    expected.erase(k);
  }
  std::multiset<int64_t> seen;
  for (kiln_entry *e = kiln_ht_first(ht_); e != nullptr; e = kiln_ht_next(ht_, e))
    seen.insert(payload(e)->key);
  EXPECT_EQ(seen, std::multiset<int64_t>(expected.begin(), expected.end()));
}

TEST_F(HashTableTest, PayloadIsAlignedAndZeroedOnInsert) {
  kiln_entry *e = insert(1, mix(1));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(e) % 16, 0u);
  std::memset(payload(e), 0xAB, sizeof(Payload));
  kiln_ht_erase(ht_, e);
  // The erased entry is recycled: it must come back zeroed.
  kiln_entry *again = kiln_ht_insert(ht_, mix(2));
  EXPECT_EQ(again, e);
  EXPECT_EQ(payload(again)->key, 0);
  EXPECT_EQ(payload(again)->value, 0);
  EXPECT_EQ(again->hash, mix(2));
}

TEST(HashTableOddPayload, EntriesStay16ByteAligned) {
  kiln_hashtable *ht = kiln_ht_create(nullptr, 20);
  for (int i = 0; i < 200; ++i) {
    kiln_entry *e = kiln_ht_insert(ht, mix(i));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(e + 1) % 16, 0u);
    const char *bytes = reinterpret_cast<const char *>(e + 1);
    for (int b = 0; b < 20; ++b)
      ASSERT_EQ(bytes[b], 0);
    std::memset(e + 1, 0xFF, 20); // must not spill into the next entry or the back link
  }
  for (int i = 0; i < 200; i += 2) {
    kiln_entry *e = kiln_ht_chain(ht, mix(i));
    while (e->hash != mix(i))
      e = e->next;
    kiln_ht_erase(ht, e);
  }
  int64_t count = 0;
  for (kiln_entry *e = kiln_ht_first(ht); e != nullptr; e = kiln_ht_next(ht, e))
    ++count;
  EXPECT_EQ(count, 100);
  kiln_ht_destroy(ht);
}

// A join input's table: rows chained by their id (chain 0) and by a group (chain 1), as a delta
// join links them by every key the other inputs look them up by. Walking chain 1 follows the
// links at kiln_entry_link_offset; erasing unlinks an entry from both chains; growth re-links both.
struct GroupedRow {
  int64_t id, group;
};

std::multiset<int64_t> idsInGroup(kiln_hashtable *ht, int64_t group) {
  int64_t link = kiln_entry_link_offset(sizeof(GroupedRow), 1);
  std::multiset<int64_t> ids;
  for (kiln_entry *e = kiln_ht_chain_at(ht, 1, mix(group)); e != nullptr;) {
    const auto *at = reinterpret_cast<const kiln_entry_link *>(reinterpret_cast<char *>(e) + link);
    const auto *row = reinterpret_cast<const GroupedRow *>(e + 1);
    if (at->hash == mix(group) && row->group == group)
      ids.insert(row->id);
    e = at->next;
  }
  return ids;
}

// Once with back links on every chain, once without on the first (its key, the id, is unique).
class HashTableChains : public ::testing::TestWithParam<int32_t> {};

TEST_P(HashTableChains, EntriesAreFoundByEveryChainAndErasedFromAll) {
  kiln_hashtable *ht = kiln_ht_create_chains(nullptr, sizeof(GroupedRow), 2, GetParam());
  std::map<int64_t, std::multiset<int64_t>> expected; // group -> ids
  for (int64_t id = 0; id < 5000; ++id) {             // several growths of both directories
    kiln_entry *e = kiln_ht_insert(ht, mix(id));
    auto *row = reinterpret_cast<GroupedRow *>(e + 1);
    row->id = id;
    row->group = id % 7; // long chains: one per group
    kiln_ht_link(ht, e, 1, mix(row->group));
    expected[row->group].insert(id);
  }
  for (int64_t id = 0; id < 5000; id += 3) {
    kiln_entry *e = find(ht, mix(id), id);
    ASSERT_NE(e, nullptr);
    kiln_ht_erase(ht, e);
    expected[id % 7].erase(id);
  }
  for (int64_t group = 0; group < 7; ++group)
    EXPECT_EQ(idsInGroup(ht, group), expected[group]) << group;
  EXPECT_EQ(find(ht, mix(3), 3), nullptr);
  ASSERT_NE(find(ht, mix(4), 4), nullptr);
  // Freed entries are reused, and a reused entry is linked afresh.
  kiln_entry *e = kiln_ht_insert(ht, mix(3));
  auto *row = reinterpret_cast<GroupedRow *>(e + 1);
  *row = {3, 6};
  kiln_ht_link(ht, e, 1, mix(6));
  expected[6].insert(3);
  EXPECT_EQ(idsInGroup(ht, 6), expected[6]);
  EXPECT_EQ(idsInGroup(ht, 3), expected[3]);
  EXPECT_EQ(kiln_ht_size(ht), 5000 - 1667 + 1);
  kiln_ht_destroy(ht);
}

// A keyed source's table shared with a join: an entry is in chain 1 only while the join has
// linked it (its row passes the join input's filter). Unlinking, relinking under a new hash,
// erasing entries that are in no chain 1, and growth all keep the chain exact.
TEST_P(HashTableChains, EntriesMayBeOutOfTheOtherChains) {
  kiln_hashtable *ht = kiln_ht_create_chains(nullptr, sizeof(GroupedRow), 2, GetParam());
  std::map<int64_t, std::multiset<int64_t>> expected; // group -> linked ids
  std::map<int64_t, kiln_entry *> entries;
  for (int64_t id = 0; id < 3000; ++id) {
    kiln_entry *e = kiln_ht_insert(ht, mix(id));
    auto *row = reinterpret_cast<GroupedRow *>(e + 1);
    *row = {id, id % 5};
    entries[id] = e;
    if (id % 2 == 0) { // odd ids stay out of chain 1
      kiln_ht_link(ht, e, 1, mix(row->group));
      expected[row->group].insert(id);
    }
  }
  for (int64_t id = 0; id < 3000; id += 4) { // out of chain 1, then back under another group
    kiln_entry *e = entries[id];
    auto *row = reinterpret_cast<GroupedRow *>(e + 1);
    kiln_ht_unlink(ht, e, 1);
    kiln_ht_unlink(ht, e, 1); // unlinking what is not linked does nothing
    expected[row->group].erase(id);
    if (id % 8 == 0) {
      row->group = 4 - row->group;
      kiln_ht_link(ht, e, 1, mix(row->group));
      expected[row->group].insert(id);
    }
  }
  for (int64_t id = 1; id < 3000; id += 6) { // erase entries in no chain 1, and some in it
    kiln_ht_erase(ht, entries[id]);
    kiln_ht_erase(ht, entries[id + 1]);
    expected[reinterpret_cast<GroupedRow *>(entries[id + 1] + 1)->group].erase(id + 1);
  }
  for (int64_t group = 0; group < 5; ++group)
    EXPECT_EQ(idsInGroup(ht, group), expected[group]) << group;
  // A recycled entry starts in no chain 1.
  kiln_entry *e = kiln_ht_insert(ht, mix(1));
  *reinterpret_cast<GroupedRow *>(e + 1) = {1, 0};
  EXPECT_EQ(idsInGroup(ht, 0), expected[0]);
  kiln_ht_erase(ht, e);
  kiln_ht_destroy(ht);
}

INSTANTIATE_TEST_SUITE_P(BackLinks, HashTableChains,
                         ::testing::Values(0, KILN_HT_UNIQUE_FIRST_CHAIN));

TEST(PtrVec, PushGetClear) {
  kiln_ptrvec *vec = kiln_vec_create(nullptr);
  int items[3];
  for (int &item : items)
    kiln_vec_push(vec, &item);
  ASSERT_EQ(kiln_vec_size(vec), 3);
  EXPECT_EQ(kiln_vec_get(vec, 0), &items[0]);
  EXPECT_EQ(kiln_vec_get(vec, 2), &items[2]);
  kiln_vec_clear(vec);
  EXPECT_EQ(kiln_vec_size(vec), 0);
  kiln_vec_push(vec, &items[1]);
  EXPECT_EQ(kiln_vec_get(vec, 0), &items[1]);
  kiln_vec_destroy(vec);
}

// ---- Multisets ----

template <typename T> class Multiset {
public:
  explicit Multiset(int32_t kind) : ms_(kiln_ms_create(nullptr, kind)) {}
  ~Multiset() { kiln_ms_destroy(ms_); }
  void add(T value, int64_t weight) { kiln_ms_add(ms_, &value, weight); }
  std::optional<T> min() const {
    T out;
    return kiln_ms_min(ms_, &out) ? std::optional<T>(out) : std::nullopt;
  }
  std::optional<T> max() const {
    T out;
    return kiln_ms_max(ms_, &out) ? std::optional<T>(out) : std::nullopt;
  }
  // sum(DISTINCT): (how many distinct values, their sum) in the kernel's representation.
  template <typename Sum> std::pair<int64_t, Sum> sum(int32_t kind) const {
    Sum out{};
    int64_t n = kiln_ms_sum(nullptr, ms_, kind, &out, 0);
    return {n, out};
  }

private:
  kiln_multiset *ms_;
};

template <typename T> void expectMinMaxWithRetraction(int32_t kind, T low, T mid, T high) {
  Multiset<T> ms(kind);
  EXPECT_EQ(ms.min(), std::nullopt);
  ms.add(mid, 1);
  ms.add(high, 2);
  ms.add(low, 1);
  EXPECT_EQ(ms.min(), low);
  EXPECT_EQ(ms.max(), high);
  ms.add(low, -1);
  EXPECT_EQ(ms.min(), mid);
  ms.add(high, -1); // one copy left
  EXPECT_EQ(ms.max(), high);
  ms.add(high, -1);
  EXPECT_EQ(ms.max(), mid);
  ms.add(mid, -1);
  EXPECT_EQ(ms.min(), std::nullopt);
  EXPECT_EQ(ms.max(), std::nullopt);
}

TEST(Multiset, MinMaxWithRetractionForEachType) {
  expectMinMaxWithRetraction<uint8_t>(KILN_T_BOOL, 0, 1, 1);
  expectMinMaxWithRetraction<int32_t>(KILN_T_INT32, -5, 3, std::numeric_limits<int32_t>::max());
  expectMinMaxWithRetraction<int64_t>(KILN_T_INT64, std::numeric_limits<int64_t>::min(), 0, 7);
  expectMinMaxWithRetraction<double>(KILN_T_FLOAT64, -1.5, 0.25, 1e300);
  expectMinMaxWithRetraction<__int128>(KILN_T_NUMERIC, -(__int128(1) << 100), 1250,
                                       __int128(1) << 100);
  expectMinMaxWithRetraction<int32_t>(KILN_T_DATE, -730120, 0, 8796);
  expectMinMaxWithRetraction<int64_t>(KILN_T_TIMESTAMP, -1, 0, 759931200000000);
}

TEST(Multiset, BoolFalseBeforeTrue) {
  Multiset<uint8_t> ms(KILN_T_BOOL);
  ms.add(1, 1);
  ms.add(0, 1);
  EXPECT_EQ(ms.min(), 0);
  EXPECT_EQ(ms.max(), 1);
}

TEST(Multiset, RetractionBeforeInsertionIsNotAValue) {
  Multiset<int64_t> ms(KILN_T_INT64);
  ms.add(1, -1); // the delete of a row arrived before its insert within a tick
  ms.add(5, 1);
  EXPECT_EQ(ms.min(), 5);
  EXPECT_EQ(ms.max(), 5);
  ms.add(1, 1);
  EXPECT_EQ(ms.min(), 5);
  ms.add(1, 1);
  EXPECT_EQ(ms.min(), 1);
}

TEST(Multiset, SumOfDistinctValues) {
  Multiset<int32_t> ints(KILN_T_INT32);
  ints.add(7, 3); // three rows of 7 count once
  ints.add(-2, 1);
  ints.add(4, -1); // a retraction ahead of its insertion is not a value
  EXPECT_EQ((ints.sum<__int128>(KILN_T_INT32)), (std::pair<int64_t, __int128>{2, 5}));
  Multiset<int64_t> big(KILN_T_INT64);
  big.add(INT64_MAX, 1);
  big.add(INT64_MAX - 1, 2);
  EXPECT_EQ((big.sum<__int128>(KILN_T_INT64)).second, __int128{INT64_MAX} * 2 - 1); // beyond bigint
  Multiset<double> doubles(KILN_T_FLOAT64);
  doubles.add(0.5, 2);
  doubles.add(0.25, 1);
  EXPECT_EQ((doubles.sum<double>(KILN_T_FLOAT64)), (std::pair<int64_t, double>{2, 0.75}));
  Multiset<int64_t> none(KILN_T_INT64);
  EXPECT_EQ((none.sum<__int128>(KILN_T_INT64)).first, 0);
}

// A set remembers its extremes between changes: after any sequence of changes, asked or not in
// between, they are the smallest and largest values whose count is positive.
TEST(Multiset, RememberedExtremesFollowEveryChange) {
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    Multiset<int32_t> ms(KILN_T_DATE);
    std::map<int32_t, int64_t> counts;
    for (int step = 0; step < 200; ++step) {
      int32_t value = static_cast<int32_t>(random() % 12);
      int64_t weight = static_cast<int64_t>(random() % 5) - 2;
      ms.add(value, weight);
      counts[value] += weight;
      if (random() % 3 != 0) // sometimes several changes between two questions
        continue;
      std::optional<int32_t> least, greatest;
      for (auto [v, count] : counts) {
        if (count > 0) {
          least = least ? least : v;
          greatest = v;
        }
      }
      ASSERT_EQ(ms.min(), least) << "round " << round << " step " << step;
      ASSERT_EQ(ms.max(), greatest) << "round " << round << " step " << step;
    }
  }
}

TEST(Multiset, Float64OrdersLikePostgres) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Multiset<double> ms(KILN_T_FLOAT64);
  ms.add(nan, 1);
  ms.add(inf, 1);
  ms.add(-inf, 1);
  ms.add(nan, 1);
  EXPECT_EQ(ms.min(), -inf);
  EXPECT_TRUE(std::isnan(*ms.max())); // NaN is above Infinity
  ms.add(nan, -1);                    // NaN equals NaN: one of the two copies remains
  EXPECT_TRUE(std::isnan(*ms.max()));
  ms.add(nan, -1);
  EXPECT_EQ(ms.max(), inf);
  // -0 and 0 are one value.
  ms.add(-0.0, 1);
  ms.add(0.0, -1);
  ms.add(-inf, -1);
  EXPECT_EQ(ms.min(), inf);
}

TEST(Multiset, TextIsComparedBytewiseThenByLength) {
  kiln_multiset *ms = kiln_ms_create(nullptr, KILN_T_TEXT);
  auto add = [&](const std::string &s, int64_t weight) {
    kiln_str str{s.data(), static_cast<int64_t>(s.size())};
    kiln_ms_add(ms, &str, weight);
  };
  auto min = [&] {
    kiln_str out{};
    return kiln_ms_min(ms, &out) ? std::string(out.ptr, out.len) : std::string("<empty>");
  };
  auto max = [&] {
    kiln_str out{};
    return kiln_ms_max(ms, &out) ? std::string(out.ptr, out.len) : std::string("<empty>");
  };
  add("abc", 1);
  add("ab", 1);
  add("B", 1);
  add("\xc3\xa9t\xc3\xa9", 1); // "été": bytes above ASCII sort last
  EXPECT_EQ(min(), "B");       // 'B' (0x42) < 'a' (0x61) in the "C" collation
  EXPECT_EQ(max(), "\xc3\xa9t\xc3\xa9");
  add("B", -1);
  EXPECT_EQ(min(), "ab"); // a prefix sorts first
  add("ab", -1);
  EXPECT_EQ(min(), "abc");
  add("", 1);
  EXPECT_EQ(min(), "");

  // Values are copied: the caller's buffer may change afterwards.
  std::string temp = "zzz";
  kiln_str str{temp.data(), 3};
  kiln_ms_add(ms, &str, 1);
  temp = "aaa";
  add("\xc3\xa9t\xc3\xa9", -1);
  EXPECT_EQ(max(), "zzz");
  kiln_ms_destroy(ms);
}

// ---- Measuring (what --stats reports through the state descriptors) ----

TEST(Measuring, HashTableBytesCoverItsEntriesAndKeepFreedOnesForReuse) {
  kiln_hashtable *ht = kiln_ht_create(nullptr, sizeof(Payload));
  int64_t empty = kiln_ht_bytes(ht);
  EXPECT_GT(empty, 0);
  std::vector<kiln_entry *> entries;
  for (int64_t k = 0; k < 10000; ++k)
    entries.push_back(kiln_ht_insert(ht, mix(k)));
  int64_t full = kiln_ht_bytes(ht);
  // Each entry holds its header, its payload and the hidden back link, and the directory a
  // bucket pointer per entry.
  EXPECT_GE(full - empty,
            10000 * static_cast<int64_t>(sizeof(kiln_entry) + sizeof(Payload) + sizeof(void *)));
  EXPECT_LT(full - empty, 10000 * 128);
  for (kiln_entry *e : entries)
    kiln_ht_erase(ht, e);
  EXPECT_EQ(kiln_ht_size(ht), 0);
  EXPECT_EQ(kiln_ht_bytes(ht), full); // erased entries stay allocated for reuse
  for (int64_t k = 0; k < 10000; ++k)
    kiln_ht_insert(ht, mix(k));
  EXPECT_EQ(kiln_ht_bytes(ht), full); // and are reused
  kiln_ht_destroy(ht);
}

// A chain that only some entries are linked in (a join input's rows in its source's table) is
// measured by itself: its directory and one link per linked entry.
TEST(Measuring, AChainCountsItsDirectoryAndTheLinksOfItsEntries) {
  kiln_hashtable *ht =
      kiln_ht_create_chains(nullptr, sizeof(GroupedRow), 2, KILN_HT_UNIQUE_FIRST_CHAIN);
  int64_t empty = kiln_ht_chain_bytes(ht, 1);
  std::vector<kiln_entry *> entries;
  for (int64_t id = 0; id < 1000; ++id) {
    kiln_entry *e = kiln_ht_insert(ht, mix(id));
    *reinterpret_cast<GroupedRow *>(e + 1) = {id, id % 10};
    if (id % 4 == 0)
      kiln_ht_link(ht, e, 1, mix(id % 10));
    entries.push_back(e);
  }
  int64_t linked = 0;
  for (kiln_entry *e : entries)
    linked += kiln_ht_linked(ht, e, 1);
  EXPECT_EQ(linked, 250);
  EXPECT_EQ(kiln_ht_linked(ht, entries[1], 0), 1); // every entry is in the first chain
  int64_t directory =
      kiln_ht_chain_bytes(ht, 1) - 250 * static_cast<int64_t>(sizeof(kiln_entry_link));
  EXPECT_GE(directory, empty);
  EXPECT_LE(directory, 1000 * static_cast<int64_t>(sizeof(kiln_entry *)));
  kiln_ht_unlink(ht, entries[0], 1);
  EXPECT_EQ(kiln_ht_linked(ht, entries[0], 1), 0);
  EXPECT_EQ(kiln_ht_chain_bytes(ht, 1),
            directory + 249 * static_cast<int64_t>(sizeof(kiln_entry_link)));
  kiln_ht_destroy(ht);
}

TEST(Measuring, VectorAndMultisetBytesGrowWithTheirContents) {
  kiln_ptrvec *vec = kiln_vec_create(nullptr);
  int64_t empty = kiln_vec_bytes(vec);
  int item;
  for (int i = 0; i < 1000; ++i)
    kiln_vec_push(vec, &item);
  EXPECT_GE(kiln_vec_bytes(vec) - empty, 1000 * static_cast<int64_t>(sizeof(void *)));
  kiln_vec_destroy(vec);

  kiln_multiset *ints = kiln_ms_create(nullptr, KILN_T_INT64);
  kiln_multiset *texts = kiln_ms_create(nullptr, KILN_T_TEXT);
  int64_t ints_empty = kiln_ms_bytes(ints), texts_empty = kiln_ms_bytes(texts);
  std::string long_text(100, 'x');
  for (int64_t v = 0; v < 1000; ++v) {
    kiln_ms_add(ints, &v, 1);
    std::string text = long_text + std::to_string(v);
    kiln_str str{text.data(), static_cast<int64_t>(text.size())};
    kiln_ms_add(texts, &str, 1);
  }
  EXPECT_EQ(kiln_ms_size(ints), 1000);
  EXPECT_EQ(kiln_ms_size(texts), 1000);
  EXPECT_GE(kiln_ms_bytes(ints) - ints_empty, 1000 * 16);
  // Text multisets own a copy of every distinct value.
  EXPECT_GE(kiln_ms_bytes(texts) - texts_empty, 1000 * 100);
  kiln_ms_destroy(ints);
  kiln_ms_destroy(texts);
}

// ---- Arena ----

TEST(Arena, AllocationsAreAlignedAndDistinct) {
  kiln::runtime::Arena arena;
  std::set<void *> seen;
  for (size_t size : {1, 3, 16, 17, 100, 5000, 100000, 2}) {
    void *p = arena.allocate(size, 16);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << size;
    std::memset(p, 0x5A, size);
    EXPECT_TRUE(seen.insert(p).second);
  }
  auto *zeroed = static_cast<unsigned char *>(arena.allocateZeroed(64, 8));
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(zeroed[i], 0);
  EXPECT_EQ(arena.copy("hello"), "hello");
  EXPECT_TRUE(arena.copy("").empty());
}

TEST(Arena, ResetKeepsOneBlock) {
  kiln::runtime::Arena arena;
  for (int i = 0; i < 1000; ++i)
    arena.allocate(1000);
  size_t before = arena.reservedBytes();
  arena.reset();
  EXPECT_LT(arena.reservedBytes(), before);
  EXPECT_GT(arena.reservedBytes(), 0u);
  // The kept block serves new allocations without growing.
  size_t kept = arena.reservedBytes();
  arena.allocate(100);
  EXPECT_EQ(arena.reservedBytes(), kept);
}

} // namespace
