// Entry points of the passes (registered by name in PassManager.cpp) and the rewriting helpers
// they share. Private to KilnTransforms.
#pragma once

#include "kiln/IR/IR.h"
#include "kiln/IR/Utils.h"

#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace kiln::transforms {

void foldConstants(ir::Module &module);
void fuse(ir::Module &module);
void eliminateCommonSubexpressions(ir::Module &module);
void eliminateDeadOps(ir::Module &module);
void pruneColumns(ir::Module &module);
void aggregateBelowJoin(ir::Module &module);
void consolidateUpdates(ir::Module &module);
void consolidateDifferences(ir::Module &module);
void formRangeJoins(ir::Module &module);
void fuseDeltaJoins(ir::Module &module);
void inferAppendOnly(ir::Module &module);
void limitWindows(ir::Module &module);

// How many times each op id is used as an input (an op used twice by one join counts twice).
std::unordered_map<int32_t, int> countUses(const ir::Module &module);

// Makes every user of `from` use `to` instead.
void replaceAllUses(ir::Module &module, int32_t from, int32_t to);

// Removes the ops with these ids (which nothing may still use).
void eraseOps(ir::Module &module, const std::unordered_set<int32_t> &ids);

// Whether evaluating `expr` can raise an error at run time (overflow, division by zero, a failing
// cast or function). Such expressions must be neither dropped nor moved where they would run on
// rows they did not run on before (or not run on rows they did).
bool canRaise(const ir::Expr &expr);

// The conjuncts of `e`: the operands of nested ANDs, or `e` itself.
void collectConjuncts(const ir::Expr &e, std::vector<const ir::Expr *> &out);

// Whether `expr`'s column references are valid over `row`: in range, of the column's type, and
// not claiming NOT NULL for a nullable column.
bool fitsRow(const ir::Expr &expr, const ir::Schema &row);

// A copy of `expr` with each column reference replaced by `replace(index)`.
ir::ExprPtr substituteColumns(const ir::Expr &expr,
                              const std::function<ir::ExprPtr(const ir::Expr &column)> &replace);

} // namespace kiln::transforms
