#include "Loader.h"

#include <cctype>
#include <charconv>

namespace kiln::project {
namespace {

// The project name becomes file and symbol names (target/<name>, lib<name>.a, <name>.h).
bool isValidProjectName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

void readVars(YamlFile &yaml, const YamlField &field, std::map<std::string, std::string> &vars) {
  if (field.value.IsNull())
    return;
  if (!yaml.expectMap(field.value, "\"vars\"", yaml.range(field)))
    return;
  // yaml-cpp's iterators yield key/value pairs by value: bind the pair, not its members.
  for (const auto &entry : field.value) {
    const YAML::Node &key = entry.first, &value = entry.second;
    if (!key.IsScalar()) {
      yaml.diags().error(yaml.range(key), "var names must be strings");
      continue;
    }
    if (value.IsMap() || value.IsSequence()) {
      yaml.diags().error(yaml.range(value), "var \"" + key.Scalar() +
                                                "\" must be a string, number or boolean, not " +
                                                describeKind(value));
      continue;
    }
    vars[key.Scalar()] = sqlLiteral(value);
  }
}

} // namespace

bool readProjectFile(YamlFile &yaml, Project &project, std::vector<ModelPath> &model_paths) {
  std::optional<YAML::Node> root = yaml.parse();
  if (!root)
    return false;
  SourceRange file_start{{yaml.file(), 0}, 0};
  if (!root->IsMap()) {
    std::string message = root->IsNull() ? "kiln_project.yml is empty"
                                         : std::string("kiln_project.yml must be a mapping, not ") +
                                               describeKind(*root);
    Diagnostic &error =
        yaml.diags().error(root->IsNull() ? file_start : yaml.range(*root), message);
    error.hint = "start it with `name: my_project`";
    return false;
  }
  auto fields = yaml.fields(
      *root, {"name", "version", "model-paths", "vars", "tick-size", "config-version", "profile"},
      "in kiln_project.yml");

  if (auto name = fields.find("name"); name == fields.end()) {
    yaml.diags().error(file_start, "kiln_project.yml has no \"name\"").hint =
        "add `name: my_project`";
  } else if (auto text = yaml.expectString(name->second, "name")) {
    if (isValidProjectName(*text)) {
      project.name = *text;
    } else {
      std::string message = "project name \"" + *text +
                            "\" must be letters, digits and underscores, not starting with a digit";
      yaml.diags().error(yaml.range(name->second), message).hint =
          "it names the executable and, with --emit=lib, C symbols";
    }
  }

  if (auto version = fields.find("version"); version != fields.end())
    project.version = yaml.expectString(version->second, "version").value_or("");

  if (auto paths = fields.find("model-paths"); paths == fields.end()) {
    model_paths.push_back({"models", {}});
  } else if (auto items = yaml.expectList(paths->second, "model-paths", true)) {
    for (const YAML::Node &item : *items) {
      if (item.IsScalar() && !item.Scalar().empty())
        model_paths.push_back({item.Scalar(), yaml.range(item)});
      else
        yaml.diags().error(yaml.range(item),
                           std::string("model paths must be strings, not ") + describeKind(item));
    }
  }

  if (auto vars = fields.find("vars"); vars != fields.end())
    readVars(yaml, vars->second, project.vars);

  if (auto tick = fields.find("tick-size"); tick != fields.end()) {
    const YAML::Node &value = tick->second.value;
    const std::string text = value.IsScalar() ? value.Scalar() : "";
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), project.tick_size);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        project.tick_size < 0) {
      Diagnostic &error = yaml.diags().error(yaml.range(tick->second),
                                             "\"tick-size\" must be a non-negative integer");
      error.hint = "the number of input records per tick; 0 ticks at each commit record";
      project.tick_size = 0;
    }
  }
  return true;
}

} // namespace kiln::project
