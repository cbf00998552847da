#include "kiln/runtime/Jsonb.h"

#include <simdjson.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace kiln::jsonb {

namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSyntaxError = "invalid input syntax for type json";
constexpr std::string_view kUnicodeError = "unsupported Unicode escape sequence";

absl::Status syntaxError(std::string_view detail) {
  return absl::InvalidArgumentError(std::string(kSyntaxError) + ": " + std::string(detail));
}

// JSON's whitespace off both ends.
std::string_view trimmed(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

absl::Status invalidToken(std::string_view token) {
  return syntaxError("Token \"" + std::string(token) + "\" is invalid.");
}

// A JSON number token as PostgreSQL's numeric prints it: no exponent, the display scale its
// input had (digits after the point, less the exponent, at least 0), no leading zeros, no -0.
absl::Status appendNumber(std::string &out, std::string_view token) {
  size_t i = 0;
  bool negative = i < token.size() && token[i] == '-';
  if (negative)
    ++i;
  auto digits = [&]() {
    size_t from = i;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9')
      ++i;
    return token.substr(from, i - from);
  };
  std::string_view whole = digits();
  if (whole.empty() || (whole.size() > 1 && whole[0] == '0'))
    return invalidToken(token);
  std::string_view fraction;
  if (i < token.size() && token[i] == '.') {
    ++i;
    fraction = digits();
    if (fraction.empty())
      return invalidToken(token);
  }
  int64_t exponent = 0;
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    bool negative_exponent = i < token.size() && token[i] == '-';
    if (i < token.size() && (token[i] == '+' || token[i] == '-'))
      ++i;
    std::string_view e = digits();
    if (e.empty())
      return invalidToken(token);
    for (char c : e) {
      exponent = exponent * 10 + (c - '0');
      // PostgreSQL's numeric takes exponents up to its 1000-digit weight limits and a bit more;
      // far beyond, the text would be huge.
      if (exponent > 100000)
        return absl::InvalidArgumentError("invalid input syntax for type numeric: \"" +
                                          std::string(token) + "\"");
    }
    if (negative_exponent)
      exponent = -exponent;
  }
  if (i != token.size())
    return invalidToken(token);
  std::string all = std::string(whole) + std::string(fraction);
  int64_t point = static_cast<int64_t>(whole.size()) + exponent; // the point's place in `all`
  int64_t scale = std::max<int64_t>(0, static_cast<int64_t>(fraction.size()) - exponent);
  std::string integer, decimals;
  if (point <= 0) {
    decimals = std::string(static_cast<size_t>(-point), '0') + all;
  } else if (point >= static_cast<int64_t>(all.size())) {
    integer = all + std::string(static_cast<size_t>(point - static_cast<int64_t>(all.size())), '0');
  } else {
    integer = all.substr(0, static_cast<size_t>(point));
    decimals = all.substr(static_cast<size_t>(point));
  }
  decimals.resize(static_cast<size_t>(scale), '0'); // a no-op but for scale 0
  size_t first = integer.find_first_not_of('0');
  integer = first == std::string::npos ? "0" : integer.substr(first);
  bool zero = all.find_first_not_of('0') == std::string::npos;
  if (negative && !zero)
    out += '-';
  out += integer;
  if (!decimals.empty())
    out += "." + decimals;
  return absl::OkStatus();
}

// simdjson's error as PostgreSQL's detail would say it, roughly: simdjson does not say where.
absl::Status parseError(simdjson::error_code error) {
  return syntaxError(simdjson::error_message(error));
}

absl::Status appendString(std::string &out, std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    return absl::InvalidArgumentError(std::string(kUnicodeError) +
                                      ": \\u0000 cannot be converted to text.");
  appendQuoted(out, text);
  return absl::OkStatus();
}

