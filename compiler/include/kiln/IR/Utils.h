// Helpers over the incremental IR shared by the printer, parser, verifier and passes: the typing
// rules that are fixed by SQL (so the text form can leave them implicit), structural equality and
// expression walking.
#pragma once

#include "kiln/IR/IR.h"

#include <functional>
#include <optional>
#include <set>
#include <string>

namespace kiln::ir {

// The result type an operation always has (Bool for comparisons, logic, IS [NOT] NULL, LIKE; Text
// for ||), or nullopt when it depends on the operands.
std::optional<Type> fixedResultType(ExprOp op);

// The comparison with its operands swapped: `a OP b` is `b mirroredComparison(OP) a` (Lt and Gt,
// Le and Ge trade places; Eq and Ne stay). Other operators come back as they are.
ExprOp mirroredComparison(ExprOp op);

// Whether an operation of `op` over `args` can be NULL under PostgreSQL's rules: strict operations
// are NULL when an operand is; IS [NOT] NULL / IS [NOT] DISTINCT FROM never are; COALESCE,
// GREATEST and LEAST only when every operand is; NULLIF always may be; CASE when a branch may be.
// makeCall uses this, and the printer marks only expressions that deviate from it.
bool inferNullable(ExprOp op, const std::vector<ExprPtr> &args);

// The schema `op` has by construction from its inputs, when it is determined by them: filter and
// distinct keep their input's, join concatenates, union_all takes its first input's names (a
// column is nullable if it is in any input), aggregate is group keys ++ one column per aggregate
// (COUNT never NULL), sink has none. nullopt for source and map, or when an input is missing.
// `lookup` resolves input ids (the printer and parser see only the ops before `op`).
using OpLookup = std::function<const Op *(int32_t id)>;
std::optional<Schema> inferSchema(const Op &op, const OpLookup &lookup);
std::optional<Schema> inferSchema(const Module &module, const Op &op);

// Whether `agg` (one of `aggregate`'s calls over rows of `input`) can be NULL: COUNT never is;
// the others are NULL over no rows, which only a global aggregate (no group keys) sees, or when
// their argument may be NULL.
bool aggregateNullable(const Op &aggregate, const AggCall &agg, const Schema &input);
// Whether a window function's column may be NULL (ranks and counts never are).
bool windowNullable(const WindowCall &call);
// The columns an unnest operator adds to its input's: each set function's, then the ordinality.
// Zipped functions pad each other with NULLs, and an outer unnest pads a row without elements,
// so there every column may be NULL. Nullopt if an argument is missing.
std::optional<Schema> unnestColumns(const std::vector<SetCall> &calls,
                                    const std::vector<ExprPtr> &args, bool ordinality, bool outer);
inline std::optional<Schema> unnestColumns(const Op &op) {
  return unnestColumns(op.set_calls, op.exprs, op.ordinality, op.outer);
}

bool sameColumn(const Column &a, const Column &b); // name, type and nullability

// The model an operator maintains: a sink's or index's model, a source's table, the model file
// its location names, or, for operators that passes placed in front of a model (a consolidate
// after a source), the first model that reads it; "" if none.
std::string modelOf(const Module &module, const Op &op);
bool sameSchema(const Schema &a, const Schema &b);
bool sameColumnTypes(const Schema &a, const Schema &b); // types only

// Structural equality of the semantic fields for `type` (a NULL equals a NULL).
bool sameValue(const Value &a, const Value &b, const Type &type);
// Structural equality of expressions, ignoring locations.
bool sameExpr(const Expr &a, const Expr &b);

// Calls `fn` on `expr` and every subexpression, parents first. `E` is Expr or const Expr.
template <typename E, typename Fn> void walkExpr(E &expr, Fn &&fn) {
  fn(expr);
  for (auto &arg : expr.args)
    walkExpr(static_cast<E &>(*arg), fn);
}

// The input columns `expr` reads, in increasing order.
std::set<int32_t> columnsRead(const Expr &expr);
// Adds the input columns `expr` reads to `out` (for the union over several expressions).
void collectColumns(const Expr &expr, std::set<int32_t> &out);

// Every expression `op` owns (predicate, map expressions), for walking.
std::vector<Expr *> rootExprs(Op &op);
std::vector<const Expr *> rootExprs(const Op &op);

// Columns on which the stream `id` is unique, as far as the graph shows: a source's primary key,
// an aggregate's group keys (none for a global aggregate: it has one row), or every column of a
// distinct, carried through filters, consolidates and maps that pass them on.
// nullopt when nothing is known. It holds for the rows live between ticks; within a tick an
// operator may see rows in another order, so use it to choose a faster plan, not for correctness.
std::optional<std::set<int32_t>> uniqueColumns(const Module &module, int32_t id);

// Where each input's columns start in the numbering of all of `op`'s inputs' columns, left to
// right (a delta join's equalities and columns), and the total width as the last element.
std::vector<int32_t> inputOffsets(const Module &module, const Op &op);

// The source with a primary key that the stream `id` is computed from row by row (through
// filters and maps only), or null. Such a stream has at most one row per key of the source, and
// the source's state (its current row per key) can hold what an operator indexes of it: a join
// input over it shares the source's rows instead of storing them again.
const Op *keyedSourceOf(const Module &module, int32_t id);

// The keyed source whose state keeps the rows of input `port` of `join` (a join or a delta join):
// the input is computed from it row by row (keyedSourceOf), and no other input of the join reads
// the source at all, through any path. A change of the source then reaches the join through
// this input only, so the join can defer its retraction to the insertion that follows it and
// leave the source's row alone until the change is done. Null if the join keeps that input's
// rows itself.
const Op *sharedKeyedSource(const Module &module, const Op &join, size_t port);

} // namespace kiln::ir
