// The Binder's internals, shared by the files of this directory and private to KilnBinder: the
// scopes expressions are bound in, the Binder class (one instance per query, see bindQuery) and
// the plan-building helpers. Each file binds one part of a query:
//   Catalog.cpp      the catalog of relations and type names
//   Coercion.cpp     PostgreSQL's implicit casts: common types, casts, coercion of literals
//   Expressions.cpp  expressions: dispatch, column references, literals, CASE and friends, CAST
//   Operators.cpp    arithmetic, comparison, logic, IS, BETWEEN, IN (list), LIKE
//   Functions.cpp    scalar function calls
//   Aggregates.cpp   aggregate detection and aggregate calls
//   FromItems.cpp    FROM: relations, subqueries, joins, the WHERE conditions placed on them
//   Subqueries.cpp   subqueries in WHERE and references to the outer query
//   SetFunctions.cpp set-returning functions (unnest, jsonb_each, ...) in FROM and select lists
//   Select.cpp       queries: SELECT, set operations, WITH, VALUES, and the entry points
#pragma once

#include <functional>

#include "kiln/Binder/Binder.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kiln::binder {

// ---------------------------------------------------------------------------------------------
// Scopes: the columns visible to an expression.

struct ScopeColumn {
  std::string name;
  ir::Type type;
  bool nullable = true;
  int32_t index = 0;   // in the row the expression is evaluated over
  bool hidden = false; // the right side of JOIN ... USING: found only when qualified
};

struct ScopeRelation {
  std::string alias;              // how the relation may be qualified ("o", "orders")
  std::vector<std::string> names; // full name parts ("shop", "orders") when not aliased
  std::vector<ScopeColumn> columns;
};

struct Scope {
  std::vector<ScopeRelation> relations;
  int32_t width = 0;
};

// A bound expression and whether it is an untyped literal ('text' or NULL) that takes the type
// its context wants, as in PostgreSQL.
struct Bound {
  ir::ExprPtr expr;
  bool unknown = false;
  explicit operator bool() const { return expr != nullptr; }
};

// How aggregate queries bind the select list and HAVING: group expressions and aggregate calls
// become columns of the aggregate's output.
struct AggregateContext {
  std::vector<ir::ExprPtr> group_exprs; // over the FROM row
  std::vector<ir::ExprPtr> agg_args;    // over the FROM row, one per aggregate with an argument
  std::vector<ir::AggCall> aggs;        // arg indexes into [group_exprs..., agg_args...]
  // Per group expression: whether a grouping set lacks it, so that it reads as NULL in that
  // set's rows (empty without GROUPING SETS).
  std::vector<bool> padded;
  // Per GROUPING(...) call: the group expressions it names, its first argument the highest bit.
  std::vector<std::vector<int32_t>> groupings;
  bool keyNullable(size_t i) const {
    return group_exprs[i]->nullable || (i < padded.size() && padded[i]);
  }
};

// How a select list binds window functions (Windows.cpp): each distinct window (PARTITION BY and
// ORDER BY) with its calls; the values they read, as extra columns of the select list's row; and
// per placeholder column (kWindowColumn + n) its window and call.
struct WindowContext {
  struct Spec {
    std::vector<int32_t> partition;    // indexes into inputs
    std::vector<ir::SortKey> order;    // columns: indexes into inputs
    std::vector<ir::WindowCall> calls; // arguments: indexes into inputs
  };
  std::vector<ir::ExprPtr> inputs; // over the select list's row
  // The index in `inputs` of `value`, added if no equal expression is there yet.
  int32_t input(ir::ExprPtr value);
  std::vector<Spec> specs;
  std::vector<std::pair<size_t, size_t>> results; // (spec, call)
};

// jsonb_to_record[set]'s column definition list: each field's name, type and where it is written
// (where a value that does not cast raises).
struct RecordField {
  std::string name;
  ir::Type type;
  ir::Location loc;
};

// ---------------------------------------------------------------------------------------------
// Helpers (Aggregates.cpp, Coercion.cpp, FromItems.cpp, Windows.cpp)

