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

// Whether an operator always keeps state of its own across ticks. (A join may keep its inputs'
// rows in their sources' tables instead, which --emit=ir-inc does not tell: joins are judged by
// the checkpoint's side alone.)
bool ownsLastingState(const ir::Op &op) {
  switch (op.kind) {
  case ir::OpKind::Aggregate:
  case ir::OpKind::Distinct:
  case ir::OpKind::Index:
    return true;
  case ir::OpKind::Source:
    return !op.key.empty();
  default:
    return false;
  }
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

  // The new build's operators by fingerprint, and the models they maintain.
  std::unordered_map<int32_t, uint64_t> fingerprints = ir::fingerprints(*module);
  std::set<uint64_t> new_fingerprints;
  std::map<std::string, std::string> verdict; // model -> "" (kept so far) or what changed
  for (const auto &op : module->ops) {
    std::string model = ir::modelOf(*module, *op);
    new_fingerprints.insert(fingerprints.at(op->id));
    if (op->isStateful())
      verdict.try_emplace(model, "");
  }
  // Every saved arrangement must find its operator, unchanged, in the new build.
  std::set<uint64_t> saved_fingerprints;
  std::set<std::string> saved_models;
  for (const auto &arrangement : saved->arrangements) {
    std::string model = arrangement.model.empty() ? arrangement.op : arrangement.model;
    saved_fingerprints.insert(arrangement.fingerprint);
    saved_models.insert(model);
    if (new_fingerprints.contains(arrangement.fingerprint))
      continue;
    auto it = verdict.find(model);
    if (it == verdict.end())
      verdict[model] = "dropped (no longer in the project, or no longer keeps state)";
    else
      it->second = "changed: its state is rebuilt by a replay from the inputs";
  }
  // And state the new build keeps that the checkpoint does not have must be built.
  for (const auto &op : module->ops) {
    if (!ownsLastingState(*op) || saved_fingerprints.contains(fingerprints.at(op->id)))
      continue;
    std::string model = ir::modelOf(*module, *op);
    std::string &what = verdict[model];
    if (what.empty())
      what = saved_models.contains(model)
                 ? "changed: its state is rebuilt by a replay from the inputs"
                 : "new: its state is built by a replay from the inputs";
  }

  out << "checkpoint of " << saved->program << " after tick " << saved->ticks << " -> project "
      << options.project_dir << "\n";
  std::vector<std::string> blocking;
  for (const auto &[model, what] : verdict) {
    out << "  " << model << ": " << (what.empty() ? "kept" : what) << "\n";
    if (!what.empty())
      blocking.push_back(model);
  }
  if (blocking.empty()) {
    out << "the new build resumes from this checkpoint: every operator's state is kept\n";
    return 0;
  }
  out << "the new build cannot resume from this checkpoint (models that block it:";
  for (const std::string &model : blocking)
    out << " " << model;
  out << "); start it with an empty checkpoint directory, which replays the inputs\n";
  return 2;
}

} // namespace kiln::driver
