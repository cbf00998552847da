// dbt seeds: CSV files under the seed paths, each a table that models ref() by its file name. A
// seed becomes a model whose SQL is a VALUES list of its rows, typed by `column_types` or as
// dbt infers them, so that it is part of the dataflow like any model (a constant relation,
// emitted at the first tick) and every error in a value points at its line of the CSV file.
#include "Loader.h"
#include "kiln/runtime/Csv.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace kiln::project {

namespace {

bool isInteger(std::string_view text) {
  size_t i = text.size() > 0 && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i == text.size())
    return false;
  for (; i < text.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(text[i])))
      return false;
  return true;
}

bool fitsInt32(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data() + (text[0] == '+'), text.data() + text.size(), value);
  return ec == std::errc() && value >= std::numeric_limits<int32_t>::min() &&
         value <= std::numeric_limits<int32_t>::max();
}

bool isNumber(std::string_view text) {
  size_t i = text.size() > 0 && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])))
      digits = true;
    else if (text[i] == '.' && !dot)
      dot = true;
    else
      return false;
  }
  return digits;
}

bool isDigits(std::string_view text, size_t from, size_t count) {
  if (from + count > text.size())
    return false;
  for (size_t i = from; i < from + count; ++i)
    if (!std::isdigit(static_cast<unsigned char>(text[i])))
      return false;
  return true;
}

// %Y-%m-%d
bool isDate(std::string_view text) {
  return text.size() == 10 && isDigits(text, 0, 4) && text[4] == '-' && isDigits(text, 5, 2) &&
         text[7] == '-' && isDigits(text, 8, 2);
}

// %Y-%m-%d %H:%M:%S, or ISO 8601's T, with optional fractions of a second.
bool isTimestamp(std::string_view text) {
  if (text.size() < 19 || !isDate(text.substr(0, 10)) || (text[10] != ' ' && text[10] != 'T') ||
      !isDigits(text, 11, 2) || text[13] != ':' || !isDigits(text, 14, 2) || text[16] != ':' ||
      !isDigits(text, 17, 2))
    return false;
  if (text.size() == 19)
    return true;
  return text[19] == '.' && text.size() > 20 && isDigits(text, 20, text.size() - 20);
}

// The type dbt gives a column of a seed (agate's type tester, then dbt-postgres's names):
// integer, float8 when a number has decimals, date, timestamp, boolean (true/false), else text.
// Kiln widens integers beyond 32 bits to bigint, where PostgreSQL would refuse the seed.
std::string inferType(const std::vector<csv::Row> &rows, size_t column) {
  bool integer = true, number = true, date = true, timestamp = true, boolean = true, wide = false;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (column >= rows[r].fields.size() || csv::isNull(rows[r].fields[column]))
      continue;
    const std::string &text = rows[r].fields[column].text;
    integer &= isInteger(text);
    wide |= integer && !fitsInt32(text);
    number &= isNumber(text);
    date &= isDate(text);
    timestamp &= isTimestamp(text);
    boolean &= text == "true" || text == "false" || text == "True" || text == "False" ||
               text == "TRUE" || text == "FALSE";
  }
  if (integer)
    return wide ? "bigint" : "integer";
  if (number)
    return "float8";
  if (date)
    return "date";
  if (timestamp)
    return "timestamp";
  if (boolean)
    return "boolean";
  return "text";
}

std::string quoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

// One setting of a seed's config (a leading `+` allowed); false if it is not a seed config.
bool applySeedSetting(YamlFile &yaml, const YAML::Node &key, const YAML::Node &value,
                      SeedConfig &into) {
  std::string name = key.IsScalar() ? key.Scalar() : "";
  if (!name.empty() && name[0] == '+')
    name.erase(0, 1);
  if (name == "column_types") {
    if (!value.IsMap()) {
      yaml.diags().error(yaml.range(value), std::string("column_types must be a mapping of "
                                                        "columns to SQL types, not ") +
                                                describeKind(value));
      return true;
    }
    for (const auto &entry : value)
      if (entry.first.IsScalar() && entry.second.IsScalar())
        into.column_types[entry.first.Scalar()] = entry.second.Scalar();
    into.range = yaml.range(key);
    return true;
  }
  if (name == "enabled") {
    if (value.IsScalar() && (value.Scalar() == "true" || value.Scalar() == "false"))
      into.enabled = value.Scalar() == "true";
    else
      yaml.diags().error(yaml.range(value), "enabled must be true or false");
    return true;
  }
  // dbt's other seed configs (quote_columns, tags, docs, ...) mean nothing to Kiln.
  static const char *const kOthers[] = {"quote_columns", "tags",         "docs",     "meta",
                                        "persist_docs",  "full_refresh", "schema",   "alias",
                                        "database",      "grants",       "pre-hook", "post-hook",
                                        "group",         "contract"};
  for (const char *other : kOthers)
    if (name == other)
      return true;
  return !key.IsScalar() || key.Scalar().empty() || key.Scalar()[0] == '+';
}

} // namespace

void readSeedSettings(YamlFile &yaml, const YAML::Node &config, SeedConfig &into) {
  if (!config.IsMap())
    return;
  for (const auto &entry : config)
    applySeedSetting(yaml, entry.first, entry.second, into);
}

