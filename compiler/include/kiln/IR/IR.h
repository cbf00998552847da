// Kiln's incremental IR: a dataflow graph of operators over Z-sets (multisets with signed
// weights), following DBSP.
//
// A Module is the whole project: one graph, operators in topological order, each producing one
// stream (`%N`). Linear operators (filter, map, union_all) act on deltas directly; stateful
// operators (join, aggregate, distinct) name their state, its key and its size class; sinks
// consolidate and emit a model's changes at the end of every tick. Ops.def lists the operators
// and their traits.
//
// Scalar expressions inside operators are fully typed: the binder has made every implicit cast
// explicit, so each operation's operand types are exactly what code generation expects.
//
// The textual form (Printer.h / Parser.h) round-trips every field here; the verifier
// (Verifier.h) checks the invariants documented on each struct.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::ir {

// ---------------------------------------------------------------------------------------------
// Types

// TimestampTz (timestamp with time zone) is an instant, kept as a Timestamp in UTC: Kiln's session
// time zone is UTC, so the two convert without arithmetic and differ in text and typing.
// Jsonb is kept as Text, in the canonical form PostgreSQL prints (kiln/runtime/Jsonb.h): equal
// values have equal texts. It compares for equality only. Interval is months, days and
// microseconds packed in 128 bits (kiln/runtime/interval.h), compared by its span.
enum class TypeKind {
  Bool,
  Int32,
  Int64,
  Float64,
  Numeric,
  Text,
  Date,
  Timestamp,
  TimestampTz,
  Jsonb,
  Interval,
  Array,
  Null
};

// A SQL type. Null is the type of an untyped NULL literal before the binder resolves it; it never
// reaches an operator's schema. Numeric carries precision (1..38) and scale (0..precision).
// An Array (one-dimensional, of any other type but Null) is its element's kind, precision and
// scale; it is kept as Text, in the canonical form PostgreSQL prints (`{1,NULL,"a b"}`: element
// texts, quoted where array_out quotes them), so equal arrays have equal texts.
struct Type {
  TypeKind kind = TypeKind::Null;
  int32_t precision = 0;
  int32_t scale = 0;
  TypeKind element = TypeKind::Null; // Array only

  static Type boolean() { return {TypeKind::Bool}; }
  static Type int32() { return {TypeKind::Int32}; }
  static Type int64() { return {TypeKind::Int64}; }
  static Type float64() { return {TypeKind::Float64}; }
  // real (float4) and smallint (int2) are kept widened, as PostgreSQL widens them in a Datum:
  // every real is exactly a double and every smallint an integer. Precision 24 (a float's
  // mantissa bits) marks a real, 16 a smallint. Their arithmetic rounds to float or checks
  // smallint's range, and a real's text has a float's shortest digits (CodeGen, the runtime).
  static Type real() { return {TypeKind::Float64, kRealPrecision}; }
  static Type int16() { return {TypeKind::Int32, kSmallintPrecision}; }
  static constexpr int32_t kRealPrecision = 24;
  static constexpr int32_t kSmallintPrecision = 16;
  bool isReal() const { return kind == TypeKind::Float64 && precision == kRealPrecision; }
  bool isSmallint() const { return kind == TypeKind::Int32 && precision == kSmallintPrecision; }
  static Type numeric(int32_t p, int32_t s) { return {TypeKind::Numeric, p, s}; }
  static Type text() { return {TypeKind::Text}; }
  static Type date() { return {TypeKind::Date}; }
  static Type timestamp() { return {TypeKind::Timestamp}; }
  static Type timestamptz() { return {TypeKind::TimestampTz}; }
  static Type jsonb() { return {TypeKind::Jsonb}; }
  static Type interval() { return {TypeKind::Interval}; }
  static Type null() { return {TypeKind::Null}; }
  static Type array(const Type &element) {
    return {TypeKind::Array, element.precision, element.scale, element.kind};
  }
  Type elementType() const { return {element, precision, scale}; }
  bool isArray() const { return kind == TypeKind::Array; }

