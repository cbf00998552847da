// kiln_ptrvec: a growable array of pointers (per-tick lists of changed groups).
#include <cstring>
#include <vector>

#include "Containers.h"
#include "Journal.h"
#include "kiln/runtime/abi.h"

using kiln::runtime::detail::Journal;

struct kiln_ptrvec {
  explicit kiln_ptrvec(Journal *journal) : journal(journal) {}
  Journal *recording() const {
    return journal != nullptr && journal->recording() ? journal : nullptr;
  }
  Journal *const journal;
  std::vector<void *> items;
};

extern "C" {

kiln_ptrvec *kiln_vec_create(kiln_runtime *rt) {
  return new kiln_ptrvec(kiln::runtime::detail::journalOf(rt));
}
void kiln_vec_destroy(kiln_ptrvec *vec) { delete vec; }
void kiln_vec_push(kiln_ptrvec *vec, void *item) {
  if (Journal *journal = vec->recording())
    journal->listPushed(vec);
  vec->items.push_back(item);
}
int64_t kiln_vec_size(const kiln_ptrvec *vec) { return static_cast<int64_t>(vec->items.size()); }
void *kiln_vec_get(const kiln_ptrvec *vec, int64_t index) { return vec->items[index]; }
// Keeps the capacity: the same vector is refilled every tick.
void kiln_vec_clear(kiln_ptrvec *vec) {
  if (Journal *journal = vec->recording(); journal != nullptr && !vec->items.empty())
    journal->listCleared(vec, vec->items);
  vec->items.clear();
}
int64_t kiln_vec_bytes(const kiln_ptrvec *vec) {
  return static_cast<int64_t>(sizeof *vec + vec->items.capacity() * sizeof(void *));
}

} // extern "C"

namespace kiln::runtime::detail {

void popItem(kiln_ptrvec *vec) { vec->items.pop_back(); }

void restoreItems(kiln_ptrvec *vec, const void *const *items, size_t n) {
  vec->items.resize(n);
  std::memcpy(vec->items.data(), items, n * sizeof(void *));
}

} // namespace kiln::runtime::detail