// The canonical text of `v`, a document or a value (the two share the calls used here).
template <typename Value> absl::Status appendValue(std::string &out, Value &v) {
  od::json_type type;
  if (auto error = v.type().get(type))
    return parseError(error);
  switch (type) {
  case od::json_type::object: {
    od::object object;
    if (auto error = v.get_object().get(object))
      return parseError(error);
    std::vector<std::pair<std::string, std::string>> fields;
    for (auto field : object) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key))
        return parseError(error);
      std::pair<std::string, std::string> entry{std::string(key), ""};
      od::value value;
      if (auto error = field.value().get(value))
        return parseError(error);
      if (absl::Status s = appendValue(entry.second, value); !s.ok())
        return s;
      fields.push_back(std::move(entry));
    }
    // Shorter keys first, then bytewise; of equal keys the last one written stays.
    std::stable_sort(fields.begin(), fields.end(), [](const auto &a, const auto &b) {
      return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
    });
    out += '{';
    bool first = true;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i + 1 < fields.size() && fields[i + 1].first == fields[i].first)
        continue;
      if (!first)
        out += ", ";
      first = false;
      if (absl::Status s = appendString(out, fields[i].first); !s.ok())
        return s;
      out += ": ";
      out += fields[i].second;
    }
    out += '}';
    return absl::OkStatus();
  }
  case od::json_type::array: {
    od::array array;
    if (auto error = v.get_array().get(array))
      return parseError(error);
    out += '[';
    bool first = true;
    for (auto element : array) {
      od::value value;
      if (auto error = element.get(value))
        return parseError(error);
      if (!first)
        out += ", ";
      first = false;
      if (absl::Status s = appendValue(out, value); !s.ok())
        return s;
    }
    out += ']';
    return absl::OkStatus();
  }
  case od::json_type::string: {
    std::string_view text;
    if (auto error = v.get_string().get(text))
      return parseError(error);
    return appendString(out, text);
  }
  case od::json_type::number: {
    std::string_view token;
    if (auto error = simdjson::simdjson_result<std::string_view>(v.raw_json_token()).get(token))
      return parseError(error);
    return appendNumber(out, trimmed(token)); // the token may run into the whitespace after it
  }
  case od::json_type::boolean: {
    bool b;
    if (auto error = v.get_bool().get(b))
      return parseError(error);
    out += b ? "true" : "false";
    return absl::OkStatus();
  }
  case od::json_type::null: {
    bool null = false;
    if (auto error = v.is_null().get(null))
      return parseError(error);
    if (!null)
      return syntaxError("Token is invalid.");
    out += "null";
    return absl::OkStatus();
  }
  }
  return syntaxError("unknown value");
}

// The end of the canonical value starting at `pos` (a string, a container or a scalar).
size_t skipValue(std::string_view s, size_t pos) {
  if (pos >= s.size())
    return pos;
  char c = s[pos];
  if (c == '"') {
    for (size_t i = pos + 1; i < s.size(); ++i) {
      if (s[i] == '\\')
        ++i;
      else if (s[i] == '"')
        return i + 1;
    }
    return s.size();
  }
  if (c == '{' || c == '[') {
    int depth = 0;
    for (size_t i = pos; i < s.size(); ++i) {
      char d = s[i];
      if (d == '"') {
        i = skipValue(s, i) - 1;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0)
          return i + 1;
      }
    }
    return s.size();
  }
  size_t end = s.find_first_of(",]}", pos);
  return end == std::string_view::npos ? s.size() : end;
}

// Calls `visit(key, value)` for each field of a canonical object (the key still quoted and
// escaped) or `visit("", element)` for each element of an array, until it returns true.
template <typename Visit> void forEach(std::string_view s, Visit visit) {
  if (s.size() < 2 || (s[0] != '{' && s[0] != '['))
    return;
  bool object = s[0] == '{';
  size_t pos = 1;
  if (s[pos] == '}' || s[pos] == ']')
    return;
  while (pos < s.size()) {
    std::string_view key;
    if (object) {
      size_t key_end = skipValue(s, pos);
      key = s.substr(pos, key_end - pos);
      pos = key_end + 2; // ": "
    }
    size_t end = skipValue(s, pos);
    if (visit(key, s.substr(pos, end - pos)))
      return;
    if (end >= s.size() || s[end] != ',')
      return;
    pos = end + 2; // ", "
  }
}

} // namespace

