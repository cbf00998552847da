// Lexing and parsing templates, with Jinja2's grammar and operator precedence (jinja2/parser.py):
// conditional < or < and < not < comparisons < + - < ~ < * / // % < ** < unary - + < filters and
// tests < postfix (. [] ()).
#include "Ast.h"

#include <cctype>
#include <charconv>
#include <map>

namespace kiln::jinja {
namespace {

bool isSpace(char c) { return std::isspace(static_cast<unsigned char>(c)); }
bool isDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }
bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

struct Token {
  enum Kind {
    Data,          // text between tags; begin/end in the file
    VariableBegin, // {{
    VariableEnd,   // }}
    BlockBegin,    // {%
    BlockEnd,      // %}
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
  } kind = End;
  std::string text; // a name, a decoded string, a number's or an operator's spelling
  uint32_t begin = 0, end = 0;
};

// Splits a template into text and the tokens of its {{ }} and {% %}; comments vanish, {% raw %}
// blocks become text, and `-` whitespace control trims the text beside a tag.
class Lexer {
public:
  Lexer(FileId file, std::string_view text, DiagnosticEngine &diags)
      : file_(file), text_(text), diags_(diags) {}

  bool lex(std::vector<Token> &tokens) {
    uint32_t pos = 0;
    bool strip_next = false; // the previous tag ended with "-"
    while (true) {
      size_t open = findOpen(pos);
      uint32_t data_end = open == std::string_view::npos ? text_.size() : open;
      uint32_t data_begin = pos;
      if (strip_next)
        while (data_begin < data_end && isSpace(text_[data_begin]))
          ++data_begin;
      bool strip_before =
          open != std::string_view::npos && open + 2 < text_.size() && text_[open + 2] == '-';
      if (strip_before)
        while (data_end > data_begin && isSpace(text_[data_end - 1]))
          --data_end;
      if (data_end > data_begin)
        tokens.push_back({Token::Data, "", data_begin, data_end});
      if (open == std::string_view::npos)
        return true;

      char kind = text_[open + 1];
      uint32_t body = open + 2;
      if (body < text_.size() && (text_[body] == '-' || text_[body] == '+'))
        ++body;
      if (kind == '#') {
        size_t close = text_.find("#}", body);
        if (close == std::string_view::npos)
          return unterminated(open, "comment", "#}");
        strip_next = close > body && text_[close - 1] == '-';
        pos = close + 2;
        continue;
      }
      if (kind == '%' && isRaw(body)) {
        if (!lexRaw(open, body, tokens, pos, strip_next))
          return false;
        continue;
      }
      tokens.push_back({kind == '{' ? Token::VariableBegin : Token::BlockBegin,
                        kind == '{' ? "{{" : "{%", static_cast<uint32_t>(open), body});
      std::optional<uint32_t> after = lexInside(kind, open, body, tokens, strip_next);
      if (!after)
        return false;
      pos = *after;
    }
  }

private:
  SourceRange range(uint32_t begin, uint32_t end) const { return {{file_, begin}, end - begin}; }

  size_t findOpen(size_t from) const {
    for (size_t i = text_.find('{', from); i != std::string_view::npos && i + 1 < text_.size();
         i = text_.find('{', i + 1))
      if (text_[i + 1] == '{' || text_[i + 1] == '%' || text_[i + 1] == '#')
        return i;
    return std::string_view::npos;
  }

  bool unterminated(size_t open, const char *what, const char *closer) {
    diags_.error(range(open, open + 2), std::string("unterminated Jinja ") + what + ": \"" +
                                            std::string(text_.substr(open, 2)) +
                                            "\" has no matching \"" + closer + "\"");
    return false;
  }

  uint32_t skipSpace(uint32_t at) const {
    while (at < text_.size() && isSpace(text_[at]))
      ++at;
    return at;
  }

  // Whether the tag whose body starts at `body` is "raw", and where its "%}" ends (0 if not).
  uint32_t tagEnd(uint32_t body, std::string_view word) const {
    uint32_t at = skipSpace(body);
    if (text_.substr(at, word.size()) != word)
      return 0;
    at = skipSpace(at + word.size());
    if (at < text_.size() && (text_[at] == '-' || text_[at] == '+'))
      ++at;
    return text_.substr(at, 2) == "%}" ? at + 2 : 0;
  }
  bool isRaw(uint32_t body) const { return tagEnd(body, "raw") != 0; }

