// Parses the textual form printed by Printer.cpp (the format is described there).
//
// The parser accepts any structurally well-formed module, including ones the verifier rejects
// (forward or dangling inputs, duplicate ids, wrong input counts), so that every verifier error
// can be tested from text. It fails only where the text itself does not determine a field: an
// omitted schema or column type whose input is unknown.

#include "kiln/IR/TextFormat.h"
#include "kiln/IR/TimeZone.h"
#include "kiln/IR/Utils.h"

#include "Syntax.h"
#include "kiln/runtime/interval.h"

#include <charconv>
#include <limits>
#include <tuple>
#include <unordered_map>

namespace kiln::ir {
namespace {

enum class Tok {
  Eof,
  Ident,
  String,
  Number,
  ValueId,
  ColumnRef, // `%3`, `$3`
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Equal,
  At,
};

struct Token {
  Tok kind = Tok::Eof;
  std::string_view text; // as written; for ValueId/ColumnRef the number after the sigil
  std::string value;     // String: the unescaped contents
  uint32_t line = 1, column = 1;
};

// Thrown to unwind to parseModule, which turns it into the ParseError result. Confined to this
// file: it keeps the recursive descent free of error plumbing.
struct Failure {
  ParseError error;
};

class Lexer {
public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    skipSpaceAndComments();
    Token tok;
    tok.line = line_;
    tok.column = column_;
    size_t start = pos_;
    if (pos_ >= text_.size())
      return tok;
    char c = text_[pos_];
    auto single = [&](Tok kind) {
      advance();
      tok.kind = kind;
      tok.text = text_.substr(start, 1);
      return tok;
    };
    switch (c) {
    case '(':
      return single(Tok::LParen);
    case ')':
      return single(Tok::RParen);
    case '[':
      return single(Tok::LBracket);
    case ']':
      return single(Tok::RBracket);
    case '{':
      return single(Tok::LBrace);
    case '}':
      return single(Tok::RBrace);
    case ',':
      return single(Tok::Comma);
    case ':':
      return single(Tok::Colon);
    case '=':
      return single(Tok::Equal);
    case '@':
      return single(Tok::At);
    case '"':
      return string(tok);
    case '%':
    case '$': {
      advance();
      size_t digits = pos_;
      if (peek() == '-')
        advance();
      if (!isDigit(peek()))
        fail(tok, std::string("expected a number after '") + c + "'");
      while (isDigit(peek()))
        advance();
      tok.kind = c == '%' ? Tok::ValueId : Tok::ColumnRef;
      tok.text = text_.substr(digits, pos_ - digits);
      return tok;
    }
    default:
      break;
    }
    if (syntax::isIdentStart(c)) {
      while (syntax::isIdentChar(peek()))
        advance();
      tok.kind = Tok::Ident;
      tok.text = text_.substr(start, pos_ - start);
      return tok;
    }
    if (isDigit(c) || (c == '-' && isDigit(peek(1)))) {
      // -?digits(.digits)?([eE][+-]?digits)?: integers, NUMERIC and f64 literals.
      advance();
      while (isDigit(peek()))
        advance();
      if (peek() == '.' && isDigit(peek(1))) {
        advance();
        while (isDigit(peek()))
          advance();
      }
      if ((peek() == 'e' || peek() == 'E') &&
          (isDigit(peek(1)) || ((peek(1) == '-' || peek(1) == '+') && isDigit(peek(2))))) {
        advance(2);
        while (isDigit(peek()))
          advance();
      }
      tok.kind = Tok::Number;
      tok.text = text_.substr(start, pos_ - start);
      return tok;
    }
    fail(tok, std::string("unexpected character '") + c + "'");
  }

  [[noreturn]] static void fail(const Token &at, std::string message) {
    throw Failure{{at.line, at.column, std::move(message)}};
  }

private:
  static bool isDigit(char c) { return c >= '0' && c <= '9'; }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance(size_t n = 1) {
    for (; n && pos_ < text_.size(); --n, ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        column_ = 1;
      } else {
        ++column_;
      }
    }
  }

