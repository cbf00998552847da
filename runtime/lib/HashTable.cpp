// kiln_hashtable: chained hash table in the HyPer style.
//
// The runtime owns the bucket directory and the entries; generated code hashes keys, walks a chain
// and compares keys itself. The directory has a power-of-two number of buckets (bucket = hash &
// mask, so generated hashes must mix their low bits) and doubles when the table holds twice as
// many entries as buckets (chains of one or two entries on average: a directory slot costs as
// much per entry as a chain link, and a chain walk compares the stored hash before the key); growth
// re-links the existing entries by their stored hash, so entries never move and pointers to them
// stay valid for their whole life. Entries come from slabs owned by the table and erased entries
// are recycled through a free list.
//
// A table may chain its entries by several keys (a join input found by each key other inputs look
// it up by): chain k >= 1 keeps its links after the payload (abi.h, kiln_entry_link_offset), and
// each chain has a directory of its own, all growing together.
//
// Erase is O(1): behind each entry's payload the runtime keeps a hidden back link, the address of
// the pointer that points at the entry (its bucket's directory slot or its predecessor's `next`).
// A join index keeps every row with one key in one chain, so finding the predecessor by walking
// the chain would make each retraction cost as much as the key has rows. A table whose first
// chain is by a unique key (aggregate groups, distinct rows) walks its short bucket instead and
// saves the link.
//
// Each directory slot carries a 16-bit Bloom filter of the hashes in its chain in the pointer's
// unused top bits (Umbra's tagged pointers): a lookup of a key the table does not hold, such as
// every insert of a new key, usually ends at the slot without touching an entry. Tags are set on
// insertion, kept when entries leave (a stale bit only costs a walk), and rebuilt by growth.
// Only directory slots are tagged; entries' links are plain pointers, which generated code walks.
//
// Within a tick every change is recorded in the runtime's journal first (Journal.h), so that a
// SQL runtime error can put the table back as it was; an erased entry is then freed only when the
// tick is kept.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "Containers.h"
#include "Journal.h"
#include "LargeBlocks.h"
#include "kiln/runtime/abi.h"

static_assert(sizeof(kiln_entry) == 16, "payload must start at offset 16");

using kiln::runtime::detail::Journal;
using kiln::runtime::detail::LargeBlockAllocator;

namespace {

// User-space addresses fit in 48 bits (x86-64, AArch64): the top 16 bits of a slot are its tag.
constexpr unsigned kTagShift = 48;
constexpr uintptr_t kAddressMask = (uintptr_t{1} << kTagShift) - 1;

uintptr_t bitsOf(kiln_entry *slot) { return reinterpret_cast<uintptr_t>(slot); }
kiln_entry *untagged(kiln_entry *slot) {
  return reinterpret_cast<kiln_entry *>(bitsOf(slot) & kAddressMask);
}
// The tag bit of a hash: its top four bits choose one of 16 (the bucket uses the low bits).
uintptr_t tagOf(uint64_t hash) { return uintptr_t{1} << (kTagShift + (hash >> 60)); }
// `pointer` stored where `old` was, keeping old's tag (zero unless the place is a slot).
kiln_entry *keepingTag(kiln_entry *old, kiln_entry *pointer) {
  return reinterpret_cast<kiln_entry *>((bitsOf(old) & ~kAddressMask) | bitsOf(pointer));
}

} // namespace
// A chain's bucket heads (large directories get huge pages: LargeBlocks.h).
using Directory = std::vector<kiln_entry *, LargeBlockAllocator<kiln_entry *>>;
static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 16, "slabs must be 16-byte aligned");

struct kiln_hashtable {
  kiln_hashtable(Journal *journal, int64_t payload_size, int32_t chains, bool unique_first)
      : journal(journal), payload_size(static_cast<size_t>(payload_size)),
        unique_first(unique_first),
        link_offset(static_cast<size_t>(kiln_entry_link_offset(payload_size, chains))),
        entry_size(roundUp(link_offset + (unique_first ? 0 : sizeof(kiln_entry **)), 16)),
        directories(static_cast<size_t>(chains), Directory(kInitialBuckets, nullptr)) {}

