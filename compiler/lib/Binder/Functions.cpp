// Scalar function calls: the string, math and date functions Kiln compiles, each coerced to its
// parameter types (a few are canonicalised: trim is btrim, ceiling is ceil, char_length is
// length); mod is the % operator. Aggregate names go to bindAggregateCall (Aggregates.cpp), and
// everything else is rejected with the list of supported functions.
#include "BinderImpl.h"

#include "kiln/IR/TimeZone.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"
#include "kiln/runtime/numformat.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace kiln::binder {

using ir::Expr;
using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

namespace {

// The types PostgreSQL also names a cast function after.
std::optional<Type> functionStyleCast(const std::string &name) {
  static const std::pair<std::string_view, Type (*)()> casts[] = {
      {"date", Type::date},           {"text", Type::text},
      {"int4", Type::int32},          {"int8", Type::int64},
      {"int2", Type::int16},          {"float4", Type::real},
      {"float8", Type::float64},      {"bool", Type::boolean},
      {"timestamp", Type::timestamp}, {"timestamptz", Type::timestamptz}};
  for (const auto &[spelling, make] : casts)
    if (name == spelling)
      return make();
  return std::nullopt;
}

// A date or timestamp argument of a function PostgreSQL has for both timestamp and timestamptz
// (to_char, timezone, age): a date or an untyped literal is a timestamptz, the preferred type.
Type datetimeArgument(const Bound &arg) {
  Type t = arg.unknown ? Type::timestamptz() : arg.expr->type;
  return t.kind == TypeKind::Date ? Type::timestamptz() : t;
}

} // namespace

