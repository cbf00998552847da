// The runtime object that generated code receives (kiln_runtime in abi.h).
#pragma once

#include <cstdint>

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

}  // namespace kiln::runtime

struct kiln_runtime {
  explicit kiln_runtime(kiln::runtime::RuntimeServices &services) : services(services) {}

  kiln::runtime::RuntimeServices &services;
  kiln::runtime::Arena interned;  // lives as long as the runtime
  kiln::runtime::Arena scratch;   // reset after every commit
};
