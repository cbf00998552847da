// The services abi.h offers generated code.
#include "Runtime.h"

#include <cstdlib>

#include "kiln/runtime/Host.h"

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
  std::string_view text(ptr, static_cast<size_t>(len));
  auto it = rt->interned_set.find(text);
  if (it == rt->interned_set.end())
    it = rt->interned_set.insert(rt->interned.copy(text)).first;
  return {it->data(), static_cast<int64_t>(it->size())};
}

void *kiln_scratch(kiln_runtime *rt, int64_t size) {
  return rt->scratch.allocate(static_cast<size_t>(size), 16);
}

}  // extern "C"

namespace kiln::runtime {

std::span<const AbiSymbol> abiSymbols() {
#define KILN_SYMBOL(name) {#name, reinterpret_cast<void *>(&name)}
  static const AbiSymbol kSymbols[] = {
      KILN_SYMBOL(kiln_emit),       KILN_SYMBOL(kiln_raise),       KILN_SYMBOL(kiln_intern),
      KILN_SYMBOL(kiln_scratch),    KILN_SYMBOL(kiln_ht_create),   KILN_SYMBOL(kiln_ht_destroy),
      KILN_SYMBOL(kiln_ht_chain),   KILN_SYMBOL(kiln_ht_insert),   KILN_SYMBOL(kiln_ht_erase),
      KILN_SYMBOL(kiln_ht_size),    KILN_SYMBOL(kiln_ht_first),    KILN_SYMBOL(kiln_ht_next),
      KILN_SYMBOL(kiln_vec_create), KILN_SYMBOL(kiln_vec_destroy), KILN_SYMBOL(kiln_vec_push),
      KILN_SYMBOL(kiln_vec_size),   KILN_SYMBOL(kiln_vec_get),     KILN_SYMBOL(kiln_vec_clear),
      KILN_SYMBOL(kiln_ms_create),  KILN_SYMBOL(kiln_ms_destroy),  KILN_SYMBOL(kiln_ms_add),
      KILN_SYMBOL(kiln_ms_min),     KILN_SYMBOL(kiln_ms_max),
  };
#undef KILN_SYMBOL
  return kSymbols;
}

}  // namespace kiln::runtime
