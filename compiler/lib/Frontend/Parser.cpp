#include "kiln/Frontend/Parser.h"

#include <pg_query.h>

#include <cstring>

#include "PgJson.h"
#include "Tokens.h"
#include "Transform.h"

namespace kiln::frontend {
namespace {

// PostgreSQL reports a syntax error's position in characters, counting from 1; ranges are bytes.
uint32_t cursorOffset(std::string_view text, int cursorpos) {
  uint32_t offset = 0;
  for (int position = 1; position < cursorpos && offset < text.size(); ++position) {
    ++offset;
    while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80)
      ++offset;
  }
  return offset;
}

// The first byte that does not start a well-formed UTF-8 sequence (lead byte and continuation
// bytes; overlong forms are not looked for), if any.
std::optional<uint32_t> invalidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (length == 0 || i + length > text.size())
      return static_cast<uint32_t>(i);
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
        return static_cast<uint32_t>(i);
    }
    i += length;
  }
  return std::nullopt;
}

// One run of libpg_query over a text: the text's statements, or the reported syntax error.
class ParsedText {
public:
  ParsedText(std::string_view sql, const RangeMapper &map_range, DiagnosticEngine &diags)
      : text_(sql), tokens_(text_), result_(pg_query_parse(text_.c_str())) {
    if (result_.error) {
      reportSyntaxError(map_range, diags);
      return;
    }
    simdjson::dom::element tree;
    if (json_.parse(result_.parse_tree, std::strlen(result_.parse_tree)).get(tree) !=
        simdjson::SUCCESS) {
      // libpg_query copies names and strings into its JSON byte for byte, and simdjson insists
      // on UTF-8.
      if (simdjson::validate_utf8(text_.data(), text_.size())) {
        diags.error(map_range(0, 0), "libpg_query produced an unreadable parse tree");
      } else {
        diags.error(map_range(invalidUtf8(text_).value_or(0), 1),
                    "the query text is not valid UTF-8");
      }
      return;
    }
    for (pg::Json raw : pg::list(tree.get_object().value_unsafe(), "stmts")) {
      pg::Object fields = raw.get_object().value_unsafe();
      auto stmt = pg::node(fields, "stmt");
      if (!stmt)
        continue;
      // A statement's text runs from stmt_location for stmt_len bytes (0: to the end of the
      // text); it starts at its first token and ends with its last before the semicolon.
      auto location = static_cast<uint32_t>(pg::integer(fields, "stmt_location"));
      auto length = static_cast<uint32_t>(pg::integer(fields, "stmt_len"));
      uint32_t end = length ? location + length : static_cast<uint32_t>(text_.size());
      auto first = tokens_.firstFrom(location);
      auto last = tokens_.lastBefore(end);
      while (last && first && *last > *first && tokens_.text(*last) == ";")
        --*last;
      RawStatement statement{*stmt, location, location};
      if (first && last && *last >= *first) {
        statement.begin = tokens_[*first].begin;
        statement.end = tokens_[*last].end;
      }
      statements_.push_back(statement);
    }
    ok_ = true;
  }
  ~ParsedText() { pg_query_free_parse_result(result_); }
  ParsedText(const ParsedText &) = delete;
  ParsedText &operator=(const ParsedText &) = delete;

  bool ok() const { return ok_; }
  const TokenIndex &tokens() const { return tokens_; }
  const std::vector<RawStatement> &statements() const { return statements_; }

private:
  // At the token PostgreSQL names ("syntax error at or near "frm""), or just after the last
  // token for "syntax error at end of input".
  void reportSyntaxError(const RangeMapper &map_range, DiagnosticEngine &diags) const {
    const PgQueryError &error = *result_.error;
    uint32_t offset = error.cursorpos > 0 ? cursorOffset(text_, error.cursorpos) : 0;
    SourceRange range;
    if (auto token = tokens_.at(offset)) {
      range = map_range(offset, tokens_.extent(offset));
    } else if (auto last = tokens_.lastBefore(offset); last && offset >= text_.size()) {
      range = map_range(tokens_[*last].end, 0);
    } else {
      range = map_range(offset, 0);
    }
    // The message quotes the text at the error, which for an unterminated string or comment
    // runs to the end of the input: keep its first line.
    std::string message = error.message;
    if (size_t newline = message.find('\n'); newline != std::string::npos)
      message = message.substr(0, newline) + "...\"";
    diags.error(range, std::move(message));
  }

  std::string text_; // NUL-terminated for libpg_query
  TokenIndex tokens_;
  PgQueryParseResult result_;
  simdjson::dom::parser json_;
  std::vector<RawStatement> statements_;
  bool ok_ = false;
};

} // namespace

RangeMapper identityMapper(FileId file) {
  return [file](uint32_t offset, uint32_t length) {
    return SourceRange{SourceLoc{file, offset}, length};
  };
}

std::unique_ptr<ast::SelectStmt> parseQuery(std::string_view sql, const RangeMapper &map_range,
                                            DiagnosticEngine &diags) {
  ParsedText parsed(sql, map_range, diags);
  if (!parsed.ok())
    return nullptr;
  Transformer transformer(parsed.tokens(), map_range, diags);
  const std::vector<RawStatement> &statements = parsed.statements();
  if (statements.empty()) {
    diags.error(map_range(0, 0), "expected a SELECT query, found nothing");
    return nullptr;
  }
  if (statements.size() > 1) {
    diags
        .error(transformer.statementStart(statements[1]),
               "expected one query, found a second statement")
        .hint = "a model is a single SELECT statement";
    return nullptr;
  }
  const RawStatement &statement = statements.front();
  if (!statement.node.is("SelectStmt")) {
    diags.error(transformer.statementStart(statement),
                "expected a SELECT query, found " + transformer.statementName(statement));
    return nullptr;
  }
  size_t errors = diags.errorCount();
  auto query = transformer.query(statement.node.fields, transformer.statementStart(statement));
  if (diags.errorCount() != errors)
    return nullptr;
  return query;
}

std::optional<std::vector<ast::Statement>>
parseScript(std::string_view sql, const RangeMapper &map_range, DiagnosticEngine &diags) {
  ParsedText parsed(sql, map_range, diags);
  if (!parsed.ok())
    return std::nullopt;
  Transformer transformer(parsed.tokens(), map_range, diags);
  size_t errors = diags.errorCount();
  std::vector<ast::Statement> statements;
  for (const RawStatement &statement : parsed.statements())
    transformer.statement(statement, statements);
  if (diags.errorCount() != errors)
    return std::nullopt;
  return statements;
}

} // namespace kiln::frontend
