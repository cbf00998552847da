// Running test files: records in, pass/fail counts and failure reports out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace kiln::slt {

struct Options {
  bool incremental = true;
  bool recompute = true;
  bool summary = false; // per file: failure reasons and notes, by count
  bool verbose = false; // SQL, diagnostics and full results of failures
  bool rewrite = false; // write the actual changes of streaming steps into the file
  bool fork = true;     // compile and run in child processes, so a crash is one failure
  int timeout = 120;    // seconds per forked child
};

// Pass/fail counts with the reasons of failures. In a forked child, each outcome is written to
// the parent through `fd` as a line ("P", "S", "F\t<reason>", "N\t<note>") instead of counted,
// so that outcomes reported before a crash are kept.
struct Tally {
  int64_t passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int64_t> reasons; // of failures
  std::map<std::string, int64_t> notes;   // things worth knowing that are not failures
  int fd = -1;

  void pass();
  void skip();
  void fail(const std::string &reason);
  void note(const std::string &note);
  void absorb(std::string_view lines); // a child's outcomes
  void add(const Tally &other);
};

Tally runFile(const std::string &path, const Options &options);

} // namespace kiln::slt
