// The textual form of Kiln's IR: printing, parsing back, verification.
#pragma once

#include "kiln/IR/IR.h"

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::ir {

void printModule(const Module &module, std::ostream &out);
std::string printExpr(const Expr &expr);

struct ParseError {
  uint32_t line = 0, column = 0; // in the parsed text
  std::string message;
};

// Parses the textual form. On failure returns null and fills `error`.
std::unique_ptr<Module> parseModule(std::string_view text, ParseError &error);

// Checks every documented invariant. Returns the violations (empty when valid), each naming the
// operator (`%N`) and what is wrong.
std::vector<std::string> verifyModule(const Module &module);

} // namespace kiln::ir