  bool isInteger() const { return kind == TypeKind::Int32 || kind == TypeKind::Int64; }
  // A timestamp with or without time zone: the same representation and functions.
  bool isTimestamp() const { return kind == TypeKind::Timestamp || kind == TypeKind::TimestampTz; }
  // Stored as a string (kiln_str): text, jsonb and arrays.
  bool isString() const {
    return kind == TypeKind::Text || kind == TypeKind::Jsonb || kind == TypeKind::Array;
  }
  bool isNumericLike() const {
    return isInteger() || kind == TypeKind::Float64 || kind == TypeKind::Numeric;
  }
  // Whether equal values of this type always print the same text, so that equal texts and equal
  // values are one: not floats (-0 and 0), intervals ('1 day' and '24:00:00'), jsonb (1.0 and 1)
  // or arrays of those. (NUMERIC values of one scale print one text each.)
  bool hasOneTextPerValue() const {
    TypeKind k = kind == TypeKind::Array ? element : kind;
    return k != TypeKind::Float64 && k != TypeKind::Interval && k != TypeKind::Jsonb;
  }
  bool operator==(const Type &o) const {
    bool numeric = kind == TypeKind::Numeric || element == TypeKind::Numeric;
    return kind == o.kind && precision == o.precision && element == o.element &&
           (!numeric || scale == o.scale);
  }
  bool operator!=(const Type &o) const { return !(*this == o); }
  // IR spelling: bool, i16, i32, i64, f32, f64, numeric(p,s), text, date, timestamp,
  // timestamptz, jsonb, null; an array's is its element's with `[]` (i32[]).
  std::string str() const;
  // SQL spelling as PostgreSQL prints it: boolean, integer, bigint, double precision,
  // numeric(p,s), text, date, timestamp without time zone, unknown, integer[].
  std::string sqlName() const;
};

// The widest NUMERIC Kind supports: 38 digits fit a 128-bit scaled integer.
constexpr int32_t kMaxNumericPrecision = 38;

// The scale of sqrt(numeric at scale `from`): PostgreSQL's 16 significant decimals at least,
// the argument's scale if larger, and at most 34 (the stdlib's kiln_numeric_sqrt computes one
// more digit of the root in 256 bits).
constexpr int32_t sqrtScale(int32_t from) { return from < 16 ? 16 : from > 34 ? 34 : from; }

struct Column {
  std::string name;
  Type type;
  bool nullable = true;
};
using Schema = std::vector<Column>;

// Where an operator or expression came from in the user's project (for errors at run time).
struct Location {
  std::string file;  // relative to the project root, e.g. "models/marts/revenue.sql"
  uint32_t line = 0; // 1-based; 0 = unknown
  uint32_t column = 0;
  bool known() const { return line != 0; }
  // "models/marts/revenue.sql:3:25", or "" when unknown.
  std::string str() const {
    return known() ? file + ":" + std::to_string(line) + ":" + std::to_string(column) : "";
  }
};

// ---------------------------------------------------------------------------------------------
// Scalar expressions

enum class ExprOp {
  Column,  // column: index into the operator's input row (for join residuals: left ++ right)
  Literal, // literal
  // Arithmetic on equal operand types, except: Numeric operands may differ in scale (the result
  // type says the scale), Date + Int32 / Date - Int32 -> Date, Date - Date -> Int32.
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Neg,
  // Comparisons: operands of equal type (Numeric: equal kind, any scale). Result Bool.
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  IsDistinctFrom,
  IsNotDistinctFrom,
  // Three-valued logic. And/Or take two or more Bool operands.
  And,
  Or,
  Not,
  IsNull,
  IsNotNull, // never NULL
  // args = [cond1, value1, cond2, value2, ..., else]: odd count; values and else share the type.
  Case,
  Coalesce, // args of one type
  NullIf,   // args = [a, b], same type
  Greatest,
  Least,  // args of one type; NULLs ignored as in PostgreSQL
  Cast,   // args = [operand]; the result type is the target
  Like,   // args = [text, pattern]; `flag` = case-insensitive (ILIKE)
  Concat, // args = [text, text] (|| on non-text operands is made text by casts)
  Call,   // function: one of Functions.def (lower, upper, length, abs, round, ...)
};

// The SQL functions, one per line of Functions.def (which documents each).
enum class FunctionId {
#define KILN_FUNCTION(Id, ...) Id,
#include "kiln/IR/Functions.def"
};

// How a function's argument types are coerced and its result typed (see Functions.def).
enum class FunctionSignature {
  TextToText,
  TextLength,
  TextReplace,
  TextSubstr,
  TextIntToText,
  TextTextToInt,
  TextTextToBool,
  SplitPart,
  Pad,
  SameNumber,
  SquareRoot,
  VarianceQuotient,
  FloatMath,
  RoundNumber,
  DateTrunc,
  DatePart,
  Extract,
  AddInterval,
  AtTimeZone,
  Age,
  IntervalToInterval,
  MakeDate,
  MakeTimestamp,
  ToChar,
  JsonbBuild,
  JsonbMember,
  JsonbAccess,
  Array
};

