// Top-k state: rows kept in a TEXT multiset (kiln_multiset, ordered bytewise) as byte strings that
// sort the way ORDER BY sorts the rows, so that the first offset+limit values of the set are the
// window ORDER BY ... LIMIT ... OFFSET selects. The set brings what every container has: the
// journal for atomic ticks, checkpoints, measuring. Each value is
//
//   order key | row | u32 length of the order key
//
// The order key encodes each sort column so that bytewise order is SQL order: a NULL marker byte
// (placing NULLs first or last), then the value's key (OrderKeys.h). Rows equal in their sort
// columns fall back to the row's bytes, so ties are in a fixed but arbitrary order. The row part is
// the null bitmap and each non-NULL value (TEXT as a length and its bytes): equal rows make equal
// values.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "Containers.h"
#include "OrderKeys.h"
#include "OrderedRows.h"
#include "Runtime.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/abi.h"

namespace {

using kiln::runtime::isNull;
using kiln::runtime::setNull;
using kiln::runtime::storageSize;
using kiln::runtime::detail::appendValueKey;
using kiln::runtime::detail::encodedLength;

constexpr uint8_t kDescending = 1, kNullsFirst = 2;

void appendOrderKey(std::string &out, const kiln_column_desc &col, int32_t column, const void *row,
                    uint8_t order) {
  if (isNull(row, column)) {
    out += static_cast<char>(order & kNullsFirst ? 0x00 : 0x02);
    return;
  }
  appendValueKey(out, col, static_cast<const char *>(row) + col.offset, order & kDescending);
}

// A value of an integer-like type (integers, dates, timestamps, NUMERIC's scaled integer) as an
// __int128; nullopt for other types.
std::optional<__int128> integerValue(int32_t type, const char *at) {
  switch (type) {
  case KILN_T_INT32:
  case KILN_T_DATE: {
    int32_t v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ: {
    int64_t v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }
  case KILN_T_NUMERIC: {
    __int128 v;
    std::memcpy(&v, at, sizeof v);
    return v;
  }
  default:
    return std::nullopt;
  }
}

// The encoding of `value`, clamped to `type`'s range, as appendValueKey writes one of that type.
std::string integerKey(int32_t type, __int128 value) {
  char bytes[16];
  if (type == KILN_T_INT32 || type == KILN_T_DATE) {
    auto v = static_cast<int32_t>(std::clamp<__int128>(value, INT32_MIN, INT32_MAX));
    std::memcpy(bytes, &v, sizeof v);
  } else if (type == KILN_T_NUMERIC) {
    std::memcpy(bytes, &value, sizeof value);
  } else {
    auto v = static_cast<int64_t>(std::clamp<__int128>(value, INT64_MIN, INT64_MAX));
    std::memcpy(bytes, &v, sizeof v);
  }
  std::string out;
  kiln_column_desc desc{"", type, 0, 0, 0, 0, 0};
  appendValueKey(out, desc, bytes, false);
  return out;
}

void appendRow(std::string &out, const kiln_relation_desc &layout, const void *row) {
  size_t words = (static_cast<size_t>(layout.ncols) + 63) / 64;
  out.append(static_cast<const char *>(row), words * sizeof(uint64_t));
  for (int32_t c = 0; c < layout.ncols; ++c) {
    if (isNull(row, c))
      continue;
    const kiln_column_desc &col = layout.cols[c];
    const char *at = static_cast<const char *>(row) + col.offset;
    if (kiln_type_is_string(col.type)) {
      kiln_str text;
      std::memcpy(&text, at, sizeof text);
      auto len = static_cast<uint32_t>(text.len);
      out.append(reinterpret_cast<const char *>(&len), sizeof len);
      out.append(text.ptr, static_cast<size_t>(text.len));
    } else {
      out.append(at, storageSize(col.type));
    }
  }
}

} // namespace

namespace kiln::runtime::detail {

uint32_t orderKeyLength(kiln_str value) {
  uint32_t key_length;
  std::memcpy(&key_length, value.ptr + value.len - sizeof key_length, sizeof key_length);
  return key_length;
}

const void *decodeRow(kiln_runtime *rt, const kiln_relation_desc &layout, kiln_str value) {
  const char *at = value.ptr + orderKeyLength(value);
  auto *row = static_cast<char *>(kiln_scratch(rt, layout.row_size));
  std::memset(row, 0, static_cast<size_t>(layout.row_size));
  size_t words = (static_cast<size_t>(layout.ncols) + 63) / 64;
  std::memcpy(row, at, words * sizeof(uint64_t));
  at += words * sizeof(uint64_t);
  for (int32_t c = 0; c < layout.ncols; ++c) {
    if (isNull(row, c))
      continue;
    const kiln_column_desc &col = layout.cols[c];
    if (kiln_type_is_string(col.type)) {
      uint32_t len;
      std::memcpy(&len, at, sizeof len);
      kiln_str text{at + sizeof len, len};
      std::memcpy(row + col.offset, &text, sizeof text);
      at += sizeof len + len;
    } else {
      size_t size = storageSize(col.type);
      std::memcpy(row + col.offset, at, size);
      at += size;
    }
  }
  return row;
}

} // namespace kiln::runtime::detail

using kiln::runtime::detail::decodeRow;

extern "C" {

void kiln_topk_add(kiln_runtime *rt, kiln_multiset *ms, const kiln_relation_desc *layout,
                   const uint8_t *order, const void *row, int64_t weight) {
  std::string value;
  for (int32_t k = 0; k < layout->nkeys; ++k)
    appendOrderKey(value, layout->cols[layout->key_cols[k]], layout->key_cols[k], row, order[k]);
  auto key_length = static_cast<uint32_t>(value.size());
  appendRow(value, *layout, row);
  value.append(reinterpret_cast<const char *>(&key_length), sizeof key_length);
  // The set copies the bytes; a rollback adds the negated weight with this kiln_str, whose bytes
  // must live as long as the tick: scratch memory.
  auto *bytes = static_cast<char *>(kiln_scratch(rt, static_cast<int64_t>(value.size())));
  std::memcpy(bytes, value.data(), value.size());
  kiln_str str{bytes, static_cast<int64_t>(value.size())};
  kiln_ms_add(ms, &str, weight);
}

void kiln_agg_entry_add(kiln_runtime *rt, kiln_multiset *ms, const kiln_relation_desc *layout,
                        const uint8_t *order, int32_t value_column, const void *row,
                        int64_t weight) {
  std::string entry;
  for (int32_t k = 0; k < layout->nkeys; ++k)
    appendOrderKey(entry, layout->cols[layout->key_cols[k]], layout->key_cols[k], row, order[k]);
  kiln_str value;
  std::memcpy(&value, static_cast<const char *>(row) + layout->cols[value_column].offset,
              sizeof value);
  entry.append(value.ptr, static_cast<size_t>(value.len));
  auto value_length = static_cast<uint32_t>(value.len);
  entry.append(reinterpret_cast<const char *>(&value_length), sizeof value_length);
  // As kiln_topk_add: the set copies the bytes, a rollback needs them until the tick ends.
  auto *bytes = static_cast<char *>(kiln_scratch(rt, static_cast<int64_t>(entry.size())));
  std::memcpy(bytes, entry.data(), entry.size());
  kiln_str str{bytes, static_cast<int64_t>(entry.size())};
  kiln_ms_add(ms, &str, weight);
}

int32_t kiln_agg_entries_join(kiln_runtime *rt, const kiln_multiset *ms, int32_t shape,
                              const char *separator, int64_t separator_length, int32_t distinct,
                              int32_t loc, kiln_str *out) {
  {
    // jsonb prints an array's elements and an object's members after ", ", array_out after ",".
    bool braces = shape == KILN_AGG_JSONB_OBJECT || shape == KILN_AGG_ARRAY;
    std::string_view between =
        shape == KILN_AGG_TEXT ? std::string_view(separator, static_cast<size_t>(separator_length))
        : shape == KILN_AGG_ARRAY ? ","
                                  : ", ";
    std::string joined = shape == KILN_AGG_JSONB_ARRAY ? "[" : braces ? "{" : "";
    bool any = false;
    kiln::runtime::detail::forEachCount(ms, [&](const void *value, int64_t n) {
      kiln_str entry;
      std::memcpy(&entry, value, sizeof entry);
      uint32_t length;
      std::memcpy(&length, entry.ptr + entry.len - sizeof length, sizeof length);
      std::string_view text(entry.ptr + entry.len - sizeof length - length, length);
      for (int64_t i = 0; i < (distinct ? std::min<int64_t>(n, 1) : n); ++i) {
        if (any)
          joined += between;
        joined += text;
        any = true;
      }
    });
    if (!any) {
      *out = {nullptr, 0};
      return 0;
    }
    joined += shape == KILN_AGG_JSONB_ARRAY ? "]" : braces ? "}" : "";
    *out = kiln::runtime::scratchText(rt, joined);
  }
  // An object's members in canonical order, a duplicate key's last value kept. No C++ object is
  // alive here, as kiln_jsonb_in could raise (it does not: every member is canonical JSON).
  if (shape == KILN_AGG_JSONB_OBJECT)
    kiln_jsonb_in(rt, out->ptr, out->len, loc, out);
  return 1;
}

void kiln_range_add(kiln_runtime *rt, kiln_multiset *ms, const kiln_relation_desc *layout,
                    const void *row, int64_t weight) {
  for (int32_t k = 0; k < layout->nkeys; ++k)
    if (isNull(row, layout->key_cols[k]))
      return;
  // Ascending, every key column: what a top-k of ORDER BY those columns keeps.
  constexpr uint8_t kAscending[64] = {};
  if (layout->nkeys <= 64) {
    kiln_topk_add(rt, ms, layout, kAscending, row, weight);
    return;
  }
  std::string order(static_cast<size_t>(layout->nkeys), '\0');
  kiln_topk_add(rt, ms, layout, reinterpret_cast<const uint8_t *>(order.data()), row, weight);
}

kiln_topk_change *kiln_range_match(kiln_runtime *rt, const kiln_multiset *ms,
                                   const kiln_relation_desc *layout, int32_t nequal,
                                   const kiln_relation_desc *probe_layout, const void *probe,
                                   const int32_t *keys, const kiln_range_condition *conditions,
                                   int32_t nconditions, int64_t span, int64_t *count) {
  *count = 0;
  auto none = [&] {
    return static_cast<kiln_topk_change *>(kiln_scratch(rt, sizeof(kiln_topk_change)));
  };
  for (int32_t k = 0; k < nequal; ++k)
    if (isNull(probe, keys[k]))
      return none();
  for (int32_t c = 0; c < nconditions; ++c)
    if (isNull(probe, conditions[c].probe_col))
      return none();
  // Everything is compared in the order keys' encoding (bytes that compare as the values do;
  // the compared columns have one type on both sides), so a stored row is decoded only once it
  // matches. The key: the equal columns (the probe's prefix), the indexed column, then the other
  // compared columns of the stored side.
  std::string prefix;
  for (int32_t k = 0; k < nequal; ++k)
    appendOrderKey(prefix, probe_layout->cols[keys[k]], keys[k], probe, 0);
  const int32_t compared = layout->nkeys - nequal; // key columns after the prefix
  struct Test {
    std::string probe; // the probe's value, encoded
    int32_t slot;      // which compared key column it meets
    int32_t op;
  };
  std::vector<Test> tests;
  std::optional<std::string> low, high; // the indexed column's tightest bounds
  for (int32_t c = 0; c < nconditions; ++c) {
    const kiln_range_condition &condition = conditions[c];
    Test test{{}, -1, condition.op};
    appendOrderKey(test.probe, probe_layout->cols[condition.probe_col], condition.probe_col, probe,
                   0);
    for (int32_t k = 0; k < compared && test.slot < 0; ++k)
      if (layout->key_cols[nequal + k] == condition.stored_col)
        test.slot = k;
    if (test.slot < 0) { // generated code always lists them (RangeJoin.cpp)
      std::fprintf(stderr, "kiln_range_match: column %d is not a key column of %s\n",
                   condition.stored_col, layout->name);
      std::abort();
    }
    if (test.slot == 0) {
      // probe < stored: the stored value is above the probe's, and so on.
      bool lower = condition.op == KILN_RANGE_LT || condition.op == KILN_RANGE_LE;
      std::optional<std::string> &kept = lower ? low : high;
      if (!kept || (lower ? test.probe > *kept : test.probe < *kept))
        kept = test.probe;
    }
    tests.push_back(std::move(test));
  }
  // A band (stored a <= probe p <= stored b, a or b indexed) bounds the other end too: no stored
  // row's b - a exceeds `span`, so a >= p - span and b <= p + span.
  if (span >= 0 && low.has_value() != high.has_value()) {
    for (int32_t c = 0; c < nconditions; ++c) {
      const kiln_range_condition &on_indexed = conditions[c];
      if (tests[static_cast<size_t>(c)].slot != 0)
        continue;
      bool indexed_below = on_indexed.op == KILN_RANGE_GE || on_indexed.op == KILN_RANGE_GT;
      for (int32_t d = 0; d < nconditions; ++d) {
        const kiln_range_condition &other = conditions[d];
        bool other_above = other.op == KILN_RANGE_LE || other.op == KILN_RANGE_LT;
        if (tests[static_cast<size_t>(d)].slot == 0 || other.probe_col != on_indexed.probe_col ||
            indexed_below != other_above)
          continue;
        const kiln_column_desc &col = probe_layout->cols[other.probe_col];
        std::optional<__int128> p =
            integerValue(col.type, static_cast<const char *>(probe) + col.offset);
        if (!p)
          continue;
        std::string bound = integerKey(col.type, indexed_below ? *p - span : *p + span);
        std::optional<std::string> &missing = indexed_below ? low : high;
        if (!missing || (indexed_below ? bound > *missing : bound < *missing))
          missing = std::move(bound);
      }
    }
  }
  std::string start = prefix + low.value_or("");
  kiln_str from{start.data(), static_cast<int64_t>(start.size())};
  std::vector<std::string_view> slices(static_cast<size_t>(compared));
  std::vector<kiln_topk_change> matches;
  kiln::runtime::detail::forEachCountFromWhile(ms, &from, [&](const void *value, int64_t n) {
    kiln_str str;
    std::memcpy(&str, value, sizeof str);
    std::string_view key(str.ptr, kiln::runtime::detail::orderKeyLength(str));
    if (!key.starts_with(prefix))
      return false; // past the probe's equal keys
    size_t at = prefix.size();
    for (int32_t k = 0; k < compared; ++k) {
      size_t length = encodedLength(layout->cols[layout->key_cols[nequal + k]].type, key, at);
      slices[static_cast<size_t>(k)] = key.substr(at, length);
      at += length;
    }
    if (high && slices[0] > std::string_view(*high))
      return false; // past the upper bound
    for (const Test &test : tests) {
      std::string_view stored = slices[static_cast<size_t>(test.slot)];
      if (stored[0] != kiln::runtime::detail::kPresentMarker)
        return true; // NULL
      int order = std::string_view(test.probe).compare(stored);
      bool holds = test.op == KILN_RANGE_LT   ? order < 0
                   : test.op == KILN_RANGE_LE ? order <= 0
                   : test.op == KILN_RANGE_GT ? order > 0
                                              : order >= 0;
      if (!holds)
        return true;
    }
    // The row's strings point into its bytes, which the set frees when its count drops to zero,
    // maybe before the tick's end: the match keeps a copy, as a top-k's window does.
    auto *bytes = static_cast<char *>(kiln_scratch(rt, str.len));
    std::memcpy(bytes, str.ptr, static_cast<size_t>(str.len));
    matches.push_back({decodeRow(rt, *layout, {bytes, str.len}), n});
    return true;
  });
  auto *out = static_cast<kiln_topk_change *>(kiln_scratch(
      rt, static_cast<int64_t>(std::max<size_t>(matches.size(), 1) * sizeof(kiln_topk_change))));
  std::copy(matches.begin(), matches.end(), out);
  *count = static_cast<int64_t>(matches.size());
  return out;
}

int64_t kiln_range_span(const kiln_relation_desc *layout, const void *row, int32_t low_col,
                        int32_t high_col) {
  if (isNull(row, low_col) || isNull(row, high_col))
    return 0;
  const auto *bytes = static_cast<const char *>(row);
  std::optional<__int128> low = integerValue(layout->cols[low_col].type,
                                             bytes + layout->cols[low_col].offset),
                          high = integerValue(layout->cols[high_col].type,
                                              bytes + layout->cols[high_col].offset);
  if (!low || !high || *high <= *low)
    return 0;
  return static_cast<int64_t>(std::min<__int128>(*high - *low, INT64_MAX));
}

kiln_str *kiln_topk_window(kiln_runtime *rt, const kiln_multiset *ms, int64_t offset, int64_t limit,
                           int64_t *count) {
  std::vector<kiln_str> window;
  int64_t skipped = 0;
  kiln::runtime::detail::forEachCountWhile(ms, [&](const void *value, int64_t n) {
    for (; n > 0; --n) {
      if (skipped < offset) {
        ++skipped;
        continue;
      }
      if (limit >= 0 && static_cast<int64_t>(window.size()) >= limit)
        return false;
      kiln_str str;
      std::memcpy(&str, value, sizeof str);
      window.push_back(str);
    }
    return true;
  });
  auto *out = static_cast<kiln_str *>(kiln_scratch(
      rt, static_cast<int64_t>(std::max<size_t>(window.size(), 1) * sizeof(kiln_str))));
  for (size_t i = 0; i < window.size(); ++i) {
    // The set's bytes go when a count drops to zero: the window keeps copies.
    auto *bytes = static_cast<char *>(kiln_scratch(rt, window[i].len));
    std::memcpy(bytes, window[i].ptr, static_cast<size_t>(window[i].len));
    out[i] = {bytes, window[i].len};
  }
  *count = static_cast<int64_t>(window.size());
  return out;
}

void kiln_topk_trim(kiln_runtime *rt, kiln_multiset *ms, int64_t keep) {
  std::vector<std::pair<kiln_str, int64_t>> past; // values past `keep`, and how many of each
  int64_t seen = 0;
  kiln::runtime::detail::forEachCount(ms, [&](const void *value, int64_t n) {
    int64_t kept = std::clamp<int64_t>(keep - seen, 0, n);
    seen += n;
    if (kept == n)
      return;
    kiln_str str;
    std::memcpy(&str, value, sizeof str);
    // The set frees a value whose count drops to zero; a rollback re-adds this one: scratch.
    auto *bytes = static_cast<char *>(kiln_scratch(rt, str.len));
    std::memcpy(bytes, str.ptr, static_cast<size_t>(str.len));
    past.push_back({{bytes, str.len}, n - kept});
  });
  for (auto &[value, n] : past)
    kiln_ms_add(ms, &value, -n);
}

kiln_topk_change *kiln_topk_changes(kiln_runtime *rt, const kiln_relation_desc *layout,
                                    const kiln_str *before, int64_t before_count,
                                    const kiln_str *after, int64_t after_count, int64_t *count) {
  auto *out = static_cast<kiln_topk_change *>(
      kiln_scratch(rt, std::max<int64_t>(before_count + after_count, 1) *
                           static_cast<int64_t>(sizeof(kiln_topk_change))));
  auto view = [](const kiln_str &s) { return std::string_view(s.ptr, static_cast<size_t>(s.len)); };
  // Both windows are in the set's order: a merge finds the rows that left and the rows that came.
  int64_t i = 0, j = 0, n = 0;
  while (i < before_count || j < after_count) {
    int compared = i == before_count  ? 1
                   : j == after_count ? -1
                                      : view(before[i]).compare(view(after[j]));
    if (compared == 0) {
      ++i;
      ++j;
    } else if (compared < 0) {
      out[n++] = {decodeRow(rt, *layout, before[i++]), -1};
    } else {
      out[n++] = {decodeRow(rt, *layout, after[j++]), 1};
    }
  }
  *count = n;
  return out;
}

} // extern "C"
