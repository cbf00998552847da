// The files a host writes (sinks, dead letters): opened empty, or cut back to the length a
// checkpoint recorded and written on from there; writes that fail throw.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace kiln::runtime::detail {

struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
using OwnedFile = std::unique_ptr<std::FILE, FileCloser>;

// `path` opened with `fresh_mode` ("w", "a"), or, if `resume_lengths` has it (a run resumed from a
// checkpoint), cut back to that length and positioned at its end. Throws std::runtime_error.
OwnedFile openOutput(const std::string &path, const char *fresh_mode,
                     const std::map<std::string, int64_t> &resume_lengths);

// Writes all of `bytes`; throws std::runtime_error naming `what` if it cannot.
void writeBytes(std::FILE *file, std::string_view bytes, std::string_view what);

} // namespace kiln::runtime::detail
