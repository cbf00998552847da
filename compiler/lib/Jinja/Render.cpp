// Rendering templates: scopes as Jinja2 has them (a for loop's body has its own, macros see the
// names of the file they are defined in, then the globals), macros and their calls, and the map
// from rendered text back to the template.
#include "Ast.h"
#include "Builtins.h"

#include <map>

namespace kiln::jinja {
namespace {

struct Scope {
  std::map<std::string, Value> names;
  std::shared_ptr<Scope> parent;
};

// return() inside a macro: unwinds to the macro's call with the value.
struct ReturnSignal {
  Value value;
  SourceRange call; // for the error when there is no macro to return from
};

// Where rendered text goes: the template's result (with its map back to the file) or a string
// (a macro's, a {% set %} block's, caller()'s).
class Output {
public:
  virtual ~Output() = default;
  virtual void data(std::string_view text, uint32_t template_begin) = 0;
  virtual void expansion(const std::string &text, SourceRange construct) = 0;
  virtual size_t size() const = 0; // bytes so far
};

// Rendered text is capped, as the strings it is made of are.
constexpr size_t kMaxRendered = size_t(1) << 26;

class StringOutput : public Output {
public:
  void data(std::string_view text, uint32_t) override { text_ += text; }
  void expansion(const std::string &text, SourceRange) override { text_ += text; }
  size_t size() const override { return text_.size(); }
  std::string &text() { return text_; }

private:
  std::string text_;
};

class RenderedOutput : public Output {
public:
  explicit RenderedOutput(Rendered &rendered) : rendered_(rendered) {}
  void data(std::string_view text, uint32_t template_begin) override {
    add(text, template_begin, text.size(), true);
  }
  void expansion(const std::string &text, SourceRange construct) override {
    add(text, construct.begin.offset, construct.length, false);
  }
  size_t size() const override { return rendered_.text.size(); }

private:
  void add(std::string_view text, uint32_t template_begin, uint32_t template_length,
           bool verbatim) {
    if (text.empty())
      return;
    uint32_t begin = rendered_.text.size();
    rendered_.text += text;
    rendered_.segments.push_back(
        {begin, static_cast<uint32_t>(text.size()), template_begin, template_length, verbatim});
  }
  Rendered &rendered_;
};

} // namespace

struct Environment::State {
  const SourceManager &sources;
  DiagnosticEngine &diags;
  std::shared_ptr<Scope> globals = std::make_shared<Scope>();
  // Macros by namespace ("" the project's), then name.
  std::map<std::string, std::map<std::string, Value>> macros;
  std::map<std::string, SourceRange> macro_definitions; // "namespace.name" -> its tag
  int call_depth = 0;
  // Statements a rendering may run, so that a loop without end is an error, not a hang.
  int64_t steps = 0, step_limit = 10'000'000;

  State(const SourceManager &sources, DiagnosticEngine &diags) : sources(sources), diags(diags) {}