  void skipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          advance();
      } else {
        break;
      }
    }
  }

  Token string(Token &tok) {
    size_t start = pos_;
    advance();
    for (;;) {
      if (pos_ >= text_.size() || peek() == '\n')
        fail(tok, "unterminated string");
      char c = peek();
      if (c == '"')
        break;
      if (c != '\\') {
        tok.value += c;
        advance();
        continue;
      }
      Token escape = tok;
      escape.line = line_;
      escape.column = column_;
      advance();
      switch (char e = peek()) {
      case '"':
      case '\\':
        tok.value += e;
        advance();
        break;
      case 'n':
        tok.value += '\n';
        advance();
        break;
      case 't':
        tok.value += '\t';
        advance();
        break;
      case 'r':
        tok.value += '\r';
        advance();
        break;
      case 'x': {
        int v = 0;
        for (int i = 1; i <= 2; ++i) {
          char h = peek(i);
          int d = isDigit(h)               ? h - '0'
                  : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                  : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                           : -1;
          if (d < 0)
            fail(escape, "expected two hex digits after '\\x'");
          v = v * 16 + d;
        }
        tok.value += char(v);
        advance(3);
        break;
      }
      default:
        fail(escape, "unknown escape sequence in string");
      }
    }
    advance();
    tok.kind = Tok::String;
    tok.text = text_.substr(start, pos_ - start);
    return tok;
  }

  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1, column_ = 1;
};

class Parser {
public:
  explicit Parser(std::string_view text) : lexer_(text) { tok_ = lexer_.next(); }

  std::unique_ptr<Module> module();

private:
  // --- Tokens
  bool is(Tok kind) const { return tok_.kind == kind; }
  bool isIdent(std::string_view word) const { return is(Tok::Ident) && tok_.text == word; }
  Token take() {
    Token tok = std::move(tok_);
    tok_ = lexer_.next();
    return tok;
  }
  // The token after the current one (an operand `%1` and the next op's `%1 =` differ only there).
  Token peekNext() const {
    Lexer ahead = lexer_;
    return ahead.next();
  }
  bool accept(Tok kind) {
    if (!is(kind))
      return false;
    take();
    return true;
  }
  bool acceptIdent(std::string_view word) {
    if (!isIdent(word))
      return false;
    take();
    return true;
  }
  [[noreturn]] void fail(std::string message) const { Lexer::fail(tok_, std::move(message)); }
  [[noreturn]] void failAt(const Token &at, std::string message) const {
    Lexer::fail(at, std::move(message));
  }
  Token expect(Tok kind, const char *what) {
    if (!is(kind))
      fail(std::string("expected ") + what);
    return take();
  }
  void expectIdent(std::string_view word) {
    if (!acceptIdent(word))
      fail("expected '" + std::string(word) + "'");
  }

  // --- Pieces
  int64_t integer(const Token &tok, int64_t min, int64_t max, const char *what);
  int32_t valueId() {
    return int32_t(integer(expect(Tok::ValueId, "'%' and an operator id"), INT32_MIN, INT32_MAX,
                           "operator id"));
  }
  int32_t columnIndex() {
    return int32_t(
        integer(expect(Tok::ColumnRef, "a column ('$N')"), INT32_MIN, INT32_MAX, "column index"));
  }
  std::vector<int32_t> columnList();
  std::vector<SortKey> sortKeys();
  void frameBound(WindowFrame &frame, bool start);
  WindowCall windowCall();
  std::string name(const char *what);
  Type type();
  Type scalarType();
  bool isTypeName() const;
  Schema schema();
  Location location();
  void exprTrailer(Expr &expr, bool inferred);

  // --- Operators and expressions
  void op(Module &module);
  const Op *lookup(int32_t id) const {
    auto it = earlier_.find(id);
    return it == earlier_.end() ? nullptr : it->second;
  }
  bool startsExpr() const { return is(Tok::LParen) || is(Tok::ColumnRef); }
  ExprPtr expr();
  ExprPtr columnRef(bool parenthesized);
  ExprPtr literal();
  void literalValue(Expr &lit);

  Lexer lexer_;
  Token tok_;
  std::unordered_map<int32_t, const Op *> earlier_; // first op of each id parsed so far
  const Schema *row_ = nullptr; // the input row of the expressions being parsed, if known
  int32_t rowOp_ = -1;          // its operator id, for messages
};

int64_t Parser::integer(const Token &tok, int64_t min, int64_t max, const char *what) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(tok.text.data(), tok.text.data() + tok.text.size(), v);
  if (ec != std::errc() || end != tok.text.data() + tok.text.size() || v < min || v > max)
    failAt(tok, std::string(what) + " out of range");
  return v;
}