bool isAggregateName(const std::string &name);
// unnest, jsonb_array_elements, jsonb_each, generate_series, ... (SetFunctions.cpp).
bool isSetFunctionName(const std::string &name);
// ARRAY[...], a[i] and x = ANY (a) as the front end spells them (Arrays.cpp).
bool isArrayCallName(const std::string &name);
// @>, <@, && and || of arrays (Arrays.cpp).
bool isArrayOperator(const std::string &op);
// Whether `name` is a function that only a window can call (row_number, lag, ...).
bool isWindowFunctionName(const std::string &name);
// Whether `expr` calls an aggregate (not looking into subqueries).
bool containsAggregate(const ast::Expr &expr);

// sum's result type for an argument of type `t` (a number): bigint of integer, numeric of bigint
// and numeric (at its scale), double precision of double precision.
ir::Type sumType(const ir::Type &t);

// PostgreSQL's implicit-cast lattice for the numeric types: 0 for the others.
int typeRank(ir::TypeKind kind);
// Whether an array element's text (as it stands in an array of `from`) read as `to` is the
// element's cast to `to`: from text, to text (not from boolean, which prints t in an array and
// true alone), between integer types, integers and numerics to numerics and double precision
// (PostgreSQL converts a numeric through its text too), dates to timestamps, and to itself.
bool elementTextCasts(const ir::Type &from, const ir::Type &to);

plan::NodePtr makeNode(plan::NodeKind kind, ir::Schema schema, ir::Location loc,
                       std::vector<plan::NodePtr> inputs);
// Appends the conjuncts of `expr` (its AND operands, recursively) to `out`.
void splitConjuncts(ir::ExprPtr expr, std::vector<ir::ExprPtr> &out);
// The AND of `conjuncts`; null for none.
ir::ExprPtr conjunction(std::vector<ir::ExprPtr> conjuncts);
// The scalar subqueries in `e` (not looking into subqueries), appended to `out`.
void findScalarSubqueries(const ast::Expr &e, std::vector<const ast::Expr *> &out);
// The scalar subqueries of a select list that bindFrom joins to the FROM row: those of a query
// without aggregates (an aggregate query's select list reads groups, not FROM rows).
std::vector<const ast::Expr *> selectListScalarSubqueries(const ast::SelectStmt &stmt);
// Adds `delta` to every column `expr` reads.
void shiftColumns(ir::Expr &expr, int32_t delta);
// The columns [first, first + count) of `input`, projected.
plan::NodePtr projectColumns(const plan::NodePtr &input, int32_t first, int32_t count,
                             const ir::Location &loc);
// The rows of `input` that `rows` (of input's columns: those of a join, say) holds at least once,
// each as often as `input` has it: `input` joined with the distinct rows of `rows`, whole rows
// compared with NULL equal to NULL (a semi-join by rows).
plan::NodePtr rowsHeldBy(const plan::NodePtr &input, const plan::NodePtr &rows,
                         const ir::Location &loc);
// `input` minus `part`, rows of it (an anti-join's complement).
plan::NodePtr without(const plan::NodePtr &input, const plan::NodePtr &part,
                      const ir::Location &loc);

// ---------------------------------------------------------------------------------------------

class Binder {
public:
  Binder(const Catalog &catalog, const SourceManager &sources, DiagnosticEngine &diags)
      : catalog_(catalog), sources_(sources), diags_(diags) {}

  plan::NodePtr bindSelect(const ast::SelectStmt &stmt);
  std::optional<ir::Value> bindConstant(const ast::Expr &expr, const ir::Type &target);

private:
  // ---- diagnostics and locations ----
  Diagnostic &error(SourceRange range, std::string message) {
    ++quiet_errors_;
    if (quiet_ > 0) {
      scratch_ = Diagnostic{};
      return scratch_;
    }
    return diags_.error(range, std::move(message));
  }
  ir::Location location(SourceRange range) const {
    if (!range.valid())
      return {};
    LineCol lc = sources_.lineCol(range.begin);
    return {sources_.path(range.begin.file), lc.line, lc.column};
  }