  Value lookupGlobal(const std::string &name) const {
    if (auto it = globals->names.find(name); it != globals->names.end())
      return it->second;
    for (const char *space : {"", "dbt"})
      if (auto macros_of = macros.find(space); macros_of != macros.end())
        if (auto it = macros_of->second.find(name); it != macros_of->second.end())
          return it->second;
    return Value::undefined(name);
  }
};

namespace {

class Evaluator;

// A {% macro %} (or the body of a {% call %}, as caller), with the scope it was defined in.
class Macro : public Object {
public:
  Macro(Environment::State &env, std::shared_ptr<const Template> file, const Node &node,
        std::string name, std::shared_ptr<Scope> closure)
      : env_(env), file_(std::move(file)), node_(node), name_(std::move(name)),
        closure_(std::move(closure)) {}
  std::string typeName() const override { return "macro"; }
  bool callable() const override { return true; }
  std::string str() const override { return "<macro " + name_ + ">"; }
  std::optional<Value> attribute(const std::string &name) override {
    if (name == "name")
      return Value(name_);
    return std::nullopt;
  }
  Value call(Renderer &renderer, CallArgs &args) override;
  SourceRange definition() const { return node_.range; }

private:
  Environment::State &env_;
  std::shared_ptr<const Template> file_;
  const Node &node_;
  std::string name_;
  std::shared_ptr<Scope> closure_;
};

// The `loop` of a for loop. It shares the loop's items: a macro defined in the loop may keep it.
class Loop : public Object {
public:
  explicit Loop(std::shared_ptr<const List> items) : items_(std::move(items)) {}
  std::string typeName() const override { return "loop"; }
  void at(size_t index) { index_ = index; }
  std::optional<Value> attribute(const std::string &name) override {
    const List &items = *items_;
    int64_t length = items.size(), index = index_;
    if (name == "index")
      return Value(index + 1);
    if (name == "index0")
      return Value(index);
    if (name == "revindex")
      return Value(length - index);
    if (name == "revindex0")
      return Value(length - index - 1);
    if (name == "first")
      return Value(index == 0);
    if (name == "last")
      return Value(index == length - 1);
    if (name == "length")
      return Value(length);
    if (name == "depth")
      return Value(int64_t(1));
    if (name == "depth0")
      return Value(int64_t(0));
    if (name == "previtem")
      return index > 0 ? items[index - 1] : Value::undefined("loop.previtem");
    if (name == "nextitem")
      return index + 1 < length ? items[index + 1] : Value::undefined("loop.nextitem");
    if (name == "cycle") {
      size_t at = index_;
      return Value::function("loop.cycle", [at](Renderer &, CallArgs &args) {
        if (args.args.empty())
          args.fail("takes at least one value");
        return args.args[at % args.args.size()].value;
      });
    }
    return std::nullopt;
  }

private:
  std::shared_ptr<const List> items_;
  size_t index_ = 0;
};

class Evaluator : public Renderer {
public:
  Evaluator(Environment::State &env, std::shared_ptr<const Template> file,
            std::shared_ptr<Scope> scope)
      : env_(env), file_(std::move(file)), scope_(std::move(scope)) {}

  Value call(const Value &callee, CallArgs &args) override {
    if (!callee.isCallable())
      fail("\"" + args.callee + "\" is " + article(callee.typeName()) + ", which cannot be called");
    if (++env_.call_depth > 200) {
      env_.call_depth = 0;
      fail("macro calls nest more than 200 deep", "is a macro calling itself without end?");
    }
    struct Depth {
      int &depth;
      ~Depth() { depth = depth > 0 ? depth - 1 : 0; }
    } depth{env_.call_depth};
    return callee.asObject().call(*this, args);
  }
  DiagnosticEngine &diags() override { return env_.diags; }
  // The name a template sees from the current scope.
  Value lookup(const std::string &name) {
    for (Scope *scope = scope_.get(); scope; scope = scope->parent.get())
      if (auto it = scope->names.find(name); it != scope->names.end())
        return it->second;
    return env_.lookupGlobal(name);
  }

  void execute(const Body &body, Output &out) {
    for (const auto &node : body)
      execute(*node, out);
  }

  std::string capture(const Body &body) {
    StringOutput out;
    execute(body, out);
    return std::move(out.text());
  }

  Value evaluate(const Expr &expr) { return eval(expr); }

private:
  static std::string article(const std::string &noun) {
    bool vowel = !noun.empty() && std::string_view("aeiou").find(noun[0]) != std::string::npos;
    return (vowel ? "an " : "a ") + noun;
  }

  std::string_view textOf(const SourceRange &range) const {
    return file_->text.substr(range.begin.offset, range.length);
  }

