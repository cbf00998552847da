// Operators: arithmetic (with PostgreSQL's NUMERIC result scales and date arithmetic),
// comparisons (numeric operands keep their scales), AND / OR / NOT, unary minus (folding negative
// constants), ||, IS [NOT] NULL, IS [NOT] TRUE / FALSE / UNKNOWN, BETWEEN, IN (list) and LIKE.
// Operands are coerced to a common type first (Coercion.cpp).
#include "BinderImpl.h"

#include <algorithm>
#include <cctype>

namespace kiln::binder {

using ir::Expr;
using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

Bound Binder::arithmetic(const std::string &op, Bound left, Bound right, SourceRange range) {
  if (!left || !right) // an operand's error is already reported
    return {};
  if (std::optional<Bound> with_interval = bindIntervalArithmetic(op, left, right, range))
    return std::move(*with_interval);
  const Type &lt = left.expr->type, &rt = right.expr->type;
  ir::Location loc = location(range);
  bool nullable = left.expr->nullable || right.expr->nullable;
  // Date arithmetic: date +/- integer, date - date.
  if (!left.unknown && lt.kind == TypeKind::Date && (op == "+" || op == "-") &&
      (rt.isInteger() || right.unknown)) {
    ExprPtr days = coerce(std::move(right), Type::int32(), range);
    if (!days)
      return {};
    ExprPtr e = ir::makeCall(op == "+" ? ExprOp::Add : ExprOp::Sub, Type::date(), {}, loc);
    e->args.push_back(std::move(left.expr));
    e->args.push_back(std::move(days));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  if (lt.kind == TypeKind::Date && rt.kind == TypeKind::Date && op == "-") {
    ExprPtr e = ir::makeCall(ExprOp::Sub, Type::int32(), {}, loc);
    e->args.push_back(std::move(left.expr));
    e->args.push_back(std::move(right.expr));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  auto numberOrUnknown = [](const Bound &b) { return b.unknown || b.expr->type.isNumericLike(); };
  if (!numberOrUnknown(left) || !numberOrUnknown(right)) {
    error(range,
          "operator does not exist: " + (left.unknown ? std::string("unknown") : lt.sqlName()) +
              " " + op + " " + (right.unknown ? std::string("unknown") : rt.sqlName()))
        .hint = "arithmetic needs numeric operands; add an explicit CAST";
    return {};
  }
  std::optional<Type> common =
      commonType({&left, &right}, range, "operator " + op, Resolution::Operator);
  if (!common)
    return {};
  if (!common->isNumericLike()) {
    // A lone untyped literal next to a number takes the number's type (handled above); two
    // unknowns or non-numeric types have no arithmetic.
    error(range, "operator does not exist: " + lt.sqlName() + " " + op + " " + rt.sqlName()).hint =
        "arithmetic needs numeric operands; add an explicit CAST";
    return {};
  }
  Type operand_type = *common;
  // NUMERIC operands keep their own scales and integers become NUMERIC with scale 0, as in
  // PostgreSQL: the result scale then follows PostgreSQL's rules below.
  auto operandType = [&](const Bound &operand) {
    if (operand_type.kind != TypeKind::Numeric)
      return operand_type;
    if (!operand.unknown && operand.expr->type.kind == TypeKind::Numeric)
      return operand.expr->type;
    if (!operand.unknown && operand.expr->type.isInteger())
      return Type::numeric(ir::kMaxNumericPrecision, 0);
    return operand_type;
  };
  Type ta = operandType(left), tb = operandType(right);
  ExprPtr a = coerce(std::move(left), ta, range);
  ExprPtr b = coerce(std::move(right), tb, range);
  if (!a || !b)
    return {};
  Type result = operand_type;
  ExprOp kind = ExprOp::Add;
  if (op == "+")
    kind = ExprOp::Add;
  else if (op == "-")
    kind = ExprOp::Sub;
  else if (op == "*")
    kind = ExprOp::Mul;
  else if (op == "/")
    kind = ExprOp::Div;
  else if (op == "%")
    kind = ExprOp::Mod;
  if (operand_type.kind == TypeKind::Numeric) {
    // PostgreSQL's result scales: + - %: the larger scale; *: the sum; /: at least 16 digits.
    // Operands keep their own scales (code generation aligns them).
    int32_t sa = a->type.scale, sb = b->type.scale;
    int32_t scale = std::max(sa, sb);
    if (kind == ExprOp::Mul)
      scale = sa + sb;
    if (kind == ExprOp::Div)
      scale = std::max({16, sa, sb});
    if (scale > ir::kMaxNumericPrecision - 1) {
      error(range, "NUMERIC result scale " + std::to_string(scale) + " exceeds Kiln's limit").hint =
          "CAST the operands to a smaller scale first";
      return {};
    }
    result = Type::numeric(ir::kMaxNumericPrecision, scale);
  }
  ExprPtr e = ir::makeCall(kind, result, {}, loc);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  e->nullable = nullable;
  return {std::move(e), false};
}

Bound Binder::comparison(ExprOp op, Bound left, Bound right, SourceRange range) {
  if (!left || !right) // an operand's error is already reported
    return {};
  std::optional<Type> common =
      commonType({&left, &right}, range, "comparison of", Resolution::Operator);
  if (!common)
    return {};
  bool nullable = left.expr->nullable || right.expr->nullable;
  // Numeric operands keep their scales: code generation compares them exactly.
  Type lt = *common, rt = *common;
  if (common->kind == TypeKind::Numeric) {
    if (!left.unknown && left.expr->type.kind == TypeKind::Numeric)
      lt = left.expr->type;
    if (!right.unknown && right.expr->type.kind == TypeKind::Numeric)
      rt = right.expr->type;
    if (!left.unknown && left.expr->type.isInteger())
      lt = Type::numeric(ir::kMaxNumericPrecision, 0);
    if (!right.unknown && right.expr->type.isInteger())
      rt = Type::numeric(ir::kMaxNumericPrecision, 0);
  }
  ExprPtr a = coerce(std::move(left), lt, range);
  ExprPtr b = coerce(std::move(right), rt, range);
  if (!a || !b)
    return {};
  ExprPtr e = ir::makeCall(op, Type::boolean(), {}, location(range));
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  e->nullable =
      (op == ExprOp::IsDistinctFrom || op == ExprOp::IsNotDistinctFrom) ? false : nullable;
  return {std::move(e), false};
}

Bound Binder::bindUnary(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  Bound operand = bindExpr(*expr.args[0], scope);
  if (!operand)
    return {};
  if (expr.op == "NOT") {
    ExprPtr arg = operand.unknown ? coerce(std::move(operand), Type::boolean(), expr.range)
                                  : std::move(operand.expr);
    if (!arg)
      return {};
    if (arg->type.kind != TypeKind::Bool) {
      error(expr.range, "argument of NOT must be type boolean, not type " + arg->type.sqlName());
      return {};
    }
    bool nullable = arg->nullable;
    ExprPtr e = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    e->args.push_back(std::move(arg));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  if (expr.op != "+" && expr.op != "-") {
    // PostgreSQL's other prefix operators (~ bitwise not, @ absolute value, |/ square root,
    // ||/ cube root) have no IR operation yet.
    error(expr.range, "operator " + expr.op + " is not supported yet").hint =
        expr.op == "@" ? "use abs(...)" : "";
    return {};
  }
  if (operand.unknown)
    operand.expr = coerce(std::move(operand), Type::numeric(38, 6), expr.range);
  if (!operand.expr)
    return {};
  if (operand.expr->type.kind == TypeKind::Interval) {
    // -interval is 0 - interval, field by field.
    ir::Value zero;
    zero.is_null = false;
    zero.n = 0;
    Bound none{ir::makeLiteral(zero, Type::interval()), false};
    if (expr.op == "+")
      return operand;
    return arithmetic("-", std::move(none), std::move(operand), expr.range);
  }
  if (!operand.expr->type.isNumericLike()) {
    error(expr.range, "operator does not exist: " + expr.op + " " + operand.expr->type.sqlName());
    return {};
  }
  if (expr.op == "+")
    return operand;
  // Fold negative literals so -2147483648 stays an integer, as PostgreSQL's grammar does.
  if (operand.expr->op == ExprOp::Literal) {
    ir::Value &v = operand.expr->literal;
    if (operand.expr->type.kind == TypeKind::Numeric) {
      v.n = -v.n;
      return operand;
    }
    if (operand.expr->type.kind == TypeKind::Float64) {
      v.f = -v.f;
      return operand;
    }
    // Only where the negated value fits: -(-2147483648) is PostgreSQL's "integer out of range"
    // at run time (a fuzzed model made an out-of-range int4 literal here).
    bool fits = operand.expr->type.isSmallint() ? v.i > INT16_MIN
                : operand.expr->type.kind == TypeKind::Int32
                    ? v.i > INT32_MIN && v.i <= static_cast<int64_t>(INT32_MAX) + 1
                    : v.i != INT64_MIN;
    if (operand.expr->type.isInteger() && fits) {
      v.i = -v.i;
      return operand;
    }
  }
  bool nullable = operand.expr->nullable;
  Type t = operand.expr->type;
  ExprPtr e = ir::makeCall(ExprOp::Neg, t, {}, loc);
  e->args.push_back(std::move(operand.expr));
  e->nullable = nullable;
  return {std::move(e), false};
}

Bound Binder::bindBinary(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  if (expr.op == "AND" || expr.op == "OR") {
    std::vector<ExprPtr> operands;
    bool nullable = false;
    for (const ast::ExprPtr &arg : expr.args) {
      ExprPtr operand = bindCondition(*arg, scope, expr.op.c_str());
      if (!operand)
        return {};
      nullable |= operand->nullable;
      operands.push_back(std::move(operand));
    }
    ExprPtr e = ir::makeCall(expr.op == "AND" ? ExprOp::And : ExprOp::Or, Type::boolean(),
                             std::move(operands), loc);
    e->nullable = nullable;
    return {std::move(e), false};
  }
  Bound left = bindExpr(*expr.args[0], scope);
  Bound right = bindExpr(*expr.args[1], scope);
  if (!left || !right)
    return {};
  static const std::map<std::string, ExprOp> comparisons{
      {"=", ExprOp::Eq},
      {"<>", ExprOp::Ne},
      {"<", ExprOp::Lt},
      {"<=", ExprOp::Le},
      {">", ExprOp::Gt},
      {">=", ExprOp::Ge},
      {"IS DISTINCT FROM", ExprOp::IsDistinctFrom},
      {"IS NOT DISTINCT FROM", ExprOp::IsNotDistinctFrom}};
  if (auto it = comparisons.find(expr.op); it != comparisons.end())
    return comparison(it->second, std::move(left), std::move(right), expr.range);
  if (isArrayOperator(expr.op) && ((!left.unknown && left.expr->type.isArray()) ||
                                   (!right.unknown && right.expr->type.isArray())))
    return bindArrayOperator(expr.op, std::move(left), std::move(right), expr.args[0]->range,
                             expr.args[1]->range, expr.range);
  if (expr.op == "->" || expr.op == "->>" || expr.op == "#>" || expr.op == "#>>" ||
      expr.op == "?" || expr.op == "?|" || expr.op == "?&" || expr.op == "@>" || expr.op == "<@")
    return bindJsonbOperator(expr, std::move(left), std::move(right));
  if (expr.op == "~" || expr.op == "~*" || expr.op == "!~" || expr.op == "!~*") {
    // POSIX regular expression matches: regexp_like, case-insensitive with *, negated with !.
    bool nullable = left.expr->nullable || right.expr->nullable;
    std::vector<ExprPtr> operands;
    operands.push_back(coerce(std::move(left), Type::text(), expr.args[0]->range));
    operands.push_back(coerce(std::move(right), Type::text(), expr.args[1]->range));
    if (!operands[0] || !operands[1])
      return {};
    if (expr.op.find('*') != std::string::npos) {
      ir::Value flags;
      flags.is_null = false;
      flags.s = "i";
      operands.push_back(ir::makeLiteral(flags, Type::text()));
    }
    ExprPtr match = ir::makeCall(ExprOp::Call, Type::boolean(), std::move(operands), loc);
    match->function = ir::FunctionId::RegexpLike;
    match->nullable = nullable;
    if (expr.op[0] != '!')
      return {std::move(match), false};
    std::vector<ExprPtr> negated;
    negated.push_back(std::move(match));
    ExprPtr e = ir::makeCall(ExprOp::Not, Type::boolean(), std::move(negated), loc);
    e->nullable = nullable;
    return {std::move(e), false};
  }
  if (expr.op == "||") {
    bool nullable = left.expr->nullable || right.expr->nullable;
    ExprPtr a = coerce(std::move(left), Type::text(), expr.args[0]->range);
    ExprPtr b = coerce(std::move(right), Type::text(), expr.args[1]->range);
    if (!a || !b)
      return {};
    ExprPtr e = ir::makeCall(ExprOp::Concat, Type::text(), {}, loc);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    e->nullable = nullable;
    return {std::move(e), false};
  }
  if (expr.op == "+" || expr.op == "-" || expr.op == "*" || expr.op == "/" || expr.op == "%")
    return arithmetic(expr.op, std::move(left), std::move(right), expr.range);
  error(expr.range, "operator " + expr.op + " is not supported yet");
  return {};
}

Bound Binder::bindIsNull(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  Bound operand = bindExpr(*expr.args[0], scope);
  if (!operand)
    return {};
  if (operand.unknown)
    operand.expr = coerce(std::move(operand), Type::text(), expr.range);
  ExprPtr e =
      ir::makeCall(expr.negated ? ExprOp::IsNotNull : ExprOp::IsNull, Type::boolean(), {}, loc);
  e->args.push_back(std::move(operand.expr));
  e->nullable = false;
  return {std::move(e), false};
}

Bound Binder::bindIsBool(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  // x IS TRUE = (x IS NOT DISTINCT FROM true); IS UNKNOWN = IS NULL.
  ExprPtr operand = bindCondition(*expr.args[0], scope, "IS");
  if (!operand)
    return {};
  ExprPtr e;
  if (expr.text == "unknown") {
    e = ir::makeCall(expr.negated ? ExprOp::IsNotNull : ExprOp::IsNull, Type::boolean(), {}, loc);
    e->args.push_back(std::move(operand));
  } else {
    ir::Value v;
    v.is_null = false;
    v.b = expr.text == "true";
    e = ir::makeCall(expr.negated ? ExprOp::IsDistinctFrom : ExprOp::IsNotDistinctFrom,
                     Type::boolean(), {}, loc);
    e->args.push_back(std::move(operand));
    e->args.push_back(ir::makeLiteral(v, Type::boolean()));
  }
  e->nullable = false;
  return {std::move(e), false};
}

Bound Binder::bindBetween(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  // a BETWEEN b AND c = a >= b AND a <= c (the operand is evaluated twice; it has no effects).
  if (expr.symmetric) {
    error(expr.range, "BETWEEN SYMMETRIC is not supported yet");
    return {};
  }
  Bound low = comparison(ExprOp::Ge, bindExpr(*expr.args[0], scope), bindExpr(*expr.args[1], scope),
                         expr.range);
  if (!low)
    return {};
  Bound high = comparison(ExprOp::Le, bindExpr(*expr.args[0], scope),
                          bindExpr(*expr.args[2], scope), expr.range);
  if (!high)
    return {};
  bool nullable = low.expr->nullable || high.expr->nullable;
  std::vector<ExprPtr> both;
  both.push_back(std::move(low.expr));
  both.push_back(std::move(high.expr));
  ExprPtr e = ir::makeCall(ExprOp::And, Type::boolean(), std::move(both), loc);
  e->nullable = nullable;
  if (expr.negated) {
    ExprPtr n = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    n->args.push_back(std::move(e));
    n->nullable = nullable;
    return {std::move(n), false};
  }
  return {std::move(e), false};
}

Bound Binder::bindInList(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  // a IN (x, y) = a = x OR a = y, with the same three-valued logic.
  std::vector<Bound> items;
  for (const ast::ExprPtr &arg : expr.args) {
    items.push_back(bindExpr(*arg, scope));
    if (!items.back())
      return {};
  }
  std::vector<Bound *> operands;
  for (Bound &item : items)
    operands.push_back(&item);
  std::optional<Type> common = commonType(operands, expr.range, "IN", Resolution::Operator);
  if (!common)
    return {};
  std::vector<ExprPtr> equalities;
  bool nullable = false;
  for (size_t i = 1; i < items.size(); ++i) {
    Bound lhs{items[0].expr->clone(), items[0].unknown};
    Bound eq = comparison(ExprOp::Eq, std::move(lhs), std::move(items[i]), expr.args[i]->range);
    if (!eq)
      return {};
    nullable |= eq.expr->nullable;
    equalities.push_back(std::move(eq.expr));
  }
  ExprPtr e = equalities.size() == 1
                  ? std::move(equalities[0])
                  : ir::makeCall(ExprOp::Or, Type::boolean(), std::move(equalities), loc);
  e->nullable = nullable;
  if (expr.negated) {
    ExprPtr n = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    n->args.push_back(std::move(e));
    n->nullable = nullable;
    return {std::move(n), false};
  }
  return {std::move(e), false};
}

Bound Binder::bindLike(const ast::Expr &expr, const Scope &scope) {
  ir::Location loc = location(expr.range);
  Bound value = bindExpr(*expr.args[0], scope);
  Bound pattern = bindExpr(*expr.args[1], scope);
  if (!value || !pattern)
    return {};
  bool nullable = value.expr->nullable || pattern.expr->nullable;
  ExprPtr a = coerce(std::move(value), Type::text(), expr.args[0]->range);
  ExprPtr b = coerce(std::move(pattern), Type::text(), expr.args[1]->range);
  if (!a || !b)
    return {};
  if (a->type.kind != TypeKind::Text || b->type.kind != TypeKind::Text) {
    error(expr.range, "LIKE needs text operands");
    return {};
  }
  ExprPtr e = ir::makeCall(ExprOp::Like, Type::boolean(), {}, loc);
  e->flag = expr.case_insensitive;
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  e->nullable = nullable;
  if (expr.negated) {
    ExprPtr n = ir::makeCall(ExprOp::Not, Type::boolean(), {}, loc);
    n->args.push_back(std::move(e));
    n->nullable = nullable;
    return {std::move(n), false};
  }
  return {std::move(e), false};
}

Bound Binder::jsonbCall(ir::FunctionId id, std::vector<Bound> args,
                        const std::vector<SourceRange> &ranges, SourceRange range) {
  ir::JsonbAccessTypes types = ir::jsonbAccessTypes(id);
  bool nullable = types.may_be_null;
  for (const Bound &arg : args)
    nullable |= arg.expr->nullable;
  ExprPtr e = ir::makeCall(ExprOp::Call, types.result, {}, location(range));
  e->function = id;
  for (size_t i = 0; i < args.size(); ++i) {
    Type want = i == 0 ? Type::jsonb() : types.step;
    // Only text and untyped literals become jsonb here (PostgreSQL has no other cast to it).
    if (i == 0 && !args[i].unknown && args[i].expr->type.kind != TypeKind::Jsonb &&
        args[i].expr->type.kind != TypeKind::Text && args[i].expr->type.kind != TypeKind::Null) {
      error(ranges[i], "function " + std::string(ir::functionInfo(id).name) + "(" +
                           args[i].expr->type.sqlName() + ", ...) does not exist")
          .hint = "its first argument is a jsonb value";
      return {};
    }
    ExprPtr a = coerce(std::move(args[i]), want, ranges[i]);
    if (!a)
      return {};
    e->args.push_back(std::move(a));
  }
  e->nullable = nullable;
  return {std::move(e), false};
}

// A text[] constant written '{a,"b,c",d}' (elements in double quotes may hold commas and
// \-escapes): the right side of #>, ?| and ?&, which Kiln takes as constants only.
std::optional<std::vector<std::string>> Binder::textArrayConstant(const Bound &array,
                                                                  SourceRange range,
                                                                  const std::string &what,
                                                                  const std::string &hint) {
  const ir::Expr &path = *array.expr;
  if (path.op != ExprOp::Literal || path.literal.is_null || !array.unknown) {
    error(range, what + " must be a constant in Kiln").hint = hint;
    return std::nullopt;
  }
  std::string_view text = path.literal.s;
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
      s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    error(range, "malformed array literal: \"" + path.literal.s + "\"").hint =
        "write the array '{a,b,c}'";
    return std::nullopt;
  }
  std::string_view rest = trim(text.substr(1, text.size() - 2));
  std::vector<std::string> elements;
  // Elements are separated by commas; one in double quotes may hold commas and \-escapes.
  while (!rest.empty()) {
    std::string step;
    if (rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i)
        step += rest[i] == '\\' && i + 1 < rest.size() ? rest[++i] : rest[i];
      rest = trim(rest.substr(std::min(i + 1, rest.size())));
    } else {
      size_t comma = rest.find(',');
      step = std::string(trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma);
    }
    if (!rest.empty()) {
      if (rest.front() != ',') {
        error(range, "malformed array literal: \"" + path.literal.s + "\"");
        return std::nullopt;
      }
      rest = trim(rest.substr(1));
    }
    elements.push_back(std::move(step));
  }
  return elements;
}

Bound Binder::bindJsonbOperator(const ast::Expr &expr, Bound left, Bound right) {
  const std::string &op = expr.op;
  std::vector<SourceRange> ranges{expr.args[0]->range, expr.args[1]->range};
  std::vector<Bound> args;
  args.push_back(std::move(left));
  if (op == "?") {
    args.push_back(std::move(right));
    return jsonbCall(ir::FunctionId::JsonbExists, std::move(args), ranges, expr.range);
  }
  if (op == "@>" || op == "<@") {
    args.push_back(std::move(right));
    return jsonbCall(op == "@>" ? ir::FunctionId::JsonbContains : ir::FunctionId::JsonbContained,
                     std::move(args), ranges, expr.range);
  }
  if ((op == "?|" || op == "?&") && !right.unknown) { // a text[] value (a column, ARRAY[...])
    args.push_back(std::move(right));
    return jsonbCall(op == "?|" ? ir::FunctionId::JsonbExistsAny : ir::FunctionId::JsonbExistsAll,
                     std::move(args), ranges, expr.range);
  }
  if (op == "?|" || op == "?&") {
    // Any or all of a constant text[]'s keys: ? of each, ORed or ANDed (an empty array:
    // false for ?|, true for ?&, as in PostgreSQL).
    std::optional<std::vector<std::string>> keys =
        textArrayConstant(right, expr.args[1]->range, "the keys of " + op,
                          "write them as a constant: value " + op + " '{a,b}'");
    if (!keys)
      return {};
    bool any = op == "?|";
    ExprPtr result;
    Bound value = std::move(args[0]);
    bool nullable = value.expr && value.expr->nullable;
    for (size_t k = 0; k < keys->size(); ++k) {
      ir::Value key;
      key.is_null = false;
      key.s = (*keys)[k];
      std::vector<Bound> call;
      call.push_back(k + 1 < keys->size() ? Bound{value.expr->clone(), value.unknown}
                                          : std::move(value));
      call.push_back({ir::makeLiteral(std::move(key), Type::text()), false});
      Bound exists = jsonbCall(ir::FunctionId::JsonbExists, std::move(call), ranges, expr.range);
      if (!exists)
        return {};
      if (!result) {
        result = std::move(exists.expr);
        continue;
      }
      ExprPtr both =
          ir::makeCall(any ? ExprOp::Or : ExprOp::And, Type::boolean(), {}, location(expr.range));
      both->nullable = nullable;
      both->args.push_back(std::move(result));
      both->args.push_back(std::move(exists.expr));
      result = std::move(both);
    }
    if (!result) {
      // No keys: false (?|) or true (?&), and NULL for a NULL value, the operator being
      // strict: `v IS NULL AND NULL` or `v IS NOT NULL OR NULL`.
      ir::Location loc = location(expr.range);
      ExprPtr test =
          ir::makeCall(any ? ExprOp::IsNull : ExprOp::IsNotNull, Type::boolean(), {}, loc);
      test->args.push_back(coerce(std::move(value), Type::jsonb(), ranges[0]));
      if (!test->args.back())
        return {};
      result = ir::makeCall(any ? ExprOp::And : ExprOp::Or, Type::boolean(), {}, loc);
      result->nullable = true;
      result->args.push_back(std::move(test));
      result->args.push_back(ir::makeLiteral(ir::Value{}, Type::boolean()));
    }
    return {std::move(result), false};
  }
  bool as_text = op.size() == 3;
  if (op[0] == '-') {
    // An integer picks an array element; anything else (text, an untyped literal) is a key.
    bool index = !right.unknown && right.expr->type.isInteger();
    ir::FunctionId id =
        index
            ? (as_text ? ir::FunctionId::JsonbArrayElementText : ir::FunctionId::JsonbArrayElement)
            : (as_text ? ir::FunctionId::JsonbObjectFieldText : ir::FunctionId::JsonbObjectField);
    args.push_back(std::move(right));
    return jsonbCall(id, std::move(args), ranges, expr.range);
  }
  // #> '{a,0,b}': a text[] constant, whose elements are the path's steps.
  std::optional<std::vector<std::string>> steps = textArrayConstant(
      right, expr.args[1]->range, "the path of " + op,
      "write it as '{key,0,key}', or call jsonb_extract_path with one argument per step");
  if (!steps)
    return {};
  for (std::string &step : *steps) {
    ir::Value v;
    v.is_null = false;
    v.s = std::move(step);
    args.push_back({ir::makeLiteral(std::move(v), Type::text()), false});
  }
  ranges.resize(args.size(), expr.args[1]->range);
  return jsonbCall(as_text ? ir::FunctionId::JsonbExtractPathText
                           : ir::FunctionId::JsonbExtractPath,
                   std::move(args), ranges, expr.range);
}

} // namespace kiln::binder
