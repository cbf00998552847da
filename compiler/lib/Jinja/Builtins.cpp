// Jinja2's builtin filters and tests (jinja2/filters.py, jinja2/tests.py), dbt's as_* filters,
// Python's operators and the methods of str, list and dict that dbt projects call.
#include "Builtins.h"

#include "kiln/Support/Spelling.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>

namespace kiln::jinja {
namespace {

std::string lower(std::string text) {
  for (char &c : text)
    c = std::tolower(static_cast<unsigned char>(c));
  return text;
}

std::string upper(std::string text) {
  for (char &c : text)
    c = std::toupper(static_cast<unsigned char>(c));
  return text;
}

bool isSpace(char c) { return std::isspace(static_cast<unsigned char>(c)); }

std::string strip(std::string_view text, std::string_view chars, bool left, bool right) {
  auto stripped = [&](char c) {
    return chars.empty() ? isSpace(c) : chars.find(c) != std::string_view::npos;
  };
  size_t begin = 0, end = text.size();
  while (left && begin < end && stripped(text[begin]))
    ++begin;
  while (right && end > begin && stripped(text[end - 1]))
    --end;
  return std::string(text.substr(begin, end - begin));
}

std::string replace(const std::string &text, const std::string &from, const std::string &to,
                    int64_t count = -1) {
  if (from.empty())
    return text;
  std::string out;
  size_t at = 0;
  for (size_t found; count != 0 && (found = text.find(from, at)) != std::string::npos; --count) {
    out += text.substr(at, found - at) + to;
    at = found + from.size();
  }
  return out + text.substr(at);
}

List split(const std::string &text, const Value &separator, int64_t max_splits) {
  List parts;
  if (separator.isNone() || separator.isUndefined()) {
    size_t at = 0;
    while (true) {
      while (at < text.size() && isSpace(text[at]))
        ++at;
      if (at >= text.size())
        break;
      size_t end = at;
      if (max_splits >= 0 && static_cast<int64_t>(parts.size()) == max_splits)
        end = text.size();
      else
        while (end < text.size() && !isSpace(text[end]))
          ++end;
      parts.push_back(Value(strip(text.substr(at, end - at), "", false, true)));
      at = end;
    }
    return parts;
  }
  const std::string &sep = separator.asString();
  if (sep.empty())
    fail("empty separator");
  size_t at = 0;
  for (size_t found; (max_splits < 0 || static_cast<int64_t>(parts.size()) < max_splits) &&
                     (found = text.find(sep, at)) != std::string::npos;) {
    parts.push_back(Value(text.substr(at, found - at)));
    at = found + sep.size();
  }
  parts.push_back(Value(text.substr(at)));
  return parts;
}

Value requireString(const Value &value, const char *what) {
  if (!value.isString())
    fail(std::string(what) + " takes a string, not " + value.typeName());
  return value;
}

int64_t requireInt(const Value &value, const char *what) {
  if (value.kind() != Value::Kind::Int && value.kind() != Value::Kind::Bool)
    fail(std::string(what) + " takes an integer, not " + value.typeName());
  return value.asInt();
}

// Python's ordering for sort, min, max and < (numbers with numbers, strings with strings, lists
// item by item).
int order(const Value &left, const Value &right) {
  if (left.isNumber() && right.isNumber()) {
    double a = left.asFloat(), b = right.asFloat();
    if (left.kind() != Value::Kind::Float && right.kind() != Value::Kind::Float)
      return left.asInt() < right.asInt() ? -1 : left.asInt() > right.asInt();
    return a < b ? -1 : a > b;
  }
  if (left.isString() && right.isString())
    return left.asString().compare(right.asString()) < 0   ? -1
           : left.asString().compare(right.asString()) > 0 ? 1
                                                           : 0;
  if (left.kind() == Value::Kind::List && right.kind() == Value::Kind::List) {
    const List &a = left.asList(), &b = right.asList();
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      if (int c = order(a[i], b[i]))
        return c;
    return a.size() < b.size() ? -1 : a.size() > b.size();
  }
  fail("cannot compare " + left.typeName() + " with " + right.typeName());
}

// An attribute or key of an item ("name", or "a.b"), for map(attribute=), sort(attribute=), ...
Value attributeOf(const Value &item, const std::string &path) {
  Value value = item;
  size_t at = 0;
  while (at <= path.size()) {
    size_t dot = path.find('.', at);
    std::string part = path.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
    Value next = Value::undefined(part);
    if (value.kind() == Value::Kind::Dict) {
      if (const Value *found = value.asDict().find(part))
        next = *found;
    } else if (value.kind() == Value::Kind::Object) {
      if (std::optional<Value> found = value.asObject().attribute(part))
        next = *found;
    } else if (value.kind() == Value::Kind::List && !part.empty() &&
               std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
      if (ec == std::errc() && index < value.asList().size())
        next = value.asList()[index];
    }
    value = next;
    if (dot == std::string::npos)
      break;
    at = dot + 1;
  }
  return value;
}

std::string joinItems(const List &items, const std::string &separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? separator : "") + items[i].str();
  return out;
}

Value toInt(const Value &value, const Value &fallback) {
  switch (value.kind()) {
  case Value::Kind::Int:
  case Value::Kind::Bool:
    return Value(value.asInt());
  case Value::Kind::Float: {
    // Python's int(): NaN is a ValueError (the default), infinity an OverflowError; Kiln's
    // integers have 64 bits (found by fuzz_model: `1e309 | int` converted inf, undefined).
    double f = value.asFloat();
    if (std::isnan(f))
      return fallback;
    if (std::isinf(f))
      fail("cannot convert float infinity to integer");
    if (!(f > -9223372036854775808.0 && f < 9223372036854775808.0))
      fail("integer overflow");
    return Value(static_cast<int64_t>(f));
  }
  case Value::Kind::String: {
    std::string text = strip(value.asString(), "", true, true);
    try {
      size_t used = 0;
      int64_t parsed = std::stoll(text, &used);
      if (used == text.size())
        return Value(parsed);
      double real = std::stod(text, &used);
      if (used == text.size())
        return Value(static_cast<int64_t>(real));
    } catch (const std::exception &) {
    }
    return fallback;
  }
  default:
    return fallback;
  }
}

Value toFloat(const Value &value, const Value &fallback) {
  if (value.isNumber())
    return Value(value.asFloat());
  if (value.isString()) {
    std::string text = strip(value.asString(), "", true, true);
    try {
      size_t used = 0;
      double parsed = std::stod(text, &used);
      if (used == text.size())
        return Value(parsed);
    } catch (const std::exception &) {
    }
  }
  return fallback;
}

std::string title(const std::string &text, bool every_word) {
  std::string out = text;
  bool start = true;
  for (char &c : out) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      c = start ? std::toupper(static_cast<unsigned char>(c))
                : std::tolower(static_cast<unsigned char>(c));
      start = false;
    } else if (every_word) {
      start = !std::isalnum(static_cast<unsigned char>(c)) && c != '\'';
    }
  }
  return out;
}

