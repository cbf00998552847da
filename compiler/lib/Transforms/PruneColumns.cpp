// prune-columns: carries through joins only the columns something downstream reads.
//
// A model often joins whole rows and reads a few columns afterwards (order_lines joins orders,
// items, customers and products, and its marts read a third of the columns). Every column a join
// carries is copied into its index, hashed and compared when rows are matched, and a change to a
// column nobody reads still retracts and re-inserts the joined rows. This pass narrows each join
// input to the columns the join itself or a later operator reads, by a map in front of the join,
// and renumbers the column references of the operators after it.
//
// Two sweeps. Backward (users come after their inputs): the set of output columns of each op that
// some user reads. Union, negate, consolidate, distinct and sink read every column (a row's
// identity is all of it), so anything feeding them keeps its shape. Forward: each op's references
// are renumbered to its inputs' new numbering; maps drop the expressions nobody reads (dropping
// one that could raise matches PostgreSQL, which removes unused outputs of a subquery before
// evaluating anything); and a join input wider than what is needed gets a narrowing map. Filters
// keep their input's shape.

#include "PassDetail.h"

#include <algorithm>
#include <set>

namespace kiln::transforms {

using namespace ir;

namespace {

// old column -> new column (-1: dropped), per op.
using Renumbering = std::vector<int32_t>;

Renumbering identity(size_t width) {
  Renumbering r(width);
  for (size_t i = 0; i < width; ++i)
    r[i] = static_cast<int32_t>(i);
  return r;
}

ExprPtr renumbered(const Expr &expr, const Renumbering &r) {
  return substituteColumns(expr, [&](const Expr &column) {
    return makeColumn(r[column.column], column.type, column.nullable);
  });
}

class Pruner {
public:
  explicit Pruner(Module &module) : module_(module) {}

  void run() {
    computeNeeded();
    // Forward. Inserting a narrowing map shifts the vector, so walk by index and re-find.
    for (size_t i = 0; i < module_.ops.size(); ++i) {
      Op &op = *module_.ops[i];
      i += rewrite(op, i);
    }
  }

private:
  // Backward sweep: needed_[id] = the output columns of `id` that some user reads.
  void computeNeeded() {
    for (auto it = module_.ops.rbegin(); it != module_.ops.rend(); ++it) {
      const Op &op = **it;
      const std::set<int32_t> &mine = needed_[op.id];
      auto need = [&](int32_t input, int32_t column) { needed_[input].insert(column); };
      auto needAll = [&](int32_t input) {
        const Op *in = module_.find(input);
        for (size_t c = 0; c < in->schema.size(); ++c)
          need(input, static_cast<int32_t>(c));
      };
      // Operators without a payload read every column of every input (distinct and sinks
      // compare whole rows), and so does an index (its key is in its input's numbering; a
      // source has no input); the others read what their payload names.
      if (op.kind == OpKind::Constant)
        continue; // no inputs; its own columns are narrowed by rewrite()
      switch (op.info().payload) {
      case OpPayload::None:
      case OpPayload::SourceKey:
      case OpPayload::TopK:         // its order breaks ties by whole rows
      case OpPayload::Window:       // and so does a window's, whose output has every input column
      case OpPayload::SetFunctions: // an unnest's output has every input column too
        for (int32_t input : op.inputs)
          needAll(input);
        break;
      case OpPayload::Predicate: {
        for (int32_t c : mine)
          need(op.inputs[0], c);
        std::set<int32_t> read;
        collectColumns(*op.predicate, read);
        for (int32_t c : read)
          need(op.inputs[0], c);
        break;
      }
      case OpPayload::Exprs: {
        std::set<int32_t> read;
        for (int32_t c : keptColumns(op))
          collectColumns(*op.exprs[c], read);
        for (int32_t c : read)
          need(op.inputs[0], c);
        break;
      }
      case OpPayload::JoinKeys:
      case OpPayload::RangeJoinKeys: {
        int32_t left_width = static_cast<int32_t>(module_.find(op.inputs[0])->schema.size());
        for (int32_t c : op.left_keys)
          need(op.inputs[0], c);
        for (int32_t c : op.right_keys)
          need(op.inputs[1], c);
        for (const RangeCondition &condition : op.ranges) {
          need(op.inputs[0], condition.left);
          need(op.inputs[1], condition.right);
        }
        for (int32_t c : mine) {
          if (c < left_width)
            need(op.inputs[0], c);
          else
            need(op.inputs[1], c - left_width);
        }
        break;
      }
      case OpPayload::JoinGraph: {
        std::vector<int32_t> offsets = inputOffsets(module_, op);
        auto needGlobal = [&](int32_t g) {
          size_t i = std::upper_bound(offsets.begin(), offsets.end(), g) - offsets.begin() - 1;
          need(op.inputs[i], g - offsets[i]);
        };
        for (auto [a, b] : op.equalities) {
          needGlobal(a);
          needGlobal(b);
        }
        for (int32_t c : keptColumns(op))
          needGlobal(op.columns[c]);
        break;
      }
      case OpPayload::Aggregates:
        for (int32_t c : op.group_keys)
          need(op.inputs[0], c);
        for (const AggCall &agg : op.aggregates) {
          if (agg.arg >= 0)
            need(op.inputs[0], agg.arg);
          for (const SortKey &key : agg.order)
            need(op.inputs[0], key.column);
        }
        break;
      }
    }
  }

