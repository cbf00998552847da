#include "kiln/Transforms/Passes.h"

#include "kiln/IR/TextFormat.h"

#include "PassDetail.h"

namespace kiln::transforms {

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes = {
      {"fold-constants",
       "evaluate constant expressions that cannot raise, simplify boolean logic and CASE, "
       "remove filters that are always true",
       foldConstants},
      {"fuse",
       "merge filter chains and map chains, push filters on pass-through columns below maps, "
       "let aggregates read through pass-through maps, remove identity and renaming maps",
       fuse},
      {"cse", "share structurally identical operators on the same inputs across models",
       eliminateCommonSubexpressions},
      {"dce", "remove operators whose output reaches no sink", eliminateDeadOps},
      {"prune-columns",
       "narrow each join input to the columns the join or a later operator reads, and drop map "
       "columns nobody reads",
       pruneColumns},
      {"aggregate-below-join",
       "aggregate a fact stream by its join key before joining it to a dimension that is unique "
       "on that key, when the aggregate groups by the key (eager group-by)",
       aggregateBelowJoin},
      {"consolidate-updates",
       "sum a tick's changes per row in front of joins that read only some columns of an "
       "updatable source and do not keep their rows in the source's state, so updates of the "
       "other columns cancel before the join",
       consolidateUpdates},
      {"consolidate-differences",
       "sum a tick's changes per row after each set difference (the unmatched rows of an outer "
       "join, NOT EXISTS, EXCEPT), so that the changes of rows that stay matched cancel there "
       "instead of doubling at every level of a chain of outer joins",
       consolidateDifferences},
      {"range-joins",
       "turn a join filtered by comparisons of a left column with a right column (<, <=, >, >=) "
       "into a range join that finds each change's matches by range scans of the other side's "
       "ordered rows, instead of pairing every row with every row",
       formRangeJoins},
      {"delta-joins",
       "fuse trees of inner joins (through the maps that only pick columns between them) into "
       "delta joins that keep each input once and store no intermediate joined rows",
       fuseDeltaJoins},
      {"window-limit",
       "compute only the first k rows of each partition of a window whose row_number() a filter "
       "bounds by k (the top-k per group pattern)",
       limitWindows},
      {"append-only",
       "mark streams that never carry deletions (from append-only sources through linear "
       "operators and joins)",
       inferAppendOnly},
  };
  return passes;
}

const PassInfo *findPass(const std::string &name) {
  for (const PassInfo &pass : allPasses())
    if (pass.name == name)
      return &pass;
  return nullptr;
}

std::vector<std::string> defaultPipeline() {
  return {
      // Simplify expressions first: filters that become TRUE disappear before anything is
      // shared or fused, and predicates compare equal in more places.
      "fold-constants",
      // Share before fusing: two models that scan and filter the same source share that work
      // only while their chains are still separate operators (fusion needs a single user).
      "cse",
      "fuse",
      // Substituting map expressions into their users exposes new constants and new twins.
      "fold-constants",
      "cse",
      "dce",
      // Joins carry only what is read; the narrowing maps then fuse into the maps before them, and
      // the twin maps of a self-join become one.
      "prune-columns",
      // Filters on row_number() have been pushed below the maps onto their windows.
      "window-limit",
      // Then a dimension change meets one pre-aggregated row instead of every fact row.
      "aggregate-below-join",
      "fuse",
      "cse",
      // After pruning, which decides what joins read.
      "consolidate-updates",
      "consolidate-differences",
      // Before delta-joins, which would fuse the join into a tree of equi-joins.
      "range-joins",
      // After everything that rewrites binary joins; its trees' leaves are the consolidated
      // inputs.
      "delta-joins",
      // Last: it reads the final graph, and code generation reads its result.
      "append-only",
  };
}

bool runPasses(ir::Module &module, const std::vector<std::string> &passes, std::string &error) {
  for (const std::string &name : passes) {
    const PassInfo *pass = findPass(name);
    if (!pass) {
      error = "unknown pass '" + name + "'";
      return false;
    }
    pass->run(module);
    std::vector<std::string> problems = ir::verifyModule(module);
    if (!problems.empty()) {
      error = "pass '" + name + "' produced an invalid module: " + problems.front();
      for (size_t i = 1; i < problems.size(); ++i)
        error += "\n" + problems[i];
      return false;
    }
  }
  return true;
}

} // namespace kiln::transforms
