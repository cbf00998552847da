// Stable fingerprints of operators: a hash of what an operator computes (its kind, payload and
// schema) and, recursively, of what its inputs compute. Ids and source locations do not count,
// so a pass that renumbers operators, or an edit elsewhere in a model file, keeps the
// fingerprint; a change to the operator's plan or to any plan below it changes it. State saved by
// one build can be restored by another for every operator whose fingerprint both share.
#pragma once

#include "kiln/IR/IR.h"

#include <cstdint>
#include <unordered_map>

namespace kiln::ir {

uint64_t fingerprint(const Module &module, const Op &op);
// Every operator's, by id.
std::unordered_map<int32_t, uint64_t> fingerprints(const Module &module);
// Every operator's fingerprint of the state it keeps, by id: its plan's, and for a keyed source
// also the joins that keep their rows in its table (sharedKeyedSource), whose chains and flags
// are part of its entries. What state descriptors and upgrades compare: a source that a new join
// shares keeps the same rows but not the same table.
std::unordered_map<int32_t, uint64_t> stateFingerprints(const Module &module);

} // namespace kiln::ir
