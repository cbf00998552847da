// The logical plan: relational operators with batch semantics, produced by the binder.
//
// A node's output is a bag of rows with `schema`. Nodes form a DAG: a CTE or a model used twice is
// one shared node. Expressions are IR expressions over the node's input row (for joins, the left
// row followed by the right row).
#pragma once

#include "kiln/IR/IR.h"

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace kiln::plan {

enum class NodeKind {
  Scan,
  Values,
  Filter,
  Project,
  Join,
  Aggregate,
  Distinct,
  Positive, // each row max(count, 0) times (EXCEPT ALL, INTERSECT ALL)
  UnionAll,
  Negate,
  TopK,
  Window,
  Unnest
};

struct Node;
using NodePtr = std::shared_ptr<Node>;

struct Node {
  NodeKind kind;
  ir::Schema schema;
  ir::Location loc;
  std::vector<NodePtr> inputs;

  // Scan: a source table ("shop.orders") or, when `scans_model`, a model by name.
  std::string relation;
  bool scans_model = false;
  std::vector<int32_t> key; // Scan of a source: its primary key columns
  ir::ExprPtr predicate;    // Filter; Join: residual condition over left ++ right (may be null)
  // Project: one per column; Values: the rows one after another, one constant per column.
  std::vector<ir::ExprPtr> exprs;
  // Join: equi-join keys; left_keys over the left row, right_keys over the right row, pairwise of
  // one type. No keys: a cross product.
  std::vector<ir::ExprPtr> left_keys, right_keys;
  std::vector<int32_t> group_keys;     // Aggregate, TopK, Window (its partitions)
  std::vector<ir::AggCall> aggregates; // Aggregate
  // TopK: ORDER BY columns of the input, then LIMIT (-1: none) and OFFSET, per group of equal
  // group_keys (DISTINCT ON).
  // Window: the ORDER BY of its partitions; its functions, one column each after the input's.
  std::vector<ir::SortKey> sort_keys;
  int64_t limit = -1, offset = 0;
  std::vector<ir::WindowCall> windows;
  // Unnest (ir's unnest operator): its functions, with their arguments in `exprs` (over the
  // input row) and its condition in `predicate` (over the output row, may be null).
  std::vector<ir::SetCall> set_calls;
  bool ordinality = false, outer = false;

  explicit Node(NodeKind k) : kind(k) {}
};

const char *nodeKindName(NodeKind kind);

// An indented tree; a shared node is printed once and referred to by its number afterwards.
void printPlan(const Node &root, std::ostream &out);

} // namespace kiln::plan
