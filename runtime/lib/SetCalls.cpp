// The set-returning functions' stepping (abi.h, kiln_set_next): an unnest operator asks for one
// element at a time, so a row's elements are read once and none is kept between rows.
#include "Runtime.h"

#include <string>

#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"

namespace {

std::string_view view(const char *p, int64_t n) { return {p, static_cast<size_t>(n)}; }

// A text that may live in `scratch` (a local string) as a kiln_str that outlives it.
kiln_str keep(kiln_runtime *rt, std::string_view text, const std::string &scratch) {
  bool in_scratch = !scratch.empty() && text.data() == scratch.data();
  return in_scratch ? kiln::runtime::scratchText(rt, text)
                    : kiln_str{text.data(), static_cast<int64_t>(text.size())};
}

// A jsonb value's text as ->> reads it (out, or NULL).
void jsonbText(kiln_runtime *rt, std::string_view value, kiln_str &out, uint8_t &null) {
  std::string scratch;
  std::optional<std::string_view> text = kiln::jsonb::text(value, scratch);
  null = !text;
  out = text ? keep(rt, *text, scratch) : kiln_str{nullptr, 0};
}

} // namespace

extern "C" int32_t kiln_set_next(kiln_runtime *rt, int32_t fn, const char *p, int64_t n,
                                 int64_t *cursor, kiln_str *out, uint8_t *nulls, int32_t loc) {
  nulls[0] = nulls[1] = 0;
  if (fn == KILN_SET_JSONB_TO_RECORD) { // one row: the object (or NULL), checked
    if (*cursor != 0)
      return 0;
    *cursor = 1;
    if (n < 0) {
      nulls[0] = 1;
      return 1;
    }
    kiln::jsonb::Kind kind = kiln::jsonb::kindOf(view(p, n));
    if (kind == kiln::jsonb::Kind::Array)
      kiln_raise(rt, KILN_ERR_RECORD_OF_ARRAY, loc);
    if (kind != kiln::jsonb::Kind::Object)
      kiln_raise(rt, KILN_ERR_RECORD_OF_SCALAR, loc);
    out[0] = {p, n};
    return 1;
  }
  std::string_view text = view(p, n);
  size_t pos = static_cast<size_t>(*cursor);
  if (fn == KILN_SET_UNNEST) {
    std::string element;
    bool is_null = false;
    if (!kiln::array_text::nextElement(text, pos, element, is_null))
      return 0;
    *cursor = static_cast<int64_t>(pos);
    nulls[0] = is_null;
    out[0] = is_null ? kiln_str{nullptr, 0} : kiln::runtime::scratchText(rt, element);
    return 1;
  }
  if (pos == 0) { // the value's kind is checked once, before its first member
    kiln::jsonb::Kind kind = kiln::jsonb::kindOf(text);
    if (fn == KILN_SET_JSONB_TO_RECORDSET && kind != kiln::jsonb::Kind::Array)
      kiln_raise(rt, KILN_ERR_RECORDSET_OF_NON_ARRAY, loc);
    bool elements = fn == KILN_SET_JSONB_ARRAY_ELEMENTS ||
                    fn == KILN_SET_JSONB_ARRAY_ELEMENTS_TEXT || fn == KILN_SET_JSONB_TO_RECORDSET;
    if (elements && kind == kiln::jsonb::Kind::Object)
      kiln_raise(rt, KILN_ERR_JSONB_ELEMENTS_OF_OBJECT, loc);
    if (elements && kind != kiln::jsonb::Kind::Array)
      kiln_raise(rt, KILN_ERR_JSONB_ELEMENTS_OF_SCALAR, loc);
    if (!elements && kind != kiln::jsonb::Kind::Object)
      kiln_raise(rt, KILN_ERR_JSONB_FIELDS_OF_NON_OBJECT, loc);
  }
  std::string_view key, value;
  if (!kiln::jsonb::nextMember(text, pos, key, value))
    return 0;
  *cursor = static_cast<int64_t>(pos);
  switch (fn) {
  case KILN_SET_JSONB_TO_RECORDSET:
    if (kiln::jsonb::kindOf(value) != kiln::jsonb::Kind::Object)
      kiln_raise(rt, KILN_ERR_RECORDSET_OF_NON_OBJECTS, loc);
    out[0] = {value.data(), static_cast<int64_t>(value.size())};
    break;
  case KILN_SET_JSONB_ARRAY_ELEMENTS:
    out[0] = {value.data(), static_cast<int64_t>(value.size())};
    break;
  case KILN_SET_JSONB_ARRAY_ELEMENTS_TEXT:
    jsonbText(rt, value, out[0], nulls[0]);
    break;
  case KILN_SET_JSONB_EACH:
    jsonbText(rt, key, out[0], nulls[0]);
    out[1] = {value.data(), static_cast<int64_t>(value.size())};
    break;
  case KILN_SET_JSONB_EACH_TEXT:
    jsonbText(rt, key, out[0], nulls[0]);
    jsonbText(rt, value, out[1], nulls[1]);
    break;
  default: // KILN_SET_JSONB_OBJECT_KEYS
    jsonbText(rt, key, out[0], nulls[0]);
    break;
  }
  return 1;
}
