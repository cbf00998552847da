// Arrays as PostgreSQL prints them.
//
// Kiln keeps a one-dimensional array as the text PostgreSQL's array_out writes for it: `{`, the
// elements' texts separated by `,`, `}`. An element is written as its type's text output, in
// double quotes (with `"` and `\` escaped by a backslash) when it is empty, spells NULL in any
// case, or holds a brace, a comma, a quote, a backslash or white space; a NULL element is NULL.
// Each element type has one text per value, so equal arrays have equal texts: equality,
// hashing, grouping and joins work on the text. Built into the runtime and, for constants, the
// binder.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::array_text {

// An element's text as it stands in an array (quoted where array_out quotes it).
void appendElement(std::string &out, std::string_view element);
// NULL, as an element.
inline constexpr std::string_view kNull = "NULL";

// The elements of array text as array_in reads a one-dimensional array: `{}`, or elements
// separated by commas, each quoted ("a,b", with backslash escapes) or not (white space around it
// dropped, backslash escapes taken; NULL in any case unquoted is a NULL element). Returns nullopt
// and sets `error` (PostgreSQL's detail) for anything else: a missing brace, nested braces (more
// than one dimension), dimension decorations (`[1:2]={...}`), junk after the closing brace.
using Elements = std::vector<std::optional<std::string>>;
std::optional<Elements> parse(std::string_view text, std::string &error);

// The elements of canonical array text (what parse reads back, without its checks).
Elements elements(std::string_view canonical);

// One element of canonical array text from `pos` (0 at the start), which it advances: the
// element's text unescaped in `element` (empty and `is_null` for a NULL); false past the last.
// Stepping reads each element once, where elements() reads them all (unnest's use).
bool nextElement(std::string_view canonical, size_t &pos, std::string &element, bool &is_null);

} // namespace kiln::array_text
