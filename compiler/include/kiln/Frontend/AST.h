// Kiln's SQL syntax tree: what the parser produces from libpg_query's tree and the binder consumes.
//
// The tree is syntactic: names are unresolved and types unknown. It can represent some constructs
// Kiln does not compile yet (outer joins, ORDER BY, UNION without ALL, ...) so that the binder can
// reject them with a precise message; constructs it cannot represent are rejected by the parser.
// Every node carries the range of its text in the user's file (already mapped back through the
// Jinja renderer).
#pragma once

#include "kiln/Support/Diagnostics.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln::ast {

struct SelectStmt;
struct WindowSpec;

struct TypeName {
  std::string name; // lower-case, PostgreSQL's canonical spelling where it has one:
                    // "int4", "int8", "int2", "float8", "float4", "numeric", "text",
                    // "varchar", "bpchar", "bool", "date", "timestamp", "timestamptz",
                    // "interval", or the name as written for anything else
  std::vector<int64_t> modifiers; // numeric(12,2) -> {12, 2}; varchar(20) -> {20}
  bool is_array = false;
  SourceRange range;
  // INTERVAL's fields as written, lower-case: "day", "year to month", ...; empty if none. A
  // seconds precision (INTERVAL '1' SECOND(3), INTERVAL(3)) is then the only modifier.
  std::string interval_fields;
};

enum class ExprKind {
  ColumnRef, // names = [column] or [table, column] (or [schema, table, column])
  Star,      // `*` or `t.*` in a select list or count(*): names = [] or [table]
  Literal,   // literal_kind + text
  Unary,     // op in {"-", "+", "NOT"}; args = [operand]
  Binary,    // op in {"+","-","*","/","%","=","<>","<",">","<=",">=","||","AND","OR"};
             // AND/OR chains are flattened: args has two or more operands
  IsNull,    // args = [operand]; negated for IS NOT NULL
  IsBool,    // IS [NOT] TRUE/FALSE/UNKNOWN: text = "true"|"false"|"unknown", negated
  Between,   // args = [operand, low, high]; negated for NOT BETWEEN; symmetric flag
  InList,    // args = [operand, item...]; negated for NOT IN
  Like,      // args = [operand, pattern] (escape not supported); negated; case_insensitive
  Case,      // args = [when1, then1, when2, then2, ...]; case_operand and case_else optional
  Coalesce,  // args
  NullIf,    // args = [a, b]
  Greatest,  // args (GREATEST); Least for LEAST
  Least,
  Cast,     // args = [operand]; cast_type
  FuncCall, // names = [name] or [schema, name] lower-case; args; star (count(*)); distinct
  Subquery, // subquery; sublink kind (scalar, EXISTS, IN (subquery), ANY/ALL)
  Param,    // $1: not supported, kept so the binder can reject it at its location
};

enum class LiteralKind { Integer, Numeric, String, Boolean, Null };
enum class SublinkKind { Scalar, Exists, In, Any, All };

struct Expr;

// An ORDER BY item (of a query, a window or an aggregate call).
struct SortItem {
  std::unique_ptr<Expr> expr;
  bool descending = false;
  int nulls = 0; // 0 default, 1 NULLS FIRST, 2 NULLS LAST
};

struct Expr {
  ExprKind kind;
  SourceRange range;
  std::vector<std::string> names;
  LiteralKind literal_kind = LiteralKind::Null;
  std::string text; // literal text (numbers as written, strings unescaped), or IsBool's test
  std::string op;
  std::vector<std::unique_ptr<Expr>> args;
  std::unique_ptr<Expr> case_operand;
  std::unique_ptr<Expr> case_else;
  std::unique_ptr<Expr> agg_filter; // FuncCall: FILTER (WHERE ...)
  std::vector<SortItem>
      agg_order; // FuncCall: an aggregate's ORDER BY (string_agg(x, ',' ORDER BY y))
  std::unique_ptr<WindowSpec> over; // FuncCall: OVER (...), a window function's call
  TypeName cast_type;
  bool negated = false;
  bool distinct = false;
  bool star = false;
  bool case_insensitive = false;
  bool symmetric = false;
  std::unique_ptr<SelectStmt> subquery;
  SublinkKind sublink = SublinkKind::Scalar;

  explicit Expr(ExprKind k, SourceRange r = {}) : kind(k), range(r) {}
};
using ExprPtr = std::unique_ptr<Expr>;

