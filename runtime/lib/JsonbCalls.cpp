// The jsonb calls of abi.h: kiln/runtime/Jsonb.h for generated code.
#include "Runtime.h"

#include <algorithm>
#include <cstring>

#include "kiln/runtime/Jsonb.h"

namespace {

std::string_view view(const char *p, int64_t n) { return {p, static_cast<size_t>(n)}; }

// `text` where generated code may keep it until the end of the tick.
kiln_str inScratch(kiln_runtime *rt, std::string_view text) {
  auto *copy = static_cast<char *>(kiln_scratch(rt, std::max<int64_t>(1, text.size())));
  std::memcpy(copy, text.data(), text.size());
  return {copy, static_cast<int64_t>(text.size())};
}

// A view into the argument: it lives as long as the argument does.
kiln_str slice(std::string_view part) { return {part.data(), static_cast<int64_t>(part.size())}; }

// text::jsonb into scratch memory, or the error to raise. The caller raises: kiln_raise does not
// return, so no C++ object (the canonical string) may be alive then.
int32_t jsonbIn(kiln_runtime *rt, std::string_view text, kiln_str *out) {
  absl::StatusOr<std::string> canonical = kiln::jsonb::normalize(text);
  if (!canonical.ok())
    return kiln::jsonb::isUnicodeEscapeError(canonical.status()) ? KILN_ERR_JSON_UNICODE_NUL
                                                                 : KILN_ERR_INVALID_JSON;
  *out = inScratch(rt, *canonical);
  return 0;
}

} // namespace

extern "C" {

void kiln_jsonb_in(kiln_runtime *rt, const char *p, int64_t n, int32_t loc, kiln_str *out) {
  if (int32_t error = jsonbIn(rt, view(p, n), out))
    kiln_raise(rt, error, loc);
}

int32_t kiln_jsonb_get(kiln_runtime *, const char *p, int64_t n, const char *key, int64_t key_len,
                       int64_t index, int32_t mode, kiln_str *out) {
  std::string_view value = view(p, n);
  std::optional<std::string_view> found =
      mode == 0   ? kiln::jsonb::objectField(value, view(key, key_len))
      : mode == 1 ? kiln::jsonb::arrayElement(value, index)
                  : kiln::jsonb::pathStep(value, view(key, key_len));
  *out = found ? slice(*found) : kiln_str{nullptr, 0};
  return found.has_value();
}

int32_t kiln_jsonb_text(kiln_runtime *rt, const char *p, int64_t n, kiln_str *out) {
  std::string unescaped;
  std::optional<std::string_view> text = kiln::jsonb::text(view(p, n), unescaped);
  if (!text) {
    *out = {nullptr, 0};
    return 0;
  }
  *out = text->data() == unescaped.data() ? inScratch(rt, *text) : slice(*text);
  return 1;
}

void kiln_jsonb_typeof(kiln_runtime *, const char *p, int64_t n, kiln_str *out) {
  *out = slice(kiln::jsonb::kindName(kiln::jsonb::kindOf(view(p, n)))); // a static string
}

int64_t kiln_jsonb_array_length(kiln_runtime *rt, const char *p, int64_t n, int32_t loc) {
  std::string_view value = view(p, n);
  if (std::optional<int64_t> length = kiln::jsonb::arrayLength(value))
    return *length;
  kiln_raise(rt,
             kiln::jsonb::kindOf(value) == kiln::jsonb::Kind::Object
                 ? KILN_ERR_JSONB_LENGTH_OF_OBJECT
                 : KILN_ERR_JSONB_LENGTH_OF_SCALAR,
             loc);
  return 0;
}

int32_t kiln_jsonb_exists(const char *p, int64_t n, const char *key, int64_t key_len) {
  return kiln::jsonb::exists(view(p, n), view(key, key_len));
}

int32_t kiln_jsonb_contains(const char *p, int64_t n, const char *part, int64_t part_len) {
  return kiln::jsonb::contains(view(p, n), view(part, part_len));
}

void kiln_jsonb_expect(kiln_runtime *rt, const char *p, int64_t n, int32_t kind, int32_t loc) {
  kiln::jsonb::Kind is = kiln::jsonb::kindOf(view(p, n));
  if (is != (kind == 0 ? kiln::jsonb::Kind::Number : kiln::jsonb::Kind::Boolean))
    kiln_raise(rt, KILN_ERR_JSONB_CAST, loc);
}

} // extern "C"