  // The output columns a map (or a delta join) keeps: those read after it, or, when none is, one
  // that costs least to compute (rows of no columns would carry only a weight; a delta join's
  // columns all cost the same).
  std::set<int32_t> keptColumns(const Op &op) {
    std::set<int32_t> kept = needed_[op.id];
    if (kept.empty() && !op.columns.empty())
      kept.insert(0);
    if (!kept.empty() || op.exprs.empty())
      return kept;
    int32_t cheapest = 0;
    for (size_t c = 0; c < op.exprs.size(); ++c) {
      ExprOp kind = op.exprs[c]->op;
      if (kind == ExprOp::Column || kind == ExprOp::Literal) {
        cheapest = static_cast<int32_t>(c);
        break;
      }
    }
    kept.insert(cheapest);
    return kept;
  }

  // A constant keeps the columns read after it (at least one: rows of no columns would carry
  // only a weight) in each of its rows.
  size_t narrowConstant(Op &op) {
    std::set<int32_t> kept = needed_[op.id];
    if (kept.empty())
      kept.insert(0);
    size_t width = op.schema.size();
    Renumbering out(width, -1);
    Schema schema;
    for (int32_t c : kept) {
      out[c] = static_cast<int32_t>(schema.size());
      schema.push_back(op.schema[c]);
    }
    std::vector<ExprPtr> exprs;
    for (size_t i = 0; i < op.exprs.size(); ++i)
      if (kept.count(static_cast<int32_t>(i % width)))
        exprs.push_back(std::move(op.exprs[i]));
    op.exprs = std::move(exprs);
    op.schema = std::move(schema);
    renumbering_[op.id] = std::move(out);
    return 0;
  }

