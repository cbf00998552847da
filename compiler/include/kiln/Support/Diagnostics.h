// Source files, locations and located diagnostics.
//
// Every user-facing error in Kiln goes through DiagnosticEngine so that it names the file, line and
// column, shows the line with a caret under the whole token, and can add notes and a hint:
//
//   models/marts/revenue.sql:3:25: error: column "b" does not exist
//       select a, b from {{ ref('orders') }}
//                 ^
//   hint: did you mean "a"?
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

using FileId = int32_t;

struct SourceLoc {
  FileId file = -1;
  uint32_t offset = 0; // byte offset into the file's text
  bool valid() const { return file >= 0; }
};

struct SourceRange {
  SourceLoc begin;
  uint32_t length = 0; // bytes; 0 means "a point" (the caret covers one column)
  bool valid() const { return begin.valid(); }
};

struct LineCol {
  uint32_t line = 0;   // 1-based
  uint32_t column = 0; // 1-based, in bytes
};

// Owns the text of every file the compiler read, so diagnostics can quote lines.
class SourceManager {
public:
  FileId addFile(std::string path, std::string text);
  size_t fileCount() const { return files_.size(); }
  const std::string &path(FileId file) const;
  std::string_view text(FileId file) const;
  LineCol lineCol(SourceLoc loc) const;
  std::string_view lineText(SourceLoc loc) const; // the whole line containing loc, no newline
  // The location of a 1-based line and column (for tools such as YAML parsers that report those);
  // positions past the end clamp to the end of the file.
  SourceLoc locate(FileId file, LineCol position) const;
  // "path:line:col", or "<unknown>" for an invalid location.
  std::string describe(SourceLoc loc) const;

private:
  struct File {
    std::string path;
    std::string text;
    std::vector<uint32_t> line_starts;
  };
  std::vector<File> files_;
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceRange range;
  std::string message; // starts lower-case, no trailing period
  std::vector<std::pair<SourceRange, std::string>> notes;
  std::string hint; // what to do, if there is something useful to say
};

enum class DiagnosticFormat { Text, Json };

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sources) : sources_(sources) {}

  // Records a diagnostic; the returned reference may be used to add notes or a hint.
  Diagnostic &error(SourceRange range, std::string message);
  Diagnostic &warning(SourceRange range, std::string message);

  bool hasErrors() const { return error_count_ > 0; }
  size_t errorCount() const { return error_count_; }
  const std::vector<Diagnostic> &diagnostics() const { return diagnostics_; }

  // Text: the format shown above, one diagnostic after the other.
  // Json: one JSON object per line: {"severity","file","line","column","length","message","hint",
  // "notes":[{"file","line","column","message"}]}.
  void print(std::ostream &out, DiagnosticFormat format = DiagnosticFormat::Text) const;
  std::string render(const Diagnostic &diagnostic) const; // one diagnostic in text form

private:
  const SourceManager &sources_;
  std::vector<Diagnostic> diagnostics_;
  size_t error_count_ = 0;
};

// MLIR's -verify-diagnostics for Kiln's inputs: checks `diagnostics` against expectations written
// in comments of the files they point into (Jinja comments in models, `#` comments in YAML):
//
//   select amout from t  {# expected-error {{column "amout" does not exist}} #}
//   {# expected-error@+1 {{...}} #}     the next line; @-2 two lines up
//
// `expected-warning` and `expected-note` (matched against notes) work the same. An expectation
// is met by a diagnostic of its severity on its line whose message contains its text. Every
// unmet expectation and every diagnostic nothing expected is printed to `err` as a located
// error; returns true when there is none.
bool verifyDiagnostics(const SourceManager &sources, const std::vector<Diagnostic> &diagnostics,
                       std::ostream &err);

} // namespace kiln