  static size_t roundUp(size_t n, size_t to) { return (n + to - 1) & ~(to - 1); }

  size_t bucketOf(uint64_t hash) const { return hash & (directories[0].size() - 1); }

  // Chain k >= 1's links of `entry` (abi.h: after the payload and chain 0's back link).
  kiln_entry_link &linkOf(kiln_entry *entry, size_t chain) const {
    return *reinterpret_cast<kiln_entry_link *>(reinterpret_cast<std::byte *>(entry) +
                                                kiln_entry_link_offset(payload_size, chain));
  }
  kiln_entry *&nextOf(kiln_entry *entry, size_t chain) const {
    return chain == 0 ? entry->next : linkOf(entry, chain).next;
  }
  uint64_t hashOf(kiln_entry *entry, size_t chain) const {
    return chain == 0 ? entry->hash : linkOf(entry, chain).hash;
  }
  kiln_entry **&backOf(kiln_entry *entry, size_t chain) const {
    if (chain != 0)
      return linkOf(entry, chain).back;
    return *reinterpret_cast<kiln_entry ***>(reinterpret_cast<std::byte *>(entry) + link_offset);
  }

  bool hasBackLink(size_t chain) const { return chain != 0 || !unique_first; }

  // Puts `entry`, of `hash` in chain `chain`, at the head of the chain in directory slot `slot`.
  void pushFront(kiln_entry *&slot, kiln_entry *entry, size_t chain, uint64_t hash) {
    kiln_entry *head = untagged(slot);
    nextOf(entry, chain) = head;
    slot = reinterpret_cast<kiln_entry *>((bitsOf(slot) & ~kAddressMask) | tagOf(hash) |
                                          bitsOf(entry));
    if (!hasBackLink(chain))
      return;
    if (head != nullptr)
      backOf(head, chain) = &nextOf(entry, chain);
    backOf(entry, chain) = &slot;
  }

  // Whether `entry` is in chain `chain` (k >= 1: kiln_ht_link sets its back link, kiln_ht_unlink
  // clears it).
  bool linked(kiln_entry *entry, size_t chain) const {
    return chain == 0 || linkOf(entry, chain).back != nullptr;
  }

  void unlink(kiln_entry *entry, size_t chain) {
    kiln_entry *next = nextOf(entry, chain);
    if (!hasBackLink(chain)) {
      // A key with one entry: its bucket is short (two entries per bucket on average).
      kiln_entry **link = &directories[0][bucketOf(entry->hash)];
      while (untagged(*link) != entry)
        link = &untagged(*link)->next;
      *link = keepingTag(*link, next);
      return;
    }
    kiln_entry **back = backOf(entry, chain);
    *back = keepingTag(*back, next);
    if (next != nullptr)
      backOf(next, chain) = back;
    if (chain != 0)
      backOf(entry, chain) = nullptr;
  }

  kiln_entry *allocateEntry() {
    if (free_list != nullptr) {
      kiln_entry *entry = free_list;
      free_list = entry->next;
      return entry;
    }
    if (slab_used == slab_capacity) {
      // Slabs grow with the table so that the number of slabs stays logarithmic in its size.
      // A large slab fills the huge pages it is rounded up to.
      size_t bytes = kiln::runtime::detail::largeBlockBytes(
          std::max<size_t>(kMinSlabEntries, static_cast<size_t>(size) / 2) * entry_size);
      slab_capacity = bytes / entry_size;
      slab_entries += slab_capacity;
      slabs.push_back(Slab(bytes));
      slab_used = 0;
    }
    return reinterpret_cast<kiln_entry *>(slabs.back().data + entry_size * slab_used++);
  }

