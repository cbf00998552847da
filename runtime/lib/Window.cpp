// Window functions over one partition's rows, as a window operator's state holds them (a top-k's
// ordered TEXT multiset, OrderedRows.h): each row becomes an output row with one column per call,
// and a partition that changed in a tick emits the difference between its output rows before and
// after. Ranks and navigation read the order; first/last/nth_value and the aggregates read each
// row's frame. Sums of exact types use prefix sums (a frame's sum is a difference of two), floats
// and extremes add up the frame in order, as PostgreSQL does when it cannot undo an addition.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "OrderedRows.h"
#include "Runtime.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/abi.h"
#include "kiln/runtime/interval.h"

namespace {

using kiln::runtime::isNull;
using kiln::runtime::setNull;
using kiln::runtime::storageSize;
using kiln::runtime::detail::decodeRow;
using kiln::runtime::detail::orderKeyLength;

const char *valueAt(const kiln_relation_desc &layout, const void *row, int64_t column) {
  return static_cast<const char *>(row) + layout.cols[column].offset;
}

// Compares two non-NULL values of one type as SQL's ORDER BY does ("C" collation; NaN last).
int compareValues(int32_t type, const char *a, const char *b) {
  auto three_way = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  switch (type) {
  case KILN_T_BOOL:
    return three_way(*a != 0, *b != 0);
  case KILN_T_INT32:
  case KILN_T_DATE: {
    int32_t x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return three_way(x, y);
  }
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ: {
    int64_t x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return three_way(x, y);
  }
  case KILN_T_INTERVAL: {
    __int128 x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return kiln_interval_compare(x, y);
  }
  case KILN_T_NUMERIC: { // one column: one scale
    __int128 x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return three_way(x, y);
  }
  case KILN_T_FLOAT64: {
    double x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    if (std::isnan(x) || std::isnan(y))
      return three_way(std::isnan(x), std::isnan(y));
    return three_way(x, y);
  }
  case KILN_T_TEXT:
  case KILN_T_JSONB:
  case KILN_T_ARRAY: {
    kiln_str x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return std::string_view(x.ptr, static_cast<size_t>(x.len))
        .compare(std::string_view(y.ptr, static_cast<size_t>(y.len)));
  }
  }
  return 0;
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
    for (int64_t i = 0; i < n_;) {
      int64_t j = i + 1;
      while (j < n_ && orderKey(j) == orderKey(i))
        ++j;
      for (int64_t k = i; k < j; ++k) {
        peer_start_[k] = i;
        peer_end_[k] = j;
      }
      i = j;
    }
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

  // Row i's frame [first, last] (empty when first > last), clamped to the partition.
  std::pair<int64_t, int64_t> frame(const kiln_window_call &call, int64_t i) const {
    auto bound = [&](int64_t kind, int64_t offset, bool end) -> int64_t {
      switch (kind) {
      case KILN_FRAME_UNBOUNDED_PRECEDING:
        return 0;
      case KILN_FRAME_PRECEDING:
        return i - std::min(offset, i + 1);
      case KILN_FRAME_CURRENT_ROW:
        return call.rows ? i : end ? peer_end_[i] - 1 : peer_start_[i];
      case KILN_FRAME_FOLLOWING:
        return i + std::min(offset, n_ - i);
      default:
        return n_ - 1;
      }
    };
    return {std::max<int64_t>(bound(call.start, call.start_offset, false), 0),
            std::min<int64_t>(bound(call.end, call.end_offset, true), n_ - 1)};
  }

  void computeOverFrames(const kiln_window_call &call, int32_t column) {
    const kiln_column_desc &out = out_.cols[column];
    int32_t arg = static_cast<int32_t>(call.arg);
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
      auto [first, last] = frame(call, i);
      char *row = static_cast<char *>(outputs_[i]);
      char *slot = row + out.offset;
      bool empty = first > last;
      switch (call.fn) {
      case KILN_WF_FIRST_VALUE:
      case KILN_WF_LAST_VALUE:
      case KILN_WF_NTH_VALUE: {
        int64_t j = call.fn == KILN_WF_FIRST_VALUE  ? first
                    : call.fn == KILN_WF_LAST_VALUE ? last
                                                    : first + call.n - 1;
        if (empty || j > last)
          setNull(row, column);
        else
          copyValue(i, column, j, arg);
        break;
      }
      case KILN_WF_COUNT_STAR:
      case KILN_WF_COUNT:
        putInt64(i, column, empty ? 0 : counts[last + 1] - counts[first]);
        break;
      case KILN_WF_SUM: {
        if (empty || counts[last + 1] == counts[first]) {
          setNull(row, column);
        } else if (out.type == KILN_T_INT64) {
          auto sum = static_cast<int64_t>(prefix[last + 1] - prefix[first]);
          std::memcpy(slot, &sum, sizeof sum);
        } else if (out.type == KILN_T_NUMERIC) {
          __int128 sum = prefix[last + 1] - prefix[first];
          std::memcpy(slot, &sum, sizeof sum);
        } else {
          double sum = 0;
          for (int64_t j = first; j <= last; ++j)
            if (present(j)) {
              double x;
              std::memcpy(&x, valueAt(in_, rows_[j], arg), sizeof x);
              sum += x;
            }
          std::memcpy(slot, &sum, sizeof sum);
        }
        break;
      }
      case KILN_WF_MIN:
      case KILN_WF_MAX: {
        const char *best = nullptr;
        for (int64_t j = first; j <= last; ++j) {
          if (!present(j))
            continue;
          const char *at = valueAt(in_, rows_[j], arg);
          int compared = best ? compareValues(out.type, at, best) : 0;
          if (!best || (call.fn == KILN_WF_MIN ? compared < 0 : compared > 0))
            best = at;
        }
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
