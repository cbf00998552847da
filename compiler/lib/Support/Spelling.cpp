#include "kiln/Support/Spelling.h"

#include <algorithm>
#include <numeric>

namespace kiln {

size_t editDistance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic programme: row[j] is the distance between a[0..i) and b[0..j).
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closestMatch(std::string_view name,
                                        const std::vector<std::string> &candidates) {
  size_t limit = std::max<size_t>(1, name.size() / 3);
  const std::string *best = nullptr;
  size_t best_distance = limit + 1;
  for (const std::string &candidate : candidates) {
    size_t distance = editDistance(name, candidate);
    if (distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  if (!best)
    return std::nullopt;
  return *best;
}

std::string quotedList(const std::vector<std::string> &items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += i + 1 == items.size() ? " and " : ", ";
    out += '"' + items[i] + '"';
  }
  return out;
}

} // namespace kiln
