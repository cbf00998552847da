// kiln_multiset: ordered multisets of values with signed counts, for MIN/MAX with retraction.
//
// Values are ordered like PostgreSQL orders them: TEXT bytewise then by length (the "C" collation),
// FLOAT64 with NaN above every number and equal to itself (and -0 equal to 0), BOOL false < true.
// Counts may go negative inside a tick (a retraction can arrive before its insertion); a value
// whose count returns to zero is removed, and min/max skip values whose count is not positive.
// Within a tick, additions, creations and destructions are recorded in the journal (Journal.h);
// a destroyed set is deleted when the tick is kept.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>

#include "Containers.h"
#include "Journal.h"
#include "absl/container/btree_map.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/abi.h"
#include "kiln/runtime/interval.h"

struct kiln_multiset {
  // The journal to record changes in, and the size of the values it records.
  kiln::runtime::detail::Journal *journal = nullptr;
  size_t value_size = 0;

  virtual ~kiln_multiset() = default;
  virtual void add(const void *value, int64_t weight) = 0;
  virtual bool min(void *out) const = 0;
  virtual bool max(void *out) const = 0;
  // How many values have a positive count (count(DISTINCT)).
  int64_t distinct() const { return positive_; }
  virtual int64_t size() const = 0;
  virtual int64_t bytes() const = 0;
  // Every value with a nonzero count (TEXT values as kiln_str), in order.
  virtual void
  forEach(const std::function<void(const void *value, int64_t count)> &visit) const = 0;
  // The same, from the smallest value on, until `visit` returns false.
  virtual void
  forEachWhile(const std::function<bool(const void *value, int64_t count)> &visit) const = 0;
  // The same from the first value not less than `from` (a value of the set's type) on.
  virtual void
  forEachFromWhile(const void *from,
                   const std::function<bool(const void *value, int64_t count)> &visit) const = 0;

protected:
  // A value's count went from `before` to `after`.
  void counted(int64_t before, int64_t after) { positive_ += (after > 0) - (before > 0); }

private:
  int64_t positive_ = 0;
};

