#include "kiln/runtime/Upgrade.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "absl/strings/str_join.h"

namespace kiln::runtime {

std::vector<DataflowOp> dataflowOf(const kiln_program &program) {
  std::vector<DataflowOp> ops;
  std::map<std::string, int32_t> index_of;
  for (int32_t i = 0; i < program.nops; ++i) {
    const kiln_op_desc &desc = program.ops[i];
    DataflowOp op;
    op.name = desc.name;
    op.kind = desc.kind;
    op.model = desc.model;
    op.fingerprint = desc.fingerprint;
    op.inputs.assign(desc.inputs, desc.inputs + desc.ninputs);
    op.source = desc.source >= 0;
    op.keyed = desc.keyed != 0;
    op.has_contents = desc.contents != nullptr;
    if (op.source)
      op.source_table = program.sources[desc.source].name;
    index_of.emplace(op.name, i);
    ops.push_back(std::move(op));
  }
  // A shared arrangement names the slot of the table it lives in; that slot's own arrangement
  // names the operator that owns the table.
  std::map<int32_t, std::string> owner_of_slot;
  for (int32_t a = 0; a < program.nstate; ++a)
    if (program.state[a].container != KILN_STATE_SHARED)
      owner_of_slot.emplace(program.state[a].slot, program.state[a].op);
  for (int32_t a = 0; a < program.nstate; ++a) {
    const kiln_arrangement_desc &desc = program.state[a];
    if (desc.container != KILN_STATE_SHARED)
      continue;
    auto owner = owner_of_slot.find(desc.slot);
    auto sharer = index_of.find(desc.op);
    if (owner == owner_of_slot.end() || sharer == index_of.end())
      continue;
    std::vector<int32_t> &shares = ops[static_cast<size_t>(sharer->second)].shares;
    int32_t source = index_of.at(owner->second);
    if (std::find(shares.begin(), shares.end(), source) == shares.end())
      shares.push_back(source);
  }
  return ops;
}

bool UpgradePlan::needed() const {
  return std::find(rebuilt.begin(), rebuilt.end(), true) != rebuilt.end();
}

namespace {

// The name people know an operator's relation by: its model, or a source's table.
std::string relationOf(const DataflowOp &op) {
  if (op.source)
    return op.source_table;
  return op.model;
}

// Whether an operator keeps state across ticks or emits a model's changes: what a model's verdict
// is about. (A projection a new model reads a kept model through is new, and the kept model's.)
bool definesModel(const DataflowOp &op) {
  static const std::set<std::string> kinds = {"aggregate",  "distinct", "join",
                                              "delta_join", "index",    "sink"};
  return op.keyed || kinds.contains(op.kind);
}

} // namespace

UpgradePlan planUpgrade(const std::vector<DataflowOp> &ops, const std::vector<SavedOp> &saved_ops) {
  // Saved operators by fingerprint, counted: two operators of a build may compute the same
  // (a subquery two models repeat), and each kept one takes one saved operator's state.
  std::unordered_map<uint64_t, int64_t> saved;
  std::set<std::string> saved_models;
  for (const SavedOp &op : saved_ops) {
    ++saved[op.fingerprint];
    if (!op.model.empty())
      saved_models.insert(op.model);
  }
  size_t n = ops.size();
  UpgradePlan plan;
  std::vector<bool> changed(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = saved.find(ops[i].fingerprint);
    changed[i] = it == saved.end() || it->second == 0;
    if (!changed[i])
      --it->second;
  }
  plan.rebuilt = changed;
  std::vector<bool> &rebuilt = plan.rebuilt;
  // Grow the rebuilt set until every rebuilt operator's inputs are rebuilt or can push their
  // contents, and no table is shared between a rebuilt and a kept operator.
  for (bool grew = true; grew;) {
    grew = false;
    auto rebuild = [&](int32_t i) {
      if (!rebuilt[static_cast<size_t>(i)]) {
        rebuilt[static_cast<size_t>(i)] = true;
        grew = true;
      }
    };
    for (size_t i = 0; i < n; ++i) {
      if (rebuilt[i]) {
        for (int32_t input : ops[i].inputs)
          if (!ops[static_cast<size_t>(input)].has_contents)
            rebuild(input);
        for (int32_t source : ops[i].shares)
          rebuild(source);
      } else {
        for (int32_t source : ops[i].shares)
          if (rebuilt[static_cast<size_t>(source)])
            rebuild(static_cast<int32_t>(i));
      }
    }
  }
  std::set<int32_t> contents;
  for (size_t i = 0; i < n; ++i) {
    if (!rebuilt[i]) {
      plan.kept_names.insert(ops[i].name);
      continue;
    }
    if (ops[i].source)
      plan.replayed.push_back(static_cast<int32_t>(i));
    for (int32_t input : ops[i].inputs)
      if (!rebuilt[static_cast<size_t>(input)])
        contents.insert(input);
  }
  plan.contents.assign(contents.begin(), contents.end());

  // Verdicts, per relation.
  std::map<std::string, std::vector<size_t>> by_relation;
  for (size_t i = 0; i < n; ++i)
    if (std::string relation = relationOf(ops[i]); !relation.empty())
      by_relation[relation].push_back(i);
  for (auto &[relation, members] : by_relation) {
    std::vector<size_t> defining;
    for (size_t i : members)
      if (definesModel(ops[i]))
        defining.push_back(i);
    if (!defining.empty())
      members = std::move(defining);
    UpgradePlan::Verdict verdict;
    verdict.model = relation;
    bool any_rebuilt = false, any_changed = false;
    for (size_t i : members) {
      any_rebuilt = any_rebuilt || rebuilt[i];
      any_changed = any_changed || changed[i];
    }
    if (!any_rebuilt) {
      verdict.kept = true;
      verdict.what = "kept";
      plan.verdicts.push_back(std::move(verdict));
      continue;
    }
    // What feeds the rebuild of this relation: kept state it reads, sources replayed.
    std::set<std::string> from_state, replays;
    std::vector<bool> seen(n, false);
    std::vector<size_t> stack;
    for (size_t i : members)
      if (rebuilt[i])
        stack.push_back(i);
    while (!stack.empty()) {
      size_t i = stack.back();
      stack.pop_back();
      if (seen[i])
        continue;
      seen[i] = true;
      if (ops[i].source)
        replays.insert(ops[i].source_table);
      for (int32_t input : ops[i].inputs) {
        auto j = static_cast<size_t>(input);
        if (rebuilt[j])
          stack.push_back(j);
        else
          from_state.insert(relationOf(ops[j]).empty() ? ops[j].name : relationOf(ops[j]));
      }
    }
    bool is_source = ops[members.front()].source;
    if (is_source)
      verdict.what = "replayed from the inputs";
    else if (!saved_models.contains(relation))
      verdict.what = "new: built";
    else if (any_changed)
      verdict.what = "changed: rebuilt";
    else
      verdict.what = "unchanged, but rebuilt";
    if (!is_source) {
      std::vector<std::string> how;
      if (!from_state.empty())
        how.push_back("from the state of " + absl::StrJoin(from_state, ", "));
      if (!replays.empty())
        how.push_back("by a replay of " + absl::StrJoin(replays, ", ") + " from the inputs");
      verdict.what += " " + absl::StrJoin(how, " and ");
    }
    verdict.replays = !replays.empty();
    plan.verdicts.push_back(std::move(verdict));
  }
  for (const std::string &model : saved_models)
    if (!by_relation.contains(model))
      plan.verdicts.push_back({model, "dropped: its state is let go", false, false});
  std::sort(plan.verdicts.begin(), plan.verdicts.end(),
            [](const auto &a, const auto &b) { return a.model < b.model; });
  return plan;
}

} // namespace kiln::runtime