  // {% raw %}...{% endraw %}: the text between, as it is.
  bool lexRaw(size_t open, uint32_t body, std::vector<Token> &tokens, uint32_t &pos,
              bool &strip_next) {
    uint32_t content = tagEnd(body, "raw");
    bool strip_content_begin = text_[content - 3] == '-';
    for (size_t end_open = text_.find("{%", content); end_open != std::string_view::npos;
         end_open = text_.find("{%", end_open + 2)) {
      uint32_t end_body = end_open + 2;
      bool strip_content_end = end_body < text_.size() && text_[end_body] == '-';
      if (end_body < text_.size() && (text_[end_body] == '-' || text_[end_body] == '+'))
        ++end_body;
      uint32_t after = tagEnd(end_body, "endraw");
      if (!after)
        continue;
      uint32_t begin = content, end = end_open;
      if (strip_content_begin)
        begin = skipSpace(begin);
      if (strip_content_end)
        while (end > begin && isSpace(text_[end - 1]))
          --end;
      if (end > begin)
        tokens.push_back({Token::Data, "", begin, end});
      strip_next = text_[after - 3] == '-';
      pos = after;
      return true;
    }
    diags_.error(range(open, content), "\"{% raw %}\" is not closed").hint =
        "end the raw text with {% endraw %}";
    return false;
  }

  // The tokens of a {{ }} or {% %} up to its closer; returns the offset after the closer.
  std::optional<uint32_t> lexInside(char kind, size_t open, uint32_t at, std::vector<Token> &tokens,
                                    bool &strip_next) {
    char closer = kind == '{' ? '}' : '%';
    int depth = 0; // open braces: a "}}" closing a dict literal does not end the expression
    while (true) {
      at = skipSpace(at);
      if (at >= text_.size()) {
        unterminated(open, kind == '{' ? "expression" : "tag", kind == '{' ? "}}" : "%}");
        return std::nullopt;
      }
      char c = text_[at];
      auto closes = [&](uint32_t i) {
        return depth == 0 && i + 1 < text_.size() && text_[i] == closer && text_[i + 1] == '}';
      };
      if (closes(at) || ((c == '-' || c == '+') && closes(at + 1))) {
        uint32_t closer_begin = c == '-' || c == '+' ? at + 1 : at;
        strip_next = c == '-';
        tokens.push_back({kind == '{' ? Token::VariableEnd : Token::BlockEnd,
                          kind == '{' ? "}}" : "%}", at, closer_begin + 2});
        return closer_begin + 2;
      }
      Token token;
      token.begin = at;
      if (isNameStart(c)) {
        while (at < text_.size() && isNameChar(text_[at]))
          ++at;
        token.kind = Token::Name;
        token.text = std::string(text_.substr(token.begin, at - token.begin));
      } else if (isDigit(c)) {
        token.kind = Token::Integer;
        while (at < text_.size() && (isDigit(text_[at]) || text_[at] == '_'))
          ++at;
        if (at + 1 < text_.size() && text_[at] == '.' && isDigit(text_[at + 1])) {
          token.kind = Token::Float;
          for (++at; at < text_.size() && (isDigit(text_[at]) || text_[at] == '_');)
            ++at;
        }
        if (at < text_.size() && (text_[at] == 'e' || text_[at] == 'E')) {
          uint32_t exponent = at + 1;
          if (exponent < text_.size() && (text_[exponent] == '+' || text_[exponent] == '-'))
            ++exponent;
          if (exponent < text_.size() && isDigit(text_[exponent])) {
            token.kind = Token::Float;
            for (at = exponent; at < text_.size() && isDigit(text_[at]);)
              ++at;
          }
        }
        for (char digit : text_.substr(token.begin, at - token.begin))
          if (digit != '_')
            token.text += digit;
      } else if (c == '\'' || c == '"') {
        token.kind = Token::String;
        for (++at; at < text_.size() && text_[at] != c; ++at) {
          if (text_[at] == '\\' && at + 1 < text_.size()) {
            char escaped = text_[++at];
            switch (escaped) {
            case 'n':
              token.text += '\n';
              break;
            case 't':
              token.text += '\t';
              break;
            case 'r':
              token.text += '\r';
              break;
            case '\\':
            case '\'':
            case '"':
              token.text += escaped;
              break;
            default:
              token.text += '\\';
              token.text += escaped;
              break;
            }
          } else {
            token.text += text_[at];
          }
        }
        if (at >= text_.size()) {
          diags_.error(range(token.begin, token.begin + 1), "unterminated string literal");
          return std::nullopt;
        }
        ++at;
      } else {
        static constexpr std::string_view kTwoCharOperators[] = {
            "**", "//", "==", "!=", "<=", ">="};
        token.kind = Token::Operator;
        std::string_view two = text_.substr(at, 2);
        bool is_two = false;
        for (std::string_view op : kTwoCharOperators)
          is_two |= two == op;
        if (is_two) {
          token.text = std::string(two);
          at += 2;
        } else if (std::string_view("+-*/%~|.,:()[]{}=<>").find(c) != std::string_view::npos) {
          token.text = std::string(1, c);
          ++at;
          if (c == '{')
            ++depth;
          if (c == '}' && depth > 0)
            --depth;
        } else {
          diags_.error(range(at, at + 1), std::string("unexpected character \"") + c +
                                              "\" in a Jinja " +
                                              (kind == '{' ? "expression" : "tag"));
          return std::nullopt;
        }
      }
      token.end = at;
      tokens.push_back(std::move(token));
    }
  }

