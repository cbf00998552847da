// kiln-parse: SQL text -> Kiln AST, the front end's text-in/text-out tool for lit tests.
//
//   kiln-parse [--script] [--locations] [--diagnostics-format=text|json] <file.sql | ->
//
// The whole file is one query (a model) and its AST is printed; with --script it is a script of
// statements (as in sqllogictest) and each prints on one line. --locations adds every node's
// range. On errors, prints the diagnostics to stderr and exits 1.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "kiln/Frontend/ASTPrinter.h"
#include "kiln/Frontend/Parser.h"

namespace {

int usage() {
  std::cerr << "usage: kiln-parse [--script] [--locations] [--diagnostics-format=text|json] "
               "<file.sql | ->\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  bool script = false, locations = false;
  kiln::DiagnosticFormat format = kiln::DiagnosticFormat::Text;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--script") {
      script = true;
    } else if (arg == "--locations") {
      locations = true;
    } else if (arg == "--diagnostics-format=json") {
      format = kiln::DiagnosticFormat::Json;
    } else if (arg == "--diagnostics-format=text") {
      format = kiln::DiagnosticFormat::Text;
    } else if ((arg == "-" || arg[0] != '-') && path.empty()) {
      path = arg;
    } else {
      return usage();
    }
  }
  if (path.empty())
    return usage();

  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    path = "<stdin>";
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      std::cerr << "kiln-parse: cannot read " << path << "\n";
      return 1;
    }
    text << file.rdbuf();
  }

  kiln::SourceManager sources;
  kiln::FileId file = sources.addFile(path, text.str());
  kiln::DiagnosticEngine diags(sources);
  auto map_range = kiln::frontend::identityMapper(file);
  const kiln::SourceManager *ranges = locations ? &sources : nullptr;
  if (script) {
    auto statements = kiln::frontend::parseScript(sources.text(file), map_range, diags);
    if (statements) {
      for (const kiln::ast::Statement &statement : *statements)
        kiln::frontend::printStatement(statement, std::cout, ranges);
    }
  } else if (auto query = kiln::frontend::parseQuery(sources.text(file), map_range, diags)) {
    kiln::frontend::printAST(*query, std::cout, ranges);
  }
  diags.print(std::cerr, format);
  return diags.hasErrors() ? 1 : 0;
}
