// Token boundaries of SQL text, following PostgreSQL's lexical rules.
//
// libpg_query reports only where a node starts. This index recovers where its token ends (so a
// caret underlines the whole token, or the whole dotted name), and finds keywords that have no
// node of their own in the parse tree (the SELECT of a subquery, the JOIN of a join).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

namespace kiln::frontend {

class TokenIndex {
public:
  enum class Kind { Word, QuotedName, String, Number, Operator, Param, Punct };
  struct Token {
    uint32_t begin, end;
    Kind kind;
  };

  explicit TokenIndex(std::string_view text);

  size_t size() const { return tokens_.size(); }
  const Token &operator[](size_t i) const { return tokens_[i]; }
  std::string_view text(size_t i) const;
  // True if token i is the (unquoted, case-insensitive) word `keyword`.
  bool isWord(size_t i, std::string_view keyword) const;
  bool isWordIn(size_t i, std::initializer_list<std::string_view> keywords) const;

  // The token that contains `offset`; nullopt if offset is in whitespace, a comment or past the
  // end.
  std::optional<size_t> at(uint32_t offset) const;
  // The first token that starts at or after `offset`, and the last that ends at or before it.
  std::optional<size_t> firstFrom(uint32_t offset) const;
  std::optional<size_t> lastBefore(uint32_t offset) const;
  // The nearest token before `offset`, or from `offset` on, that is one of `keywords`.
  std::optional<size_t> wordBefore(uint32_t offset,
                                   std::initializer_list<std::string_view> keywords) const;
  std::optional<size_t> wordFrom(uint32_t offset,
                                 std::initializer_list<std::string_view> keywords) const;

  // Length of the token at `offset`; a name is taken with its dotted parts (`s.t`, `t.*`). Never
  // crosses a line end, so a multi-line string underlines only its first line. 0 if no token.
  uint32_t extent(uint32_t offset) const;
  // From token `first` to the end of token `last`, clipped like extent().
  uint32_t span(size_t first, size_t last) const;

private:
  uint32_t clippedLength(uint32_t begin, uint32_t end) const;

  std::string_view text_;
  std::vector<Token> tokens_;
};

} // namespace kiln::frontend
