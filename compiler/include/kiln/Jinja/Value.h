// Values of Kiln's Jinja engine, with Python's semantics as Jinja2 gives them: None, booleans,
// integers, floats, strings, lists (tuples are lists), string-keyed dicts that keep their insertion
// order, and objects (macros, functions, dbt's relations and namespaces).
//
// Lists, dicts and objects are shared by reference, as in Python, so `{% do items.append(x) %}`
// changes the list every name bound to it sees.
#pragma once

#include "kiln/Support/Diagnostics.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::jinja {

class Value;
class Object;
class Renderer;
struct CallArgs;

using List = std::vector<Value>;

// A dict with string keys in insertion order (Python 3.7's dicts; dbt projects' dicts are small).
struct Dict {
  std::vector<std::pair<std::string, Value>> entries;
  Value *find(std::string_view key);
  const Value *find(std::string_view key) const;
  void set(std::string key, Value value);
  bool erase(std::string_view key);
};

// An error the template causes, located where it arises; the renderer adds the chain of macro
// calls that led there as notes.
struct Error {
  SourceRange range;
  std::string message;
  std::string hint;
  std::vector<std::pair<SourceRange, std::string>> notes;
};

class Value {
public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Object };

  Value() = default; // undefined, with no name
  static Value undefined(std::string name);
  static Value none();
  Value(bool value);
  Value(int value) : Value(static_cast<int64_t>(value)) {}
  Value(int64_t value);
  Value(double value);
  Value(std::string value);
  Value(std::string_view value) : Value(std::string(value)) {}
  Value(const char *value) : Value(std::string(value)) {}
  static Value list(List items = {});
  static Value dict(Dict entries = {});
  static Value object(std::shared_ptr<Object> object);
  // A function written in C++ (filters' and dbt's builtins); `name` is shown in errors.
  static Value function(std::string name, std::function<Value(Renderer &, CallArgs &)> body);

  Kind kind() const { return kind_; }
  bool isUndefined() const { return kind_ == Kind::Undefined; }
  bool isNone() const { return kind_ == Kind::None; }
  bool isString() const { return kind_ == Kind::String; }
  bool isNumber() const {
    return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool;
  }
  bool isCallable() const;

  bool asBool() const { return bool_; }
  int64_t asInt() const { return kind_ == Kind::Bool ? bool_ : int_; }
  double asFloat() const;
  const std::string &asString() const { return string_; } // also an undefined value's name
  List &asList() const { return *list_; }
  Dict &asDict() const { return *dict_; }
  Object &asObject() const { return *object_; }

  // Python's truth: empty strings, lists and dicts, zero, None and undefined are false.
  bool truthy() const;
  // As Jinja prints it ({{ x }}): Python's str(). Undefined prints as nothing.
  std::string str() const;
  // Python's repr(), as str() shows items of a list or dict.
  std::string repr() const;
  // "string", "list", "dict", "macro", ... for errors.
  std::string typeName() const;
  // Python's ==.
  bool equals(const Value &other) const;

  // The value a connector setting keeps when this string came from env_var(): the call itself,
  // so the executable reads the variable when it starts instead of the build baking it in.
  const std::string &deferredText() const { return deferred_; }
  void setDeferredText(std::string text) { deferred_ = std::move(text); }

private:
  Kind kind_ = Kind::Undefined;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  std::string deferred_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Object> object_;
};

// One argument of a call: positional when `keyword` is empty.
struct Argument {
  std::string keyword;
  Value value;
  SourceRange range;         // the argument's expression
  SourceRange keyword_range; // the keyword, for keyword arguments
};

struct CallArgs {
  std::string callee; // as written, e.g. "adapter.dispatch", for errors
  SourceRange range;  // the whole call, from the callee to ")"
  std::vector<Argument> args;
  Value caller; // the body of a {% call %} block, if any

  size_t positional() const;
  const Argument *keyword(std::string_view name) const;
  // Parameter `index` by position or by `name`: the common way builtins read their arguments.
  const Argument *get(size_t index, std::string_view name) const;
  Value value(size_t index, std::string_view name, Value fallback = Value()) const;
  // Rejects arguments beyond `max_positional` and keywords outside `keywords`.
  void expect(size_t max_positional, std::initializer_list<std::string_view> keywords) const;
  // An error at the call: "<callee>() <message>", e.g. "range() takes at most 3 arguments".
  [[noreturn]] void fail(std::string message, std::string hint = "") const;
  [[noreturn]] void failAt(const Argument &argument, std::string message,
                           std::string hint = "") const;
};

// Macros, functions, namespaces and dbt's objects (relations, target, adapter).
class Object {
public:
  virtual ~Object() = default;
  virtual std::string typeName() const = 0;
  // obj.name; nullopt if there is no such attribute.
  virtual std::optional<Value> attribute(const std::string &name) { return std::nullopt; }
  // {% set obj.name = value %}: only namespaces allow it.
  virtual bool setAttribute(const std::string &name, Value value) { return false; }
  virtual bool callable() const { return false; }
  virtual Value call(Renderer &renderer, CallArgs &args);
  virtual std::string str() const { return "<" + typeName() + ">"; }
};

// The error Jinja gives for a call on something that cannot be called, and similar: thrown by
// builtins, located by the renderer at the expression that failed when `range` is invalid.
[[noreturn]] void fail(std::string message, std::string hint = "");

} // namespace kiln::jinja