enum FunctionFlag : uint32_t {
  kStrict = 1u << 0,    // a NULL argument makes the result NULL without running it
  kRaises = 1u << 1,    // evaluating it can raise a SQL error
  kImmutable = 1u << 2, // the same arguments always give the same result
};

// One row of Functions.def.
struct FunctionInfo {
  FunctionId id;
  const char *name;
  int min_args, max_args;
  FunctionSignature signature;
  uint32_t flags;
  const char *symbol; // the stdlib function generated code calls; "" for inline code

  bool has(FunctionFlag flag) const { return (flags & flag) != 0; }
};

const FunctionInfo &functionInfo(FunctionId id);
const std::vector<FunctionInfo> &allFunctions();
// A function by its SQL name or one of its aliases ("trim" is btrim); nullopt if Kiln has none.
std::optional<FunctionId> findFunction(std::string_view name);
// The date_trunc units (the stdlib's kiln_date_unit) by PostgreSQL's names; -1 if none.
int32_t dateTruncUnit(std::string_view name);
// The types of a JsonbAccess function: of its arguments after the jsonb (every one), of its
// result, and whether it is NULL where its arguments are not (a missing field, a JSON null).
struct JsonbAccessTypes {
  Type step;
  Type result;
  bool may_be_null;
};
JsonbAccessTypes jsonbAccessTypes(FunctionId id);
// The fields of extract and date_part (the stdlib's kiln_date_field) by PostgreSQL's names; -1.
int32_t dateField(std::string_view name);

struct Value {
  bool is_null = true;
  bool b = false; // Bool
  int64_t i = 0;  // Int32, Int64, Date (days since 2000-01-01), Timestamp and TimestampTz (µs
                  // since 2000-01-01 00:00, UTC for TimestampTz)
  double f = 0;   // Float64
  __int128 n = 0; // Numeric: value * 10^scale; Interval: kiln_interval_pack
  std::string s;  // Text
  bool operator==(const Value &) const = default;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprOp op;
  Type type;                               // the result type
  bool nullable = true;                    // false if the result is never NULL
  int32_t column = -1;                     // Column
  Value literal;                           // Literal
  FunctionId function = FunctionId::Lower; // Call
  bool flag = false; // Like: case-insensitive; Call of kiln_array_compare: ALL (not ANY)
  std::vector<ExprPtr> args;
  Location loc; // for errors raised while evaluating (division by zero, overflow)

  Expr(ExprOp o, Type t) : op(o), type(t) {}
  ExprPtr clone() const;
};

ExprPtr makeColumn(int32_t index, Type type, bool nullable);
ExprPtr makeLiteral(Value value, Type type);
ExprPtr makeCall(ExprOp op, Type type, std::vector<ExprPtr> args, Location loc = {});

// ---------------------------------------------------------------------------------------------
// Operators

// How an operator's state grows, so users and passes can reason about memory.
enum class StateSize { None, Bounded, GrowsWithKeys, GrowsWithInput };

// The operator kinds, one per line of Ops.def (which documents each).
enum class OpKind {
#define KILN_OP(Kind, ...) Kind,
#include "kiln/IR/Ops.def"
};

// An operator's own fields, as the text form spells them after its inputs.
enum class OpPayload {
  None,          // nothing
  SourceKey,     // `key [$0, ...]`: Op::key (a source's primary key, an index's lookup key)
  Predicate,     // an expression: Op::predicate
  Exprs,         // `[expr, ...]`: Op::exprs
  JoinKeys,      // `on [$l = $r, ...]`: Op::left_keys, Op::right_keys
  RangeJoinKeys, // `on [$l = $r, ...] range [$l < $r, ...]`: left_keys, right_keys, ranges
  JoinGraph,    // `on [$a = $b, ...] columns [$c, ...]`: Op::equalities, Op::columns, numbering the
                // columns of all inputs left to right
  Aggregates,   // `group [$k, ...] [count(...) as name : type, ...]`: group_keys, aggregates
  TopK,         // `group [$k, ...] order [$c desc nulls first, ...] limit N offset M`: group_keys
                // (optional), sort_keys, limit, offset
  Window,       // `partition [$k, ...] order [...] [row_number() as rn : int8, ...] limit N`:
                // group_keys (optional), sort_keys (optional), windows, limit (optional)
  SetFunctions, // `[unnest(expr), generate_series(expr, expr), ...] ordinality outer on expr`:
                // set_calls with their arguments (exprs), ordinality, outer and its predicate
                // (all three optional)
};