  FileId file_;
  std::string_view text_;
  DiagnosticEngine &diags_;
};

// Thrown to abandon a parse after reporting its first error (Jinja reports one syntax error).
struct SyntaxError {};

// Tags that end a block, each with the tag that opens it.
struct BlockEnd {
  std::string_view end;
  std::string_view opener;
};

class Parser {
public:
  Parser(FileId file, std::string_view text, std::vector<Token> tokens, DiagnosticEngine &diags)
      : file_(file), text_(text), tokens_(std::move(tokens)), diags_(diags) {
    tokens_.push_back(
        {Token::End, "", static_cast<uint32_t>(text.size()), static_cast<uint32_t>(text.size())});
  }

  bool parse(Body &body) {
    try {
      std::string_view end = parseBody(body, {});
      (void)end;
      return true;
    } catch (const SyntaxError &) {
      return false;
    }
  }

private:
  // --- Tokens.

  SourceRange range(uint32_t begin, uint32_t end) const { return {{file_, begin}, end - begin}; }
  SourceRange range(const Token &token) const { return range(token.begin, token.end); }
  SourceRange span(const SourceRange &from, const SourceRange &to) const {
    return range(from.begin.offset, to.begin.offset + to.length);
  }
  const Token &peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token &next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool isOp(const Token &token, std::string_view op) const {
    return token.kind == Token::Operator && token.text == op;
  }
  bool isName(const Token &token, std::string_view name) const {
    return token.kind == Token::Name && token.text == name;
  }
  bool acceptOp(std::string_view op) {
    if (!isOp(peek(), op))
      return false;
    ++pos_;
    return true;
  }
  bool acceptName(std::string_view name) {
    if (!isName(peek(), name))
      return false;
    ++pos_;
    return true;
  }
  static std::string describe(const Token &token) {
    switch (token.kind) {
    case Token::Data:
      return "text";
    case Token::VariableEnd:
      return "the end of the expression \"}}\"";
    case Token::BlockEnd:
      return "the end of the tag \"%}\"";
    case Token::End:
      return "the end of the file";
    case Token::String:
      return "a string";
    case Token::Integer:
    case Token::Float:
      return "the number " + token.text;
    default:
      return "\"" + token.text + "\"";
    }
  }
  [[noreturn]] void error(SourceRange at, std::string message, std::string hint = "") {
    diags_.error(at, std::move(message)).hint = std::move(hint);
    throw SyntaxError{};
  }
  [[noreturn]] void unexpected(const Token &token, std::string_view expected) {
    error(range(token), "expected " + std::string(expected) + ", found " + describe(token));
  }
  void expectOp(std::string_view op) {
    if (!acceptOp(op))
      unexpected(peek(), "\"" + std::string(op) + "\"");
  }
  Token expectNameToken(std::string_view what) {
    if (peek().kind != Token::Name)
      unexpected(peek(), what);
    return next();
  }
  void expectBlockEnd() {
    if (peek().kind != Token::BlockEnd)
      unexpected(peek(), "the end of the tag \"%}\"");
    ++pos_;
  }

  // --- Statements.

