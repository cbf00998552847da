// Window functions over one partition's rows, as a window operator's state holds them (a top-k's
// ordered TEXT multiset, OrderedRows.h): each row becomes an output row with one column per call,
// and a partition that changed in a tick emits the difference between its output rows before and
// after. Ranks and navigation read the order; first/last/nth_value and the aggregates read each
// row's frame: ROWS, GROUPS of peers, or RANGE (offsets measured from the ORDER BY value as
// PostgreSQL's in_range functions measure them, found by binary search), less the rows EXCLUDE
// takes out. Sums of exact types use prefix sums (a frame's sum is a difference of two), floats
// and extremes add up the frame in order, as PostgreSQL does when it cannot undo an addition.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "OrderKeys.h"
#include "OrderedRows.h"
#include "Runtime.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/abi.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"
#include "kiln/runtime/zone.h"

namespace {

using kiln::runtime::isNull;
using kiln::runtime::setNull;
using kiln::runtime::storageSize;
using kiln::runtime::detail::compareValues;
using kiln::runtime::detail::decodeRow;
using kiln::runtime::detail::orderKeyLength;

const char *valueAt(const kiln_relation_desc &layout, const void *row, int64_t column) {
  return static_cast<const char *>(row) + layout.cols[column].offset;
}

// The ORDER BY column a RANGE frame's offsets measure from, and its non-NULL rows [first, end).
struct RangeColumn {
  int32_t column = -1;
  int32_t type = KILN_T_INT64;
  int64_t first = 0, end = 0;
};

// PostgreSQL's in_range support functions: whether `value` <= base -/+ offset (`less`) or
// >= it, `sub` choosing the sign. A bound past the type's range is past every value.
bool inRange(int32_t type, const char *value, const char *base, __int128 offset, bool sub,
             bool less) {
  auto compare = [&](auto x, auto bound) { return less ? x <= bound : x >= bound; };
  // Past the range in the direction of the offset: every value is <= (or none is >=) it.
  bool beyond = less != sub;
  switch (type) {
  case KILN_T_INT32:
  case KILN_T_INT64:
  case KILN_T_NUMERIC: {
    __int128 x, b;
    if (type == KILN_T_INT32) {
      int32_t v, w;
      std::memcpy(&v, value, sizeof v);
      std::memcpy(&w, base, sizeof w);
      x = v, b = w;
    } else if (type == KILN_T_INT64) {
      int64_t v, w;
      std::memcpy(&v, value, sizeof v);
      std::memcpy(&w, base, sizeof w);
      x = v, b = w;
    } else {
      std::memcpy(&x, value, sizeof x);
      std::memcpy(&b, base, sizeof b);
    }
    __int128 bound;
    if (sub ? __builtin_sub_overflow(b, offset, &bound) : __builtin_add_overflow(b, offset, &bound))
      return beyond;
    return compare(x, bound);
  }
  case KILN_T_FLOAT64: { // in_range_float8_float8, NaN sorting after every number
    double x, b, d;
    std::memcpy(&x, value, sizeof x);
    std::memcpy(&b, base, sizeof b);
    auto bits = static_cast<int64_t>(offset);
    std::memcpy(&d, &bits, sizeof d);
    if (std::isnan(x))
      return std::isnan(b) || !less;
    if (std::isnan(b))
      return less;
    if (std::isinf(d) && std::isinf(b) && (sub ? b > 0 : b < 0))
      return true;
    return compare(x, sub ? b - d : b + d);
  }
  case KILN_T_DATE:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ: { // dates read as midnight timestamps, as in_range_date_interval
    int64_t x, b;
    if (type == KILN_T_DATE) {
      int32_t v, w;
      std::memcpy(&v, value, sizeof v);
      std::memcpy(&w, base, sizeof w);
      x = v * KILN_MICROS_PER_DAY, b = w * KILN_MICROS_PER_DAY;
    } else {
      std::memcpy(&x, value, sizeof x);
      std::memcpy(&b, base, sizeof b);
    }
    kiln_interval span = kiln_interval_unpack(offset);
    if (sub)
      span = {-span.months, -span.days, -span.micros};
    int64_t bound;
    bool fits = type == KILN_T_TIMESTAMPTZ
                    ? kiln_zone_add_interval(kiln::runtime::sessionZone(), b, span, &bound)
                    : kiln_timestamp_add_interval(b, span.months, span.days, span.micros, &bound);
    if (!fits)
      return beyond;
    return compare(x, bound);
  }
  case KILN_T_INTERVAL: {
    __int128 x, b;
    std::memcpy(&x, value, sizeof x);
    std::memcpy(&b, base, sizeof b);
    kiln_interval bound;
    if (!kiln_interval_add_checked(kiln_interval_unpack(b), kiln_interval_unpack(offset),
                                   sub ? -1 : 1, &bound))
      return beyond;
    int32_t order = kiln_interval_compare(x, kiln_interval_pack(bound));
    return less ? order <= 0 : order >= 0;
  }
  default: // no other type has offsets (ir::rangeOffsetType)
    return false;
  }
}

// The output rows of one partition.
class PartitionOutput {
public:
  PartitionOutput(kiln_runtime *rt, const kiln_relation_desc &in, const kiln_relation_desc &out,
                  const kiln_str *values, int64_t count)
      : rt_(rt), in_(in), out_(out), values_(values), n_(count) {
    rows_.resize(static_cast<size_t>(n_));
    outputs_.resize(static_cast<size_t>(n_));
    for (int64_t i = 0; i < n_; ++i) {
      rows_[i] = decodeRow(rt_, in_, values_[i]);
      auto *row = static_cast<char *>(kiln_scratch(rt_, out_.row_size));
      std::memset(row, 0, static_cast<size_t>(out_.row_size));
      for (int32_t c = 0; c < in_.ncols; ++c) {
        if (isNull(rows_[i], c))
          setNull(row, c);
        else
          std::memcpy(row + out_.cols[c].offset, valueAt(in_, rows_[i], c),
                      storageSize(in_.cols[c].type));
      }
      outputs_[i] = row;
    }
    // Peers: rows whose order keys are equal bytes, adjacent in the set's order.
    peer_start_.resize(static_cast<size_t>(n_));
    peer_end_.resize(static_cast<size_t>(n_));
    group_.resize(static_cast<size_t>(n_));
    for (int64_t i = 0; i < n_;) {
      int64_t j = i + 1;
      while (j < n_ && orderKey(j) == orderKey(i))
        ++j;
      for (int64_t k = i; k < j; ++k) {
        peer_start_[k] = i;
        peer_end_[k] = j;
        group_[k] = static_cast<int64_t>(group_start_.size());
      }
      group_start_.push_back(i);
      i = j;
    }
    group_start_.push_back(n_);
  }