std::vector<int32_t> Parser::columnList() {
  expect(Tok::LBracket, "'['");
  std::vector<int32_t> columns;
  if (!accept(Tok::RBracket)) {
    do
      columns.push_back(columnIndex());
    while (accept(Tok::Comma));
    expect(Tok::RBracket, "',' or ']'");
  }
  return columns;
}

// `[$c desc nulls first, ...]`
std::vector<SortKey> Parser::sortKeys() {
  std::vector<SortKey> keys;
  expect(Tok::LBracket, "'['");
  if (!accept(Tok::RBracket)) {
    do {
      SortKey key;
      key.column = columnIndex();
      if (acceptIdent("desc"))
        key.descending = true;
      else
        acceptIdent("asc");
      key.nulls_first = key.descending;
      if (acceptIdent("nulls")) {
        if (acceptIdent("first"))
          key.nulls_first = true;
        else if (acceptIdent("last"))
          key.nulls_first = false;
        else
          fail("expected 'first' or 'last'");
      }
      keys.push_back(key);
    } while (accept(Tok::Comma));
    expect(Tok::RBracket, "',' or ']'");
  }
  return keys;
}

// `unbounded preceding`, `N preceding`, `current row`, `N following`, `unbounded following`;
// in a RANGE frame, a typed constant for N: `(interval 0 7 0) preceding`.
void Parser::frameBound(WindowFrame &frame, bool start) {
  FrameBound &bound = start ? frame.start : frame.end;
  if (acceptIdent("current")) {
    expectIdent("row");
    bound = FrameBound::CurrentRow;
    return;
  }
  if (acceptIdent("unbounded")) {
    if (acceptIdent("preceding")) {
      bound = FrameBound::UnboundedPreceding;
      return;
    }
    expectIdent("following");
    bound = FrameBound::UnboundedFollowing;
    return;
  }
  if (frame.units == FrameUnits::Range) {
    Token at = tok_;
    ExprPtr offset = expr();
    if (offset->op != ExprOp::Literal || offset->literal.is_null)
      failAt(at, "a RANGE frame's offset is a typed constant, e.g. (i64 3)");
    if (frame.offset_type.kind != TypeKind::Null && offset->type != frame.offset_type)
      failAt(at, "a RANGE frame's offsets have one type");
    frame.offset_type = offset->type;
    (start ? frame.start_value : frame.end_value) = offset->literal;
  } else {
    (start ? frame.start_offset : frame.end_offset) =
        integer(expect(Tok::Number, "a frame bound"), 0, INT64_MAX, "frame offset");
  }
  if (acceptIdent("preceding")) {
    bound = FrameBound::Preceding;
    return;
  }
  expectIdent("following");
  bound = FrameBound::Following;
}

// `lag($2, 1, $3) rows between 1 preceding and current row as name : type`
WindowCall Parser::windowCall() {
  static const WindowFn kFns[] = {
      WindowFn::RowNumber,  WindowFn::Rank,      WindowFn::DenseRank, WindowFn::PercentRank,
      WindowFn::CumeDist,   WindowFn::Ntile,     WindowFn::Lag,       WindowFn::Lead,
      WindowFn::FirstValue, WindowFn::LastValue, WindowFn::NthValue,  WindowFn::CountStar,
      WindowFn::Count,      WindowFn::Sum,       WindowFn::Min,       WindowFn::Max};
  Token fnTok = expect(Tok::Ident, "a window function");
  WindowCall call;
  bool known = false;
  for (WindowFn fn : kFns)
    if (fnTok.text == windowFnName(fn)) {
      call.fn = fn;
      known = true;
    }
  if (!known)
    failAt(fnTok, "unknown window function '" + std::string(fnTok.text) + "'");
  expect(Tok::LParen, "'('");
  if (is(Tok::ColumnRef))
    call.arg = columnIndex();
  if (is(Tok::Number) || (call.arg >= 0 && accept(Tok::Comma)))
    call.n = integer(expect(Tok::Number, "a count"), 0, INT64_MAX, "count");
  if (accept(Tok::Comma))
    call.default_arg = columnIndex();
  expect(Tok::RParen, "')'");
  if (isIdent("rows") || isIdent("range") || isIdent("groups")) {
    std::string_view units = take().text;
    call.frame.units = units == "rows"    ? FrameUnits::Rows
                       : units == "range" ? FrameUnits::Range
                                          : FrameUnits::Groups;
    expectIdent("between");
    frameBound(call.frame, true);
    expectIdent("and");
    frameBound(call.frame, false);
    if (acceptIdent("exclude")) {
      if (acceptIdent("current")) {
        expectIdent("row");
        call.frame.exclude = FrameExclusion::CurrentRow;
      } else if (acceptIdent("group")) {
        call.frame.exclude = FrameExclusion::Group;
      } else if (acceptIdent("ties")) {
        call.frame.exclude = FrameExclusion::Ties;
      } else {
        expectIdent("no");
        expectIdent("others");
      }
    }
  }
  expectIdent("as");
  call.name = name("the window function's column name");
  expect(Tok::Colon, "':' and the window function's type");
  call.type = type();
  return call;
}

