// consolidate-updates: lets an update that changes no column a join reads stop before the join.
// consolidate-differences: lets the changes of a set difference that cancel stop there.
//
// A source update is a retraction of the old row and an insertion of the new one. When a join
// input is a projection that drops the columns the update changed (an order's status, which
// order_lines does not carry; a product's price, when only its category is joined), the two
// changes become the same row with weights -1 and +1. Pushed one at a time, each still probes
// the other side's index and flows through everything after the join: a price change of a
// product with 10,000 order lines retracts and re-inserts 10,000 joined rows. A consolidate op
// in front of the join sums the tick's changes per row first, and the pair cancels.
//
// It costs a hash-table update per change, so it goes only where a pair can cancel: in front of
// a join input that is a chain of filters and maps over a source with a primary key (which can
// be updated) and that reads only some of the source's columns. And only where the join does
// not keep that input's rows in the source's own state (ir::sharedKeyedSource): there the join
// sees the update's two rows together and does nothing when they look the same to it.

#include "PassDetail.h"

#include <algorithm>
#include <set>

namespace kiln::transforms {

using namespace ir;

namespace {

// Whether the stream `id` is a projection, through filters and maps, of an updatable source that
// leaves out some of its columns.
bool dropsColumnsOfUpdatableSource(const Module &module, int32_t id) {
  // The columns of the current op's input that the stream's columns are computed from.
  const Op *op = module.find(id);
  std::set<int32_t> read;
  for (size_t c = 0; c < op->schema.size(); ++c)
    read.insert(static_cast<int32_t>(c));
  for (;;) {
    if (op->kind == OpKind::Source)
      return !op->key.empty() && !op->append_only && read.size() < op->schema.size();
    if (op->kind == OpKind::Map) {
      std::set<int32_t> below;
      for (int32_t c : read)
        collectColumns(*op->exprs[c], below);
      read = std::move(below);
    } else if (op->kind != OpKind::Filter) {
      return false; // anything else may combine rows: an update no longer maps to one row
    }
    op = module.find(op->inputs[0]);
  }
}

} // namespace

void consolidateUpdates(Module &module) {
  for (size_t i = 0; i < module.ops.size(); ++i) {
    Op &join = *module.ops[i];
    if (join.kind != OpKind::Join)
      continue;
    for (size_t port = 0; port < join.inputs.size(); ++port) {
      int32_t &input = join.inputs[port];
      if (!dropsColumnsOfUpdatableSource(module, input) || sharedKeyedSource(module, join, port))
        continue;
      const Op &producer = *module.find(input);
      auto consolidate = std::make_unique<Op>(OpKind::Consolidate);
      consolidate->id = module.nextId();
      consolidate->inputs = {input};
      consolidate->schema = producer.schema;
      consolidate->loc = producer.loc;
      input = consolidate->id;
      module.ops.insert(module.ops.begin() + static_cast<std::ptrdiff_t>(i),
                        std::move(consolidate));
      ++i; // the join moved one place on
    }
  }
}

// A difference `a - b` is a union of a with b negated: the rows of an outer join's side that
// match nothing (the side minus its matched rows), NOT EXISTS, EXCEPT. A change of a row that
// stays matched reaches it twice, through a and through b, and the two cancel. Pushed one at a
// time they do not: each goes on, and in a chain of outer joins (a model's LEFT JOINs, a query's
// correlated subqueries, each a left join) every level passes on its input's changes and the
// cancelling pairs of its unmatched rows, so an update of one row became 3^n changes after n
// levels (12 seconds for an update of two rows under 14 LEFT JOINs). A consolidate op after the
// difference sums a tick's changes per row, and what cancels goes no further.
void consolidateDifferences(Module &module) {
  for (size_t i = 0; i < module.ops.size(); ++i) {
    const Op &difference = *module.ops[i];
    if (difference.kind != OpKind::UnionAll)
      continue;
    bool negates = std::any_of(difference.inputs.begin(), difference.inputs.end(),
                               [&](int32_t id) { return module.find(id)->kind == OpKind::Negate; });
    if (!negates)
      continue;
    auto consolidate = std::make_unique<Op>(OpKind::Consolidate);
    consolidate->id = module.nextId();
    consolidate->schema = difference.schema;
    consolidate->loc = difference.loc;
    replaceAllUses(module, difference.id, consolidate->id);
    consolidate->inputs = {difference.id};
    module.ops.insert(module.ops.begin() + static_cast<std::ptrdiff_t>(i + 1),
                      std::move(consolidate));
    ++i; // past the consolidate op
  }
}

} // namespace kiln::transforms
