// Aggregates: whether an expression calls one (which makes its query an aggregate query), and
// the calls themselves: COUNT, SUM, AVG, MIN and MAX with PostgreSQL's result types. An aggregate
// call becomes a column of the aggregate's output; its argument is bound over the FROM row and
// computed before the aggregate. GROUP BY and the aggregate's plan are built by bindSimpleSelect
// (Select.cpp).
#include "BinderImpl.h"
#include "kiln/IR/Utils.h"

#include <algorithm>

namespace kiln::binder {

using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

namespace {
// The standard deviation and variance family, sample or population.
bool isVarianceName(const std::string &name) {
  return name == "stddev" || name == "stddev_samp" || name == "stddev_pop" || name == "variance" ||
         name == "var_samp" || name == "var_pop";
}
} // namespace

bool Binder::extremeOf(const std::string &name, const Type &type, SourceRange range) {
  if (type.kind == TypeKind::Bool) {
    error(range, "function " + name + "(boolean) does not exist").hint =
        name == "min" ? "use bool_and" : "use bool_or";
    return false;
  }
  if (type.kind == TypeKind::Jsonb) {
    error(range, "function " + name + "(jsonb) does not exist").hint =
        "take the " + name + " of a field: " + name + "((payload ->> 'key')::numeric)";
    return false;
  }
  return true;
}

bool isAggregateName(const std::string &name) {
  return name == "count" || name == "sum" || name == "avg" || name == "min" || name == "max" ||
         name == "bool_and" || name == "bool_or" || name == "every" || name == "string_agg" ||
         name == "array_agg" || name == "jsonb_agg" || name == "jsonb_object_agg" ||
         isVarianceName(name);
}

Type sumType(const Type &t) {
  return t.kind == TypeKind::Int32     ? Type::int64()
         : t.kind == TypeKind::Int64   ? Type::numeric(ir::kMaxNumericPrecision, 0)
         : t.kind == TypeKind::Numeric ? Type::numeric(ir::kMaxNumericPrecision, t.scale)
                                       : t; // sum(real) is real, as PostgreSQL's float4 sum
}

bool containsAggregate(const ast::Expr &expr) {
  // An aggregate with OVER is a window function; its window may still read aggregates.
  if (expr.kind == ast::ExprKind::FuncCall && expr.names.size() == 1 &&
      isAggregateName(expr.names[0]) && !expr.over)
    return true;
  if (expr.over) {
    for (const ast::ExprPtr &e : expr.over->partition)
      if (containsAggregate(*e))
        return true;
    for (const ast::SortItem &item : expr.over->order)
      if (containsAggregate(*item.expr))
        return true;
  }
  for (const ast::ExprPtr &arg : expr.args)
    if (arg && containsAggregate(*arg))
      return true;
  if (expr.case_operand && containsAggregate(*expr.case_operand))
    return true;
  if (expr.case_else && containsAggregate(*expr.case_else))
    return true;
  return false;
}

// An aggregate's one argument, bound over the FROM row (where no aggregate may be called).
Bound Binder::bindAggregateArgument(const ast::Expr &expr) {
  if (expr.args.size() != 1) {
    error(expr.range, "function " + expr.names[0] + " takes exactly one argument");
    return {};
  }
  return bindOverAggregatedRow(*expr.args[0]);
}

Bound Binder::bindOverAggregatedRow(const ast::Expr &expr) {
  if (containsAggregate(expr)) {
    error(expr.range, "aggregate function calls cannot be nested");
    return {};
  }
  AggregateContext *saved = agg_;
  agg_ = nullptr;
  Bound bound = bindExpr(expr, *agg_from_scope_);
  agg_ = saved;
  return bound;
}

// Aggregates that join their group's values in an order (ir::joinsEntries):
// - string_agg(value, separator): the non-NULL values, joined by the separator (a constant here);
// - jsonb_agg(value): to_jsonb of every value, a NULL as null, in a jsonb array;
// - jsonb_object_agg(key, value): an object of `key: to_jsonb(value)` members (a NULL key is an
//   error where the row is aggregated, as in PostgreSQL).
// Each takes DISTINCT and ORDER BY. Without ORDER BY, PostgreSQL's order is its input's; Kiln
// orders by the entry's text. With DISTINCT, the ORDER BY may only name the value (PostgreSQL's
// rule).
Bound Binder::bindOrderedAggregate(const ast::Expr &expr,
                                   const std::function<ExprPtr(ExprPtr)> &filtered) {
  const std::string &name = expr.names[0];
  ir::AggCall call;
  call.kind = name == "string_agg"  ? ir::AggKind::StringAgg
              : name == "jsonb_agg" ? ir::AggKind::JsonbAgg
              : name == "array_agg" ? ir::AggKind::ArrayAgg
                                    : ir::AggKind::JsonbObjectAgg;
  call.name = name;
  call.type = call.kind == ir::AggKind::StringAgg ? Type::text() : Type::jsonb();
  call.distinct = expr.distinct;
  size_t arity = call.kind == ir::AggKind::JsonbAgg || call.kind == ir::AggKind::ArrayAgg ? 1 : 2;
  if (expr.args.size() != arity) {
    error(expr.range, call.kind == ir::AggKind::StringAgg
                          ? "function string_agg takes two arguments: a value and a separator"
                      : arity == 1
                          ? "function " + name + " takes exactly one argument"
                          : "function jsonb_object_agg takes two arguments: a key and a value");
    return {};
  }
  // The entry's value (text or jsonb), and the expression an ORDER BY with DISTINCT must name.
  ExprPtr value, argument;
  ir::Location loc = location(expr.range);
  if (call.kind == ir::AggKind::StringAgg) {
    if (expr.args[1]->kind != ast::ExprKind::Literal) {
      error(expr.args[1]->range, "the separator of string_agg must be a constant in Kiln").hint =
          "write it as a string: string_agg(x, ', ')";
      return {};
    }
    std::optional<ir::Value> separator = bindConstant(*expr.args[1], Type::text());
    if (!separator)
      return {};
    call.separator = separator->is_null ? "" : separator->s; // a NULL separator adds nothing
    Bound bound = bindOverAggregatedRow(*expr.args[0]);
    if (!bound)
      return {};
    if (!bound.unknown && bound.expr->type != Type::text()) {
      error(expr.args[0]->range,
            "function string_agg(" + bound.expr->type.sqlName() + ", text) does not exist")
          .hint = "cast the value to text: string_agg(x::text, ', ')";
      return {};
    }
    value = coerce(std::move(bound), Type::text(), expr.args[0]->range);
    if (!value)
      return {};
    argument = value->clone();
  } else {
    // Each argument as to_jsonb and the builders take it: an untyped literal is text.
    std::vector<ExprPtr> args;
    for (const ast::ExprPtr &arg : expr.args) {
      Bound bound = bindOverAggregatedRow(*arg);
      if (!bound)
        return {};
      ExprPtr e = bound.unknown ? coerce(std::move(bound), Type::text(), arg->range)
                                : std::move(bound.expr);
      if (!e)
        return {};
      args.push_back(std::move(e));
    }
    argument = args[0]->clone();
    if (call.kind == ir::AggKind::ArrayAgg) {
      // The element as it stands in the array: NULL is an element too.
      if (args[0]->type.isArray()) {
        error(expr.args[0]->range, "array_agg of arrays is not supported yet");
        return {};
      }
      call.type = Type::array(args[0]->type);
      std::vector<ExprPtr> operands;
      operands.push_back(arrayElementText(std::move(args[0]), expr.args[0]->range));
      value = ir::makeCall(ir::ExprOp::Call, Type::text(), std::move(operands), loc);
      value->function = ir::FunctionId::ArrayElement;
    } else if (call.kind == ir::AggKind::JsonbAgg) {
      // COALESCE(to_jsonb(x), 'null'): a NULL is an element too.
      bool nullable = args[0]->nullable;
      ExprPtr element = ir::makeCall(ir::ExprOp::Call, Type::jsonb(), std::move(args), loc);
      element->function = ir::FunctionId::ToJsonb;
      element->nullable = nullable;
      ir::Value null_json;
      null_json.is_null = false;
      null_json.s = "null";
      std::vector<ExprPtr> operands;
      operands.push_back(std::move(element));
      operands.push_back(ir::makeLiteral(null_json, Type::jsonb()));
      value = ir::makeCall(ir::ExprOp::Coalesce, Type::jsonb(), std::move(operands), loc);
    } else {
      value = ir::makeCall(ir::ExprOp::Call, Type::text(), std::move(args), loc);
      value->function = ir::FunctionId::JsonbObjectMember;
    }
    value->nullable = false;
  }
  int32_t group_count = static_cast<int32_t>(agg_->group_exprs.size());
  auto column = [&](ExprPtr e) {
    // The same expression once: `ORDER BY x` of string_agg(x, ...) orders by the value's column.
    for (size_t i = 0; i < agg_->agg_args.size(); ++i)
      if (ir::sameExpr(*agg_->agg_args[i], *e))
        return group_count + static_cast<int32_t>(i);
    agg_->agg_args.push_back(std::move(e));
    return group_count + static_cast<int32_t>(agg_->agg_args.size()) - 1;
  };
  call.arg = column(filtered(std::move(value)));
  for (const ast::SortItem &item : expr.agg_order) {
    Bound key = bindOverAggregatedRow(*item.expr);
    if (!key)
      return {};
    if (key.unknown)
      key.expr = coerce(std::move(key), Type::text(), item.expr->range);
    if (!key.expr)
      return {};
    if (call.distinct && !ir::sameExpr(*key.expr, *argument)) {
      error(item.expr->range,
            "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list");
      return {};
    }
    ir::SortKey sort;
    sort.descending = item.descending;
    sort.nulls_first = item.nulls == 0 ? item.descending : item.nulls == 1;
    sort.column = column(std::move(key.expr));
    call.order.push_back(sort);
  }
  if (call.order.empty())
    call.order.push_back({call.arg, false, false});
  Type type = call.type;
  agg_->aggs.push_back(std::move(call));
  return {ir::makeColumn(group_count + static_cast<int32_t>(agg_->aggs.size()) - 1, type, true),
          false};
}

// One more aggregate of the query: `kind` of the argument column `arg` (of [group expressions...,
// aggregate arguments...]), or of a new argument `argument` when it is given. Returns its column
// of the aggregate's output (NULL over no values unless it is a count).
ExprPtr Binder::addAggregate(ir::AggKind kind, const Type &type, const std::string &name,
                             ExprPtr argument, int32_t arg) {
  int32_t group_count = static_cast<int32_t>(agg_->group_exprs.size());
  if (argument) {
    arg = group_count + static_cast<int32_t>(agg_->agg_args.size());
    agg_->agg_args.push_back(std::move(argument));
  }
  agg_->aggs.push_back({kind, arg, type, name});
  bool count = kind == ir::AggKind::Count || kind == ir::AggKind::CountDistinct;
  return ir::makeColumn(group_count + static_cast<int32_t>(agg_->aggs.size()) - 1, type, !count);
}

Bound Binder::bindAggregateCall(const ast::Expr &expr, const Scope &scope) {
  NoSetFunctions no_sets(*this); // PostgreSQL: "aggregate function calls cannot contain
                                 // set-returning function calls"
  const std::string &name = expr.names[0];
  if (!agg_) {
    error(expr.range, "aggregate functions are not allowed here");
    return {};
  }
  // An aggregate's argument and FILTER read the FROM row, where no window function may be called.
  struct NoWindows {
    Binder &b;
    WindowContext *saved;
    const char *saved_reason;
    ~NoWindows() { b.window_ = saved, b.window_forbidden_ = saved_reason; }
  } no_windows{*this, window_, window_forbidden_};
  window_ = nullptr;
  window_forbidden_ = "aggregate function calls cannot contain window function calls";
  // count, sum and avg (DISTINCT x) keep a multiset of x per group; min and max ignore duplicates
  // anyway.
  if (expr.distinct && name != "count" && name != "min" && name != "max" && name != "sum" &&
      name != "avg" && name != "string_agg" && name != "jsonb_agg" && name != "jsonb_object_agg" &&
      name != "array_agg") {
    error(expr.range, name + "(DISTINCT ...) is not supported yet").hint =
        "aggregate over a SELECT DISTINCT subquery instead";
    return {};
  }
  ir::AggCall call;
  call.name = name;
  int32_t group_count = static_cast<int32_t>(agg_->group_exprs.size());
  // FILTER (WHERE c): the aggregate sees its argument where c holds and NULL elsewhere, which
  // every aggregate here skips (count(*) counts a TRUE where c holds).
  ExprPtr filter;
  if (expr.agg_filter) {
    if (containsAggregate(*expr.agg_filter)) {
      error(expr.agg_filter->range, "aggregate functions are not allowed in FILTER");
      return {};
    }
    AggregateContext *saved = agg_;
    agg_ = nullptr;
    filter = bindCondition(*expr.agg_filter, *agg_from_scope_, "FILTER");
    agg_ = saved;
    if (!filter)
      return {};
  }
  auto filtered = [&](ExprPtr value) {
    if (!filter)
      return value;
    ir::Location loc = location(expr.agg_filter->range);
    Type type = value->type;
    ExprPtr e = ir::makeCall(ir::ExprOp::Case, type, {}, loc);
    e->args.push_back(filter->clone());
    e->args.push_back(std::move(value));
    e->args.push_back(ir::makeLiteral(ir::Value{}, type)); // ELSE NULL
    e->nullable = true;
    return e;
  };
  if (name == "bool_and" || name == "bool_or" || name == "every")
    return bindBooleanAggregate(expr, filtered);
  if (name == "string_agg" || name == "jsonb_agg" || name == "jsonb_object_agg" ||
      name == "array_agg")
    return bindOrderedAggregate(expr, filtered);
  if (isVarianceName(name))
    return bindVarianceAggregate(expr, filtered);
  if (expr.star || (name == "count" && expr.args.empty())) {
    if (name != "count") {
      error(expr.range, name + "(*) is not valid").hint = "only count(*) takes *";
      return {};
    }
    call.kind = ir::AggKind::CountStar;
    call.type = Type::int64();
    if (filter) { // count(*) FILTER (WHERE c) = count(CASE WHEN c THEN TRUE END)
      ir::Value yes;
      yes.is_null = false;
      yes.b = true;
      call.kind = ir::AggKind::Count;
      call.arg = group_count + static_cast<int32_t>(agg_->agg_args.size());
      agg_->agg_args.push_back(filtered(ir::makeLiteral(yes, Type::boolean())));
    }
  } else {
    Bound arg = bindAggregateArgument(expr);
    if (!arg)
      return {};
    if (arg.unknown) {
      arg.expr = coerce(std::move(arg), Type::text(), expr.args[0]->range);
      if (!arg.expr)
        return {};
    }
    const Type &t = arg.expr->type;
    if (name == "count") {
      call.kind = expr.distinct ? ir::AggKind::CountDistinct : ir::AggKind::Count;
      call.type = Type::int64();
    } else if (name == "min" || name == "max") {
      if (!extremeOf(name, t, expr.range))
        return {};
      call.kind = name == "min" ? ir::AggKind::Min : ir::AggKind::Max;
      call.type = t;
    } else if (t.kind == TypeKind::Interval) {
      // Intervals add field by field (months, days, time): a sum retracts exactly, and avg
      // divides it by the count as interval / number does.
      if (expr.distinct) {
        error(expr.range, name + "(DISTINCT interval) is not supported yet").hint =
            "aggregate over a SELECT DISTINCT subquery instead";
        return {};
      }
      call.kind = name == "sum" ? ir::AggKind::Sum : ir::AggKind::Avg;
      call.type = t;
    } else {
      if (!t.isNumericLike()) {
        error(expr.range, "function " + name + "(" + t.sqlName() + ") does not exist").hint =
            name + " takes a numeric argument or an interval";
        return {};
      }
      if (name == "sum") {
        call.kind = expr.distinct ? ir::AggKind::SumDistinct : ir::AggKind::Sum;
        call.type = sumType(t);
      } else if (expr.distinct) {
        return bindDistinctAverage(expr, std::move(arg.expr), filtered);
      } else {
        call.kind = ir::AggKind::Avg;
        if (t.kind == TypeKind::Float64)
          call.type = Type::float64();
        else
          call.type = Type::numeric(ir::kMaxNumericPrecision,
                                    std::max(16, t.kind == TypeKind::Numeric ? t.scale : 0));
      }
    }
    // Arguments are computed before the aggregate, after the group expressions.
    call.arg = group_count + static_cast<int32_t>(agg_->agg_args.size());
    agg_->agg_args.push_back(filtered(std::move(arg.expr)));
  }
  agg_->aggs.push_back(call);
  int32_t column = group_count + static_cast<int32_t>(agg_->aggs.size()) - 1;
  // count never returns NULL; the others do on groups whose values are all NULL.
  bool nullable = call.kind != ir::AggKind::CountStar && call.kind != ir::AggKind::Count &&
                  call.kind != ir::AggKind::CountDistinct;
  return {ir::makeColumn(column, call.type, nullable), false};
}

// bool_and (every) and bool_or from two counts that retract: the non-NULL values and the TRUE
// ones. NULL when there are no non-NULL values; else bool_or is "some TRUE" and bool_and "all
// TRUE".
Bound Binder::bindBooleanAggregate(const ast::Expr &expr,
                                   const std::function<ExprPtr(ExprPtr)> &filtered) {
  const std::string &name = expr.names[0];
  Bound arg = bindAggregateArgument(expr); // (an aggregate(*) has no argument: an error there)
  if (!arg)
    return {};
  ExprPtr value = coerce(std::move(arg), Type::boolean(), expr.args[0]->range);
  if (!value)
    return {};
  ir::Location loc = location(expr.range);
  value = filtered(std::move(value));
  ir::Value yes;
  yes.is_null = false;
  yes.b = true;
  ExprPtr when_true = ir::makeCall(ir::ExprOp::Case, Type::boolean(), {}, loc);
  when_true->args.push_back(value->clone());
  when_true->args.push_back(ir::makeLiteral(yes, Type::boolean()));
  when_true->args.push_back(ir::makeLiteral(ir::Value{}, Type::boolean()));
  when_true->nullable = true;
  auto count = [&](ExprPtr counted) {
    return addAggregate(ir::AggKind::Count, Type::int64(), name, std::move(counted));
  };
  ExprPtr values = count(std::move(value));
  ExprPtr trues = count(std::move(when_true));
  auto compare = [&](ir::ExprOp op, ExprPtr a, ExprPtr b) {
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(a));
    operands.push_back(std::move(b));
    ExprPtr e = ir::makeCall(op, Type::boolean(), std::move(operands), loc);
    e->nullable = false;
    return e;
  };
  ir::Value zero;
  zero.is_null = false;
  ExprPtr none = compare(ir::ExprOp::Eq, values->clone(), ir::makeLiteral(zero, Type::int64()));
  ExprPtr result = name == "bool_or" ? compare(ir::ExprOp::Gt, std::move(trues),
                                               ir::makeLiteral(zero, Type::int64()))
                                     : compare(ir::ExprOp::Eq, std::move(trues), std::move(values));
  ExprPtr e = ir::makeCall(ir::ExprOp::Case, Type::boolean(), {}, loc);
  e->args.push_back(std::move(none));
  e->args.push_back(ir::makeLiteral(ir::Value{}, Type::boolean()));
  e->args.push_back(std::move(result));
  e->nullable = true;
  return {std::move(e), false};
}

