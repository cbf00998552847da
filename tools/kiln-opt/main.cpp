// kiln-opt: runs IR passes on textual incremental IR (the lit tests' entry point).
//
//   kiln-opt [--passes=a,b,c] [--verify-only] [--no-verify] [--split-input-file]
//            [--emit=ir|llvm|obj] [-O0..-O3] [-o FILE] [--list-passes] [FILE|-]
//
// Parses FILE (default: stdin), verifies it, runs the passes in order (verifying after each) and
// prints the result, or generates code for it: --emit=llvm prints the LLVM IR (at -O0 unless
// told otherwise, so each operator's functions stay visible), --emit=obj writes an object file.
// The program accepts changes for the module's source operators, in their order. `--passes=default`
// is Kiln's own pipeline. With --split-input-file, each part of FILE between `// -----` lines is a
// module of its own (as in mlir-opt), so that one test file can hold many small cases.

#include "kiln/CodeGen/CodeGen.h"
#include "kiln/IR/TextFormat.h"
#include "kiln/Transforms/Passes.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

using namespace kiln;

namespace {

constexpr const char *kUsage =
    "usage: kiln-opt [--passes=a,b,c] [--verify-only] [--no-verify] [--split-input-file]\n"
    "                [--emit=ir|llvm|obj] [-O0..-O3] [-o FILE] [--list-passes] [--list-ops]\n"
    "                [FILE|-]\n"
    "  --passes=LIST   run these passes in order ('default' is Kiln's optimizer pipeline)\n"
    "  --verify-only   parse and verify, print nothing\n"
    "  --no-verify     verify neither the input nor the result of each pass\n"
    "  --split-input-file\n"
    "                  process each part between '// -----' lines as its own module\n"
    "  --emit=KIND     ir (default): print the module; llvm: print the generated LLVM IR;\n"
    "                  obj: write an object file (-o FILE)\n"
    "  -O0..-O3        LLVM optimization level for --emit=llvm|obj (default: -O0 for llvm, -O2 for "
    "obj)\n"
    "  -o FILE         where --emit=obj writes\n"
    "  --list-passes   print every pass with what it does\n"
    "  --list-ops      print every operator with its inputs, traits and state (Ops.def)\n";

// Ops.def's table as a user reads it.
void listOps() {
  for (const ir::OpInfo &op : ir::allOps()) {
    std::string inputs = op.max_inputs == ir::kManyInputs ? std::to_string(op.min_inputs) + "+"
                                                          : std::to_string(op.min_inputs);
    std::string traits;
    auto trait = [&](ir::OpTrait t, const char *name) {
      if (op.has(t))
        traits += std::string(traits.empty() ? "" : ", ") + name;
    };
    trait(ir::kLinear, "linear");
    trait(ir::kStateful, "stateful");
    trait(ir::kRetracts, "retracts");
    trait(ir::kFlushes, "flushes at commit");
    trait(ir::kNoOutput, "no output");
    std::cout << op.name << "\n    inputs: " << inputs
              << "; traits: " << (traits.empty() ? "none" : traits)
              << "; state: " << ir::stateSizeName(op.state) << "\n";
  }
}

std::vector<std::string> split(std::string_view list) {
  std::vector<std::string> items;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    if (!item.empty())
      items.emplace_back(item);
    list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
  }
  return items;
}

// The width of the token starting at `column` (1-based) of `line`, for the caret.
size_t tokenWidth(std::string_view line, uint32_t column) {
  size_t start = column ? column - 1 : 0, end = start;
  if (start >= line.size())
    return 1;
  auto word = [](char c) { return std::isalnum((unsigned char)c) || c == '_' || c == '.'; };
  if (line[start] == '"') {
    for (end = start + 1; end < line.size() && line[end] != '"'; ++end)
      if (line[end] == '\\')
        ++end;
    end = std::min(end + 1, line.size());
  } else {
    if (line[start] == '%' || line[start] == '$' || line[start] == '-')
      ++end;
    while (end < line.size() && word(line[end]))
      ++end;
  }
  return std::max<size_t>(end - start, 1);
}

constexpr std::string_view kSeparator = "// -----";

// The parts of `text` between separator lines, each preceded by as many empty lines as came before
// it so that errors keep the file's line numbers.
std::vector<std::string> splitAtSeparators(std::string_view text) {
  std::vector<std::string> parts;
  std::string part;
  size_t line = 0, partStart = 0;
  for (size_t pos = 0; pos < text.size(); ++line) {
    size_t eol = text.find('\n', pos);
    size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view lineText = text.substr(pos, next - pos);
    if (lineText.starts_with(kSeparator)) {
      parts.push_back(std::string(partStart, '\n') + part);
      part.clear();
      partStart = line + 1;
    } else {
      part += lineText;
    }
    pos = next;
  }
  parts.push_back(std::string(partStart, '\n') + part);
  return parts;
}

enum class Emit { Ir, Llvm, Obj };

struct Options {
  std::vector<std::string> passes;
  bool verifyOnly = false, verify = true;
  Emit emit = Emit::Ir;
  int optLevel = -1;  // -1: the emit kind's default
  std::string output; // --emit=obj
};

std::string stdlibBitcode() {
  if (const char *path = std::getenv("KILN_STDLIB_BITCODE"))
    return path;
  return KILN_STDLIB_BITCODE;
}

