// The services abi.h offers generated code.
#include "Runtime.h"

#include "Containers.h"

#include <cstdlib>
#include <cstring>

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

// A kept string's length is stored before its bytes, so that releasing it can count it.
kiln_str kiln_text_keep(kiln_runtime *rt, const char *ptr, int64_t len) {
  if (len == 0)
    return {nullptr, 0};
  char *block = new char[sizeof(int64_t) + static_cast<size_t>(len)];
  std::memcpy(block, &len, sizeof len);
  std::memcpy(block + sizeof len, ptr, static_cast<size_t>(len));
  rt->kept_text_bytes += len;
  if (rt->journal.recording())
    rt->journal.textKept(rt, block);
  return {block + sizeof len, len};
}

void kiln_text_release(kiln_runtime *rt, const char *ptr) {
  if (ptr == nullptr)
    return;
  char *block = const_cast<char *>(ptr) - sizeof(int64_t);
  int64_t len;
  std::memcpy(&len, block, sizeof len);
  rt->kept_text_bytes -= len;
  rt->released_text.push_back(block);
  if (rt->journal.recording())
    rt->journal.textReleased(rt);
}

void *kiln_scratch(kiln_runtime *rt, int64_t size) {
  return rt->scratch.allocate(static_cast<size_t>(size), 16);
}

int32_t kiln_constant_enabled(kiln_runtime *rt, int32_t op) {
  return rt->disabled_constants.contains(op) ? 0 : 1;
}

} // extern "C"

namespace kiln::runtime::detail {

Journal *journalOf(kiln_runtime *rt) { return rt != nullptr ? &rt->journal : nullptr; }

void freeKeptText(kiln_runtime *rt, char *block) {
  int64_t len;
  std::memcpy(&len, block, sizeof len);
  rt->kept_text_bytes -= len;
  delete[] block;
}

void unreleaseLastText(kiln_runtime *rt) {
  char *block = rt->released_text.back();
  rt->released_text.pop_back();
  int64_t len;
  std::memcpy(&len, block, sizeof len);
  rt->kept_text_bytes += len;
}

} // namespace kiln::runtime::detail

namespace kiln::runtime {

std::span<const AbiSymbol> abiSymbols() {
#define KILN_SYMBOL(name) {#name, reinterpret_cast<void *>(&name)}
  static const AbiSymbol kSymbols[] = {
#define KILN_RUNTIME_CALL(name, ...) KILN_SYMBOL(name),
#include "kiln/runtime/calls.def"
      KILN_SYMBOL(kiln_ht_size),
  };
#undef KILN_SYMBOL
  return kSymbols;
}

} // namespace kiln::runtime
