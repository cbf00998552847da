// Types and coercion: PostgreSQL's implicit casts for the types Kiln has. The common type of the
// operands of an operator, CASE, COALESCE, IN or set operation; explicit casts in the plan for
// every implicit one (constants are converted at once); and coercion of untyped literals ('text'
// and NULL), which take the type their context wants.
#include "BinderImpl.h"

#include "kiln/Binder/Literals.h"

#include <algorithm>

namespace kiln::binder {

using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

// PostgreSQL's implicit-cast lattice for the types Kiln has: integers widen to bigint, then to
// numeric, then to double precision; date widens to timestamp.
bool elementTextCasts(const Type &from, const Type &to) {
  // (A real's shortest digits read as a double are not its value: 0.1 is 0.100000001490116.)
  return (from.kind == to.kind && !(from.isReal() && !to.isReal())) ||
         from.kind == TypeKind::Text ||
         (to.kind == TypeKind::Text && from.kind != TypeKind::Bool) ||
         (from.isInteger() && to.isInteger()) ||
         ((from.isInteger() || from.kind == TypeKind::Numeric) &&
          (to.kind == TypeKind::Numeric || (to.kind == TypeKind::Float64 && !to.isReal()))) ||
         (from.kind == TypeKind::Date && to.isTimestamp());
}

int typeRank(TypeKind kind) {
  switch (kind) {
  case TypeKind::Int32:
    return 1;
  case TypeKind::Int64:
    return 2;
  case TypeKind::Numeric:
    return 3;
  case TypeKind::Float64:
    return 4;
  default:
    return 0;
  }
}

// The numeric types by width: smallint, integer, bigint, numeric, real, double precision.
int numericRank(const Type &t) {
  switch (t.kind) {
  case TypeKind::Int32:
    return t.isSmallint() ? 1 : 2;
  case TypeKind::Int64:
    return 3;
  case TypeKind::Numeric:
    return 4;
  case TypeKind::Float64:
    return t.isReal() ? 5 : 6;
  default:
    return 0;
  }
}

namespace {

// The type two operands of different types meet in (PostgreSQL's select_common_type for the
// categories Kiln has), or nullopt; `for_operator`: as an operator's operands.
std::optional<Type> commonOfTwo(const Type &a, const Type &b, bool for_operator) {
  if (a.kind == TypeKind::Numeric && b.kind == TypeKind::Numeric)
    return Type::numeric(ir::kMaxNumericPrecision, std::max(a.scale, b.scale));
  if (a.isArray() && b.isArray()) {
    // numeric[] of any typmods is one type to PostgreSQL: the elements keep every digit.
    if (a.element == TypeKind::Numeric && b.element == TypeKind::Numeric)
      return Type::array(Type::numeric(ir::kMaxNumericPrecision, std::max(a.scale, b.scale)));
    // Other arrays meet where their elements do (integer[] becomes bigint[] in GREATEST, CASE
    // or UNION), but an operator takes one array type (there is no bigint[] < integer[]).
    if (for_operator)
      return std::nullopt;
    std::optional<Type> element = commonOfTwo(a.elementType(), b.elementType(), for_operator);
    if (!element || element->isArray())
      return std::nullopt;
    return Type::array(*element);
  }
  int ra = numericRank(a), rb = numericRank(b);
  if (ra && rb) {
    const Type &wider = ra > rb ? a : b;
    if (wider.kind == TypeKind::Numeric)
      return Type::numeric(ir::kMaxNumericPrecision,
                           a.kind == TypeKind::Numeric ? a.scale : b.scale);
    if (wider.isReal() && for_operator)
      return Type::float64(); // PostgreSQL prefers float8's operators
    return wider;
  }
  // PostgreSQL's datetime category prefers timestamptz: date < timestamp < timestamptz.
  auto datetime = [](TypeKind k) {
    return k == TypeKind::Date          ? 1
           : k == TypeKind::Timestamp   ? 2
           : k == TypeKind::TimestampTz ? 3
                                        : 0;
  };
  if (datetime(a.kind) && datetime(b.kind))
    return Type{datetime(a.kind) > datetime(b.kind) ? a.kind : b.kind};
  return std::nullopt;
}

} // namespace

std::optional<Type> Binder::commonType(const std::vector<Bound *> &operands, SourceRange range,
                                       const std::string &what, Resolution resolution) {
  std::optional<Type> result;
  // An operand whose binding failed (and was reported) has no type to contribute; there is no
  // common type then, and the caller stops.
  for (Bound *operand : operands)
    if (!operand->expr)
      return std::nullopt;
  for (Bound *operand : operands) {
    if (operand->unknown)
      continue;
    const Type &t = operand->expr->type;
    if (!result) {
      result = t;
      continue;
    }
    if (*result == t)
      continue;
    std::optional<Type> common = commonOfTwo(*result, t, resolution == Resolution::Operator);
    if (!common) {
      error(range,
            what + " types " + result->sqlName() + " and " + t.sqlName() + " cannot be matched")
          .hint = "add an explicit CAST to one side";
      return std::nullopt;
    }
    result = common;
  }
  // Only untyped literals (strings or NULLs): PostgreSQL resolves them as text.
  return result ? result : Type::text();
}

ExprPtr Binder::castExpr(ExprPtr expr, const Type &target, SourceRange range) {
  if (expr->type == target)
    return expr;
  const Type &from = expr->type;
  auto allowed = [&]() {
    if (from.kind == TypeKind::Null)
      return true;
    // jsonb comes from text, and goes to text, or to a number or boolean it holds.
    if (from.kind == TypeKind::Jsonb)
      return target.kind == TypeKind::Text || target.kind == TypeKind::Bool ||
             typeRank(target.kind) != 0;
    if (target.kind == TypeKind::Jsonb)
      return from.kind == TypeKind::Text;
    // An array comes from text and goes to text; to another array, each element's text is read
    // as the new element type, where that is the element's cast.
    if (from.isArray() && target.isArray())
      return elementTextCasts(from.elementType(), target.elementType());
    if (from.isArray() || target.isArray())
      return target.kind == TypeKind::Text || from.kind == TypeKind::Text;
    // An interval comes from text and goes to text.
    if (from.kind == TypeKind::Interval || target.kind == TypeKind::Interval)
      return target.kind == TypeKind::Text || from.kind == TypeKind::Text;
    if (typeRank(from.kind) && typeRank(target.kind))
      return true;
    if (from.kind == TypeKind::Text || target.kind == TypeKind::Text)
      return true;
    if ((from.kind == TypeKind::Date || from.isTimestamp()) &&
        (target.kind == TypeKind::Date || target.isTimestamp()))
      return true;
    if ((from.kind == TypeKind::Bool && target == Type::int32()) ||
        (from == Type::int32() && target.kind == TypeKind::Bool))
      return true;
    return false;
  };
  if (!allowed()) {
    bool arrays = from.isArray() && target.isArray();
    Diagnostic &d = error(range, "cannot cast type " + from.sqlName() + " to " + target.sqlName() +
                                     (arrays ? " yet" : ""));
    if (arrays)
      d.hint = "cast the elements: unnest the array, cast each element, and array_agg them";
    return nullptr;
  }
  bool nullable = expr->nullable;
  if (expr->op == ExprOp::Literal) {
    // Constants are converted now; a conversion that fails is left to run time, where
    // PostgreSQL raises it too (only if the expression is evaluated).
    std::string ignored;
    if (std::optional<ir::Value> value =
            castLiteral(expr->literal, expr->type, target, ignored, catalog_.time_zone))
      return ir::makeLiteral(std::move(*value), target);
  }
  ExprPtr cast = ir::makeCall(ExprOp::Cast, target, {}, location(range));
  cast->args.push_back(std::move(expr));
  cast->nullable = nullable;
  return cast;
}

ExprPtr Binder::coerce(Bound bound, const Type &target, SourceRange range) {
  if (!bound)
    return nullptr;
  if (bound.unknown && bound.expr->op == ExprOp::Literal && !bound.expr->literal.is_null &&
      target.kind != TypeKind::Text) {
    // 'text' literal in a typed context: parse it now, like PostgreSQL's unknown-type literals.
    std::string error_message;
    std::optional<ir::Value> value =
        parseLiteral(bound.expr->literal.s, target, error_message, catalog_.time_zone);
    if (!value && target.isArray() && error_message.empty()) {
      // An array of elements whose text only the runtime writes: read there.
      bound.expr->type = Type::text();
      return castExpr(std::move(bound.expr), target, range);
    }
    if (!value) {
      error(range, error_message);
      return nullptr;
    }
    return ir::makeLiteral(std::move(*value), target);
  }
  if (bound.expr->op == ExprOp::Literal && bound.expr->literal.is_null) {
    bound.expr->type = target;
    return std::move(bound.expr);
  }
  return castExpr(std::move(bound.expr), target, range);
}

} // namespace kiln::binder