  // ---- FROM (FromItems.cpp) ----
  struct FromItem {
    plan::NodePtr plan;
    Scope scope;
  };
  std::optional<FromItem> bindTableRef(const ast::TableRef &ref);
  std::optional<FromItem> bindFrom(const ast::SelectStmt &stmt, std::vector<ir::ExprPtr> &where);
  plan::NodePtr makeJoin(FromItem &left, FromItem &right, std::vector<ir::ExprPtr> conjuncts,
                         ir::Location loc);
  // LEFT (keep_left), RIGHT (keep_right) or FULL (both) JOIN of `left` and `right` on
  // `conjuncts` (over left ++ right).
  plan::NodePtr makeOuterJoin(FromItem &left, FromItem &right, std::vector<ir::ExprPtr> conjuncts,
                              bool keep_left, bool keep_right, ir::Location loc);
  static FromItem concatScopes(FromItem left, const FromItem &right);

  // ---- set-returning functions (SetFunctions.cpp) ----
  // Binds a call of one over `scope` into `node` (an unnest node): its calls (unnest of several
  // arrays is one each) and their arguments. False after an error.
  bool bindSetCall(const ast::Expr &call, const Scope &scope, plan::Node &node);
  // Sets an unnest node's schema: its input's columns, then its functions' (named `names`
  // where given).
  void finishUnnest(plan::Node &node, const std::vector<std::string> &names);
  // One row of one hidden column (what SELECT without FROM reads).
  plan::NodePtr oneRow(const ir::Location &loc);
  // A function in FROM, its arguments over `lateral` (the row of the items before it). If they
  // read its columns, the item has no plan: `pending` receives the unnest node, for
  // applyLateral over those rows; else the item is the function's own rows.
  std::optional<FromItem> bindFunctionItem(const ast::TableRef &ref, const Scope &lateral,
                                           plan::NodePtr &pending);
  // `pending` (of bindFunctionItem) over `input`: LEFT JOIN LATERAL (outer) keeps a row without
  // elements satisfying `predicate` (over input ++ the function's columns), padded.
  plan::NodePtr applyLateral(const plan::NodePtr &pending, plan::NodePtr input, bool outer,
                             ir::ExprPtr predicate);
  std::map<const plan::Node *, std::vector<std::string>> pending_names_;
  std::optional<std::vector<RecordField>> recordFields(const ast::TableRef &ref, bool record);
  // The rows of a record function's unnest node: its input's columns, each field read from the
  // record, then the ordinality if any.
  plan::NodePtr readRecordFields(const plan::NodePtr &unnest,
                                 const std::vector<RecordField> &fields);
  std::map<const plan::Node *, std::vector<RecordField>> pending_records_;
  // A select list's set-returning functions, zipped in one unnest node over the select list's
  // row (after its window functions); while the list is bound, the n-th new column reads as
  // column kSetColumn + n.
  struct SetContext {
    plan::NodePtr node;
    int32_t width = 0;
  };
  SetContext *sets_ = nullptr; // set while a select list may call set-returning functions
  static constexpr int32_t kSetColumn = 1 << 20;
  Bound bindSelectListSetCall(const ast::Expr &expr, const Scope &scope);
  // Where a select list's set-returning function may not stand (CASE, COALESCE), for the error.
  const char *sets_forbidden_in_ = nullptr;
  struct SetFunctionsForbidden {
    Binder &binder;
    const char *saved;
    SetFunctionsForbidden(Binder &b, const char *where) : binder(b), saved(b.sets_forbidden_in_) {
      if (where)
        b.sets_forbidden_in_ = where;
    }
    ~SetFunctionsForbidden() { binder.sets_forbidden_in_ = saved; }
  };
  // No set-returning function in what is bound while one lives (aggregate and window
  // arguments, subqueries).
  struct NoSetFunctions {
    Binder &binder;
    SetContext *saved;
    const char *saved_forbidden;
    explicit NoSetFunctions(Binder &b)
        : binder(b), saved(b.sets_), saved_forbidden(b.sets_forbidden_in_) {
      b.sets_ = nullptr;
      b.sets_forbidden_in_ = nullptr;
    }
    ~NoSetFunctions() { binder.sets_ = saved, binder.sets_forbidden_in_ = saved_forbidden; }
  };
  // A correlated LATERAL subquery (bindLateralSubquery), to join with the rows it reads: its
  // plan's columns are the visible ones, then its keys (matching `outer_keys`, over the
  // enclosing row), then the columns its other conditions (`residuals`) read.
  struct LateralSubquery {
    plan::NodePtr plan;
    size_t visible = 0;
    std::vector<ir::ExprPtr> outer_keys;
    // As the correlation left them (joinedResidual), with the FROM-row columns they read.
    std::vector<ir::ExprPtr> residuals;
    std::vector<int32_t> residual_columns;
    bool one_row = false;              // aggregates without GROUP BY: one row per outer row
    std::vector<size_t> count_columns; // then: its counts, 0 for a key without rows
  };
  // A FROM item reading the items before it: a set-returning function's unnest node (awaiting
  // its input) or a correlated LATERAL subquery.
  struct Lateral {
    plan::NodePtr unnest;
    std::shared_ptr<LateralSubquery> subquery;
    explicit operator bool() const { return unnest || subquery; }
  };
  // A LATERAL subquery over the enclosing row `outer`: `pending` receives it if it reads that
  // row, else the item has its plan.
  std::optional<FromItem> bindLateralSubquery(const ast::TableRef &ref, const Scope &outer,
                                              Lateral &pending);
  // `left` [LEFT (keep_left)] JOIN `lateral` ON `on` (over left ++ its columns; may be null).
  plan::NodePtr joinLateral(FromItem &left, const Lateral &lateral, bool keep_left, ir::ExprPtr on);
  // The join of a LATERAL subquery (see joinLateral): [left's columns, its visible ones].
  plan::NodePtr joinLateralSubquery(FromItem &left, const LateralSubquery &sub, bool keep_left,
                                    ir::ExprPtr on);
  // `left [LEFT] JOIN [LATERAL] item ON ...` where the item (`right`) reads left's columns.
  std::optional<FromItem> bindLateralJoin(const ast::TableRef &ref, FromItem left,
                                          const FromItem &right, const Lateral &lateral);