  // Doubles every chain's directory, re-linking the entries by their stored hashes.
  void grow() {
    // Every entry is touched, in the old directory's order: each is a cache miss in a large
    // table unless its link is fetched while the buckets before it are re-linked.
    constexpr size_t kPrefetchAhead = 8;
    for (size_t chain = 0; chain < directories.size(); ++chain) {
      Directory old(directories[chain].size() * 2, nullptr);
      old.swap(directories[chain]);
      for (size_t bucket = 0; bucket < old.size(); ++bucket) {
        if (bucket + kPrefetchAhead < old.size() && untagged(old[bucket + kPrefetchAhead]))
          __builtin_prefetch(&nextOf(untagged(old[bucket + kPrefetchAhead]), chain), 1);
        kiln_entry *head = untagged(old[bucket]);
        while (head != nullptr) {
          kiln_entry *next = nextOf(head, chain);
          uint64_t hash = hashOf(head, chain);
          pushFront(directories[chain][bucketOf(hash)], head, chain, hash);
          head = next;
        }
      }
    }
  }

  kiln_entry *firstFromBucket(size_t bucket) const {
    const Directory &directory = directories[0];
    for (; bucket < directory.size(); ++bucket)
      if (kiln_entry *head = untagged(directory[bucket]))
        return head;
    return nullptr;
  }

  // The journal to record changes in, while it records (a tick is running).
  Journal *recording() const {
    return journal != nullptr && journal->recording() ? journal : nullptr;
  }

  void free(kiln_entry *entry) {
    entry->next = free_list;
    free_list = entry;
  }

  static constexpr size_t kInitialBuckets = 16;
  static constexpr size_t kMinSlabEntries = 64;

  Journal *const journal;
  const size_t payload_size;
  const bool unique_first;  // chain 0 keeps no back links (KILN_HT_UNIQUE_FIRST_CHAIN)
  const size_t link_offset; // where chain 0's hidden back link sits, after the other chains
  const size_t entry_size;  // header + payload + other chains' links + back link, to 16 bytes
  std::vector<Directory> directories; // per chain, all of one size
  int64_t size = 0;
  struct Slab {
    explicit Slab(size_t size)
        : data(static_cast<std::byte *>(kiln::runtime::detail::allocateLarge(size))), bytes(size) {}
    Slab(Slab &&other) noexcept : data(std::exchange(other.data, nullptr)), bytes(other.bytes) {}
    Slab &operator=(Slab &&) = delete;
    ~Slab() {
      if (data)
        kiln::runtime::detail::freeLarge(data, bytes);
    }
    std::byte *data;
    size_t bytes;
  };
  std::vector<Slab> slabs;
  size_t slab_capacity = 0;
  size_t slab_entries = 0; // entries the slabs have room for, in all
  size_t slab_used = 0;
  kiln_entry *free_list = nullptr; // erased entries, linked through `next`
};

