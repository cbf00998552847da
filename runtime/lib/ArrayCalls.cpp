// The array calls of abi.h: arrays kept as PostgreSQL's text (kiln/runtime/ArrayText.h).
#include "Runtime.h"

#include <algorithm>
#include <cstring>

#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"
#include "kiln/runtime/Values.h"

namespace {

using kiln::array_text::Elements;

std::string_view view(const char *p, int64_t n) { return {p, static_cast<size_t>(n)}; }

// The canonical text of array text whose elements have the type `col` describes, or the error.
int32_t arrayIn(kiln_runtime *rt, std::string_view text, const kiln_column_desc &col,
                kiln_str *out) {
  std::string error;
  std::optional<Elements> elements = kiln::array_text::parse(text, error);
  if (!elements)
    return KILN_ERR_ARRAY_SYNTAX;
  absl::StatusOr<std::string> canonical = kiln::runtime::canonicalArray(*elements, col);
  if (!canonical.ok())
    return KILN_ERR_INVALID_TEXT_CAST;
  *out = kiln::runtime::scratchText(rt, *canonical);
  return 0;
}

} // namespace

extern "C" {

void kiln_array_in(kiln_runtime *rt, const char *p, int64_t n, int32_t element, int32_t precision,
                   int32_t scale, int32_t loc, kiln_str *out) {
  kiln_column_desc col{"", element, precision, scale, 0, 0, 0};
  if (int32_t error = arrayIn(rt, view(p, n), col, out))
    kiln_raise(rt, error, loc);
}

void kiln_array_build(kiln_runtime *rt, const kiln_str *parts, const uint8_t *nulls, int32_t n,
                      kiln_str *out) {
  std::string text = "{";
  for (int32_t i = 0; i < n; ++i) {
    if (i > 0)
      text += ',';
    if (nulls[i])
      text += kiln::array_text::kNull;
    else
      kiln::array_text::appendElement(text, view(parts[i].ptr, parts[i].len));
  }
  text += '}';
  *out = kiln::runtime::scratchText(rt, text);
}

void kiln_array_element(kiln_runtime *rt, const char *p, int64_t n, int32_t is_null,
                        kiln_str *out) {
  std::string text;
  if (is_null)
    text = kiln::array_text::kNull;
  else
    kiln::array_text::appendElement(text, view(p, n));
  *out = kiln::runtime::scratchText(rt, text);
}

int64_t kiln_array_length(const char *p, int64_t n) {
  return static_cast<int64_t>(kiln::array_text::elements(view(p, n)).size());
}

int32_t kiln_array_get(kiln_runtime *rt, const char *p, int64_t n, int64_t index, kiln_str *out) {
  Elements elements = kiln::array_text::elements(view(p, n));
  if (index < 1 || index > static_cast<int64_t>(elements.size()) ||
      !elements[static_cast<size_t>(index - 1)]) {
    *out = {nullptr, 0};
    return 0;
  }
  *out = kiln::runtime::scratchText(rt, *elements[static_cast<size_t>(index - 1)]);
  return 1;
}

void kiln_array_slice(kiln_runtime *rt, const char *p, int64_t n, int32_t lower, int32_t upper,
                      kiln_str *out) {
  std::string text = "{";
  size_t pos = 0;
  std::string element;
  bool is_null = false;
  for (int64_t index = 1;
       index <= upper && kiln::array_text::nextElement(view(p, n), pos, element, is_null);
       ++index) {
    if (index < lower)
      continue;
    if (text.size() > 1)
      text += ',';
    if (is_null)
      text += kiln::array_text::kNull;
    else
      kiln::array_text::appendElement(text, element);
  }
  text += '}';
  *out = kiln::runtime::scratchText(rt, text);
}

void kiln_array_to_string(kiln_runtime *rt, const char *p, int64_t n, const char *separator,
                          int64_t separator_length, const char *null_text, int64_t null_length,
                          int32_t has_null_text, kiln_str *out) {
  std::string text;
  bool first = true;
  for (const std::optional<std::string> &element : kiln::array_text::elements(view(p, n))) {
    if (!element && !has_null_text)
      continue; // NULLs are skipped without a text for them
    if (!first)
      text.append(separator, static_cast<size_t>(separator_length));
    first = false;
    if (element)
      text += *element;
    else
      text.append(null_text, static_cast<size_t>(null_length));
  }
  *out = kiln::runtime::scratchText(rt, text);
}

int32_t kiln_array_find(const char *p, int64_t n, const char *element, int64_t element_length) {
  bool nulls = false;
  for (const std::optional<std::string> &candidate : kiln::array_text::elements(view(p, n))) {
    if (!candidate)
      nulls = true;
    else if (*candidate == view(element, element_length))
      return 1;
  }
  return nulls ? -1 : 0;
}

int32_t kiln_array_contains(const char *p, int64_t n, const char *q, int64_t m, int32_t any) {
  // @> (every element of q is in p) and && (some element is in both); NULLs equal nothing.
  Elements have = kiln::array_text::elements(view(p, n));
  for (const std::optional<std::string> &wanted : kiln::array_text::elements(view(q, m))) {
    bool found = wanted && std::find(have.begin(), have.end(), wanted) != have.end();
    if (found && any)
      return 1;
    if (!found && !any)
      return 0;
  }
  return any ? 0 : 1;
}

void kiln_array_cat(kiln_runtime *rt, const char *p, int64_t n, const char *q, int64_t m,
                    kiln_str *out) {
  // Canonical texts: the elements of both between one pair of braces.
  std::string_view a = view(p, n), b = view(q, m);
  std::string text;
  if (a.size() <= 2)
    text = b;
  else if (b.size() <= 2)
    text = a;
  else
    text = std::string(a.substr(0, a.size() - 1)) + ',' + std::string(b.substr(1));
  *out = kiln::runtime::scratchText(rt, text);
}

int64_t kiln_array_position(const char *p, int64_t n, const char *element, int64_t length,
                            int32_t is_null) {
  Elements elements = kiln::array_text::elements(view(p, n));
  for (size_t i = 0; i < elements.size(); ++i)
    if (is_null ? !elements[i] : elements[i] && *elements[i] == view(element, length))
      return static_cast<int64_t>(i) + 1;
  return 0;
}

void kiln_array_remove(kiln_runtime *rt, const char *p, int64_t n, const char *element,
                       int64_t length, int32_t is_null, kiln_str *out) {
  std::string text = "{";
  for (const std::optional<std::string> &candidate : kiln::array_text::elements(view(p, n))) {
    if (is_null ? !candidate : candidate && *candidate == view(element, length))
      continue;
    if (text.size() > 1)
      text += ',';
    if (candidate)
      kiln::array_text::appendElement(text, *candidate);
    else
      text += kiln::array_text::kNull;
  }
  text += '}';
  *out = kiln::runtime::scratchText(rt, text);
}

void kiln_array_to_jsonb(kiln_runtime *rt, const char *p, int64_t n, int32_t element,
                         kiln_str *out) {
  int32_t error = 0;
  {
    absl::StatusOr<std::string> json =
        kiln::jsonb::normalize(kiln::runtime::arrayToJson(view(p, n), element));
    if (json.ok())
      *out = kiln::runtime::scratchText(rt, *json);
    else
      error = KILN_ERR_INVALID_JSON; // cannot happen: every element is valid JSON
  }
  if (error)
    kiln_raise(rt, error, -1);
}

void kiln_string_to_array(kiln_runtime *rt, const char *p, int64_t n, const char *delimiter,
                          int64_t delimiter_length, int32_t by_character, const char *null_text,
                          int64_t null_length, int32_t has_null_text, kiln_str *out) {
  std::string_view text = view(p, n), separator = view(delimiter, delimiter_length);
  std::string array = "{";
  auto add = [&](std::string_view piece) {
    if (array.size() > 1)
      array += ',';
    if (has_null_text && piece == view(null_text, null_length))
      array += kiln::array_text::kNull;
    else
      kiln::array_text::appendElement(array, piece);
  };
  if (text.empty()) {
    // No elements.
  } else if (by_character) { // a NULL delimiter: each (UTF-8) character
    for (size_t i = 0; i < text.size();) {
      size_t length = 1;
      while (i + length < text.size() &&
             (static_cast<unsigned char>(text[i + length]) & 0xC0) == 0x80)
        ++length;
      add(text.substr(i, length));
      i += length;
    }
  } else if (separator.empty()) {
    add(text);
  } else {
    for (size_t start = 0;;) {
      size_t at = text.find(separator, start);
      add(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
      if (at == std::string_view::npos)
        break;
      start = at + separator.size();
    }
  }
  array += '}';
  *out = kiln::runtime::scratchText(rt, array);
}

} // extern "C"
