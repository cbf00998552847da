// fold-constants: evaluates what is known at compile time, with PostgreSQL's semantics.
//
// An operation on literals folds only when its result is certain: anything that would raise at
// run time (integer or NUMERIC overflow, division by zero, a date out of range, float overflow
// or underflow) stays, so the error is still raised, with its location. Operators that skip
// operands (AND, OR, CASE, COALESCE) drop only operands that cannot raise or are never evaluated.
// Text ordering depends on the collation and LIKE on its pattern rules: those are left to run
// time, as are function calls.
//
// Boolean logic is three-valued: `x AND TRUE` is x, `x AND FALSE` is FALSE, `x AND NULL` stays
// (it is FALSE or NULL). A filter whose predicate folds to TRUE disappears.

#include "PassDetail.h"

#include "kiln/IR/Utils.h"

#include <cmath>
#include <optional>

namespace kiln::transforms {

using namespace ir;

namespace {

bool isLiteral(const Expr &e) { return e.op == ExprOp::Literal; }
bool isNullLiteral(const Expr &e) { return isLiteral(e) && e.literal.is_null; }
bool isBool(const Expr &e, bool value) {
  return isLiteral(e) && !e.literal.is_null && e.type == Type::boolean() && e.literal.b == value;
}

ExprPtr nullOf(Type type) { return makeLiteral(Value{}, type); }
ExprPtr literalOf(Type type, auto set) {
  Value v;
  v.is_null = false;
  set(v);
  return makeLiteral(std::move(v), type);
}
ExprPtr boolean(bool b) {
  return literalOf(Type::boolean(), [&](Value &v) { v.b = b; });
}
ExprPtr integer(Type type, int64_t i) {
  return literalOf(type, [&](Value &v) { v.i = i; });
}

// --- Exact arithmetic

std::optional<__int128> pow10(int32_t n) {
  if (n < 0 || n > kMaxNumericPrecision)
    return std::nullopt;
  __int128 p = 1;
  for (int32_t i = 0; i < n; ++i)
    p *= 10;
  return p;
}

// `n` at scale `from` as a NUMERIC of `to`, or nullopt if it does not fit `to`'s precision (a
// run-time error). Dropping digits rounds half away from zero, as PostgreSQL's casts do, or
// fails if `exact` (arithmetic results are exact in the type the binder gave them).
std::optional<__int128> rescale(__int128 n, int32_t from, const Type &to, bool exact = false) {
  if (to.scale >= from) {
    auto factor = pow10(to.scale - from);
    if (!factor || __builtin_mul_overflow(n, *factor, &n))
      return std::nullopt;
  } else {
    auto factor = pow10(from - to.scale);
    if (!factor)
      return std::nullopt;
    __int128 rest = n % *factor;
    if (exact && rest != 0)
      return std::nullopt;
    n /= *factor;
    if ((rest < 0 ? -rest : rest) * 2 >= *factor)
      n += n < 0 || rest < 0 ? -1 : 1;
  }
  auto limit = pow10(to.precision);
  if (!limit || n >= *limit || n <= -*limit)
    return std::nullopt;
  return n;
}

bool fitsInteger(const Type &type, int64_t v) {
  if (type.isSmallint())
    return v >= INT16_MIN && v <= INT16_MAX;
  return type.kind == TypeKind::Int64 || (v >= INT32_MIN && v <= INT32_MAX);
}

// A literal's total order where compile-time comparison is exact, as -1/0/1. Text compares only
// for equality (its order is the collation's).
std::optional<int> compare(const Expr &a, const Expr &b, bool equalityOnly) {
  const Value &x = a.literal, &y = b.literal;
  auto sign = [](auto d) { return d < 0 ? -1 : d > 0 ? 1 : 0; };
  TypeKind kind = a.type.kind;
  if (kind != b.type.kind)
    return std::nullopt;
  switch (kind) {
  case TypeKind::Bool:
    return int(x.b) - int(y.b);
  case TypeKind::Int32:
  case TypeKind::Int64:
  case TypeKind::Date:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
    return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
  case TypeKind::Numeric: {
    int32_t scale = std::max(a.type.scale, b.type.scale);
    Type common = Type::numeric(kMaxNumericPrecision, scale);
    auto l = rescale(x.n, a.type.scale, common), r = rescale(y.n, b.type.scale, common);
    if (!l || !r)
      return std::nullopt;
    return sign(*l - *r);
  }
  case TypeKind::Float64:
    // PostgreSQL orders NaN above every other value and equal to itself.
    if (std::isnan(x.f) || std::isnan(y.f))
      return int(std::isnan(x.f)) - int(std::isnan(y.f));
    return x.f < y.f ? -1 : x.f > y.f ? 1 : 0;
  case TypeKind::Interval: // by span: left to run time
    return std::nullopt;
  case TypeKind::Jsonb: // canonical texts: equal values, equal texts
  case TypeKind::Array:
  case TypeKind::Text:
    if (!equalityOnly)
      return std::nullopt;
    return x.s == y.s ? 0 : 1;
  case TypeKind::Null:
    return std::nullopt;
  }
  return std::nullopt;
}

// --- Folding of one operation whose operands are already folded. Returns null to keep `e`.

ExprPtr foldArithmetic(const Expr &e) {
  const Expr &a = *e.args[0];
  bool unary = e.args.size() == 1;
  const Expr &b = unary ? a : *e.args[1];
  if (!isLiteral(a) || !isLiteral(b))
    return nullptr;
  if (a.literal.is_null || b.literal.is_null)
    return nullOf(e.type); // strict
  const Value &x = a.literal, &y = b.literal;
  ExprOp op = e.op;
  if (e.type.isReal()) // float rounding and its range errors are left to run time
    return nullptr;

  if (a.type.isInteger() && (unary || b.type == a.type) && e.type == a.type) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
    case ExprOp::Add:
      overflow = __builtin_add_overflow(x.i, y.i, &r);
      break;
    case ExprOp::Sub:
      overflow = __builtin_sub_overflow(x.i, y.i, &r);
      break;
    case ExprOp::Mul:
      overflow = __builtin_mul_overflow(x.i, y.i, &r);
      break;
    case ExprOp::Neg:
      overflow = __builtin_sub_overflow(int64_t(0), x.i, &r);
      break;
    case ExprOp::Div:
      if (y.i == 0 || (y.i == -1 && x.i == INT64_MIN))
        return nullptr;
      r = x.i / y.i;
      break;
    case ExprOp::Mod:
      if (y.i == 0)
        return nullptr;
      r = y.i == -1 ? 0 : x.i % y.i; // PostgreSQL: INT_MIN % -1 is 0, not an error
      break;
    default:
      return nullptr;
    }
    if (overflow || !fitsInteger(e.type, r))
      return nullptr;
    return integer(e.type, r);
  }

