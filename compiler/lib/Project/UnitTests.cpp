// dbt's unit tests (`unit_tests:` in YAML, dbt 1.8): a model, rows for each of its inputs
// (`given`, by ref() or source()), and the rows it must give (`expect`), in dict or CSV form.
#include "Loader.h"
#include "kiln/runtime/Csv.h"

namespace kiln::project {
namespace {

// Rows in dict form (a list of mappings) or CSV form (a string whose first line names the
// columns; an empty unquoted field is NULL).
std::optional<std::vector<UnitRow>> readRows(YamlFile &yaml, const YAML::Node &entry,
                                             const std::string &what) {
  std::vector<UnitRow> rows;
  YAML::Node format = entry["format"];
  std::string kind = format && format.IsScalar() ? format.Scalar() : "dict";
  YAML::Node given = entry["rows"];
  if (!given || given.IsNull())
    return rows;
  if (kind == "dict") {
    if (!given.IsSequence()) {
      yaml.diags()
          .error(yaml.range(given), "the rows of " + what + " must be a list of mappings")
          .hint = "rows: [{id: 1, name: a}, {id: 2, name: b}]";
      return std::nullopt;
    }
    for (const YAML::Node &row : given) {
      if (!row.IsMap()) {
        yaml.diags().error(yaml.range(row), "a row of " + what +
                                                " must be a mapping of columns "
                                                "to values, not " +
                                                describeKind(row));
        return std::nullopt;
      }
      UnitRow out;
      for (const auto &value : row) {
        std::optional<std::string> text;
        if (value.second.IsScalar() &&
            !(value.second.Tag() != "!" &&
              (value.second.Scalar() == "null" || value.second.Scalar() == "~")))
          text = value.second.Scalar();
        out.values.emplace_back(value.first.Scalar(), text);
      }
      rows.push_back(std::move(out));
    }
    return rows;
  }
  if (kind == "csv") {
    if (!given.IsScalar()) {
      yaml.diags().error(yaml.range(given), "csv rows of " + what + " must be a string").hint =
          "rows: |\n  id,name\n  1,a";
      return std::nullopt;
    }
    std::vector<csv::Row> lines;
    uint32_t error_at = 0;
    if (!csv::parse(given.Scalar(), lines, error_at) || lines.empty()) {
      yaml.diags().error(yaml.range(given), "the csv rows of " + what + " cannot be read");
      return std::nullopt;
    }
    for (size_t r = 1; r < lines.size(); ++r) {
      UnitRow out;
      for (size_t c = 0; c < lines[0].fields.size() && c < lines[r].fields.size(); ++c) {
        const csv::Field &field = lines[r].fields[c];
        std::optional<std::string> text;
        if (!csv::isNull(field))
          text = field.text;
        out.values.emplace_back(lines[0].fields[c].text, text);
      }
      rows.push_back(std::move(out));
    }
    return rows;
  }
  yaml.diags().error(yaml.range(format), "unsupported rows format \"" + kind + "\"").hint =
      "Kiln reads dict and csv rows (sql rows are not supported)";
  return std::nullopt;
}

} // namespace

void readUnitTests(YamlFile &yaml, const YamlField &field, std::vector<UnitTestDecl> &into) {
  std::optional<std::vector<YAML::Node>> entries = yaml.expectList(field, "unit_tests");
  if (!entries)
    return;
  for (const YAML::Node &entry : *entries) {
    if (!yaml.expectMap(entry, "a unit test"))
      continue;
    auto fields = yaml.fields(
        entry,
        {"name", "model", "given", "expect", "description", "config", "overrides", "versions"},
        "in a unit test");
    UnitTestDecl decl;
    UnitTest &test = decl.test;
    auto name = fields.find("name"), model = fields.find("model");
    if (name == fields.end() || model == fields.end()) {
      yaml.diags().error(yaml.range(entry), "a unit test needs a name and a model").hint =
          "unit_tests: [{name: ..., model: ..., given: [...], expect: {rows: [...]}}]";
      continue;
    }
    test.name = yaml.expectString(name->second, "name").value_or("");
    test.model = yaml.expectString(model->second, "model").value_or("");
    test.range = yaml.range(name->second);
    if (fields.count("overrides"))
      yaml.diags().warning(
          yaml.range(fields.at("overrides").key),
          "unit test overrides (macros, vars, env_vars) are not supported; ignored");
    bool ok = !test.name.empty() && !test.model.empty();
    if (auto given = fields.find("given"); given != fields.end()) {
      if (auto inputs = yaml.expectList(given->second, "given")) {
        for (const YAML::Node &input : *inputs) {
          YAML::Node relation = input.IsMap() ? input["input"] : YAML::Node();
          if (!relation || !relation.IsScalar()) {
            yaml.diags().error(yaml.range(input), "a given input needs `input: ref('model')` "
                                                  "or `input: source('source', 'table')`");
            ok = false;
            continue;
          }
          std::optional<std::vector<UnitRow>> rows =
              readRows(yaml, input, "input " + relation.Scalar());
          if (!rows) {
            ok = false;
            continue;
          }
          UnitTest::Input parsed;
          parsed.rows = std::move(*rows);
          test.given.push_back(std::move(parsed));
          decl.inputs.emplace_back(relation.Scalar(), yaml.range(relation));
        }
      } else {
        ok = false;
      }
    }
    if (auto expect = fields.find("expect");
        expect != fields.end() && expect->second.value.IsMap()) {
      if (std::optional<std::vector<UnitRow>> rows = readRows(yaml, expect->second.value, "expect"))
        test.expect = std::move(*rows);
      else
        ok = false;
    } else {
      yaml.diags().error(test.range, "unit test \"" + test.name + "\" has no expect").hint =
          "expect: {rows: [{column: value}]}";
      ok = false;
    }
    if (ok)
      into.push_back(std::move(decl));
  }
}

} // namespace kiln::project