extern "C" {

kiln_hashtable *kiln_ht_create(kiln_runtime *rt, int64_t payload_size) {
  return new kiln_hashtable(kiln::runtime::detail::journalOf(rt), payload_size, 1, false);
}

kiln_hashtable *kiln_ht_create_chains(kiln_runtime *rt, int64_t payload_size, int32_t chains,
                                      int32_t flags) {
  return new kiln_hashtable(kiln::runtime::detail::journalOf(rt), payload_size, chains,
                            (flags & KILN_HT_UNIQUE_FIRST_CHAIN) != 0);
}

void kiln_ht_destroy(kiln_hashtable *ht) { delete ht; }

kiln_entry *kiln_ht_chain(kiln_hashtable *ht, uint64_t hash) {
  kiln_entry *slot = ht->directories[0][ht->bucketOf(hash)];
  return (bitsOf(slot) & tagOf(hash)) != 0 ? untagged(slot) : nullptr;
}

kiln_entry *kiln_ht_chain_at(kiln_hashtable *ht, int32_t chain, uint64_t hash) {
  kiln_entry *slot = ht->directories[static_cast<size_t>(chain)][ht->bucketOf(hash)];
  return (bitsOf(slot) & tagOf(hash)) != 0 ? untagged(slot) : nullptr;
}

kiln_entry *kiln_ht_insert(kiln_hashtable *ht, uint64_t hash) {
  if (static_cast<size_t>(ht->size) >= 2 * ht->directories[0].size())
    ht->grow();
  kiln_entry *entry = ht->allocateEntry();
  // The payload, and the other chains' links: in none of them until kiln_ht_link.
  std::memset(entry + 1, 0, ht->link_offset - sizeof(kiln_entry));
  entry->hash = hash;
  ht->pushFront(ht->directories[0][ht->bucketOf(hash)], entry, 0, hash);
  ++ht->size;
  if (Journal *journal = ht->recording())
    journal->inserted(ht, entry);
  return entry;
}

void kiln_ht_link(kiln_hashtable *ht, kiln_entry *entry, int32_t chain, uint64_t hash) {
  size_t k = static_cast<size_t>(chain);
  if (Journal *journal = ht->recording())
    journal->linked(ht, entry, chain);
  ht->linkOf(entry, k).hash = hash;
  ht->pushFront(ht->directories[k][ht->bucketOf(hash)], entry, k, hash);
}

void kiln_ht_unlink(kiln_hashtable *ht, kiln_entry *entry, int32_t chain) {
  size_t k = static_cast<size_t>(chain);
  if (!ht->linked(entry, k))
    return;
  if (Journal *journal = ht->recording())
    journal->unlinked(ht, entry, chain, ht->hashOf(entry, k));
  ht->unlink(entry, k);
}

void kiln_ht_erase(kiln_hashtable *ht, kiln_entry *entry) {
  uint32_t chains = 0;
  for (size_t chain = 0; chain < ht->directories.size(); ++chain) {
    if (ht->linked(entry, chain)) {
      ht->unlink(entry, chain);
      chains |= uint32_t{1} << chain;
    }
  }
  --ht->size;
  // While a tick runs the entry stays as it is, for a rollback to link it back.
  if (Journal *journal = ht->recording())
    journal->erased(ht, entry, chains);
  else
    ht->free(entry);
}

void kiln_ht_touch(kiln_hashtable *ht, kiln_entry *entry) {
  if (Journal *journal = ht->recording())
    journal->touched(ht, entry, ht->payload_size);
}

int64_t kiln_ht_size(const kiln_hashtable *ht) { return ht->size; }

int64_t kiln_ht_bytes(const kiln_hashtable *ht) {
  size_t bytes =
      sizeof *ht + ht->slabs.capacity() * sizeof(ht->slabs[0]) + ht->slab_entries * ht->entry_size;
  for (const Directory &directory : ht->directories)
    bytes += directory.capacity() * sizeof(kiln_entry *);
  return static_cast<int64_t>(bytes);
}

int32_t kiln_ht_linked(const kiln_hashtable *ht, const kiln_entry *entry, int32_t chain) {
  return ht->linked(const_cast<kiln_entry *>(entry), static_cast<size_t>(chain)) ? 1 : 0;
}

int64_t kiln_ht_chain_bytes(const kiln_hashtable *ht, int32_t chain) {
  size_t k = static_cast<size_t>(chain);
  size_t linked = 0;
  for (kiln_entry *slot : ht->directories[k])
    for (kiln_entry *e = untagged(slot); e != nullptr; e = ht->nextOf(e, k))
      ++linked;
  return static_cast<int64_t>(ht->directories[k].capacity() * sizeof(kiln_entry *) +
                              linked * sizeof(kiln_entry_link));
}

kiln_entry *kiln_ht_first(kiln_hashtable *ht) { return ht->firstFromBucket(0); }

kiln_entry *kiln_ht_next(kiln_hashtable *ht, kiln_entry *entry) {
  if (entry->next != nullptr)
    return entry->next;
  return ht->firstFromBucket(ht->bucketOf(entry->hash) + 1);
}

} // extern "C"

namespace kiln::runtime::detail {

size_t payloadSize(const kiln_hashtable *ht) { return ht->payload_size; }

void relinkErased(kiln_hashtable *ht, kiln_entry *entry, uint32_t chains) {
  for (size_t chain = 0; chain < ht->directories.size(); ++chain) {
    if ((chains >> chain & 1) == 0)
      continue;
    uint64_t hash = ht->hashOf(entry, chain);
    ht->pushFront(ht->directories[chain][ht->bucketOf(hash)], entry, chain, hash);
  }
  ++ht->size;
}

void freeErased(kiln_hashtable *ht, kiln_entry *entry) { ht->free(entry); }

} // namespace kiln::runtime::detail
