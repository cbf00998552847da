// jsonb values as PostgreSQL prints them.
//
// Kiln keeps a jsonb value as its canonical text, the text PostgreSQL's jsonb_out writes: object
// keys sorted by length, then bytewise, a duplicate key keeping its last value; ", " between
// elements and ": " after keys; numbers as PostgreSQL's numeric prints them (1e2 is 100, 1.50
// stays 1.50); strings escaped as PostgreSQL escapes them. Two equal canonical texts are equal
// jsonb values, so hashing, grouping and joins work on the text. (PostgreSQL also takes 1.0 and
// 1.00 as equal jsonb numbers: so do Kiln's comparisons, = and < (kiln_jsonb_cmp), but not its
// GROUP BY, DISTINCT or join keys, since their texts differ.)
//
// The sub-value of a canonical text is a substring of it, so navigation (->, #>) returns a view
// into its argument and allocates nothing. Built into the runtime and, for constants, the binder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::jsonb {

// The canonical text of JSON text `text`, or PostgreSQL's error: "invalid input syntax for type
// json" (with what is wrong after a colon), or "unsupported Unicode escape sequence" for \u0000.
absl::StatusOr<std::string> normalize(std::string_view text);

// Whether an error of normalize() is the \u0000 one (a different SQL error than bad syntax).
bool isUnicodeEscapeError(const absl::Status &status);

// What a canonical value is, by its first byte.
enum class Kind { Null, String, Number, Boolean, Array, Object };
Kind kindOf(std::string_view value);
// jsonb_typeof's names: "null", "string", "number", "boolean", "array", "object".
std::string_view kindName(Kind kind);

// `value -> key`: the value of an object's key; nullopt for a missing key or a non-object.
std::optional<std::string_view> objectField(std::string_view value, std::string_view key);
// `value -> index`: an array's element, counting from the end if negative; nullopt if out of
// range or not an array. A scalar is, as in PostgreSQL, a one-element array here.
std::optional<std::string_view> arrayElement(std::string_view value, int64_t index);
// One step of a path (#>, jsonb_extract_path): an object's key, or an array's element at the
// integer the step spells (negative from the end); nullopt otherwise (a scalar has no steps).
std::optional<std::string_view> pathStep(std::string_view value, std::string_view step);
// `value ->> ...`'s text of a value: a string unescaped, NULL for null, else the canonical text.
// The string's text is written to `scratch` if it has escapes, else returned as a view.
std::optional<std::string_view> text(std::string_view value, std::string &scratch);
// jsonb_array_length: the number of elements; nullopt if `value` is not an array.
std::optional<int64_t> arrayLength(std::string_view value);
// One member of a canonical array or object from `pos` (0 at the start), which it advances: an
// array's element in `value` (`key` empty), or an object's field, its key still quoted and
// escaped in `key`; false past the last, or for a scalar. (The set functions' stepping.)
bool nextMember(std::string_view container, size_t &pos, std::string_view &key,
                std::string_view &value);
// `value ? key`: an object has the key, an array has the string as an element, or the value is
// that string.
bool exists(std::string_view value, std::string_view key);

// `value @> part` as PostgreSQL's JsonbDeepContains decides it: an object contains an object
// whose every key it has with a value containing that key's value; an array contains an array
// whose every scalar element it has and whose every container element is contained in one of
// its elements of that kind; at the top only, an array contains a scalar it has as an element;
// scalars contain equal scalars (numbers by value: 1.0 contains 1, though = tells them apart).
bool contains(std::string_view value, std::string_view part);

// `text` escaped as a JSON string, with its quotes, as PostgreSQL escapes it.
void appendQuoted(std::string &out, std::string_view text);

} // namespace kiln::jsonb
