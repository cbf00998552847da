// append-only: marks the streams that never carry deletions. Sources keep the flag the driver set
// from the project (an insert-only topic or file); linear operators and joins of append-only
// inputs only ever insert; aggregate and distinct retract their previous output row whenever a
// group changes, so their outputs never are. A sink's flag says what it emits. Stateful
// operators with append-only inputs need no retraction state (a MIN is a single value, a join
// index never deletes), which is what code generation reads the flag for.

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
    switch (op->kind) {
      case OpKind::Source:
        break;
      case OpKind::Filter:
      case OpKind::Map:
      case OpKind::UnionAll:
      case OpKind::Consolidate:
      case OpKind::Join:
      case OpKind::Sink:
        op->append_only = inputsAppendOnly;
        break;
      case OpKind::Aggregate:
      case OpKind::Distinct:
      case OpKind::Negate:
        op->append_only = false;
        break;
    }
    appendOnly.emplace(op->id, op->append_only);
  }
}

}  // namespace kiln::transforms
