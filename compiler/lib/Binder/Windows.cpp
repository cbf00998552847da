// Window functions: calls with OVER (...) in the select list (and DISTINCT ON / ORDER BY items),
// evaluated after WHERE, GROUP BY and HAVING and before DISTINCT and LIMIT, as in PostgreSQL.
//
// While the select list is bound, each call records its window (PARTITION BY and ORDER BY, bound
// over the row the select list reads: the FROM row, or the aggregate's output) and its arguments
// as extra columns of that row, and reads as a placeholder column (kWindowColumn + n).
// bindWindows then builds the plan: a projection adding the extra columns, one window node per
// distinct window (each appending its calls' columns), and the placeholders renumbered to those.
// avg is sum / count of the same frame.
#include "BinderImpl.h"

#include "kiln/IR/Utils.h"

namespace kiln::binder {

using ir::ExprOp;
using ir::ExprPtr;
using ir::Type;
using ir::TypeKind;

namespace {

// PostgreSQL's FRAMEOPTION_* bits (nodes/parsenodes.h).
enum FrameOption : int {
  kNonDefault = 0x1,
  kRange = 0x2,
  kRows = 0x4,
  kGroups = 0x8,
  kStartUnboundedPreceding = 0x20,
  kStartUnboundedFollowing = 0x80,
  kEndUnboundedFollowing = 0x100,
  kStartCurrentRow = 0x200,
  kEndCurrentRow = 0x400,
  kStartOffsetPreceding = 0x800,
  kEndOffsetPreceding = 0x1000,
  kStartOffsetFollowing = 0x2000,
  kEndOffsetFollowing = 0x4000,
  kExcludeCurrentRow = 0x8000,
  kExcludeGroup = 0x10000,
  kExcludeTies = 0x20000,
};

bool isWindowOnlyName(const std::string &name) {
  return name == "row_number" || name == "rank" || name == "dense_rank" || name == "percent_rank" ||
         name == "cume_dist" || name == "ntile" || name == "lag" || name == "lead" ||
         name == "first_value" || name == "last_value" || name == "nth_value";
}

} // namespace

bool isWindowFunctionName(const std::string &name) { return isWindowOnlyName(name); }

int32_t WindowContext::input(ExprPtr value) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (ir::sameExpr(*inputs[i], *value))
      return static_cast<int32_t>(i);
  inputs.push_back(std::move(value));
  return static_cast<int32_t>(inputs.size() - 1);
}

// A constant count argument (ntile's buckets, lag's offset, a frame's offset): a bigint.
std::optional<int64_t> Binder::windowCount(const ast::Expr &expr, const char *what, int64_t min) {
  if (expr.kind == ast::ExprKind::ColumnRef) {
    error(expr.range, std::string(what) + " must be a constant").hint =
        "Kiln takes one value for the whole window, not one per row";
    return std::nullopt;
  }
  std::optional<ir::Value> value = bindConstant(expr, Type::int64());
  if (!value)
    return std::nullopt;
  if (value->is_null || value->i < min) {
    error(expr.range, std::string(what) + (min > 0 ? " must be greater than zero"
                                                   : " must not be negative or NULL"));
    return std::nullopt;
  }
  return value->i;
}