  void compute(const kiln_window_call &call, int32_t column) {
    switch (call.fn) {
    case KILN_WF_ROW_NUMBER:
      for (int64_t i = 0; i < n_; ++i)
        putInt64(i, column, i + 1);
      return;
    case KILN_WF_RANK:
      for (int64_t i = 0; i < n_; ++i)
        putInt64(i, column, peer_start_[i] + 1);
      return;
    case KILN_WF_DENSE_RANK: {
      int64_t rank = 0;
      for (int64_t i = 0; i < n_; ++i) {
        rank += peer_start_[i] == i;
        putInt64(i, column, rank);
      }
      return;
    }
    case KILN_WF_PERCENT_RANK:
      for (int64_t i = 0; i < n_; ++i)
        putFloat64(i, column,
                   n_ > 1 ? static_cast<double>(peer_start_[i]) / static_cast<double>(n_ - 1) : 0);
      return;
    case KILN_WF_CUME_DIST:
      for (int64_t i = 0; i < n_; ++i)
        putFloat64(i, column, static_cast<double>(peer_end_[i]) / static_cast<double>(n_));
      return;
    case KILN_WF_NTILE: {
      // PostgreSQL's buckets: n / b rows each, the first n % b buckets one more.
      int64_t per = n_ / call.n, extra = n_ % call.n;
      for (int64_t i = 0; i < n_; ++i) {
        int64_t big = extra * (per + 1);
        putInt64(i, column, i < big ? i / (per + 1) + 1 : extra + (i - big) / per + 1);
      }
      return;
    }
    case KILN_WF_LAG:
    case KILN_WF_LEAD:
      for (int64_t i = 0; i < n_; ++i) {
        int64_t j = call.fn == KILN_WF_LAG ? i - call.n : i + call.n;
        if (j >= 0 && j < n_)
          copyValue(i, column, j, call.arg);
        else if (call.default_arg >= 0)
          copyValue(i, column, i, call.default_arg);
        else
          setNull(outputs_[i], column);
      }
      return;
    default:
      computeOverFrames(call, column);
      return;
    }
  }

  int64_t size() const { return n_; }
  const void *output(int64_t i) const { return outputs_[i]; }

