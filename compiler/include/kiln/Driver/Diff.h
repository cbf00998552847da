// `kiln diff <checkpoint> <project>`: before deploying a new build, which models' state a
// checkpoint of the old build keeps for it.
#pragma once

#include <ostream>

#include "kiln/Driver/Build.h"

namespace kiln::driver {

// Compares the state a checkpoint holds (a --checkpoint-dir, a checkpoint in it, or a state file
// of the C API's kiln_project_checkpoint) with the operators of the project in `options`, model
// by model: kept, rebuilt from the kept state, or rebuilt by a replay of sources from the
// inputs (runtime/Upgrade.h). Returns 0 if the new build resumes from the kept state alone, 2
// if it must replay sources (an executable reads its file inputs again; a library cannot), 1
// on errors.
int runDiff(const std::string &checkpoint, const BuildOptions &options, std::ostream &out,
            std::ostream &err);

} // namespace kiln::driver
