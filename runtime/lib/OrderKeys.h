// Order keys: values encoded as byte strings that compare bytewise (a proper prefix first) as
// PostgreSQL's btree operators compare the values. Top-k and window states, ordered aggregates and
// range joins keep rows under keys made of them (TopK.cpp); arrays and jsonb, kept as text, are
// compared through them too.
//
// A non-NULL value is a 0x01 marker and then its bytes: integers big-endian with the sign bit
// flipped, floats by their bits (negative ones inverted, -0 as 0, NaN above all as in
// PostgreSQL), NUMERIC its scaled integer (one column, one scale), intervals their span (a month
// as 30 days), text with 0x00 escaped as 0x00 0xFF and ended by 0x00 0x00 ("C" collation:
// bytewise, a prefix first). Arrays and jsonb are written in a structural encoding (below),
// which is then escaped and ended as text is, so that every key's length can be found by the
// text rule. DESC inverts the value's bytes, which reverses the order of any prefix-free code.
//
// Arrays, as array_cmp compares them: element by element, a NULL element above every value and
// equal to another NULL, then the shorter array first. Each element is 0x02 for NULL or its own
// key (0x01 ...), and 0x00 ends the array. NUMERIC elements are keyed by their decimal value, so
// that arrays of different scales compare as their numbers do.
//
// jsonb, as compareJsonbContainers compares it: by kind, null < string < number < boolean <
// array < object; arrays by their number of elements, then element by element; objects by their
// number of pairs, then pair by pair in stored key order (keys by length, then bytewise), each
// key then its value; strings bytewise; numbers by value (1.0 equals 1). A top-level scalar is a
// one-element "raw scalar" array that sorts before a real one of one element (and so after the
// empty array, as PostgreSQL's documentation says).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/runtime/abi.h"

namespace kiln::runtime::detail {

// The marker byte that starts a non-NULL value's key; NULL's is 0x00 (NULLS FIRST) or 0x02.
constexpr char kPresentMarker = 0x01;

// Appends the key of the non-NULL value at `at` (storage of `col`'s type; an array column's
// `element`, precision and scale describe its elements).
void appendValueKey(std::string &out, const kiln_column_desc &col, const char *at, bool descending);

// The length of the ascending key of a value of `type` (NULL or not) that starts at key[at].
size_t encodedLength(int32_t type, std::string_view key, size_t at);

// Three-way comparisons (<0, 0, >0) in the keys' order.
int compareArrays(std::string_view a, std::string_view b, const kiln_column_desc &element);
int compareJsonb(std::string_view a, std::string_view b);
// Two non-NULL values of `col`'s type, stored as in a row.
int compareValues(const kiln_column_desc &col, const char *a, const char *b);

} // namespace kiln::runtime::detail