  if (a.type.kind == TypeKind::Date && !unary) {
    int64_t r;
    if (b.type == Type::int32() && e.type == Type::date() &&
        (op == ExprOp::Add || op == ExprOp::Sub)) {
      r = op == ExprOp::Add ? x.i + y.i : x.i - y.i;
      // Stay within years 1..9999, well inside PostgreSQL's date range.
      if (!(r >= -730119 && r <= 2921939))
        return nullptr;
      return integer(e.type, r);
    }
    if (b.type == Type::date() && e.type == Type::int32() && op == ExprOp::Sub) {
      r = x.i - y.i;
      return fitsInteger(e.type, r) ? integer(e.type, r) : nullptr;
    }
    return nullptr;
  }

  if (a.type.kind == TypeKind::Float64 && b.type == a.type && e.type == a.type) {
    if (!std::isfinite(x.f) || !std::isfinite(y.f))
      return nullptr;
    double r;
    switch (op) {
    case ExprOp::Add:
      r = x.f + y.f;
      break;
    case ExprOp::Sub:
      r = x.f - y.f;
      break;
    case ExprOp::Neg:
      r = -x.f;
      break;
    case ExprOp::Mul:
      r = x.f * y.f;
      if (r == 0 && x.f != 0 && y.f != 0)
        return nullptr; // underflow is an error
      break;
    case ExprOp::Div:
      if (y.f == 0)
        return nullptr;
      r = x.f / y.f;
      if (r == 0 && x.f != 0)
        return nullptr;
      break;
    default:
      return nullptr;
    }
    if (!std::isfinite(r))
      return nullptr; // overflow is an error
    return literalOf(e.type, [&](Value &v) { v.f = r; });
  }