std::string Parser::name(const char *what) {
  if (is(Tok::Ident))
    return std::string(take().text);
  if (is(Tok::String))
    return take().value;
  fail(std::string("expected ") + what);
}

bool Parser::isTypeName() const {
  static const char *const kNames[] = {"bool", "i16",     "i32",   "i64",       "f32",
                                       "f64",  "numeric", "text",  "timestamp", "timestamptz",
                                       "date", "null",    "jsonb", "interval"};
  for (const char *n : kNames)
    if (isIdent(n))
      return true;
  return false;
}

Type Parser::type() {
  Type t = scalarType();
  if (accept(Tok::LBracket)) { // i32[]
    expect(Tok::RBracket, "']' of an array type");
    if (t.kind == TypeKind::Null)
      fail("an array of null is not a type");
    t = Type::array(t);
  }
  return t;
}

Type Parser::scalarType() {
  if (!is(Tok::Ident))
    fail("expected a type");
  Token tok = take();
  std::string_view t = tok.text;
  if (t == "bool")
    return Type::boolean();
  if (t == "i16")
    return Type::int16();
  if (t == "f32")
    return Type::real();
  if (t == "i32")
    return Type::int32();
  if (t == "i64")
    return Type::int64();
  if (t == "f64")
    return Type::float64();
  if (t == "text")
    return Type::text();
  if (t == "date")
    return Type::date();
  if (t == "timestamp")
    return Type::timestamp();
  if (t == "timestamptz")
    return Type::timestamptz();
  if (t == "jsonb")
    return Type::jsonb();
  if (t == "interval")
    return Type::interval();
  if (t == "null")
    return Type::null();
  if (t == "numeric") {
    expect(Tok::LParen, "'(' after numeric");
    auto p = int32_t(integer(expect(Tok::Number, "a precision"), 0, INT32_MAX, "precision"));
    expect(Tok::Comma, "','");
    auto s = int32_t(integer(expect(Tok::Number, "a scale"), INT32_MIN, INT32_MAX, "scale"));
    expect(Tok::RParen, "')'");
    return Type::numeric(p, s);
  }
  failAt(tok, "unknown type '" + std::string(t) + "'");
}

Schema Parser::schema() {
  expect(Tok::LParen, "'(' to start a schema");
  Schema columns;
  if (accept(Tok::RParen))
    return columns;
  do {
    Column col;
    col.name = name("a column name");
    col.type = type();
    if (acceptIdent("not")) {
      expectIdent("null");
      col.nullable = false;
    }
    columns.push_back(std::move(col));
  } while (accept(Tok::Comma));
  expect(Tok::RParen, "',' or ')'");
  return columns;
}

Location Parser::location() {
  expectIdent("loc");
  expect(Tok::LParen, "'('");
  Location loc;
  loc.file = expect(Tok::String, "a file name").value;
  expect(Tok::Colon, "':'");
  loc.line = uint32_t(integer(expect(Tok::Number, "a line"), 0, UINT32_MAX, "line"));
  expect(Tok::Colon, "':'");
  loc.column = uint32_t(integer(expect(Tok::Number, "a column"), 0, UINT32_MAX, "column"));
  expect(Tok::RParen, "')'");
  return loc;
}

// An expression's optional tail: `not null` or `nullable` where it deviates from `inferred`, then
// its location.
void Parser::exprTrailer(Expr &expr, bool inferred) {
  expr.nullable = inferred;
  if (acceptIdent("not")) {
    expectIdent("null");
    expr.nullable = false;
  } else if (acceptIdent("nullable")) {
    expr.nullable = true;
  }
  if (isIdent("loc"))
    expr.loc = location();
}