  // ---- subqueries (Subqueries.cpp) ----
  plan::NodePtr semiJoin(const FromItem &input, const ast::Expr &sublink, bool negated);
  // `outer_keys` receives the enclosing row's side of a correlated subquery's equalities (its
  // value plan then has the matching inner keys after the value, one row per key).
  // `domain` receives the node of its outer values' domain, if any (Correlation::domain), which
  // the caller fills in with the distinct values of the enclosing row's `domain_columns`.
  plan::NodePtr bindScalarSubquery(const ast::Expr &subquery, const Scope &outer,
                                   std::vector<ir::ExprPtr> &outer_keys, bool &zero_if_empty,
                                   plan::NodePtr &domain, std::vector<int32_t> &domain_columns);
  Bound bindSubqueryExpr(const ast::Expr &expr, const Scope &scope);
  // A subquery joined to the FROM row as one column past its end (bindFrom): its plan, the
  // enclosing row's keys it is matched on (none: one row for every row), whether its value is 0
  // (not NULL) for a key without rows, and its outer values' domain (Correlation::domain).
  struct ScalarJoin {
    plan::NodePtr value;
    std::vector<ir::ExprPtr> outer_keys;
    bool zero_if_empty = false;
    plan::NodePtr domain;
    std::vector<int32_t> domain_columns;
  };
  // `x IN (subquery)` in an expression (not a top-level WHERE conjunct): three columns, whether x
  // is among the subquery's values (TRUE or NULL), how many rows it has, how many non-NULL
  // values; bindSubqueryExpr combines them with PostgreSQL's NULL rules.
  std::optional<std::vector<ScalarJoin>> bindInSubquery(const ast::Expr &sublink,
                                                        const Scope &outer);
  // `x op ANY (subquery)` and `x op ALL (subquery)` in an expression: four columns, the least and
  // greatest non-NULL values, the rows and the non-NULL values; quantifiedFromAggregates combines
  // them with PostgreSQL's NULL rules.
  std::optional<std::vector<ScalarJoin>> bindQuantifiedSubquery(const ast::Expr &sublink,
                                                                const Scope &outer);
  Bound quantifiedFromAggregates(const ast::Expr &expr, const Scope &scope, int32_t first,
                                 const ir::Type &type);
  Bound inFromCounts(const ast::Expr &expr, const Scope &scope, int32_t first);
  bool refersToOuterQuery(const std::vector<std::string> &qualifier,
                          const std::string &column) const;
  std::vector<const Scope *> outer_scopes_; // of the queries enclosing a WHERE subquery
  // A WHERE subquery of a semi-join being bound that refers to the enclosing query: while its
  // WHERE conjuncts are bound, a column of the enclosing FROM row reads as kOuterColumn plus its
  // index there, and each equality between its own columns and those becomes a pair of join keys
  // (takeCorrelation); the subquery's select list then carries the inner keys as extra columns.
  struct Correlation {
    const Scope *outer = nullptr;
    const ast::SelectStmt *stmt = nullptr; // the subquery's SELECT
    bool in_where = false;
    // A scalar subquery (bindScalarSubquery): aggregated per key, the keys become its GROUP BY.
    bool scalar = false;
    // A LATERAL subquery in FROM (bindLateralSubquery): any select list, aggregated per key (its
    // keys join its GROUP BY) or not, LIMIT per key. Set by bindSimpleSelect: whether it has one
    // row per key (aggregates without GROUP BY), and which of its columns are counts then (0,
    // not NULL, for a key without rows).
    bool lateral = false;
    bool one_row = false;
    std::vector<size_t> count_columns;
    // Its value is a count: 0, not NULL, for a key without rows.
    bool zero_if_empty = false;
    // An EXISTS in an expression: bound as a scalar subquery of count(*) in place of its select
    // list, which the expression compares with 0.
    bool exists_count = false;
    // Under EXISTS (either way): whether it has rows matters, not which, so a LIMIT of one or
    // more rows without OFFSET changes nothing and is dropped (rejectUnsupportedClauses).
    bool exists = false;
    std::vector<ir::ExprPtr> inner_keys; // over the subquery's FROM row
    std::vector<ir::ExprPtr> outer_keys; // over the enclosing FROM row
    // Other conditions on the enclosing row's columns (EXISTS and IN only), over the enclosing
    // row's columns (kOuterColumn + index) and the subquery's FROM row; the subquery's select
    // list then also carries the columns of its own that they read, in this order.
    std::vector<ir::ExprPtr> residuals;
    std::vector<int32_t> residual_columns;
    // A scalar subquery's other conditions on the enclosing row's columns (`x.b < t.b`): its
    // FROM row is joined with the distinct values of the enclosing row's columns they read
    // (`domain`, a Distinct node whose input the enclosing query fills in once its FROM row is
    // built), on those conditions, and aggregated per value too (Neumann and Kemper's
    // unnesting over the outer values' domain).
    plan::NodePtr domain;
    std::vector<int32_t> domain_columns; // of the enclosing FROM row
  };
  plan::NodePtr bindCorrelated(Correlation &correlation);
  // A subquery compared with a value (IN, ANY, ALL), uncorrelated or correlated by equalities:
  // `values` is [value, keys...] over its rows, the value in x's and its common type.
  struct ComparedSubquery {
    Correlation correlation;
    int32_t keys = 0;
    ir::Type type;
    ir::ExprPtr x; // over the enclosing row
    plan::NodePtr values;
  };
  std::optional<ComparedSubquery> bindComparedSubquery(const ast::Expr &sublink,
                                                       const Scope &outer);
  // An aggregate of the compared values per key, as a column joined to the enclosing row.
  ScalarJoin perKey(const ComparedSubquery &q, ir::AggKind kind, const ir::Location &loc);
  // A correlated subquery's residual condition (Correlation::residuals) renumbered to the row of
  // its join with the enclosing row: the enclosing row's columns first, the subquery's FROM-row
  // columns it reads (residual_columns) where the join's row carries them, from `carried` on.
  static void joinedResidual(ir::Expr &residual, const std::vector<int32_t> &residual_columns,
                             int32_t carried);
  // The scalar subquery's domain join (see Correlation::domain), over its FROM row `input`.
  plan::NodePtr joinDomain(plan::NodePtr input, int32_t width, const ir::Location &loc);
  static constexpr int32_t kOuterColumn = 1 << 24;
  static constexpr int32_t kHavingScalar = 1 << 23; // see bindSimpleSelect
  // GROUPING(...) calls read column kGroupingColumn + n (the n-th call) until the aggregate's
  // layout is known (bindSimpleSelect).
  static constexpr int32_t kGroupingColumn = 1 << 21;
  Correlation *correlation_ = nullptr;
  // Moves the equalities of `predicate` (a bound WHERE conjunct of the correlated subquery) that
  // relate its columns to the enclosing query's into correlation_; what remains (maybe nothing)
  // stays in `predicate`. False after an error: another use of the enclosing query's columns.
  bool takeCorrelation(const ast::Expr &conjunct, ir::ExprPtr &predicate);
  plan::NodePtr correlatedSemiJoin(const FromItem &input, const ast::Expr &sublink, bool negated,
                                   plan::NodePtr sub, Correlation &correlation);
  // `x NOT IN (subquery)` correlated by equalities, as a WHERE conjunct (correlatedSemiJoin).
  plan::NodePtr correlatedNotIn(const FromItem &input, const ast::Expr &sublink,
                                const plan::NodePtr &sub, Correlation &correlation);
  // Scalar subqueries of the WHERE being bound: the column of the FROM row (extended past its
  // end) that carries each one's value.
  std::map<const ast::Expr *, std::pair<int32_t, ir::Column>> scalar_columns_;

