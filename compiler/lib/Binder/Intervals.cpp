// Intervals: PostgreSQL's input of interval constants (`interval '3' month`, '1 day 02:00:00',
// '@ 3 hours ago'), and the arithmetic of intervals with dates and timestamps: `ts - ts` is an
// interval, `ts + interval` a timestamp (kiln_add_interval: months on the calendar, then days,
// then microseconds; kiln/runtime/civil.h), intervals add, negate, and multiply and divide by
// numbers (kiln/runtime/interval.h). Constants are folded here with the same code the stdlib runs.
#include "BinderImpl.h"

#include "kiln/Binder/Literals.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kiln::binder {

using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

std::optional<ir::Value> parseIntervalLiteral(std::string_view text, std::string_view fields,
                                              std::string &error) {
  // A bare number is in the unit of the type's last field (interval '3' month).
  std::string bare(
      fields.substr(fields.rfind(' ') == std::string_view::npos ? 0 : fields.rfind(' ') + 1));
  kiln_interval parsed;
  int status = kiln_interval_parse(text.data(), text.size(), bare.c_str(), &parsed);
  if (status <= 0) {
    error = std::string(status < 0 ? "interval field value out of range"
                                   : "invalid input syntax for type interval") +
            ": \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  ir::Value v;
  v.is_null = false;
  v.n = kiln_interval_pack(parsed);
  return v;
}

namespace {

bool isDatetime(const Type &t) { return t.kind == TypeKind::Date || t.isTimestamp(); }

ir::Value packed(kiln_interval v) {
  ir::Value value;
  value.is_null = false;
  value.n = kiln_interval_pack(v);
  return value;
}

} // namespace

std::optional<Bound> Binder::bindIntervalArithmetic(const std::string &op, Bound &left,
                                                    Bound &right, SourceRange range) {
  auto typeOf = [](const Bound &b) { return b.unknown ? Type::null() : b.expr->type; };
  Type lt = typeOf(left), rt = typeOf(right);
  bool left_interval = lt.kind == TypeKind::Interval,
       right_interval = rt.kind == TypeKind::Interval;
  ir::Location loc = location(range);
  bool nullable = left.expr->nullable || right.expr->nullable;
  auto literal = [](const ExprPtr &e) { return e->op == ExprOp::Literal && !e->literal.is_null; };
  auto call = [&](ExprOp kind, Type type, ExprPtr a, ExprPtr b) {
    ExprPtr e = ir::makeCall(kind, type, {}, loc);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    e->nullable = nullable;
    return Bound{std::move(e), false};
  };
  auto outOfRange = [&]() {
    error(range, "interval out of range");
    return Bound{};
  };
  // timestamp - timestamp (a date meeting a timestamp is one): an interval.
  if (op == "-" && isDatetime(lt) && isDatetime(rt) && (lt.isTimestamp() || rt.isTimestamp())) {
    std::optional<Type> common =
        commonType({&left, &right}, range, "operator -", Resolution::Operator);
    if (!common)
      return Bound{};
    ExprPtr a = coerce(std::move(left), *common, range),
            b = coerce(std::move(right), *common, range);
    if (!a || !b)
      return Bound{};
    if (literal(a) && literal(b))
      return Bound{ir::makeLiteral(packed(kiln_timestamp_diff(a->literal.i, b->literal.i)),
                                   Type::interval()),
                   false};
    return call(ExprOp::Sub, Type::interval(), std::move(a), std::move(b));
  }
  if (!left_interval && !right_interval)
    return std::nullopt;
  // A date or timestamp plus or minus an interval: kiln_add_interval of the interval or its
  // negation. PostgreSQL's date + interval is a timestamp; a timestamptz's calendar is UTC's.
  if ((op == "+" || op == "-") &&
      (isDatetime(lt) || isDatetime(rt) || left.unknown || right.unknown)) {
    bool interval_left = left_interval;
    if (interval_left && op == "-") {
      error(range, "operator does not exist: interval - " +
                       (right.unknown ? std::string("unknown") : rt.sqlName()))
          .hint = "subtract the interval from the date or timestamp";
      return Bound{};
    }
    Bound &base = interval_left ? right : left;
    Bound &interval = interval_left ? left : right;
    Type type =
        !base.unknown && base.expr->type.isTimestamp() ? base.expr->type : Type::timestamp();
    ExprPtr timestamp = coerce(std::move(base), type, range);
    ExprPtr amount = std::move(interval.expr);
    if (!timestamp || !amount)
      return Bound{};
    if (op == "-") {
      if (literal(amount)) {
        kiln_interval negated;
        if (!kiln_interval_add_checked({0, 0, 0}, kiln_interval_unpack(amount->literal.n), -1,
                                       &negated))
          return outOfRange();
        amount = ir::makeLiteral(packed(negated), Type::interval());
      } else {
        ExprPtr negated = ir::makeCall(ExprOp::Neg, Type::interval(), {}, loc);
        negated->nullable = amount->nullable;
        negated->args.push_back(std::move(amount));
        amount = std::move(negated);
      }
    }
    if (literal(timestamp) && literal(amount)) {
      kiln_interval v = kiln_interval_unpack(amount->literal.n);
      ir::Value value = timestamp->literal;
      if (!kiln_timestamp_add_interval(value.i, v.months, v.days, v.micros, &value.i)) {
        error(range, "timestamp out of range");
        return Bound{};
      }
      return Bound{ir::makeLiteral(value, type), false};
    }
    std::vector<ExprPtr> args;
    args.push_back(std::move(timestamp));
    args.push_back(std::move(amount));
    ExprPtr e = ir::makeCall(ExprOp::Call, type, std::move(args), loc);
    e->function = ir::FunctionId::AddInterval;
    e->nullable = nullable;
    return Bound{std::move(e), false};
  }
  // interval +/- interval.
  if ((op == "+" || op == "-") && (left_interval || left.unknown) &&
      (right_interval || right.unknown)) {
    ExprPtr a = coerce(std::move(left), Type::interval(), range);
    ExprPtr b = coerce(std::move(right), Type::interval(), range);
    if (!a || !b)
      return Bound{};
    if (literal(a) && literal(b)) {
      kiln_interval sum;
      if (!kiln_interval_add_checked(kiln_interval_unpack(a->literal.n),
                                     kiln_interval_unpack(b->literal.n), op == "+" ? 1 : -1, &sum))
        return outOfRange();
      return Bound{ir::makeLiteral(packed(sum), Type::interval()), false};
    }
    return call(op == "+" ? ExprOp::Add : ExprOp::Sub, Type::interval(), std::move(a),
                std::move(b));
  }
  // interval * number, number * interval, interval / number: the number as a double precision.
  if ((op == "*" && (left_interval != right_interval)) || (op == "/" && left_interval)) {
    Bound &interval = left_interval ? left : right;
    Bound &factor = left_interval ? right : left;
    if (!factor.unknown && !factor.expr->type.isNumericLike()) {
      error(range, "operator does not exist: " + lt.sqlName() + " " + op + " " + rt.sqlName());
      return Bound{};
    }
    ExprPtr a = std::move(interval.expr);
    ExprPtr b = coerce(std::move(factor), Type::float64(), range);
    if (!b)
      return Bound{};
    if (literal(a) && literal(b)) {
      kiln_interval product;
      if (op == "/" && b->literal.f == 0.0) {
        error(range, "division by zero");
        return Bound{};
      }
      bool ok = op == "*" ? kiln_interval_mul_checked(kiln_interval_unpack(a->literal.n),
                                                      b->literal.f, &product)
                          : kiln_interval_div_checked(kiln_interval_unpack(a->literal.n),
                                                      b->literal.f, &product);
      if (!ok)
        return outOfRange();
      return Bound{ir::makeLiteral(packed(product), Type::interval()), false};
    }
    return call(op == "*" ? ExprOp::Mul : ExprOp::Div, Type::interval(), std::move(a),
                std::move(b));
  }
  error(range,
        "operator does not exist: " + (left.unknown ? std::string("unknown") : lt.sqlName()) + " " +
            op + " " + (right.unknown ? std::string("unknown") : rt.sqlName()))
      .hint = "intervals add to dates, timestamps and intervals, and multiply or divide by numbers";
  return Bound{};
}

} // namespace kiln::binder
