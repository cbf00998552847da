// Arrays (one-dimensional, kept as PostgreSQL's text: kiln/runtime/ArrayText.h): ARRAY[...],
// subscripts, `x = ANY(a)` and `x <> ALL(a)`, array_length, cardinality and array_to_string.
// The front end spells ARRAY[...] as a call of "array[]", a[i] as "[]", a[lo:hi] as "[:]" (an
// omitted bound given as 1 or 2147483647) and `x op ANY (a)` as
// "any" (or "all") with the operator in the expression's `op`: names no user function has.
#include "BinderImpl.h"

#include "kiln/runtime/ArrayText.h"

namespace kiln::binder {

using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

bool isArrayCallName(const std::string &name) {
  return name == "array[]" || name == "[]" || name == "[:]" || name == "any" || name == "all" ||
         name == "array_length" || name == "cardinality" || name == "array_to_string" ||
         name == "array_cat" || name == "array_append" || name == "array_prepend" ||
         name == "array_position" || name == "array_remove" || name == "string_to_array" ||
         name == "regexp_split_to_array";
}

bool isArrayOperator(const std::string &op) {
  return op == "@>" || op == "<@" || op == "&&" || op == "||";
}

// a @> b, a <@ b, a && b of two arrays of one type (an untyped literal is the other's type);
// a || b of two arrays, or of an array and an element on either side: the side of a typed
// non-array, or `element_side` (0 left, 1 right) for array_prepend and array_append, whose
// untyped NULL is an element.
Bound Binder::bindArrayOperator(const std::string &op, Bound left, Bound right,
                                SourceRange left_range, SourceRange right_range, SourceRange range,
                                int element_side) {
  ir::Location loc = location(range);
  bool left_array = !left.unknown && left.expr->type.isArray();
  bool right_array = !right.unknown && right.expr->type.isArray();
  Type array = left_array ? left.expr->type : right.expr->type;
  auto call = [&](ir::FunctionId id, Type type, ExprPtr a, ExprPtr b, bool nullable) {
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(a));
    operands.push_back(std::move(b));
    ExprPtr e = ir::makeCall(ExprOp::Call, type, std::move(operands), loc);
    e->function = id;
    e->nullable = nullable;
    return e;
  };
  if (op == "||" && element_side < 0 && left_array != right_array &&
      !(left_array ? right : left).unknown)
    element_side = left_array ? 1 : 0;
  if (element_side >= 0) {
    // An element and an array: the element as a one-element array, then concatenated.
    bool element_left = element_side == 0;
    Bound &element = element_left ? left : right;
    ExprPtr value =
        coerce(std::move(element), array.elementType(), element_left ? left_range : right_range);
    if (!value)
      return {};
    std::vector<ExprPtr> texts;
    texts.push_back(arrayElementText(std::move(value), range));
    ExprPtr single = ir::makeCall(ExprOp::Call, array, std::move(texts), loc);
    single->function = ir::FunctionId::ArrayBuild;
    single->nullable = false;
    ExprPtr other = std::move((element_left ? right : left).expr);
    bool nullable = false; // at least the element
    return {
        element_left
            ? call(ir::FunctionId::ArrayCat, array, std::move(single), std::move(other), nullable)
            : call(ir::FunctionId::ArrayCat, array, std::move(other), std::move(single), nullable),
        false};
  }
  if ((left_array && right_array && left.expr->type != right.expr->type)) {
    error(range, "operator does not exist: " + left.expr->type.sqlName() + " " + op + " " +
                     right.expr->type.sqlName())
        .hint = "both arrays need one element type";
    return {};
  }
  bool nullable = left.expr->nullable || right.expr->nullable;
  ExprPtr a = coerce(std::move(left), array, left_range);
  ExprPtr b = coerce(std::move(right), array, right_range);
  if (!a || !b)
    return {};
  if (op == "||") { // NULL only if both are: a NULL array adds no elements
    bool both_nullable = a->nullable && b->nullable;
    return {call(ir::FunctionId::ArrayCat, array, std::move(a), std::move(b), both_nullable),
            false};
  }
  if (op == "<@")
    std::swap(a, b);
  return {call(op == "&&" ? ir::FunctionId::ArrayOverlap : ir::FunctionId::ArrayContains,
               Type::boolean(), std::move(a), std::move(b), nullable),
          false};
}