namespace {
// The configs of `level`, then those of the level named segments[depth] under it, and so on.
// (Recursion instead of a YAML::Node variable walking down: assigning to a YAML::Node that
// already refers to a node rewrites that node.)
void applyLevels(YamlFile &yaml, const YAML::Node &level, const std::vector<std::string> &segments,
                 size_t depth, SeedConfig &config) {
  for (const auto &entry : level)
    if (entry.first.IsScalar() && (entry.first.Scalar()[0] == '+' || !entry.second.IsMap() ||
                                   entry.first.Scalar() == "column_types"))
      applySeedSetting(yaml, entry.first, entry.second, config);
  if (depth == segments.size())
    return;
  for (const auto &entry : level)
    if (entry.first.IsScalar() && entry.first.Scalar() == segments[depth] && entry.second.IsMap())
      applyLevels(yaml, entry.second, segments, depth + 1, config);
}
} // namespace

SeedConfig seedConfigFor(YamlFile &yaml, const YAML::Node &seeds, const std::string &project,
                         const std::vector<std::string> &segments) {
  // Configs for every seed, then this project's by folder and name.
  std::vector<std::string> path{project};
  path.insert(path.end(), segments.begin(), segments.end());
  SeedConfig config;
  applyLevels(yaml, seeds, path, 0, config);
  return config;
}

std::optional<Model> seedModel(const std::string &name, const std::string &path, FileId file,
                               std::string_view text, const SeedConfig &config,
                               SourceTable &changes, DiagnosticEngine &diags) {
  auto at = [&](uint32_t begin, uint32_t end) { return SourceRange{{file, begin}, end - begin}; };
  std::vector<csv::Row> rows;
  uint32_t error_at = 0;
  if (!csv::parse(text, rows, error_at)) {
    diags.error(at(error_at, error_at + 1), "unterminated quoted field in seed \"" + name + "\"")
        .hint = "close the field with \", and write a quote inside it as \"\"";
    return std::nullopt;
  }
  if (rows.empty()) {
    diags.error(at(0, 0), "seed \"" + name + "\" is empty").hint =
        "its first line names the columns: id,name,...";
    return std::nullopt;
  }
  const csv::Row &header = rows[0];
  std::vector<std::string> columns;
  for (const csv::Field &field : header.fields)
    columns.push_back(field.text);
  for (size_t r = 1; r < rows.size(); ++r)
    if (rows[r].fields.size() != columns.size()) {
      diags
          .error(at(rows[r].begin, rows[r].end),
                 "row of seed \"" + name + "\" has " + std::to_string(rows[r].fields.size()) +
                     " fields, but its header names " + std::to_string(columns.size()) + " columns")
          .hint = "every line of a CSV seed has one field per column of the header";
      return std::nullopt;
    }
  std::vector<std::string> types;
  for (size_t c = 0; c < columns.size(); ++c) {
    auto given = config.column_types.find(columns[c]);
    types.push_back(given != config.column_types.end() ? given->second : inferType(rows, c));
  }
  for (const auto &[column, type] : config.column_types)
    if (std::find(columns.begin(), columns.end(), column) == columns.end())
      diags.warning(config.range, "column_types names \"" + column + "\", which seed \"" + name +
                                      "\" does not have");

  Model model;
  model.name = name;
  model.path = path;
  model.file = file;
  model.seed = true;
  // The SQL maps to the CSV: the header to the header, each row of the VALUES list to its line.
  auto append = [&](const std::string &sql, uint32_t begin, uint32_t end) {
    model.offsets.push_back({static_cast<uint32_t>(model.rendered_sql.size()),
                             static_cast<uint32_t>(sql.size()), begin, false, end - begin});
    model.rendered_sql += sql;
  };
  std::string select = "select ";
  for (size_t c = 0; c < columns.size(); ++c)
    select += (c ? ", " : "") + sqlIdentifier(columns[c]);
  append(select + "\nfrom (", header.begin, header.end);
  if (rows.size() == 1) {
    // No rows: a VALUES list of one row filtered away keeps the columns and their types.
    std::string none = "values (";
    for (size_t c = 0; c < columns.size(); ++c)
      none += (c ? ", " : "") + std::string("null::") + types[c];
    append(none + ")", header.begin, header.end);
    append(") as " + sqlIdentifier(name) + "(", header.begin, header.end);
  } else {
    for (size_t r = 1; r < rows.size(); ++r) {
      std::string values = r == 1 ? "values (" : ",\n  (";
      for (size_t c = 0; c < columns.size(); ++c) {
        const csv::Field &field = rows[r].fields[c];
        values += (c ? ", " : "") +
                  (csv::isNull(field) ? std::string("null") : quoteLiteral(field.text)) +
                  "::" + types[c];
      }
      append(values + ")", rows[r].begin, rows[r].end);
    }
    append(")\nas " + sqlIdentifier(name) + "(", header.begin, header.end);
  }
  std::string names;
  for (size_t c = 0; c < columns.size(); ++c)
    names += (c ? ", " : "") + sqlIdentifier(columns[c]);
  append(names + ")" + (rows.size() == 1 ? " where false" : "") + "\n", header.begin, header.end);

  changes = SourceTable{};
  changes.source = kSeedChangesSource;
  changes.name = name;
  changes.range = at(header.begin, header.end);
  changes.description = "changes to seed " + name;
  changes.seed = true;
  for (size_t c = 0; c < columns.size(); ++c) {
    ColumnDecl column;
    column.name = columns[c];
    column.type = types[c];
    column.range = changes.range;
    column.type_range = config.column_types.count(columns[c]) ? config.range : changes.range;
    changes.columns.push_back(std::move(column));
  }
  append("union all\nselect " + names + " from " + sqlIdentifier(kSeedChangesSource) + "." +
             sqlIdentifier(name) + "\n",
         header.begin, header.end);
  model.sources.emplace_back(kSeedChangesSource, name);
  model.source_ranges.push_back(changes.range);
  return model;
}

} // namespace kiln::project