// A RANGE frame's offset from an ORDER BY column of type `order`: a constant of its offset type
// (ir::rangeOffsetType), where PostgreSQL has an in_range function for the two types after the
// offset's implicit casts. A numeric offset is cut to the column's scale: every value of the
// column is a multiple of its last digit, so `x >= v - d` holds exactly when it holds for d cut.
std::optional<ir::Value> Binder::rangeOffset(const ast::Expr &expr, const Type &order,
                                             const char *what) {
  std::optional<Type> offset_type = ir::rangeOffsetType(order);
  if (!offset_type) {
    error(expr.range, "RANGE with offset PRECEDING/FOLLOWING is not supported for column type " +
                          order.sqlName())
        .hint = "order by a number, a date, a timestamp or an interval, or use ROWS or GROUPS";
    return std::nullopt;
  }
  if (expr.kind == ast::ExprKind::ColumnRef) {
    error(expr.range, std::string(what) + " must be a constant").hint =
        "Kiln takes one value for the whole window, not one per row";
    return std::nullopt;
  }
  Scope empty;
  Bound bound = bindExpr(expr, empty);
  if (!bound)
    return std::nullopt;
  Type given = bound.expr->type;
  auto numericRank = [](const Type &t) {
    return t.kind == TypeKind::Int32 || t.kind == TypeKind::Int64 ? 1
           : t.kind == TypeKind::Numeric                          ? 2
           : t.kind == TypeKind::Float64                          ? 3
                                                                  : 0;
  };
  bool fits = bound.unknown || given.kind == TypeKind::Null ||
              (offset_type->kind == TypeKind::Interval
                   ? given.kind == TypeKind::Interval
                   : numericRank(given) > 0 && numericRank(given) <= numericRank(*offset_type));
  if (!fits) {
    error(expr.range, "RANGE with offset PRECEDING/FOLLOWING is not supported for column type " +
                          order.sqlName() + " and offset type " + given.sqlName())
        .hint = "cast the offset value to an appropriate type";
    return std::nullopt;
  }
  // A numeric offset is read at its own scale (or the column's, if larger), then cut.
  Type read = *offset_type;
  if (read.kind == TypeKind::Numeric && given.kind == TypeKind::Numeric && given.scale > read.scale)
    read = Type::numeric(ir::kMaxNumericPrecision, given.scale);
  std::optional<ir::Value> value = bindConstant(expr, read);
  if (!value)
    return std::nullopt;
  if (value->is_null) {
    error(expr.range, std::string(what) + " must not be null");
    return std::nullopt;
  }
  if (ir::rangeOffsetNegative(*offset_type, *value)) {
    error(expr.range, "invalid preceding or following size in window function");
    return std::nullopt;
  }
  for (int32_t scale = read.scale; scale > offset_type->scale; --scale)
    value->n /= 10;
  return value;
}