  void execute(const Node &node, Output &out) {
    if (++env_.steps > env_.step_limit)
      throw Error{node.range,
                  "rendering runs more than " + std::to_string(env_.step_limit) + " statements",
                  "is a loop or a macro's recursion without end?",
                  {}};
    switch (node.kind) {
    case Node::Kind::Data:
      out.data(textOf(node.range), node.range.begin.offset);
      checkSize(node, out);
      return;
    case Node::Kind::Output: {
      Value value = eval(*node.expr);
      // A name that is not defined is an error (Jinja2 would print nothing, and the SQL would
      // fail further from the cause); `x if c` without an else prints nothing, as in Jinja2.
      if (value.isUndefined() && !value.asString().empty())
        throw undefinedError(value, node.expr->range);
      out.expansion(value.str(), node.range);
      checkSize(node, out);
      return;
    }
    case Node::Kind::If:
      for (const auto &[condition, body] : node.branches)
        if (eval(*condition).truthy())
          return execute(body, out);
      return execute(node.else_body, out);
    case Node::Kind::For:
      return executeFor(node, out);
    case Node::Kind::Set: {
      Value value = eval(*node.expr);
      if (node.targets.size() == 1)
        return assign(*node.targets[0], std::move(value));
      List items = unpack(value, node.targets.size(), node.expr->range);
      for (size_t i = 0; i < items.size(); ++i)
        assign(*node.targets[i], items[i]);
      return;
    }
    case Node::Kind::SetBlock: {
      Value text(capture(node.body));
      for (const auto &filter : node.filters)
        text = evalFilter(*filter, text);
      scope_->names[node.name] = text;
      return;
    }
    case Node::Kind::Macro:
      scope_->names[node.name] =
          Value::object(std::make_shared<Macro>(env_, file_, node, node.name, scope_));
      return;
    case Node::Kind::CallBlock: {
      Value caller = Value::object(std::make_shared<Macro>(env_, file_, node, "caller", scope_));
      Value result = evalCall(*node.expr, caller);
      out.expansion(result.str(), node.range);
      return;
    }
    case Node::Kind::FilterBlock: {
      Value text(capture(node.body));
      for (const auto &filter : node.filters)
        text = evalFilter(*filter, text);
      out.expansion(text.str(), node.range);
      return;
    }
    case Node::Kind::Do:
      eval(*node.expr);
      return;
    }
  }

  void checkSize(const Node &node, const Output &out) {
    if (out.size() > kMaxRendered)
      throw Error{node.range,
                  "the rendered text grows beyond " + std::to_string(kMaxRendered >> 20) + " MB",
                  "is a loop without end?",
                  {}};
  }

  void executeFor(const Node &node, Output &out) {
    Value iterable = eval(*node.expr);
    if (iterable.isUndefined())
      throw undefinedError(iterable, node.expr->range);
    List all;
    try {
      all = iterate(iterable);
    } catch (Error &error) {
      error.range = node.expr->range;
      throw;
    }
    auto outer = scope_;
    scope_ = std::make_shared<Scope>(Scope{{}, outer});
    struct Restore {
      std::shared_ptr<Scope> &scope, saved;
      ~Restore() { scope = saved; }
    } restore{scope_, outer};

    auto kept = std::make_shared<List>();
    List &items = *kept;
    for (const Value &item : all) {
      if (node.condition) {
        bind(node, item);
        if (!eval(*node.condition).truthy())
          continue;
      }
      items.push_back(item);
    }
    auto loop = std::make_shared<Loop>(kept);
    for (size_t i = 0; i < items.size(); ++i) {
      loop->at(i);
      scope_->names["loop"] = Value::object(loop);
      bind(node, items[i]);
      execute(node.body, out);
    }
    if (items.empty()) {
      scope_ = outer;
      execute(node.else_body, out);
    }
  }

  void bind(const Node &node, const Value &item) {
    if (node.targets.size() == 1) {
      scope_->names[node.targets[0]->name] = item;
      return;
    }
    List parts = unpack(item, node.targets.size(), node.expr->range);
    for (size_t i = 0; i < parts.size(); ++i)
      scope_->names[node.targets[i]->name] = parts[i];
  }

  List unpack(const Value &value, size_t count, SourceRange at) {
    if (value.kind() != Value::Kind::List || value.asList().size() != count)
      throw Error{at,
                  "cannot unpack " + article(value.typeName()) +
                      (value.kind() == Value::Kind::List
                           ? " of " + std::to_string(value.asList().size()) + " items"
                           : "") +
                      " into " + std::to_string(count) + " names",
                  "",
                  {}};
    return value.asList();
  }

  void assign(const Expr &target, Value value) {
    if (target.kind == Expr::Kind::Name) {
      scope_->names[target.name] = std::move(value);
      return;
    }
    Value object = eval(*target.operands[0]);
    if (object.kind() != Value::Kind::Object ||
        !object.asObject().setAttribute(target.name, std::move(value)))
      throw Error{target.range,
                  "cannot set an attribute of " + article(object.typeName()),
                  "only a namespace's attributes can be set: {% set ns = namespace(found=false) "
                  "%}{% set ns.found = true %}",
                  {}};
  }

