#include "OutputFile.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kiln::runtime::detail {

namespace {
OwnedFile openFile(const std::string &path, const char *mode) {
  OwnedFile file(std::fopen(path.c_str(), mode));
  if (file == nullptr)
    throw std::runtime_error(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  return file;
}
} // namespace

OwnedFile openOutput(const std::string &path, const char *fresh_mode,
                     const std::map<std::string, int64_t> &resume_lengths) {
  auto resumed = resume_lengths.find(path);
  if (resumed == resume_lengths.end())
    return openFile(path, fresh_mode);
  OwnedFile file = openFile(path, "r+");
  if (::ftruncate(::fileno(file.get()), resumed->second) != 0 ||
      std::fseek(file.get(), 0, SEEK_END) != 0)
    throw std::runtime_error(absl::StrCat("cannot cut ", path, " back to ", resumed->second,
                                          " bytes: ", std::strerror(errno)));
  return file;
}

void writeBytes(std::FILE *file, std::string_view bytes, std::string_view what) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size())
    throw std::runtime_error(
        absl::StrFormat("cannot write output of %s: %s", what, std::strerror(errno)));
}

} // namespace kiln::runtime::detail