// How an operator's output schema follows from its inputs.
enum class SchemaRule {
  Declared,      // written out (a source's table, a map's expressions)
  SameAsInput,   // its first input's
  UnionOfInputs, // the first input's names; a column is nullable if it is in any input
  Concat,        // every input's columns, left to right
  Projection,    // Op::columns of every input's columns, left to right
  Aggregate,     // group keys ++ one column per aggregate
  Window,        // its input's columns ++ one column per window function
  SetFunctions,  // its input's columns ++ each set function's columns (++ the ordinality)
  None,          // no output stream
};

// Trait flags of an operator kind (see Ops.def).
enum OpTrait : uint32_t {
  kLinear = 1u << 0,
  kStateful = 1u << 1,
  kRetracts = 1u << 2,
  kFlushes = 1u << 3,
  kNoOutput = 1u << 4,
  kNamed = 1u << 5,
};

constexpr int kManyInputs = -1;

// One row of Ops.def.
struct OpInfo {
  OpKind kind;
  const char *name;
  int min_inputs;
  int max_inputs; // kManyInputs: no limit
  OpPayload payload;
  SchemaRule schema;
  uint32_t traits;
  StateSize state;

  bool has(OpTrait trait) const { return (traits & trait) != 0; }
};

const OpInfo &opInfo(OpKind kind);
// Every operator kind, in the table's order.
const std::vector<OpInfo> &allOps();

// CountDistinct: count(DISTINCT x), the number of distinct non-NULL values.
// CountDistinct and SumDistinct read the distinct non-NULL values (a multiset of them, shared with
// MIN and MAX of the same column).
// StringAgg, JsonbAgg and JsonbObjectAgg keep their group's entries in an order and join them:
// string_agg's text values by its separator; jsonb_agg's element texts (to_jsonb of the value,
// `null` for a NULL) into a jsonb array; jsonb_object_agg's member texts (`"key": value`) into an
// object, put in canonical form; array_agg's element texts (as they stand in an array, NULL for
// a NULL) into an array.
enum class AggKind {
  CountStar,
  Count,
  Sum,
  Avg,
  Min,
  Max,
  CountDistinct,
  SumDistinct,
  StringAgg,
  JsonbAgg,
  JsonbObjectAgg,
  ArrayAgg
};

// Whether the aggregate joins ordered entries (string_agg and the jsonb aggregates).
inline bool joinsEntries(AggKind kind) {
  return kind == AggKind::StringAgg || kind == AggKind::JsonbAgg ||
         kind == AggKind::JsonbObjectAgg || kind == AggKind::ArrayAgg;
}

// A column of ORDER BY: PostgreSQL's defaults are NULLS LAST ascending, NULLS FIRST descending.
struct SortKey {
  int32_t column = 0;
  bool descending = false;
  bool nulls_first = false;
  bool operator==(const SortKey &) const = default;
};

// A range join's condition: a left input's column compared with a right input's column, of the
// same type (Numeric: the same scale).
struct RangeCondition {
  int32_t left = 0;
  ExprOp op = ExprOp::Lt; // Lt, Le, Gt or Ge
  int32_t right = 0;
  bool operator==(const RangeCondition &) const = default;
};

struct AggCall {
  AggKind kind;
  int32_t arg = -1; // input column; -1 for CountStar
  Type type;        // result type
  std::string name; // output column name
  // Aggregates that join entries (joinsEntries): the order of the values (input columns; a
  // value's ties are ordered by its text) and whether equal values (with equal sort keys) count
  // once; StringAgg: the text between values.
  std::string separator;
  std::vector<SortKey> order;
  bool distinct = false;
};

// Window functions (Op::windows): ranking, navigation and aggregates over a frame.
enum class WindowFn {
  RowNumber,
  Rank,
  DenseRank,
  PercentRank,
  CumeDist,
  Ntile,      // n: the number of buckets
  Lag,        // arg, n: the offset, default_arg: the value where there is no such row (or -1)
  Lead,       // (the same)
  FirstValue, // arg, over the frame
  LastValue,
  NthValue,  // arg, n, over the frame
  CountStar, // over the frame
  Count,     // arg, over the frame
  Sum,       // arg, over the frame: bigint of int4, numeric of int8, else the argument's type
  Min,
  Max,
};