  // ---- expressions (Expressions.cpp) ----
  Bound bindExpr(const ast::Expr &expr, const Scope &scope);
  Bound bindExprInner(const ast::Expr &expr, const Scope &scope);
  Bound bindColumnRef(const ast::Expr &expr, const Scope &scope);
  Bound bindLiteral(const ast::Expr &expr);
  Bound bindCase(const ast::Expr &expr, const Scope &scope);
  Bound bindConditional(const ast::Expr &expr, const Scope &scope); // COALESCE, NULLIF, ...
  Bound bindCast(const ast::Expr &expr, const Scope &scope);
  ir::ExprPtr bindCondition(const ast::Expr &expr, const Scope &scope, const char *clause);

  // ---- operators (Operators.cpp) ----
  Bound bindUnary(const ast::Expr &expr, const Scope &scope);
  Bound bindBinary(const ast::Expr &expr, const Scope &scope);
  Bound bindIsNull(const ast::Expr &expr, const Scope &scope);
  Bound bindIsBool(const ast::Expr &expr, const Scope &scope);
  Bound bindBetween(const ast::Expr &expr, const Scope &scope);
  Bound bindInList(const ast::Expr &expr, const Scope &scope);
  Bound bindLike(const ast::Expr &expr, const Scope &scope);
  Bound arithmetic(const std::string &op, Bound left, Bound right, SourceRange range);

