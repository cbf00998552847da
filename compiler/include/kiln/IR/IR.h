// Kiln's incremental IR: a dataflow graph of operators over Z-sets (multisets with signed
// weights), following DBSP.
//
// A Module is the whole project: one graph, operators in topological order, each producing one
// stream (`%N`). Linear operators (filter, map, union_all) act on deltas directly; stateful
// operators (join, aggregate, distinct) name their state, its key and its size class; sinks
// consolidate and emit a model's changes at the end of every tick.
//
// Scalar expressions inside operators are fully typed: the binder has made every implicit cast
// explicit, so each operation's operand types are exactly what code generation expects.
//
// The textual form (Printer.h / Parser.h) round-trips every field here; the verifier
// (Verifier.h) checks the invariants documented on each struct.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln::ir {

// ---------------------------------------------------------------------------------------------
// Types

enum class TypeKind { Bool, Int32, Int64, Float64, Numeric, Text, Date, Timestamp, Null };

// A SQL type. Null is the type of an untyped NULL literal before the binder resolves it; it never
// reaches an operator's schema. Numeric carries precision (1..38) and scale (0..precision).
struct Type {
  TypeKind kind = TypeKind::Null;
  int32_t precision = 0;
  int32_t scale = 0;

  static Type boolean() { return {TypeKind::Bool}; }
  static Type int32() { return {TypeKind::Int32}; }
  static Type int64() { return {TypeKind::Int64}; }
  static Type float64() { return {TypeKind::Float64}; }
  static Type numeric(int32_t p, int32_t s) { return {TypeKind::Numeric, p, s}; }
  static Type text() { return {TypeKind::Text}; }
  static Type date() { return {TypeKind::Date}; }
  static Type timestamp() { return {TypeKind::Timestamp}; }
  static Type null() { return {TypeKind::Null}; }

  bool isInteger() const { return kind == TypeKind::Int32 || kind == TypeKind::Int64; }
  bool isNumericLike() const {
    return isInteger() || kind == TypeKind::Float64 || kind == TypeKind::Numeric;
  }
  bool operator==(const Type &o) const {
    return kind == o.kind && (kind != TypeKind::Numeric || (precision == o.precision && scale == o.scale));
  }
  bool operator!=(const Type &o) const { return !(*this == o); }
  // IR spelling: bool, i32, i64, f64, numeric(p,s), text, date, timestamp, null.
  std::string str() const;
  // SQL spelling as PostgreSQL prints it: boolean, integer, bigint, double precision,
  // numeric(p,s), text, date, timestamp without time zone, unknown.
  std::string sqlName() const;
};

// The widest NUMERIC Kind supports: 38 digits fit a 128-bit scaled integer.
constexpr int32_t kMaxNumericPrecision = 38;

struct Column {
  std::string name;
  Type type;
  bool nullable = true;
};
using Schema = std::vector<Column>;

// Where an operator or expression came from in the user's project (for errors at run time).
struct Location {
  std::string file;  // relative to the project root, e.g. "models/marts/revenue.sql"
  uint32_t line = 0;  // 1-based; 0 = unknown
  uint32_t column = 0;
  bool known() const { return line != 0; }
};

// ---------------------------------------------------------------------------------------------
// Scalar expressions

enum class ExprOp {
  Column,   // column: index into the operator's input row (for join residuals: left ++ right)
  Literal,  // literal
  // Arithmetic on equal operand types, except: Numeric operands may differ in scale (the result
  // type says the scale), Date + Int32 / Date - Int32 -> Date, Date - Date -> Int32.
  Add, Sub, Mul, Div, Mod, Neg,
  // Comparisons: operands of equal type (Numeric: equal kind, any scale). Result Bool.
  Eq, Ne, Lt, Le, Gt, Ge,
  IsDistinctFrom, IsNotDistinctFrom,
  // Three-valued logic. And/Or take two or more Bool operands.
  And, Or, Not,
  IsNull, IsNotNull,  // never NULL
  // args = [cond1, value1, cond2, value2, ..., else]: odd count; values and else share the type.
  Case,
  Coalesce,  // args of one type
  NullIf,    // args = [a, b], same type
  Greatest, Least,  // args of one type; NULLs ignored as in PostgreSQL
  Cast,      // args = [operand]; the result type is the target
  Like,      // args = [text, pattern]; `flag` = case-insensitive (ILIKE)
  Concat,    // args = [text, text] (|| on non-text operands is made text by casts)
  Call,      // function: a stdlib function by name (lower, upper, length, abs, round, ...)
};