Bound Binder::bindWindowCall(const ast::Expr &expr, const Scope &scope) {
  NoSetFunctions no_sets(*this);
  const std::string &name = expr.names.back();
  if (!window_) {
    if (window_forbidden_) {
      error(expr.range, window_forbidden_);
      return {};
    }
    error(expr.range, "window functions are not allowed here").hint =
        "compute the window function in a subquery's select list and filter on its result outside";
    return {};
  }
  if (expr.distinct) {
    error(expr.range, "DISTINCT is not implemented for window functions");
    return {};
  }
  WindowContext *context = window_;
  // Arguments, PARTITION BY and ORDER BY are bound with no window context: nesting is an error.
  struct Restore {
    Binder &binder;
    WindowContext *saved;
    const char *saved_reason;
    ~Restore() { binder.window_ = saved, binder.window_forbidden_ = saved_reason; }
  } restore{*this, window_, window_forbidden_};
  window_ = nullptr;
  window_forbidden_ = "window function calls cannot be nested";
  auto input = [&](const ast::Expr &e, bool as_text) -> std::optional<int32_t> {
    Bound bound = bindExpr(e, scope);
    if (!bound)
      return std::nullopt;
    ExprPtr value = bound.unknown && as_text ? coerce(std::move(bound), Type::text(), e.range)
                                             : std::move(bound.expr);
    if (!value)
      return std::nullopt;
    return context->input(std::move(value));
  };
  const ast::WindowSpec &over = *expr.over;
  WindowContext::Spec spec;
  for (const ast::ExprPtr &e : over.partition) {
    std::optional<int32_t> column = input(*e, true);
    if (!column)
      return {};
    spec.partition.push_back(*column);
  }
  for (const ast::SortItem &item : over.order) {
    if (item.expr->kind == ast::ExprKind::Literal &&
        item.expr->literal_kind == ast::LiteralKind::Integer) {
      error(item.expr->range, "a window's ORDER BY takes expressions, not positions").hint =
          "name the column";
      return {};
    }
    std::optional<int32_t> column = input(*item.expr, true);
    if (!column)
      return {};
    ir::SortKey key;
    key.column = *column;
    key.descending = item.descending;
    key.nulls_first = item.nulls == 0 ? item.descending : item.nulls == 1;
    spec.order.push_back(key);
  }

  // The frame: PostgreSQL's default unless written.
  ir::WindowFrame frame;
  int options = over.frame_options;
  if (options & kNonDefault) {
    frame.units = options & kRows     ? ir::FrameUnits::Rows
                  : options & kGroups ? ir::FrameUnits::Groups
                                      : ir::FrameUnits::Range;
    frame.exclude = options & kExcludeCurrentRow ? ir::FrameExclusion::CurrentRow
                    : options & kExcludeGroup    ? ir::FrameExclusion::Group
                    : options & kExcludeTies     ? ir::FrameExclusion::Ties
                                                 : ir::FrameExclusion::NoOthers;
    if (frame.units == ir::FrameUnits::Groups && spec.order.empty()) {
      error(over.range, "GROUPS mode requires an ORDER BY clause");
      return {};
    }
    if (options & kStartUnboundedFollowing) {
      error(over.range, "frame start cannot be UNBOUNDED FOLLOWING");
      return {};
    }
    frame.start = options & kStartUnboundedPreceding ? ir::FrameBound::UnboundedPreceding
                  : options & kStartCurrentRow       ? ir::FrameBound::CurrentRow
                  : options & kStartOffsetPreceding  ? ir::FrameBound::Preceding
                                                     : ir::FrameBound::Following;
    frame.end = options & kEndUnboundedFollowing ? ir::FrameBound::UnboundedFollowing
                : options & kEndCurrentRow       ? ir::FrameBound::CurrentRow
                : options & kEndOffsetPreceding  ? ir::FrameBound::Preceding
                : options & kEndOffsetFollowing  ? ir::FrameBound::Following
                                                 : ir::FrameBound::CurrentRow; // ROWS n PRECEDING
    if (frame.hasRangeOffset()) {
      if (spec.order.size() != 1) {
        error((over.start_offset ? over.start_offset : over.end_offset)->range,
              "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column");
        return {};
      }
      const Type &order = context->inputs[spec.order[0].column]->type;
      for (auto [offset, value, what] :
           {std::tuple{over.start_offset.get(), &frame.start_value, "frame starting offset"},
            std::tuple{over.end_offset.get(), &frame.end_value, "frame ending offset"}}) {
        if (!offset)
          continue;
        std::optional<ir::Value> bound = rangeOffset(*offset, order, what);
        if (!bound)
          return {};
        *value = *bound;
      }
      frame.offset_type = *ir::rangeOffsetType(order);
    } else {
      if (over.start_offset) {
        std::optional<int64_t> offset = windowCount(*over.start_offset, "frame starting offset", 0);
        if (!offset)
          return {};
        frame.start_offset = *offset;
      }
      if (over.end_offset) {
        std::optional<int64_t> offset = windowCount(*over.end_offset, "frame ending offset", 0);
        if (!offset)
          return {};
        frame.end_offset = *offset;
      }
    }
    if ((frame.start == ir::FrameBound::CurrentRow && frame.end == ir::FrameBound::Preceding) ||
        (frame.start == ir::FrameBound::Following &&
         (frame.end == ir::FrameBound::Preceding || frame.end == ir::FrameBound::CurrentRow))) {
      error(over.range, frame.start == ir::FrameBound::CurrentRow
                            ? "frame starting from current row cannot have preceding rows"
                            : "frame starting from following row cannot have preceding rows");
      return {};
    }
  }

  ir::WindowCall call;
  call.frame = frame;
  call.name = name;
  auto argCount = [&](size_t low, size_t high) {
    if (expr.args.size() < low || expr.args.size() > high || expr.star) {
      error(expr.range, "function " + name + " takes " +
                            (low == high ? std::to_string(low)
                                         : std::to_string(low) + " to " + std::to_string(high)) +
                            (high == 1 ? " argument" : " arguments"));
      return false;
    }
    return true;
  };
  if (!expr.agg_order.empty()) {
    error(expr.agg_order[0].expr->range,
          "aggregate ORDER BY is not implemented for window functions");
    return {};
  }
  // FILTER (WHERE c) on an aggregate: its argument where c holds, NULL elsewhere.
  ExprPtr filter;
  if (expr.agg_filter) {
    if (!isAggregateName(name)) {
      error(expr.agg_filter->range, "FILTER is not implemented for non-aggregate window functions");
      return {};
    }
    filter = bindCondition(*expr.agg_filter, scope, "FILTER");
    if (!filter)
      return {};
  }
  auto filtered = [&](ExprPtr value) {
    if (!filter)
      return value;
    Type type = value->type;
    ExprPtr e = ir::makeCall(ExprOp::Case, type, {}, location(expr.agg_filter->range));
    e->args.push_back(filter->clone());
    e->args.push_back(std::move(value));
    e->args.push_back(ir::makeLiteral(ir::Value{}, type));
    e->nullable = true;
    return e;
  };
  // The argument's column (after FILTER), bound as text if it is an untyped literal.
  auto argument = [&](const ast::Expr &e, Type *type) -> std::optional<int32_t> {
    Bound bound = bindExpr(e, scope);
    if (!bound)
      return std::nullopt;
    ExprPtr value =
        bound.unknown ? coerce(std::move(bound), Type::text(), e.range) : std::move(bound.expr);
    if (!value)
      return std::nullopt;
    *type = value->type;
    return context->input(filtered(std::move(value)));
  };

  std::vector<ir::WindowCall> calls; // one, or avg's two
  if (name == "row_number" || name == "rank" || name == "dense_rank" || name == "percent_rank" ||
      name == "cume_dist") {
    if (!argCount(0, 0))
      return {};
    call.fn = name == "row_number"     ? ir::WindowFn::RowNumber
              : name == "rank"         ? ir::WindowFn::Rank
              : name == "dense_rank"   ? ir::WindowFn::DenseRank
              : name == "percent_rank" ? ir::WindowFn::PercentRank
                                       : ir::WindowFn::CumeDist;
    call.type = name == "percent_rank" || name == "cume_dist" ? Type::float64() : Type::int64();
    calls.push_back(call);
  } else if (name == "ntile") {
    if (!argCount(1, 1))
      return {};
    std::optional<int64_t> buckets = windowCount(*expr.args[0], "argument of ntile", 1);
    if (!buckets)
      return {};
    call.fn = ir::WindowFn::Ntile;
    call.n = *buckets;
    call.type = Type::int64();
    calls.push_back(call);
  } else if (name == "lag" || name == "lead") {
    if (!argCount(1, 3))
      return {};
    call.fn = name == "lag" ? ir::WindowFn::Lag : ir::WindowFn::Lead;
    if (expr.args.size() >= 2) {
      std::optional<ir::Value> offset = bindConstant(*expr.args[1], Type::int64());
      if (!offset)
        return {};
      if (offset->is_null) {
        error(expr.args[1]->range, "an offset of NULL is not supported").hint =
            "PostgreSQL's result would be NULL on every row";
        return {};
      }
      call.n = offset->i;
      if (call.n < 0) { // lag(x, -n) is lead(x, n)
        call.fn = call.fn == ir::WindowFn::Lag ? ir::WindowFn::Lead : ir::WindowFn::Lag;
        call.n = -call.n;
      }
    }
    // The value and the default take their common type, as PostgreSQL's anycompatible does.
    Bound value = bindExpr(*expr.args[0], scope);
    if (!value)
      return {};
    Bound fallback;
    if (expr.args.size() == 3) {
      fallback = bindExpr(*expr.args[2], scope);
      if (!fallback)
        return {};
    }
    std::vector<Bound *> operands{&value};
    if (fallback)
      operands.push_back(&fallback);
    std::optional<Type> type = commonType(operands, expr.range, name);
    if (!type)
      return {};
    if (type->kind == TypeKind::Null)
      type = Type::text();
    ExprPtr v = coerce(std::move(value), *type, expr.args[0]->range);
    ExprPtr d = fallback ? coerce(std::move(fallback), *type, expr.args[2]->range) : nullptr;
    if (!v || (expr.args.size() == 3 && !d))
      return {};
    call.arg = context->input(std::move(v));
    if (d)
      call.default_arg = context->input(std::move(d));
    call.type = *type;
    calls.push_back(call);
  } else if (name == "first_value" || name == "last_value" || name == "nth_value") {
    if (!argCount(name == "nth_value" ? 2 : 1, name == "nth_value" ? 2 : 1))
      return {};
    call.fn = name == "first_value"  ? ir::WindowFn::FirstValue
              : name == "last_value" ? ir::WindowFn::LastValue
                                     : ir::WindowFn::NthValue;
    if (name == "nth_value") {
      std::optional<int64_t> place = windowCount(*expr.args[1], "argument of nth_value", 1);
      if (!place)
        return {};
      call.n = *place;
    }
    std::optional<int32_t> column = argument(*expr.args[0], &call.type);
    if (!column)
      return {};
    call.arg = *column;
    calls.push_back(call);
  } else if (name == "count" || name == "sum" || name == "avg" || name == "min" || name == "max") {
    if (expr.star || (name == "count" && expr.args.empty())) {
      if (name != "count") {
        error(expr.range, name + "(*) is not valid").hint = "only count(*) takes *";
        return {};
      }
      call.fn = ir::WindowFn::CountStar;
      call.type = Type::int64();
      if (filter) { // count(*) FILTER (WHERE c) = count(CASE WHEN c THEN TRUE END)
        ir::Value yes;
        yes.is_null = false;
        yes.b = true;
        call.fn = ir::WindowFn::Count;
        call.arg = context->input(filtered(ir::makeLiteral(yes, Type::boolean())));
      }
      calls.push_back(call);
    } else {
      if (expr.args.size() != 1) {
        error(expr.range, "function " + name + " takes exactly one argument");
        return {};
      }
      if (containsAggregate(*expr.args[0]) && !agg_) {
        error(expr.args[0]->range, "aggregate functions are not allowed here");
        return {};
      }
      Type t;
      std::optional<int32_t> column = argument(*expr.args[0], &t);
      if (!column)
        return {};
      call.arg = *column;
      if (name == "count") {
        call.fn = ir::WindowFn::Count;
        call.type = Type::int64();
        calls.push_back(call);
      } else if (name == "min" || name == "max") {
        if (!extremeOf(name, t, expr.range))
          return {};
        call.fn = name == "min" ? ir::WindowFn::Min : ir::WindowFn::Max;
        call.type = t;
        calls.push_back(call);
      } else {
        if (!t.isNumericLike()) {
          error(expr.range, "function " + name + "(" + t.sqlName() + ") does not exist").hint =
              name + " takes a numeric argument";
          return {};
        }
        call.fn = ir::WindowFn::Sum;
        call.type = sumType(t);
        calls.push_back(call);
        if (name == "avg") {
          ir::WindowCall count = call;
          count.fn = ir::WindowFn::Count;
          count.type = Type::int64();
          count.name = "count";
          calls.push_back(count);
        }
      }
    }
  } else {
    error(expr.range, "function " + name + " is not a window function Kiln supports").hint =
        "window functions: row_number, rank, dense_rank, percent_rank, cume_dist, ntile, lag, "
        "lead, first_value, last_value, nth_value, and count, sum, avg, min, max";
    return {};
  }

  // The window this call belongs to, found or added; its calls' placeholders.
  size_t spec_index = 0;
  while (spec_index < context->specs.size() &&
         !(context->specs[spec_index].partition == spec.partition &&
           context->specs[spec_index].order == spec.order))
    ++spec_index;
  if (spec_index == context->specs.size())
    context->specs.push_back(std::move(spec));
  std::vector<ExprPtr> values;
  for (const ir::WindowCall &c : calls) {
    context->specs[spec_index].calls.push_back(c);
    context->results.emplace_back(spec_index, context->specs[spec_index].calls.size() - 1);
    values.push_back(
        ir::makeColumn(kWindowColumn + static_cast<int32_t>(context->results.size() - 1), c.type,
                       ir::windowNullable(c)));
  }
  if (name != "avg")
    return {std::move(values[0]), false};

  // avg = sum / count over the same frame: NULL where the count is 0 (the sum is NULL there).
  ir::Location loc = location(expr.range);
  const Type &sum_type = calls[0].type;
  Type result = sum_type.kind == TypeKind::Float64
                    ? Type::float64()
                    : Type::numeric(ir::kMaxNumericPrecision, std::max(16, sum_type.scale));
  ExprPtr sum = castExpr(std::move(values[0]),
                         sum_type.kind == TypeKind::Float64
                             ? Type::float64()
                             : Type::numeric(ir::kMaxNumericPrecision, sum_type.scale),
                         expr.range);
  ExprPtr count =
      castExpr(std::move(values[1]),
               sum_type.kind == TypeKind::Float64 ? Type::float64()
                                                  : Type::numeric(ir::kMaxNumericPrecision, 0),
               expr.range);
  if (!sum || !count)
    return {};
  // The count is never 0 where the sum is not NULL, and division by a NULL sum is NULL.
  std::vector<ExprPtr> operands;
  operands.push_back(std::move(sum));
  operands.push_back(std::move(count));
  ExprPtr avg = ir::makeCall(ExprOp::Div, result, std::move(operands), loc);
  avg->nullable = true;
  return {std::move(avg), false};
}