  // The columns after the input's, as bytes that are equal when the values are.
  std::string results(int64_t i) const {
    std::string bytes;
    const char *row = static_cast<const char *>(outputs_[i]);
    for (int32_t c = in_.ncols; c < out_.ncols; ++c) {
      if (isNull(row, c)) {
        bytes += '\0';
        continue;
      }
      bytes += '\1';
      const kiln_column_desc &col = out_.cols[c];
      if (kiln_type_is_string(col.type)) {
        kiln_str text;
        std::memcpy(&text, row + col.offset, sizeof text);
        bytes.append(reinterpret_cast<const char *>(&text.len), sizeof text.len);
        bytes.append(text.ptr, static_cast<size_t>(text.len));
      } else {
        bytes.append(row + col.offset, storageSize(col.type));
      }
    }
    return bytes;
  }

private:
  std::string_view orderKey(int64_t i) const {
    return {values_[i].ptr, orderKeyLength(values_[i])};
  }

  void putInt64(int64_t i, int32_t column, int64_t value) {
    std::memcpy(static_cast<char *>(outputs_[i]) + out_.cols[column].offset, &value, sizeof value);
  }
  void putFloat64(int64_t i, int32_t column, double value) {
    std::memcpy(static_cast<char *>(outputs_[i]) + out_.cols[column].offset, &value, sizeof value);
  }
  // Output row i's `column` := input row j's column `from` (of the same type).
  void copyValue(int64_t i, int32_t column, int64_t j, int64_t from) {
    if (isNull(rows_[j], static_cast<int32_t>(from))) {
      setNull(outputs_[i], column);
      return;
    }
    std::memcpy(static_cast<char *>(outputs_[i]) + out_.cols[column].offset,
                valueAt(in_, rows_[j], from), storageSize(out_.cols[column].type));
  }

  // A frame: up to three runs of rows [first, last] (a run with first > last is empty), in
  // order. The bounds make one run; EXCLUDE cuts the current row or its peers out of it.
  struct Frame {
    std::pair<int64_t, int64_t> runs[3];
    int count = 0;
  };

  Frame frame(const kiln_window_call &call, int64_t i, const RangeColumn &range) const {
    int64_t first = std::max<int64_t>(bound(call, i, true, range), 0);
    int64_t last = std::min<int64_t>(bound(call, i, false, range), n_ - 1);
    Frame f;
    auto keep = [&](int64_t from, int64_t to) {
      f.runs[f.count++] = {std::max(first, from), std::min(last, to)};
    };
    switch (call.exclude) {
    case KILN_EXCLUDE_CURRENT_ROW:
      keep(first, i - 1);
      keep(i + 1, last);
      break;
    case KILN_EXCLUDE_GROUP:
      keep(first, peer_start_[i] - 1);
      keep(peer_end_[i], last);
      break;
    case KILN_EXCLUDE_TIES:
      keep(first, peer_start_[i] - 1);
      keep(i, i);
      keep(peer_end_[i], last);
      break;
    default:
      keep(first, last);
      break;
    }
    return f;
  }

  // Where row i's frame starts (`start`) or ends, before clamping to the partition.
  int64_t bound(const kiln_window_call &call, int64_t i, bool start,
                const RangeColumn &range) const {
    int64_t kind = start ? call.start : call.end;
    int64_t offset = start ? call.start_offset : call.end_offset;
    switch (kind) {
    case KILN_FRAME_UNBOUNDED_PRECEDING:
      return 0;
    case KILN_FRAME_UNBOUNDED_FOLLOWING:
      return n_ - 1;
    case KILN_FRAME_CURRENT_ROW:
      return call.units == KILN_FRAME_ROWS ? i : start ? peer_start_[i] : peer_end_[i] - 1;
    default:
      break;
    }
    bool preceding = kind == KILN_FRAME_PRECEDING;
    switch (call.units) {
    case KILN_FRAME_ROWS:
      return preceding ? i - std::min(offset, i + 1) : i + std::min(offset, n_ - i);
    case KILN_FRAME_GROUPS: {
      // The first row of the group `offset` groups away (start), or the last.
      int64_t groups = static_cast<int64_t>(group_start_.size()) - 1;
      int64_t g = preceding ? group_[i] - std::min(offset, group_[i] + 1)
                            : group_[i] + std::min(offset, groups - group_[i]);
      if (start)
        return g < 0 ? 0 : group_start_[g];
      return g >= groups ? n_ - 1 : group_start_[g + 1] - 1;
    }
    default:
      return rangeBound(call, i, start, preceding, range);
    }
  }

