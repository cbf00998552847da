#include "kiln/Driver/Diff.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiln/IR/Fingerprint.h"
#include "kiln/IR/TextFormat.h"
#include "kiln/IR/Utils.h"
#include "kiln/runtime/Checkpoints.h"
#include "kiln/runtime/State.h"
#include "kiln/runtime/Upgrade.h"

namespace fs = std::filesystem;

namespace kiln::driver {

namespace {

// Whether `path` is a program (an old build) rather than a state file: not an image, and
// executable.
bool isProgram(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return std::string_view(magic, sizeof magic) != "KILNSTAT" && ::access(path.c_str(), X_OK) == 0;
}

// The image of an old build's empty state (--empty-state-image): its operators' fingerprints.
std::optional<std::string> imageOfProgram(const std::string &path, std::ostream &err) {
  std::string file = (fs::temp_directory_path() / "kiln-diff-XXXXXX").string();
  int fd = ::mkstemp(file.data());
  if (fd < 0) {
    err << "kiln: error: cannot create a temporary file: " << std::strerror(errno) << "\n";
    return std::nullopt;
  }
  ::close(fd);
  std::string flag = "--empty-state-image";
  std::vector<char *> argv = {const_cast<char *>(path.c_str()), flag.data(), file.data(), nullptr};
  std::string message;
  pid_t pid;
  int status = -1;
  if (int error = ::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), environ);
      error != 0)
    message = std::strerror(error);
  else if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    message = "--empty-state-image failed";
  absl::StatusOr<std::string> image = runtime::readFile(file);
  fs::remove(file);
  if (!message.empty() || !image.ok() || image->empty()) {
    err << "kiln: error: " << path
        << " is neither a checkpoint nor a program built by this Kiln that tells its operators ("
        << (message.empty() ? "it wrote no state image" : message) << ")\n";
    return std::nullopt;
  }
  return *std::move(image);
}

// The state image a path names: a checkpoint directory's newest undamaged checkpoint, one
// checkpoint, a state file, or an old build (the image of its empty state).
std::optional<std::string> readImage(const std::string &path, std::ostream &err) {
  if (fs::is_regular_file(path) && isProgram(path))
    return imageOfProgram(path, err);
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
    // (A keyed source's table holds its rows, but pushing them is not supported yet.)
    node.has_contents = op->kind == ir::OpKind::Aggregate || op->kind == ir::OpKind::Distinct ||
                        op->kind == ir::OpKind::Positive;
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

  if (fs::is_regular_file(checkpoint) && isProgram(checkpoint))
    out << "build " << checkpoint << " of " << saved->program << " -> project "
        << options.project_dir << "\n";
  else
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