Bound Binder::bindFunction(const ast::Expr &expr, const Scope &scope) {
  if (expr.names.size() != 1 && !(expr.names.size() == 2 && expr.names[0] == "pg_catalog")) {
    error(expr.range, "function " + expr.names.back() + " is not supported");
    return {};
  }
  const std::string &name = expr.names.back();
  if (expr.over)
    return bindWindowCall(expr, scope);
  if (isWindowFunctionName(name)) {
    error(expr.range, "window function " + name + " requires an OVER clause").hint =
        name + "() OVER (PARTITION BY ... ORDER BY ...)";
    return {};
  }
  if (isAggregateName(name))
    return bindAggregateCall(expr, scope);
  if (isSetFunctionName(name))
    return bindSelectListSetCall(expr, scope);
  if (isArrayCallName(name))
    return bindArrayCall(expr, scope);
  if (name == "grouping")
    return bindGrouping(expr);
  if (expr.agg_filter) {
    error(expr.agg_filter->range,
          "FILTER specified, but " + name + " is not an aggregate function");
    return {};
  }
  if (!expr.agg_order.empty()) {
    error(expr.agg_order[0].expr->range,
          "ORDER BY specified, but " + name + " is not an aggregate function");
    return {};
  }
  if (expr.distinct || expr.star) {
    error(expr.range, "DISTINCT or * in a call to " + name + " is not valid");
    return {};
  }
  if (name == "concat" || name == "concat_ws")
    return bindConcat(expr, scope);
  std::vector<Bound> args;
  for (const ast::ExprPtr &arg : expr.args) {
    args.push_back(bindExpr(*arg, scope));
    if (!args.back())
      return {};
  }
  if (name == "mod" && args.size() == 2) { // the % operator
    return arithmetic("%", std::move(args[0]), std::move(args[1]), expr.range);
  }
  // A type's name called with one argument is a cast, as in PostgreSQL: date(ts), int8(x).
  if (std::optional<Type> type = functionStyleCast(name); type && args.size() == 1) {
    ExprPtr e = coerce(std::move(args[0]), *type, expr.range);
    if (!e)
      return {};
    if (e->op == ExprOp::Cast)
      e->loc = location(expr.range);
    return {std::move(e), false};
  }
  std::optional<ir::FunctionId> id = ir::findFunction(name);
  // Kiln's own functions (named kiln_...) are the binder's to call (timestamp + interval, the
  // standard deviation's root), not the user's.
  auto internal = [](const ir::FunctionInfo &fn) {
    return std::string_view(fn.name).starts_with("kiln_");
  };
  if (id && internal(ir::functionInfo(*id)))
    id.reset();
  if (!id) {
    std::string supported;
    for (const ir::FunctionInfo &fn : ir::allFunctions())
      if (!internal(fn))
        supported += std::string(supported.empty() ? "" : ", ") + fn.name;
    error(expr.range, "function " + name + " is not supported yet").hint =
        "supported functions: " + supported + ", mod, coalesce, nullif, greatest, least";
    return {};
  }
  const ir::FunctionInfo &fn = ir::functionInfo(*id);
  if ((int)args.size() < fn.min_args || (int)args.size() > fn.max_args) {
    std::string count = std::to_string(fn.min_args);
    if (fn.max_args > fn.min_args)
      count += " or " + std::to_string(fn.max_args);
    Diagnostic &d = error(expr.range, "function " + name + " takes " + count + " argument" +
                                          (fn.max_args == 1 ? "" : "s"));
    if (*id == ir::FunctionId::Age && args.size() == 1)
      d.hint = "age(x) counts from today, which a maintained view cannot follow; write "
               "age(timestamp '...', x) from a fixed time";
    return {};
  }
  bool nullable = false;
  for (const Bound &arg : args)
    nullable |= arg.expr->nullable;
  // The call of `fn` with the arguments coerced to `params`.
  auto call = [&](Type result, std::vector<Type> params) -> Bound {
    ExprPtr e = ir::makeCall(ExprOp::Call, result, {}, location(expr.range));
    e->function = *id;
    for (size_t i = 0; i < args.size(); ++i) {
      ExprPtr a = coerce(std::move(args[i]), params[i], expr.args[i]->range);
      if (!a)
        return {};
      e->args.push_back(std::move(a));
    }
    e->nullable = nullable;
    return {std::move(e), false};
  };
  auto argType = [&](size_t i) { return args[i].unknown ? Type::text() : args[i].expr->type; };
  switch (fn.signature) {
  case ir::FunctionSignature::TextToText:
  case ir::FunctionSignature::TextReplace:
    return call(Type::text(), std::vector<Type>(args.size(), Type::text()));
  case ir::FunctionSignature::TextLength:
    return call(Type::int32(), {Type::text()});
  case ir::FunctionSignature::TextIntToText:
    return call(Type::text(), {Type::text(), Type::int32()});
  case ir::FunctionSignature::TextTextToInt:
    return call(Type::int32(), {Type::text(), Type::text()});
  case ir::FunctionSignature::TextTextToBool:
    return call(Type::boolean(), std::vector<Type>(args.size(), Type::text()));
  case ir::FunctionSignature::SplitPart:
    return call(Type::text(), {Type::text(), Type::text(), Type::int32()});
  case ir::FunctionSignature::Pad: {
    std::vector<Type> params{Type::text(), Type::int32()};
    if (args.size() == 3)
      params.push_back(Type::text());
    return call(Type::text(), params);
  }
  case ir::FunctionSignature::TextSubstr: {
    std::vector<Type> params{Type::text(), Type::int32()};
    if (args.size() == 3)
      params.push_back(Type::int32());
    return call(Type::text(), params);
  }
  case ir::FunctionSignature::SameNumber: {
    Type t = argType(0);
    if (!t.isNumericLike())
      t = Type::float64();
    if (t.kind == TypeKind::Numeric)
      t = Type::numeric(ir::kMaxNumericPrecision, t.scale);
    return call(t, {t});
  }
  case ir::FunctionSignature::SquareRoot: {
    // sqrt(integer) is PostgreSQL's float8 function (the preferred numeric type); only a
    // NUMERIC argument takes the exact one.
    Type t = argType(0);
    if (t.kind != TypeKind::Numeric)
      return call(Type::float64(), {Type::float64()});
    return call(Type::numeric(ir::kMaxNumericPrecision, ir::sqrtScale(t.scale)), {t});
  }
  case ir::FunctionSignature::FloatMath:
    for (size_t i = 0; i < args.size(); ++i)
      if (argType(i).kind == TypeKind::Numeric) {
        error(expr.args[i]->range,
              "function " + expr.names.back() + "(numeric) is not supported yet")
            .hint = "cast the argument to double precision";
        return {};
      }
    return call(Type::float64(), std::vector<Type>(args.size(), Type::float64()));
  case ir::FunctionSignature::RoundNumber:
    return bindRounding(expr, fn, args, call);
  case ir::FunctionSignature::DateTrunc:
    return bindDateTrunc(expr, args, call);
  case ir::FunctionSignature::AtTimeZone:
    return bindAtTimeZone(expr, args, call);
  case ir::FunctionSignature::Age: {
    // Both timestamps, or else both timestamptz.
    Type t = datetimeArgument(args[0]) == Type::timestamp() &&
                     datetimeArgument(args[1]) == Type::timestamp()
                 ? Type::timestamp()
                 : Type::timestamptz();
    return call(Type::interval(), {t, t});
  }
  case ir::FunctionSignature::IntervalToInterval:
    return call(Type::interval(), {Type::interval()});
  case ir::FunctionSignature::JsonbBuild: {
    if (*id == ir::FunctionId::JsonbBuildObject && args.size() % 2 != 0) {
      error(expr.range, "argument list must have even number of elements").hint =
          "The arguments of jsonb_build_object() must consist of alternating keys and values.";
      return {};
    }
    // Any values, each as to_jsonb writes its type; an untyped literal is text.
    std::vector<Type> types;
    for (const Bound &arg : args)
      types.push_back(arg.unknown ? Type::text() : arg.expr->type);
    Bound built = call(Type::jsonb(), types);
    if (built && *id != ir::FunctionId::ToJsonb) // a NULL argument is JSON null
      built.expr->nullable = false;
    return built;
  }
  case ir::FunctionSignature::MakeDate:
    return call(Type::date(), {Type::int32(), Type::int32(), Type::int32()});
  case ir::FunctionSignature::MakeTimestamp:
    return call(Type::timestamp(), {Type::int32(), Type::int32(), Type::int32(), Type::int32(),
                                    Type::int32(), Type::float64()});
  case ir::FunctionSignature::ToChar: {
    Type t = datetimeArgument(args[0]);
    if (!args[0].unknown && (t.kind == TypeKind::Int32 || t.kind == TypeKind::Int64 ||
                             t.kind == TypeKind::Numeric || t.kind == TypeKind::Float64))
      return toCharNumber(expr, std::move(args));
    if (!t.isTimestamp()) {
      error(expr.range, "function to_char(" + t.sqlName() + ", text) is not supported yet").hint =
          "Kiln's to_char formats numbers, dates and timestamps";
      return {};
    }
    return call(Type::text(), {t, Type::text()});
  }
  case ir::FunctionSignature::DatePart:
  case ir::FunctionSignature::Extract:
    return bindDateField(expr, fn, args, call);
  case ir::FunctionSignature::JsonbAccess: {
    std::vector<SourceRange> ranges;
    for (const ast::ExprPtr &arg : expr.args)
      ranges.push_back(arg->range);
    return jsonbCall(*id, std::move(args), ranges, expr.range);
  }
  case ir::FunctionSignature::AddInterval:
  case ir::FunctionSignature::VarianceQuotient:
  case ir::FunctionSignature::JsonbMember:
  case ir::FunctionSignature::Array: // bindArrayCall (above)
    break;                           // not found by name (above)
  }
  return {};
}

