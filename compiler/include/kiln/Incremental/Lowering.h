// Incrementalization: the logical plans of a whole project -> one incremental IR module.
//
// Each plan operator becomes its delta operator (DBSP): filter, project and union all are linear
// and become filter, map and union_all; join becomes the bilinear join over two maintained
// indexes (computed join keys are materialized by a map first, residual conditions become a
// filter after it); aggregate and distinct become their stateful forms. A model scanned by other
// models is one stream shared by all its readers, so the project is a single dataflow graph.
#pragma once

#include "kiln/IR/IR.h"
#include "kiln/Plan/Plan.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::incremental {

struct SourceTableInfo {
  std::string name; // "shop.orders"
  ir::Schema schema;
  std::vector<int32_t> key;
  ir::Location loc;
  bool append_only = false;
};

struct ModelInfo {
  std::string name;
  // The sink's or index's name, if not the model's (dbt's alias).
  std::string output_name;
  plan::NodePtr plan;
  bool is_sink = false;
  // materialized='index': kept for lookups by these columns of the model (its unique_key).
  std::optional<std::vector<int32_t>> index_key;
  ir::Location loc;
};

// `models` must be in dependency order (a model after the models it scans).
std::unique_ptr<ir::Module> lowerProject(const std::string &name,
                                         const std::vector<SourceTableInfo> &sources,
                                         const std::vector<ModelInfo> &models);

} // namespace kiln::incremental
