// `kiln ls` and `kiln graph`: the project's resources (source tables, seeds, models, data tests)
// and the graph of who reads whom, selected with dbt's node selection syntax:
//
//   orders        a resource by name (`stg_*` globs), or every model under a folder of that name
//   +orders       it and its ancestors (2+orders: up to two levels), orders+ its descendants,
//                 @orders its descendants and all their ancestors
//   tag:nightly   path:models/staging   source:shop.orders (or source:shop)
//   resource_type:model|seed|source|test   test_type:generic|singular
//   a,b           the resources both select (intersection); several selectors: the union
#pragma once

#include "kiln/Support/Diagnostics.h"

#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kiln {

namespace project {
struct Project;
}

struct GraphOptions {
  std::string project_dir;
  std::map<std::string, std::string> vars; // --vars overrides
  DiagnosticFormat diagnostics = DiagnosticFormat::Text;
  std::vector<std::string> select;         // empty: everything
  std::vector<std::string> exclude;        // subtracted from the selection
  std::vector<std::string> resource_types; // kiln ls --resource-type
  std::string format = "dot";              // kiln graph: dot or html
  std::string output;                      // kiln graph -o: a file instead of `out`
};

// Prints the selected resources, one per line, as `dbt ls` does: models and seeds by their
// folders (jaffle.staging.stg_orders), sources as source:project.source.table, tests by name.
int runListCommand(const GraphOptions &options, std::ostream &out, std::ostream &err);

// The models, seeds and tests of `project` that `select` minus `exclude` pick, with every model
// and seed they read (a program needs its inputs); with `with_tests`, also the data tests of
// what is picked (dbt's eager indirect selection, as `dbt test -s` has it). Reports a bad
// selector to `err` and returns nullopt.
std::optional<std::set<std::string>> selectModels(const project::Project &project,
                                                  const std::vector<std::string> &select,
                                                  const std::vector<std::string> &exclude,
                                                  bool with_tests, std::ostream &err);

// Writes the graph of the selected resources as Graphviz DOT, or as a self-contained HTML page
// with a picture of the graph and, per resource, its kind, materialization, description, tags,
// columns, neighbours and rendered SQL.
int runGraphCommand(const GraphOptions &options, std::ostream &out, std::ostream &err);

} // namespace kiln