// round/trunc to a constant number of digits (NUMERIC), or floor/ceil/round of a double.
Bound Binder::bindRounding(const ast::Expr &expr, const ir::FunctionInfo &fn,
                           std::vector<Bound> &args,
                           const std::function<Bound(Type, std::vector<Type>)> &call) {
  const std::string &name = expr.names.back();
  Type t = args[0].unknown ? Type::text() : args[0].expr->type;
  // One integer argument: PostgreSQL prefers the float8 function (floor(5) is a double
  // precision); with digits only the numeric one exists.
  if ((t.kind == TypeKind::Float64 || t.isInteger()) && args.size() == 1)
    return call(Type::float64(), {Type::float64()});
  if (args.size() == 2 && t.kind == TypeKind::Float64) {
    error(expr.range, "function " + name + "(double precision, integer) does not exist").hint =
        "cast the first argument to numeric";
    return {};
  }
  int32_t digits = 0;
  if (args.size() == 2) {
    const Expr &d = *args[1].expr;
    if (d.op != ExprOp::Literal || !d.type.isInteger() || d.literal.is_null) {
      error(expr.args[1]->range,
            "the number of digits of " + name + " must be an integer constant in Kiln");
      return {};
    }
    digits = static_cast<int32_t>(std::clamp<int64_t>(d.literal.i, 0, 30));
  }
  int32_t in_scale = t.kind == TypeKind::Numeric ? t.scale : 0;
  Type in = Type::numeric(ir::kMaxNumericPrecision, in_scale);
  Type out = Type::numeric(ir::kMaxNumericPrecision, args.size() == 2 ? std::max(digits, 0) : 0);
  std::vector<Type> params{in};
  if (args.size() == 2)
    params.push_back(Type::int32());
  return call(out, params);
}