  // Parses statements until one of `ends` (a tag name); returns the tag found, with the parser
  // after its name. At the top level (no ends) parses to the end of the file.
  std::string_view parseBody(Body &body, std::initializer_list<std::string_view> ends,
                             SourceRange opener = {}, std::string_view opener_name = "") {
    while (true) {
      const Token &token = peek();
      switch (token.kind) {
      case Token::End:
        if (ends.size() == 0)
          return "";
        error(opener, "\"{% " + std::string(opener_name) + " %}\" is not closed",
              "close it with {% " + std::string(*ends.begin()) + " %}");
      case Token::Data:
        body.push_back(std::make_unique<Node>(Node::Kind::Data, range(token)));
        ++pos_;
        break;
      case Token::VariableBegin: {
        uint32_t begin = next().begin;
        if (peek().kind == Token::VariableEnd)
          error(range(begin, peek().end), "empty Jinja expression");
        ExprPtr expr = parseTuple();
        if (peek().kind != Token::VariableEnd)
          unexpected(peek(), "the end of the expression \"}}\"");
        auto node = std::make_unique<Node>(Node::Kind::Output, range(begin, next().end));
        node->expr = std::move(expr);
        body.push_back(std::move(node));
        break;
      }
      case Token::BlockBegin: {
        uint32_t begin = next().begin;
        Token tag = peek();
        if (tag.kind != Token::Name)
          unexpected(tag, "a tag name");
        for (std::string_view end : ends)
          if (tag.text == end) {
            ++pos_;
            return end;
          }
        ++pos_;
        parseTag(body, tag, begin);
        break;
      }
      default:
        unexpected(token, "text");
      }
    }
  }

  SourceRange tagRange(uint32_t begin) const {
    // Up to the tag's "%}" (for the opening tag of a block).
    for (size_t i = pos_; i < tokens_.size(); ++i)
      if (tokens_[i].kind == Token::BlockEnd || tokens_[i].kind == Token::End)
        return range(begin, tokens_[i].end);
    return range(begin, begin + 2);
  }

  void parseTag(Body &body, const Token &tag, uint32_t begin) {
    Nested nested(*this, begin);
    SourceRange opener = tagRange(begin);
    const std::string &name = tag.text;
    if (name == "if")
      return parseIf(body, opener);
    if (name == "for")
      return parseFor(body, opener);
    if (name == "set")
      return parseSet(body, opener);
    if (name == "macro" || name == "test")
      return parseMacro(body, opener, name);
    if (name == "call")
      return parseCallBlock(body, opener);
    if (name == "filter")
      return parseFilterBlock(body, opener);
    if (name == "do") {
      auto node = std::make_unique<Node>(Node::Kind::Do, opener);
      node->expr = parseTuple();
      expectBlockEnd();
      body.push_back(std::move(node));
      return;
    }
    static constexpr std::string_view kEnds[] = {"endif",   "endfor",  "endset",    "endmacro",
                                                 "endtest", "endcall", "endfilter", "elif",
                                                 "else",    "endraw"};
    for (std::string_view end : kEnds)
      if (name == end)
        error(opener, "unexpected \"{% " + name + " %}\"",
              "no open block here ends with it; check the nesting of the blocks above");
    std::string hint;
    if (name == "include" || name == "import" || name == "from" || name == "extends" ||
        name == "block")
      hint = "put shared SQL in a macro under macro-paths and call it";
    else if (name == "materialization" || name == "snapshot")
      hint = "Kiln builds every model as a maintained view; custom materializations and "
             "snapshots are not supported";
    else if (name == "docs")
      hint = "docs blocks belong in .md files, which Kiln does not read";
    error(opener, "unsupported Jinja tag \"{% " + name + " %}\"", hint);
  }

  void parseIf(Body &body, SourceRange opener) {
    auto node = std::make_unique<Node>(Node::Kind::If, opener);
    ExprPtr condition = parseTuple();
    expectBlockEnd();
    while (true) {
      Body branch;
      std::string_view end = parseBody(branch, {"elif", "else", "endif"}, opener, "if");
      node->branches.emplace_back(std::move(condition), std::move(branch));
      if (end == "elif") {
        condition = parseTuple();
        expectBlockEnd();
        continue;
      }
      expectBlockEnd();
      if (end == "else") {
        parseBody(node->else_body, {"endif"}, opener, "if");
        expectBlockEnd();
      }
      break;
    }
    body.push_back(std::move(node));
  }

  // A target of for or set: names, or names separated by commas; set also takes ns.attribute.
  std::vector<ExprPtr> parseTargets(bool attributes) {
    std::vector<ExprPtr> targets;
    bool parenthesized = acceptOp("(");
    do {
      Token name = expectNameToken("a variable name");
      auto target = std::make_unique<Expr>(Expr::Kind::Name, range(name));
      target->name = name.text;
      if (attributes && isOp(peek(), ".")) {
        ++pos_;
        Token attribute = expectNameToken("an attribute name");
        auto outer =
            std::make_unique<Expr>(Expr::Kind::Attribute, range(name.begin, attribute.end));
        outer->name = attribute.text;
        outer->operands.push_back(std::move(target));
        target = std::move(outer);
      }
      targets.push_back(std::move(target));
    } while (acceptOp(","));
    if (parenthesized)
      expectOp(")");
    return targets;
  }

