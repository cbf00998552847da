// kiln_ptrvec: a growable array of pointers (per-tick lists of changed groups).
#include <vector>

#include "kiln/runtime/abi.h"

struct kiln_ptrvec {
  std::vector<void *> items;
};

extern "C" {

kiln_ptrvec *kiln_vec_create(void) { return new kiln_ptrvec; }
void kiln_vec_destroy(kiln_ptrvec *vec) { delete vec; }
void kiln_vec_push(kiln_ptrvec *vec, void *item) { vec->items.push_back(item); }
int64_t kiln_vec_size(const kiln_ptrvec *vec) { return static_cast<int64_t>(vec->items.size()); }
void *kiln_vec_get(const kiln_ptrvec *vec, int64_t index) { return vec->items[index]; }
// Keeps the capacity: the same vector is refilled every tick.
void kiln_vec_clear(kiln_ptrvec *vec) { vec->items.clear(); }
int64_t kiln_vec_bytes(const kiln_ptrvec *vec) {
  return static_cast<int64_t>(sizeof *vec + vec->items.capacity() * sizeof(void *));
}

} // extern "C"
