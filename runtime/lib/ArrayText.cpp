// Array text as PostgreSQL's array_in reads it and array_out writes it (ArrayText.h).
#include "kiln/runtime/ArrayText.h"

namespace kiln::array_text {

namespace {

// array_isspace: the white space array_in skips and array_out quotes.
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool spellsNull(std::string_view text) {
  if (text.size() != 4)
    return false;
  for (size_t i = 0; i < 4; ++i)
    if ((text[i] | 0x20) != "null"[i])
      return false;
  return true;
}

} // namespace

void appendElement(std::string &out, std::string_view element) {
  bool quote = element.empty() || spellsNull(element);
  for (char c : element)
    quote = quote || c == '{' || c == '}' || c == ',' || c == '"' || c == '\\' || isSpace(c);
  if (!quote) {
    out += element;
    return;
  }
  out += '"';
  for (char c : element) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
}

std::optional<Elements> parse(std::string_view text, std::string &error) {
  size_t i = 0, n = text.size();
  auto skipSpace = [&] {
    while (i < n && isSpace(text[i]))
      ++i;
  };
  skipSpace();
  if (i < n && text[i] == '[') {
    error = "Kiln's arrays have one dimension and no bounds decoration";
    return std::nullopt;
  }
  if (i >= n || text[i] != '{') {
    error = "Array value must start with \"{\" or dimension information.";
    return std::nullopt;
  }
  ++i;
  Elements elements;
  skipSpace();
  if (i < n && text[i] == '}') {
    ++i;
  } else {
    for (;;) {
      skipSpace();
      if (i >= n) {
        error = "Unexpected end of input.";
        return std::nullopt;
      }
      if (text[i] == '{') {
        error = "Kiln's arrays have one dimension: nested braces are not supported";
        return std::nullopt;
      }
      std::string element;
      bool quoted = false, escaped = false;
      if (text[i] == '"') {
        quoted = true;
        ++i;
        for (;;) {
          if (i >= n) {
            error = "Unexpected end of input.";
            return std::nullopt;
          }
          char c = text[i++];
          if (c == '"')
            break;
          if (c == '\\') {
            if (i >= n) {
              error = "Unexpected end of input.";
              return std::nullopt;
            }
            c = text[i++];
          }
          element += c;
        }
        skipSpace();
      } else {
        // Up to a comma or the closing brace; trailing white space is not the element's unless
        // escaped.
        size_t kept = 0;
        while (i < n && text[i] != ',' && text[i] != '}') {
          char c = text[i++];
          if (c == '"' || c == '{') {
            error = "Unexpected \"" + std::string(1, c) + "\" character.";
            return std::nullopt;
          }
          if (c == '\\') {
            if (i >= n) {
              error = "Unexpected end of input.";
              return std::nullopt;
            }
            element += text[i++];
            kept = element.size();
            escaped = true;
            continue;
          }
          element += c;
          if (!isSpace(c))
            kept = element.size();
        }
        element.resize(kept);
        if (element.empty()) {
          error = "Unexpected \"" + std::string(1, i < n ? text[i] : ' ') + "\" character.";
          return std::nullopt;
        }
      }
      if (!quoted && !escaped && spellsNull(element))
        elements.emplace_back(std::nullopt);
      else
        elements.emplace_back(std::move(element));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n && text[i] == '}') {
        ++i;
        break;
      }
      error = i < n ? "Unexpected \"" + std::string(1, text[i]) + "\" character."
                    : "Unexpected end of input.";
      return std::nullopt;
    }
  }
  skipSpace();
  if (i != n) {
    error = "Junk after closing right brace.";
    return std::nullopt;
  }
  return elements;
}

bool nextElement(std::string_view canonical, size_t &pos, std::string &element, bool &is_null) {
  const size_t n = canonical.size();
  if (pos == 0)
    pos = 1; // past '{'
  if (pos >= n || canonical[pos] == '}')
    return false;
  element.clear();
  is_null = false;
  if (canonical[pos] == '"') {
    for (++pos; pos < n && canonical[pos] != '"'; ++pos) {
      if (canonical[pos] == '\\' && pos + 1 < n)
        ++pos;
      element += canonical[pos];
    }
    ++pos; // the closing quote
  } else {
    size_t end = canonical.find_first_of(",}", pos);
    if (end == std::string_view::npos)
      end = n;
    element.assign(canonical.substr(pos, end - pos));
    is_null = element == kNull;
    if (is_null)
      element.clear();
    pos = end;
  }
  if (pos < n && canonical[pos] == ',')
    ++pos;
  return true;
}

Elements elements(std::string_view canonical) {
  std::string ignored;
  std::optional<Elements> parsed = parse(canonical, ignored);
  return parsed ? std::move(*parsed) : Elements{};
}

} // namespace kiln::array_text