std::string json(const Value &value) {
  switch (value.kind()) {
  case Value::Kind::Undefined:
  case Value::Kind::None:
    return "null";
  case Value::Kind::Bool:
    return value.asBool() ? "true" : "false";
  case Value::Kind::Int:
  case Value::Kind::Float:
    return value.repr();
  case Value::Kind::String: {
    std::string out = "\"";
    for (char c : value.asString()) {
      if (c == '"' || c == '\\')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out + "\"";
  }
  case Value::Kind::List: {
    std::string out = "[";
    for (size_t i = 0; i < value.asList().size(); ++i)
      out += (i ? ", " : "") + json(value.asList()[i]);
    return out + "]";
  }
  case Value::Kind::Dict: {
    std::string out = "{";
    bool first = true;
    for (const auto &[key, item] : value.asDict().entries) {
      out += (first ? "" : ", ") + json(Value(key)) + ": " + json(item);
      first = false;
    }
    return out + "}";
  }
  case Value::Kind::Object:
    return json(Value(value.str()));
  }
  return "null";
}

// Python's str % args for %s, %d, %i, %f and %%.
std::string percentFormat(const std::string &format, const List &values) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    char spec = format[++i];
    if (spec == '%') {
      out += '%';
      continue;
    }
    if (next >= values.size())
      fail("not enough arguments for format string");
    const Value &value = values[next++];
    if (spec == 's')
      out += value.str();
    else if (spec == 'd' || spec == 'i')
      out += std::to_string(toInt(value, Value(int64_t(0))).asInt());
    else if (spec == 'f')
      out += std::to_string(value.asFloat());
    else
      fail(std::string("unsupported format character \"") + spec + "\"");
  }
  return out;
}

using FilterBody = std::function<Value(Renderer &, const Value &, CallArgs &)>;

List sequenceOf(const Value &value, const char *filter) {
  if (value.isUndefined())
    return {};
  return iterate(value);
}

// select/reject/selectattr/rejectattr: the items for which a test holds (or not).
Value selectItems(Renderer &renderer, const Value &subject, CallArgs &args, bool by_attribute,
                  bool keep) {
  List out;
  size_t first_test_arg = by_attribute ? 1 : 0;
  std::string attribute = by_attribute ? args.value(0, "attribute").str() : "";
  Value test_name = args.value(first_test_arg, "");
  for (const Value &item : sequenceOf(subject, "select")) {
    Value tested = by_attribute ? attributeOf(item, attribute) : item;
    bool holds;
    if (test_name.isUndefined()) {
      holds = tested.truthy();
    } else {
      CallArgs test_args;
      test_args.callee = test_name.str();
      test_args.range = args.range;
      for (size_t i = first_test_arg + 1; i < args.args.size(); ++i)
        test_args.args.push_back(args.args[i]);
      holds = applyTest(renderer, test_name.str(), tested, test_args);
    }
    if (holds == keep)
      out.push_back(item);
  }
  return Value::list(std::move(out));
}

