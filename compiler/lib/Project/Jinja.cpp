// The Jinja subset of Kiln models: {{ ref() }}, {{ source() }}, {{ config() }}, {{ var() }} and
// {# comments #}, with Jinja's `-` whitespace control. Everything else is reported at its location
// rather than half-rendered.
#include "Loader.h"

#include "kiln/Support/Spelling.h"

#include <algorithm>
#include <cctype>

namespace kiln::project {
namespace {

constexpr std::string_view kSupported =
    "Kiln supports {{ ref() }}, {{ source() }}, {{ config() }} and {{ var() }}";

bool isSpace(char c) { return std::isspace(static_cast<unsigned char>(c)); }
bool isIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The construct's text with runs of whitespace collapsed, for quoting it in a message.
std::string collapse(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (isSpace(c)) {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  if (out.size() > 60)
    out = out.substr(0, 57) + "...";
  return out;
}

struct Token {
  enum Kind { Identifier, String, Number, Punct, End } kind = End;
  std::string text;            // identifier or number spelling, decoded string, or the punctuation
  uint32_t begin = 0, end = 0; // offsets in the model file
};

// A literal argument: Jinja's strings, numbers, true/false/none and lists of them.
struct Value {
  enum Kind { String, Number, Bool, None, List } kind = None;
  std::string text; // decoded string, number spelling, "true" or "false"
  std::vector<Value> items;
  SourceRange range;
};

struct Argument {
  std::string keyword; // empty for a positional argument
  SourceRange keyword_range;
  Value value;
};

struct Call {
  std::string function; // dotted for calls such as dbt_utils.star()
  std::vector<Argument> args;
  SourceRange range; // from the function name to the closing parenthesis
  size_t positional() const {
    return std::count_if(args.begin(), args.end(),
                         [](const Argument &a) { return a.keyword.empty(); });
  }
};

class ModelRenderer {
public:
  ModelRenderer(Model &model, ConnectorSettings &connector, std::string_view text,
                const std::map<std::string, std::string> &vars, DiagnosticEngine &diags)
      : model_(model), connector_(connector), text_(text), vars_(vars), diags_(diags) {}

  void render() {
    uint32_t copy_from = 0; // start of the verbatim text not yet copied
    uint32_t pos = 0;
    while (true) {
      size_t open = findOpen(pos);
      if (open == std::string_view::npos)
        break;

      char kind = text_[open + 1];
      uint32_t body_begin = open + 2;
      bool strip_before = body_begin < text_.size() && text_[body_begin] == '-';
      if (body_begin < text_.size() && (text_[body_begin] == '-' || text_[body_begin] == '+'))
        ++body_begin;
      size_t close = findClose(kind, body_begin);
      if (close == std::string_view::npos) {
        const char *what = kind == '{' ? "expression" : kind == '%' ? "tag" : "comment";
        const char *closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
        diags_.error(range(open, open + 2), std::string("unterminated Jinja ") + what + ": \"{" +
                                                kind + "\" has no matching \"" + closer + "\"");
        appendVerbatim(copy_from, open);
        return;
      }
      uint32_t end = close + 2;
      uint32_t body_end = close;
      bool strip_after = close > body_begin && text_[close - 1] == '-';
      if (close > body_begin && (text_[close - 1] == '-' || text_[close - 1] == '+'))
        --body_end;

      uint32_t verbatim_end = open;
      if (strip_before)
        while (verbatim_end > copy_from && isSpace(text_[verbatim_end - 1]))
          --verbatim_end;
      appendVerbatim(copy_from, verbatim_end);

      if (kind == '{') {
        if (std::optional<std::string> output = evaluate(body_begin, body_end, open, end))
          appendExpansion(*output, open, end);
      } else if (kind == '%') {
        reportTag(body_begin, body_end, open, end);
      } // a comment renders as nothing

      copy_from = end;
      if (strip_after)
        while (copy_from < text_.size() && isSpace(text_[copy_from]))
          ++copy_from;
      pos = copy_from;
    }
    appendVerbatim(copy_from, text_.size());
  }

private:
  SourceRange range(uint32_t begin, uint32_t end) const {
    return {{model_.file, begin}, end - begin};
  }

  // The next "{{", "{%" or "{#" at or after `from`.
  size_t findOpen(size_t from) const {
    for (size_t i = text_.find('{', from); i != std::string_view::npos && i + 1 < text_.size();
         i = text_.find('{', i + 1))
      if (text_[i + 1] == '{' || text_[i + 1] == '%' || text_[i + 1] == '#')
        return i;
    return std::string_view::npos;
  }

  // The offset of the delimiter closing a construct opened by "{<kind>", skipping string literals
  // in expressions and tags (so '}}' inside a string does not end them).
  size_t findClose(char kind, uint32_t from) const {
    if (kind == '#')
      return text_.find("#}", from);
    char closer = kind == '{' ? '}' : '%';
    for (size_t i = from; i + 1 < text_.size(); ++i) {
      char c = text_[i];
      if (c == '\'' || c == '"') {
        for (++i; i < text_.size() && text_[i] != c; ++i)
          if (text_[i] == '\\')
            ++i;
        if (i >= text_.size())
          return std::string_view::npos;
      } else if (c == closer && text_[i + 1] == '}') {
        return i;
      }
    }
    return std::string_view::npos;
  }

  void appendVerbatim(uint32_t begin, uint32_t end) {
    if (end <= begin)
      return;
    uint32_t rendered = model_.rendered_sql.size();
    model_.rendered_sql.append(text_.substr(begin, end - begin));
    model_.offsets.push_back({rendered, end - begin, begin, true, end - begin});
  }

  void appendExpansion(std::string_view output, uint32_t begin, uint32_t end) {
    if (output.empty())
      return;
    uint32_t rendered = model_.rendered_sql.size();
    model_.rendered_sql.append(output);
    model_.offsets.push_back(
        {rendered, static_cast<uint32_t>(output.size()), begin, false, end - begin});
  }

  void reportTag(uint32_t body_begin, uint32_t body_end, uint32_t open, uint32_t end) {
    std::string_view body = text_.substr(body_begin, body_end - body_begin);
    size_t word = 0;
    while (word < body.size() && isSpace(body[word]))
      ++word;
    size_t word_end = word;
    while (word_end < body.size() && isIdentChar(body[word_end]))
      ++word_end;
    std::string tag = std::string(body.substr(word, word_end - word));
    Diagnostic &error = diags_.error(range(open, end), "unsupported Jinja tag \"{% " +
                                                           (tag.empty() ? collapse(body) : tag) +
                                                           " %}\"; " + std::string(kSupported));
    if (body.find("is_incremental") != std::string_view::npos)
      error.hint = "every Kiln model is maintained incrementally; drop the is_incremental() block";
    else if (tag == "set")
      error.hint = "define the value under vars: in kiln_project.yml and use {{ var('name') }}";
  }

  // --- Expressions.

  std::vector<Token> lex(uint32_t begin, uint32_t end) {
    std::vector<Token> tokens;
    uint32_t i = begin;
    while (i < end) {
      char c = text_[i];
      if (isSpace(c)) {
        ++i;
        continue;
      }
      Token token;
      token.begin = i;
      if (isIdentStart(c)) {
        while (i < end && isIdentChar(text_[i]))
          ++i;
        token.kind = Token::Identifier;
        token.text = std::string(text_.substr(token.begin, i - token.begin));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        while (i < end && (std::isdigit(static_cast<unsigned char>(text_[i])) || text_[i] == '.'))
          ++i;
        token.kind = Token::Number;
        token.text = std::string(text_.substr(token.begin, i - token.begin));
      } else if (c == '\'' || c == '"') {
        token.kind = Token::String;
        for (++i; i < end && text_[i] != c; ++i) {
          if (text_[i] == '\\' && i + 1 < end) {
            char escaped = text_[++i];
            token.text += escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped;
          } else {
            token.text += text_[i];
          }
        }
        ++i; // the closing quote (findClose guarantees there is one)
      } else {
        token.kind = Token::Punct;
        token.text = std::string(1, c);
        ++i;
      }
      token.end = i;
      tokens.push_back(std::move(token));
    }
    Token end_token;
    end_token.begin = end_token.end = end;
    tokens.push_back(end_token);
    return tokens;
  }

  bool isPunct(const Token &token, char c) const {
    return token.kind == Token::Punct && token.text[0] == c;
  }

  // A literal at tokens[pos], advancing pos; reports anything else.
  std::optional<Value> parseValue(const std::vector<Token> &tokens, size_t &pos,
                                  const std::string &function) {
    const Token &token = tokens[pos];
    Value value;
    value.range = range(token.begin, token.end);
    if (token.kind == Token::String || token.kind == Token::Number) {
      value.kind = token.kind == Token::String ? Value::String : Value::Number;
      value.text = token.text;
      ++pos;
      return value;
    }
    if (isPunct(token, '-') && tokens[pos + 1].kind == Token::Number) {
      value.kind = Value::Number;
      value.text = "-" + tokens[pos + 1].text;
      value.range = range(token.begin, tokens[pos + 1].end);
      pos += 2;
      return value;
    }
    // env_var('NAME'[, 'default']) stays a call: the executable expands it when it starts
    // (connector settings only take it).
    if (token.kind == Token::Identifier && token.text == "env_var" &&
        isPunct(tokens[pos + 1], '(')) {
      size_t at = pos + 2;
      std::vector<std::string> arguments;
      while (tokens[at].kind == Token::String) {
        arguments.push_back(tokens[at++].text);
        if (isPunct(tokens[at], ','))
          ++at;
      }
      if (!isPunct(tokens[at], ')') || arguments.empty() || arguments.size() > 2) {
        diags_.error(range(token.begin, tokens[at].end),
                     "env_var() takes a variable's name and an optional default, e.g. "
                     "env_var('KAFKA_BROKERS', 'localhost:9092')");
        return std::nullopt;
      }
      value.kind = Value::String;
      value.text = "{{ env_var('" + arguments[0] + "'" +
                   (arguments.size() == 2 ? ", '" + arguments[1] + "'" : "") + ") }}";
      value.range = range(token.begin, tokens[at].end);
      pos = at + 1;
      return value;
    }
    if (token.kind == Token::Identifier) {
      std::string word = token.text;
      std::transform(word.begin(), word.end(), word.begin(), ::tolower);
      if (word == "true" || word == "false" || word == "none") {
        value.kind = word == "none" ? Value::None : Value::Bool;
        value.text = word;
        ++pos;
        return value;
      }
    }
    if (isPunct(token, '[')) {
      value.kind = Value::List;
      ++pos;
      while (!isPunct(tokens[pos], ']')) {
        std::optional<Value> item = parseValue(tokens, pos, function);
        if (!item)
          return std::nullopt;
        value.items.push_back(std::move(*item));
        if (isPunct(tokens[pos], ','))
          ++pos;
        else if (!isPunct(tokens[pos], ']'))
          return unexpected(tokens[pos], function);
      }
      value.range = range(token.begin, tokens[pos].end);
      ++pos;
      return value;
    }
    return unexpected(token, function);
  }

  std::nullopt_t unexpected(const Token &token, const std::string &function) {
    if (token.kind == Token::End)
      diags_.error(range(token.begin, token.end),
                   "missing \")\" in the call to " + function + "()");
    else
      diags_.error(range(token.begin, token.end), "unsupported argument to " + function +
                                                      "(); arguments must be literals such "
                                                      "as 'orders', 10 or true");
    return std::nullopt;
  }

  // The SQL that replaces {{ ... }}, or nullopt after reporting an error.
  std::optional<std::string> evaluate(uint32_t body_begin, uint32_t body_end, uint32_t open,
                                      uint32_t end) {
    std::vector<Token> tokens = lex(body_begin, body_end);
    std::string quoted =
        "\"{{ " + collapse(text_.substr(body_begin, body_end - body_begin)) + " }}\"";
    auto unsupported = [&]() -> std::nullopt_t {
      diags_.error(range(open, end),
                   "unsupported Jinja expression " + quoted + "; " + std::string(kSupported));
      return std::nullopt;
    };
    if (tokens[0].kind == Token::End) {
      diags_.error(range(open, end), "empty Jinja expression");
      return std::nullopt;
    }
    if (tokens[0].kind != Token::Identifier)
      return unsupported();

    Call call;
    size_t pos = 0;
    call.function = tokens[pos++].text;
    while (isPunct(tokens[pos], '.') && tokens[pos + 1].kind == Token::Identifier) {
      call.function += "." + tokens[pos + 1].text;
      pos += 2;
    }
    if (!isPunct(tokens[pos], '('))
      return unsupported();
    if (call.function != "ref" && call.function != "source" && call.function != "config" &&
        call.function != "var")
      return unsupportedFunction(call.function, tokens, pos);
    ++pos;
    while (!isPunct(tokens[pos], ')')) {
      Argument argument;
      if (tokens[pos].kind == Token::Identifier && isPunct(tokens[pos + 1], '=')) {
        argument.keyword = tokens[pos].text;
        argument.keyword_range = range(tokens[pos].begin, tokens[pos].end);
        pos += 2;
      }
      std::optional<Value> value = parseValue(tokens, pos, call.function);
      if (!value)
        return std::nullopt;
      argument.value = std::move(*value);
      call.args.push_back(std::move(argument));
      if (isPunct(tokens[pos], ','))
        ++pos;
      else if (!isPunct(tokens[pos], ')'))
        return unexpected(tokens[pos], call.function);
    }
    call.range = range(tokens[0].begin, tokens[pos].end);
    ++pos;

    if (isPunct(tokens[pos], '|')) {
      uint32_t filter_end =
          tokens[pos + 1].kind == Token::Identifier ? tokens[pos + 1].end : tokens[pos].end;
      diags_.error(range(tokens[pos].begin, filter_end),
                   "unsupported Jinja filter \"" +
                       collapse(text_.substr(tokens[pos].begin, filter_end - tokens[pos].begin)) +
                       "\"; " + std::string(kSupported));
      return std::nullopt;
    }
    if (tokens[pos].kind != Token::End)
      return unsupported();

    if (call.function == "ref")
      return ref(call);
    if (call.function == "source")
      return source(call);
    if (call.function == "config")
      return config(call);
    return var(call);
  }

  // Reports a call to a function outside the subset, located from its name to its ")" (whatever
  // its arguments are).
  std::nullopt_t unsupportedFunction(const std::string &function, const std::vector<Token> &tokens,
                                     size_t open_paren) {
    size_t close = open_paren;
    for (int depth = 0; tokens[close].kind != Token::End; ++close) {
      if (isPunct(tokens[close], '('))
        ++depth;
      if (isPunct(tokens[close], ')') && --depth == 0)
        break;
    }
    Diagnostic &error = diags_.error(range(tokens[0].begin, tokens[close].end),
                                     "unsupported Jinja function \"" + function + "()\"; " +
                                         std::string(kSupported));
    if (function == "is_incremental")
      error.hint = "every Kiln model is maintained incrementally; drop the is_incremental() check";
    return std::nullopt;
  }

  // --- The four functions.

  bool positionalStrings(const Call &call, size_t count) const {
    if (call.args.size() != count)
      return false;
    for (const Argument &argument : call.args)
      if (!argument.keyword.empty() || argument.value.kind != Value::String)
        return false;
    return true;
  }

  std::optional<std::string> ref(const Call &call) {
    if (!positionalStrings(call, 1)) {
      Diagnostic &error =
          diags_.error(call.range, "ref() expects one model name, e.g. {{ ref('stg_orders') }}");
      if (positionalStrings(call, 2))
        error.hint = "Kiln projects have no packages to ref into";
      return std::nullopt;
    }
    const std::string &name = call.args[0].value.text;
    if (std::find(model_.refs.begin(), model_.refs.end(), name) == model_.refs.end()) {
      model_.refs.push_back(name);
      model_.ref_ranges.push_back(call.range);
    }
    return sqlIdentifier(name);
  }

  std::optional<std::string> source(const Call &call) {
    if (!positionalStrings(call, 2)) {
      diags_.error(call.range, "source() expects a source name and a table name, e.g. "
                               "{{ source('shop', 'orders') }}");
      return std::nullopt;
    }
    std::pair<std::string, std::string> table{call.args[0].value.text, call.args[1].value.text};
    if (std::find(model_.sources.begin(), model_.sources.end(), table) == model_.sources.end()) {
      model_.sources.push_back(table);
      model_.source_ranges.push_back(call.range);
    }
    return sqlIdentifier(table.first) + "." + sqlIdentifier(table.second);
  }

  std::optional<std::string> config(const Call &call) {
    if (model_.config_range.valid()) {
      diags_.error(call.range, "config() is called twice in one model")
          .notes.emplace_back(model_.config_range, "first called here");
      return std::nullopt;
    }
    model_.config_range = call.range;
    bool ok = true;
    for (const Argument &argument : call.args) {
      if (argument.keyword.empty()) {
        diags_.error(argument.value.range, "config() takes keyword arguments, e.g. "
                                           "{{ config(materialized='sink') }}");
        ok = false;
        continue;
      }
      switch (classifyConfigKey(argument.keyword)) {
      case ConfigKey::Materialized:
        ok &= materialize(argument.value);
        break;
      case ConfigKey::Enabled:
        if (argument.value.kind == Value::Bool) {
          model_.enabled = argument.value.text == "true";
        } else {
          diags_.error(argument.value.range, "enabled must be true or false");
          ok = false;
        }
        break;
      case ConfigKey::Renames:
        diags_
            .warning(argument.keyword_range,
                     "config key \"" + argument.keyword + "\" is ignored by Kiln")
            .hint = kRenamingConfigHint;
        break;
      case ConfigKey::UniqueKey:
        ok &= uniqueKey(argument.value);
        break;
      case ConfigKey::Connector:
        ok &= connectorSetting(argument);
        break;
      case ConfigKey::Unused:
        break;
      case ConfigKey::Unknown:
        diags_.error(argument.keyword_range, "unsupported config key \"" + argument.keyword + "\"")
            .hint = "Kiln's config() takes materialized=, enabled=, unique_key= and a sink's "
                    "connector settings (connector=, format=, topic=, brokers=, path=, key=), "
                    "and accepts dbt's other model configs (tags, ...) without using them";
        ok = false;
        break;
      }
    }
    if (!ok)
      return std::nullopt;
    return "";
  }

  // connector='kafka', topic='revenue', key=['region', 'day'], brokers=env_var('BROKERS'), ...
  bool connectorSetting(const Argument &argument) {
    ConnectorSetting setting;
    setting.key_range = argument.keyword_range;
    setting.value_range = argument.value.range;
    const Value &value = argument.value;
    bool ok = value.kind == Value::String;
    if (argument.keyword == "key" && value.kind == Value::List) {
      ok = !value.items.empty();
      for (const Value &item : value.items) {
        ok &= item.kind == Value::String;
        setting.key.push_back(item.text);
      }
    } else if (argument.keyword == "key") {
      setting.key.push_back(value.text);
    }
    if (!ok) {
      diags_.error(value.range,
                   argument.keyword == "key"
                       ? "key takes a column name or a list of them, e.g. "
                         "key='id' or key=['region', 'day']"
                       : argument.keyword + " takes a string, e.g. " + argument.keyword + "='...'");
      return false;
    }
    setting.value = value.text;
    if (argument.keyword == "key") {
      setting.value.clear();
      for (const std::string &column : setting.key)
        setting.value += (setting.value.empty() ? "" : ",") + column;
    }
    connector_[argument.keyword] = std::move(setting);
    return true;
  }

  // unique_key='id' or unique_key=['order_id', 'line'], as dbt takes it.
  bool uniqueKey(const Value &value) {
    model_.unique_key.clear();
    model_.unique_key_range = value.range;
    if (value.kind == Value::String) {
      model_.unique_key.push_back(value.text);
      return true;
    }
    bool ok = value.kind == Value::List && !value.items.empty();
    for (const Value &item : value.items) {
      ok &= item.kind == Value::String;
      model_.unique_key.push_back(item.text);
    }
    if (!ok)
      diags_.error(value.range, "unique_key takes a column name or a list of them, e.g. "
                                "unique_key='id' or unique_key=['order_id', 'line']");
    return ok;
  }

  bool materialize(const Value &value) {
    if (value.kind == Value::String)
      if (std::optional<Materialization> kind = parseMaterialization(value.text)) {
        model_.materialization = *kind;
        model_.materialization_range = value.range;
        model_.materialization_in_model = true;
        return true;
      }
    std::string shown = value.kind == Value::String ? value.text : "?";
    diags_.error(value.range, "unsupported materialization \"" + shown + "\"").hint =
        kMaterializationHint;
    return false;
  }

  // A value as Jinja prints it: dbt's var() returns the value, and the model quotes a string
  // itself ('{{ var("region") }}').
  static std::string printed(const Value &value) {
    switch (value.kind) {
    case Value::String:
    case Value::Number:
      return value.text;
    case Value::Bool:
      return value.text == "true" ? "True" : "False";
    case Value::None:
      return "None";
    case Value::List:
      break;
    }
    return "";
  }

  std::optional<std::string> var(const Call &call) {
    bool well_formed = (call.args.size() == 1 || call.args.size() == 2) &&
                       call.positional() == call.args.size() &&
                       call.args[0].value.kind == Value::String &&
                       (call.args.size() == 1 || call.args[1].value.kind != Value::List);
    if (!well_formed) {
      diags_.error(call.range, "var() expects a name and an optional default, e.g. "
                               "{{ var('min_amount', 10) }}");
      return std::nullopt;
    }
    const std::string &name = call.args[0].value.text;
    if (auto it = vars_.find(name); it != vars_.end())
      return it->second;
    if (call.args.size() == 2)
      return printed(call.args[1].value);

    Diagnostic &error = diags_.error(call.range, "var \"" + name + "\" is not defined");
    std::vector<std::string> defined;
    for (const auto &[defined_name, value] : vars_)
      defined.push_back(defined_name);
    if (defined.empty())
      error.hint = "no vars are defined; set them under vars: in kiln_project.yml or with --vars";
    else
      error.hint = "defined vars: " + quotedList(defined);
    return std::nullopt;
  }

  Model &model_;
  ConnectorSettings &connector_;
  std::string_view text_;
  const std::map<std::string, std::string> &vars_;
  DiagnosticEngine &diags_;
};

} // namespace

void renderModel(Model &model, ConnectorSettings &connector, std::string_view text,
                 const std::map<std::string, std::string> &vars, DiagnosticEngine &diags) {
  ModelRenderer(model, connector, text, vars, diags).render();
}

} // namespace kiln::project