  if (a.type.kind == TypeKind::Numeric && b.type.kind == TypeKind::Numeric &&
      e.type.kind == TypeKind::Numeric) {
    // Exact result at scale `scale`, then into the result type (which may round).
    __int128 r;
    int32_t scale = std::max(a.type.scale, b.type.scale);
    Type wide = Type::numeric(kMaxNumericPrecision, scale);
    auto l = rescale(x.n, a.type.scale, wide), rr = rescale(y.n, b.type.scale, wide);
    if (!l || !rr)
      return nullptr;
    switch (op) {
    case ExprOp::Add:
      if (__builtin_add_overflow(*l, *rr, &r))
        return nullptr;
      break;
    case ExprOp::Sub:
      if (__builtin_sub_overflow(*l, *rr, &r))
        return nullptr;
      break;
    case ExprOp::Neg:
      r = -*l;
      break;
    case ExprOp::Mul:
      if (__builtin_mul_overflow(x.n, y.n, &r))
        return nullptr;
      scale = a.type.scale + b.type.scale;
      break;
    default:
      return nullptr; // division's result scale is PostgreSQL's own choice
    }
    auto n = rescale(r, scale, e.type, /*exact=*/true);
    if (!n)
      return nullptr;
    return literalOf(e.type, [&](Value &v) { v.n = *n; });
  }
  return nullptr;
}

ExprPtr foldComparison(const Expr &e) {
  const Expr &a = *e.args[0], &b = *e.args[1];
  if (!isLiteral(a) || !isLiteral(b))
    return nullptr;
  bool distinct = e.op == ExprOp::IsDistinctFrom || e.op == ExprOp::IsNotDistinctFrom;
  if (a.literal.is_null || b.literal.is_null) {
    if (!distinct)
      return nullOf(e.type);
    bool same = a.literal.is_null && b.literal.is_null;
    return boolean(e.op == ExprOp::IsDistinctFrom ? !same : same);
  }
  bool equality = e.op == ExprOp::Eq || e.op == ExprOp::Ne || distinct;
  std::optional<int> c = compare(a, b, equality);
  if (!c)
    return nullptr;
  switch (e.op) {
  case ExprOp::Eq:
  case ExprOp::IsNotDistinctFrom:
    return boolean(*c == 0);
  case ExprOp::Ne:
  case ExprOp::IsDistinctFrom:
    return boolean(*c != 0);
  case ExprOp::Lt:
    return boolean(*c < 0);
  case ExprOp::Le:
    return boolean(*c <= 0);
  case ExprOp::Gt:
    return boolean(*c > 0);
  case ExprOp::Ge:
    return boolean(*c >= 0);
  default:
    return nullptr;
  }
}

// AND / OR: drop identity operands (TRUE for AND), collapse to the absorbing value (FALSE for
// AND) when nothing that could raise would be dropped with it, flatten nested ones.
ExprPtr foldLogic(const Expr &e) {
  bool isAnd = e.op == ExprOp::And;
  std::vector<const Expr *> operands;
  for (const ExprPtr &arg : e.args) {
    if (arg->op == e.op)
      for (const ExprPtr &inner : arg->args)
        operands.push_back(inner.get());
    else
      operands.push_back(arg.get());
  }
  std::vector<ExprPtr> kept;
  bool absorbed = false, raises = false;
  const Expr *null = nullptr;
  for (const Expr *operand : operands) {
    if (isBool(*operand, isAnd))
      continue;
    if (isBool(*operand, !isAnd)) {
      absorbed = true;
    } else if (isNullLiteral(*operand)) {
      if (!null)
        null = operand; // one NULL says all that several would
    } else {
      raises = raises || canRaise(*operand);
      kept.push_back(operand->clone());
    }
  }
  if (absorbed && !raises)
    return boolean(!isAnd);
  if (absorbed)
    kept.push_back(boolean(!isAnd));
  if (null)
    kept.push_back(null->clone());
  if (kept.empty())
    return boolean(isAnd);
  if (kept.size() == 1)
    return std::move(kept[0]);
  if (kept.size() == e.args.size() && operands.size() == e.args.size())
    return nullptr;
  auto folded = makeCall(e.op, e.type, std::move(kept), e.loc);
  folded->nullable = folded->nullable && e.nullable;
  return folded;
}

