// Values in rows: layout helpers, PostgreSQL-compatible text input and output, JSON rows.
//
// Output follows PostgreSQL's output functions (so results compare equal to what psql prints) and
// input follows its input functions, with PostgreSQL's error messages. Kiln always uses the "C"
// collation and ISO dates.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kiln/runtime/Arena.h"
#include "kiln/runtime/abi.h"
#include "kiln/runtime/zone.h"

namespace kiln::runtime {

// ---- Row layout (see abi.h) ----

inline bool isNull(const void *row, int32_t column) {
  return (static_cast<const uint64_t *>(row)[column / 64] >> (column % 64)) & 1;
}
inline void setNull(void *row, int32_t column) {
  static_cast<uint64_t *>(row)[column / 64] |= uint64_t(1) << (column % 64);
}
inline const void *valuePtr(const kiln_column_desc &col, const void *row) {
  return static_cast<const char *>(row) + col.offset;
}
// Bytes of a value's storage inside a row.
size_t storageSize(int32_t type_kind);
// PostgreSQL's name of a type kind ("integer", "double precision", ...).
std::string_view typeName(int32_t type_kind);

// Whether two rows of `rel` hold the same values (TEXT by content, FLOAT64 bit for bit).
bool rowsEqual(const kiln_relation_desc &rel, const void *a, const void *b);

// ---- Text output ----

std::string formatFloat64(double value); // 1.5, 1e+20, 1.5e-05, NaN, -Infinity
std::string formatReal(double value);    // a real's: a float's shortest digits, 1.234567e+06
std::string formatNumeric(__int128 scaled, int32_t scale); // 12.50, -0.05, 0
void appendNumeric(std::string &out, __int128 scaled, int32_t scale);
// The same written at `p`, which has room for kNumericWidth + |scale| bytes; returns the end.
constexpr size_t kNumericWidth = 42; // sign, 39 digits, "0." or "."
char *writeNumeric(char *p, __int128 scaled, int32_t scale);
std::string formatDate(int32_t days);          // 2024-01-31, 0044-03-15 BC
std::string formatTimestamp(int64_t micros);   // 2024-01-31 12:00:00.5
std::string formatTimestampTz(int64_t micros); // 2024-01-31 12:00:00.5+00 (UTC)

// The non-NULL value stored at `value` (storage of col's type); BOOL prints as t/f.
std::string formatScalar(const kiln_column_desc &col, const void *value);
// Column `column` of `row` in PostgreSQL's text output format; nullopt for NULL.
std::optional<std::string> formatValue(const kiln_relation_desc &rel, int32_t column,
                                       const void *row);
// {"col":value,...} in column order: numbers as JSON numbers (NUMERIC with its exact digits),
// BOOL as true/false, NaN/Infinity, DATE and TIMESTAMP as strings, NULL as null.
std::string formatRowJson(const kiln_relation_desc &rel, const void *row);
// Array text as a JSON array: its elements as JSON values of `element_kind` would be written
// (numbers and booleans as themselves, NaN and the infinities and other values as strings,
// jsonb as its JSON), NULL as null.
std::string arrayToJson(std::string_view array, int32_t element_kind);
// The canonical text of an array (kiln/runtime/ArrayText.h) of these elements' texts (nullopt
// for NULL), each read as `element` (a column descriptor of the element type) reads text and
// written as it writes it; or the first element's error.
absl::StatusOr<std::string> canonicalArray(const std::vector<std::optional<std::string>> &elements,
                                           const kiln_column_desc &element);
// Array text read as PostgreSQL's array_in reads one dimension, in canonical form; "malformed
// array literal" or an element's error otherwise.
absl::StatusOr<std::string> parseArray(std::string_view text, const kiln_column_desc &element);
// The column descriptor of an array column's elements.
inline kiln_column_desc arrayElement(const kiln_column_desc &array) {
  return {array.name, array.element, array.precision, array.scale, 0, 0, 0};
}
// The same for many rows of one relation: the quoted column names are escaped once, not per row.
class RowJsonFormatter {
public:
  explicit RowJsonFormatter(const kiln_relation_desc &rel);
  // An object of some of the columns only (e.g. a key's), in the order given.
  RowJsonFormatter(const kiln_relation_desc &rel, std::vector<int32_t> columns);
  std::string format(const void *row) const;
  void appendTo(std::string &out, const void *row) const;
  // How every row starts (`{"first_column":`), or "" for a relation without columns.
  std::string_view commonPrefix() const {
    return keys_.empty() ? std::string_view() : std::string_view(keys_[0]);
  }

private:
  const kiln_relation_desc *rel_;
  std::vector<int32_t> columns_;  // the columns written, in order
  std::vector<std::string> keys_; // {"name":  then  ,"name":
  size_t keys_width_ = 0;         // the keys' bytes, and room for a NULL after each
};
// Appends `text` as a quoted JSON string.
void appendJsonString(std::string &out, std::string_view text);
// The same written at `p`, which has room for 6 * text.size() + 2 bytes; returns the end.
char *writeJsonString(char *p, std::string_view text);

// ---- Text input; leading and trailing whitespace is allowed, as in PostgreSQL ----

// PostgreSQL's boolean input: true/false, yes/no (or a prefix of either), on/off, 1/0, any case.
absl::StatusOr<bool> parseBool(std::string_view text);
absl::StatusOr<int32_t> parseInt32(std::string_view text);
absl::StatusOr<int64_t> parseInt64(std::string_view text);
absl::StatusOr<double> parseFloat64(std::string_view text); // also NaN, Infinity, -Infinity
// real and smallint columns are FLOAT64 and INT32 columns of precision 24 and 16 (the
// compiler's Type::real and Type::int16): a real is a double holding a float's value, a
// smallint an integer in smallint's range.
inline bool isRealColumn(const kiln_column_desc &col) {
  return col.type == KILN_T_FLOAT64 && col.precision == 24;
}
inline bool isSmallintColumn(const kiln_column_desc &col) {
  return col.type == KILN_T_INT32 && col.precision == 16;
}
// Text read as a real, rounded once to a float; beyond float's range PostgreSQL's error.
absl::StatusOr<double> parseReal(std::string_view text);
// A double (set_double) as a real: rounded, with float's range errors.
absl::StatusOr<double> narrowToReal(double value);
absl::StatusOr<int32_t> parseInt16(std::string_view text);
// The exact value times 10^scale, rounded half away from zero; at most `precision` digits.
absl::StatusOr<__int128> parseNumeric(std::string_view text, int32_t precision, int32_t scale);
absl::StatusOr<int32_t> parseDate(std::string_view text); // YYYY-MM-DD
// YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]]
absl::StatusOr<int64_t> parseTimestamp(std::string_view text);
// A timestamp and the zone it is in (kiln_split_zone: Z, UTC, +02, -05:30); none: the session's.
absl::StatusOr<int64_t> parseTimestampTz(std::string_view text);

// The session time zone of the program this process runs (kiln_program.session_zone, set by
// Engine::open): timestamptz values are formatted and parsed on its clock. nullptr: UTC. One per
// process, as a program's runtime is (a library's copy of the runtime is its own).
void setSessionZone(kiln_zone *zone);
kiln_zone *sessionZone();
// PostgreSQL's interval text ('1 day 02:00:00', '-1 days +02:00:00', '3 mons'), packed
// (kiln/runtime/interval.h).
absl::StatusOr<__int128> parseInterval(std::string_view text);
// Text read as a value of `col`'s type (not TEXT, JSONB or ARRAY) into `value` (storage of that
// type, as in a row), with the parse function of its type above.
absl::Status parseScalar(const kiln_column_desc &col, std::string_view text, void *value);

// ---- JSON rows ----

// Builds rows from JSON objects such as {"id":1,"amount":"12.50"}. Column names match exactly; a
// missing field or null is NULL; a field that is not a column is an error. Not-null constraints
// are left to checkNotNull, because a key-only delete legitimately omits columns.
class RowDecoder {
public:
  RowDecoder();
  ~RowDecoder();
  RowDecoder(const RowDecoder &) = delete;
  RowDecoder &operator=(const RowDecoder &) = delete;

  // Decodes `json` into `row` (rel.row_size bytes, zeroed by the caller); TEXT bytes are copied
  // into `strings`.
  absl::Status decode(const kiln_relation_desc &rel, std::string_view json, void *row,
                      Arena &strings);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fails with PostgreSQL's message for the first not_null column of `row` that is NULL.
absl::Status checkNotNull(const kiln_relation_desc &rel, const void *row);

} // namespace kiln::runtime