// GROUPING(a, b, ...): per row, a bit per argument (the first the highest), set where the row's
// grouping set lacks that key. Each argument must be a GROUP BY expression. The call reads a
// placeholder column that bindSimpleSelect turns into a constant of each set's rows.
Bound Binder::bindGrouping(const ast::Expr &expr) {
  if (!agg_) {
    error(expr.range, "GROUPING is only allowed in the select list and HAVING of a "
                      "query with GROUP BY")
        .hint = "select it as a column, and ORDER BY that column's name";
    return {};
  }
  if (expr.args.empty() || expr.args.size() > 31 || expr.star || expr.distinct) {
    error(expr.range, "GROUPING takes 1 to 31 GROUP BY expressions");
    return {};
  }
  std::vector<int32_t> keys;
  for (const ast::ExprPtr &arg : expr.args) {
    AggregateContext *saved = agg_;
    agg_ = nullptr;
    Bound bound = bindExpr(*arg, *agg_from_scope_);
    agg_ = saved;
    if (!bound)
      return {};
    auto key = std::find_if(agg_->group_exprs.begin(), agg_->group_exprs.end(),
                            [&](const ExprPtr &g) { return ir::sameExpr(*g, *bound.expr); });
    if (key == agg_->group_exprs.end()) {
      error(arg->range, "arguments to GROUPING must be grouping expressions of the associated "
                        "query level")
          .hint = "name a GROUP BY expression";
      return {};
    }
    keys.push_back(static_cast<int32_t>(key - agg_->group_exprs.begin()));
  }
  agg_->groupings.push_back(std::move(keys));
  return {ir::makeColumn(kGroupingColumn + static_cast<int32_t>(agg_->groupings.size()) - 1,
                         Type::int32(), false),
          false};
}

