#include "kiln/Support/Diagnostics.h"

#include <algorithm>
#include <cassert>

namespace kiln {

FileId SourceManager::addFile(std::string path, std::string text) {
  File file{std::move(path), std::move(text), {0}};
  for (uint32_t i = 0; i < file.text.size(); ++i)
    if (file.text[i] == '\n')
      file.line_starts.push_back(i + 1);
  files_.push_back(std::move(file));
  return static_cast<FileId>(files_.size() - 1);
}

const std::string &SourceManager::path(FileId file) const {
  assert(file >= 0 && static_cast<size_t>(file) < files_.size());
  return files_[file].path;
}

std::string_view SourceManager::text(FileId file) const {
  assert(file >= 0 && static_cast<size_t>(file) < files_.size());
  return files_[file].text;
}

LineCol SourceManager::lineCol(SourceLoc loc) const {
  if (!loc.valid())
    return {};
  const File &file = files_[loc.file];
  uint32_t offset = std::min<uint32_t>(loc.offset, file.text.size());
  // The last line start at or before the offset.
  auto next = std::upper_bound(file.line_starts.begin(), file.line_starts.end(), offset);
  uint32_t line = static_cast<uint32_t>(next - file.line_starts.begin());
  return {line, offset - file.line_starts[line - 1] + 1};
}

std::string_view SourceManager::lineText(SourceLoc loc) const {
  if (!loc.valid())
    return {};
  const File &file = files_[loc.file];
  LineCol position = lineCol(loc);
  uint32_t begin = file.line_starts[position.line - 1];
  size_t end = file.text.find('\n', begin);
  if (end == std::string::npos)
    end = file.text.size();
  if (end > begin && file.text[end - 1] == '\r')
    --end;
  return std::string_view(file.text).substr(begin, end - begin);
}

SourceLoc SourceManager::locate(FileId file, LineCol position) const {
  if (file < 0 || position.line == 0)
    return {file, 0};
  const File &f = files_[file];
  if (position.line > f.line_starts.size())
    return {file, static_cast<uint32_t>(f.text.size())};
  uint32_t offset = f.line_starts[position.line - 1] + (position.column ? position.column - 1 : 0);
  return {file, std::min<uint32_t>(offset, f.text.size())};
}

std::string SourceManager::describe(SourceLoc loc) const {
  if (!loc.valid())
    return "<unknown>";
  LineCol position = lineCol(loc);
  return path(loc.file) + ":" + std::to_string(position.line) + ":" +
         std::to_string(position.column);
}

} // namespace kiln