enum class JoinKind { Inner, Left, Right, Full, Cross };

// A column of CREATE TABLE (the sqllogictest runner's), or of a FROM function's column
// definition list (`jsonb_to_recordset(x) AS r(a int, b text)`).
struct ColumnDef {
  std::string name;
  TypeName type;
  bool not_null = false;
  bool primary_key = false;
  SourceRange range;
};

struct TableRef {
  enum class Kind { Named, Subquery, Join, Function } kind = Kind::Named;
  SourceRange range;
  std::vector<std::string> names;          // Named: [table] or [schema, table]
  std::string alias;                       // empty if none
  std::vector<std::string> column_aliases; // AS t(a, b)
  std::unique_ptr<SelectStmt> subquery;    // Subquery
  bool lateral = false;                    // Subquery: LATERAL (may read the items before it)
  JoinKind join_kind = JoinKind::Inner;    // Join
  bool natural = false;
  std::unique_ptr<TableRef> left, right;
  ExprPtr on;                             // JOIN ... ON
  std::vector<std::string> using_columns; // JOIN ... USING
  // Function: its calls (FuncCall expressions; several for ROWS FROM (...)), and WITH ORDINALITY.
  std::vector<ExprPtr> functions;
  bool ordinality = false;
  std::vector<ColumnDef> column_definitions; // Function: AS r(a int, b text), for records
};

struct SelectItem {
  ExprPtr expr;      // may be a Star expression
  std::string alias; // AS name, empty if none
  SourceRange range;
};

// OVER (PARTITION BY ... ORDER BY ... frame), a named window's resolved. The frame's bounds are
// PostgreSQL's (parsenodes.h FRAMEOPTION_* bits in `frame_options`), offsets as written.
struct WindowSpec {
  std::vector<ExprPtr> partition;
  std::vector<SortItem> order;
  int frame_options = 0;
  ExprPtr start_offset, end_offset;
  SourceRange range;
};

struct CommonTableExpr {
  std::string name;
  std::vector<std::string> column_names;
  std::unique_ptr<SelectStmt> query;
  SourceRange range;
};

enum class SetOp { None, Union, Intersect, Except };

struct SelectStmt {
  SourceRange range;
  std::vector<CommonTableExpr> with;
  // A set operation (op != None) has larg/rarg and no select list of its own.
  SetOp op = SetOp::None;
  bool all = false; // UNION ALL
  std::unique_ptr<SelectStmt> larg, rarg;
  // A plain SELECT.
  bool distinct = false;
  bool distinct_on = false;               // DISTINCT ON (...)
  std::vector<ExprPtr> distinct_on_exprs; // its expressions
  std::vector<SelectItem> targets;
  std::vector<std::unique_ptr<TableRef>> from;
  ExprPtr where;
  std::vector<ExprPtr> group_by;
  // GROUPING SETS, ROLLUP and CUBE (and plain keys beside them): the sets of group_by's items
  // (indices) to group by, one aggregate each; empty when GROUP BY has none of them.
  std::vector<std::vector<size_t>> grouping_sets;
  ExprPtr having;
  // VALUES (...), (...) as a query: each row a list of expressions.
  std::vector<std::vector<ExprPtr>> values;
  // Accepted by the parser, rejected for models by the binder (kept for the sqllogictest runner).
  std::vector<SortItem> order_by;
  ExprPtr limit, offset;
};

// Statements other than SELECT, for the sqllogictest runner.

struct Statement {
  enum class Kind {
    Select,
    CreateTable,
    CreateView,
    Insert,
    Delete,
    Update,
    DropTable,
    DropView
  } kind;
  SourceRange range;
  std::unique_ptr<SelectStmt> select;   // Select, CreateView (the view's query), Insert ... SELECT
  std::vector<std::string> name;        // CreateTable/CreateView/Insert/Delete/Update/Drop target
  std::vector<ColumnDef> columns;       // CreateTable
  std::vector<std::string> primary_key; // CreateTable (table constraint or column constraint)
  std::vector<std::string> insert_columns;                  // Insert (empty: all, in order)
  std::vector<std::vector<ExprPtr>> values;                 // Insert ... VALUES
  ExprPtr where;                                            // Delete / Update
  std::vector<std::pair<std::string, ExprPtr>> assignments; // Update SET
  bool if_exists = false;                                   // Drop
};

} // namespace kiln::ast