// A frame's ends.
enum class FrameBound { UnboundedPreceding, Preceding, CurrentRow, Following, UnboundedFollowing };

// What a frame's offsets count: ORDER BY values (RANGE: the current row stands for its peers,
// rows equal in the ORDER BY), rows, or peer groups.
enum class FrameUnits { Range, Rows, Groups };

// The rows an EXCLUDE clause takes out of every frame: none, the current row, its peers with
// it (GROUP), or its peers but not itself (TIES).
enum class FrameExclusion { NoOthers, CurrentRow, Group, Ties };

// PostgreSQL's default frame: RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (the whole
// partition when the window has no ORDER BY: every row is then the current row's peer).
struct WindowFrame {
  FrameUnits units = FrameUnits::Range;
  FrameBound start = FrameBound::UnboundedPreceding;
  FrameBound end = FrameBound::CurrentRow;
  // Preceding and Following in ROWS and GROUPS: counts of rows or peer groups.
  int64_t start_offset = 0, end_offset = 0;
  // Preceding and Following in RANGE: the distances from the current row's ORDER BY value (the
  // window's one ORDER BY column), constants of `offset_type`: the column's type (a numeric at
  // its scale), or interval for dates and timestamps. Null otherwise.
  Type offset_type;
  Value start_value, end_value;
  FrameExclusion exclude = FrameExclusion::NoOthers;
  bool operator==(const WindowFrame &) const = default;
  bool hasRangeOffset() const {
    return units == FrameUnits::Range &&
           (start == FrameBound::Preceding || start == FrameBound::Following ||
            end == FrameBound::Preceding || end == FrameBound::Following);
  }
};

struct WindowCall {
  WindowFn fn = WindowFn::RowNumber;
  int32_t arg = -1;         // input column
  int32_t default_arg = -1; // Lag, Lead: input column of the default value; -1 for NULL
  int64_t n = 1;            // Lag, Lead: offset; Ntile: buckets; NthValue: place
  WindowFrame frame;
  Type type;        // result type
  std::string name; // output column name
  bool operator==(const WindowCall &) const = default;
};

// Whether `fn` reads a frame (the others read the partition's order alone).
bool usesFrame(WindowFn fn);

// The type of a RANGE frame's offsets from an ORDER BY column of type `order` (PostgreSQL's
// in_range support): bigint for integers, the column's own for numerics, double precision for
// floats, interval for dates, timestamps and intervals; nullopt where there is none.
std::optional<Type> rangeOffsetType(const Type &order);
// Whether an offset of that type is negative (an interval: any of its fields).
bool rangeOffsetNegative(const Type &offset_type, const Value &offset);

// The set-returning functions of an unnest operator (Op::set_calls), PostgreSQL's, each over
// its arguments (Op::exprs, in order) and adding its columns to the row:
enum class SetFunction {
  Unnest,                 // (array): its elements, of the element type
  JsonbArrayElements,     // (jsonb): an array's elements, as jsonb
  JsonbArrayElementsText, // (jsonb): an array's elements as ->> reads them (NULL for null)
  JsonbEach,              // (jsonb): an object's fields, key text and value jsonb
  JsonbEachText,          // (jsonb): an object's fields, key text and value as ->> reads it
  JsonbObjectKeys,        // (jsonb): an object's keys, text
  GenerateSeries,         // (start, stop [, step]) of one integer type, or (start, stop, step)
                          // of timestamps or timestamptz values and an interval: start,
                          // start + step, ... while not past stop; a zero step is an error
  JsonbToRecordset,       // (jsonb): an array's elements, each an object (jsonb); the binder
                          // reads the column definition list's fields from it
  JsonbToRecord,          // (jsonb): the object itself, one row (a NULL too)
};
inline constexpr SetFunction kAllSetFunctions[] = {SetFunction::Unnest,
                                                   SetFunction::JsonbArrayElements,
                                                   SetFunction::JsonbArrayElementsText,
                                                   SetFunction::JsonbEach,
                                                   SetFunction::JsonbEachText,
                                                   SetFunction::JsonbObjectKeys,
                                                   SetFunction::GenerateSeries,
                                                   SetFunction::JsonbToRecordset,
                                                   SetFunction::JsonbToRecord};

