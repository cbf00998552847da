#include "Journal.h"

#include <cstring>

#include "Containers.h"

namespace kiln::runtime::detail {

namespace {

// Records that keep bytes keep how many in `small`.
bool savesBytes(Journal::Kind kind) {
  switch (kind) {
  case Journal::Kind::Unlinked:
  case Journal::Kind::Touched:
  case Journal::Kind::MultisetAdded:
  case Journal::Kind::ListCleared:
    return true;
  default:
    return false;
  }
}

} // namespace

void Journal::begin() {
  records_.clear();
  bytes_.clear();
  forgetSaved();
  recording_ = true;
}

void Journal::rollback() {
  // Undoing calls the containers' own operations, which must not record themselves.
  recording_ = false;
  size_t end = bytes_.size();
  for (size_t i = records_.size(); i > 0; --i) {
    const Record &record = records_[i - 1];
    size_t size = savesBytes(record.kind) ? record.small : 0;
    end -= size;
    undo(record, bytes_.data() + end);
  }
  records_.clear();
  bytes_.clear();
  forgetSaved();
  recording_ = true;
}

void Journal::finish() {
  recording_ = false;
  for (const Record &record : records_) {
    if (record.kind == Kind::Erased)
      freeErased(static_cast<kiln_hashtable *>(record.container),
                 static_cast<kiln_entry *>(record.item));
    else if (record.kind == Kind::MultisetDestroyed)
      kiln_ms_destroy(static_cast<kiln_multiset *>(record.container));
  }
  records_.clear();
  bytes_.clear();
  forgetSaved();
}

size_t Journal::bytes() const { return records_.capacity() * sizeof(Record) + bytes_.capacity(); }

void Journal::add(Kind kind, void *container, void *item, uint32_t small) {
  Record record{kind, small, container, {}};
  record.item = item;
  records_.push_back(record);
}

void Journal::addWithBytes(Kind kind, void *container, void *item, const void *bytes, size_t size) {
  size_t at = bytes_.size();
  bytes_.resize(at + size);
  std::memcpy(bytes_.data() + at, bytes, size);
  add(kind, container, item, static_cast<uint32_t>(size));
}

void Journal::undo(const Record &record, const std::byte *saved) {
  auto *ht = static_cast<kiln_hashtable *>(record.container);
  auto *entry = static_cast<kiln_entry *>(record.item);
  switch (record.kind) {
  case Kind::Inserted:
    kiln_ht_erase(ht, entry);
    return;
  case Kind::Erased:
    relinkErased(ht, entry, record.small);
    return;
  case Kind::Linked:
    kiln_ht_unlink(ht, entry, static_cast<int32_t>(record.small));
    return;
  case Kind::Unlinked: {
    // The chain is in the saved bytes, after the hash.
    uint64_t hash;
    int32_t chain;
    std::memcpy(&hash, saved, sizeof hash);
    std::memcpy(&chain, saved + sizeof hash, sizeof chain);
    kiln_ht_link(ht, entry, chain, hash);
    return;
  }
  case Kind::Touched:
    std::memcpy(entry + 1, saved, record.small);
    return;
  case Kind::MultisetCreated:
    kiln_ms_destroy(static_cast<kiln_multiset *>(record.container));
    return;
  case Kind::MultisetDestroyed:
    return; // it was never deleted
  case Kind::MultisetAdded:
    kiln_ms_add(static_cast<kiln_multiset *>(record.container), saved, -record.weight);
    return;
  case Kind::ListPushed:
    popItem(static_cast<kiln_ptrvec *>(record.container));
    return;
  case Kind::ListCleared:
    restoreItems(static_cast<kiln_ptrvec *>(record.container),
                 reinterpret_cast<const void *const *>(saved), record.small / sizeof(void *));
    return;
  case Kind::TextKept:
    freeKeptText(static_cast<kiln_runtime *>(record.container), static_cast<char *>(record.item));
    return;
  case Kind::TextReleased:
    unreleaseLastText(static_cast<kiln_runtime *>(record.container));
    return;
  }
}

void Journal::inserted(kiln_hashtable *ht, kiln_entry *entry) { add(Kind::Inserted, ht, entry); }

void Journal::erased(kiln_hashtable *ht, kiln_entry *entry, uint32_t chains) {
  add(Kind::Erased, ht, entry, chains);
}

void Journal::linked(kiln_hashtable *ht, kiln_entry *entry, int32_t chain) {
  add(Kind::Linked, ht, entry, static_cast<uint32_t>(chain));
}

void Journal::unlinked(kiln_hashtable *ht, kiln_entry *entry, int32_t chain, uint64_t hash) {
  std::byte saved[sizeof hash + sizeof chain];
  std::memcpy(saved, &hash, sizeof hash);
  std::memcpy(saved + sizeof hash, &chain, sizeof chain);
  addWithBytes(Kind::Unlinked, ht, entry, saved, sizeof saved);
}

void Journal::touched(kiln_hashtable *ht, kiln_entry *entry, size_t size) {
  // Fibonacci hashing of the address: entries are 16-byte aligned and laid out in slabs.
  size_t slot = (reinterpret_cast<uintptr_t>(entry) >> 4) * 0x9E3779B97F4A7C15ULL >> (64 - 9);
  if (saved_[slot] == entry)
    return;
  saved_[slot] = entry;
  addWithBytes(Kind::Touched, ht, entry, entry + 1, size);
}

void Journal::multisetCreated(kiln_multiset *ms) { add(Kind::MultisetCreated, ms, nullptr); }
void Journal::multisetDestroyed(kiln_multiset *ms) { add(Kind::MultisetDestroyed, ms, nullptr); }

void Journal::multisetAdded(kiln_multiset *ms, const void *value, size_t value_size,
                            int64_t weight) {
  addWithBytes(Kind::MultisetAdded, ms, nullptr, value, value_size);
  records_.back().weight = weight;
}

void Journal::listPushed(kiln_ptrvec *vec) { add(Kind::ListPushed, vec, nullptr); }

void Journal::listCleared(kiln_ptrvec *vec, const std::vector<void *> &items) {
  addWithBytes(Kind::ListCleared, vec, nullptr, items.data(), items.size() * sizeof(void *));
}

void Journal::textKept(kiln_runtime *rt, char *block) { add(Kind::TextKept, rt, block); }
void Journal::textReleased(kiln_runtime *rt) { add(Kind::TextReleased, rt, nullptr); }

} // namespace kiln::runtime::detail
