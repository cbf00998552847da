#include "kiln/Support/Diagnostics.h"

#include <ostream>
#include <regex>

namespace kiln {

namespace {

struct Expectation {
  Severity severity;
  FileId file;
  uint32_t line;         // where the diagnostic must be
  uint32_t comment_line; // where the expectation is written
  std::string text;
  bool met = false;
};

const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "?";
}

std::vector<Expectation> parseExpectations(const SourceManager &sources, FileId file,
                                           std::vector<std::string> &problems) {
  static const std::regex pattern(
      R"(expected-(error|warning|note)(@([+-]?[0-9]+))?\s*\{\{(.*?)\}\})");
  std::vector<Expectation> found;
  std::string_view text = sources.text(file);
  uint32_t line = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    std::string current(text.substr(start, end - start));
    for (auto it = std::sregex_iterator(current.begin(), current.end(), pattern);
         it != std::sregex_iterator(); ++it) {
      const std::smatch &m = *it;
      Severity severity = m[1] == "error"     ? Severity::Error
                          : m[1] == "warning" ? Severity::Warning
                                              : Severity::Note;
      int64_t target = line;
      if (m[3].matched) {
        std::string offset = m[3];
        target =
            offset[0] == '+' || offset[0] == '-' ? line + std::stoll(offset) : std::stoll(offset);
      }
      if (target < 1) {
        problems.push_back(sources.path(file) + ":" + std::to_string(line) +
                           ": error: expectation points before the first line");
        continue;
      }
      found.push_back({severity, file, static_cast<uint32_t>(target), line, m[4], false});
    }
    start = end + 1;
    ++line;
  }
  return found;
}

} // namespace

bool verifyDiagnostics(const SourceManager &sources, const std::vector<Diagnostic> &diagnostics,
                       std::ostream &err) {
  std::vector<std::string> problems;
  std::vector<Expectation> expectations;
  for (FileId file = 0; file < static_cast<FileId>(sources.fileCount()); ++file)
    for (Expectation &e : parseExpectations(sources, file, problems))
      expectations.push_back(std::move(e));

  // Meets the first unmet expectation of `severity` on the diagnostic's line that matches it.
  auto meet = [&](Severity severity, SourceRange range, const std::string &message) {
    if (range.valid()) {
      uint32_t line = sources.lineCol(range.begin).line;
      for (Expectation &e : expectations) {
        if (e.met || e.severity != severity || e.file != range.begin.file || e.line != line)
          continue;
        if (message.find(e.text) == std::string::npos)
          continue;
        e.met = true;
        return;
      }
    }
    problems.push_back(sources.describe(range.begin) + ": error: unexpected " +
                       severityName(severity) + ": " + message);
  };
  for (const Diagnostic &d : diagnostics) {
    meet(d.severity, d.range, d.message);
    for (const auto &[range, note] : d.notes)
      meet(Severity::Note, range, note);
  }
  for (const Expectation &e : expectations)
    if (!e.met)
      problems.push_back(sources.path(e.file) + ":" + std::to_string(e.comment_line) +
                         ": error: expected " + severityName(e.severity) + " on line " +
                         std::to_string(e.line) + " was not produced: " + e.text);
  for (const std::string &problem : problems)
    err << problem << "\n";
  return problems.empty();
}

} // namespace kiln