  // ---- intervals (Intervals.cpp) ----
  // `left op right` where an interval is an operand or the result (timestamp - timestamp);
  // nullopt if neither is (the operands are then untouched).
  std::optional<Bound> bindIntervalArithmetic(const std::string &op, Bound &left, Bound &right,
                                              SourceRange range);
  Bound comparison(ir::ExprOp op, Bound left, Bound right, SourceRange range);
  // A call of a jsonb function (JsonbAccess): the first argument coerced to jsonb, the others to
  // the function's step type. `ranges` are the arguments'.
  Bound jsonbCall(ir::FunctionId id, std::vector<Bound> args,
                  const std::vector<SourceRange> &ranges, SourceRange range);
  // The jsonb operators ->, ->>, #>, #>> and ? (expr.op is one of them).
  std::optional<std::vector<std::string>> textArrayConstant(const Bound &array, SourceRange range,
                                                            const std::string &what,
                                                            const std::string &hint);
  Bound bindJsonbOperator(const ast::Expr &expr, Bound left, Bound right);
  // Whether min or max (`name`) takes an argument of `type` (PostgreSQL has them of neither
  // booleans nor jsonb); else a located error.
  bool extremeOf(const std::string &name, const ir::Type &type, SourceRange range);

  // ---- functions (Functions.cpp, Aggregates.cpp) ----
  Bound bindFunction(const ast::Expr &expr, const Scope &scope);
  Bound bindConcat(const ast::Expr &expr, const Scope &scope);
  // ---- arrays (Arrays.cpp) ----
  Bound bindArrayCall(const ast::Expr &expr, const Scope &scope);
  ir::ExprPtr arrayElementText(ir::ExprPtr value, SourceRange range);
  Bound bindQuantified(const ast::Expr &expr, std::vector<Bound> args, const Scope &scope);
  Bound compareElements(const ast::Expr &expr, std::vector<Bound> args, bool like, bool any);
  // string_to_array (regex: regexp_split_to_array) of `args`, the bound arguments of `expr`.
  Bound bindSplitToArray(bool regex, std::vector<Bound> args, const ast::Expr &expr);
  Bound bindArrayOperator(const std::string &op, Bound left, Bound right, SourceRange left_range,
                          SourceRange right_range, SourceRange range, int element_side = -1);
  Bound bindRounding(const ast::Expr &expr, const ir::FunctionInfo &fn, std::vector<Bound> &args,
                     const std::function<Bound(ir::Type, std::vector<ir::Type>)> &call);
  Bound bindDateField(const ast::Expr &expr, const ir::FunctionInfo &fn, std::vector<Bound> &args,
                      const std::function<Bound(ir::Type, std::vector<ir::Type>)> &call);
  Bound bindAtTimeZone(const ast::Expr &expr, std::vector<Bound> &args,
                       const std::function<Bound(ir::Type, std::vector<ir::Type>)> &call);
  Bound bindDateTrunc(const ast::Expr &expr, std::vector<Bound> &args,
                      const std::function<Bound(ir::Type, std::vector<ir::Type>)> &call);
  Bound bindAggregateCall(const ast::Expr &expr, const Scope &scope);
  Bound bindAggregateArgument(const ast::Expr &expr);
  // An expression of an aggregate call (an argument, an ORDER BY item) over the FROM row.
  Bound bindOverAggregatedRow(const ast::Expr &expr);
  Bound bindOrderedAggregate(const ast::Expr &expr,
                             const std::function<ir::ExprPtr(ir::ExprPtr)> &filtered);
  Bound bindGrouping(const ast::Expr &expr);
  ir::ExprPtr addAggregate(ir::AggKind kind, const ir::Type &type, const std::string &name,
                           ir::ExprPtr argument, int32_t arg = -1);
  Bound bindDistinctAverage(const ast::Expr &expr, ir::ExprPtr arg,
                            const std::function<ir::ExprPtr(ir::ExprPtr)> &filtered);
  Bound bindVarianceAggregate(const ast::Expr &expr,
                              const std::function<ir::ExprPtr(ir::ExprPtr)> &filtered);
  Bound bindBooleanAggregate(const ast::Expr &expr,
                             const std::function<ir::ExprPtr(ir::ExprPtr)> &filtered);