namespace {

// absl's B-tree keeps its nodes between half and completely full: count them 3/4 full.
template <typename Map> int64_t nodeBytes(const Map &map) {
  using Slot = typename Map::value_type;
  return static_cast<int64_t>(map.size() * sizeof(Slot) * 4 / 3);
}

// PostgreSQL's float8 order: NaN is the largest value and equal to itself.
// Intervals by span: '1 day' and '24 hours' are one value (the first stored stays).
struct IntervalLess {
  bool operator()(__int128 a, __int128 b) const { return kiln_interval_compare(a, b) < 0; }
};

struct Float64Less {
  bool operator()(double a, double b) const {
    if (std::isnan(a))
      return false;
    if (std::isnan(b))
      return true;
    return a < b;
  }
};

template <typename Map, typename Write>
bool firstPositive(const Map &counts, bool largest, Write write) {
  auto find = [&](auto begin, auto end) {
    for (auto it = begin; it != end; ++it) {
      if (it->second.count > 0) {
        write(it->first);
        return true;
      }
    }
    return false;
  };
  return largest ? find(counts.rbegin(), counts.rend()) : find(counts.begin(), counts.end());
}

// Each set remembers its smallest and largest present value, so that a group's MIN or MAX at the
// end of a tick reads the set's header, not a path down the tree; a value that stops being present
// while it is one of them makes the set look it up again when asked.
template <typename T, typename Less = std::less<T>>
class ScalarMultiset final : public kiln_multiset {
public:
  void add(const void *value, int64_t weight) override {
    T key;
    std::memcpy(&key, value, sizeof(T));
    auto it = counts_.try_emplace(key).first;
    int64_t count = (it->second.count += weight);
    counted(count - weight, count);
    if (count > 0) {
      least_.arrived(it->first, [](const T &a, const T &b) { return Less()(a, b); });
      greatest_.arrived(it->first, [](const T &a, const T &b) { return Less()(b, a); });
      return;
    }
    least_.left(it->first);
    greatest_.left(it->first);
    if (count == 0)
      counts_.erase(it);
  }
  bool min(void *out) const override { return extreme(least_, out, false); }
  bool max(void *out) const override { return extreme(greatest_, out, true); }
  int64_t size() const override { return static_cast<int64_t>(counts_.size()); }
  int64_t bytes() const override { return static_cast<int64_t>(sizeof *this) + nodeBytes(counts_); }
  void forEach(const std::function<void(const void *, int64_t)> &visit) const override {
    for (const auto &[value, count] : counts_)
      visit(&value, count.count);
  }
  void forEachWhile(const std::function<bool(const void *, int64_t)> &visit) const override {
    for (const auto &[value, count] : counts_)
      if (!visit(&value, count.count))
        return;
  }
  void forEachFromWhile(const void *from,
                        const std::function<bool(const void *, int64_t)> &visit) const override {
    T key;
    std::memcpy(&key, from, sizeof(T));
    for (auto it = counts_.lower_bound(key); it != counts_.end(); ++it)
      if (!visit(&it->first, it->second.count))
        return;
  }

private:
  struct Count {
    int64_t count = 0;
  };
  // The extreme present value, when known.
  struct Extreme {
    bool known = true; // an empty set's is known: there is none
    bool present = false;
    T value{};
    template <typename Before> void arrived(const T &v, Before before) {
      if (known && (!present || before(v, value))) {
        value = v;
        present = true;
      }
    }
    void left(const T &v) {
      if (known && present && !Less()(v, value) && !Less()(value, v))
        known = false;
    }
  };
  bool extreme(Extreme &cached, void *out, bool largest) const {
    if (!cached.known) {
      cached.present = firstPositive(counts_, largest, [&](const T &v) { cached.value = v; });
      cached.known = true;
    }
    if (cached.present)
      std::memcpy(out, &cached.value, sizeof(T));
    return cached.present;
  }
  absl::btree_map<T, Count, Less> counts_;
  mutable Extreme least_, greatest_;
};

// TEXT values are copied into buffers owned by the set: a btree moves its keys around, so the key
// is a view of a heap buffer that stays put. The kiln_str written by min/max stays valid until that
// value's count drops to zero.
class TextMultiset final : public kiln_multiset {
public:
  void add(const void *value, int64_t weight) override {
    kiln_str str;
    std::memcpy(&str, value, sizeof str);
    std::string_view key(str.ptr, static_cast<size_t>(str.len));
    auto it = counts_.find(key);
    if (it == counts_.end()) {
      auto bytes = std::make_unique_for_overwrite<char[]>(key.size());
      std::memcpy(bytes.get(), key.data(), key.size());
      std::string_view owned(bytes.get(), key.size());
      it = counts_.try_emplace(owned, Count{0, std::move(bytes)}).first;
    }
    counted(it->second.count, it->second.count + weight);
    if ((it->second.count += weight) == 0)
      counts_.erase(it);
  }
  bool min(void *out) const override { return extreme(out, false); }
  bool max(void *out) const override { return extreme(out, true); }
  void forEach(const std::function<void(const void *, int64_t)> &visit) const override {
    for (const auto &[key, count] : counts_) {
      kiln_str str{key.data(), static_cast<int64_t>(key.size())};
      visit(&str, count.count);
    }
  }
  void forEachWhile(const std::function<bool(const void *, int64_t)> &visit) const override {
    for (const auto &[key, count] : counts_) {
      kiln_str str{key.data(), static_cast<int64_t>(key.size())};
      if (!visit(&str, count.count))
        return;
    }
  }
  void forEachFromWhile(const void *from,
                        const std::function<bool(const void *, int64_t)> &visit) const override {
    kiln_str start;
    std::memcpy(&start, from, sizeof start);
    for (auto it = counts_.lower_bound(std::string_view(start.ptr, static_cast<size_t>(start.len)));
         it != counts_.end(); ++it) {
      kiln_str str{it->first.data(), static_cast<int64_t>(it->first.size())};
      if (!visit(&str, it->second.count))
        return;
    }
  }
  int64_t size() const override { return static_cast<int64_t>(counts_.size()); }
  int64_t bytes() const override {
    int64_t text = 0;
    for (const auto &[key, count] : counts_)
      text += static_cast<int64_t>(key.size());
    return static_cast<int64_t>(sizeof *this) + nodeBytes(counts_) + text;
  }

private:
  struct Count {
    int64_t count;
    std::unique_ptr<char[]> bytes;
  };
  bool extreme(void *out, bool largest) const {
    return firstPositive(counts_, largest, [&](std::string_view v) {
      kiln_str str{v.data(), static_cast<int64_t>(v.size())};
      std::memcpy(out, &str, sizeof str);
    });
  }
  // std::string_view compares like memcmp, then by length: PostgreSQL's "C" collation.
  absl::btree_map<std::string_view, Count> counts_;
};

} // namespace

