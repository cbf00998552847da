#include "kiln/Incremental/Lowering.h"

#include <cassert>
#include <map>

namespace kiln::incremental {

using ir::ExprPtr;
using ir::Op;
using ir::OpKind;

namespace {

class Lowering {
public:
  explicit Lowering(ir::Module &module) : module_(module) {}

  int32_t addSource(const SourceTableInfo &source) {
    auto op = std::make_unique<Op>(OpKind::Source);
    op->name = source.name;
    op->schema = source.schema;
    op->key = source.key;
    op->loc = source.loc;
    op->append_only = source.append_only;
    int32_t id = module_.append(std::move(op)).id;
    sources_[source.name] = id;
    return id;
  }

  int32_t lowerModel(const ModelInfo &model) {
    int32_t id = lower(model.plan);
    models_[model.name] = id;
    if (model.is_sink || model.index_key) {
      auto sink = std::make_unique<Op>(model.is_sink ? OpKind::Sink : OpKind::Index);
      sink->name = model.output_name.empty() ? model.name : model.output_name;
      sink->inputs = {id};
      sink->loc = model.loc;
      if (model.index_key)
        sink->key = *model.index_key;
      module_.append(std::move(sink));
    }
    return id;
  }

private:
  Op &append(OpKind kind, std::vector<int32_t> inputs, ir::Schema schema, const ir::Location &loc) {
    auto op = std::make_unique<Op>(kind);
    op->inputs = std::move(inputs);
    op->schema = std::move(schema);
    op->loc = loc;
    return module_.append(std::move(op));
  }

  int32_t lower(const plan::NodePtr &node) {
    auto memo = lowered_.find(node.get());
    if (memo != lowered_.end())
      return memo->second;
    int32_t id = lowerNode(*node);
    lowered_[node.get()] = id;
    return id;
  }

  int32_t lowerNode(const plan::Node &node) {
    switch (node.kind) {
    case plan::NodeKind::Scan: {
      const auto &table = node.scans_model ? models_ : sources_;
      auto it = table.find(node.relation);
      assert(it != table.end() && "scanned relation lowered before its readers");
      return it->second;
    }
    case plan::NodeKind::Values: {
      Op &op = append(OpKind::Constant, {}, node.schema, node.loc);
      for (const ExprPtr &e : node.exprs)
        op.exprs.push_back(e->clone());
      op.append_only = true; // it only ever inserts its rows, once
      return op.id;
    }
    case plan::NodeKind::Filter: {
      Op &op = append(OpKind::Filter, {lower(node.inputs[0])}, node.schema, node.loc);
      op.predicate = node.predicate->clone();
      return op.id;
    }
    case plan::NodeKind::Project: {
      Op &op = append(OpKind::Map, {lower(node.inputs[0])}, node.schema, node.loc);
      for (const ExprPtr &e : node.exprs)
        op.exprs.push_back(e->clone());
      return op.id;
    }
    case plan::NodeKind::Distinct:
      return append(OpKind::Distinct, {lower(node.inputs[0])}, node.schema, node.loc).id;
    case plan::NodeKind::Positive:
      return append(OpKind::Positive, {lower(node.inputs[0])}, node.schema, node.loc).id;
    case plan::NodeKind::TopK: {
      Op &op = append(OpKind::TopK, {lower(node.inputs[0])}, node.schema, node.loc);
      op.group_keys = node.group_keys;
      op.sort_keys = node.sort_keys;
      op.limit = node.limit;
      op.offset = node.offset;
      return op.id;
    }
    case plan::NodeKind::Window: {
      Op &op = append(OpKind::Window, {lower(node.inputs[0])}, node.schema, node.loc);
      op.group_keys = node.group_keys;
      op.sort_keys = node.sort_keys;
      op.windows = node.windows;
      op.limit = node.limit;
      return op.id;
    }
    case plan::NodeKind::Unnest: {
      Op &op = append(OpKind::Unnest, {lower(node.inputs[0])}, node.schema, node.loc);
      for (const ExprPtr &e : node.exprs)
        op.exprs.push_back(e->clone());
      if (node.predicate)
        op.predicate = node.predicate->clone();
      op.set_calls = node.set_calls;
      op.ordinality = node.ordinality;
      op.outer = node.outer;
      return op.id;
    }
    case plan::NodeKind::Negate:
      return append(OpKind::Negate, {lower(node.inputs[0])}, node.schema, node.loc).id;
    case plan::NodeKind::UnionAll: {
      std::vector<int32_t> inputs;
      for (const plan::NodePtr &input : node.inputs)
        inputs.push_back(lower(input));
      return append(OpKind::UnionAll, inputs, node.schema, node.loc).id;
    }
    case plan::NodeKind::Aggregate: {
      Op &op = append(OpKind::Aggregate, {lower(node.inputs[0])}, node.schema, node.loc);
      op.group_keys = node.group_keys;
      op.aggregates = node.aggregates;
      return op.id;
    }
    case plan::NodeKind::Join:
      return lowerJoin(node);
    }
    return -1;
  }

