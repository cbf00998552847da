// Jinja's filters, tests, operators, global functions and the Python methods templates call on
// strings, lists and dicts (Builtins.cpp).
#pragma once

#include "kiln/Jinja/Jinja.h"

#include <map>

namespace kiln::jinja {

// `subject | name(args)`; throws an Error for an unknown filter or wrong arguments.
Value applyFilter(Renderer &renderer, const std::string &name, const Value &subject,
                  CallArgs &args);
// `subject is name(args)`.
bool applyTest(Renderer &renderer, const std::string &name, const Value &subject, CallArgs &args);
// A method of a string, list or dict (text.upper, items.append, d.items), bound to `self`.
std::optional<Value> method(const Value &self, const std::string &name);

// + - * / // % ** ~ with Python's semantics.
Value binaryOperator(const std::string &op, const Value &left, const Value &right);
// == != < <= > >= in, "not in".
bool compareOperator(const std::string &op, const Value &left, const Value &right);
// The items a for loop visits: a list's items, a dict's keys, a string's characters.
List iterate(const Value &value);

// Jinja's global functions: range, dict, namespace, zip, lipsum is not one of them.
void addGlobalFunctions(std::map<std::string, Value> &globals);

} // namespace kiln::jinja
