#include "Tokens.h"

#include <algorithm>
#include <cstring>

namespace kiln::frontend {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
// PostgreSQL's ident_start and ident_cont: any byte >= 0x80 is a letter (UTF-8 names).
bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool isNameChar(char c) { return isNameStart(c) || isDigit(c) || c == '$'; }
bool isOperatorChar(char c) { return c != '\0' && std::strchr("~!@#^&|`?+-*/%<>=", c) != nullptr; }

class Scanner {
public:
  explicit Scanner(std::string_view text) : s_(text) {}

  std::vector<TokenIndex::Token> run() {
    std::vector<TokenIndex::Token> tokens;
    while (skipSpaceAndComments()) {
      uint32_t begin = i_;
      TokenIndex::Kind kind = scanToken();
      tokens.push_back({begin, i_, kind});
    }
    return tokens;
  }

private:
  char peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }

  // Returns false at the end of the text. An unterminated block comment runs to the end.
  bool skipSpaceAndComments() {
    while (i_ < s_.size()) {
      if (isSpace(peek())) {
        ++i_;
      } else if (peek() == '-' && peek(1) == '-') {
        while (i_ < s_.size() && peek() != '\n')
          ++i_;
      } else if (peek() == '/' && peek(1) == '*') {
        i_ += 2;
        for (int depth = 1; depth > 0 && i_ < s_.size();) { // PostgreSQL nests block comments
          if (peek() == '/' && peek(1) == '*') {
            ++depth, i_ += 2;
          } else if (peek() == '*' && peek(1) == '/') {
            --depth, i_ += 2;
          } else {
            ++i_;
          }
        }
      } else {
        return true;
      }
    }
    return false;
  }

  TokenIndex::Kind scanToken() {
    char c = peek();
    if (isNameStart(c)) {
      // Prefixed strings: E'...' (backslash escapes), B'...', X'...', N'...', U&'...', U&"...".
      char p = c | 0x20; // ASCII lower case
      if (std::strchr("ebxn", p) && peek(1) == '\'') {
        ++i_;
        return quoted('\'', /*backslash=*/p == 'e');
      }
      if (p == 'u' && peek(1) == '&' && (peek(2) == '\'' || peek(2) == '"')) {
        i_ += 2;
        return quoted(peek(), /*backslash=*/false);
      }
      while (isNameChar(peek()))
        ++i_;
      return TokenIndex::Kind::Word;
    }
    if (c == '\'' || c == '"')
      return quoted(c, false);
    if (c == '$')
      return dollar();
    if (isDigit(c) || (c == '.' && isDigit(peek(1))))
      return number();
    if (c == ':' && (peek(1) == ':' || peek(1) == '=')) {
      i_ += 2;
      return TokenIndex::Kind::Punct;
    }
    if (isOperatorChar(c))
      return op();
    ++i_;
    return TokenIndex::Kind::Punct;
  }

  // '...' or "..." with the quote doubled to escape it (and backslash escapes in E'...').
  TokenIndex::Kind quoted(char quote, bool backslash) {
    ++i_;
    while (i_ < s_.size()) {
      if (backslash && peek() == '\\') {
        i_ += 2;
      } else if (peek() == quote) {
        ++i_;
        if (peek() != quote)
          break;
        ++i_;
      } else {
        ++i_;
      }
    }
    i_ = std::min<uint32_t>(i_, s_.size());
    return quote == '"' ? TokenIndex::Kind::QuotedName : TokenIndex::Kind::String;
  }

  // $1 (a parameter), $tag$...$tag$ (a dollar-quoted string) or a lone $.
  TokenIndex::Kind dollar() {
    ++i_;
    if (isDigit(peek())) {
      while (isDigit(peek()))
        ++i_;
      return TokenIndex::Kind::Param;
    }
    uint32_t tag_begin = i_ - 1;
    if (isNameStart(peek()) || peek() == '$') {
      while (isNameChar(peek()) && peek() != '$')
        ++i_;
      if (peek() == '$') {
        ++i_;
        std::string_view tag = s_.substr(tag_begin, i_ - tag_begin);
        size_t close = s_.find(tag, i_);
        i_ = close == std::string_view::npos ? s_.size() : close + tag.size();
        return TokenIndex::Kind::String;
      }
      i_ = tag_begin + 1;
    }
    return TokenIndex::Kind::Punct;
  }

