#include "kiln/Jinja/Value.h"

#include <charconv>
#include <cmath>

namespace kiln::jinja {

Value *Dict::find(std::string_view key) {
  for (auto &[name, value] : entries)
    if (name == key)
      return &value;
  return nullptr;
}

const Value *Dict::find(std::string_view key) const { return const_cast<Dict *>(this)->find(key); }

void Dict::set(std::string key, Value value) {
  if (Value *existing = find(key))
    *existing = std::move(value);
  else
    entries.emplace_back(std::move(key), std::move(value));
}

bool Dict::erase(std::string_view key) {
  for (auto it = entries.begin(); it != entries.end(); ++it)
    if (it->first == key) {
      entries.erase(it);
      return true;
    }
  return false;
}

Value Value::undefined(std::string name) {
  Value value;
  value.string_ = std::move(name);
  return value;
}

Value Value::none() {
  Value value;
  value.kind_ = Kind::None;
  return value;
}

Value::Value(bool value) : kind_(Kind::Bool), bool_(value) {}
Value::Value(int64_t value) : kind_(Kind::Int), int_(value) {}
Value::Value(double value) : kind_(Kind::Float), float_(value) {}
Value::Value(std::string value) : kind_(Kind::String), string_(std::move(value)) {}

Value Value::list(List items) {
  Value value;
  value.kind_ = Kind::List;
  value.list_ = std::make_shared<List>(std::move(items));
  return value;
}

Value Value::dict(Dict entries) {
  Value value;
  value.kind_ = Kind::Dict;
  value.dict_ = std::make_shared<Dict>(std::move(entries));
  return value;
}

Value Value::object(std::shared_ptr<Object> object) {
  Value value;
  value.kind_ = Kind::Object;
  value.object_ = std::move(object);
  return value;
}

namespace {
class NativeFunction : public Object {
public:
  NativeFunction(std::string name, std::function<Value(Renderer &, CallArgs &)> body)
      : name_(std::move(name)), body_(std::move(body)) {}
  std::string typeName() const override { return "function"; }
  bool callable() const override { return true; }
  Value call(Renderer &renderer, CallArgs &args) override { return body_(renderer, args); }
  std::string str() const override { return "<function " + name_ + ">"; }

private:
  std::string name_;
  std::function<Value(Renderer &, CallArgs &)> body_;
};

std::string floatText(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  char buffer[64];
  double magnitude = std::fabs(value);
  // Python's repr: positional between 1e-4 and 1e16, scientific outside.
  bool fixed = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e16);
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value,
                              fixed ? std::chars_format::fixed : std::chars_format::scientific);
  std::string text(buffer, result.ptr);
  if (fixed && text.find('.') == std::string::npos)
    text += ".0";
  return text;
}

std::string quoted(const std::string &text) {
  char quote =
      text.find('\'') != std::string::npos && text.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char c : text) {
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      if (c == quote)
        out += '\\';
      out += c;
    }
  }
  return out + quote;
}
} // namespace

Value Value::function(std::string name, std::function<Value(Renderer &, CallArgs &)> body) {
  return object(std::make_shared<NativeFunction>(std::move(name), std::move(body)));
}

bool Value::isCallable() const { return kind_ == Kind::Object && object_->callable(); }

double Value::asFloat() const {
  switch (kind_) {
  case Kind::Float:
    return float_;
  case Kind::Int:
    return static_cast<double>(int_);
  case Kind::Bool:
    return bool_ ? 1 : 0;
  default:
    return 0;
  }
}

bool Value::truthy() const {
  switch (kind_) {
  case Kind::Undefined:
  case Kind::None:
    return false;
  case Kind::Bool:
    return bool_;
  case Kind::Int:
    return int_ != 0;
  case Kind::Float:
    return float_ != 0;
  case Kind::String:
    return !string_.empty();
  case Kind::List:
    return !list_->empty();
  case Kind::Dict:
    return !dict_->entries.empty();
  case Kind::Object:
    return true;
  }
  return false;
}

