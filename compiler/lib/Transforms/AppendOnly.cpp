// append-only: marks the streams that never carry deletions. Sources keep the flag the driver set
// from the project (an insert-only topic or file); operators over append-only inputs only ever
// insert, except those Ops.def marks kRetracts: aggregate and distinct retract their previous
// output row whenever a group changes, negate turns insertions into deletions. A sink's flag says
// what it emits. Stateful operators with append-only inputs need no retraction state (a MIN is a
// single value, a join index never deletes), which is what code generation reads the flag for.

#include "PassDetail.h"

namespace kiln::transforms {

using namespace ir;

void inferAppendOnly(Module &module) {
  std::unordered_map<int32_t, bool> appendOnly;
  for (const auto &op : module.ops) {
    bool inputsAppendOnly = true;
    for (int32_t input : op->inputs) {
      auto it = appendOnly.find(input);
      inputsAppendOnly &= it != appendOnly.end() && it->second;
    }
    // A source (no inputs) keeps the flag the driver set; an operator that retracts never is.
    if (!op->inputs.empty())
      op->append_only = inputsAppendOnly && !op->has(kRetracts);
    appendOnly.emplace(op->id, op->append_only);
  }
}

} // namespace kiln::transforms
