// The services abi.h offers generated code.
#include <cstdlib>
#include "Runtime.h"

extern "C" {

void kiln_emit(kiln_runtime *rt, int32_t sink, const void *row, int64_t weight) {
  rt->services.emit(sink, row, weight);
}

void kiln_raise(kiln_runtime *rt, int32_t error_code, int32_t location) {
  rt->services.raise(error_code, location);
  // [[noreturn]] on a virtual function is not part of its type, so the compiler cannot see it.
  std::abort();
}

kiln_str kiln_intern(kiln_runtime *rt, const char *ptr, int64_t len) {
  std::string_view copy = rt->interned.copy({ptr, static_cast<size_t>(len)});
  return {copy.data(), static_cast<int64_t>(copy.size())};
}

void *kiln_scratch(kiln_runtime *rt, int64_t size) {
  return rt->scratch.allocate(static_cast<size_t>(size), 16);
}

}  // extern "C"