struct Value {
  bool is_null = true;
  bool b = false;    // Bool
  int64_t i = 0;     // Int32, Int64, Date (days since 2000-01-01), Timestamp (µs since 2000-01-01)
  double f = 0;      // Float64
  __int128 n = 0;    // Numeric: value * 10^scale
  std::string s;     // Text
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprOp op;
  Type type;              // the result type
  bool nullable = true;   // false if the result is never NULL
  int32_t column = -1;    // Column
  Value literal;          // Literal
  std::string function;   // Call
  bool flag = false;      // Like: case-insensitive
  std::vector<ExprPtr> args;
  Location loc;           // for errors raised while evaluating (division by zero, overflow)

  Expr(ExprOp o, Type t) : op(o), type(t) {}
  ExprPtr clone() const;
};

ExprPtr makeColumn(int32_t index, Type type, bool nullable);
ExprPtr makeLiteral(Value value, Type type);
ExprPtr makeCall(ExprOp op, Type type, std::vector<ExprPtr> args, Location loc = {});

// ---------------------------------------------------------------------------------------------
// Operators

enum class OpKind {
  Source,     // a source table's changes. No inputs.
  Filter,     // keeps rows where `predicate` is TRUE. Linear.
  Map,        // projects `exprs` (one per output column). Linear.
  UnionAll,   // sum of two or more inputs of equal column types. Linear.
  Negate,     // its input with every weight negated (set difference is a union with this). Linear.
  Consolidate,  // its input, summed per row over a tick and emitted at the tick's end: changes
                // that cancel (an update of columns nobody reads) go no further. State: the
                // tick's changes only.
  Join,       // inner equi-join; output = left columns ++ right columns. Bilinear: keeps an index
              // of each side keyed by its key columns (state grows with input).
  Aggregate,  // GROUP BY `group_keys` with `aggregates`; output = keys ++ one column per
              // aggregate. One output row per group with a positive count; with no keys, exactly
              // one row always (SQL's global aggregate). State: per group (grows with keys);
              // MIN/MAX keep an ordered multiset of values per group (grows with input).
  Distinct,   // set semantics: each distinct row once while its count is positive. State: a count
              // per distinct row (grows with keys).
  Sink,       // consolidates and emits the changes of model `name`. No output stream.
};

enum class AggKind { CountStar, Count, Sum, Avg, Min, Max };

struct AggCall {
  AggKind kind;
  int32_t arg = -1;  // input column; -1 for CountStar
  Type type;         // result type
  std::string name;  // output column name
};

// How an operator's state grows, so users and passes can reason about memory.
enum class StateSize { None, Bounded, GrowsWithKeys, GrowsWithInput };

struct Op {
  int32_t id = -1;  // the value `%id`; unique within the module
  OpKind kind;
  std::vector<int32_t> inputs;  // ids of earlier ops
  Schema schema;                // output columns (empty for Sink)
  Location loc;

  std::string name;                // Source: qualified table ("shop.orders"); Sink: model name
  std::vector<int32_t> key;        // Source: primary key columns (may be empty)
  ExprPtr predicate;               // Filter
  std::vector<ExprPtr> exprs;      // Map: one per output column
  std::vector<int32_t> left_keys;  // Join: columns of inputs[0]
  std::vector<int32_t> right_keys; // Join: columns of inputs[1]; same count and types
  std::vector<int32_t> group_keys; // Aggregate: input columns
  std::vector<AggCall> aggregates; // Aggregate
  bool append_only = false;        // analysis result: the stream never carries deletions

  Op(OpKind k) : kind(k) {}
  bool isStateful() const {
    return kind == OpKind::Join || kind == OpKind::Aggregate || kind == OpKind::Distinct ||
           kind == OpKind::Consolidate;
  }
  StateSize stateSize() const;
  std::string stateName() const;  // e.g. "join_5" (the names generated code and metrics use)
};

struct Module {
  std::string name;
  std::vector<std::unique_ptr<Op>> ops;  // topological order: inputs come before their users

  Op *find(int32_t id) const;
  int32_t nextId() const;  // an unused id
  Op &append(std::unique_ptr<Op> op);  // assigns an id if op->id < 0
};

const char *opKindName(OpKind kind);          // "source", "filter", ...
const char *exprOpName(ExprOp op);            // "add", "eq", "is_null", ...
const char *aggKindName(AggKind kind);        // "count_star", "count", "sum", ...
const char *stateSizeName(StateSize size);    // "none", "bounded", "grows-with-keys", ...

}  // namespace kiln::ir