// date_trunc('unit', timestamp): the unit must be a constant Kiln knows.
Bound Binder::bindDateTrunc(const ast::Expr &expr, std::vector<Bound> &args,
                            const std::function<Bound(Type, std::vector<Type>)> &call) {
  if (args[0].expr->op != ExprOp::Literal || !args[0].unknown) {
    error(expr.range, "date_trunc takes a constant unit and a timestamp");
    return {};
  }
  std::string unit = args[0].expr->literal.s;
  std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
  if (ir::dateTruncUnit(unit) < 0) {
    error(expr.args[0]->range, "unit \"" + unit + "\" not recognized for date_trunc");
    return {};
  }
  args[0].expr->literal.s = unit;
  // A date is truncated as a timestamp with time zone (its midnight in UTC), as PostgreSQL
  // resolves date_trunc(text, date); a timestamp keeps its own type.
  Type t = args[1].unknown ? Type::timestamp() : args[1].expr->type;
  if (t.kind == TypeKind::Date)
    t = Type::timestamptz();
  if (!t.isTimestamp())
    t = Type::timestamp(); // the coercion reports what cannot become one
  return call(t, {Type::text(), t});
}

// x AT TIME ZONE 'zone' (timezone('zone', x)): the zone a constant the zone database names; x a
// timestamp or a timestamptz (a date or a text literal is read as a timestamptz, PostgreSQL's
// preferred type).
Bound Binder::bindAtTimeZone(const ast::Expr &expr, std::vector<Bound> &args,
                             const std::function<Bound(Type, std::vector<Type>)> &call) {
  if (args[0].expr->op != ExprOp::Literal || args[0].expr->literal.is_null ||
      !(args[0].unknown || args[0].expr->type == Type::text())) {
    error(expr.args[0]->range, "AT TIME ZONE takes a constant zone name").hint =
        "write the zone as a string constant, e.g. AT TIME ZONE 'Europe/Paris'";
    return {};
  }
  std::string zone_error;
  ir::timeZone(args[0].expr->literal.s, &zone_error);
  if (!zone_error.empty()) {
    error(expr.args[0]->range, zone_error).hint =
        "name a zone of the IANA database (e.g. 'America/New_York' or 'UTC'); fixed offsets "
        "and abbreviations are not supported yet";
    return {};
  }
  Type t = datetimeArgument(args[1]);
  if (!t.isTimestamp()) {
    error(expr.range, "function timezone(text, " + t.str() + ") does not exist").hint =
        "AT TIME ZONE takes a timestamp or a timestamp with time zone";
    return {};
  }
  return call(t.kind == TypeKind::Timestamp ? Type::timestamptz() : Type::timestamp(),
              {Type::text(), t});
}