const std::map<std::string, FilterBody> &filters() {
  static const std::map<std::string, FilterBody> table = [] {
    std::map<std::string, FilterBody> t;
    t["abs"] = [](Renderer &, const Value &v, CallArgs &a) {
      a.expect(0, {});
      if (v.kind() == Value::Kind::Float)
        return Value(std::fabs(v.asFloat()));
      return Value(std::abs(requireInt(v, "abs")));
    };
    t["attr"] = [](Renderer &, const Value &v, CallArgs &a) {
      return attributeOf(v, a.value(0, "name").str());
    };
    t["capitalize"] = [](Renderer &, const Value &v, CallArgs &) {
      std::string text = lower(v.str());
      if (!text.empty())
        text[0] = std::toupper(static_cast<unsigned char>(text[0]));
      return Value(text);
    };
    t["count"] = t["length"] = [](Renderer &, const Value &v, CallArgs &a) {
      a.expect(0, {});
      switch (v.kind()) {
      case Value::Kind::String:
        return Value(int64_t(v.asString().size()));
      case Value::Kind::List:
        return Value(int64_t(v.asList().size()));
      case Value::Kind::Dict:
        return Value(int64_t(v.asDict().entries.size()));
      case Value::Kind::Undefined:
        return Value(int64_t(0));
      default:
        fail(v.typeName() + " has no length");
      }
    };
    t["default"] = t["d"] = [](Renderer &, const Value &v, CallArgs &a) {
      a.expect(2, {"default_value", "boolean"});
      bool boolean = a.value(1, "boolean", Value(false)).truthy();
      if (v.isUndefined() || (boolean && !v.truthy()))
        return a.value(0, "default_value", Value(""));
      return v;
    };
    t["dictsort"] = [](Renderer &, const Value &v, CallArgs &a) {
      if (v.kind() != Value::Kind::Dict)
        fail("dictsort takes a dict, not " + v.typeName());
      bool by_value = a.value(2, "by").str() == "value";
      bool reverse = a.value(3, "reverse", Value(false)).truthy();
      List items;
      for (const auto &[key, value] : v.asDict().entries)
        items.push_back(Value::list({Value(key), value}));
      std::stable_sort(items.begin(), items.end(), [&](const Value &x, const Value &y) {
        int c = order(x.asList()[by_value], y.asList()[by_value]);
        return reverse ? c > 0 : c < 0;
      });
      return Value::list(std::move(items));
    };
    t["escape"] = t["e"] =
        t["safe"] = [](Renderer &, const Value &v, CallArgs &) { return Value(v.str()); };
    t["first"] = [](Renderer &, const Value &v, CallArgs &) {
      List items = sequenceOf(v, "first");
      return items.empty() ? Value::undefined("first") : items.front();
    };
    t["last"] = [](Renderer &, const Value &v, CallArgs &) {
      List items = sequenceOf(v, "last");
      return items.empty() ? Value::undefined("last") : items.back();
    };
    t["float"] = [](Renderer &, const Value &v, CallArgs &a) {
      return toFloat(v, a.value(0, "default", Value(0.0)));
    };
    t["int"] = [](Renderer &, const Value &v, CallArgs &a) {
      return toInt(v, a.value(0, "default", Value(int64_t(0))));
    };
    t["format"] = [](Renderer &, const Value &v, CallArgs &a) {
      List values;
      for (const Argument &argument : a.args)
        values.push_back(argument.value);
      return Value(percentFormat(requireString(v, "format").asString(), values));
    };
    t["indent"] = [](Renderer &, const Value &v, CallArgs &a) {
      Value width = a.value(0, "width", Value(int64_t(4)));
      // Python's ' ' * width: nothing for a negative width; a width beyond any string is an
      // error, not an allocation that fails (fuzz_model found an uncaught length_error).
      int64_t spaces = width.isString() ? 0 : std::max<int64_t>(width.asInt(), 0);
      if (spaces > (int64_t(1) << 24))
        fail("indent's width " + std::to_string(spaces) + " is too large");
      std::string pad =
          width.isString() ? width.asString() : std::string(static_cast<size_t>(spaces), ' ');
      bool first = a.value(1, "first", Value(false)).truthy();
      bool blank = a.value(2, "blank", Value(false)).truthy();
      std::string text = v.str(), out;
      size_t at = 0;
      for (bool line_one = true; at <= text.size(); line_one = false) {
        size_t end = text.find('\n', at);
        std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if ((!line_one || first) && (blank || !line.empty()))
          out += pad;
        out += line;
        if (end == std::string::npos)
          break;
        out += '\n';
        at = end + 1;
      }
      return Value(out);
    };
    t["items"] = [](Renderer &, const Value &v, CallArgs &) {
      List items;
      if (v.kind() == Value::Kind::Dict)
        for (const auto &[key, value] : v.asDict().entries)
          items.push_back(Value::list({Value(key), value}));
      return Value::list(std::move(items));
    };
    t["join"] = [](Renderer &, const Value &v, CallArgs &a) {
      a.expect(2, {"d", "attribute"});
      List items = sequenceOf(v, "join");
      if (const Argument *attribute = a.get(1, "attribute"))
        for (Value &item : items)
          item = attributeOf(item, attribute->value.str());
      return Value(joinItems(items, a.value(0, "d", Value("")).str()));
    };
    t["list"] = [](Renderer &, const Value &v, CallArgs &) {
      return Value::list(sequenceOf(v, "list"));
    };
    t["lower"] = [](Renderer &, const Value &v, CallArgs &) { return Value(lower(v.str())); };
    t["upper"] = [](Renderer &, const Value &v, CallArgs &) { return Value(upper(v.str())); };
    t["map"] = [](Renderer &renderer, const Value &v, CallArgs &a) {
      List items = sequenceOf(v, "map");
      if (const Argument *attribute = a.keyword("attribute")) {
        Value fallback = a.value(size_t(-1), "default");
        for (Value &item : items) {
          item = attributeOf(item, attribute->value.str());
          if (item.isUndefined() && !fallback.isUndefined())
            item = fallback;
        }
        return Value::list(std::move(items));
      }
      if (a.args.empty())
        a.fail("takes a filter name or attribute=");
      std::string filter = a.args[0].value.str();
      CallArgs rest;
      rest.callee = filter;
      rest.range = a.range;
      rest.args.assign(a.args.begin() + 1, a.args.end());
      for (Value &item : items)
        item = applyFilter(renderer, filter, item, rest);
      return Value::list(std::move(items));
    };
    auto extreme = [](bool want_max) {
      return [want_max](Renderer &, const Value &v, CallArgs &a) {
        List items = sequenceOf(v, want_max ? "max" : "min");
        if (items.empty())
          return Value::undefined(want_max ? "max" : "min");
        Value attribute = a.value(size_t(-1), "attribute");
        Value best = items[0];
        for (const Value &item : items) {
          Value x = attribute.isUndefined() ? item : attributeOf(item, attribute.str());
          Value y = attribute.isUndefined() ? best : attributeOf(best, attribute.str());
          if (want_max ? order(x, y) > 0 : order(x, y) < 0)
            best = item;
        }
        return best;
      };
    };
    t["max"] = extreme(true);
    t["min"] = extreme(false);
    t["reject"] = [](Renderer &r, const Value &v, CallArgs &a) {
      return selectItems(r, v, a, false, false);
    };
    t["select"] = [](Renderer &r, const Value &v, CallArgs &a) {
      return selectItems(r, v, a, false, true);
    };
    t["rejectattr"] = [](Renderer &r, const Value &v, CallArgs &a) {
      return selectItems(r, v, a, true, false);
    };
    t["selectattr"] = [](Renderer &r, const Value &v, CallArgs &a) {
      return selectItems(r, v, a, true, true);
    };
    t["replace"] = [](Renderer &, const Value &v, CallArgs &a) {
      a.expect(3, {"old", "new", "count"});
      return Value(
          replace(v.str(), a.value(0, "old").str(), a.value(1, "new").str(),
                  a.value(2, "count", Value::none()).isNone() ? -1 : a.value(2, "count").asInt()));
    };
    t["reverse"] = [](Renderer &, const Value &v, CallArgs &) {
      if (v.isString())
        return Value(std::string(v.asString().rbegin(), v.asString().rend()));
      List items = sequenceOf(v, "reverse");
      std::reverse(items.begin(), items.end());
      return Value::list(std::move(items));
    };
    t["round"] = [](Renderer &, const Value &v, CallArgs &a) {
      int64_t precision = a.value(0, "precision", Value(int64_t(0))).asInt();
      std::string method = a.value(1, "method", Value("common")).str();
      double scale = std::pow(10.0, precision), x = v.asFloat() * scale;
      double rounded = method == "ceil"    ? std::ceil(x)
                       : method == "floor" ? std::floor(x)
                                           : std::round(x);
      return Value(rounded / scale);
    };
    t["sort"] = [](Renderer &, const Value &v, CallArgs &a) {
      List items = sequenceOf(v, "sort");
      bool reverse = a.value(0, "reverse", Value(false)).truthy();
      bool case_sensitive = a.value(1, "case_sensitive", Value(false)).truthy();
      Value attribute = a.value(2, "attribute");
      auto key = [&](const Value &item) {
        Value x = attribute.isUndefined() ? item : attributeOf(item, attribute.str());
        return x.isString() && !case_sensitive ? Value(lower(x.asString())) : x;
      };
      std::stable_sort(items.begin(), items.end(), [&](const Value &x, const Value &y) {
        int c = order(key(x), key(y));
        return reverse ? c > 0 : c < 0;
      });
      return Value::list(std::move(items));
    };
    t["string"] = [](Renderer &, const Value &v, CallArgs &) { return Value(v.str()); };
    t["sum"] = [](Renderer &, const Value &v, CallArgs &a) {
      Value attribute = a.value(0, "attribute");
      Value total = a.value(1, "start", Value(int64_t(0)));
      for (const Value &item : sequenceOf(v, "sum"))
        total = binaryOperator("+", total,
                               attribute.isUndefined() ? item : attributeOf(item, attribute.str()));
      return total;
    };
    t["title"] = [](Renderer &, const Value &v, CallArgs &) { return Value(title(v.str(), true)); };
    t["tojson"] = [](Renderer &, const Value &v, CallArgs &) { return Value(json(v)); };
    t["trim"] = [](Renderer &, const Value &v, CallArgs &a) {
      return Value(strip(v.str(), a.value(0, "chars", Value("")).str(), true, true));
    };
    t["unique"] = [](Renderer &, const Value &v, CallArgs &) {
      List out;
      for (const Value &item : sequenceOf(v, "unique"))
        if (std::none_of(out.begin(), out.end(), [&](const Value &seen) {
              return seen.equals(item) || (seen.isString() && item.isString() &&
                                           lower(seen.asString()) == lower(item.asString()));
            }))
          out.push_back(item);
      return Value::list(std::move(out));
    };
    t["wordcount"] = [](Renderer &, const Value &v, CallArgs &) {
      return Value(int64_t(split(v.str(), Value::none(), -1).size()));
    };
    // dbt's filters: as_text, as_bool, as_number and as_native convert a rendered value.
    t["as_text"] = [](Renderer &, const Value &v, CallArgs &) { return Value(v.str()); };
    t["as_bool"] = [](Renderer &, const Value &v, CallArgs &) {
      if (!v.isString())
        return v;
      std::string text = lower(strip(v.asString(), "", true, true));
      if (text == "true")
        return Value(true);
      if (text == "false")
        return Value(false);
      return v;
    };
    t["as_number"] = [](Renderer &, const Value &v, CallArgs &) {
      Value as_int = toInt(v, Value());
      if (v.isString() && !as_int.isUndefined() &&
          v.asString().find_first_of(".eE") == std::string::npos)
        return as_int;
      return toFloat(v, v);
    };
    t["as_native"] = [](Renderer &, const Value &v, CallArgs &) { return v; };
    return t;
  }();
  return table;
}

