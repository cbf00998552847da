// String helpers for the runtime's std::string_view code.
//
// Debian's Abseil is built with its own absl::string_view class (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), so std::string_view does not convert to the parameters of absl::StrCat, absl::StartsWith
// and friends. The runtime uses absl::StrFormat (which takes both) for messages, C++20's
// starts_with/ends_with, and these helpers.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace kiln::runtime::detail {

inline absl::string_view toAbsl(std::string_view text) { return {text.data(), text.size()}; }

// Without leading and trailing ASCII whitespace (what PostgreSQL's input functions skip).
inline std::string_view stripWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == text.npos)
    return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

} // namespace kiln::runtime::detail