  // Join keys that are not plain columns are computed by a map that appends them to the input.
  int32_t withKeyColumns(int32_t input, const ir::Schema &schema, const std::vector<ExprPtr> &keys,
                         std::vector<int32_t> &key_columns, const ir::Location &loc) {
    bool all_columns = true;
    for (const ExprPtr &key : keys)
      all_columns &= key->op == ir::ExprOp::Column;
    if (all_columns) {
      for (const ExprPtr &key : keys)
        key_columns.push_back(key->column);
      return input;
    }
    ir::Schema extended = schema;
    std::vector<ExprPtr> exprs;
    for (size_t i = 0; i < schema.size(); ++i)
      exprs.push_back(ir::makeColumn(static_cast<int32_t>(i), schema[i].type, schema[i].nullable));
    for (const ExprPtr &key : keys) {
      if (key->op == ir::ExprOp::Column) {
        key_columns.push_back(key->column);
        continue;
      }
      key_columns.push_back(static_cast<int32_t>(extended.size()));
      extended.push_back({"join_key" + std::to_string(extended.size()), key->type, key->nullable});
      exprs.push_back(key->clone());
    }
    Op &map = append(OpKind::Map, {input}, extended, loc);
    map.exprs = std::move(exprs);
    return map.id;
  }

  int32_t lowerJoin(const plan::Node &node) {
    const plan::Node &left = *node.inputs[0], &right = *node.inputs[1];
    int32_t left_width = static_cast<int32_t>(left.schema.size());
    int32_t right_width = static_cast<int32_t>(right.schema.size());
    std::vector<int32_t> left_keys, right_keys;
    int32_t l =
        withKeyColumns(lower(node.inputs[0]), left.schema, node.left_keys, left_keys, node.loc);
    int32_t r =
        withKeyColumns(lower(node.inputs[1]), right.schema, node.right_keys, right_keys, node.loc);
    const ir::Schema &ls = module_.find(l)->schema, &rs = module_.find(r)->schema;
    int32_t left_extra = static_cast<int32_t>(ls.size()) - left_width;
    ir::Schema schema = ls;
    schema.insert(schema.end(), rs.begin(), rs.end());
    Op &join = append(OpKind::Join, {l, r}, schema, node.loc);
    join.left_keys = std::move(left_keys);
    join.right_keys = std::move(right_keys);
    int32_t result = join.id;
    bool widened = schema.size() != node.schema.size();
    // Column i of the plan's join row is column position(i) of the IR join's row.
    auto position = [&](int32_t i) { return i < left_width ? i : i + left_extra; };
    if (node.predicate) {
      ExprPtr predicate = node.predicate->clone();
      if (left_extra)
        remap(*predicate, position);
      Op &filter = append(OpKind::Filter, {result}, schema, node.loc);
      filter.predicate = std::move(predicate);
      result = filter.id;
    }
    if (widened) {
      Op &project = append(OpKind::Map, {result}, node.schema, node.loc);
      for (int32_t i = 0; i < left_width + right_width; ++i)
        project.exprs.push_back(
            ir::makeColumn(position(i), node.schema[i].type, node.schema[i].nullable));
      result = project.id;
    }
    return result;
  }

  template <typename Fn> static void remap(ir::Expr &expr, const Fn &position) {
    if (expr.op == ir::ExprOp::Column)
      expr.column = position(expr.column);
    for (ExprPtr &arg : expr.args)
      remap(*arg, position);
  }

  ir::Module &module_;
  std::map<std::string, int32_t> sources_, models_;
  std::map<const plan::Node *, int32_t> lowered_;
};

} // namespace

std::unique_ptr<ir::Module> lowerProject(const std::string &name,
                                         const std::vector<SourceTableInfo> &sources,
                                         const std::vector<ModelInfo> &models) {
  auto module = std::make_unique<ir::Module>();
  module->name = name;
  Lowering lowering(*module);
  for (const SourceTableInfo &source : sources)
    lowering.addSource(source);
  for (const ModelInfo &model : models)
    lowering.lowerModel(model);
  return module;
}

} // namespace kiln::incremental
