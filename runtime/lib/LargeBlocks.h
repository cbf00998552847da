// Memory for the runtime's large containers (hash table slabs and directories): blocks of 2 MiB
// and more are 2 MiB-aligned and advised to use transparent huge pages (madvise). A state of
// hundreds of megabytes probed at random costs a TLB miss per probe with 4 KiB pages, and a page
// fault per 4 KiB as it grows; with huge pages, one per 2 MiB. Smaller blocks come from the
// ordinary allocator. Where huge pages are off (transparent_hugepage=never), the advice is
// ignored and only the alignment remains.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#include <sys/mman.h>

namespace kiln::runtime::detail {

inline constexpr size_t kHugePage = size_t{2} << 20;

inline void *allocateLarge(size_t bytes) {
  if (bytes < kHugePage)
    return ::operator new(bytes);
  size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  void *block = std::aligned_alloc(kHugePage, rounded);
  if (block == nullptr)
    throw std::bad_alloc();
  madvise(block, rounded, MADV_HUGEPAGE);
  return block;
}

inline void freeLarge(void *block, size_t bytes) {
  if (bytes < kHugePage)
    ::operator delete(block);
  else
    std::free(block);
}

// The bytes allocateLarge(bytes) holds.
inline size_t largeBlockBytes(size_t bytes) {
  return bytes < kHugePage ? bytes : (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

// A std::allocator whose large arrays come from allocateLarge (directories).
template <typename T> struct LargeBlockAllocator {
  using value_type = T;
  LargeBlockAllocator() = default;
  template <typename U> LargeBlockAllocator(const LargeBlockAllocator<U> &) {}
  T *allocate(size_t n) { return static_cast<T *>(allocateLarge(n * sizeof(T))); }
  void deallocate(T *p, size_t n) { freeLarge(p, n * sizeof(T)); }
  bool operator==(const LargeBlockAllocator &) const { return true; }
};

} // namespace kiln::runtime::detail