  void parseFor(Body &body, SourceRange opener) {
    auto node = std::make_unique<Node>(Node::Kind::For, opener);
    node->targets = parseTargets(false);
    if (!acceptName("in"))
      unexpected(peek(), "\"in\"");
    node->expr = parseTuple(/*with_condition=*/false);
    if (acceptName("if"))
      node->condition = parseExpression();
    if (acceptName("recursive"))
      error(range(tokens_[pos_ - 1]), "recursive loops are not supported");
    expectBlockEnd();
    std::string_view end = parseBody(node->body, {"else", "endfor"}, opener, "for");
    expectBlockEnd();
    if (end == "else") {
      parseBody(node->else_body, {"endfor"}, opener, "for");
      expectBlockEnd();
    }
    body.push_back(std::move(node));
  }

  void parseSet(Body &body, SourceRange opener) {
    std::vector<ExprPtr> targets = parseTargets(true);
    if (acceptOp("=")) {
      auto node = std::make_unique<Node>(Node::Kind::Set, opener);
      node->targets = std::move(targets);
      node->expr = parseTuple();
      expectBlockEnd();
      body.push_back(std::move(node));
      return;
    }
    // {% set name %}...{% endset %}, with optional filters.
    if (targets.size() != 1 || targets[0]->kind != Expr::Kind::Name)
      unexpected(peek(), "\"=\"");
    auto node = std::make_unique<Node>(Node::Kind::SetBlock, opener);
    node->name = targets[0]->name;
    while (acceptOp("|"))
      node->filters.push_back(parseFilter(nullptr));
    expectBlockEnd();
    parseBody(node->body, {"endset"}, opener, "set");
    expectBlockEnd();
    body.push_back(std::move(node));
  }

  std::vector<Param> parseParams() {
    std::vector<Param> params;
    expectOp("(");
    while (!acceptOp(")")) {
      if (!params.empty())
        expectOp(",");
      if (acceptOp(")"))
        break;
      Token name = expectNameToken("a parameter name");
      Param param{name.text, range(name), nullptr};
      if (acceptOp("="))
        param.default_value = parseExpression();
      else if (!params.empty() && params.back().default_value)
        error(range(name),
              "parameter \"" + name.text + "\" has no default but follows one that does");
      params.push_back(std::move(param));
    }
    return params;
  }

  void parseMacro(Body &body, SourceRange opener, const std::string &tag) {
    auto node = std::make_unique<Node>(Node::Kind::Macro, opener);
    Token name = expectNameToken("a macro name");
    // dbt's generic tests ({% test not_negative(model, column_name) %}) are macros named test_*.
    node->name = tag == "test" ? "test_" + name.text : name.text;
    node->params = parseParams();
    expectBlockEnd();
    std::string end = "end" + tag;
    parseBody(node->body, {end}, opener, tag);
    if (peek().kind == Token::Name && peek().text == name.text)
      ++pos_; // {% endmacro name %}
    expectBlockEnd();
    body.push_back(std::move(node));
  }

  void parseCallBlock(Body &body, SourceRange opener) {
    auto node = std::make_unique<Node>(Node::Kind::CallBlock, opener);
    if (isOp(peek(), "("))
      node->params = parseParams();
    node->expr = parseExpression();
    if (node->expr->kind != Expr::Kind::Call)
      error(node->expr->range, "{% call %} takes a macro call, e.g. {% call my_macro() %}");
    expectBlockEnd();
    parseBody(node->body, {"endcall"}, opener, "call");
    expectBlockEnd();
    body.push_back(std::move(node));
  }

  void parseFilterBlock(Body &body, SourceRange opener) {
    auto node = std::make_unique<Node>(Node::Kind::FilterBlock, opener);
    do
      node->filters.push_back(parseFilter(nullptr));
    while (acceptOp("|"));
    expectBlockEnd();
    parseBody(node->body, {"endfilter"}, opener, "filter");
    expectBlockEnd();
    body.push_back(std::move(node));
  }

  // --- Expressions.

