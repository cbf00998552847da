// A bump allocator: many small allocations, freed all at once.
//
// The runtime uses one for interned strings (freed with the runtime) and one for a tick's scratch
// memory (decoded input rows, strings computed by expressions), which is reset after each commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace kiln::runtime {

class Arena {
public:
  Arena() = default;
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;

  // `size` bytes aligned to `align` (a power of two), uninitialised.
  void *allocate(size_t size, size_t align = 16) {
    auto cur = reinterpret_cast<uintptr_t>(cur_);
    uintptr_t aligned = (cur + align - 1) & ~(uintptr_t(align) - 1);
    if (cur_ != nullptr && aligned + size <= reinterpret_cast<uintptr_t>(end_)) {
      cur_ = reinterpret_cast<std::byte *>(aligned + size);
      return reinterpret_cast<void *>(aligned);
    }
    return allocateSlow(size, align);
  }

  void *allocateZeroed(size_t size, size_t align = 16) {
    return std::memset(allocate(size, align), 0, size);
  }

  std::string_view copy(std::string_view bytes) {
    if (bytes.empty())
      return {};
    auto *dst = static_cast<char *>(allocate(bytes.size(), 1));
    std::memcpy(dst, bytes.data(), bytes.size());
    return {dst, bytes.size()};
  }

  // Frees every allocation. The largest block is kept so that a steady stream of similar ticks
  // does not go back to the system allocator each time.
  void reset();

  // Bytes obtained from the system allocator and not yet released.
  size_t reservedBytes() const { return reserved_; }

private:
  struct Block {
    std::unique_ptr<std::byte[]> data;
    size_t size;
  };

  void *allocateSlow(size_t size, size_t align);

  std::vector<Block> blocks_; // the current block is the last one
  std::byte *cur_ = nullptr;
  std::byte *end_ = nullptr;
  size_t reserved_ = 0;
};

} // namespace kiln::runtime