  Error undefinedError(const Value &value, SourceRange at) {
    std::string name = value.asString().empty() ? std::string(textOf(at)) : value.asString();
    if (!value.deferredText().empty()) // dbt's env_var() of a variable that is not set
      return Error{at,
                   "environment variable \"" + name + "\" is not set",
                   "set it, or give env_var() a default: env_var('" + name + "', '...')",
                   {}};
    Error error{at, "\"" + name + "\" is undefined", "", {}};
    size_t dot = name.find('.');
    std::string head = name.substr(0, dot);
    if (head == "dbt_utils" || head == "dbt_expectations" || head == "dbt_date" ||
        head == "codegen" || head == "audit_helper")
      error.hint = "packages are not supported; copy the macros the project uses from " + head +
                   " into a file under macro-paths";
    else if (head == "modules" || head == "run_query" || head == "statement" ||
             head == "load_result" || head == "graph")
      error.hint = "Kiln renders models without a warehouse; \"" + head + "\" is not available";
    return error;
  }

  // --- Expressions.

  Value eval(const Expr &expr) {
    switch (expr.kind) {
    case Expr::Kind::Literal:
      return expr.literal;
    case Expr::Kind::Name:
      return lookup(expr.name);
    case Expr::Kind::List: {
      List items;
      for (const auto &operand : expr.operands)
        items.push_back(eval(*operand));
      return Value::list(std::move(items));
    }
    case Expr::Kind::Dict: {
      Dict dict;
      for (size_t i = 0; i + 1 < expr.operands.size(); i += 2) {
        Value key = eval(*expr.operands[i]);
        if (!key.isString() && !key.isNumber())
          throw Error{expr.operands[i]->range, "dict keys must be strings", "", {}};
        dict.set(key.str(), eval(*expr.operands[i + 1]));
      }
      return Value::dict(std::move(dict));
    }
    case Expr::Kind::Attribute:
      return attribute(expr);
    case Expr::Kind::Item:
      return item(expr);
    case Expr::Kind::Slice:
      return slice(expr);
    case Expr::Kind::Call:
      return evalCall(expr, Value());
    case Expr::Kind::Filter:
      return evalFilter(expr, eval(*expr.operands[0]));
    case Expr::Kind::Test: {
      Value subject = eval(*expr.operands[0]);
      CallArgs args = arguments(expr, expr.name);
      return located(expr.range, [&] {
        return Value(applyTest(*this, expr.name, subject, args) != expr.negated);
      });
    }
    case Expr::Kind::Negate:
    case Expr::Kind::Plus: {
      Value operand = defined(*expr.operands[0]);
      return located(expr.range, [&] {
        return binaryOperator(expr.kind == Expr::Kind::Negate ? "-" : "+", Value(int64_t(0)),
                              operand);
      });
    }
    case Expr::Kind::Not:
      return Value(!eval(*expr.operands[0]).truthy());
    case Expr::Kind::Binary: {
      Value left = defined(*expr.operands[0]);
      Value right = defined(*expr.operands[1]);
      return located(expr.range, [&] { return binaryOperator(expr.name, left, right); });
    }
    case Expr::Kind::Compare: {
      Value left = eval(*expr.operands[0]);
      for (size_t i = 0; i < expr.ops.size(); ++i) {
        Value right = eval(*expr.operands[i + 1]);
        bool holds = located(expr.range, [&] { return compareOperator(expr.ops[i], left, right); });
        if (!holds)
          return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case Expr::Kind::And: {
      Value left = eval(*expr.operands[0]);
      return left.truthy() ? eval(*expr.operands[1]) : left;
    }
    case Expr::Kind::Or: {
      Value left = eval(*expr.operands[0]);
      return left.truthy() ? left : eval(*expr.operands[1]);
    }
    case Expr::Kind::Conditional:
      if (eval(*expr.operands[1]).truthy())
        return eval(*expr.operands[0]);
      return expr.operands[2] ? eval(*expr.operands[2]) : Value::undefined("");
    }
    return Value();
  }

  // Runs `body`, locating an error it throws without a location at `at`.
  template <typename Body> auto located(SourceRange at, Body body) -> decltype(body()) {
    try {
      return body();
    } catch (Error &error) {
      if (!error.range.valid())
        error.range = at;
      throw;
    }
  }

  // An operand that must be defined (arithmetic, attribute access).
  Value defined(const Expr &expr) {
    Value value = eval(expr);
    if (value.isUndefined())
      throw undefinedError(value, expr.range);
    return value;
  }

  Value attribute(const Expr &expr) {
    Value object = defined(*expr.operands[0]);
    std::string qualified = std::string(textOf(expr.range));
    switch (object.kind()) {
    case Value::Kind::Dict:
      if (const Value *found = object.asDict().find(expr.name))
        return *found;
      break;
    case Value::Kind::Object:
      if (std::optional<Value> found = object.asObject().attribute(expr.name))
        return *found;
      return Value::undefined(qualified);
    default:
      break;
    }
    if (std::optional<Value> bound = method(object, expr.name))
      return *bound;
    return Value::undefined(qualified);
  }

  Value item(const Expr &expr) {
    Value object = defined(*expr.operands[0]);
    Value key = eval(*expr.operands[1]);
    std::string qualified = std::string(textOf(expr.range));
    switch (object.kind()) {
    case Value::Kind::Dict:
      if (const Value *found = object.asDict().find(key.str()))
        return *found;
      return Value::undefined(qualified);
    case Value::Kind::List:
    case Value::Kind::String: {
      if (key.kind() != Value::Kind::Int)
        throw Error{
            expr.operands[1]->range, "indices must be integers, not " + key.typeName(), "", {}};
      int64_t size = object.isString() ? object.asString().size() : object.asList().size();
      int64_t index = key.asInt() < 0 ? key.asInt() + size : key.asInt();
      if (index < 0 || index >= size)
        return Value::undefined(qualified);
      if (object.isString())
        return Value(std::string(1, object.asString()[index]));
      return object.asList()[index];
    }
    case Value::Kind::Object:
      if (std::optional<Value> found = object.asObject().attribute(key.str()))
        return *found;
      return Value::undefined(qualified);
    default:
      throw Error{expr.range, article(object.typeName()) + " cannot be indexed", "", {}};
    }
  }

  Value slice(const Expr &expr) {
    Value object = defined(*expr.operands[0]);
    if (object.kind() != Value::Kind::List && !object.isString())
      throw Error{expr.range, article(object.typeName()) + " cannot be sliced", "", {}};
    int64_t size = object.isString() ? object.asString().size() : object.asList().size();
    auto bound = [&](size_t index) -> std::optional<int64_t> {
      if (!expr.operands[index])
        return std::nullopt;
      Value value = eval(*expr.operands[index]);
      if (value.isNone())
        return std::nullopt;
      if (value.kind() != Value::Kind::Int)
        throw Error{expr.operands[index]->range, "slice indices must be integers", "", {}};
      return value.asInt();
    };
    std::optional<int64_t> start = bound(1), stop = bound(2), step_given = bound(3);
    int64_t step = step_given.value_or(1);
    if (step == 0)
      throw Error{expr.operands[3]->range, "slice step cannot be zero", "", {}};
    auto clamp = [&](std::optional<int64_t> index, int64_t fallback) {
      if (!index)
        return fallback;
      int64_t at = *index < 0 ? *index + size : *index;
      return step > 0 ? std::clamp<int64_t>(at, 0, size) : std::clamp<int64_t>(at, -1, size - 1);
    };
    int64_t from = clamp(start, step > 0 ? 0 : size - 1);
    int64_t to = clamp(stop, step > 0 ? size : -1);
    List items;
    std::string text;
    for (int64_t i = from; step > 0 ? i < to : i > to; i += step) {
      if (object.isString())
        text += object.asString()[i];
      else
        items.push_back(object.asList()[i]);
    }
    return object.isString() ? Value(text) : Value::list(std::move(items));
  }

  CallArgs arguments(const Expr &expr, std::string callee) {
    CallArgs args;
    args.callee = std::move(callee);
    args.range = expr.range;
    for (size_t i = 1; i < expr.operands.size(); ++i)
      args.args.push_back({expr.keywords[i - 1], eval(*expr.operands[i]), expr.operands[i]->range,
                           expr.keyword_ranges[i - 1]});
    return args;
  }

  Value evalCall(const Expr &expr, const Value &caller) {
    const Expr &callee_expr = *expr.operands[0];
    Value callee = eval(callee_expr);
    if (callee.isUndefined())
      throw undefinedError(callee, callee_expr.range);
    CallArgs args = arguments(expr, std::string(textOf(callee_expr.range)));
    args.caller = caller;
    return located(expr.range, [&] { return call(callee, args); });
  }

  Value evalFilter(const Expr &filter, const Value &subject) {
    CallArgs args = arguments(filter, filter.name);
    return located(filter.range, [&] { return applyFilter(*this, filter.name, subject, args); });
  }

  Environment::State &env_;
  std::shared_ptr<const Template> file_;
  std::shared_ptr<Scope> scope_;
};

Value Macro::call(Renderer &renderer, CallArgs &args) {
  auto scope = std::make_shared<Scope>(Scope{{}, closure_});
  Evaluator body(env_, file_, scope);
  // Parameters by position, then by keyword; a parameter not given is its default, or undefined
  // as in Jinja2.
  size_t positional = 0;
  std::vector<bool> given(node_.params.size());
  List varargs;
  Dict kwargs;
  for (const Argument &argument : args.args) {
    if (argument.keyword.empty()) {
      if (positional < node_.params.size()) {
        scope->names[node_.params[positional].name] = argument.value;
        given[positional] = true;
      } else {
        varargs.push_back(argument.value);
      }
      ++positional;
      continue;
    }
    bool known = false;
    for (size_t i = 0; i < node_.params.size(); ++i)
      if (node_.params[i].name == argument.keyword) {
        if (given[i])
          throw Error{argument.keyword_range,
                      "macro " + name_ + "() got two values for \"" + argument.keyword + "\"",
                      "",
                      {}};
        scope->names[argument.keyword] = argument.value;
        given[i] = known = true;
      }
    if (!known)
      kwargs.set(argument.keyword, argument.value);
  }
  if (!varargs.empty() && name_ != "caller")
    throw Error{args.range,
                "macro " + name_ + "() takes " + std::to_string(node_.params.size()) +
                    " arguments, " + std::to_string(positional) + " given",
                "",
                {{node_.range, "defined here"}}};
  if (!kwargs.entries.empty())
    throw Error{args.keyword(kwargs.entries[0].first)->keyword_range,
                "macro " + name_ + "() has no parameter \"" + kwargs.entries[0].first + "\"",
                "",
                {{node_.range, "defined here"}}};
  if (!args.caller.isUndefined())
    scope->names["caller"] = args.caller;
  scope->names["varargs"] = Value::list(std::move(varargs));
  scope->names["kwargs"] = Value::dict(std::move(kwargs));

  try {
    // Defaults are evaluated at the call, in the macro's scope, as in Jinja2; a parameter with
    // neither a value nor a default is undefined.
    for (size_t i = 0; i < node_.params.size(); ++i)
      if (!given[i])
        scope->names[node_.params[i].name] = node_.params[i].default_value
                                                 ? body.evaluate(*node_.params[i].default_value)
                                                 : Value::undefined(node_.params[i].name);
    return Value(body.capture(node_.body));
  } catch (ReturnSignal &signal) {
    return signal.value;
  } catch (Error &error) {
    if (name_ != "caller")
      error.notes.emplace_back(args.range, "in macro " + name_ + "(), called here");
    throw;
  }
}

} // namespace

Environment::Environment(const SourceManager &sources, DiagnosticEngine &diags)
    : state_(std::make_unique<State>(sources, diags)) {
  addGlobalFunctions(state_->globals->names);
  state_->globals->names["return"] = Value::function("return", [](Renderer &, CallArgs &args) {
    args.expect(1, {});
    throw ReturnSignal{args.value(0, "", Value::none()), args.range};
    return Value();
  });
}

Environment::~Environment() = default;

void Environment::setGlobal(const std::string &name, Value value) {
  state_->globals->names[name] = std::move(value);
}

namespace {
void report(DiagnosticEngine &diags, Error &error) {
  Diagnostic &diagnostic = diags.error(error.range, std::move(error.message));
  diagnostic.hint = std::move(error.hint);
  // A deep chain of calls (a macro calling itself) keeps its innermost and outermost calls.
  constexpr size_t kKept = 4;
  std::vector<std::pair<SourceRange, std::string>> &notes = error.notes;
  if (notes.size() > 2 * kKept + 1) {
    size_t omitted = notes.size() - 2 * kKept;
    auto middle = notes.begin() + kKept;
    SourceRange at = middle->first;
    notes.erase(middle, middle + omitted);
    notes.insert(notes.begin() + kKept,
                 {at, "... " + std::to_string(omitted) + " more macro calls ..."});
  }
  diagnostic.notes = std::move(notes);
}
} // namespace

bool Environment::defineMacros(const std::shared_ptr<const Template> &file,
                               const std::string &namespace_name) {
  auto module = std::make_shared<Scope>(Scope{{}, nullptr});
  Evaluator evaluator(*state_, file, module);
  try {
    evaluator.capture(file->body);
  } catch (Error &error) {
    report(state_->diags, error);
    return false;
  } catch (ReturnSignal &signal) {
    state_->diags.error(signal.call, "return() outside a macro");
    return false;
  }
  bool ok = true;
  for (const auto &node : file->body) {
    if (node->kind != Node::Kind::Macro)
      continue;
    std::string key = namespace_name + "." + node->name;
    if (auto first = state_->macro_definitions.find(key);
        first != state_->macro_definitions.end()) {
      Diagnostic &error =
          state_->diags.error(node->range, "macro \"" + node->name + "\" is defined twice");
      error.notes.emplace_back(first->second, "first defined here");
      error.hint = "macro names are global across macro-paths; rename one";
      ok = false;
      continue;
    }
    state_->macro_definitions[key] = node->range;
    state_->macros[namespace_name][node->name] = module->names[node->name];
  }
  return ok;
}

std::optional<Value> Environment::macro(const std::string &namespace_name,
                                        const std::string &name) const {
  auto space = state_->macros.find(namespace_name);
  if (space == state_->macros.end())
    return std::nullopt;
  auto it = space->second.find(name);
  if (it == space->second.end())
    return std::nullopt;
  return it->second;
}

std::vector<std::string> Environment::macroNames(const std::string &namespace_name) const {
  std::vector<std::string> names;
  if (auto space = state_->macros.find(namespace_name); space != state_->macros.end())
    for (const auto &[name, macro] : space->second)
      names.push_back(name);
  return names;
}

namespace {
class Namespace : public Object {
public:
  Namespace(const Environment &env, std::string name) : env_(env), name_(std::move(name)) {}
  std::string typeName() const override { return "namespace " + name_; }
  std::optional<Value> attribute(const std::string &name) override {
    return env_.macro(name_, name);
  }

private:
  const Environment &env_;
  std::string name_;
};
} // namespace

Value Environment::namespaceObject(const std::string &namespace_name) {
  return Value::object(std::make_shared<Namespace>(*this, namespace_name));
}

void Environment::setStepLimit(int64_t limit) { state_->step_limit = limit; }

std::optional<Rendered> Environment::render(const std::shared_ptr<const Template> &file,
                                            const Dict &locals) {
  state_->steps = 0;
  auto scope = std::make_shared<Scope>(Scope{{}, nullptr});
  for (const auto &[name, value] : locals.entries)
    scope->names[name] = value;
  Evaluator evaluator(*state_, file, scope);
  Rendered rendered;
  RenderedOutput out(rendered);
  try {
    evaluator.execute(file->body, out);
  } catch (Error &error) {
    report(state_->diags, error);
    return std::nullopt;
  } catch (ReturnSignal &signal) {
    state_->diags.error(signal.call, "return() outside a macro").hint =
        "return() gives a macro's result; a model renders its text";
    return std::nullopt;
  }
  return rendered;
}

} // namespace kiln::jinja
