// The rows of a top-k or window operator's state as TopK.cpp encodes them: each value of the
// operator's TEXT multiset is one row, its order key first (bytes that sort as the ORDER BY sorts
// the row), then the row, then the order key's length.
#pragma once

#include <cstdint>

#include "kiln/runtime/abi.h"

namespace kiln::runtime::detail {

// How many bytes of `value` are its order key: two rows are peers (equal in every ORDER BY
// column) when those bytes are.
uint32_t orderKeyLength(kiln_str value);

// The row of a value (its strings point into the value's bytes), in the tick's scratch memory.
const void *decodeRow(kiln_runtime *rt, const kiln_relation_desc &layout, kiln_str value);

} // namespace kiln::runtime::detail