absl::StatusOr<std::string> normalize(std::string_view text) {
  thread_local od::parser parser;
  simdjson::padded_string padded(text);
  od::document document;
  if (auto error = parser.iterate(padded).get(document))
    return parseError(error);
  od::json_type type;
  if (auto error = document.type().get(type))
    return parseError(error);
  bool container = type == od::json_type::object || type == od::json_type::array;
  if (!container) {
    // A scalar document (`1`, `"x"`) is its one token: reading it does not say what follows.
    std::string_view token;
    if (auto error = document.raw_json_token().get(token))
      return parseError(error);
    if (trimmed(token) != trimmed(text))
      return syntaxError("Expected end of input, but found more.");
  }
  std::string out;
  if (absl::Status s = appendValue(out, document); !s.ok())
    return s;
  // Past a container, only the end: a location there means more input.
  if (container && !document.current_location().error())
    return syntaxError("Expected end of input, but found more.");
  return out;
}

bool isUnicodeEscapeError(const absl::Status &status) {
  return std::string(status.message()).starts_with(kUnicodeError);
}

Kind kindOf(std::string_view value) {
  switch (value.empty() ? 'n' : value[0]) {
  case '{':
    return Kind::Object;
  case '[':
    return Kind::Array;
  case '"':
    return Kind::String;
  case 't':
  case 'f':
    return Kind::Boolean;
  case 'n':
    return Kind::Null;
  default:
    return Kind::Number;
  }
}

std::string_view kindName(Kind kind) {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::String:
    return "string";
  case Kind::Number:
    return "number";
  case Kind::Boolean:
    return "boolean";
  case Kind::Array:
    return "array";
  case Kind::Object:
    return "object";
  }
  return "null";
}

bool nextMember(std::string_view s, size_t &pos, std::string_view &key, std::string_view &value) {
  if (s.size() < 2 || (s[0] != '{' && s[0] != '['))
    return false;
  if (pos == 0)
    pos = 1;
  if (pos >= s.size() || s[pos] == '}' || s[pos] == ']')
    return false;
  key = {};
  if (s[0] == '{') {
    size_t key_end = skipValue(s, pos);
    key = s.substr(pos, key_end - pos);
    pos = key_end + 2; // ": "
  }
  size_t end = skipValue(s, pos);
  value = s.substr(pos, end - pos);
  pos = end < s.size() && s[end] == ',' ? end + 2 : s.size(); // ", "
  return true;
}

std::optional<std::string_view> objectField(std::string_view value, std::string_view key) {
  if (kindOf(value) != Kind::Object)
    return std::nullopt;
  std::string quoted;
  appendQuoted(quoted, key);
  std::optional<std::string_view> found;
  forEach(value, [&](std::string_view k, std::string_view v) {
    if (k == quoted)
      found = v;
    return found.has_value();
  });
  return found;
}

std::optional<std::string_view> arrayElement(std::string_view value, int64_t index) {
  if (kindOf(value) == Kind::Object)
    return std::nullopt;
  if (kindOf(value) != Kind::Array) // a scalar: PostgreSQL keeps it as an array of one
    return index == 0 || index == -1 ? std::optional(value) : std::nullopt;
  if (index < 0) {
    index += arrayLength(value).value_or(0);
    if (index < 0)
      return std::nullopt;
  }
  std::optional<std::string_view> found;
  int64_t i = 0;
  forEach(value, [&](std::string_view, std::string_view v) {
    if (i++ == index)
      found = v;
    return found.has_value();
  });
  return found;
}