std::unique_ptr<Module> Parser::module() {
  auto module = std::make_unique<Module>();
  expectIdent("module");
  if (accept(Tok::At))
    module->name = name("a module name");
  if (acceptIdent("time_zone")) {
    module->time_zone = expect(Tok::String, "a time zone name").value;
    std::string error;
    if (!timeZone(module->time_zone, &error) && !error.empty())
      fail(error);
  }
  expect(Tok::LBrace, "'{'");
  while (!accept(Tok::RBrace))
    op(*module);
  if (!is(Tok::Eof))
    fail("expected the end of the input after the module");
  return module;
}

void Parser::op(Module &module) {
  if (!is(Tok::ValueId))
    fail("expected an operator ('%N = ...') or '}'");
  auto op = std::make_unique<Op>(OpKind::Source);
  op->id = valueId();
  expect(Tok::Equal, "'='");

  Token kindTok = expect(Tok::Ident, "an operator kind");
  bool known = false;
  for (const OpInfo &info : allOps()) {
    if (kindTok.text == info.name) {
      op->kind = info.kind;
      known = true;
    }
  }
  if (!known)
    failAt(kindTok, "unknown operator '" + std::string(kindTok.text) + "'");

  if (is(Tok::String))
    op->name = take().value;
  if (is(Tok::ValueId) && peekNext().kind != Tok::Equal) {
    do
      op->inputs.push_back(valueId());
    while (accept(Tok::Comma));
  }

  const Op *first = op->inputs.empty() ? nullptr : lookup(op->inputs[0]);
  row_ = first ? &first->schema : nullptr;
  rowOp_ = op->inputs.empty() ? -1 : op->inputs[0];
  switch (op->info().payload) {
  case OpPayload::None:
    break;
  case OpPayload::SourceKey:
    if (acceptIdent("key"))
      op->key = columnList();
    break;
  case OpPayload::Predicate:
    if (startsExpr())
      op->predicate = expr();
    break;
  case OpPayload::Exprs:
    expect(Tok::LBracket, "'[' and the map's expressions");
    if (!accept(Tok::RBracket)) {
      do
        op->exprs.push_back(expr());
      while (accept(Tok::Comma));
      expect(Tok::RBracket, "',' or ']'");
    }
    break;
  case OpPayload::JoinKeys:
  case OpPayload::RangeJoinKeys: {
    expectIdent("on");
    expect(Tok::LBracket, "'['");
    // `_` stands for the missing side of an unequal key count (which the verifier rejects).
    auto key = [&](std::vector<int32_t> &keys) {
      if (!acceptIdent("_"))
        keys.push_back(columnIndex());
    };
    if (!accept(Tok::RBracket)) {
      do {
        key(op->left_keys);
        expect(Tok::Equal, "'='");
        key(op->right_keys);
      } while (accept(Tok::Comma));
      expect(Tok::RBracket, "',' or ']'");
    }
    if (op->info().payload != OpPayload::RangeJoinKeys)
      break;
    // `range [$l lt $r, ...]`
    expectIdent("range");
    expect(Tok::LBracket, "'['");
    if (!accept(Tok::RBracket)) {
      do {
        RangeCondition condition;
        condition.left = columnIndex();
        Token opTok = expect(Tok::Ident, "lt, le, gt or ge");
        bool known = false;
        for (ExprOp candidate : {ExprOp::Lt, ExprOp::Le, ExprOp::Gt, ExprOp::Ge})
          if (opTok.text == exprOpName(candidate)) {
            condition.op = candidate;
            known = true;
          }
        if (!known)
          failAt(opTok, "expected lt, le, gt or ge");
        condition.right = columnIndex();
        op->ranges.push_back(condition);
      } while (accept(Tok::Comma));
      expect(Tok::RBracket, "',' or ']'");
    }
    break;
  }
  case OpPayload::JoinGraph: {
    expectIdent("on");
    expect(Tok::LBracket, "'['");
    if (!accept(Tok::RBracket)) {
      do {
        int32_t a = columnIndex();
        expect(Tok::Equal, "'='");
        op->equalities.emplace_back(a, columnIndex());
      } while (accept(Tok::Comma));
      expect(Tok::RBracket, "',' or ']'");
    }
    expectIdent("columns");
    op->columns = columnList();
    break;
  }
  case OpPayload::TopK:
    if (acceptIdent("group"))
      op->group_keys = columnList();
    expectIdent("order");
    op->sort_keys = sortKeys();
    if (acceptIdent("limit"))
      op->limit = integer(expect(Tok::Number, "a row count"), 0, INT64_MAX, "limit");
    if (acceptIdent("offset"))
      op->offset = integer(expect(Tok::Number, "a row count"), 0, INT64_MAX, "offset");
    break;
  case OpPayload::Window:
    if (acceptIdent("partition"))
      op->group_keys = columnList();
    if (acceptIdent("order"))
      op->sort_keys = sortKeys();
    expect(Tok::LBracket, "'[' and the window functions");
    if (!accept(Tok::RBracket)) {
      do
        op->windows.push_back(windowCall());
      while (accept(Tok::Comma));
      expect(Tok::RBracket, "',' or ']'");
    }
    if (acceptIdent("limit"))
      op->limit = integer(expect(Tok::Number, "a row count"), 0, INT64_MAX, "limit");
    break;
  case OpPayload::SetFunctions: {
    expect(Tok::LBracket, "'[' and the set-returning functions");
    do {
      Token fnTok = expect(Tok::Ident, "a set-returning function");
      SetCall call;
      bool known = false;
      for (SetFunction fn : kAllSetFunctions)
        if (fnTok.text == setFunctionName(fn)) {
          call.fn = fn;
          known = true;
        }
      if (!known)
        failAt(fnTok, "unknown set-returning function '" + std::string(fnTok.text) + "'");
      expect(Tok::LParen, "'('");
      call.args = 0;
      do {
        op->exprs.push_back(expr());
        ++call.args;
      } while (accept(Tok::Comma));
      expect(Tok::RParen, "')'");
      if (isIdent("loc"))
        call.loc = location();
      op->set_calls.push_back(call);
    } while (accept(Tok::Comma));
    expect(Tok::RBracket, "',' or ']'");
    op->ordinality = acceptIdent("ordinality");
    op->outer = acceptIdent("outer");
    if (acceptIdent("on")) {
      // The condition reads the output row: the input's columns and the functions'.
      std::optional<Schema> added = unnestColumns(*op);
      Schema output = row_ ? *row_ : Schema{};
      if (added)
        output.insert(output.end(), added->begin(), added->end());
      const Schema *saved = row_;
      row_ = &output;
      op->predicate = expr();
      row_ = saved;
    }
    break;
  }
  case OpPayload::Aggregates:
    if (acceptIdent("group"))
      op->group_keys = columnList();
    expect(Tok::LBracket, "'[' and the aggregates");
    if (!accept(Tok::RBracket)) {
      static const AggKind kAggs[] = {AggKind::CountStar,
                                      AggKind::Count,
                                      AggKind::Sum,
                                      AggKind::Avg,
                                      AggKind::Min,
                                      AggKind::Max,
                                      AggKind::CountDistinct,
                                      AggKind::SumDistinct,
                                      AggKind::StringAgg,
                                      AggKind::JsonbAgg,
                                      AggKind::JsonbObjectAgg,
                                      AggKind::ArrayAgg};
      do {
        Token aggTok = expect(Tok::Ident, "an aggregate function");
        AggCall agg{AggKind::CountStar, -1, Type::null(), "", "", {}, false};
        bool knownAgg = false;
        for (AggKind kind : kAggs) {
          if (aggTok.text == aggKindName(kind)) {
            agg.kind = kind;
            knownAgg = true;
          }
        }
        if (!knownAgg)
          failAt(aggTok, "unknown aggregate function '" + std::string(aggTok.text) + "'");
        expect(Tok::LParen, "'('");
        if (joinsEntries(agg.kind))
          agg.distinct = acceptIdent("distinct");
        if (is(Tok::ColumnRef))
          agg.arg = columnIndex();
        // string_agg([distinct] $c, "separator" [order [...]]), jsonb_agg([distinct] $c [order
        // [...]])
        if (agg.kind == AggKind::StringAgg) {
          expect(Tok::Comma, "',' and the separator");
          agg.separator = expect(Tok::String, "the separator").value;
        }
        if (joinsEntries(agg.kind) && acceptIdent("order"))
          agg.order = sortKeys();
        expect(Tok::RParen, "')'");
        expectIdent("as");
        agg.name = name("the aggregate's column name");
        expect(Tok::Colon, "':' and the aggregate's type");
        agg.type = type();
        op->aggregates.push_back(std::move(agg));
      } while (accept(Tok::Comma));
      expect(Tok::RBracket, "',' or ']'");
    }
    break;
  }

  if (accept(Tok::Colon)) {
    op->schema = schema();
  } else if (auto inferred = inferSchema(*op, [&](int32_t id) { return lookup(id); })) {
    op->schema = std::move(*inferred);
  } else {
    fail("expected ':' and the schema of %" + std::to_string(op->id) +
         (op->info().schema == SchemaRule::Declared
              ? ""
              : " (it cannot be inferred: an input is not defined before it)"));
  }
  if (acceptIdent("append_only"))
    op->append_only = true;
  if (isIdent("loc"))
    op->loc = location();
  if (!is(Tok::ValueId) && !is(Tok::RBrace))
    fail("expected the next operator or '}'");

  earlier_.emplace(op->id, op.get());
  module.ops.push_back(std::move(op));
}