// Generates code for `module`; its source operators are the program's sources.
bool generate(const ir::Module &module, const Options &options) {
  std::vector<codegen::SourceTable> sources;
  for (const auto &op : module.ops)
    if (op->kind == ir::OpKind::Source)
      sources.push_back({op->name, op->schema, op->key, op->loc.str(), {}});
  codegen::Options codegenOptions;
  codegenOptions.stdlib_bitcode = stdlibBitcode();
  std::string error;
  std::unique_ptr<codegen::Artifact> artifact =
      codegen::generate(module, sources, codegenOptions, error);
  if (!artifact) {
    std::cerr << "error: " << error << "\n";
    return false;
  }
  int level = options.optLevel >= 0 ? options.optLevel : options.emit == Emit::Llvm ? 0 : 2;
  artifact->optimize(level);
  if (options.emit == Emit::Llvm) {
    std::cout << artifact->llvmText();
    return true;
  }
  if (!artifact->emitObject(options.output, error)) {
    std::cerr << "error: " << error << "\n";
    return false;
  }
  return true;
}

void reportParseError(const std::string &file, std::string_view text, const ir::ParseError &e) {
  std::string_view line = text;
  for (uint32_t i = 1; i < e.line; ++i) {
    size_t next = line.find('\n');
    line = next == std::string_view::npos ? "" : line.substr(next + 1);
  }
  line = line.substr(0, line.find('\n'));
  std::cerr << file << ":" << e.line << ":" << e.column << ": error: " << e.message << "\n"
            << line << "\n"
            << std::string(e.column ? e.column - 1 : 0, ' ') << "^"
            << std::string(tokenWidth(line, e.column) - 1, '~') << "\n";
}

// Parses, verifies, transforms and prints one module; reports errors and returns false on any.
bool processModule(const std::string &name, const std::string &text, const Options &options) {
  ir::ParseError parseError;
  std::unique_ptr<ir::Module> module = ir::parseModule(text, parseError);
  if (!module) {
    reportParseError(name, text, parseError);
    return false;
  }
  if (options.verify || options.verifyOnly) {
    std::vector<std::string> errors = ir::verifyModule(*module);
    for (const std::string &error : errors)
      std::cerr << "error: " << error << "\n";
    if (!errors.empty())
      return false;
  }
  if (options.verifyOnly)
    return true;

  if (options.verify) {
    std::string error;
    if (!transforms::runPasses(*module, options.passes, error)) {
      std::cerr << "error: " << error << "\n";
      return false;
    }
  } else {
    for (const std::string &pass : options.passes)
      transforms::findPass(pass)->run(*module);
  }
  if (options.emit != Emit::Ir)
    return generate(*module, options);
  ir::printModule(*module, std::cout);
  return true;
}
} // namespace

int main(int argc, char **argv) {
  Options options;
  bool splitInput = false;
  std::string file = "-";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--passes=")) {
      for (std::string &name : split(arg.substr(9))) {
        if (name == "default") {
          for (std::string &p : transforms::defaultPipeline())
            options.passes.push_back(p);
        } else if (!transforms::findPass(name)) {
          std::cerr << "kiln-opt: error: unknown pass '" << name
                    << "' (--list-passes shows them)\n";
          return 1;
        } else {
          options.passes.push_back(name);
        }
      }
    } else if (arg == "--verify-only") {
      options.verifyOnly = true;
    } else if (arg == "--no-verify") {
      options.verify = false;
    } else if (arg == "--split-input-file") {
      splitInput = true;
    } else if (arg.starts_with("--emit=")) {
      std::string_view kind = arg.substr(7);
      if (kind == "ir")
        options.emit = Emit::Ir;
      else if (kind == "llvm")
        options.emit = Emit::Llvm;
      else if (kind == "obj")
        options.emit = Emit::Obj;
      else {
        std::cerr << "kiln-opt: error: --emit takes ir, llvm or obj, not '" << kind << "'\n";
        return 1;
      }
    } else if (arg.size() == 3 && arg.starts_with("-O") && arg[2] >= '0' && arg[2] <= '3') {
      options.optLevel = arg[2] - '0';
    } else if (arg == "-o" && i + 1 < argc) {
      options.output = argv[++i];
    } else if (arg == "--list-ops") {
      listOps();
      return 0;
    } else if (arg == "--list-passes") {
      for (const transforms::PassInfo &pass : transforms::allPasses())
        std::cout << pass.name << "\n    " << pass.description << "\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg.size() > 1 && arg[0] == '-') {
      std::cerr << "kiln-opt: error: unknown option '" << arg << "'\n" << kUsage;
      return 1;
    } else {
      file = arg;
    }
  }

  if (options.emit == Emit::Obj && (options.output.empty() || splitInput)) {
    std::cerr << "kiln-opt: error: --emit=obj writes one module to -o FILE\n";
    return 1;
  }
  if (options.emit != Emit::Obj && !options.output.empty()) {
    std::cerr << "kiln-opt: error: -o is only used with --emit=obj (the others print)\n";
    return 1;
  }

  std::stringstream buffer;
  if (file == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "kiln-opt: error: cannot read '" << file << "'\n";
      return 1;
    }
    buffer << in.rdbuf();
  }
  std::string text = buffer.str();
  std::string name = file == "-" ? "<stdin>" : file;

  if (!splitInput)
    return processModule(name, text, options) ? 0 : 1;

  bool ok = true;
  std::vector<std::string> parts = splitAtSeparators(text);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i)
      std::cout << kSeparator << "\n";
    ok &= processModule(name, parts[i], options);
  }
  return ok ? 0 : 1;
}
