#include "kiln/Driver/Diff.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "kiln/IR/Fingerprint.h"
#include "kiln/IR/TextFormat.h"
#include "kiln/IR/Utils.h"
#include "kiln/runtime/Checkpoints.h"
#include "kiln/runtime/State.h"
#include "kiln/runtime/Upgrade.h"

namespace fs = std::filesystem;

namespace kiln::driver {

namespace {

// The state image a path names: a checkpoint directory's newest undamaged checkpoint, one
// checkpoint, or a state file.
std::optional<std::string> readImage(const std::string &path, std::ostream &err) {
  std::string file = path;
  if (fs::is_directory(path)) {
    if (fs::exists(fs::path(path) / "state.bin")) {
      file = (fs::path(path) / "state.bin").string();
    } else {
      std::vector<std::string> warnings;
      auto latest = runtime::CheckpointDir(path).latest(warnings);
      for (const std::string &warning : warnings)
        err << "kiln: warning: " << warning << "\n";
      if (!latest.ok() || !latest->has_value()) {
        err << "kiln: error: no usable checkpoint in " << path << "\n";
        return std::nullopt;
      }
      return std::move((*latest)->state);
    }
  }
  absl::StatusOr<std::string> image = runtime::readFile(file);
  if (!image.ok()) {
    err << "kiln: error: " << image.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(image);
}

// The new build's dataflow as the runtime's upgrade plan sees it (runtime::dataflowOf), from
// its IR: which operators' state holds their output, and which joins keep rows in a keyed
// source's table (ir::sharedKeyedSource, as code generation lays them out).
std::vector<runtime::DataflowOp> dataflowOf(const ir::Module &module) {
  std::unordered_map<int32_t, uint64_t> fingerprints = ir::stateFingerprints(module);
  std::unordered_map<int32_t, int32_t> index_of;
  std::vector<runtime::DataflowOp> ops;
  for (const auto &op : module.ops) {
    runtime::DataflowOp node;
    node.name = op->stateName();
    node.kind = std::string(ir::opKindName(op->kind));
    node.model = ir::modelOf(module, *op);
    node.fingerprint = fingerprints.at(op->id);
    for (int32_t input : op->inputs)
      node.inputs.push_back(index_of.at(input));
    node.source = op->kind == ir::OpKind::Source;
    node.keyed = node.source && !op->key.empty();
    node.has_contents =
        node.keyed || op->kind == ir::OpKind::Aggregate || op->kind == ir::OpKind::Distinct;
    if (node.source)
      node.source_table = op->name;
    if (op->kind == ir::OpKind::Join || op->kind == ir::OpKind::DeltaJoin)
      for (size_t port = 0; port < op->inputs.size(); ++port)
        if (const ir::Op *source = ir::sharedKeyedSource(module, *op, port))
          node.shares.push_back(index_of.at(source->id));
    index_of.emplace(op->id, static_cast<int32_t>(ops.size()));
    ops.push_back(std::move(node));
  }
  return ops;
}

} // namespace

int runDiff(const std::string &checkpoint, const BuildOptions &options, std::ostream &out,
            std::ostream &err) {
  std::optional<std::string> image = readImage(checkpoint, err);
  if (!image)
    return 1;
  absl::StatusOr<runtime::StateImageSummary> saved = runtime::summarizeStateImage(*image);
  if (!saved.ok()) {
    err << "kiln: error: " << checkpoint << ": " << saved.status().message() << "\n";
    return 1;
  }

  // The new build's operators, as `kiln build --emit=ir-inc` prints them.
  BuildOptions ir_options = options;
  ir_options.emit = Emit::IrInc;
  std::ostringstream text;
  if (int status = runBuild(ir_options, text, err); status != 0)
    return 1;
  ir::ParseError parse_error;
  std::unique_ptr<ir::Module> module = ir::parseModule(text.str(), parse_error);
  if (!module) {
    err << "kiln: internal error: cannot read the incremental IR back: " << parse_error.message
        << "\n";
    return 1;
  }

  std::vector<runtime::SavedOp> saved_ops;
  for (const runtime::StateImageSummary::Op &op : saved->ops)
    saved_ops.push_back({op.fingerprint, op.model});
  runtime::UpgradePlan plan = runtime::planUpgrade(dataflowOf(*module), saved_ops);

  out << "checkpoint of " << saved->program << " after tick " << saved->ticks << " -> project "
      << options.project_dir << "\n";
  bool replays = false;
  for (const runtime::UpgradePlan::Verdict &verdict : plan.verdicts) {
    out << "  " << verdict.model << ": " << verdict.what << "\n";
    replays = replays || verdict.replays;
  }
  size_t rebuilt = static_cast<size_t>(std::count(plan.rebuilt.begin(), plan.rebuilt.end(), true));
  if (!plan.needed()) {
    out << "the new build resumes from this checkpoint: every operator's state is kept\n";
    return 0;
  }
  out << "the new build resumes from this checkpoint: of its " << plan.rebuilt.size()
      << " operators it keeps " << plan.rebuilt.size() - rebuilt << " and rebuilds " << rebuilt;
  if (!replays) {
    out << " from the kept state\n";
    return 0;
  }
  out << ", reading its file inputs again from the start up to the checkpoint's positions\n";
  return 2;
}

} // namespace kiln::driver