  // ---- window functions (Windows.cpp) ----
  Bound bindWindowCall(const ast::Expr &expr, const Scope &scope);
  Bound toCharNumber(const ast::Expr &expr, std::vector<Bound> args);
  std::optional<int64_t> windowCount(const ast::Expr &expr, const char *what, int64_t min);
  std::optional<ir::Value> rangeOffset(const ast::Expr &expr, const ir::Type &order,
                                       const char *what);
  // `body` with the window functions' columns appended; renumbers the placeholders in `outputs`.
  plan::NodePtr bindWindows(plan::NodePtr body, std::vector<ir::ExprPtr> &outputs,
                            const ir::Location &loc);
  WindowContext *window_ = nullptr; // set while a select list may call window functions
  // Where they may not be, and the message says why (else "not allowed here").
  const char *window_forbidden_ = nullptr;
  static constexpr int32_t kWindowColumn = 1 << 22;

  // ---- types and coercion (Coercion.cpp) ----
  ir::ExprPtr coerce(Bound bound, const ir::Type &target, SourceRange range);
  // How PostgreSQL resolves the operands' type: as an operator's (and a comparison's, IN's),
  // where real meets another number as double precision, or as CASE, COALESCE and set
  // operations do, where it stays real.
  enum class Resolution { Union, Operator };
  std::optional<ir::Type> commonType(const std::vector<Bound *> &operands, SourceRange range,
                                     const std::string &what,
                                     Resolution resolution = Resolution::Union);
  ir::ExprPtr castExpr(ir::ExprPtr expr, const ir::Type &target, SourceRange range);