using TestBody = std::function<bool(const Value &, CallArgs &)>;

const std::map<std::string, TestBody> &tests() {
  static const std::map<std::string, TestBody> table = [] {
    std::map<std::string, TestBody> t;
    t["defined"] = [](const Value &v, CallArgs &) { return !v.isUndefined(); };
    t["undefined"] = [](const Value &v, CallArgs &) { return v.isUndefined(); };
    t["none"] = [](const Value &v, CallArgs &) { return v.isNone(); };
    t["boolean"] = [](const Value &v, CallArgs &) { return v.kind() == Value::Kind::Bool; };
    t["true"] = [](const Value &v, CallArgs &) {
      return v.kind() == Value::Kind::Bool && v.asBool();
    };
    t["false"] = [](const Value &v, CallArgs &) {
      return v.kind() == Value::Kind::Bool && !v.asBool();
    };
    t["integer"] = [](const Value &v, CallArgs &) { return v.kind() == Value::Kind::Int; };
    t["float"] = [](const Value &v, CallArgs &) { return v.kind() == Value::Kind::Float; };
    t["number"] = [](const Value &v, CallArgs &) { return v.isNumber(); };
    t["string"] = [](const Value &v, CallArgs &) { return v.isString(); };
    t["mapping"] = [](const Value &v, CallArgs &) { return v.kind() == Value::Kind::Dict; };
    t["sequence"] = t["iterable"] = [](const Value &v, CallArgs &) {
      return v.isString() || v.kind() == Value::Kind::List || v.kind() == Value::Kind::Dict;
    };
    t["callable"] = [](const Value &v, CallArgs &) { return v.isCallable(); };
    t["lower"] = [](const Value &v, CallArgs &) {
      return v.isString() && lower(v.asString()) == v.asString();
    };
    t["upper"] = [](const Value &v, CallArgs &) {
      return v.isString() && upper(v.asString()) == v.asString();
    };
    t["even"] = [](const Value &v, CallArgs &) { return requireInt(v, "even") % 2 == 0; };
    t["odd"] = [](const Value &v, CallArgs &) { return requireInt(v, "odd") % 2 != 0; };
    t["divisibleby"] = [](const Value &v, CallArgs &a) {
      int64_t by = requireInt(a.value(0, "num"), "divisibleby");
      return by != 0 && requireInt(v, "divisibleby") % by == 0;
    };
    t["sameas"] = [](const Value &v, CallArgs &a) {
      Value other = a.value(0, "other");
      return v.kind() == other.kind() && (v.kind() == Value::Kind::None || v.equals(other));
    };
    t["eq"] = t["equalto"] =
        t["=="] = [](const Value &v, CallArgs &a) { return v.equals(a.value(0, "other")); };
    t["ne"] = t["!="] = [](const Value &v, CallArgs &a) { return !v.equals(a.value(0, "other")); };
    t["lt"] = t["lessthan"] =
        t["<"] = [](const Value &v, CallArgs &a) { return order(v, a.value(0, "other")) < 0; };
    t["le"] =
        t["<="] = [](const Value &v, CallArgs &a) { return order(v, a.value(0, "other")) <= 0; };
    t["gt"] = t["greaterthan"] =
        t[">"] = [](const Value &v, CallArgs &a) { return order(v, a.value(0, "other")) > 0; };
    t["ge"] =
        t[">="] = [](const Value &v, CallArgs &a) { return order(v, a.value(0, "other")) >= 0; };
    t["in"] = [](const Value &v, CallArgs &a) {
      return compareOperator("in", v, a.value(0, "seq"));
    };
    return t;
  }();
  return table;
}

