// dbt's data tests as schema.yml declares them, each becoming a call of its test macro (dbt's
// unique, not_null, accepted_values, relationships, or the project's own {% test %}), whose SQL
// selects the failing rows.
#include "Loader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace kiln::project {
namespace {

// A test entry's part of the test's name, as dbt builds it: its arguments' values, flattened,
// with each run of characters other than letters, digits and "_" replaced by one "_".
std::string nameSuffix(const YAML::Node &value) {
  std::string out;
  if (value.IsSequence()) {
    for (const YAML::Node &item : value)
      out += (out.empty() ? "" : "__") + nameSuffix(item);
    return out;
  }
  if (value.IsMap())
    return "";
  bool in_run = false; // a run of other characters becomes one "_"
  for (char c : value.IsScalar() ? value.Scalar() : std::string()) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      out += c;
      in_run = false;
    } else if (!in_run) {
      out += '_';
      in_run = true;
    }
  }
  return out;
}

// FNV-1a, to shorten long test names the same way on every machine.
std::string shortHash(const std::string &text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 1099511628211ull;
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%08llx", static_cast<unsigned long long>(hash >> 32));
  return buffer;
}

bool isRelationCall(const std::string &text) {
  return text.rfind("ref(", 0) == 0 || text.rfind("source(", 0) == 0;
}

// An argument as a Jinja expression: ref()/source() calls as they are (dbt renders them), other
// values as literals.
std::string argumentExpression(const YAML::Node &value) {
  if (value.IsScalar() && isRelationCall(value.Scalar()))
    return value.Scalar();
  return jinjaValue(value).repr();
}

} // namespace

void readDataTests(YamlFile &yaml, const YamlField &field, const TestTarget &target,
                   std::vector<DataTest> &tests) {
  std::optional<std::vector<YAML::Node>> items = yaml.expectList(field, "tests");
  if (!items)
    return;
  for (const YAML::Node &item : *items) {
    DataTest test;
    test.relation = target.relation;
    test.column = target.column;
    test.range = yaml.range(item);
    YAML::Node arguments;
    if (item.IsScalar()) {
      test.test = item.Scalar();
    } else if (item.IsMap() && item.size() == 1) {
      test.test = item.begin()->first.Scalar();
      test.range = yaml.range(item.begin()->first);
      arguments = item.begin()->second;
    } else {
      yaml.diags().error(yaml.range(item),
                         "a test is a name (unique) or a mapping of one name "
                         "to its arguments ({accepted_values: {values: [a, b]}})");
      continue;
    }
    if (arguments && !arguments.IsNull() && !arguments.IsMap()) {
      yaml.diags().error(yaml.range(arguments), "the arguments of test \"" + test.test +
                                                    "\" must be a mapping, not " +
                                                    describeKind(arguments));
      continue;
    }
    if (arguments && arguments.IsMap()) {
      for (const auto &entry : arguments) {
        std::string key = entry.first.Scalar();
        const YAML::Node &value = entry.second;
        if (key == "config" || key == "where" || key == "severity") {
          // config: {where: ..., severity: warn}, or the same keys beside the arguments.
          auto apply = [&](const std::string &name, const YAML::Node &setting) {
            if (name == "where" && setting.IsScalar())
              test.where = setting.Scalar();
            else if (name == "severity" && setting.IsScalar())
              test.severity = setting.Scalar();
          };
          if (key == "config" && value.IsMap())
            for (const auto &setting : value)
              apply(setting.first.Scalar(), setting.second);
          else
            apply(key, value);
          continue;
        }
        if (key == "arguments" && value.IsMap()) { // dbt 1.10's nesting of the arguments
          for (const auto &argument : value) {
            test.arguments.emplace_back(argument.first.Scalar(), argument.second);
          }
          continue;
        }
        if (key == "name" || key == "description" || key == "tags" || key == "meta")
          continue;
        test.arguments.emplace_back(key, value);
      }
    }
    for (char &c : test.severity)
      c = std::tolower(static_cast<unsigned char>(c));
    if (test.severity != "error" && test.severity != "warn") {
      yaml.diags().error(test.range, "severity of test \"" + test.test +
                                         "\" must be error or "
                                         "warn, not \"" +
                                         test.severity + "\"");
      continue;
    }
    // dbt's name: the arguments' values in the order of their names.
    // (Sorted by index: assigning a YAML::Node would write through to the node it refers to.)
    std::vector<size_t> order(test.arguments.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return test.arguments[a].first < test.arguments[b].first;
    });
    std::string suffix;
    for (size_t i : order)
      suffix += "__" + nameSuffix(test.arguments[i].second);
    test.name = (target.source ? "source_" : "") + test.test + "_" + target.name_part +
                (target.column.empty() ? "" : "_" + target.column) + suffix;
    // dbt shortens long names with a hash of the whole.
    if (test.name.size() > 63)
      test.name = test.name.substr(0, 54) + "_" + shortHash(test.name);
    tests.push_back(std::move(test));
  }
}

std::string dataTestTemplate(const DataTest &test) {
  // dbt's `where` config narrows the tested model to a subquery.
  std::string model = test.relation;
  if (!test.where.empty())
    model = "'(select * from ' ~ " + test.relation + " ~ ' where ' ~ " +
            jinjaValue(YAML::Node(test.where)).repr() + " ~ ') dbt_subquery'";
  std::string call = "test_" + test.test + "(model=" + model;
  if (!test.column.empty())
    call += ", column_name=" + jinja::Value(test.column).repr();
  for (const auto &[name, value] : test.arguments)
    call += ", " + name + "=" + argumentExpression(value);
  return "{{ " + call + ") }}\n";
}

} // namespace kiln::project
