// dce: removes operators whose output reaches no sink. Sinks are the roots; everything else is
// live only if a live operator reads it.

#include "PassDetail.h"

namespace kiln::transforms {

using namespace ir;

void eliminateDeadOps(Module &module) {
  std::unordered_set<int32_t> live;
  // Users come after their inputs, so one backward sweep sees every user before its inputs.
  for (auto it = module.ops.rbegin(); it != module.ops.rend(); ++it) {
    const Op &op = **it;
    if (!op.has(kNoOutput) && !live.count(op.id))
      continue;
    live.insert(op.id);
    live.insert(op.inputs.begin(), op.inputs.end());
  }
  std::unordered_set<int32_t> dead;
  for (const auto &op : module.ops)
    if (!live.count(op->id))
      dead.insert(op->id);
  eraseOps(module, dead);
}

} // namespace kiln::transforms