  ExprPtr make(Expr::Kind kind, SourceRange at) { return std::make_unique<Expr>(kind, at); }
  // A chain of binary operators is a tree as deep as the chain is long (evaluation recurses down
  // it), so its length counts as nesting too.
  ExprPtr binary(Expr::Kind kind, std::string op, ExprPtr left, ExprPtr right) {
    int height = std::max(left->height, right->height) + 1;
    if (height > kMaxChain)
      error(right->range,
            "an expression chains more than " + std::to_string(kMaxChain) + " operators");
    auto node = make(kind, span(left->range, right->range));
    node->height = height;
    node->name = std::move(op);
    node->operands.push_back(std::move(left));
    node->operands.push_back(std::move(right));
    return node;
  }

  // An expression, or several separated by commas (a tuple, as in {% set a, b = 1, 2 %}).
  ExprPtr parseTuple(bool with_condition = true) {
    ExprPtr first = with_condition ? parseExpression() : parseOr();
    if (!isOp(peek(), ","))
      return first;
    auto tuple = make(Expr::Kind::List, first->range);
    tuple->operands.push_back(std::move(first));
    while (acceptOp(",")) {
      if (peek().kind == Token::VariableEnd || peek().kind == Token::BlockEnd)
        break;
      tuple->operands.push_back(with_condition ? parseExpression() : parseOr());
    }
    tuple->range = span(tuple->range, tuple->operands.back()->range);
    return tuple;
  }

  // Nesting (parentheses, brackets, blocks in blocks) is bounded, so that no template can
  // exhaust the stack; Jinja2 stops at Python's recursion limit.
  struct Nested {
    Parser &parser;
    explicit Nested(Parser &parser, uint32_t at) : parser(parser) {
      if (++parser.depth_ > kMaxDepth)
        parser.error(parser.range(at, at + 1),
                     "the template nests more than " + std::to_string(kMaxDepth) + " levels deep");
    }
    ~Nested() { --parser.depth_; }
  };
  static constexpr int kMaxDepth = 200;
  static constexpr int kMaxChain = 1000;

  ExprPtr parseExpression() {
    Nested nested(*this, peek().begin);
    ExprPtr value = parseOr();
    while (acceptName("if")) {
      ExprPtr condition = parseOr();
      ExprPtr otherwise = acceptName("else") ? parseExpression() : nullptr;
      auto node = make(Expr::Kind::Conditional,
                       span(value->range, otherwise ? otherwise->range : condition->range));
      node->operands.push_back(std::move(value));
      node->operands.push_back(std::move(condition));
      node->operands.push_back(std::move(otherwise));
      value = std::move(node);
    }
    return value;
  }

  ExprPtr parseOr() {
    ExprPtr left = parseAnd();
    while (acceptName("or"))
      left = binary(Expr::Kind::Or, "or", std::move(left), parseAnd());
    return left;
  }

  ExprPtr parseAnd() {
    ExprPtr left = parseNot();
    while (acceptName("and"))
      left = binary(Expr::Kind::And, "and", std::move(left), parseNot());
    return left;
  }

  ExprPtr parseNot() {
    if (isName(peek(), "not")) {
      SourceRange at = range(next());
      ExprPtr operand = parseNot();
      auto node = make(Expr::Kind::Not, span(at, operand->range));
      node->operands.push_back(std::move(operand));
      return node;
    }
    return parseCompare();
  }

  ExprPtr parseCompare() {
    ExprPtr left = parseMath1();
    auto compare = make(Expr::Kind::Compare, left->range);
    compare->operands.push_back(std::move(left));
    while (true) {
      const Token &token = peek();
      std::string op;
      if (token.kind == Token::Operator &&
          (token.text == "==" || token.text == "!=" || token.text == "<" || token.text == "<=" ||
           token.text == ">" || token.text == ">=")) {
        op = token.text;
        ++pos_;
      } else if (isName(token, "in")) {
        op = "in";
        ++pos_;
      } else if (isName(token, "not") && isName(peek(1), "in")) {
        op = "not in";
        pos_ += 2;
      } else {
        break;
      }
      compare->ops.push_back(op);
      compare->operands.push_back(parseMath1());
    }
    if (compare->ops.empty())
      return std::move(compare->operands[0]);
    compare->range = span(compare->operands.front()->range, compare->operands.back()->range);
    return compare;
  }

  ExprPtr parseMath1() {
    ExprPtr left = parseConcat();
    while (isOp(peek(), "+") || isOp(peek(), "-")) {
      std::string op = next().text;
      left = binary(Expr::Kind::Binary, op, std::move(left), parseConcat());
    }
    return left;
  }

  ExprPtr parseConcat() {
    ExprPtr left = parseMath2();
    while (acceptOp("~"))
      left = binary(Expr::Kind::Binary, "~", std::move(left), parseMath2());
    return left;
  }