std::vector<std::string> namesOf(const auto &table) {
  std::vector<std::string> names;
  for (const auto &[name, body] : table)
    names.push_back(name);
  return names;
}

Value bound(std::string name, std::function<Value(CallArgs &)> body) {
  return Value::function(std::move(name),
                         [body](Renderer &, CallArgs &args) { return body(args); });
}

std::optional<Value> stringMethod(const std::string &text, const std::string &name) {
  if (name == "upper")
    return bound(name, [text](CallArgs &) { return Value(upper(text)); });
  if (name == "lower")
    return bound(name, [text](CallArgs &) { return Value(lower(text)); });
  if (name == "strip" || name == "lstrip" || name == "rstrip")
    return bound(name, [text, name](CallArgs &a) {
      return Value(
          strip(text, a.value(0, "chars", Value("")).str(), name != "rstrip", name != "lstrip"));
    });
  if (name == "split")
    return bound(name, [text](CallArgs &a) {
      return Value::list(split(text, a.value(0, "sep", Value::none()),
                               a.value(1, "maxsplit", Value(int64_t(-1))).asInt()));
    });
  if (name == "replace")
    return bound(name, [text](CallArgs &a) {
      return Value(replace(text, requireString(a.value(0, "old"), "replace").asString(),
                           requireString(a.value(1, "new"), "replace").asString(),
                           a.value(2, "count", Value(int64_t(-1))).asInt()));
    });
  if (name == "startswith" || name == "endswith")
    return bound(name, [text, name](CallArgs &a) {
      std::string affix = requireString(a.value(0, "prefix"), name.c_str()).asString();
      if (affix.size() > text.size())
        return Value(false);
      return Value(name == "startswith"
                       ? text.compare(0, affix.size(), affix) == 0
                       : text.compare(text.size() - affix.size(), affix.size(), affix) == 0);
    });
  if (name == "join")
    return bound(name,
                 [text](CallArgs &a) { return Value(joinItems(iterate(a.value(0, "")), text)); });
  if (name == "title" || name == "capitalize")
    return bound(name, [text, name](CallArgs &) { return Value(title(text, name == "title")); });
  if (name == "find")
    return bound(name, [text](CallArgs &a) {
      size_t at = text.find(a.value(0, "sub").str());
      return Value(at == std::string::npos ? int64_t(-1) : int64_t(at));
    });
  if (name == "count")
    return bound(name, [text](CallArgs &a) {
      std::string sub = a.value(0, "sub").str();
      int64_t count = 0;
      for (size_t at = 0; !sub.empty() && (at = text.find(sub, at)) != std::string::npos;
           at += sub.size())
        ++count;
      return Value(count);
    });
  if (name == "isdigit" || name == "isalpha" || name == "isupper" || name == "islower")
    return bound(name, [text, name](CallArgs &) {
      if (text.empty())
        return Value(false);
      if (name == "isupper")
        return Value(upper(text) == text && lower(text) != text);
      if (name == "islower")
        return Value(lower(text) == text && upper(text) != text);
      auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
      auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
      return Value(name == "isdigit" ? std::all_of(text.begin(), text.end(), digit)
                                     : std::all_of(text.begin(), text.end(), alpha));
    });
  if (name == "format")
    return bound(name, [text](CallArgs &a) {
      // "{}" and "{0}"/"{name}" fields, as str.format fills them.
      std::string out;
      size_t next = 0;
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '{') {
          out += '{';
          ++i;
        } else if (text[i] == '}' && i + 1 < text.size() && text[i + 1] == '}') {
          out += '}';
          ++i;
        } else if (text[i] == '{') {
          size_t close = text.find('}', i);
          if (close == std::string::npos)
            fail("single \"{\" in a format string");
          std::string field = text.substr(i + 1, close - i - 1);
          const Argument *argument = field.empty() ? a.get(next++, "")
                                     : std::isdigit(static_cast<unsigned char>(field[0]))
                                         ? a.get(std::strtoul(field.c_str(), nullptr, 10), "")
                                         : a.keyword(field);
          if (!argument)
            fail("format string field \"{" + field + "}\" has no argument");
          out += argument->value.str();
          i = close;
        } else {
          out += text[i];
        }
      }
      return Value(out);
    });
  return std::nullopt;
}

