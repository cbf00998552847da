#include "kiln/Support/Diagnostics.h"

#include <cstdio>
#include <ostream>

namespace kiln {
namespace {

const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

bool isContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The line under the quoted source line: the line's own tabs are kept so the caret lines up however
// the terminal expands them, and UTF-8 continuation bytes take no column.
std::string caretLine(std::string_view line, uint32_t column, uint32_t length) {
  size_t begin = std::min<size_t>(column - 1, line.size());
  std::string out;
  for (size_t i = 0; i < begin; ++i) {
    if (line[i] == '\t')
      out += '\t';
    else if (!isContinuationByte(line[i]))
      out += ' ';
  }
  out += '^';
  size_t end = std::min<size_t>(begin + length, line.size());
  for (size_t i = begin + 1; i < end; ++i)
    if (!isContinuationByte(line[i]))
      out += '~';
  return out;
}

// "path:line:col: severity: message", then the line and the caret when the range is valid.
void renderLocated(std::string &out, const SourceManager &sources, SourceRange range,
                   Severity severity, const std::string &message) {
  if (range.valid())
    out += sources.describe(range.begin) + ": ";
  out += severityName(severity);
  out += ": " + message + "\n";
  if (!range.valid())
    return;
  std::string_view line = sources.lineText(range.begin);
  out.append(line);
  out += '\n';
  out += caretLine(line, sources.lineCol(range.begin).column, range.length) + "\n";
}

void appendJsonString(std::string &out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
        out += escaped;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

// "file":...,"line":...,"column":... for a range (empty file and zeros when it has no location).
void appendJsonLocation(std::string &out, const SourceManager &sources, SourceRange range) {
  LineCol position = sources.lineCol(range.begin);
  out += "\"file\":";
  appendJsonString(out, range.valid() ? sources.path(range.begin.file) : "");
  out += ",\"line\":" + std::to_string(position.line);
  out += ",\"column\":" + std::to_string(position.column);
}

} // namespace

Diagnostic &DiagnosticEngine::error(SourceRange range, std::string message) {
  ++error_count_;
  return diagnostics_.emplace_back(Diagnostic{Severity::Error, range, std::move(message), {}, {}});
}

Diagnostic &DiagnosticEngine::warning(SourceRange range, std::string message) {
  return diagnostics_.emplace_back(
      Diagnostic{Severity::Warning, range, std::move(message), {}, {}});
}

std::string DiagnosticEngine::render(const Diagnostic &diagnostic) const {
  std::string out;
  renderLocated(out, sources_, diagnostic.range, diagnostic.severity, diagnostic.message);
  for (const auto &[range, message] : diagnostic.notes)
    renderLocated(out, sources_, range, Severity::Note, message);
  if (!diagnostic.hint.empty())
    out += "hint: " + diagnostic.hint + "\n";
  return out;
}

void DiagnosticEngine::print(std::ostream &out, DiagnosticFormat format) const {
  for (const Diagnostic &diagnostic : diagnostics_) {
    if (format == DiagnosticFormat::Text) {
      out << render(diagnostic);
      continue;
    }
    std::string json = "{\"severity\":";
    appendJsonString(json, severityName(diagnostic.severity));
    json += ',';
    appendJsonLocation(json, sources_, diagnostic.range);
    json += ",\"length\":" + std::to_string(diagnostic.range.length);
    json += ",\"message\":";
    appendJsonString(json, diagnostic.message);
    json += ",\"hint\":";
    appendJsonString(json, diagnostic.hint);
    json += ",\"notes\":[";
    for (size_t i = 0; i < diagnostic.notes.size(); ++i) {
      const auto &[range, message] = diagnostic.notes[i];
      json += i ? ",{" : "{";
      appendJsonLocation(json, sources_, range);
      json += ",\"message\":";
      appendJsonString(json, message);
      json += '}';
    }
    out << json << "]}\n";
  }
}

} // namespace kiln