// avg(DISTINCT x): sum(DISTINCT x) / count(DISTINCT x), both read from one multiset of x, typed
// as avg(x) is (NULL over no values).
Bound Binder::bindDistinctAverage(const ast::Expr &expr, ExprPtr arg,
                                  const std::function<ExprPtr(ExprPtr)> &filtered) {
  SourceRange range = expr.range;
  const Type t = arg->type;
  int32_t group_count = static_cast<int32_t>(agg_->group_exprs.size());
  int32_t column = group_count + static_cast<int32_t>(agg_->agg_args.size());
  agg_->agg_args.push_back(filtered(std::move(arg)));
  auto aggregate = [&](ir::AggKind kind, Type type) -> Bound {
    return {addAggregate(kind, type, expr.names[0], nullptr, column), false};
  };
  Bound sum = aggregate(ir::AggKind::SumDistinct, sumType(t));
  Bound count = aggregate(ir::AggKind::CountDistinct, Type::int64());
  ir::Value zero;
  zero.is_null = false;
  Bound none = comparison(ir::ExprOp::Eq, {count.expr->clone(), false},
                          {ir::makeLiteral(zero, Type::int64()), false}, range);
  // avg's type: double precision of doubles; else NUMERIC with 16 decimals at least.
  Type type = t.kind == TypeKind::Float64
                  ? Type::float64()
                  : Type::numeric(ir::kMaxNumericPrecision,
                                  std::max(16, t.kind == TypeKind::Numeric ? t.scale : 0));
  if (t.kind != TypeKind::Float64) // a NUMERIC quotient, not an integer division
    sum = {
        coerce(std::move(sum),
               Type::numeric(ir::kMaxNumericPrecision, t.kind == TypeKind::Numeric ? t.scale : 0),
               range),
        false};
  Bound quotient = arithmetic("/", std::move(sum), std::move(count), range);
  if (!none || !quotient)
    return {};
  ExprPtr value = coerce(std::move(quotient), type, range);
  if (!value)
    return {};
  // An empty group's quotient is NULL, not a division by zero.
  ExprPtr e = ir::makeCall(ir::ExprOp::Case, type, {}, location(range));
  e->args.push_back(std::move(none.expr));
  e->args.push_back(ir::makeLiteral(ir::Value{}, type));
  e->args.push_back(std::move(value));
  e->nullable = true;
  return {std::move(e), false};
}