struct SetCall {
  SetFunction fn = SetFunction::Unnest;
  int32_t args = 1; // how many of Op::exprs are its arguments
  Location loc;     // the call, where a jsonb of the wrong kind raises
  // The same function of the same arguments (wherever it was written).
  bool operator==(const SetCall &o) const { return fn == o.fn && args == o.args; }
};

// A set function's output columns given its first argument's type, named as PostgreSQL names
// them (unnest, value, key, jsonb_object_keys, generate_series); whether a column may be NULL
// is its own (zipped calls and outer unnests make every column nullable: unnestColumns).
Schema setFunctionColumns(SetFunction fn, const Type &first_arg);
// The range of argument counts a set function takes.
std::pair<int, int> setFunctionArity(SetFunction fn);

struct Op {
  int32_t id = -1; // the value `%id`; unique within the module
  OpKind kind;
  std::vector<int32_t> inputs; // ids of earlier ops
  Schema schema;               // output columns (empty for Sink)
  Location loc;

  std::string name;                   // Source: qualified table ("shop.orders"); Sink: model name
  std::vector<int32_t> key;           // Source: primary key columns (may be empty)
  ExprPtr predicate;                  // Filter
  std::vector<ExprPtr> exprs;         // Map: one per output column
  std::vector<int32_t> left_keys;     // Join: columns of inputs[0]
  std::vector<int32_t> right_keys;    // Join: columns of inputs[1]; same count and types
  std::vector<RangeCondition> ranges; // RangeJoin: conditions that all hold, besides the keys
  // DeltaJoin: pairs of equal columns, and the output columns, both numbering the columns of
  // all inputs left to right (input 1's first column follows input 0's last).
  std::vector<std::pair<int32_t, int32_t>> equalities;
  std::vector<int32_t> columns;
  std::vector<int32_t> group_keys; // Aggregate, TopK (its partitions): input columns
  std::vector<AggCall> aggregates; // Aggregate
  std::vector<SortKey> sort_keys;  // TopK, Window: input columns, most significant first
  std::vector<WindowCall> windows; // Window: one output column each, after the input's
  std::vector<SetCall> set_calls;  // Unnest: its functions, zipped; arguments in `exprs`
  bool ordinality = false;         // Unnest: a column numbering each input row's elements
  bool outer = false;              // Unnest: a row without elements is kept, padded
  int64_t limit = -1;       // TopK: at most this many rows; Window: of each partition; -1: no limit
  int64_t offset = 0;       // TopK: after skipping this many
  bool append_only = false; // analysis result: the stream never carries deletions

  Op(OpKind k) : kind(k) {}
  const OpInfo &info() const { return opInfo(kind); }
  bool has(OpTrait trait) const { return info().has(trait); }
  // Stateful kinds, and a source with a primary key (it keeps the current row of every key).
  bool isStateful() const { return has(kStateful) || (kind == OpKind::Source && !key.empty()); }
  // The table's class, refined by what this instance keeps (a global aggregate is bounded,
  // MIN/MAX keep every value).
  StateSize stateSize() const;
  std::string stateName() const; // e.g. "join_5" (the names generated code and metrics use)
};

struct Module {
  std::string name;
  // The session time zone (kiln/IR/TimeZone.h): empty for UTC. Casts between timestamptz and
  // timestamp or date, its text, and its date_trunc, extract and interval arithmetic are on
  // this zone's clock, so it is part of what every operator computes (fingerprints count it).
  std::string time_zone;
  std::vector<std::unique_ptr<Op>> ops; // topological order: inputs come before their users

  Op *find(int32_t id) const;
  int32_t nextId() const;             // an unused id
  Op &append(std::unique_ptr<Op> op); // assigns an id if op->id < 0
};

const char *opKindName(OpKind kind);         // "source", "filter", ...
const char *exprOpName(ExprOp op);           // "add", "eq", "is_null", ...
const char *aggKindName(AggKind kind);       // "count_star", "count", "sum", ...
const char *windowFnName(WindowFn fn);       // "row_number", "lag", "sum", ...
const char *stateSizeName(StateSize size);   // "none", "bounded", "grows-with-keys", ...
const char *setFunctionName(SetFunction fn); // "unnest", "jsonb_each", ...

} // namespace kiln::ir