  TokenIndex::Kind number() {
    while (isDigit(peek()))
      ++i_;
    if (peek() == '.' && peek(1) != '.') { // `1..2` is not a number followed by `.2`
      ++i_;
      while (isDigit(peek()))
        ++i_;
    }
    char e = peek() | 0x20;
    if (e == 'e' &&
        (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
      i_ += 2;
      while (isDigit(peek()))
        ++i_;
    }
    return TokenIndex::Kind::Number;
  }

  // PostgreSQL's operator rule: a run of operator characters that stops before a comment, and
  // loses trailing + and - unless it contains one of ~ ! @ # % ^ & | ` ? (so `a<-1` is `<`, `-1`).
  TokenIndex::Kind op() {
    uint32_t begin = i_;
    while (isOperatorChar(peek())) {
      if (i_ > begin && ((peek() == '-' && peek(1) == '-') || (peek() == '/' && peek(1) == '*')))
        break;
      ++i_;
    }
    std::string_view text = s_.substr(begin, i_ - begin);
    if (text.size() > 1 && text.find_first_of("~!@#%^&|`?") == std::string_view::npos) {
      while (i_ > begin + 1 && (s_[i_ - 1] == '+' || s_[i_ - 1] == '-'))
        --i_;
    }
    return TokenIndex::Kind::Operator;
  }

  std::string_view s_;
  uint32_t i_ = 0;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z')
      y += 'a' - 'A';
    if (x != y)
      return false;
  }
  return true;
}

} // namespace

TokenIndex::TokenIndex(std::string_view text) : text_(text), tokens_(Scanner(text).run()) {}

std::string_view TokenIndex::text(size_t i) const {
  return text_.substr(tokens_[i].begin, tokens_[i].end - tokens_[i].begin);
}

bool TokenIndex::isWord(size_t i, std::string_view keyword) const {
  return tokens_[i].kind == Kind::Word && equalsIgnoreCase(text(i), keyword);
}

bool TokenIndex::isWordIn(size_t i, std::initializer_list<std::string_view> keywords) const {
  return std::any_of(keywords.begin(), keywords.end(),
                     [&](std::string_view k) { return isWord(i, k); });
}

std::optional<size_t> TokenIndex::firstFrom(uint32_t offset) const {
  auto it = std::lower_bound(tokens_.begin(), tokens_.end(), offset,
                             [](const Token &t, uint32_t o) { return t.begin < o; });
  if (it == tokens_.end())
    return std::nullopt;
  return it - tokens_.begin();
}

std::optional<size_t> TokenIndex::lastBefore(uint32_t offset) const {
  auto it = std::upper_bound(tokens_.begin(), tokens_.end(), offset,
                             [](uint32_t o, const Token &t) { return o < t.end; });
  if (it == tokens_.begin())
    return std::nullopt;
  return (it - tokens_.begin()) - 1;
}

std::optional<size_t> TokenIndex::at(uint32_t offset) const {
  // The last token starting at or before offset, if it reaches past it.
  auto it = std::upper_bound(tokens_.begin(), tokens_.end(), offset,
                             [](uint32_t o, const Token &t) { return o < t.begin; });
  if (it == tokens_.begin())
    return std::nullopt;
  --it;
  if (offset >= it->end)
    return std::nullopt;
  return it - tokens_.begin();
}

std::optional<size_t>
TokenIndex::wordBefore(uint32_t offset, std::initializer_list<std::string_view> keywords) const {
  auto last = lastBefore(offset);
  if (!last)
    return std::nullopt;
  for (size_t i = *last + 1; i-- > 0;) {
    if (isWordIn(i, keywords))
      return i;
  }
  return std::nullopt;
}

std::optional<size_t> TokenIndex::wordFrom(uint32_t offset,
                                           std::initializer_list<std::string_view> keywords) const {
  auto first = firstFrom(offset);
  if (!first)
    return std::nullopt;
  for (size_t i = *first; i < tokens_.size(); ++i) {
    if (isWordIn(i, keywords))
      return i;
  }
  return std::nullopt;
}

uint32_t TokenIndex::clippedLength(uint32_t begin, uint32_t end) const {
  std::string_view covered = text_.substr(begin, end - begin);
  return static_cast<uint32_t>(std::min(covered.size(), covered.find('\n')));
}

uint32_t TokenIndex::span(size_t first, size_t last) const {
  return clippedLength(tokens_[first].begin, tokens_[last].end);
}

uint32_t TokenIndex::extent(uint32_t offset) const {
  auto first = at(offset);
  if (!first)
    return 0;
  size_t last = *first;
  auto isName = [&](size_t i) {
    return tokens_[i].kind == Kind::Word || tokens_[i].kind == Kind::QuotedName;
  };
  if (isName(last)) {
    while (last + 2 < tokens_.size() && text(last + 1) == "." &&
           (isName(last + 2) || text(last + 2) == "*")) {
      last += 2;
      if (text(last) == "*")
        break;
    }
  }
  return clippedLength(offset, tokens_[last].end);
}

} // namespace kiln::frontend