// stddev/variance (sample or population) from three sums that retract: n = count(x), s = sum(x)
// and q = sum(x * x); n*q - s*s over n*(n-1) (or n*n) is the variance, as PostgreSQL's numeric
// code computes it. Integers and NUMERICs sum exactly, so the result is PostgreSQL's to the last
// digit of its scale (16 decimals at least); double precision sums round, as SUM's do.
Bound Binder::bindVarianceAggregate(const ast::Expr &expr,
                                    const std::function<ExprPtr(ExprPtr)> &filtered) {
  const std::string &name = expr.names[0];
  Bound arg = bindAggregateArgument(expr);
  if (!arg)
    return {};
  if (arg.unknown) {
    arg.expr = coerce(std::move(arg), Type::float64(), expr.args[0]->range);
    if (!arg.expr)
      return {};
  }
  const Type &t = arg.expr->type;
  if (!t.isNumericLike()) {
    error(expr.range, "function " + name + "(" + t.sqlName() + ") does not exist").hint =
        name + " takes a numeric argument";
    return {};
  }
  SourceRange range = expr.range;
  ir::Location loc = location(range);
  bool exact = t.kind != TypeKind::Float64;
  ExprPtr x = coerce(std::move(arg), exact ? Type::numeric(ir::kMaxNumericPrecision, t.scale) : t,
                     expr.args[0]->range);
  if (!x)
    return {};
  Bound squared = arithmetic("*", {x->clone(), false}, {x->clone(), false}, range);
  if (!squared)
    return {};
  auto aggregate = [&](ir::AggKind kind, Type type, ExprPtr argument) -> Bound {
    return {addAggregate(kind, type, name, filtered(std::move(argument))), false};
  };
  Type sum_type = sumType(x->type), squares_type = sumType(squared.expr->type);
  Bound n = aggregate(ir::AggKind::Count, Type::int64(), x->clone());
  Bound s = aggregate(ir::AggKind::Sum, sum_type, std::move(x));
  Bound q = aggregate(ir::AggKind::Sum, squares_type, std::move(squared.expr));
  auto integer = [](int64_t v) {
    ir::Value value;
    value.is_null = false;
    value.i = v;
    return Bound{ir::makeLiteral(value, Type::int64()), false};
  };
  auto copy = [](const Bound &b) { return Bound{b.expr->clone(), false}; };
  bool sample = name != "stddev_pop" && name != "var_pop";
  Bound numerator = arithmetic("-", arithmetic("*", copy(n), std::move(q), range),
                               arithmetic("*", copy(s), copy(s), range), range);
  if (!numerator)
    return {};
  if (!exact) { // rounding can leave a tiny negative where the true value is 0
    ir::Value zero_value;
    zero_value.is_null = false;
    ExprPtr zero = ir::makeLiteral(zero_value, Type::float64());
    ExprPtr e = ir::makeCall(ir::ExprOp::Greatest, Type::float64(), {}, loc);
    e->args.push_back(std::move(numerator.expr));
    e->args.push_back(std::move(zero));
    e->nullable = false;
    numerator = {std::move(e), false};
  }
  Bound denominator = arithmetic(
      "*", copy(n), sample ? arithmetic("-", copy(n), integer(1), range) : copy(n), range);
  if (!numerator || !denominator)
    return {};
  ExprPtr value;
  if (exact) {
    // Rounded where PostgreSQL rounds: the quotient at a scale that depends on its value (16
    // significant digits), and the root at that scale again. Its 16th decimal depends on it.
    ExprPtr num = std::move(numerator.expr);
    ExprPtr den = coerce(std::move(denominator), Type::numeric(ir::kMaxNumericPrecision, 0), range);
    int32_t scale = ir::sqrtScale(std::max(16, num->type.scale));
    value = ir::makeCall(ir::ExprOp::Call, Type::numeric(ir::kMaxNumericPrecision, scale), {}, loc);
    value->function =
        name.starts_with("stddev") ? ir::FunctionId::Stddev : ir::FunctionId::Variance;
    value->args.push_back(std::move(num));
    value->args.push_back(std::move(den));
  } else {
    Bound variance = arithmetic("/", std::move(numerator), std::move(denominator), range);
    if (!variance)
      return {};
    value = std::move(variance.expr);
    if (name.starts_with("stddev")) {
      ExprPtr e = ir::makeCall(ir::ExprOp::Call, Type::float64(), {}, loc);
      e->function = ir::FunctionId::Sqrt;
      e->args.push_back(std::move(value));
      value = std::move(e);
    }
  }
  value->nullable = true;
  // NULL below two values (one for the population forms).
  Bound enough = comparison(ir::ExprOp::Gt, copy(n), integer(sample ? 1 : 0), range);
  Type type = value->type;
  ExprPtr e = ir::makeCall(ir::ExprOp::Case, type, {}, loc);
  e->args.push_back(std::move(enough.expr));
  e->args.push_back(std::move(value));
  e->args.push_back(ir::makeLiteral(ir::Value{}, type));
  e->nullable = true;
  return {std::move(e), false};
}

} // namespace kiln::binder
