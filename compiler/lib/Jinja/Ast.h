// The parsed form of a template: statements (text, {{ }}, tags) holding expressions. Every node
// keeps its range in the template's file, for errors.
#pragma once

#include "kiln/Jinja/Jinja.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln::jinja {

struct Expr {
  enum class Kind {
    Literal,     // literal
    Name,        // name
    List,        // operands: the items (tuples are lists)
    Dict,        // operands: key, value, key, value, ...
    Attribute,   // operands[0].name
    Item,        // operands[0][operands[1]]
    Slice,       // operands[0][operands[1]:operands[2]:operands[3]], any of 1-3 may be null
    Call,        // operands[0](operands[1..]), keywords parallel to the arguments
    Filter,      // operands[0] | name(operands[1..]); operands[0] is null in {% filter %}
    Test,        // operands[0] is [not] name(operands[1..])
    Negate,      // -operands[0]
    Plus,        // +operands[0]
    Not,         // not operands[0]
    Binary,      // operands[0] name operands[1], name one of + - * / // % ** ~
    Compare,     // operands[0] ops[0] operands[1] ops[1] operands[2] ... (Python's chains)
    And,         // operands[0] and operands[1]
    Or,          // operands[0] or operands[1]
    Conditional, // operands[0] if operands[1] else operands[2] (null: undefined)
  };
  Kind kind;
  SourceRange range;
  Value literal;
  std::string name;
  std::vector<std::unique_ptr<Expr>> operands;
  // Call, Filter, Test: per argument (operands[1..]), its keyword or "" if positional, and the
  // keyword's range.
  std::vector<std::string> keywords;
  std::vector<SourceRange> keyword_ranges;
  std::vector<std::string> ops; // Compare
  bool negated = false;         // Test: `is not`
  int height = 0;               // of a tree of binary operators (Parser bounds it)

  explicit Expr(Kind kind, SourceRange range) : kind(kind), range(range) {}
};
using ExprPtr = std::unique_ptr<Expr>;

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

struct Param {
  std::string name;
  SourceRange range;
  ExprPtr default_value; // null: required
};

struct Node {
  enum class Kind {
    Data,        // range: the text in the file
    Output,      // {{ expr }}; range: the whole {{ }}
    If,          // branches, else_body
    For,         // for targets in expr [if condition]: body [else: else_body]
    Set,         // set targets = expr
    SetBlock,    // set name [| filters]: body
    Macro,       // macro name(params): body
    CallBlock,   // call(params) expr: body
    FilterBlock, // filter filters: body
    Do,          // do expr
  };
  Kind kind;
  SourceRange range; // Data: its text; tags: the opening tag
  ExprPtr expr;
  std::vector<ExprPtr> targets; // Name or Attribute expressions
  ExprPtr condition;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
  std::string name;
  std::vector<Param> params;
  std::vector<ExprPtr> filters; // Filter expressions with a null subject

  explicit Node(Kind kind, SourceRange range) : kind(kind), range(range) {}
};

struct Template {
  FileId file = -1;
  std::string_view text; // owned by the SourceManager
  Body body;
};

} // namespace kiln::jinja
