// `kiln diff <checkpoint> <project>`: before deploying a new build, which models' state a
// checkpoint of the old build keeps for it.
#pragma once

#include <ostream>

#include "kiln/Driver/Build.h"

namespace kiln::driver {

// Compares the state a checkpoint holds (a --checkpoint-dir, a checkpoint in it, or a state file
// of the C API's kiln_project_checkpoint) with the operators of the project in `options`, model
// by model. Returns 0 if the new build resumes from the checkpoint, 2 if some model blocks it
// (named, with what it takes to rebuild), 1 on errors.
int runDiff(const std::string &checkpoint, const BuildOptions &options, std::ostream &out,
            std::ostream &err);

} // namespace kiln::driver
