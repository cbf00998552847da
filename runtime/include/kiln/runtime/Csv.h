// CSV as dbt seeds are written (RFC 4180), read by the compiler (seeds, unit tests' CSV rows) and
// by the runtime (a seed's rows replaced at run time, --seed): header-only, so that the runtime
// depends on nothing of the compiler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::csv {

struct Field {
  std::string text;
  bool quoted = false;
};

// A row's fields and the bytes it spans in the text (for locating errors).
struct Row {
  std::vector<Field> fields;
  uint32_t begin = 0, end = 0;
};

// Fields separated by commas, optionally double-quoted (a quote doubled inside); a quoted field
// may hold commas and line breaks; CRLF or LF ends a row; blank lines are skipped. Returns false,
// with `error_at` at its opening quote, for a quoted field that is never closed.
inline bool parse(std::string_view text, std::vector<Row> &rows, uint32_t &error_at) {
  size_t at = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    at = 3; // a UTF-8 byte order mark
  while (at < text.size()) {
    Row row;
    row.begin = static_cast<uint32_t>(at);
    while (true) {
      Field field;
      if (at < text.size() && text[at] == '"') {
        field.quoted = true;
        size_t open = at++;
        while (true) {
          if (at >= text.size()) {
            error_at = static_cast<uint32_t>(open);
            return false;
          }
          if (text[at] == '"') {
            if (at + 1 < text.size() && text[at + 1] == '"') {
              field.text += '"';
              at += 2;
              continue;
            }
            ++at;
            break;
          }
          field.text += text[at++];
        }
        while (at < text.size() && text[at] != ',' && text[at] != '\n' && text[at] != '\r')
          field.text += text[at++]; // text after the closing quote, kept as it is
      } else {
        while (at < text.size() && text[at] != ',' && text[at] != '\n' && text[at] != '\r')
          field.text += text[at++];
      }
      row.fields.push_back(std::move(field));
      if (at < text.size() && text[at] == ',') {
        ++at;
        continue;
      }
      break;
    }
    row.end = static_cast<uint32_t>(at);
    if (at < text.size() && text[at] == '\r')
      ++at;
    if (at < text.size() && text[at] == '\n')
      ++at;
    bool blank = row.fields.size() == 1 && row.fields[0].text.empty() && !row.fields[0].quoted;
    if (!blank)
      rows.push_back(std::move(row));
  }
  return true;
}

// dbt's NULL in a seed (agate's null values): an empty field or `null`, unless quoted.
inline bool isNull(const Field &field) {
  return !field.quoted && (field.text.empty() || field.text == "null");
}

} // namespace kiln::csv