  // A RANGE bound at an offset, as PostgreSQL's update_frameheadpos/update_frametailpos find
  // it: the first (start) or last row whose ORDER BY value is in_range of the current row's. A
  // NULL current row's frame is its peers (the NULLs); a non-NULL one's never reaches a NULL.
  int64_t rangeBound(const kiln_window_call &call, int64_t i, bool start, bool preceding,
                     const RangeColumn &range) const {
    if (isNull(rows_[i], range.column))
      return start ? peer_start_[i] : peer_end_[i] - 1;
    bool descending = call.order & 1;
    bool sub = preceding != descending, less = start == descending;
    auto low = static_cast<unsigned __int128>(
        static_cast<uint64_t>(start ? call.start_offset : call.end_offset));
    auto high =
        static_cast<unsigned __int128>(start ? call.start_offset_high : call.end_offset_high);
    auto offset = static_cast<__int128>(high << 64 | low);
    const char *base = valueAt(in_, rows_[i], range.column);
    auto in_range = [&](int64_t j) {
      return inRange(range.type, valueAt(in_, rows_[j], range.column), base, offset, sub, less);
    };
    // In the non-NULL rows, in_range goes false then true for a start (true then false for an
    // end): a binary search finds the change.
    int64_t lo = range.first, hi = range.end;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (in_range(mid) != start)
        lo = mid + 1;
      else
        hi = mid;
    }
    return start ? lo : lo - 1;
  }

  void computeOverFrames(const kiln_window_call &call, int32_t column) {
    const kiln_column_desc &out = out_.cols[column];
    int32_t arg = static_cast<int32_t>(call.arg);
    RangeColumn range;
    if (in_.nkeys > 0) {
      range.column = in_.key_cols[0];
      range.type = in_.cols[range.column].type;
      int64_t nulls = 0;
      for (int64_t j = 0; j < n_; ++j)
        nulls += isNull(rows_[j], range.column);
      bool nulls_first = call.order & 2;
      range.first = nulls_first ? nulls : 0;
      range.end = nulls_first ? n_ : n_ - nulls;
    }
    auto present = [&](int64_t j) { return arg < 0 || !isNull(rows_[j], arg); };
    // Exact sums and counts: prefix sums over the partition.
    std::vector<__int128> prefix;
    std::vector<int64_t> counts;
    bool exact_sum =
        call.fn == KILN_WF_SUM && (out.type == KILN_T_INT64 || out.type == KILN_T_NUMERIC);
    if (call.fn == KILN_WF_COUNT || call.fn == KILN_WF_COUNT_STAR || call.fn == KILN_WF_SUM) {
      counts.assign(static_cast<size_t>(n_ + 1), 0);
      for (int64_t j = 0; j < n_; ++j)
        counts[j + 1] = counts[j] + present(j);
    }
    if (exact_sum) {
      prefix.assign(static_cast<size_t>(n_ + 1), 0);
      int32_t type = in_.cols[arg].type;
      for (int64_t j = 0; j < n_; ++j) {
        __int128 v = 0;
        if (present(j)) {
          const char *at = valueAt(in_, rows_[j], arg);
          if (type == KILN_T_INT32) {
            int32_t x;
            std::memcpy(&x, at, sizeof x);
            v = x;
          } else if (type == KILN_T_INT64) {
            int64_t x;
            std::memcpy(&x, at, sizeof x);
            v = x;
          } else {
            std::memcpy(&v, at, sizeof v);
          }
        }
        prefix[j + 1] = prefix[j] + v;
      }
    }
    for (int64_t i = 0; i < n_; ++i) {
      Frame f = frame(call, i, range);
      auto runs = std::span(f.runs, static_cast<size_t>(f.count));
      // Each row of the frame in order, until `visit` returns false.
      auto each = [&](auto visit) {
        for (auto [first, last] : runs)
          for (int64_t j = first; j <= last; ++j)
            if (!visit(j))
              return;
      };
      auto sumOver = [&](const auto &sums) {
        std::decay_t<decltype(sums[0])> total = 0;
        for (auto [first, last] : runs)
          if (first <= last)
            total += sums[last + 1] - sums[first];
        return total;
      };
      char *row = static_cast<char *>(outputs_[i]);
      char *slot = row + out.offset;
      switch (call.fn) {
      case KILN_WF_FIRST_VALUE:
      case KILN_WF_LAST_VALUE:
      case KILN_WF_NTH_VALUE: {
        int64_t place = call.fn == KILN_WF_FIRST_VALUE  ? 1
                        : call.fn == KILN_WF_LAST_VALUE ? 0
                                                        : call.n;
        int64_t found = -1, seen = 0;
        each([&](int64_t j) {
          if (place == 0 || ++seen == place)
            found = j;
          return place == 0 || seen < place;
        });
        if (found < 0)
          setNull(row, column);
        else
          copyValue(i, column, found, arg);
        break;
      }
      case KILN_WF_COUNT_STAR:
      case KILN_WF_COUNT:
        putInt64(i, column, sumOver(counts));
        break;
      case KILN_WF_SUM: {
        if (sumOver(counts) == 0) {
          setNull(row, column);
        } else if (out.type == KILN_T_INT64) {
          auto sum = static_cast<int64_t>(sumOver(prefix));
          std::memcpy(slot, &sum, sizeof sum);
        } else if (out.type == KILN_T_NUMERIC) {
          __int128 sum = sumOver(prefix);
          std::memcpy(slot, &sum, sizeof sum);
        } else {
          double sum = 0;
          each([&](int64_t j) {
            if (present(j)) {
              double x;
              std::memcpy(&x, valueAt(in_, rows_[j], arg), sizeof x);
              sum += x;
            }
            return true;
          });
          std::memcpy(slot, &sum, sizeof sum);
        }
        break;
      }
      case KILN_WF_MIN:
      case KILN_WF_MAX: {
        const char *best = nullptr;
        each([&](int64_t j) {
          if (!present(j))
            return true;
          const char *at = valueAt(in_, rows_[j], arg);
          int compared = best ? compareValues(out, at, best) : 0;
          if (!best || (call.fn == KILN_WF_MIN ? compared < 0 : compared > 0))
            best = at;
          return true;
        });
        if (best)
          std::memcpy(slot, best, storageSize(out.type));
        else
          setNull(row, column);
        break;
      }
      }
    }
  }

