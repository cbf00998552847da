// Upgrades: a checkpoint written by an earlier build of a project, loaded into a new build.
//
// Operators are compared by fingerprint (kiln_op_desc.fingerprint), which covers an operator's
// plan and its inputs' plans: an operator whose fingerprint the checkpoint has computes what the
// saved one computed, and keeps its state. The others are rebuilt: they start empty and are fed,
// in rebuild ticks, the current contents of their inputs while every kept operator is muted
// (kiln_program.mute_slot), so kept state is neither read twice nor changed:
//   - an input produced by a kept operator whose state holds its output (an aggregate or a
//     DISTINCT: kiln_op_desc.contents) pushes that output once, from the loaded state;
//   - any other kept input (a join, a filter, a source without a key) is rebuilt as well, so
//     the rebuild reaches back to such operators or to the sources; a rebuilt source is replayed
//     from the inputs (its records read again from the start, up to the checkpoint's positions);
//   - a keyed source that is replayed starts with an empty table, and the joins that keep their
//     rows in it (state shared with the source) are rebuilt with it; a rebuilt join makes the
//     keyed source it shares a table with replay, for the same reason.
// The rebuilt operators' output reaches the rebuilt sinks; what the host does with it (a
// correction of the sink's accumulated contents) is the driver's business.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "kiln/runtime/abi.h"

namespace kiln::runtime {

// One operator of a dataflow, as an upgrade needs it: from a program's descriptor
// (dataflowOf), or from the compiler's IR (`kiln diff`).
struct DataflowOp {
  std::string name, kind, model;
  uint64_t fingerprint = 0;
  std::vector<int32_t> inputs; // indexes of other operators, which come first
  bool source = false;         // reads an input table
  bool keyed = false;          // a source with a primary key: keeps its rows
  bool has_contents = false;   // its state holds its output (kiln_op_desc.contents)
  // Keyed sources whose tables hold part of this operator's state (a join's rows of its inputs
  // over them).
  std::vector<int32_t> shares;
  std::string source_table; // a source's table name
};

// The dataflow of a program: its operators with the tables they share, derived from the state
// descriptors (an arrangement of container KILN_STATE_SHARED lives in another operator's slot).
std::vector<DataflowOp> dataflowOf(const kiln_program &program);

struct UpgradePlan {
  std::vector<bool> rebuilt;        // per operator: starts empty, fed during the rebuild
  std::vector<int32_t> contents;    // kept operators that push their output to rebuilt ones
  std::vector<int32_t> replayed;    // rebuilt sources, replayed from the inputs
  std::set<std::string> kept_names; // the operators whose state is loaded
  bool needed() const;              // whether anything is rebuilt
  // Per model (a source by its table's name), what becomes of it, for people:
  //   "kept", "changed: rebuilt from the state of orders_by_day",
  //   "new: built by a replay of shop.orders from the inputs", "dropped", ...
  struct Verdict {
    std::string model;
    std::string what;
    bool kept = false;
    bool replays = false; // needs a replay of the inputs
  };
  std::vector<Verdict> verdicts;
};

// The plan for loading a checkpoint whose build had `saved_ops` (fingerprint and model of each
// operator) into the dataflow `ops`.
struct SavedOp {
  uint64_t fingerprint = 0;
  std::string model;
};
UpgradePlan planUpgrade(const std::vector<DataflowOp> &ops, const std::vector<SavedOp> &saved_ops);

} // namespace kiln::runtime
