// kiln-slt: runs sqllogictest files against Kiln.
//
// SQLite's form: every query becomes a view over the tables, compiled with Kiln and fed the
// tables' rows incrementally (in several ticks, with deletions and re-insertions) and from
// scratch; both results must match the expected values. Kiln's streaming form: views are
// maintained over `step`s of DML, and each step's consolidated changes are compared.
#include "Runner.h"

#include "kiln/runtime/Host.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

void usage(std::ostream &out) {
  out << "usage: kiln-slt [--mode=incremental|recompute|both] [--summary] [--verbose] [--rewrite]\n"
         "                [--no-fork] [--timeout=SECONDS] FILE...\n"
         "Runs sqllogictest files (SQLite's records and Kiln's view/step records).\n"
         "  --mode      how views are fed: incrementally, recomputed per check, or both (default)\n"
         "  --summary   per file, failure reasons and notes by count\n"
         "  --verbose   the SQL, diagnostics and full results of failures\n"
         "  --rewrite   write the actual changes into the steps of streaming files\n"
         "  --no-fork   run everything in this process (for debuggers; a crash ends the run)\n"
         "  --timeout   seconds a forked query or streaming file may run (default 120)\n"
         "Prints 'FILE: N passed, M failed, K skipped' per file and 'N passed, M failed' last;\n"
         "exits with 0 if every record passed.\n";
}

void printCounts(const std::string &title, const std::map<std::string, int64_t> &counts) {
  if (counts.empty())
    return;
  std::vector<std::pair<int64_t, std::string>> sorted;
  for (const auto &[text, count] : counts)
    sorted.emplace_back(-count, text);
  std::sort(sorted.begin(), sorted.end());
  std::cout << "  " << title << ":\n";
  for (const auto &[count, text] : sorted)
    std::cout << "    " << -count << "  " << text << "\n";
}

} // namespace

int main(int argc, char **argv) {
  // Generated code calls the runtime's C functions by name, resolved in this executable: keep
  // every one of them linked in (and exported, see CMakeLists.txt).
  if (kiln::runtime::abiSymbols().empty())
    return 2;

  kiln::slt::Options options;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mode=incremental")
      options.recompute = false;
    else if (arg == "--mode=recompute")
      options.incremental = false;
    else if (arg == "--mode=both")
      options.incremental = options.recompute = true;
    else if (arg == "--summary")
      options.summary = true;
    else if (arg == "--verbose")
      options.verbose = true;
    else if (arg == "--rewrite")
      options.rewrite = true;
    else if (arg == "--no-fork")
      options.fork = false;
    else if (arg.rfind("--timeout=", 0) == 0 && std::atoi(arg.c_str() + 10) > 0)
      options.timeout = std::atoi(arg.c_str() + 10);
    else if (arg == "--help" || arg == "-h")
      return usage(std::cout), 0;
    else if (arg.rfind("-", 0) == 0)
      return std::cerr << "kiln-slt: unknown option " << arg << "\n", usage(std::cerr), 2;
    else
      files.push_back(arg);
  }
  if (files.empty())
    return usage(std::cerr), 2;

  kiln::slt::Tally total;
  for (const std::string &file : files) {
    kiln::slt::Tally tally = kiln::slt::runFile(file, options);
    std::cout << file << ": " << tally.passed << " passed, " << tally.failed << " failed, "
              << tally.skipped << " skipped\n";
    if (options.summary) {
      printCounts("failures", tally.reasons);
      printCounts("notes", tally.notes);
    }
    total.add(tally);
  }
  std::cout << total.passed << " passed, " << total.failed << " failed\n";
  return total.failed == 0 ? 0 : 1;
}
