// What the journal (Journal.h) needs of the containers to undo a change or finish a tick; the
// containers themselves are abi.h's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "kiln/runtime/abi.h"

namespace kiln::runtime::detail {

class Journal;

// The journal of the runtime a container was created for (nullptr: none, nothing is recorded).
Journal *journalOf(kiln_runtime *rt);

size_t payloadSize(const kiln_hashtable *ht);
// Links an erased entry back into chain 0 and the chains k of `chains` (bit k).
void relinkErased(kiln_hashtable *ht, kiln_entry *entry, uint32_t chains);
// Gives an erased entry's memory back to the table.
void freeErased(kiln_hashtable *ht, kiln_entry *entry);

// Every value of a multiset with its count, in order (TEXT values as kiln_str).
void forEachCount(const kiln_multiset *ms,
                  const std::function<void(const void *value, int64_t count)> &visit);
// The same, from the smallest value on, until `visit` returns false.
void forEachCountWhile(const kiln_multiset *ms,
                       const std::function<bool(const void *value, int64_t count)> &visit);
// The same, from the first value not less than `from` (a value of the set's type) on.
void forEachCountFromWhile(const kiln_multiset *ms, const void *from,
                           const std::function<bool(const void *value, int64_t count)> &visit);

void popItem(kiln_ptrvec *vec);
void restoreItems(kiln_ptrvec *vec, const void *const *items, size_t n);

// Kept text (Runtime.cpp): frees a block kept in an undone tick; takes back the last release.
void freeKeptText(kiln_runtime *rt, char *block);
void unreleaseLastText(kiln_runtime *rt);

} // namespace kiln::runtime::detail