// An element's text as it stands in an array: its type's output (a boolean's is t or f, not
// the true or false of a cast to text).
ExprPtr Binder::arrayElementText(ExprPtr value, SourceRange range) {
  if (value->type.kind == TypeKind::Bool) {
    ir::Location loc = location(range);
    ir::Value t, f;
    t.is_null = f.is_null = false;
    t.s = "t";
    f.s = "f";
    // CASE WHEN v THEN 't' WHEN NOT v THEN 'f' END: NULL stays NULL.
    bool nullable = value->nullable;
    ExprPtr negated = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    negated->args.push_back(value->clone());
    negated->nullable = nullable;
    ExprPtr e = ir::makeCall(ExprOp::Case, Type::text(), {}, loc);
    e->args.push_back(std::move(value));
    e->args.push_back(ir::makeLiteral(t, Type::text()));
    e->args.push_back(std::move(negated));
    e->args.push_back(ir::makeLiteral(f, Type::text()));
    e->args.push_back(ir::makeLiteral(ir::Value{}, Type::text()));
    e->nullable = nullable;
    return e;
  }
  return castExpr(std::move(value), Type::text(), range);
}

Bound Binder::bindSplitToArray(bool regex, std::vector<Bound> args, const ast::Expr &expr) {
  std::vector<ExprPtr> operands;
  for (size_t i = 0; i < args.size(); ++i) {
    ExprPtr e = coerce(std::move(args[i]), Type::text(), expr.args[i]->range);
    if (!e)
      return {};
    operands.push_back(std::move(e));
  }
  // string_to_array is NULL for a NULL text only (a NULL delimiter splits characters).
  bool nullable = regex ? std::any_of(operands.begin(), operands.end(),
                                      [](const ExprPtr &e) { return e->nullable; })
                        : operands[0]->nullable;
  ExprPtr e = ir::makeCall(ExprOp::Call, Type::array(Type::text()), std::move(operands),
                           location(expr.range));
  e->function = regex ? ir::FunctionId::RegexpSplitToArray : ir::FunctionId::StringToArray;
  e->nullable = nullable;
  return {std::move(e), false};
}

// x op ANY (a) and x op ALL (a) for the other comparisons and LIKE (=, <>, <, <=, >, >=, ~~,
// ~~*, !~~, !~~*) over ARRAY[...] or a constant array: x op each element, ORed (ANY) or ANDed
// (ALL), which is their meaning in PostgreSQL, NULLs included (an empty array: false for ANY,
// true for ALL).
Bound Binder::bindQuantified(const ast::Expr &expr, std::vector<Bound> args, const Scope &scope) {
  bool any = expr.names.back() == "any";
  static const std::map<std::string, ExprOp> kComparisons = {{"=", ExprOp::Eq}, {"<>", ExprOp::Ne},
                                                             {"<", ExprOp::Lt}, {"<=", ExprOp::Le},
                                                             {">", ExprOp::Gt}, {">=", ExprOp::Ge}};
  bool like = expr.op == "~~" || expr.op == "~~*" || expr.op == "!~~" || expr.op == "!~~*";
  auto comparison_op = kComparisons.find(expr.op);
  if (!like && comparison_op == kComparisons.end()) {
    error(expr.range, "operator " + expr.op + " with ANY or ALL is not supported").hint =
        "ANY and ALL take comparisons (=, <>, <, <=, >, >=) and LIKE";
    return {};
  }
  // The elements, as expressions.
  std::vector<Bound> elements;
  const ast::Expr &array = *expr.args[1];
  if (array.kind == ast::ExprKind::FuncCall && array.names == std::vector<std::string>{"array[]"}) {
    for (const ast::ExprPtr &element : array.args) {
      elements.push_back(bindExpr(*element, scope));
      if (!elements.back())
        return {};
    }
  } else if (args[1].expr->op == ExprOp::Literal &&
             (args[1].unknown || args[1].expr->type.isArray())) {
    const ir::Value &constant = args[1].expr->literal;
    if (constant.is_null) // a NULL array: NULL
      return {ir::makeLiteral(ir::Value{}, Type::boolean()), false};
    std::string detail;
    std::optional<array_text::Elements> texts = array_text::parse(constant.s, detail);
    if (!texts) {
      error(array.range, "malformed array literal: \"" + constant.s + "\": " + detail);
      return {};
    }
    for (const std::optional<std::string> &text : *texts) {
      ir::Value value;
      value.is_null = !text;
      value.s = text.value_or("");
      elements.push_back({ir::makeLiteral(std::move(value), Type::null()), true});
      if (text)
        elements.back().expr->type = Type::text();
    }
  } else {
    return compareElements(expr, std::move(args), like, any);
  }
  ir::Location loc = location(expr.range);
  std::vector<ExprPtr> tests;
  for (Bound &element : elements) {
    Bound x{args[0].expr->clone(), args[0].unknown};
    Bound test;
    if (like) {
      ExprPtr a = coerce(std::move(x), Type::text(), expr.args[0]->range);
      ExprPtr b = coerce(std::move(element), Type::text(), array.range);
      if (!a || !b)
        return {};
      bool nullable = a->nullable || b->nullable;
      ExprPtr e = ir::makeCall(ExprOp::Like, Type::boolean(), {}, loc);
      e->flag = expr.op.find('*') != std::string::npos;
      e->args.push_back(std::move(a));
      e->args.push_back(std::move(b));
      e->nullable = nullable;
      if (expr.op[0] == '!') {
        ExprPtr negated = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
        negated->args.push_back(std::move(e));
        negated->nullable = nullable;
        e = std::move(negated);
      }
      test = {std::move(e), false};
    } else {
      test = comparison(comparison_op->second, std::move(x), std::move(element), expr.range);
    }
    if (!test)
      return {};
    tests.push_back(std::move(test.expr));
  }
  if (tests.empty()) { // false for ANY, true for ALL
    ir::Value empty;
    empty.is_null = false;
    empty.b = !any;
    return {ir::makeLiteral(empty, Type::boolean()), false};
  }
  if (tests.size() == 1)
    return {std::move(tests[0]), false};
  bool nullable =
      std::any_of(tests.begin(), tests.end(), [](const ExprPtr &t) { return t->nullable; });
  ExprPtr combined =
      ir::makeCall(any ? ExprOp::Or : ExprOp::And, Type::boolean(), std::move(tests), loc);
  combined->nullable = nullable;
  return {std::move(combined), false};
}

