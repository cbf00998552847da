// `kiln build`: the whole pipeline, project folder -> executable, stopping after any stage.
#pragma once

#include "kiln/CodeGen/CodeGen.h"
#include "kiln/IR/IR.h"
#include "kiln/Support/Diagnostics.h"

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kiln::driver {

enum class Emit { Sql, Ast, Plan, Ir, IrInc, Llvm, Obj, Exe, Lib };

struct BuildOptions {
  std::string project_dir;
  Emit emit = Emit::Exe;
  // default: <project>/target/<name>[.o], or for a library <project>/target/lib<name>.a (and
  // its header <name>.h beside it)
  std::string output;
  std::map<std::string, std::string> vars;
  DiagnosticFormat diagnostics = DiagnosticFormat::Text;
  int opt_level = 2;
  bool timings = false; // print how long each stage took (stderr)
  // Check the project's diagnostics against `expected-error {{...}}` comments in its files
  // (verifyDiagnostics) instead of printing them; stops after the front end.
  bool verify_diagnostics = false;
  // Build only the models these select (dbt's node selection, see Graph.h), and what they read;
  // `select_tests` adds the data tests of what is selected (kiln test -s).
  std::vector<std::string> select, exclude;
  bool select_tests = false;
  // Compile the project's unit tests into the program too, as tests (kiln test does).
  bool unit_tests = false;
  // --catalog: a PostgreSQL database whose catalog types the source tables the YAML leaves
  // without types (Catalog.h).
  std::string catalog;
};

// Returns the process exit code (0 ok, 1 errors in the project, 2 internal/tool failures).
int runBuild(const BuildOptions &options, std::ostream &out, std::ostream &err);

// ---- In-memory compilation, for kiln-slt and tests ----

struct TableDef {
  std::string name; // how queries name it: "t1" or "shop.orders"
  ir::Schema schema;
  std::vector<int32_t> key;
};

struct ViewDef {
  std::string name;
  std::string sql; // a SELECT; its text is registered in `sources` as "<name>.sql"
  bool is_sink = true;
};

struct CompiledProgram {
  std::unique_ptr<codegen::JitProgram> jit;
  std::vector<codegen::SourceTable> tables; // in the program's source order (= `tables` order)
  std::vector<std::string> sinks;           // sink view names in the program's sink order
  std::vector<ir::Schema> sink_schemas;
};

// Parses, binds, lowers, optimizes and JIT-compiles the views over the tables. Views may read
// earlier views. Reports problems to `diags`; returns null on failure (`error` says why when the
// problem is not a located diagnostic). `time_zone` is the session's (empty: UTC; a name
// ir::timeZone knows).
std::unique_ptr<CompiledProgram> compileInMemory(const std::vector<TableDef> &tables,
                                                 const std::vector<ViewDef> &views,
                                                 SourceManager &sources, DiagnosticEngine &diags,
                                                 std::string &error, bool optimize = true,
                                                 const std::string &time_zone = "");

// Where the build found its runtime pieces (from the build tree).
std::string stdlibBitcodePath();

} // namespace kiln::driver