  // ---- queries (Select.cpp) ----
  plan::NodePtr bindSimpleSelect(const ast::SelectStmt &stmt);
  plan::NodePtr bindSetOperation(const ast::SelectStmt &stmt);
  plan::NodePtr groupingSets(const plan::NodePtr &all, const plan::NodePtr &pre,
                             const std::vector<std::vector<size_t>> &sets,
                             const std::vector<int32_t> &key_of, const std::vector<bool> &padded,
                             const std::vector<std::vector<int32_t>> &groupings);
  plan::NodePtr bindValues(const ast::SelectStmt &stmt);
  bool rejectUnsupportedClauses(const ast::SelectStmt &stmt);
  std::optional<int64_t> bindRowCount(const ast::Expr &expr, const char *clause);
  std::optional<std::pair<int64_t, int64_t>> bindLimitOffset(const ast::SelectStmt &stmt);
  plan::NodePtr leadingColumns(plan::NodePtr rows, size_t width, const ir::Location &loc);
  plan::NodePtr bindTopK(const ast::SelectStmt &stmt, plan::NodePtr result);
  plan::NodePtr bindDistinctOn(const ast::SelectStmt &stmt, plan::NodePtr rows,
                               const std::vector<int32_t> &on_columns,
                               const std::vector<ir::SortKey> &order_keys, size_t visible);
  // Per plain SELECT with ORDER BY and LIMIT/OFFSET: for each ORDER BY item, the column of the
  // result that bindSimpleSelect computed for it past the select list's, or -1.
  std::map<const ast::SelectStmt *, std::vector<int32_t>> hidden_order_;
  plan::NodePtr firstRowPerKey(const ast::SelectStmt &stmt, plan::NodePtr rows, size_t visible);
  // Whose LIMIT bindSimpleSelect took (or an EXISTS subquery dropped: rejectUnsupportedClauses).
  std::set<const ast::SelectStmt *> limited_;

  const Catalog &catalog_;
  const SourceManager &sources_;
  DiagnosticEngine &diags_;
  // CTEs visible to the query being bound, innermost last.
  std::vector<std::map<std::string, std::pair<plan::NodePtr, std::vector<std::string>>>> ctes_;
  // Set while binding the select list / HAVING of an aggregate query.
  AggregateContext *agg_ = nullptr;
  const Scope *agg_from_scope_ = nullptr;
  int quiet_ = 0;        // > 0: trial binding, errors are not reported
  int quiet_errors_ = 0; // errors seen (reported or not)
  Diagnostic scratch_;
};

} // namespace kiln::binder
