// The jsonb calls of abi.h: kiln/runtime/Jsonb.h for generated code.
#include "Runtime.h"

#include <algorithm>
#include <cstring>

#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"

namespace {

std::string_view view(const char *p, int64_t n) { return {p, static_cast<size_t>(n)}; }

// A view into the argument: it lives as long as the argument does.
kiln_str slice(std::string_view part) { return {part.data(), static_cast<int64_t>(part.size())}; }

// text::jsonb into scratch memory, or the error to raise. The caller raises: kiln_raise does not
// return, so no C++ object (the canonical string) may be alive then.
int32_t jsonbIn(kiln_runtime *rt, std::string_view text, kiln_str *out) {
  absl::StatusOr<std::string> canonical = kiln::jsonb::normalize(text);
  if (!canonical.ok())
    return kiln::jsonb::isUnicodeEscapeError(canonical.status()) ? KILN_ERR_JSON_UNICODE_NUL
                                                                 : KILN_ERR_INVALID_JSON;
  *out = kiln::runtime::scratchText(rt, *canonical);
  return 0;
}

// An argument of to_jsonb and the builders as JSON text (kiln_jsonb_part), as PostgreSQL's
// datum_to_jsonb writes it.
void appendPart(std::string &json, std::string_view text, uint8_t kind) {
  switch (kind) {
  case KILN_JSONB_PART_JSON:
    json += text;
    return;
  case KILN_JSONB_PART_FLOAT:
    if (text == "NaN" || text == "Infinity" || text == "-Infinity")
      kiln::jsonb::appendQuoted(json, text);
    else
      json += text;
    return;
  case KILN_JSONB_PART_TIMESTAMP:
  case KILN_JSONB_PART_TIMESTAMPTZ: {
    std::string iso(text);
    size_t blank = iso.find(' ');
    if (blank != std::string::npos)
      iso[blank] = 'T';
    // The offset after the time of day (+01, -03:30, +00:09:21) with its minutes: +01:00.
    size_t sign = kind == KILN_JSONB_PART_TIMESTAMPTZ ? iso.find_first_of("+-", blank) : iso.npos;
    if (sign != std::string::npos) {
      size_t end = iso.find(' ', sign);
      size_t digits = (end == std::string::npos ? iso.size() : end) - sign - 1;
      if (digits == 2)
        iso.insert(sign + 3, ":00");
    }
    kiln::jsonb::appendQuoted(json, iso);
    return;
  }
  default:
    kiln::jsonb::appendQuoted(json, text);
  }
}

} // namespace

extern "C" {

void kiln_jsonb_build(kiln_runtime *rt, int32_t shape, const kiln_str *parts, const uint8_t *kinds,
                      const uint8_t *nulls, int32_t n, int32_t loc, kiln_str *out) {
  int32_t error = 0;
  {
    std::string json;
    if (shape == 1)
      json += '[';
    else if (shape == 2)
      json += '{';
    bool member = shape == 3; // jsonb_object_agg's `"key": value`: its parts are canonical
    for (int32_t i = 0; i < n && !error; ++i) {
      bool key = (shape == 2 || member) && i % 2 == 0;
      if (i > 0)
        json += key || shape == 1 ? ", " : ": ";
      if (nulls[i]) {
        if (key)
          error = member ? KILN_ERR_JSONB_NULL_FIELD_NAME : KILN_ERR_JSONB_NULL_KEY;
        json += "null";
        continue;
      }
      appendPart(json, view(parts[i].ptr, parts[i].len),
                 key ? static_cast<uint8_t>(KILN_JSONB_PART_STRING) : kinds[i]);
    }
    if (shape == 1)
      json += ']';
    else if (shape == 2)
      json += '}';
    if (member && !error)
      *out = kiln::runtime::scratchText(rt, json);
    else if (!error) // canonical form: an object's keys sorted, a duplicate keeping its last value
      error = jsonbIn(rt, json, out);
  }
  if (error)
    kiln_raise(rt, error, loc);
}

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
  *out = text->data() == unescaped.data() ? kiln::runtime::scratchText(rt, *text) : slice(*text);
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

int32_t kiln_jsonb_exists_array(const char *p, int64_t n, const char *keys, int64_t keys_len,
                                int32_t all) {
  std::string_view value = view(p, n), array = view(keys, keys_len);
  std::string key;
  bool is_null = false;
  for (size_t pos = 0; kiln::array_text::nextElement(array, pos, key, is_null);) {
    if (is_null)
      continue;
    if (kiln::jsonb::exists(value, key) != static_cast<bool>(all))
      return !all; // ?| found one; ?& missed one
  }
  return all;
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
