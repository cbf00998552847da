#include "kiln/runtime/Arena.h"

#include <algorithm>

namespace kiln::runtime {

namespace {
// Blocks start small (most runtimes intern little) and double up to a size where the per-block
// overhead no longer matters.
constexpr size_t kFirstBlockSize = 16 * 1024;
constexpr size_t kMaxBlockSize = 1024 * 1024;
} // namespace

void *Arena::allocateSlow(size_t size, size_t align) {
  size_t grown =
      blocks_.empty() ? kFirstBlockSize : std::min(blocks_.back().size * 2, kMaxBlockSize);
  size_t block_size = std::max(grown, size + align);
  blocks_.push_back({std::make_unique_for_overwrite<std::byte[]>(block_size), block_size});
  reserved_ += block_size;
  cur_ = blocks_.back().data.get();
  end_ = cur_ + block_size;
  return allocate(size, align);
}

void Arena::reset() {
  if (blocks_.empty())
    return;
  auto largest = std::max_element(blocks_.begin(), blocks_.end(),
                                  [](const Block &a, const Block &b) { return a.size < b.size; });
  Block kept = std::move(*largest);
  blocks_.clear();
  blocks_.push_back(std::move(kept));
  reserved_ = blocks_.back().size;
  cur_ = blocks_.back().data.get();
  end_ = cur_ + blocks_.back().size;
}

} // namespace kiln::runtime
