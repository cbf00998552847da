// The undo log that makes a tick atomic.
//
// While a tick runs, every change to operator state is recorded here before it is made: an
// entry inserted, erased, linked into or unlinked from a chain, its payload's bytes before an
// in-place write (kiln_ht_touch), a multiset created, destroyed or added to, a list pushed to or
// cleared, a string kept or released. A SQL runtime error rolls the state back to the tick's
// start by undoing the records newest first; a tick that completes finishes the journal,
// which only then frees what the tick erased (an erased entry or a destroyed multiset must stay
// intact until no rollback can need it again).
//
// Undoing puts back the same memory: an erased entry is relinked at its address, so pointers to
// it elsewhere stay valid. It does not restore the order of entries within a chain, which no
// result depends on.
//
// A payload is saved again only when it has left a small cache of recently saved entries: a tick
// that updates one group a million times saves it about once. A table emptied by every commit
// need not save payloads at all (its entries are all new in the tick), which is why the journal
// rolls back to the tick's start only, never to a point within it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kiln/runtime/abi.h"

namespace kiln::runtime::detail {

class Journal {
public:
  Journal() = default;
  Journal(const Journal &) = delete;
  Journal &operator=(const Journal &) = delete;

  // Whether changes are being recorded: between begin() and finish().
  bool recording() const { return recording_; }
  // A tick starts: from now on every change is recorded.
  void begin();
  // Undoes every change since begin(), newest first; recording goes on (the tick starts again).
  void rollback();
  // The tick is kept: frees what it erased and destroyed, and stops recording.
  void finish();
  // Bytes the log holds now (records and saved payloads).
  size_t bytes() const;

  // ---- Records, made by the containers and services before they change anything ----
  void inserted(kiln_hashtable *ht, kiln_entry *entry);
  // `chains` has bit k set for each chain the entry was linked in; the entry stays allocated.
  void erased(kiln_hashtable *ht, kiln_entry *entry, uint32_t chains);
  void linked(kiln_hashtable *ht, kiln_entry *entry, int32_t chain);
  void unlinked(kiln_hashtable *ht, kiln_entry *entry, int32_t chain, uint64_t hash);
  // The payload (`size` bytes after the header) is about to be written in place.
  void touched(kiln_hashtable *ht, kiln_entry *entry, size_t size);
  void multisetCreated(kiln_multiset *ms);
  void multisetDestroyed(kiln_multiset *ms); // deleted at finish()
  void multisetAdded(kiln_multiset *ms, const void *value, size_t value_size, int64_t weight);
  void listPushed(kiln_ptrvec *vec);
  void listCleared(kiln_ptrvec *vec, const std::vector<void *> &items);
  void textKept(kiln_runtime *rt, char *block);
  void textReleased(kiln_runtime *rt);

  enum class Kind : uint8_t {
    Inserted,
    Erased,
    Linked,
    Unlinked,
    Touched,
    MultisetCreated,
    MultisetDestroyed,
    MultisetAdded,
    ListPushed,
    ListCleared,
    TextKept,
    TextReleased,
  };

private:
  // 24 bytes: a tick of a million changes logs a few million of them. Saved bytes (a payload, a
  // multiset's value, a chain's hash, a list's items) follow one another in bytes_, in the order
  // of their records, so undoing newest first finds each record's bytes at the end.
  struct Record {
    Kind kind;
    uint32_t small;  // a chain, a chain mask, or how many bytes it saved
    void *container; // the table, multiset, list or runtime
    union {
      void *item;     // the entry or the kept block
      int64_t weight; // MultisetAdded
    };
  };
  static_assert(sizeof(Record) == 24);

  void add(Kind kind, void *container, void *item, uint32_t small = 0);
  void addWithBytes(Kind kind, void *container, void *item, const void *bytes, size_t size);
  // Undoes `record`, whose saved bytes (if any) are `saved`.
  void undo(const Record &record, const std::byte *saved);
  void forgetSaved() { saved_.fill(nullptr); }

  bool recording_ = false;
  std::vector<Record> records_;
  std::vector<std::byte> bytes_;
  // Entries whose payload was saved since the last mark (direct-mapped by address).
  std::array<kiln_entry *, 512> saved_{};
};

} // namespace kiln::runtime::detail
