#include "kiln/IR/IR.h"

#include "kiln/IR/Utils.h"
#include "kiln/runtime/civil.h"
#include "kiln/runtime/interval.h"

#include <algorithm>

namespace kiln::ir {

std::string Type::str() const {
  switch (kind) {
  case TypeKind::Bool:
    return "bool";
  case TypeKind::Int32:
    return isSmallint() ? "i16" : "i32";
  case TypeKind::Int64:
    return "i64";
  case TypeKind::Float64:
    return isReal() ? "f32" : "f64";
  case TypeKind::Numeric:
    return "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
  case TypeKind::Text:
    return "text";
  case TypeKind::Date:
    return "date";
  case TypeKind::Timestamp:
    return "timestamp";
  case TypeKind::TimestampTz:
    return "timestamptz";
  case TypeKind::Jsonb:
    return "jsonb";
  case TypeKind::Interval:
    return "interval";
  case TypeKind::Array:
    return elementType().str() + "[]";
  case TypeKind::Null:
    return "null";
  }
  return "?";
}

std::string Type::sqlName() const {
  switch (kind) {
  case TypeKind::Bool:
    return "boolean";
  case TypeKind::Int32:
    return isSmallint() ? "smallint" : "integer";
  case TypeKind::Int64:
    return "bigint";
  case TypeKind::Float64:
    return isReal() ? "real" : "double precision";
  case TypeKind::Numeric:
    return "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
  case TypeKind::Text:
    return "text";
  case TypeKind::Date:
    return "date";
  case TypeKind::Timestamp:
    return "timestamp without time zone";
  case TypeKind::TimestampTz:
    return "timestamp with time zone";
  case TypeKind::Jsonb:
    return "jsonb";
  case TypeKind::Interval:
    return "interval";
  case TypeKind::Array:
    return elementType().sqlName() + "[]";
  case TypeKind::Null:
    return "unknown";
  }
  return "?";
}

ExprPtr Expr::clone() const {
  auto copy = std::make_unique<Expr>(op, type);
  copy->nullable = nullable;
  copy->column = column;
  copy->literal = literal;
  copy->function = function;
  copy->flag = flag;
  copy->loc = loc;
  copy->args.reserve(args.size());
  for (const ExprPtr &arg : args)
    copy->args.push_back(arg->clone());
  return copy;
}

ExprPtr makeColumn(int32_t index, Type type, bool nullable) {
  auto expr = std::make_unique<Expr>(ExprOp::Column, type);
  expr->column = index;
  expr->nullable = nullable;
  return expr;
}

ExprPtr makeLiteral(Value value, Type type) {
  auto expr = std::make_unique<Expr>(ExprOp::Literal, type);
  expr->nullable = value.is_null;
  expr->literal = std::move(value);
  return expr;
}

ExprPtr makeCall(ExprOp op, Type type, std::vector<ExprPtr> args, Location loc) {
  auto expr = std::make_unique<Expr>(op, type);
  expr->nullable = inferNullable(op, args);
  expr->args = std::move(args);
  expr->loc = std::move(loc);
  return expr;
}

const std::vector<OpInfo> &allOps() {
  static const std::vector<OpInfo> table = {
#define KILN_OP(Kind, name, min_inputs, max_inputs, payload, schema, traits, state)                \
  {OpKind::Kind,       name,   min_inputs,      max_inputs, OpPayload::payload,                    \
   SchemaRule::schema, traits, StateSize::state},
#include "kiln/IR/Ops.def"
  };
  return table;
}

const OpInfo &opInfo(OpKind kind) { return allOps()[static_cast<size_t>(kind)]; }

StateSize Op::stateSize() const {
  if (kind == OpKind::Source && !key.empty())
    return StateSize::GrowsWithKeys;
  if (kind == OpKind::Aggregate) {
    // MIN/MAX must survive the retraction of the current extreme, and count(DISTINCT) count
    // each value once however often it comes, so they keep every value.
    bool keepsValues = std::any_of(aggregates.begin(), aggregates.end(), [](const AggCall &a) {
      return a.kind == AggKind::Min || a.kind == AggKind::Max || a.kind == AggKind::CountDistinct ||
             a.kind == AggKind::SumDistinct;
    });
    if (keepsValues)
      return StateSize::GrowsWithInput;
    if (group_keys.empty())
      return StateSize::Bounded;
  }
  return info().state;
}

std::string Op::stateName() const {
  if (!isStateful())
    return "";
  return std::string(opKindName(kind)) + "_" + std::to_string(id);
}

Op *Module::find(int32_t id) const {
  for (const auto &op : ops)
    if (op->id == id)
      return op.get();
  return nullptr;
}

int32_t Module::nextId() const {
  int32_t next = 0;
  for (const auto &op : ops)
    next = std::max(next, op->id + 1);
  return next;
}

Op &Module::append(std::unique_ptr<Op> op) {
  if (op->id < 0)
    op->id = nextId();
  ops.push_back(std::move(op));
  return *ops.back();
}

const char *opKindName(OpKind kind) { return opInfo(kind).name; }

const std::vector<FunctionInfo> &allFunctions() {
  static const std::vector<FunctionInfo> table = {
#define KILN_FUNCTION(Id, name, min_args, max_args, signature, flags, symbol)                      \
  {FunctionId::Id, name, min_args, max_args, FunctionSignature::signature, flags, symbol},
#include "kiln/IR/Functions.def"
  };
  return table;
}

const FunctionInfo &functionInfo(FunctionId id) { return allFunctions()[static_cast<size_t>(id)]; }

std::optional<FunctionId> findFunction(std::string_view name) {
  for (const FunctionInfo &info : allFunctions())
    if (name == info.name)
      return info.id;
  static const std::pair<std::string_view, FunctionId> aliases[] = {
#define KILN_FUNCTION_ALIAS(sql_name, Id) {sql_name, FunctionId::Id},
#include "kiln/IR/Functions.def"
  };
  for (const auto &[alias, id] : aliases)
    if (name == alias)
      return id;
  return std::nullopt;
}

JsonbAccessTypes jsonbAccessTypes(FunctionId id) {
  switch (id) {
  case FunctionId::JsonbObjectField:
  case FunctionId::JsonbExtractPath:
    return {Type::text(), Type::jsonb(), true};
  case FunctionId::JsonbObjectFieldText:
  case FunctionId::JsonbExtractPathText:
    return {Type::text(), Type::text(), true};
  case FunctionId::JsonbArrayElement:
    return {Type::int32(), Type::jsonb(), true};
  case FunctionId::JsonbArrayElementText:
    return {Type::int32(), Type::text(), true};
  case FunctionId::JsonbTypeof:
    return {Type::null(), Type::text(), false};
  case FunctionId::JsonbArrayLength:
    return {Type::null(), Type::int32(), false};
  case FunctionId::JsonbExists:
    return {Type::text(), Type::boolean(), false};
  case FunctionId::JsonbExistsAny:
  case FunctionId::JsonbExistsAll:
    return {Type::array(Type::text()), Type::boolean(), false};
  case FunctionId::JsonbContains:
  case FunctionId::JsonbContained:
    return {Type::jsonb(), Type::boolean(), false};
  default:
    return {Type::null(), Type::null(), false};
  }
}

int32_t dateTruncUnit(std::string_view name) {
  return kiln_date_unit_named(name.data(), name.size());
}

int32_t dateField(std::string_view name) { return kiln_date_field_named(name.data(), name.size()); }

const char *exprOpName(ExprOp op) {
  switch (op) {
  case ExprOp::Column:
    return "column";
  case ExprOp::Literal:
    return "literal";
  case ExprOp::Add:
    return "add";
  case ExprOp::Sub:
    return "sub";
  case ExprOp::Mul:
    return "mul";
  case ExprOp::Div:
    return "div";
  case ExprOp::Mod:
    return "mod";
  case ExprOp::Neg:
    return "neg";
  case ExprOp::Eq:
    return "eq";
  case ExprOp::Ne:
    return "ne";
  case ExprOp::Lt:
    return "lt";
  case ExprOp::Le:
    return "le";
  case ExprOp::Gt:
    return "gt";
  case ExprOp::Ge:
    return "ge";
  case ExprOp::IsDistinctFrom:
    return "is_distinct_from";
  case ExprOp::IsNotDistinctFrom:
    return "is_not_distinct_from";
  case ExprOp::And:
    return "and";
  case ExprOp::Or:
    return "or";
  case ExprOp::Not:
    return "not";
  case ExprOp::IsNull:
    return "is_null";
  case ExprOp::IsNotNull:
    return "is_not_null";
  case ExprOp::Case:
    return "case";
  case ExprOp::Coalesce:
    return "coalesce";
  case ExprOp::NullIf:
    return "nullif";
  case ExprOp::Greatest:
    return "greatest";
  case ExprOp::Least:
    return "least";
  case ExprOp::Cast:
    return "cast";
  case ExprOp::Like:
    return "like";
  case ExprOp::Concat:
    return "concat";
  case ExprOp::Call:
    return "call";
  }
  return "?";
}

const char *aggKindName(AggKind kind) {
  switch (kind) {
  case AggKind::CountStar:
    return "count_star";
  case AggKind::Count:
    return "count";
  case AggKind::Sum:
    return "sum";
  case AggKind::Avg:
    return "avg";
  case AggKind::Min:
    return "min";
  case AggKind::Max:
    return "max";
  case AggKind::CountDistinct:
    return "count_distinct";
  case AggKind::SumDistinct:
    return "sum_distinct";
  case AggKind::StringAgg:
    return "string_agg";
  case AggKind::JsonbAgg:
    return "jsonb_agg";
  case AggKind::JsonbObjectAgg:
    return "jsonb_object_agg";
  case AggKind::ArrayAgg:
    return "array_agg";
  }
  return "?";
}

const char *windowFnName(WindowFn fn) {
  switch (fn) {
  case WindowFn::RowNumber:
    return "row_number";
  case WindowFn::Rank:
    return "rank";
  case WindowFn::DenseRank:
    return "dense_rank";
  case WindowFn::PercentRank:
    return "percent_rank";
  case WindowFn::CumeDist:
    return "cume_dist";
  case WindowFn::Ntile:
    return "ntile";
  case WindowFn::Lag:
    return "lag";
  case WindowFn::Lead:
    return "lead";
  case WindowFn::FirstValue:
    return "first_value";
  case WindowFn::LastValue:
    return "last_value";
  case WindowFn::NthValue:
    return "nth_value";
  case WindowFn::CountStar:
    return "count_star";
  case WindowFn::Count:
    return "count";
  case WindowFn::Sum:
    return "sum";
  case WindowFn::Min:
    return "min";
  case WindowFn::Max:
    return "max";
  }
  return "?";
}

bool usesFrame(WindowFn fn) {
  switch (fn) {
  case WindowFn::FirstValue:
  case WindowFn::LastValue:
  case WindowFn::NthValue:
  case WindowFn::CountStar:
  case WindowFn::Count:
  case WindowFn::Sum:
  case WindowFn::Min:
  case WindowFn::Max:
    return true;
  default:
    return false;
  }
}

std::optional<Type> rangeOffsetType(const Type &order) {
  switch (order.kind) {
  case TypeKind::Int32:
  case TypeKind::Int64:
    return Type::int64();
  case TypeKind::Numeric:
    return order;
  case TypeKind::Float64: // real too: PostgreSQL's in_range_float4_float8
    return Type::float64();
  case TypeKind::Date:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz:
  case TypeKind::Interval:
    return Type::interval();
  case TypeKind::Bool:
  case TypeKind::Text:
  case TypeKind::Jsonb:
  case TypeKind::Array:
  case TypeKind::Null:
    return std::nullopt;
  }
  return std::nullopt;
}

bool rangeOffsetNegative(const Type &offset_type, const Value &offset) {
  switch (offset_type.kind) {
  case TypeKind::Int64:
    return offset.i < 0;
  case TypeKind::Numeric:
    return offset.n < 0;
  case TypeKind::Float64:
    return offset.f < 0;
  case TypeKind::Interval: {
    kiln_interval parts = kiln_interval_unpack(offset.n);
    return parts.months < 0 || parts.days < 0 || parts.micros < 0;
  }
  default:
    return false;
  }
}

const char *stateSizeName(StateSize size) {
  switch (size) {
  case StateSize::None:
    return "none";
  case StateSize::Bounded:
    return "bounded";
  case StateSize::GrowsWithKeys:
    return "grows-with-keys";
  case StateSize::GrowsWithInput:
    return "grows-with-input";
  }
  return "?";
}

const char *setFunctionName(SetFunction fn) {
  switch (fn) {
  case SetFunction::Unnest:
    return "unnest";
  case SetFunction::JsonbArrayElements:
    return "jsonb_array_elements";
  case SetFunction::JsonbArrayElementsText:
    return "jsonb_array_elements_text";
  case SetFunction::JsonbEach:
    return "jsonb_each";
  case SetFunction::JsonbEachText:
    return "jsonb_each_text";
  case SetFunction::JsonbObjectKeys:
    return "jsonb_object_keys";
  case SetFunction::GenerateSeries:
    return "generate_series";
  case SetFunction::JsonbToRecordset:
    return "jsonb_to_recordset";
  case SetFunction::JsonbToRecord:
    return "jsonb_to_record";
  }
  return "?";
}

std::pair<int, int> setFunctionArity(SetFunction fn) {
  return fn == SetFunction::GenerateSeries ? std::pair{2, 3} : std::pair{1, 1};
}

Schema setFunctionColumns(SetFunction fn, const Type &first_arg) {
  switch (fn) {
  case SetFunction::Unnest:
    return {{"unnest", first_arg.elementType(), true}};
  case SetFunction::JsonbArrayElements:
    return {{"value", Type::jsonb(), false}};
  case SetFunction::JsonbArrayElementsText:
    return {{"value", Type::text(), true}};
  case SetFunction::JsonbEach:
    return {{"key", Type::text(), false}, {"value", Type::jsonb(), false}};
  case SetFunction::JsonbEachText:
    return {{"key", Type::text(), false}, {"value", Type::text(), true}};
  case SetFunction::JsonbObjectKeys:
    return {{"jsonb_object_keys", Type::text(), false}};
  case SetFunction::GenerateSeries:
    return {{"generate_series", first_arg, false}};
  case SetFunction::JsonbToRecordset:
    return {{"record", Type::jsonb(), false}};
  case SetFunction::JsonbToRecord:
    return {{"record", Type::jsonb(), true}};
  }
  return {};
}

} // namespace kiln::ir