// x op ANY/ALL (a) over an array value (a column, an expression): ArrayCompare reads each
// element as x's type, the operator's common type of x and the element, where reading an
// element's text so is its cast.
Bound Binder::compareElements(const ast::Expr &expr, std::vector<Bound> args, bool like, bool any) {
  const ast::Expr &array = *expr.args[1];
  if (args[1].unknown || !args[1].expr->type.isArray()) {
    error(array.range, "op ANY/ALL (array) requires array on right side").hint =
        "for a subquery, write x " + expr.op + (any ? " ANY" : " ALL") + " (SELECT ...)";
    return {};
  }
  Type element = args[1].expr->type.elementType();
  Type target = Type::text();
  if (like && element != Type::text()) {
    error(array.range,
          "LIKE with ANY or ALL takes a text array, not " + args[1].expr->type.sqlName());
    return {};
  }
  if (!like) {
    Bound stand_in{ir::makeColumn(0, element, true), false};
    std::vector<Bound *> operands{&args[0], &stand_in};
    std::optional<Type> common = commonType(operands, expr.range, "ANY/ALL", Resolution::Operator);
    if (!common)
      return {};
    target = *common;
    if (!elementTextCasts(element, target)) {
      error(expr.range, "comparing " + target.sqlName() + " with the elements of " +
                            args[1].expr->type.sqlName() + " is not supported yet")
          .hint = "cast the value to the element type";
      return {};
    }
  }
  ExprPtr x = coerce(std::move(args[0]), target, expr.args[0]->range);
  if (!x)
    return {};
  static const std::map<std::string, int64_t> kCodes = {
      {"=", 0},  {"<>", 1}, {"<", 2},   {"<=", 3},  {">", 4},
      {">=", 5}, {"~~", 6}, {"~~*", 7}, {"!~~", 8}, {"!~~*", 9}};
  ir::Value code;
  code.is_null = false;
  code.i = kCodes.at(expr.op);
  std::vector<ExprPtr> operands;
  operands.push_back(std::move(args[1].expr));
  operands.push_back(std::move(x));
  operands.push_back(ir::makeLiteral(code, Type::int32()));
  ExprPtr e =
      ir::makeCall(ExprOp::Call, Type::boolean(), std::move(operands), location(expr.range));
  e->function = ir::FunctionId::ArrayCompare;
  e->flag = !any; // ALL
  e->nullable = true;
  return {std::move(e), false};
}