std::optional<Value> listMethod(const Value &self, const std::string &name) {
  if (name == "append")
    return bound(name, [self](CallArgs &a) {
      a.expect(1, {});
      self.asList().push_back(a.value(0, ""));
      return Value::none();
    });
  if (name == "extend")
    return bound(name, [self](CallArgs &a) {
      List items = iterate(a.value(0, ""));
      self.asList().insert(self.asList().end(), items.begin(), items.end());
      return Value::none();
    });
  if (name == "insert")
    return bound(name, [self](CallArgs &a) {
      List &list = self.asList();
      int64_t at = std::clamp<int64_t>(requireInt(a.value(0, "index"), "insert"), 0, list.size());
      list.insert(list.begin() + at, a.value(1, "object"));
      return Value::none();
    });
  if (name == "pop")
    return bound(name, [self](CallArgs &a) {
      List &list = self.asList();
      int64_t index = a.value(0, "index", Value(int64_t(-1))).asInt();
      if (index < 0)
        index += list.size();
      if (index < 0 || index >= static_cast<int64_t>(list.size()))
        fail("pop index out of range");
      Value item = list[index];
      list.erase(list.begin() + index);
      return item;
    });
  if (name == "remove")
    return bound(name, [self](CallArgs &a) {
      List &list = self.asList();
      Value item = a.value(0, "");
      for (auto it = list.begin(); it != list.end(); ++it)
        if (it->equals(item)) {
          list.erase(it);
          return Value::none();
        }
      fail("list.remove(x): x not in list");
    });
  if (name == "index" || name == "count")
    return bound(name, [self, name](CallArgs &a) {
      Value item = a.value(0, "");
      int64_t count = 0;
      for (size_t i = 0; i < self.asList().size(); ++i)
        if (self.asList()[i].equals(item)) {
          if (name == "index")
            return Value(int64_t(i));
          ++count;
        }
      if (name == "index")
        fail(item.repr() + " is not in list");
      return Value(count);
    });
  return std::nullopt;
}

std::optional<Value> dictMethod(const Value &self, const std::string &name) {
  if (name == "items" || name == "keys" || name == "values")
    return bound(name, [self, name](CallArgs &) {
      List out;
      for (const auto &[key, value] : self.asDict().entries)
        out.push_back(name == "items"  ? Value::list({Value(key), value})
                      : name == "keys" ? Value(key)
                                       : value);
      return Value::list(std::move(out));
    });
  if (name == "get")
    return bound(name, [self](CallArgs &a) {
      const Value *found = self.asDict().find(a.value(0, "key").str());
      return found ? *found : a.value(1, "default", Value::none());
    });
  if (name == "update")
    return bound(name, [self](CallArgs &a) {
      for (const Argument &argument : a.args) {
        if (!argument.keyword.empty()) {
          self.asDict().set(argument.keyword, argument.value);
        } else if (argument.value.kind() == Value::Kind::Dict) {
          for (const auto &[key, value] : argument.value.asDict().entries)
            self.asDict().set(key, value);
        } else {
          fail("dict.update takes a dict");
        }
      }
      return Value::none();
    });
  if (name == "pop")
    return bound(name, [self](CallArgs &a) {
      std::string key = a.value(0, "key").str();
      const Value *found = self.asDict().find(key);
      if (!found) {
        if (const Argument *fallback = a.get(1, "default"))
          return fallback->value;
        fail("key " + Value(key).repr() + " is not in the dict");
      }
      Value value = *found;
      self.asDict().erase(key);
      return value;
    });
  if (name == "setdefault")
    return bound(name, [self](CallArgs &a) {
      std::string key = a.value(0, "key").str();
      if (const Value *found = self.asDict().find(key))
        return *found;
      Value value = a.value(1, "default", Value::none());
      self.asDict().set(key, value);
      return value;
    });
  return std::nullopt;
}

} // namespace

