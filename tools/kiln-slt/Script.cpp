#include "Script.h"

#include <fstream>
#include <sstream>

namespace kiln::slt {
namespace {

std::vector<std::string> words(const std::string &line) {
  std::istringstream in(line);
  std::vector<std::string> result;
  for (std::string word; in >> word;)
    result.push_back(word);
  return result;
}

bool blank(const std::string &line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

} // namespace

std::optional<Script> readScript(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return std::nullopt;
  }
  Script script;
  script.path = path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  for (char c : buffer.str())
    if (c != '\r')
      script.text += c; // the evidence corpus has CRLF line ends
  std::vector<uint32_t> starts;
  for (size_t begin = 0; begin <= script.text.size();) {
    size_t end = script.text.find('\n', begin);
    if (end == std::string::npos)
      end = script.text.size();
    starts.push_back(static_cast<uint32_t>(begin));
    script.lines.push_back(script.text.substr(begin, end - begin));
    begin = end + 1;
  }
  const std::vector<std::string> &lines = script.lines;
  const int n = static_cast<int>(lines.size());
  auto fail = [&](int line, const std::string &message) {
    error = path + ":" + std::to_string(line + 1) + ": " + message;
    return std::nullopt;
  };
  // Lines from `i` up to a blank line or (if `stop_at_separator`) a "----" line.
  auto block = [&](int &i, bool stop_at_separator) {
    std::string text;
    while (i < n && !blank(lines[i]) && !(stop_at_separator && lines[i].rfind("----", 0) == 0))
      text += (text.empty() ? "" : "\n") + lines[i++];
    return text;
  };

  bool skip_next = false;
  for (int i = 0; i < n;) {
    const std::string &line = lines[i];
    if (blank(line) || line[0] == '#') {
      ++i;
      continue;
    }
    std::vector<std::string> head = words(line);
    const std::string &keyword = head[0];
    if (keyword == "skipif" || keyword == "onlyif") {
      if (head.size() < 2)
        return fail(i, keyword + " needs a database name");
      skip_next |= (keyword == "skipif") == (head[1] == "kiln");
      ++i;
      continue;
    }
    Record record;
    record.line = i + 1;
    record.header = i;
    record.skip = skip_next;
    skip_next = false;
    if (keyword == "halt") {
      if (!record.skip)
        break;
      ++i;
      continue;
    }
    if (keyword == "hash-threshold") {
      if (head.size() != 2)
        return fail(i, "hash-threshold needs a number");
      record.kind = RecordKind::HashThreshold;
      record.threshold = std::atoi(head[1].c_str());
      record.end = ++i;
      script.records.push_back(std::move(record));
      continue;
    }
    if (keyword == "statement") {
      if (head.size() < 2 || (head[1] != "ok" && head[1] != "error"))
        return fail(i, "expected 'statement ok' or 'statement error'");
      record.kind = RecordKind::Statement;
      record.expect_error = head[1] == "error";
    } else if (keyword == "query") {
      if (head.size() < 2)
        return fail(i, "query needs column types");
      record.kind = RecordKind::Query;
      record.types = head[1];
      record.sort_mode = head.size() > 2 ? head[2] : "nosort";
      if (record.sort_mode != "nosort" && record.sort_mode != "rowsort" &&
          record.sort_mode != "valuesort")
        return fail(i, "unknown sort mode '" + record.sort_mode + "'");
      if (head.size() > 3)
        record.label = head[3];
    } else if (keyword == "view") {
      if (head.size() != 2)
        return fail(i, "expected 'view NAME'");
      record.kind = RecordKind::View;
      record.name = head[1];
      script.streaming = true;
    } else if (keyword == "step") {
      record.kind = RecordKind::Step;
      script.streaming = true;
      if (head.size() > 1) {
        if (head[1] != "error")
          return fail(i, "expected 'step' or 'step error [message]'");
        record.expect_error = true;
        size_t at = line.find("error") + 5;
        size_t from = line.find_first_not_of(" \t", at);
        if (from != std::string::npos)
          record.error_substring = line.substr(from);
      }
    } else {
      return fail(i, "unknown record '" + keyword + "'");
    }
    ++i;
    record.sql_offset = i < n ? starts[i] : static_cast<uint32_t>(script.text.size());
    bool results = record.kind == RecordKind::Query || record.kind == RecordKind::Step;
    record.sql = block(i, results);
    record.sql_end = i;
    if (record.sql.empty() && record.kind != RecordKind::Step)
      return fail(record.header, "missing SQL");
    if (results && i < n && lines[i].rfind("----", 0) == 0) {
      record.has_results = true;
      ++i;
      while (i < n && !blank(lines[i]))
        record.expected.push_back(lines[i++]);
    }
    record.end = i;
    script.records.push_back(std::move(record));
  }
  return script;
}

bool writeScript(const Script &script,
                 const std::vector<std::pair<size_t, std::vector<std::string>>> &replacements,
                 std::string &error) {
  std::vector<std::string> lines = script.lines;
  // From the bottom up, so that earlier line indexes stay valid.
  for (auto it = replacements.rbegin(); it != replacements.rend(); ++it) {
    const Record &record = script.records[it->first];
    lines.erase(lines.begin() + record.header, lines.begin() + record.end);
    lines.insert(lines.begin() + record.header, it->second.begin(), it->second.end());
  }
  std::ofstream out(script.path, std::ios::binary | std::ios::trunc);
  for (size_t i = 0; i < lines.size(); ++i)
    out << lines[i] << (i + 1 < lines.size() ? "\n" : "");
  if (!out) {
    error = script.path + ": cannot write file";
    return false;
  }
  return true;
}

} // namespace kiln::slt