std::optional<std::string_view> pathStep(std::string_view value, std::string_view step) {
  switch (kindOf(value)) {
  case Kind::Object:
    return objectField(value, step);
  case Kind::Array: {
    // PostgreSQL reads the step as an integer (strtol, all of it), else there is no element.
    std::string_view digits = step;
    bool negative = !digits.empty() && digits[0] == '-';
    if (negative)
      digits.remove_prefix(1);
    if (digits.empty() || digits.size() > 10 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    int64_t index = 0;
    for (char c : digits)
      index = index * 10 + (c - '0');
    return arrayElement(value, negative ? -index : index);
  }
  default:
    return std::nullopt;
  }
}

std::optional<std::string_view> text(std::string_view value, std::string &scratch) {
  switch (kindOf(value)) {
  case Kind::Null:
    return std::nullopt;
  case Kind::String:
    break;
  default:
    return value;
  }
  std::string_view body = value.substr(1, value.size() - 2);
  if (body.find('\\') == std::string_view::npos)
    return body;
  // The escapes appendQuoted writes.
  scratch.clear();
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      scratch += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
    case 'b':
      scratch += '\b';
      break;
    case 'f':
      scratch += '\f';
      break;
    case 'n':
      scratch += '\n';
      break;
    case 'r':
      scratch += '\r';
      break;
    case 't':
      scratch += '\t';
      break;
    case 'u': { // \u00XX, a control character
      int code = 0;
      for (size_t k = 0; k < 4 && i + 1 < body.size(); ++k) {
        char h = body[++i];
        code = code * 16 + (h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
      }
      scratch += static_cast<char>(code);
      break;
    }
    default: // \" and \\ stand for themselves
      scratch += e;
      break;
    }
  }
  return scratch;
}

std::optional<int64_t> arrayLength(std::string_view value) {
  if (kindOf(value) != Kind::Array)
    return std::nullopt;
  int64_t n = 0;
  forEach(value, [&](std::string_view, std::string_view) {
    ++n;
    return false;
  });
  return n;
}

bool exists(std::string_view value, std::string_view key) {
  if (kindOf(value) == Kind::Object)
    return objectField(value, key).has_value();
  std::string quoted;
  appendQuoted(quoted, key);
  switch (kindOf(value)) {
  case Kind::Array: {
    bool found = false;
    forEach(value, [&](std::string_view, std::string_view v) { return found = v == quoted; });
    return found;
  }
  case Kind::String:
    return value == quoted;
  default:
    return false;
  }
}

namespace {
bool isContainer(Kind kind) { return kind == Kind::Object || kind == Kind::Array; }

bool containsValue(std::string_view value, std::string_view part, bool top) {
  Kind have = kindOf(value), want = kindOf(part);
  if (have == Kind::Object) {
    if (want != Kind::Object)
      return false;
    bool all = true;
    forEach(part, [&](std::string_view key, std::string_view wanted) {
      bool found = false;
      forEach(value, [&](std::string_view k, std::string_view v) {
        if (k != key)
          return false;
        found = containsValue(v, wanted, false);
        return true; // keys are unique in canonical form
      });
      all = found;
      return !all;
    });
    return all;
  }
  if (have == Kind::Array) {
    if (want != Kind::Array) // a raw scalar, only at the top, as an element
      return top && !isContainer(want) && [&] {
        bool found = false;
        forEach(value, [&](std::string_view, std::string_view e) {
          return found = !isContainer(kindOf(e)) && e == part;
        });
        return found;
      }();
    bool all = true;
    forEach(part, [&](std::string_view, std::string_view wanted) {
      Kind kind = kindOf(wanted);
      bool found = false;
      forEach(value, [&](std::string_view, std::string_view e) {
        found =
            isContainer(kind) ? kindOf(e) == kind && containsValue(e, wanted, false) : e == wanted;
        return found;
      });
      all = found;
      return !all;
    });
    return all;
  }
  if (have == Kind::Number && want == Kind::Number) { // as numeric values: 1.0 is 1
    auto value_of = [](std::string_view number) {
      if (number.find('.') != std::string_view::npos) {
        while (number.ends_with('0'))
          number.remove_suffix(1);
        if (number.ends_with('.'))
          number.remove_suffix(1);
      }
      return number == "-0" ? std::string_view("0") : number;
    };
    return value_of(value) == value_of(part);
  }
  return have == want && value == part;
}
} // namespace

bool contains(std::string_view value, std::string_view part) {
  return containsValue(value, part, true);
}

void appendQuoted(std::string &out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      if (static_cast<unsigned char>(c) < ' ') {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[(c >> 4) & 15];
        out += kHex[c & 15];
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

} // namespace kiln::jsonb
