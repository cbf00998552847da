// kiln: the command line. `kiln build`, `kiln compile`, `kiln run`, `kiln test`, `kiln ls`,
// `kiln graph`, `kiln diff`.
#include "kiln/Driver/Build.h"
#include "kiln/Driver/CompileCommand.h"
#include "kiln/Driver/Diff.h"
#include "kiln/Driver/Graph.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

const char *kUsage = R"(usage: kiln <command> [options] <project-dir>

commands:
  build     compile the project into one executable (<project>/target/<name>)
  compile   print every model's rendered SQL (like `dbt compile`)
  run       build, then run the executable; arguments after `--` go to it
  test      kiln test <project> [INPUT...]: build, run the executable over the inputs (change
            records, as its --input reads them) and print each data test's result (PASS,
            WARN, FAIL with its failing rows), like `dbt test`; exit 1 if a test of severity
            error fails. Arguments after `--` go to the executable
  ls        list the project's resources (sources, seeds, models, tests), as `dbt ls` does
  graph     write the graph of models, sources, seeds and tests as Graphviz DOT, or with
            --format=html as a page with each resource's description, columns and SQL
  diff      kiln diff <checkpoint> <project>: which models' state a checkpoint of an earlier
            build (a --checkpoint-dir, a library's checkpoint file, or the earlier build's
            executable itself) keeps for this build,
            and how the others are rebuilt; exit 0 if from the kept state alone, 2 if sources
            must be replayed from the inputs

options:
  --emit=STAGE               stop after STAGE and print or write it:
                             sql, ast, plan, ir (after lowering), ir-inc (after the
                             incremental passes), llvm, obj, exe (default), lib (a static
                             library <project>/target/lib<name>.a and its C header <name>.h,
                             for embedding in a service)
  -o PATH                    output file for obj/exe/lib (a library's header goes beside it)
  -O0 | -O1 | -O2 | -O3      LLVM optimization level (default -O2)
  --vars KEY=VALUE           override a project var (repeatable)
  --diagnostics-format=FMT   text (default) or json
  --timings                  print how long each stage took
  -s, --select SELECTOR      ls, graph, build, run, test: the resources dbt's selection syntax
                             picks (build: with what they read; test: with their tests): a name
                             (globs allowed) or folder, +name (and its ancestors), name+ (and
                             its descendants), 2+name, @name, tag:T, path:P, source:S[.T],
                             resource_type:R, test_type:generic|singular; a,b for both;
                             repeatable (the union)
  --exclude SELECTOR         ls, graph, build, run, test: leave these out
  --resource-type TYPE       ls: only model, seed, source or test (repeatable)
  --format dot|html          graph: the output's form (default dot)
  --catalog URL              build, compile, run, test: read the types (and primary keys) of
                             source tables and columns the YAML leaves without from this
                             PostgreSQL database's catalog (schema: the source's schema or
                             name; table: the table's identifier or name)
  --verify-diagnostics       check the errors and warnings against `expected-error {{text}}`
                             in comments of the project's files ({# #} in models, # in YAML;
                             expected-error@+N for N lines below) instead of printing them;
                             exit 0 when all match
)";