// extract(field FROM x) and date_part('field', x): the field must be a constant Kiln knows; x a
// date or a timestamp (a text literal is read as a timestamp).
Bound Binder::bindDateField(const ast::Expr &expr, const ir::FunctionInfo &fn,
                            std::vector<Bound> &args,
                            const std::function<Bound(Type, std::vector<Type>)> &call) {
  const std::string &name = expr.names.back();
  if (args[0].expr->op != ExprOp::Literal || !args[0].unknown) {
    error(expr.range, name + " takes a constant field and a date or timestamp");
    return {};
  }
  std::string field = args[0].expr->literal.s;
  std::transform(field.begin(), field.end(), field.begin(), ::tolower);
  int32_t id = ir::dateField(field);
  if (id < 0) {
    error(expr.args[0]->range, "unit \"" + field + "\" not recognized for " + name).hint =
        "Kiln knows year, quarter, month, week, day, hour, minute, second, milliseconds, "
        "microseconds, dow, isodow, doy, isoyear, decade, century, millennium, epoch, "
        "timezone, timezone_hour and timezone_minute";
    return {};
  }
  args[0].expr->literal.s = field;
  Type arg = args[1].unknown ? Type::timestamp() : args[1].expr->type;
  if (arg.kind != TypeKind::Date && !arg.isTimestamp() && arg.kind != TypeKind::Interval) {
    error(expr.args[1]->range, "function " + name + "(text, " + arg.str() + ") does not exist")
        .hint = "the argument must be a date, a timestamp or an interval";
    return {};
  }
  if (kiln_date_field_is_zone(id) && arg.kind != TypeKind::TimestampTz) {
    error(expr.args[0]->range, "unit \"" + field + "\" not supported for type " + arg.sqlName())
        .hint = "only a timestamp with time zone has a zone offset";
    return {};
  }
  if (arg.kind == TypeKind::Interval) {
    if (!kiln_interval_has_field(id)) {
      error(expr.args[0]->range, "unit \"" + field + "\" not supported for type interval");
      return {};
    }
    if (fn.signature == ir::FunctionSignature::DatePart)
      return call(Type::float64(), {Type::text(), arg});
    return call(Type::numeric(ir::kMaxNumericPrecision, kiln_extract_scale(id, false)),
                {Type::text(), arg});
  }
  if (fn.signature == ir::FunctionSignature::DatePart)
    return call(Type::float64(), {Type::text(), arg.isTimestamp() ? arg : Type::timestamp()});
  bool from_date = arg.kind == TypeKind::Date;
  if (from_date && kiln_date_field_is_time(id)) {
    error(expr.args[0]->range, "unit \"" + field + "\" not supported for type date").hint =
        "cast the date to timestamp for its time of day (midnight)";
    return {};
  }
  Type result = Type::numeric(ir::kMaxNumericPrecision, kiln_extract_scale(id, from_date));
  return call(result, {Type::text(), arg});
}

