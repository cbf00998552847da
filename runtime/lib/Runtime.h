// The runtime object that generated code receives (kiln_runtime in abi.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "Journal.h"
#include "absl/container/flat_hash_set.h"
#include "kiln/runtime/Arena.h"
#include "kiln/runtime/abi.h"

namespace kiln::runtime {

// What generated code's emits and errors go to: the Host.
class RuntimeServices {
public:
  virtual void emit(int32_t sink, const void *row, int64_t weight) = 0;
  [[noreturn]] virtual void raise(int32_t error_code, int32_t location) = 0;

protected:
  ~RuntimeServices() = default;
};

} // namespace kiln::runtime

struct kiln_runtime {
  explicit kiln_runtime(kiln::runtime::RuntimeServices &services) : services(services) {}

  kiln::runtime::RuntimeServices &services;
  // Strings kept in operator state, each distinct one stored once: state memory grows with the
  // distinct strings seen, not with the changes that store and retract them again and again.
  kiln::runtime::Arena interned;                      // lives as long as the runtime
  absl::flat_hash_set<std::string_view> interned_set; // views into `interned`
  kiln::runtime::Arena scratch;                       // reset after every commit
  // Strings one entry owns (kiln_text_keep), freed at the end of the tick they are released in.
  std::vector<char *> released_text;
  int64_t kept_text_bytes = 0; // held by entries now
  // Every change to operator state in the running tick, to undo it after a SQL runtime error.
  kiln::runtime::detail::Journal journal;
  // Constant operators whose rows the host replaced (kiln_constant_enabled).
  absl::flat_hash_set<int32_t> disabled_constants;

  // Frees the strings released in the tick that just ended.
  void freeReleasedText() {
    for (char *text : released_text)
      delete[] text;
    released_text.clear();
  }
  ~kiln_runtime() { freeReleasedText(); }
};

namespace kiln::runtime {

// A copy of `text` in the tick's scratch memory, where generated code may keep a result until
// the tick ends.
inline kiln_str scratchText(kiln_runtime *rt, std::string_view text) {
  auto *copy =
      static_cast<char *>(kiln_scratch(rt, text.empty() ? 1 : static_cast<int64_t>(text.size())));
  std::memcpy(copy, text.data(), text.size());
  return {copy, static_cast<int64_t>(text.size())};
}

} // namespace kiln::runtime