std::string Value::str() const {
  switch (kind_) {
  case Kind::Undefined:
    return "";
  case Kind::String:
    return string_;
  case Kind::Object:
    return object_->str();
  default:
    return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
  case Kind::Undefined:
    return "";
  case Kind::None:
    return "None";
  case Kind::Bool:
    return bool_ ? "True" : "False";
  case Kind::Int:
    return std::to_string(int_);
  case Kind::Float:
    return floatText(float_);
  case Kind::String:
    return quoted(string_);
  case Kind::List: {
    std::string out = "[";
    for (size_t i = 0; i < list_->size(); ++i)
      out += (i ? ", " : "") + (*list_)[i].repr();
    return out + "]";
  }
  case Kind::Dict: {
    std::string out = "{";
    bool first = true;
    for (const auto &[key, value] : dict_->entries) {
      out += (first ? "" : ", ") + quoted(key) + ": " + value.repr();
      first = false;
    }
    return out + "}";
  }
  case Kind::Object:
    return object_->str();
  }
  return "";
}

std::string Value::typeName() const {
  switch (kind_) {
  case Kind::Undefined:
    return "undefined";
  case Kind::None:
    return "none";
  case Kind::Bool:
    return "boolean";
  case Kind::Int:
    return "integer";
  case Kind::Float:
    return "float";
  case Kind::String:
    return "string";
  case Kind::List:
    return "list";
  case Kind::Dict:
    return "dict";
  case Kind::Object:
    return object_->typeName();
  }
  return "value";
}

bool Value::equals(const Value &other) const {
  if (isNumber() && other.isNumber()) {
    if (kind_ == Kind::Float || other.kind_ == Kind::Float)
      return asFloat() == other.asFloat();
    return asInt() == other.asInt();
  }
  if (kind_ != other.kind_)
    return false;
  switch (kind_) {
  case Kind::Undefined:
  case Kind::None:
    return true;
  case Kind::String:
    return string_ == other.string_;
  case Kind::List:
    if (list_->size() != other.list_->size())
      return false;
    for (size_t i = 0; i < list_->size(); ++i)
      if (!(*list_)[i].equals((*other.list_)[i]))
        return false;
    return true;
  case Kind::Dict:
    if (dict_->entries.size() != other.dict_->entries.size())
      return false;
    for (const auto &[key, value] : dict_->entries) {
      const Value *match = other.dict_->find(key);
      if (!match || !value.equals(*match))
        return false;
    }
    return true;
  case Kind::Object:
    return object_ == other.object_;
  default:
    return false; // numbers are handled above
  }
}

Value Object::call(Renderer &, CallArgs &args) {
  fail("\"" + args.callee + "\" is a " + typeName() + ", which cannot be called");
}

size_t CallArgs::positional() const {
  size_t count = 0;
  for (const Argument &argument : args)
    count += argument.keyword.empty();
  return count;
}

const Argument *CallArgs::keyword(std::string_view name) const {
  for (const Argument &argument : args)
    if (argument.keyword == name)
      return &argument;
  return nullptr;
}

const Argument *CallArgs::get(size_t index, std::string_view name) const {
  if (index < args.size() && args[index].keyword.empty())
    return &args[index];
  return keyword(name);
}

Value CallArgs::value(size_t index, std::string_view name, Value fallback) const {
  const Argument *argument = get(index, name);
  return argument ? argument->value : fallback;
}

void CallArgs::expect(size_t max_positional,
                      std::initializer_list<std::string_view> keywords) const {
  size_t index = 0;
  for (const Argument &argument : args) {
    if (argument.keyword.empty()) {
      if (index++ >= max_positional)
        failAt(argument, "takes at most " + std::to_string(max_positional) +
                             " positional argument" + (max_positional == 1 ? "" : "s"));
      continue;
    }
    bool known = false;
    for (std::string_view name : keywords)
      known |= name == argument.keyword;
    if (!known)
      throw Error{argument.keyword_range,
                  callee + "() got an unexpected keyword argument \"" + argument.keyword + "\"",
                  "",
                  {}};
  }
}

void CallArgs::fail(std::string message, std::string hint) const {
  throw Error{range, callee + "() " + message, std::move(hint), {}};
}

void CallArgs::failAt(const Argument &argument, std::string message, std::string hint) const {
  throw Error{argument.range, callee + "() " + message, std::move(hint), {}};
}

void fail(std::string message, std::string hint) {
  throw Error{{}, std::move(message), std::move(hint), {}};
}

} // namespace kiln::jinja