ExprPtr foldCase(const Expr &e) {
  size_t first = 0; // the first pair that is not a literal FALSE or NULL condition
  while (first + 1 < e.args.size() && isLiteral(*e.args[first])) {
    if (isBool(*e.args[first], true))
      return e.args[first + 1]->clone();
    first += 2;
  }
  if (first == 0)
    return nullptr;
  if (first + 1 == e.args.size())
    return e.args.back()->clone(); // only ELSE is left
  std::vector<ExprPtr> args;
  for (size_t i = first; i < e.args.size(); ++i)
    args.push_back(e.args[i]->clone());
  auto folded = makeCall(ExprOp::Case, e.type, std::move(args), e.loc);
  folded->nullable = folded->nullable && e.nullable;
  return folded;
}

// COALESCE stops at its first non-NULL operand: NULL literals go, and an operand that is never
// NULL ends the list.
ExprPtr foldCoalesce(const Expr &e) {
  std::vector<ExprPtr> args;
  for (const ExprPtr &arg : e.args) {
    if (isNullLiteral(*arg))
      continue;
    args.push_back(arg->clone());
    if (!arg->nullable)
      break;
  }
  if (args.empty())
    return nullOf(e.type);
  if (args.size() == 1)
    return std::move(args[0]);
  if (args.size() == e.args.size())
    return nullptr;
  auto folded = makeCall(ExprOp::Coalesce, e.type, std::move(args), e.loc);
  folded->nullable = folded->nullable && e.nullable;
  return folded;
}

// GREATEST / LEAST of literals, ignoring NULLs.
ExprPtr foldExtreme(const Expr &e) {
  const Expr *best = nullptr;
  for (const ExprPtr &arg : e.args) {
    if (!isLiteral(*arg))
      return nullptr;
    if (arg->literal.is_null)
      continue;
    if (!best) {
      best = arg.get();
      continue;
    }
    std::optional<int> c = compare(*arg, *best, false);
    if (!c)
      return nullptr;
    if (e.op == ExprOp::Greatest ? *c > 0 : *c < 0)
      best = arg.get();
  }
  if (!best)
    return nullOf(e.type);
  return best->type == e.type ? best->clone() : nullptr;
}

ExprPtr foldCast(const Expr &e) {
  const Expr &a = *e.args[0];
  if (a.type == e.type && !isLiteral(a))
    return a.clone();
  if (!isLiteral(a))
    return nullptr;
  if (a.literal.is_null)
    return nullOf(e.type);
  const Value &x = a.literal;
  const Type &to = e.type;
  if (a.type == to)
    return a.clone();
  if (a.type.isInteger() && to.isInteger())
    return fitsInteger(to, x.i) ? integer(to, x.i) : nullptr;
  if (a.type.isInteger() && to.kind == TypeKind::Numeric) {
    auto n = rescale(x.i, 0, to);
    return n ? literalOf(to, [&](Value &v) { v.n = *n; }) : nullptr;
  }
  if (a.type.isInteger() && to.kind == TypeKind::Float64 && !to.isReal())
    return literalOf(to, [&](Value &v) { v.f = double(x.i); });
  if (a.type.kind == TypeKind::Numeric && to.kind == TypeKind::Numeric) {
    auto n = rescale(x.n, a.type.scale, to);
    return n ? literalOf(to, [&](Value &v) { v.n = *n; }) : nullptr;
  }
  return nullptr;
}

