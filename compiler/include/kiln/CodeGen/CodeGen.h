// Code generation: incremental IR -> LLVM IR -> optimized object code (or in-process JIT).
//
// Every operator becomes specialised code: row layouts, key extraction, hashing, key comparison,
// predicates, projections and aggregate updates are emitted per operator, and each operator
// calls its consumers directly so LLVM fuses a pipeline from a source push to the next state
// update. The runtime is reached only through the C ABI in kiln/runtime/abi.h, and the stdlib's
// bitcode is linked into the module so its functions inline.
//
// LLVM's headers stay out of this header: the generated module is held behind an opaque pointer.
#pragma once

#include "kiln/IR/IR.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

struct kiln_program;

namespace kiln::codegen {

// Where the project says a source's changes come from or a sink's go (kiln_relation_desc's
// connector): an address as the executable's --source/--sink take it.
struct Connector {
  std::string address;  // empty: none configured
  std::string location; // "models/sources.yml:7:20"
};

struct SourceTable {
  std::string name; // "shop.orders"
  ir::Schema schema;
  std::vector<int32_t> key;
  std::string location; // "models/sources.yml:12:9"
  Connector connector;
};

struct Options {
  std::string stdlib_bitcode; // path of kiln_stdlib.bc
  int opt_level = 2;
  int64_t default_tick_size = 0; // the project's tick-size, built into the executable
  std::map<std::string, Connector> sink_connectors; // by sink model name
};

class Artifact {
public:
  struct Impl;
  explicit Artifact(std::unique_ptr<Impl> impl);
  ~Artifact();
  Impl &impl() { return *impl_; }

  std::string llvmText() const;
  void optimize(int opt_level);
  bool emitObject(const std::string &path, std::string &error);

private:
  std::unique_ptr<Impl> impl_;
};

// A model the program exchanges rows of with its host: a sink (whose changes it emits) or an
// index (whose rows it serves), in the order the program numbers them (kiln_program.sinks,
// kiln_program.indexes).
struct ModelRelation {
  std::string name;
  ir::Schema schema;
  std::string location;
  std::vector<int32_t> key; // an index's unique_key columns
};
std::vector<ModelRelation> sinksOf(const ir::Module &module);
std::vector<ModelRelation> indexesOf(const ir::Module &module);

// Generates the LLVM module for `module`. `sources` lists every source table of the project (the
// program accepts records for all of them, used or not) in the order the runtime numbers them.
std::unique_ptr<Artifact> generate(const ir::Module &module,
                                   const std::vector<SourceTable> &sources, const Options &options,
                                   std::string &error);

// An in-process compiled program (for kiln-slt and tests).
class JitProgram {
public:
  struct Impl;
  explicit JitProgram(std::unique_ptr<Impl> impl);
  ~JitProgram();
  const kiln_program *program() const;

private:
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<JitProgram> jitCompile(std::unique_ptr<Artifact> artifact, std::string &error);

} // namespace kiln::codegen