ExprPtr Parser::expr() {
  if (is(Tok::ColumnRef))
    return columnRef(false);
  expect(Tok::LParen, "an expression");
  if (is(Tok::ColumnRef))
    return columnRef(true);
  if (isTypeName())
    return literal();

  Token head = expect(Tok::Ident, "an operation, a type or a column after '('");
  static const ExprOp kOps[] = {ExprOp::Add,
                                ExprOp::Sub,
                                ExprOp::Mul,
                                ExprOp::Div,
                                ExprOp::Mod,
                                ExprOp::Neg,
                                ExprOp::Eq,
                                ExprOp::Ne,
                                ExprOp::Lt,
                                ExprOp::Le,
                                ExprOp::Gt,
                                ExprOp::Ge,
                                ExprOp::IsDistinctFrom,
                                ExprOp::IsNotDistinctFrom,
                                ExprOp::And,
                                ExprOp::Or,
                                ExprOp::Not,
                                ExprOp::IsNull,
                                ExprOp::IsNotNull,
                                ExprOp::Case,
                                ExprOp::Coalesce,
                                ExprOp::NullIf,
                                ExprOp::Greatest,
                                ExprOp::Least,
                                ExprOp::Cast,
                                ExprOp::Like,
                                ExprOp::Concat,
                                ExprOp::Call};
  const ExprOp *op = nullptr;
  for (const ExprOp &candidate : kOps)
    if (head.text == exprOpName(candidate))
      op = &candidate;
  if (!op)
    failAt(head, "unknown operation '" + std::string(head.text) + "'");

  auto e = std::make_unique<Expr>(*op, Type::null());
  if (*op == ExprOp::Call) {
    Token name = expect(Tok::String, "a function name");
    std::optional<FunctionId> function = findFunction(name.value);
    if (!function || functionInfo(*function).name != name.value)
      failAt(name, "unknown function \"" + name.value + "\"");
    e->function = *function;
  }
  while (startsExpr())
    e->args.push_back(expr());
  if (*op == ExprOp::Like && acceptIdent("ilike"))
    e->flag = true;
  if (*op == ExprOp::Call && acceptIdent("all"))
    e->flag = true;
  if (accept(Tok::Colon)) {
    e->type = type();
  } else if (auto fixed = fixedResultType(*op)) {
    e->type = *fixed;
  } else {
    fail(std::string("expected ':' and the result type of '") + exprOpName(*op) + "'");
  }
  exprTrailer(*e, inferNullable(e->op, e->args));
  expect(Tok::RParen, "')'");
  return e;
}