  kiln_runtime *rt_;
  const kiln_relation_desc &in_, &out_;
  const kiln_str *values_;
  int64_t n_;
  std::vector<const void *> rows_;
  std::vector<void *> outputs_;
  std::vector<int64_t> peer_start_, peer_end_; // of each row's peers: [start, end)
  std::vector<int64_t> group_;                 // each row's peer group, numbered from 0 in order
  std::vector<int64_t> group_start_;           // each group's first row, then n_
};

PartitionOutput outputOf(kiln_runtime *rt, const kiln_relation_desc &in,
                         const kiln_relation_desc &out, const kiln_window_call *calls,
                         int32_t ncalls, const kiln_str *values, int64_t count) {
  PartitionOutput output(rt, in, out, values, count);
  for (int32_t k = 0; k < ncalls; ++k)
    output.compute(calls[k], in.ncols + k);
  return output;
}

} // namespace

extern "C" {

kiln_topk_change *kiln_window_changes(kiln_runtime *rt, const kiln_relation_desc *layout,
                                      const kiln_relation_desc *out, const kiln_window_call *calls,
                                      int32_t ncalls, const kiln_str *before, int64_t before_count,
                                      const kiln_str *after, int64_t after_count, int64_t *count) {
  PartitionOutput old_rows = outputOf(rt, *layout, *out, calls, ncalls, before, before_count);
  PartitionOutput new_rows = outputOf(rt, *layout, *out, calls, ncalls, after, after_count);
  auto *changes = static_cast<kiln_topk_change *>(
      kiln_scratch(rt, std::max<int64_t>(2 * (before_count + after_count), 1) *
                           static_cast<int64_t>(sizeof(kiln_topk_change))));
  auto view = [](const kiln_str &s) { return std::string_view(s.ptr, static_cast<size_t>(s.len)); };
  // Both lists are in the set's order: a merge pairs each row that stayed with itself (a row
  // there n times pairs n times), and a pair whose results differ is an update.
  int64_t i = 0, j = 0, n = 0;
  while (i < before_count || j < after_count) {
    int compared = i == before_count  ? 1
                   : j == after_count ? -1
                                      : view(before[i]).compare(view(after[j]));
    if (compared == 0) {
      if (old_rows.results(i) != new_rows.results(j)) {
        changes[n++] = {old_rows.output(i), -1};
        changes[n++] = {new_rows.output(j), 1};
      }
      ++i;
      ++j;
    } else if (compared < 0) {
      changes[n++] = {old_rows.output(i++), -1};
    } else {
      changes[n++] = {new_rows.output(j++), 1};
    }
  }
  *count = n;
  return changes;
}

} // extern "C"