Value applyFilter(Renderer &renderer, const std::string &name, const Value &subject,
                  CallArgs &args) {
  auto it = filters().find(name);
  if (it == filters().end()) {
    std::string hint;
    if (auto suggestion = closestMatch(name, namesOf(filters())))
      hint = "did you mean \"" + *suggestion + "\"?";
    throw Error{args.range, "unknown Jinja filter \"" + name + "\"", hint, {}};
  }
  return it->second(renderer, subject, args);
}

bool applyTest(Renderer &renderer, const std::string &name, const Value &subject, CallArgs &args) {
  auto it = tests().find(name);
  if (it == tests().end()) {
    std::string hint;
    if (auto suggestion = closestMatch(name, namesOf(tests())))
      hint = "did you mean \"" + *suggestion + "\"?";
    throw Error{args.range, "unknown Jinja test \"" + name + "\"", hint, {}};
  }
  return it->second(subject, args);
}

std::optional<Value> method(const Value &self, const std::string &name) {
  switch (self.kind()) {
  case Value::Kind::String:
    return stringMethod(self.asString(), name);
  case Value::Kind::List:
    return listMethod(self, name);
  case Value::Kind::Dict:
    return dictMethod(self, name);
  default:
    return std::nullopt;
  }
}

List iterate(const Value &value) {
  switch (value.kind()) {
  case Value::Kind::List:
    return value.asList();
  case Value::Kind::Dict: {
    List keys;
    for (const auto &[key, item] : value.asDict().entries)
      keys.push_back(Value(key));
    return keys;
  }
  case Value::Kind::String: {
    List characters;
    for (char c : value.asString())
      characters.push_back(Value(std::string(1, c)));
    return characters;
  }
  default:
    fail(value.typeName() + " is not iterable");
  }
}

namespace {
// Python's integers do not overflow; Kiln's are 64 bits, and a result beyond them is an error.
template <typename Operation> int64_t checked(Operation operation) {
  int64_t result;
  if (operation(result))
    fail("integer overflow");
  return result;
}
} // namespace

namespace {
// Strings and lists a template builds are capped, so that one doubling in a loop cannot take the
// machine's memory.
constexpr size_t kMaxLength = size_t(1) << 24;
Value checkedLength(Value value) {
  size_t length = value.isString()                    ? value.asString().size()
                  : value.kind() == Value::Kind::List ? value.asList().size()
                                                      : 0;
  if (length > kMaxLength)
    fail("a string or list longer than " + std::to_string(kMaxLength) + " items");
  return value;
}
} // namespace

Value binaryOperator(const std::string &op, const Value &left, const Value &right) {
  bool numbers = left.isNumber() && right.isNumber();
  bool integers =
      numbers && left.kind() != Value::Kind::Float && right.kind() != Value::Kind::Float;
  int64_t a = left.asInt(), b = right.asInt();
  double x = left.asFloat(), y = right.asFloat();
  if (op == "~")
    return checkedLength(Value(left.str() + right.str()));
  if (op == "+") {
    if (integers)
      return Value(checked([&](int64_t &r) { return __builtin_add_overflow(a, b, &r); }));
    if (numbers)
      return Value(x + y);
    if (left.isString() && right.isString())
      return checkedLength(Value(left.asString() + right.asString()));
    if (left.kind() == Value::Kind::List && right.kind() == Value::Kind::List) {
      if (left.asList().size() + right.asList().size() > kMaxLength)
        fail("a list longer than " + std::to_string(kMaxLength) + " items");
      List items = left.asList();
      items.insert(items.end(), right.asList().begin(), right.asList().end());
      return Value::list(std::move(items));
    }
  } else if (op == "-") {
    if (integers)
      return Value(checked([&](int64_t &r) { return __builtin_sub_overflow(a, b, &r); }));
    if (numbers)
      return Value(x - y);
  } else if (op == "*") {
    if (integers)
      return Value(checked([&](int64_t &r) { return __builtin_mul_overflow(a, b, &r); }));
    if (numbers)
      return Value(x * y);
    const Value &text = left.isString() ? left : right;
    const Value &times = left.isString() ? right : left;
    if (text.isString() && times.kind() == Value::Kind::Int) {
      int64_t count = std::max<int64_t>(times.asInt(), 0);
      if (!text.asString().empty() &&
          static_cast<uint64_t>(count) > kMaxLength / text.asString().size())
        fail("a string longer than " + std::to_string(kMaxLength) + " bytes");
      std::string out;
      for (int64_t i = 0; i < count; ++i)
        out += text.asString();
      return Value(out);
    }
  } else if (op == "/") {
    if (numbers) {
      if (y == 0)
        fail("division by zero");
      return Value(x / y);
    }
  } else if (op == "//" || op == "%") {
    if (left.isString() && op == "%")
      return Value(percentFormat(left.asString(),
                                 right.kind() == Value::Kind::List ? right.asList() : List{right}));
    if (numbers) {
      if (y == 0)
        fail(op == "%" ? "modulo by zero" : "division by zero");
      if (integers) {
        int64_t quotient = a / b, remainder = a % b;
        if (remainder != 0 && ((remainder < 0) != (b < 0))) {
          --quotient;
          remainder += b;
        }
        return Value(op == "//" ? quotient : remainder);
      }
      double quotient = std::floor(x / y);
      return Value(op == "//" ? quotient : x - quotient * y);
    }
  } else if (op == "**") {
    if (integers && b >= 0) { // by squaring: 1 ** 5678801200 takes 33 steps, not billions
      int64_t result = 1, base = a;
      for (int64_t e = b; e > 0; e >>= 1) {
        if (e & 1)
          result = checked([&](int64_t &r) { return __builtin_mul_overflow(result, base, &r); });
        if (e > 1) // a base that overflows here would overflow the result
          base = checked([&](int64_t &r) { return __builtin_mul_overflow(base, base, &r); });
      }
      return Value(result);
    }
    if (numbers)
      return Value(std::pow(x, y));
  }
  fail("unsupported operand types for " + op + ": " + left.typeName() + " and " + right.typeName());
}