// `$N` alone takes the type and nullability of the input's column N; `($N : type ...)` spells
// what differs (or what is unknown when the input is not).
ExprPtr Parser::columnRef(bool parenthesized) {
  Token ref = tok_;
  int32_t index = columnIndex();
  const Column *col =
      row_ && index >= 0 && index < (int32_t)row_->size() ? &(*row_)[index] : nullptr;
  auto e = makeColumn(index, col ? col->type : Type::null(), col ? col->nullable : true);
  bool typed = col != nullptr;
  if (parenthesized) {
    if (accept(Tok::Colon)) {
      e->type = type();
      typed = true;
    }
    exprTrailer(*e, e->nullable);
    expect(Tok::RParen, "')'");
  }
  if (!typed) {
    std::string why =
        row_ ? "%" + std::to_string(rowOp_) + " has " + std::to_string(row_->size()) + " columns"
             : "the input is not defined before this operator";
    failAt(ref, "cannot type column $" + std::to_string(index) + " (" + why + "): write ($" +
                    std::to_string(index) + " : type)");
  }
  return e;
}

// `(TYPE value)`, `(null TYPE)` or `(null)`, then nullability and location.
ExprPtr Parser::literal() {
  Value value;
  ExprPtr e;
  if (acceptIdent("null")) {
    e = makeLiteral(value, isTypeName() ? type() : Type::null());
  } else {
    Type t = type();
    e = makeLiteral(value, t);
    if (t.kind == TypeKind::Null)
      fail("expected a value");
    literalValue(*e);
  }
  exprTrailer(*e, e->literal.is_null);
  expect(Tok::RParen, "')'");
  return e;
}