extern "C" {

static kiln_multiset *newMultiset(int32_t type_kind) {
  switch (type_kind) {
  case KILN_T_BOOL:
    return new ScalarMultiset<uint8_t>;
  case KILN_T_INT32:
  case KILN_T_DATE:
    return new ScalarMultiset<int32_t>;
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ:
    return new ScalarMultiset<int64_t>;
  case KILN_T_FLOAT64:
    return new ScalarMultiset<double, Float64Less>;
  case KILN_T_INTERVAL:
    return new ScalarMultiset<__int128, IntervalLess>;
  case KILN_T_NUMERIC:
    return new ScalarMultiset<__int128>;
  case KILN_T_TEXT:
  case KILN_T_JSONB:
  case KILN_T_ARRAY:
    return new TextMultiset;
  }
  std::fprintf(stderr, "kiln runtime: kiln_ms_create: unknown type kind %d\n", type_kind);
  std::abort();
}

static kiln::runtime::detail::Journal *recording(const kiln_multiset *ms) {
  return ms->journal != nullptr && ms->journal->recording() ? ms->journal : nullptr;
}

kiln_multiset *kiln_ms_create(kiln_runtime *rt, int32_t type_kind) {
  kiln_multiset *ms = newMultiset(type_kind);
  ms->journal = kiln::runtime::detail::journalOf(rt);
  ms->value_size = kiln::runtime::storageSize(type_kind);
  if (auto *journal = recording(ms))
    journal->multisetCreated(ms);
  return ms;
}

void kiln_ms_destroy(kiln_multiset *ms) {
  // While a tick runs the set stays as it is, for a rollback to find it.
  if (auto *journal = recording(ms))
    journal->multisetDestroyed(ms);
  else
    delete ms;
}

void kiln_ms_add(kiln_multiset *ms, const void *value, int64_t weight) {
  if (auto *journal = recording(ms))
    journal->multisetAdded(ms, value, ms->value_size, weight);
  ms->add(value, weight);
}
int32_t kiln_ms_min(const kiln_multiset *ms, void *out) { return ms->min(out); }
int32_t kiln_ms_max(const kiln_multiset *ms, void *out) { return ms->max(out); }
int64_t kiln_ms_distinct(const kiln_multiset *ms) { return ms->distinct(); }

int64_t kiln_ms_sum(kiln_runtime *rt, const kiln_multiset *ms, int32_t type_kind, void *out,
                    int32_t loc) {
  __int128 exact = 0;
  double approximate = 0;
  bool overflow = false;
  constexpr __int128 kLimit = static_cast<__int128>(10'000'000'000'000'000'000ULL) *
                              static_cast<__int128>(10'000'000'000'000'000'000ULL);
  ms->forEach([&](const void *value, int64_t count) {
    if (count <= 0)
      return;
    switch (type_kind) {
    case KILN_T_INT32: {
      int32_t v;
      std::memcpy(&v, value, sizeof v);
      exact += v; // below 2^31 values of 2^31 each: no overflow
      return;
    }
    case KILN_T_INT64: {
      int64_t v;
      std::memcpy(&v, value, sizeof v);
      exact += v;
      return;
    }
    case KILN_T_NUMERIC: {
      __int128 v;
      std::memcpy(&v, value, sizeof v);
      overflow |= __builtin_add_overflow(exact, v, &exact) || exact >= kLimit || exact <= -kLimit;
      return;
    }
    default: {
      double v;
      std::memcpy(&v, value, sizeof v);
      approximate += v;
    }
    }
  });
  if (overflow)
    kiln_raise(rt, KILN_ERR_NUMERIC_OVERFLOW, loc);
  if (type_kind == KILN_T_FLOAT64)
    std::memcpy(out, &approximate, sizeof approximate);
  else
    std::memcpy(out, &exact, sizeof exact);
  return ms->distinct();
}

int64_t kiln_ms_size(const kiln_multiset *ms) { return ms->size(); }
int64_t kiln_ms_bytes(const kiln_multiset *ms) { return ms->bytes(); }

} // extern "C"

namespace kiln::runtime::detail {

void forEachCount(const kiln_multiset *ms,
                  const std::function<void(const void *value, int64_t count)> &visit) {
  ms->forEach(visit);
}

void forEachCountWhile(const kiln_multiset *ms,
                       const std::function<bool(const void *value, int64_t count)> &visit) {
  ms->forEachWhile(visit);
}

void forEachCountFromWhile(const kiln_multiset *ms, const void *from,
                           const std::function<bool(const void *value, int64_t count)> &visit) {
  ms->forEachFromWhile(from, visit);
}

} // namespace kiln::runtime::detail