  // Renumbers `op`'s references and narrows it; returns how many ops were inserted before it.
  size_t rewrite(Op &op, size_t position) {
    const std::set<int32_t> &mine = needed_[op.id];
    switch (op.info().payload) {
    case OpPayload::None:
    case OpPayload::SourceKey:
    case OpPayload::TopK:
    case OpPayload::Window:
    case OpPayload::SetFunctions:
      // Their inputs keep every column they read at its place (see computeNeeded).
      renumbering_[op.id] = identity(op.schema.size());
      return 0;
    case OpPayload::Aggregates: {
      const Renumbering &in = renumbering(op.inputs[0]);
      for (int32_t &c : op.group_keys)
        c = in[c];
      for (AggCall &agg : op.aggregates) {
        if (agg.arg >= 0)
          agg.arg = in[agg.arg];
        for (SortKey &key : agg.order)
          key.column = in[key.column];
      }
      renumbering_[op.id] = identity(op.schema.size());
      return 0;
    }
    case OpPayload::Predicate: {
      // Its input's columns, renumbered, under its own names (a renaming map may have given
      // them: a sink's columns are named by its input) and NOT NULLs (which it may narrow).
      const Op &input = *module_.find(op.inputs[0]);
      const Renumbering &in = renumbering(op.inputs[0]);
      op.predicate = renumbered(*op.predicate, in);
      Schema schema = input.schema;
      for (size_t c = 0; c < in.size() && c < op.schema.size(); ++c)
        if (in[c] >= 0) {
          schema[static_cast<size_t>(in[c])].name = op.schema[c].name;
          schema[static_cast<size_t>(in[c])].nullable &= op.schema[c].nullable;
        }
      op.schema = std::move(schema);
      renumbering_[op.id] = in;
      return 0;
    }
    case OpPayload::Exprs: {
      if (op.kind == OpKind::Constant)
        return narrowConstant(op);
      const Renumbering &in = renumbering(op.inputs[0]);
      Renumbering out(op.exprs.size(), -1);
      std::vector<ExprPtr> exprs;
      Schema schema;
      std::set<int32_t> kept = keptColumns(op);
      for (size_t c = 0; c < op.exprs.size(); ++c) {
        if (!kept.count(static_cast<int32_t>(c)))
          continue;
        out[c] = static_cast<int32_t>(exprs.size());
        exprs.push_back(renumbered(*op.exprs[c], in));
        schema.push_back(op.schema[c]);
      }
      op.exprs = std::move(exprs);
      op.schema = std::move(schema);
      renumbering_[op.id] = std::move(out);
      return 0;
    }
    case OpPayload::JoinGraph: {
      // Its inputs keep their shape (it is formed after pruning); only renumber and drop output
      // columns nobody reads.
      std::vector<int32_t> offsets{0};                          // of the inputs' new numbering
      std::vector<std::pair<int32_t, const Renumbering *>> old; // old offset, renumbering
      int32_t old_offset = 0;
      for (int32_t input : op.inputs) {
        const Renumbering &in = renumbering(input);
        old.emplace_back(old_offset, &in);
        old_offset += static_cast<int32_t>(in.size());
        offsets.push_back(offsets.back() +
                          static_cast<int32_t>(module_.find(input)->schema.size()));
      }
      auto renumber = [&](int32_t &g) {
        size_t i = old.size() - 1;
        while (old[i].first > g)
          --i;
        g = offsets[i] + (*old[i].second)[g - old[i].first];
      };
      for (auto &[a, b] : op.equalities) {
        renumber(a);
        renumber(b);
      }
      std::set<int32_t> kept = keptColumns(op);
      Renumbering out(op.columns.size(), -1);
      std::vector<int32_t> columns;
      Schema schema;
      for (int32_t c : kept) {
        out[c] = static_cast<int32_t>(columns.size());
        columns.push_back(op.columns[c]);
        renumber(columns.back());
        schema.push_back(op.schema[c]);
      }
      op.columns = std::move(columns);
      op.schema = std::move(schema);
      renumbering_[op.id] = std::move(out);
      return 0;
    }
    case OpPayload::JoinKeys:
    case OpPayload::RangeJoinKeys: {
      size_t inserted = 0;
      int32_t old_left_width = 0;
      Renumbering out;
      for (int side = 0; side < 2; ++side) {
        const Op &input = *module_.find(op.inputs[side]);
        const Renumbering &in = renumbering(op.inputs[side]);
        size_t old_width = in.size();
        if (side == 0)
          old_left_width = static_cast<int32_t>(old_width);
        int32_t offset = side == 0 ? 0 : old_left_width;
        // The input columns this join reads: its keys and what its users read.
        std::set<int32_t> read;
        for (int32_t c : side == 0 ? op.left_keys : op.right_keys)
          read.insert(c);
        for (const RangeCondition &condition : op.ranges)
          read.insert(side == 0 ? condition.left : condition.right);
        for (int32_t c : mine)
          if (c >= offset && c < offset + static_cast<int32_t>(old_width))
            read.insert(c - offset);
        // Column numbers (of the input's current shape) in the order the join will see them.
        Renumbering narrowed(old_width, -1);
        std::vector<int32_t> kept;
        for (int32_t c : read) {
          narrowed[c] = static_cast<int32_t>(kept.size());
          kept.push_back(in[c]);
        }
        int32_t input_id = op.inputs[side];
        if (kept.size() < input.schema.size()) {
          input_id = insertNarrowingMap(input, kept, position + inserted);
          ++inserted;
        } else {
          for (size_t c = 0; c < old_width; ++c)
            narrowed[c] = in[c];
        }
        std::vector<int32_t> &keys = side == 0 ? op.left_keys : op.right_keys;
        for (int32_t &k : keys)
          k = narrowed[k];
        for (RangeCondition &condition : op.ranges) {
          int32_t &c = side == 0 ? condition.left : condition.right;
          c = narrowed[c];
        }
        op.inputs[side] = input_id;
        int32_t base =
            side == 0 ? 0 : static_cast<int32_t>(module_.find(op.inputs[0])->schema.size());
        for (int32_t n : narrowed)
          out.push_back(n < 0 ? -1 : base + n);
      }
      // The inputs' columns under the join's own names: a renaming map absorbed into the join
      // names a sink's columns (the differential test found a sink writing `column1` for `c1`).
      Schema schema = module_.find(op.inputs[0])->schema;
      const Schema &right = module_.find(op.inputs[1])->schema;
      schema.insert(schema.end(), right.begin(), right.end());
      for (size_t c = 0; c < out.size() && c < op.schema.size(); ++c)
        if (out[c] >= 0) {
          schema[static_cast<size_t>(out[c])].name = op.schema[c].name;
          schema[static_cast<size_t>(out[c])].nullable &= op.schema[c].nullable;
        }
      op.schema = std::move(schema);
      renumbering_[op.id] = std::move(out);
      return inserted;
    }
    }
    return 0;
  }

  // A map of `input`'s columns `kept` (current numbering), placed at `position` in the module.
  int32_t insertNarrowingMap(const Op &input, const std::vector<int32_t> &kept, size_t position) {
    auto map = std::make_unique<Op>(OpKind::Map);
    map->id = module_.nextId();
    map->inputs = {input.id};
    map->loc = input.loc;
    for (int32_t c : kept) {
      const Column &column = input.schema[c];
      map->exprs.push_back(makeColumn(c, column.type, column.nullable));
      map->schema.push_back(column);
    }
    int32_t id = map->id;
    renumbering_[id] = identity(kept.size());
    module_.ops.insert(module_.ops.begin() + static_cast<std::ptrdiff_t>(position), std::move(map));
    return id;
  }

  const Renumbering &renumbering(int32_t id) { return renumbering_.at(id); }

  Module &module_;
  std::unordered_map<int32_t, std::set<int32_t>> needed_;
  std::unordered_map<int32_t, Renumbering> renumbering_;
};

} // namespace

void pruneColumns(Module &module) { Pruner(module).run(); }

} // namespace kiln::transforms
