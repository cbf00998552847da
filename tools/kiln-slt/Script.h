// Test files for kiln-slt: SQLite's sqllogictest records plus Kiln's streaming records.
//
//   statement ok|error          one SQL statement, up to a blank line
//   query <types> <sort> [label] SQL, "----", expected values (or "N values hashing to <md5>")
//   hash-threshold N
//   skipif|onlyif <db>          conditions on the next record; Kiln is the database "kiln"
//   halt                        ends the file (subject to conditions)
//   view NAME                   a maintained view: one SELECT up to a blank line
//   step [error [substring]]    DML statements applied as one tick, "----", the expected changes
//                               of every view: "<view> <+|-><weight> <values...>"
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kiln::slt {

enum class RecordKind { Statement, Query, HashThreshold, Halt, View, Step };

struct Record {
  RecordKind kind = RecordKind::Statement;
  int line = 0;                // 1-based line of the record's first line (its header)
  bool skip = false;           // excluded by skipif/onlyif
  bool expect_error = false;   // statement error, step error
  std::string error_substring; // step error <substring>
  std::string sql;             // the statement, query, view or step text (lines joined by '\n')
  uint32_t sql_offset = 0;     // where `sql` starts in the file text (for diagnostics)
  std::string types, sort_mode, label; // query
  std::string name;                    // view
  int threshold = 0;                   // hash-threshold
  bool has_results = false;            // a "----" line was present
  std::vector<std::string> expected;   // the lines after "----"
  // 0-based line indexes, for rewriting a step in place: [header, end) is the whole record, and
  // the SQL occupies [header + 1, sql_end).
  int header = 0, sql_end = 0, end = 0;
};

struct Script {
  std::string path;
  std::string text;               // with CRLF line ends normalized to LF
  std::vector<std::string> lines; // `text` split at '\n'
  std::vector<Record> records;
  bool streaming = false; // has view or step records
};

// Reads and splits a test file; nullopt with `error` ("path:line: message") if it is malformed.
std::optional<Script> readScript(const std::string &path, std::string &error);

// Writes the script's lines back, with `replacements` (record index -> new lines for the
// record's [header, end) range) applied.
bool writeScript(const Script &script,
                 const std::vector<std::pair<size_t, std::vector<std::string>>> &replacements,
                 std::string &error);

} // namespace kiln::slt