int usage(const std::string &problem) {
  std::cerr << "kiln: error: " << problem << "\n\n" << kUsage;
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::cout << kUsage;
    return argc < 2 ? 1 : 0;
  }
  std::string command = argv[1];
  // kiln diff <checkpoint> <project>: the checkpoint comes first.
  std::string checkpoint;
  if (command == "diff") {
    if (argc < 3 || argv[2][0] == '-')
      return usage("kiln diff takes a checkpoint and a project: kiln diff <checkpoint> <project>");
    checkpoint = argv[2];
    ++argv;
    --argc;
  }
  kiln::driver::BuildOptions options;
  std::vector<std::string> passthrough;
  std::vector<std::string> inputs; // kiln test's
  kiln::GraphOptions graph;        // kiln ls and kiln graph
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const std::string &flag) -> std::string {
      if (arg.size() > flag.size() && arg.compare(0, flag.size() + 1, flag + "=") == 0)
        return arg.substr(flag.size() + 1);
      if (arg == flag && i + 1 < argc)
        return argv[++i];
      return "";
    };
    if (arg == "--") {
      passthrough.assign(argv + i + 1, argv + argc);
      break;
    } else if (arg.rfind("--emit", 0) == 0) {
      std::string emit = value("--emit");
      using kiln::driver::Emit;
      static const std::vector<std::pair<std::string, Emit>> stages{
          {"sql", Emit::Sql}, {"ast", Emit::Ast},      {"plan", Emit::Plan},
          {"ir", Emit::Ir},   {"ir-inc", Emit::IrInc}, {"llvm", Emit::Llvm},
          {"obj", Emit::Obj}, {"exe", Emit::Exe},      {"lib", Emit::Lib}};
      bool found = false;
      for (const auto &[name, stage] : stages)
        if (name == emit)
          options.emit = stage, found = true;
      if (!found)
        return usage("unknown stage \"" + emit + "\" for --emit");
    } else if (arg == "-o") {
      if (i + 1 >= argc)
        return usage("-o needs a path");
      options.output = argv[++i];
    } else if (arg.size() == 3 && arg[0] == '-' && arg[1] == 'O' && arg[2] >= '0' &&
               arg[2] <= '3') {
      options.opt_level = arg[2] - '0';
    } else if (arg.rfind("--vars", 0) == 0) {
      std::string kv = value("--vars");
      size_t eq = kv.find('=');
      if (eq == std::string::npos)
        return usage("--vars takes KEY=VALUE");
      options.vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (arg.rfind("--diagnostics-format", 0) == 0) {
      std::string format = value("--diagnostics-format");
      if (format == "json")
        options.diagnostics = kiln::DiagnosticFormat::Json;
      else if (format != "text")
        return usage("--diagnostics-format is text or json");
    } else if (arg == "-s" || arg.rfind("--select", 0) == 0) {
      std::string selector = arg == "-s" && i + 1 < argc ? argv[++i] : value("--select");
      if (selector.empty())
        return usage("--select needs a selector");
      graph.select.push_back(selector);
    } else if (arg.rfind("--exclude", 0) == 0) {
      std::string selector = value("--exclude");
      if (selector.empty())
        return usage("--exclude needs a selector");
      graph.exclude.push_back(selector);
    } else if (arg.rfind("--resource-type", 0) == 0) {
      graph.resource_types.push_back(value("--resource-type"));
    } else if (arg.rfind("--catalog", 0) == 0) {
      options.catalog = value("--catalog");
      if (options.catalog.empty())
        return usage("--catalog needs a PostgreSQL connection string or URI");
    } else if (arg.rfind("--format", 0) == 0) {
      graph.format = value("--format");
      if (graph.format != "dot" && graph.format != "html")
        return usage("--format is dot or html");
    } else if (arg == "--timings") {
      options.timings = true;
    } else if (arg == "--verify-diagnostics") {
      options.verify_diagnostics = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage("unknown option " + arg);
    } else if (options.project_dir.empty()) {
      options.project_dir = arg;
    } else if (command == "test") {
      inputs.push_back(arg);
    } else {
      return usage("more than one project directory given");
    }
  }
  if (options.project_dir.empty())
    options.project_dir = ".";
  if (command == "ls" || command == "graph") {
    graph.project_dir = options.project_dir;
    graph.vars = options.vars;
    graph.diagnostics = options.diagnostics;
    graph.output = options.output;
    return command == "ls" ? kiln::runListCommand(graph, std::cout, std::cerr)
                           : kiln::runGraphCommand(graph, std::cout, std::cerr);
  }
  if (command == "compile")
    return kiln::runCompileCommand(options.project_dir, options.vars, options.diagnostics,
                                   std::cout, std::cerr, options.catalog);
  if (command == "build") {
    options.select = graph.select;
    options.exclude = graph.exclude;
    return kiln::driver::runBuild(options, std::cout, std::cerr);
  }
  if (command == "diff")
    return kiln::driver::runDiff(checkpoint, options, std::cout, std::cerr);
  if (command == "build" || command == "run" || command == "test") {
    options.select = graph.select;
    options.exclude = graph.exclude;
    options.select_tests = command == "test";
    options.unit_tests = command == "test";
  }
  if (command == "run" || command == "test") {
    options.emit = kiln::driver::Emit::Exe;
    if (options.output.empty())
      options.output = options.project_dir + "/target/kiln-" + command;
    int status = kiln::driver::runBuild(options, std::cout, std::cerr);
    if (status != 0)
      return status;
    std::cout.flush();
    std::string line = "'" + options.output + "'";
    if (command == "test") {
      line += " --tests";
      for (const std::string &input : inputs)
        line += " --input '" + input + "'";
      if (inputs.empty() && passthrough.empty())
        line += " --input /dev/null"; // the tests of the empty input, not a wait on stdin
    }
    for (const std::string &arg : passthrough)
      line += " '" + arg + "'";
    int rc = std::system(line.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 2;
  }
  return usage("unknown command \"" + command + "\"");
}