  ExprPtr parseMath2() {
    ExprPtr left = parsePow();
    while (isOp(peek(), "*") || isOp(peek(), "/") || isOp(peek(), "//") || isOp(peek(), "%")) {
      std::string op = next().text;
      left = binary(Expr::Kind::Binary, op, std::move(left), parsePow());
    }
    return left;
  }

  ExprPtr parsePow() {
    ExprPtr left = parseUnary(true);
    while (acceptOp("**"))
      left = binary(Expr::Kind::Binary, "**", std::move(left), parseUnary(true));
    return left;
  }

  ExprPtr parseUnary(bool with_filter) {
    ExprPtr node;
    if (isOp(peek(), "-") || isOp(peek(), "+")) {
      Nested nested(*this, peek().begin);
      Token sign = next();
      ExprPtr operand = parseUnary(false);
      node = make(sign.text == "-" ? Expr::Kind::Negate : Expr::Kind::Plus,
                  span(range(sign), operand->range));
      node->operands.push_back(std::move(operand));
    } else {
      node = parsePostfix(parsePrimary());
    }
    if (with_filter)
      node = parseFiltersAndTests(std::move(node));
    return node;
  }

  ExprPtr parsePrimary() {
    Token token = next();
    switch (token.kind) {
    case Token::Name: {
      if (token.text == "true" || token.text == "True")
        return literal(Value(true), token);
      if (token.text == "false" || token.text == "False")
        return literal(Value(false), token);
      if (token.text == "none" || token.text == "None")
        return literal(Value::none(), token);
      auto node = make(Expr::Kind::Name, range(token));
      node->name = token.text;
      return node;
    }
    case Token::String: {
      // Adjacent strings concatenate, as in Python.
      std::string text = token.text;
      uint32_t end = token.end;
      while (peek().kind == Token::String) {
        text += peek().text;
        end = next().end;
      }
      auto node = make(Expr::Kind::Literal, range(token.begin, end));
      node->literal = Value(text);
      return node;
    }
    case Token::Integer: {
      int64_t value = 0;
      auto [ptr, ec] =
          std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
      if (ec != std::errc())
        error(range(token), "integer literal " + token.text + " is out of range");
      return literal(Value(value), token);
    }
    case Token::Float:
      // Beyond a double's range it is inf, as Python's float() reads it.
      return literal(Value(std::strtod(token.text.c_str(), nullptr)), token);
    case Token::Operator:
      if (token.text == "(") {
        if (acceptOp(")")) {
          auto empty = make(Expr::Kind::List, range(token.begin, tokens_[pos_ - 1].end));
          return empty;
        }
        ExprPtr inner = parseTuple();
        expectOp(")");
        return inner;
      }
      if (token.text == "[") {
        auto list = make(Expr::Kind::List, range(token));
        while (!acceptOp("]")) {
          if (!list->operands.empty()) {
            if (!acceptOp(","))
              unexpected(peek(), "\",\" or \"]\"");
            if (acceptOp("]"))
              break;
          }
          list->operands.push_back(parseExpression());
        }
        list->range = range(token.begin, tokens_[pos_ - 1].end);
        return list;
      }
      if (token.text == "{") {
        auto dict = make(Expr::Kind::Dict, range(token));
        while (!acceptOp("}")) {
          if (!dict->operands.empty()) {
            if (!acceptOp(","))
              unexpected(peek(), "\",\" or \"}\"");
            if (acceptOp("}"))
              break;
          }
          dict->operands.push_back(parseExpression());
          expectOp(":");
          dict->operands.push_back(parseExpression());
        }
        dict->range = range(token.begin, tokens_[pos_ - 1].end);
        return dict;
      }
      break;
    default:
      break;
    }
    --pos_;
    unexpected(token, "an expression");
  }

  ExprPtr literal(Value value, const Token &token) {
    auto node = make(Expr::Kind::Literal, range(token));
    node->literal = std::move(value);
    return node;
  }

  // Arguments of a call, filter or test, after "(": positional, then keyword (name=value).
  void parseArguments(Expr &call) {
    while (!acceptOp(")")) {
      if (call.keywords.size() > 0) {
        if (!acceptOp(","))
          unexpected(peek(), "\",\" or \")\"");
        if (acceptOp(")"))
          break;
      }
      if (isOp(peek(), "*"))
        error(range(peek()), "*args and **kwargs in calls are not supported");
      if (peek().kind == Token::Name && isOp(peek(1), "=")) {
        Token keyword = next();
        ++pos_;
        call.keywords.push_back(keyword.text);
        call.keyword_ranges.push_back(range(keyword));
      } else {
        if (!call.keywords.empty() && !call.keywords.back().empty())
          error(range(peek()), "a positional argument follows a keyword argument");
        call.keywords.emplace_back();
        call.keyword_ranges.emplace_back();
      }
      call.operands.push_back(parseExpression());
    }
  }