bool compareOperator(const std::string &op, const Value &left, const Value &right) {
  if (op == "==")
    return left.equals(right);
  if (op == "!=")
    return !left.equals(right);
  if (op == "in" || op == "not in") {
    bool found = false;
    if (right.isString()) {
      if (!left.isString())
        fail("\"in <string>\" requires a string on the left, not " + left.typeName());
      found = right.asString().find(left.asString()) != std::string::npos;
    } else if (right.kind() == Value::Kind::Dict) {
      found = right.asDict().find(left.str()) != nullptr && left.isString();
    } else if (right.kind() == Value::Kind::List) {
      for (const Value &item : right.asList())
        found |= item.equals(left);
    } else if (right.isUndefined()) {
      fail("\"in\" on an undefined value");
    } else {
      fail("\"in\" needs a string, list or dict on the right, not " + right.typeName());
    }
    return op == "in" ? found : !found;
  }
  int c = order(left, right);
  if (op == "<")
    return c < 0;
  if (op == "<=")
    return c <= 0;
  if (op == ">")
    return c > 0;
  return c >= 0;
}

namespace {
// namespace(): an object whose attributes {% set ns.x = ... %} may change.
class NamespaceObject : public Object {
public:
  std::string typeName() const override { return "namespace"; }
  std::optional<Value> attribute(const std::string &name) override {
    if (const Value *found = values.find(name))
      return *found;
    return std::nullopt;
  }
  bool setAttribute(const std::string &name, Value value) override {
    values.set(name, std::move(value));
    return true;
  }
  Dict values;
};
} // namespace

void addGlobalFunctions(std::map<std::string, Value> &globals) {
  globals["range"] = bound("range", [](CallArgs &a) {
    a.expect(3, {});
    int64_t start = 0, stop, step = 1;
    if (a.args.size() == 1) {
      stop = requireInt(a.args[0].value, "range");
    } else if (a.args.size() >= 2) {
      start = requireInt(a.args[0].value, "range");
      stop = requireInt(a.args[1].value, "range");
      if (a.args.size() == 3)
        step = requireInt(a.args[2].value, "range");
    } else {
      a.fail("takes a stop, or a start, stop and step");
    }
    if (step == 0)
      a.fail("takes a step other than zero");
    List items;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (items.size() >= 100000)
        a.fail("makes more than 100000 items");
      items.push_back(Value(i));
    }
    return Value::list(std::move(items));
  });
  globals["dict"] = bound("dict", [](CallArgs &a) {
    Dict dict;
    for (const Argument &argument : a.args) {
      if (argument.keyword.empty()) {
        if (argument.value.kind() != Value::Kind::Dict)
          a.failAt(argument, "takes keyword arguments or a dict");
        for (const auto &[key, value] : argument.value.asDict().entries)
          dict.set(key, value);
      } else {
        dict.set(argument.keyword, argument.value);
      }
    }
    return Value::dict(std::move(dict));
  });
  globals["namespace"] = bound("namespace", [](CallArgs &a) {
    auto ns = std::make_shared<NamespaceObject>();
    for (const Argument &argument : a.args)
      if (!argument.keyword.empty())
        ns->values.set(argument.keyword, argument.value);
    return Value::object(ns);
  });
  globals["zip"] = bound("zip", [](CallArgs &a) {
    std::vector<List> lists;
    for (const Argument &argument : a.args)
      lists.push_back(iterate(argument.value));
    List out;
    for (size_t i = 0; !lists.empty(); ++i) {
      List row;
      for (const List &list : lists) {
        if (i >= list.size())
          return Value::list(std::move(out));
        row.push_back(list[i]);
      }
      out.push_back(Value::list(std::move(row)));
    }
    return Value::list(std::move(out));
  });
  // dbt's Python builtins in templates: set() (as a list without duplicates), tojson, fromjson
  // is not here (it needs a JSON parser; dbt projects rarely call it).
  globals["set"] = bound("set", [](CallArgs &a) {
    List out;
    for (const Value &item : a.args.empty() ? List{} : iterate(a.args[0].value))
      if (std::none_of(out.begin(), out.end(), [&](const Value &v) { return v.equals(item); }))
        out.push_back(item);
    return Value::list(std::move(out));
  });
  globals["tojson"] = bound("tojson", [](CallArgs &a) { return Value(json(a.value(0, "value"))); });
}

} // namespace kiln::jinja