// concat(a, ...) joins its arguments' text, NULLs as nothing: coalesce(a, '') || ...; never NULL.
// concat_ws(sep, a, ...) puts sep between the arguments that are not NULL: each contributes
// coalesce(sep || a, ''), and the first sep is cut off with substr(..., length(sep) + 1), which is
// NULL when sep is (substr and length are strict), as concat_ws is.
Bound Binder::bindConcat(const ast::Expr &expr, const Scope &scope) {
  const std::string &name = expr.names.back();
  bool with_separator = name == "concat_ws";
  if (expr.args.size() < (with_separator ? 2u : 1u)) {
    error(expr.range, "function " + name + " takes " +
                          (with_separator ? "a separator and values" : "one or more values"));
    return {};
  }
  ir::Location loc = location(expr.range);
  std::vector<ExprPtr> texts;
  for (const ast::ExprPtr &arg : expr.args) {
    Bound bound = bindExpr(*arg, scope);
    if (!bound)
      return {};
    ExprPtr text = coerce(std::move(bound), Type::text(), arg->range);
    if (!text)
      return {};
    texts.push_back(std::move(text));
  }
  auto literal = [](const std::string &value) {
    ir::Value v;
    v.is_null = false;
    v.s = value;
    return ir::makeLiteral(v, Type::text());
  };
  auto concat = [&](ExprPtr a, ExprPtr b) {
    bool nullable = a->nullable || b->nullable;
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(a));
    operands.push_back(std::move(b));
    ExprPtr e = ir::makeCall(ExprOp::Concat, Type::text(), std::move(operands), loc);
    e->nullable = nullable;
    return e;
  };
  auto orEmpty = [&](ExprPtr e) {
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(e));
    operands.push_back(literal(""));
    ExprPtr c = ir::makeCall(ExprOp::Coalesce, Type::text(), std::move(operands), loc);
    c->nullable = false;
    return c;
  };
  auto call = [&](ir::FunctionId id, Type type, std::vector<ExprPtr> args) {
    bool nullable = false;
    for (const ExprPtr &a : args)
      nullable |= a->nullable;
    ExprPtr e = ir::makeCall(ExprOp::Call, type, std::move(args), loc);
    e->function = id;
    e->nullable = nullable;
    return e;
  };
  size_t first = with_separator ? 1 : 0;
  ExprPtr joined;
  for (size_t i = first; i < texts.size(); ++i) {
    ExprPtr piece = with_separator ? orEmpty(concat(texts[0]->clone(), std::move(texts[i])))
                                   : orEmpty(std::move(texts[i]));
    joined = joined ? concat(std::move(joined), std::move(piece)) : std::move(piece);
  }
  if (!with_separator)
    return {std::move(joined), false};
  std::vector<ExprPtr> length_args;
  length_args.push_back(texts[0]->clone());
  ExprPtr length = call(ir::FunctionId::Length, Type::int32(), std::move(length_args));
  ir::Value one;
  one.is_null = false;
  one.i = 1;
  std::vector<ExprPtr> sum;
  sum.push_back(std::move(length));
  sum.push_back(ir::makeLiteral(one, Type::int32()));
  bool length_nullable = sum[0]->nullable;
  ExprPtr start = ir::makeCall(ExprOp::Add, Type::int32(), std::move(sum), loc);
  start->nullable = length_nullable;
  std::vector<ExprPtr> substr_args;
  substr_args.push_back(std::move(joined));
  substr_args.push_back(std::move(start));
  return {call(ir::FunctionId::Substr, Type::text(), std::move(substr_args)), false};
}

// to_char of a number: its template a constant, read at compile time so that a bad one is
// PostgreSQL's error here (kiln/runtime/numformat.h) rather than at some row.
Bound Binder::toCharNumber(const ast::Expr &expr, std::vector<Bound> args) {
  const SourceRange &at = expr.args[1]->range;
  ExprPtr format = coerce(std::move(args[1]), Type::text(), at);
  if (!format)
    return {};
  if (format->op != ExprOp::Literal) {
    error(at, "to_char of a number takes a constant template").hint =
        "write the template as a string literal, e.g. 'FM999,990.00'";
    return {};
  }
  if (format->literal.is_null)
    return {ir::makeLiteral(ir::Value{}, Type::text()), false};
  const std::string &text = format->literal.s;
  std::vector<kiln_numfmt_node> nodes(text.size() + 1);
  kiln_numfmt parsed;
  if (const char *message = kiln_numfmt_parse(text.data(), text.size(), nodes.data(), &parsed)) {
    error(at, message);
    return {};
  }
  bool nullable = args[0].expr->nullable;
  ExprPtr e = ir::makeCall(ExprOp::Call, Type::text(), {}, location(expr.range));
  e->function = ir::FunctionId::ToCharNumber;
  e->args.push_back(std::move(args[0].expr));
  e->args.push_back(std::move(format));
  e->nullable = nullable;
  return {std::move(e), false};
}

} // namespace kiln::binder
