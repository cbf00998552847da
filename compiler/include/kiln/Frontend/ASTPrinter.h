// A readable, deterministic dump of the AST, for `kiln build --emit=ast`, kiln-parse and lit tests.
//
//   (select distinct
//     (targets
//       (item (binary "+" (column a) (literal integer "1")) as x))
//     (from
//       (table shop.orders as o))
//     (where (binary ">" (column o.amount) (literal integer "0"))))
//
// Clauses that hold lists put one element per line; expressions print on one line, except that a
// subquery starts a new, deeper-indented line. Given a SourceManager, every node also shows its
// range after its head word, as `@line:column+length`.
#pragma once

#include <iosfwd>

#include "kiln/Frontend/AST.h"

namespace kiln::frontend {

// Prints the query, ending with a newline.
void printAST(const ast::SelectStmt &stmt, std::ostream &out,
              const SourceManager *sources = nullptr);

// Prints the statement on one line (its query too), ending with a newline.
void printStatement(const ast::Statement &stmt, std::ostream &out,
                    const SourceManager *sources = nullptr);

} // namespace kiln::frontend
