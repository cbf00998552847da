// IR-to-IR passes over the incremental IR. Each pass keeps the module valid (the pass manager
// verifies after every pass).
#pragma once

#include "kiln/IR/IR.h"

#include <functional>
#include <string>
#include <vector>

namespace kiln::transforms {

struct PassInfo {
  std::string name; // as used by `kiln-opt --passes=`
  std::string description;
  std::function<void(ir::Module &)> run;
};

// Every pass, by name.
const std::vector<PassInfo> &allPasses();
const PassInfo *findPass(const std::string &name);

// The optimizer: Kiln's whole pass order in one readable place.
std::vector<std::string> defaultPipeline();

// Runs the named passes in order, verifying after each. Returns false and fills `error` (naming
// the pass and the verifier's complaint) if a pass is unknown or broke the module.
bool runPasses(ir::Module &module, const std::vector<std::string> &passes, std::string &error);

} // namespace kiln::transforms