Bound Binder::bindArrayCall(const ast::Expr &expr, const Scope &scope) {
  const std::string &name = expr.names.back();
  if (expr.agg_filter || !expr.agg_order.empty() || expr.distinct || expr.star) {
    error(expr.range, name + " is not an aggregate function");
    return {};
  }
  size_t min_args = name == "array[]" ? 0 : name == "cardinality" ? 1 : name == "[:]" ? 3 : 2;
  if (name == "array_cat" || name == "array_append" || name == "array_prepend") {
    if (expr.args.size() != 2) {
      error(expr.range, "function " + name + " takes 2 arguments");
      return {};
    }
    Bound a = bindExpr(*expr.args[0], scope), b = bindExpr(*expr.args[1], scope);
    if (!a || !b)
      return {};
    // array_append(a, e) is a || e, array_prepend(e, a) is e || a: the array must be one.
    Bound &array = name == "array_prepend" ? b : a;
    if (array.unknown || !array.expr->type.isArray()) {
      error(expr.args[name == "array_prepend" ? 1 : 0]->range,
            "function " + name + " takes an array there")
          .hint = "cast a constant: '{1,2}'::integer[]";
      return {};
    }
    if (name == "array_cat" && (b.unknown || !b.expr->type.isArray()) && !b.unknown) {
      error(expr.args[1]->range, "function array_cat takes two arrays");
      return {};
    }
    return bindArrayOperator("||", std::move(a), std::move(b), expr.args[0]->range,
                             expr.args[1]->range, expr.range,
                             name == "array_append"    ? 1
                             : name == "array_prepend" ? 0
                                                       : -1);
  }
  size_t max_args =
      name == "array[]" ? 100
      : name == "array_to_string" || name == "string_to_array" || name == "regexp_split_to_array"
          ? 3
          : min_args;
  if (expr.args.size() < min_args || expr.args.size() > max_args) {
    error(expr.range, "function " + name + " takes " + std::to_string(min_args) +
                          (max_args > min_args ? " or " + std::to_string(max_args) : "") +
                          " argument" + (max_args == 1 ? "" : "s"));
    return {};
  }
  std::vector<Bound> args;
  for (const ast::ExprPtr &arg : expr.args) {
    args.push_back(bindExpr(*arg, scope));
    if (!args.back())
      return {};
  }
  ir::Location loc = location(expr.range);
  auto call = [&](ir::FunctionId id, Type type, std::vector<ExprPtr> operands, bool nullable) {
    ExprPtr e = ir::makeCall(ExprOp::Call, type, std::move(operands), loc);
    e->function = id;
    e->nullable = nullable;
    return e;
  };
  auto isArray = [&](const Bound &b) { return !b.unknown && b.expr->type.isArray(); };

  if (name == "array[]") { // ARRAY[a, b, ...]: the elements in their common type
    if (args.empty()) {
      error(expr.range, "cannot determine type of empty array").hint =
          "write an empty array as a typed constant: '{}'::integer[]";
      return {};
    }
    std::vector<Bound *> operands;
    for (Bound &arg : args)
      operands.push_back(&arg);
    std::optional<Type> element = commonType(operands, expr.range, "ARRAY");
    if (!element)
      return {};
    if (element->isArray()) {
      error(expr.range, "arrays of arrays are not supported yet");
      return {};
    }
    std::vector<ExprPtr> texts;
    for (size_t i = 0; i < args.size(); ++i) {
      ExprPtr value = coerce(std::move(args[i]), *element, expr.args[i]->range);
      if (!value)
        return {};
      texts.push_back(arrayElementText(std::move(value), expr.args[i]->range));
    }
    return {call(ir::FunctionId::ArrayBuild, Type::array(*element), std::move(texts), false),
            false};
  }

  if (name == "string_to_array" || name == "regexp_split_to_array")
    return bindSplitToArray(name == "regexp_split_to_array", std::move(args), expr);

  if ((name == "[]" || name == "[:]") && !isArray(args[0])) {
    error(expr.args[0]->range,
          "cannot subscript type " +
              (args[0].unknown ? std::string("unknown") : args[0].expr->type.sqlName()) +
              " because it does not support subscripting")
        .hint = "only arrays take subscripts here";
    return {};
  }
  if (name == "[:]") { // a[lo:hi]: the elements from lo to hi (clamped to the array's), renumbered
    bool nullable = args[0].expr->nullable;
    Type type = args[0].expr->type;
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(args[0].expr));
    for (size_t i = 1; i < 3; ++i) {
      nullable |= args[i].expr->nullable;
      ExprPtr bound = coerce(std::move(args[i]), Type::int32(), expr.args[i]->range);
      if (!bound)
        return {};
      operands.push_back(std::move(bound));
    }
    return {call(ir::FunctionId::ArraySlice, type, std::move(operands), nullable), false};
  }
  if (name == "[]") { // a[i]: the element's text, read as the element type
    Type element = args[0].expr->type.elementType();
    ExprPtr index = coerce(std::move(args[1]), Type::int32(), expr.args[1]->range);
    if (!index)
      return {};
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(args[0].expr));
    operands.push_back(std::move(index));
    ExprPtr text = call(ir::FunctionId::ArrayGet, Type::text(), std::move(operands), true);
    if (element == Type::text())
      return {std::move(text), false};
    ExprPtr typed = castExpr(std::move(text), element, expr.range);
    if (typed)
      typed->nullable = true;
    return {std::move(typed), false};
  }

  if (name == "any" || name == "all") { // x = ANY (a), x <> ALL (a)
    bool any = name == "any";
    if ((any && expr.op != "=") || (!any && expr.op != "<>"))
      return bindQuantified(expr, std::move(args), scope);
    Type element;
    if (isArray(args[1])) {
      element = args[1].expr->type.elementType();
    } else if (args[1].unknown) { // x = ANY ('{1,2}'): an array of x's type
      element = args[0].unknown ? Type::text() : args[0].expr->type;
    } else {
      error(expr.args[1]->range, "op ANY/ALL (array) requires array on right side").hint =
          "for a subquery, write x IN (SELECT ...)";
      return {};
    }
    ExprPtr array = coerce(std::move(args[1]), Type::array(element), expr.args[1]->range);
    ExprPtr value = coerce(std::move(args[0]), element, expr.args[0]->range);
    if (!array || !value)
      return {};
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(array));
    operands.push_back(arrayElementText(std::move(value), expr.args[0]->range));
    ExprPtr found = call(ir::FunctionId::ArrayFind, Type::boolean(), std::move(operands), true);
    if (any)
      return {std::move(found), false};
    ExprPtr negated = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    negated->args.push_back(std::move(found));
    negated->nullable = true;
    return {std::move(negated), false};
  }

  // array_length(a, dimension), cardinality(a), array_to_string(a, separator [, null_text]),
  // array_position(a, e), array_remove(a, e)
  if (!isArray(args[0])) {
    error(expr.args[0]->range,
          "function " + name + "(" +
              (args[0].unknown ? std::string("unknown") : args[0].expr->type.sqlName()) +
              ", ...) does not exist")
        .hint = "its first argument is an array; cast a constant: '{1,2}'::integer[]";
    return {};
  }
  bool nullable = false;
  for (const Bound &arg : args)
    nullable |= arg.expr->nullable;
  if (name == "array_position" || name == "array_remove") { // the element by its text
    Type array = args[0].expr->type;
    ExprPtr element = coerce(std::move(args[1]), array.elementType(), expr.args[1]->range);
    if (!element)
      return {};
    bool array_nullable = args[0].expr->nullable;
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(args[0].expr));
    operands.push_back(arrayElementText(std::move(element), expr.args[1]->range));
    if (name == "array_position")
      return {call(ir::FunctionId::ArrayPosition, Type::int32(), std::move(operands), true), false};
    return {call(ir::FunctionId::ArrayRemove, array, std::move(operands), array_nullable), false};
  }
  std::vector<ExprPtr> operands;
  operands.push_back(std::move(args[0].expr));
  for (size_t i = 1; i < args.size(); ++i) {
    Type want = name == "array_length" ? Type::int32() : Type::text();
    ExprPtr e = coerce(std::move(args[i]), want, expr.args[i]->range);
    if (!e)
      return {};
    operands.push_back(std::move(e));
  }
  if (name == "array_length") // NULL for an empty array, or a dimension other than 1
    return {call(ir::FunctionId::ArrayLength, Type::int32(), std::move(operands), true), false};
  if (name == "cardinality")
    return {call(ir::FunctionId::Cardinality, Type::int32(), std::move(operands), nullable), false};
  // array_to_string: NULL for a NULL array or separator; a NULL third argument skips NULLs.
  bool result_nullable = operands[0]->nullable || operands[1]->nullable;
  return {call(ir::FunctionId::ArrayToString, Type::text(), std::move(operands), result_nullable),
          false};
}

} // namespace kiln::binder