void Parser::literalValue(Expr &lit) {
  Value &v = lit.literal;
  v.is_null = false;
  switch (lit.type.kind) {
  case TypeKind::Bool:
    if (acceptIdent("true"))
      v.b = true;
    else if (acceptIdent("false"))
      v.b = false;
    else
      fail("expected true or false");
    return;
  case TypeKind::Int32:
    v.i = integer(expect(Tok::Number, "an integer"), INT32_MIN, INT32_MAX, "i32 literal");
    return;
  case TypeKind::Interval: { // months days microseconds
    kiln_interval parts;
    parts.months = static_cast<int32_t>(
        integer(expect(Tok::Number, "the months"), INT32_MIN, INT32_MAX, "months"));
    parts.days = static_cast<int32_t>(
        integer(expect(Tok::Number, "the days"), INT32_MIN, INT32_MAX, "days"));
    parts.micros =
        integer(expect(Tok::Number, "the microseconds"), INT64_MIN, INT64_MAX, "microseconds");
    v.n = kiln_interval_pack(parts);
    return;
  }
  case TypeKind::Int64:
    v.i = integer(expect(Tok::Number, "an integer"), INT64_MIN, INT64_MAX, "i64 literal");
    return;
  case TypeKind::Float64: {
    // Numbers, or "inf", "-inf", "nan" as strings.
    if (!is(Tok::Number) && !is(Tok::String))
      fail("expected a number");
    Token tok = take();
    std::string_view s = tok.kind == Tok::String ? std::string_view(tok.value) : tok.text;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v.f);
    if (ec != std::errc() || end != s.data() + s.size())
      failAt(tok, "invalid f64 literal");
    return;
  }
  case TypeKind::Numeric: {
    // Digits with at most `scale` fraction digits, stored as value * 10^scale.
    Token tok = expect(Tok::Number, "a number");
    std::string_view s = tok.text;
    bool negative = !s.empty() && s[0] == '-';
    if (negative)
      s.remove_prefix(1);
    size_t point = s.find('.');
    std::string_view whole = s.substr(0, point);
    std::string_view frac = point == std::string_view::npos ? "" : s.substr(point + 1);
    int32_t scale = lit.type.scale;
    if (s.find_first_of("eE") != std::string_view::npos)
      failAt(tok, "numeric literal cannot have an exponent");
    if (scale < 0 || (int32_t)frac.size() > scale)
      failAt(tok, "too many fraction digits for " + lit.type.str());
    std::string digits = std::string(whole) + std::string(frac);
    digits.append(scale - frac.size(), '0');
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
    if (digits.size() > 38)
      failAt(tok, "numeric literal has more than 38 digits");
    __int128 n = 0;
    for (char c : digits)
      n = n * 10 + (c - '0');
    v.n = negative ? -n : n;
    return;
  }
  case TypeKind::Text:
  case TypeKind::Jsonb: // in canonical form, as the binder writes it
  case TypeKind::Array:
    v.s = expect(Tok::String, "a string").value;
    return;
  case TypeKind::Date:
  case TypeKind::Timestamp:
  case TypeKind::TimestampTz: { // a TimestampTz literal is written in UTC, without the zone
    bool date = lit.type.kind == TypeKind::Date;
    if (is(Tok::Number)) {
      v.i = integer(take(), INT64_MIN, INT64_MAX, date ? "day count" : "microsecond count");
      return;
    }
    Token tok = expect(Tok::String, date ? "a date" : "a timestamp");
    auto parsed = date ? syntax::parseDate(tok.value) : syntax::parseTimestamp(tok.value);
    if (!parsed)
      failAt(tok, date ? "invalid date (expected \"YYYY-MM-DD\")"
                       : "invalid timestamp (expected \"YYYY-MM-DD HH:MM:SS[.ffffff]\")");
    v.i = *parsed;
    return;
  }
  case TypeKind::Null:
    return;
  }
}

} // namespace

std::unique_ptr<Module> parseModule(std::string_view text, ParseError &error) {
  try {
    return Parser(text).module();
  } catch (Failure &failure) {
    error = std::move(failure.error);
    return nullptr;
  }
}

} // namespace kiln::ir