  ExprPtr parsePostfix(ExprPtr node) {
    while (true) {
      if (acceptOp(".")) {
        const Token &name = peek();
        if (name.kind != Token::Name && name.kind != Token::Integer)
          unexpected(name, "an attribute name");
        ++pos_;
        auto attribute = make(Expr::Kind::Attribute, span(node->range, range(name)));
        attribute->name = name.text;
        attribute->operands.push_back(std::move(node));
        node = std::move(attribute);
      } else if (acceptOp("[")) {
        ExprPtr parts[3];
        bool slice = false;
        for (int part = 0; part < 3; ++part) {
          if (!isOp(peek(), ":") && !isOp(peek(), "]"))
            parts[part] = parseExpression();
          if (part == 2 || !acceptOp(":"))
            break;
          slice = true;
        }
        expectOp("]");
        auto item = make(slice ? Expr::Kind::Slice : Expr::Kind::Item,
                         span(node->range, range(tokens_[pos_ - 1])));
        if (!slice && !parts[0])
          error(item->range, "empty subscript");
        item->operands.push_back(std::move(node));
        for (int part = 0; part < (slice ? 3 : 1); ++part)
          item->operands.push_back(std::move(parts[part]));
        node = std::move(item);
      } else if (acceptOp("(")) {
        auto call = make(Expr::Kind::Call, node->range);
        call->operands.push_back(std::move(node));
        parseArguments(*call);
        call->range = span(call->range, range(tokens_[pos_ - 1]));
        node = std::move(call);
      } else {
        return node;
      }
    }
  }

  // `| name(args)` applied to `subject` (null in {% filter %} and {% set x | f %}).
  ExprPtr parseFilter(ExprPtr subject) {
    Token name = expectNameToken("a filter name");
    std::string full = name.text;
    while (isOp(peek(), ".") && peek(1).kind == Token::Name) {
      full += "." + peek(1).text;
      pos_ += 2;
    }
    auto filter =
        make(Expr::Kind::Filter, subject ? span(subject->range, range(name)) : range(name));
    filter->name = full;
    filter->operands.push_back(std::move(subject));
    if (acceptOp("("))
      parseArguments(*filter);
    filter->range.length = tokens_[pos_ - 1].end - filter->range.begin.offset;
    return filter;
  }

  ExprPtr parseFiltersAndTests(ExprPtr node) {
    while (true) {
      if (acceptOp("|")) {
        node = parseFilter(std::move(node));
      } else if (acceptName("is")) {
        bool negated = acceptName("not");
        Token name = expectNameToken("a test name");
        auto test = make(Expr::Kind::Test, span(node->range, range(name)));
        test->name = name.text;
        test->negated = negated;
        test->operands.push_back(std::move(node));
        if (acceptOp("(")) {
          parseArguments(*test);
        } else if (peek().kind == Token::String || peek().kind == Token::Integer ||
                   peek().kind == Token::Float ||
                   (peek().kind == Token::Name && !isName(peek(), "and") && !isName(peek(), "or") &&
                    !isName(peek(), "if") && !isName(peek(), "else") && !isName(peek(), "is") &&
                    !isName(peek(), "in") && !isName(peek(), "not"))) {
          // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
          test->operands.push_back(parsePostfix(parsePrimary()));
          test->keywords.emplace_back();
          test->keyword_ranges.emplace_back();
        }
        test->range.length = tokens_[pos_ - 1].end - test->range.begin.offset;
        node = std::move(test);
      } else {
        return node;
      }
    }
  }

  FileId file_;
  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  DiagnosticEngine &diags_;
};

} // namespace

std::shared_ptr<const Template> parseTemplate(const SourceManager &sources, FileId file,
                                              DiagnosticEngine &diags) {
  auto parsed = std::make_shared<Template>();
  parsed->file = file;
  parsed->text = sources.text(file);
  std::vector<Token> tokens;
  if (!Lexer(file, parsed->text, diags).lex(tokens))
    return nullptr;
  if (!Parser(file, parsed->text, std::move(tokens), diags).parse(parsed->body))
    return nullptr;
  return parsed;
}

} // namespace kiln::jinja