ExprPtr foldOne(const Expr &e) {
  auto anyNullLiteral = [&] {
    for (const ExprPtr &arg : e.args)
      if (isNullLiteral(*arg))
        return true;
    return false;
  };
  switch (e.op) {
  case ExprOp::Add:
  case ExprOp::Sub:
  case ExprOp::Mul:
  case ExprOp::Div:
  case ExprOp::Mod:
  case ExprOp::Neg:
    return foldArithmetic(e);
  case ExprOp::Eq:
  case ExprOp::Ne:
  case ExprOp::Lt:
  case ExprOp::Le:
  case ExprOp::Gt:
  case ExprOp::Ge:
  case ExprOp::IsDistinctFrom:
  case ExprOp::IsNotDistinctFrom:
    return foldComparison(e);
  case ExprOp::And:
  case ExprOp::Or:
    return foldLogic(e);
  case ExprOp::Not: {
    const Expr &a = *e.args[0];
    if (a.op == ExprOp::Not)
      return a.args[0]->clone();
    if (!isLiteral(a))
      return nullptr;
    return a.literal.is_null ? nullOf(e.type) : boolean(!a.literal.b);
  }
  case ExprOp::IsNull:
  case ExprOp::IsNotNull: {
    // Known when the operand is a literal, or can never be NULL and evaluating it cannot raise.
    const Expr &a = *e.args[0];
    bool known = isLiteral(a) || (!a.nullable && !canRaise(a));
    if (!known)
      return nullptr;
    bool isNull = isLiteral(a) && a.literal.is_null;
    return boolean(e.op == ExprOp::IsNull ? isNull : !isNull);
  }
  case ExprOp::Case:
    return foldCase(e);
  case ExprOp::Coalesce:
    return foldCoalesce(e);
  case ExprOp::Greatest:
  case ExprOp::Least:
    return foldExtreme(e);
  case ExprOp::NullIf: {
    const Expr &a = *e.args[0], &b = *e.args[1];
    if (!isLiteral(a) || !isLiteral(b))
      return nullptr;
    if (a.literal.is_null)
      return nullOf(e.type);
    if (b.literal.is_null)
      return a.clone();
    std::optional<int> c = compare(a, b, true);
    if (!c)
      return nullptr;
    return *c == 0 ? nullOf(e.type) : a.clone();
  }
  case ExprOp::Cast:
    return foldCast(e);
  case ExprOp::Concat:
    if (anyNullLiteral())
      return nullOf(e.type);
    if (!isLiteral(*e.args[0]) || !isLiteral(*e.args[1]))
      return nullptr;
    return literalOf(e.type, [&](Value &v) { v.s = e.args[0]->literal.s + e.args[1]->literal.s; });
  case ExprOp::Like:
    return anyNullLiteral() ? nullOf(e.type) : nullptr;
  case ExprOp::Column:
  case ExprOp::Literal:
  case ExprOp::Call:
    return nullptr;
  }
  return nullptr;
}

// Folds bottom-up. A replacement must keep the type, and be NOT NULL wherever the original was
// (its users may rely on that).
void fold(ExprPtr &expr) {
  for (ExprPtr &arg : expr->args)
    fold(arg);
  ExprPtr folded = foldOne(*expr);
  if (!folded || folded->type != expr->type || (!expr->nullable && folded->nullable))
    return;
  if (!folded->loc.known() && folded->op != ExprOp::Literal)
    folded->loc = expr->loc;
  expr = std::move(folded);
}

} // namespace

void foldConstants(Module &module) {
  std::unordered_set<int32_t> removed;
  for (const auto &op : module.ops) {
    if (op->predicate)
      fold(op->predicate);
    for (ExprPtr &e : op->exprs)
      fold(e);

    // A filter that keeps every row goes, if its users see the same rows without it (a filter
    // may rename columns or claim NOT NULL).
    if (op->kind != OpKind::Filter || !op->predicate || !isBool(*op->predicate, true))
      continue;
    const Op *input = op->inputs.size() == 1 ? module.find(op->inputs[0]) : nullptr;
    if (!input || !sameSchema(input->schema, op->schema))
      continue;
    replaceAllUses(module, op->id, input->id);
    removed.insert(op->id);
  }
  eraseOps(module, removed);
}

} // namespace kiln::transforms