// The select list's row with the window functions' columns: see the file comment.
plan::NodePtr Binder::bindWindows(plan::NodePtr body, std::vector<ExprPtr> &outputs,
                                  const ir::Location &loc) {
  WindowContext &context = *window_;
  // Each input's column: a column of the row already, or an extra one computed after them.
  std::vector<int32_t> column_of;
  ir::Schema schema = body->schema;
  plan::NodePtr project = makeNode(plan::NodeKind::Project, {}, loc, {body});
  for (size_t c = 0; c < body->schema.size(); ++c)
    project->exprs.push_back(
        ir::makeColumn(static_cast<int32_t>(c), body->schema[c].type, body->schema[c].nullable));
  for (const ExprPtr &value : context.inputs) {
    if (value->op == ExprOp::Column) {
      column_of.push_back(value->column);
      continue;
    }
    column_of.push_back(static_cast<int32_t>(schema.size()));
    schema.push_back({"window_input", value->type, value->nullable});
    project->exprs.push_back(value->clone());
  }
  plan::NodePtr input = body;
  if (schema.size() > body->schema.size()) {
    project->schema = std::move(schema);
    input = project;
  }
  // Where each spec's first call's column lands.
  std::vector<int32_t> first_column;
  for (WindowContext::Spec &spec : context.specs) {
    plan::NodePtr window = makeNode(plan::NodeKind::Window, input->schema, loc, {input});
    for (int32_t c : spec.partition)
      window->group_keys.push_back(column_of[c]);
    for (ir::SortKey key : spec.order) {
      key.column = column_of[key.column];
      window->sort_keys.push_back(key);
    }
    first_column.push_back(static_cast<int32_t>(input->schema.size()));
    for (ir::WindowCall call : spec.calls) {
      if (call.arg >= 0)
        call.arg = column_of[call.arg];
      if (call.default_arg >= 0)
        call.default_arg = column_of[call.default_arg];
      window->schema.push_back({call.name, call.type, ir::windowNullable(call)});
      window->windows.push_back(std::move(call));
    }
    input = window;
  }
  for (ExprPtr &output : outputs)
    ir::walkExpr(*output, [&](ir::Expr &e) {
      if (e.op == ExprOp::Column && e.column >= kWindowColumn && e.column < kHavingScalar) {
        auto [spec, call] = context.results[static_cast<size_t>(e.column - kWindowColumn)];
        e.column = first_column[spec] + static_cast<int32_t>(call);
      }
    });
  return input;
}

} // namespace kiln::binder
