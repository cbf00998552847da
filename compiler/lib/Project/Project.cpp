#include "Loader.h"

#include "kiln/Support/Spelling.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace kiln::project {

const char *materializationName(Materialization m) {
  switch (m) {
  case Materialization::View:
    return "view";
  case Materialization::Ephemeral:
    return "ephemeral";
  case Materialization::Sink:
    return "sink";
  case Materialization::Index:
    return "index";
  }
  return "view";
}

SourceRange Model::mapRendered(uint32_t rendered_offset, uint32_t length) const {
  if (offsets.empty())
    return {{file, 0}, 0};
  // The segment holding a rendered offset; offsets past the end belong to the last segment.
  auto segmentOf = [&](uint32_t offset) -> const OffsetSegment & {
    auto next = std::upper_bound(offsets.begin(), offsets.end(), offset,
                                 [](uint32_t value, const OffsetSegment &segment) {
                                   return value < segment.rendered_begin;
                                 });
    return next == offsets.begin() ? offsets.front() : *std::prev(next);
  };
  // The model offset where a rendered offset begins or, for `end`, just after it ends. Text from an
  // expansion maps to its whole {{ ... }}; offsets past the rendered text map past the last
  // segment.
  auto modelOffset = [&](uint32_t offset, bool end) -> uint32_t {
    const OffsetSegment &segment = segmentOf(offset);
    uint32_t into = offset - segment.rendered_begin;
    if (into >= segment.length)
      return segment.model_begin + segment.model_length;
    if (!segment.verbatim)
      return segment.model_begin + (end ? segment.model_length : 0);
    return segment.model_begin + into + (end ? 1 : 0);
  };
  uint32_t begin = modelOffset(rendered_offset, false);
  // A point inside an expansion still covers the whole {{ ... }}.
  uint32_t last = length > 0 ? rendered_offset + length - 1 : rendered_offset;
  uint32_t end =
      length > 0 || !segmentOf(rendered_offset).verbatim ? modelOffset(last, true) : begin;
  return {{file, begin}, std::max(end, begin) - begin};
}

const Model *Project::findModel(const std::string &name) const {
  for (const Model &model : models)
    if (model.name == name)
      return &model;
  return nullptr;
}

const SourceTable *Project::findSource(const std::string &source, const std::string &table) const {
  for (const SourceTable &candidate : sources)
    if (candidate.source == source && candidate.name == table)
      return &candidate;
  return nullptr;
}

namespace {

std::optional<std::string> readFile(const fs::path &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot read \"") + path.string() + "\"";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class Loader {
public:
  Loader(SourceManager &sources, DiagnosticEngine &diags, const LoadOptions &options)
      : sources_(sources), diags_(diags), options_(options) {}

  std::optional<Project> load(const std::string &directory) {
    size_t errors_before = diags_.errorCount();
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) {
      diags_.error({}, "project directory \"" + directory + "\" does not exist");
      return std::nullopt;
    }
    display_root_ = fs::path(directory);
    project_.root = fs::weakly_canonical(fs::absolute(directory), ec).string();

    if (!readProjectFile())
      return std::nullopt;
    applyVarOverrides();
    rejectPackages();
    std::map<std::string, jinja::Value> vars;
    for (const auto &[name, value] : layout_.vars)
      vars[name] = jinjaValue(value);
    context_.emplace(sources_, diags_, project_.name, std::move(vars));
    schema_.catalog = &options_.catalog;
    loadMacros();

    std::vector<fs::path> sql_files, yaml_files;
    collectFiles(layout_.model_paths, sql_files, yaml_files, true);
    for (const fs::path &path : yaml_files)
      if (std::optional<FileId> file = addFile(path)) {
        YamlFile yaml(*file, sources_, diags_);
        readSchemaFile(yaml, schema_);
      }
    for (const fs::path &path : sql_files)
      loadModel(path);
    applyFolderConfigs(layout_.model_paths);
    loadSeeds();
    loadDataTests();
    loadSingularTests();
    attachDocs();
    loadUnitTests();
    resolveReferences();
    sortModels();

    if (diags_.errorCount() > errors_before)
      return std::nullopt;
    return std::move(project_);
  }

private:
  // How paths appear in diagnostics: under the directory as the user named it, so they are
  // relative when the user is in the project ("models/a.sql") and still resolve from elsewhere.
  std::string displayPath(const fs::path &relative) const {
    return (display_root_ / relative).lexically_normal().generic_string();
  }

  std::optional<FileId> addFile(const fs::path &relative) {
    std::string error;
    std::optional<std::string> text = readFile(fs::path(project_.root) / relative, error);
    if (!text) {
      diags_.error({}, error);
      return std::nullopt;
    }
    return sources_.addFile(displayPath(relative), std::move(*text));
  }

  // dbt_project.yml as dbt reads it, with kiln_project.yml beside it for Kiln's own settings; or
  // kiln_project.yml alone.
  bool readProjectFile() {
    bool dbt = fs::exists(fs::path(project_.root) / "dbt_project.yml");
    bool kiln = fs::exists(fs::path(project_.root) / "kiln_project.yml");
    if (!dbt && !kiln) {
      diags_
          .error({}, "no dbt_project.yml or kiln_project.yml in \"" +
                         display_root_.generic_string() + "\"")
          .hint = "a project is a directory with a dbt_project.yml (`name: my_project`) and a "
                  "models/ directory";
      return false;
    }
    if (!dbt) {
      std::optional<FileId> file = addFile("kiln_project.yml");
      if (!file)
        return false;
      YamlFile yaml(*file, sources_, diags_);
      return project::readProjectFile(yaml, project_, layout_);
    }
    std::optional<FileId> file = addFile("dbt_project.yml");
    if (!file)
      return false;
    YamlFile yaml(*file, sources_, diags_);
    if (!readDbtProjectFile(yaml, project_, layout_, folder_configs_))
      return false;
    if (kiln) {
      std::optional<FileId> settings = addFile("kiln_project.yml");
      if (!settings)
        return false;
      YamlFile settings_yaml(*settings, sources_, diags_);
      return readKilnSettings(settings_yaml, project_);
    }
    return true;
  }

  // dbt_project.yml's `models:` configs, for the models whose config() does not say otherwise;
  // disabled models leave the project.
  void applyFolderConfigs(const std::vector<ModelPath> &model_paths) {
    std::vector<Model> enabled;
    for (Model &model : project_.models) {
      fs::path path(model.path);
      std::vector<std::string> segments;
      for (const ModelPath &model_path : model_paths) {
        fs::path relative = path.lexically_relative(fs::path(model_path.path));
        if (relative.empty() || *relative.begin() == "..")
          continue;
        for (const fs::path &part : relative.parent_path())
          segments.push_back(part.string());
        segments.push_back(model.name);
        break;
      }
      ModelConfig config = configFor(folder_configs_, segments);
      model.tags.insert(model.tags.begin(), config.tags.begin(), config.tags.end());
      if (config.alias && model.alias.empty()) {
        model.alias = *config.alias;
        model.alias_range = config.alias_range;
      }
      if (config.materialized && !model.materialization_in_model) {
        model.materialization = *config.materialized;
        model.materialization_range = config.materialized_range;
      }
      if (!model.enabled.value_or(config.enabled.value_or(true))) {
        disabled_.insert(model.name);
        continue;
      }
      // A sink's connector: its config()'s settings over those of its folders.
      ConnectorSettings settings = config.connector;
      bool in_model = false;
      for (const auto &[name, setting] : model_connectors_[model.name]) {
        settings[name] = setting;
        in_model = true;
      }
      if (model.materialization == Materialization::Sink) {
        if (std::optional<ConnectorConfig> connector =
                buildConnector(settings, {true, model.name, model.name, false}, diags_))
          model.connector = std::move(*connector);
      } else if (in_model) {
        const ConnectorSetting &first = model_connectors_[model.name].begin()->second;
        diags_
            .error(first.key_range, "connector settings are for sink models; " + model.name +
                                        " is materialized as " +
                                        materializationName(model.materialization))
            .hint = "add materialized='sink' to its config()";
      }
      enabled.push_back(std::move(model));
    }
    project_.models = std::move(enabled);
  }

  // --vars values are YAML, read by the same rules as vars in the project file.
  void applyVarOverrides() {
    for (const auto &[name, text] : options_.var_overrides) {
      YAML::Node value;
      try {
        value = YAML::Load(text);
      } catch (const YAML::Exception &) {
        value = YAML::Node(text);
      }
      layout_.vars[name] = value;
    }
  }

  // Packages are out of scope: a project that lists some is told which, and what to do.
  void rejectPackages() {
    for (const char *name : {"packages.yml", "dependencies.yml"}) {
      if (!fs::exists(fs::path(project_.root) / name))
        continue;
      std::optional<FileId> file = addFile(name);
      if (!file)
        continue;
      YamlFile yaml(*file, sources_, diags_);
      std::optional<YAML::Node> root = yaml.parse();
      if (!root || !root->IsMap() || !(*root)["packages"] || !(*root)["packages"].IsSequence() ||
          (*root)["packages"].size() == 0)
        continue;
      std::vector<std::string> names;
      for (const YAML::Node &package : (*root)["packages"]) {
        for (const char *key : {"package", "git", "local", "tarball", "private"})
          if (package.IsMap() && package[key] && package[key].IsScalar())
            names.push_back(package[key].Scalar());
      }
      diags_
          .error(yaml.range((*root)["packages"]),
                 "packages are not supported: " + quotedList(names))
          .hint = "copy the macros the project uses into a file under macro-paths and remove " +
                  std::string(name);
    }
  }

  // dbt's own cross-database macros, then every *.sql file under the macro paths.
  void loadMacros() {
    FileId builtin = sources_.addFile(kDbtMacrosPath, kDbtMacros);
    if (auto parsed = jinja::parseTemplate(sources_, builtin, diags_))
      context_->defineMacros(parsed, true);
    std::vector<fs::path> sql_files, yaml_files;
    collectFiles(layout_.macro_paths, sql_files, yaml_files, false);
    for (const fs::path &path : sql_files)
      if (std::optional<FileId> file = addFile(path))
        if (auto parsed = jinja::parseTemplate(sources_, *file, diags_))
          context_->defineMacros(parsed, false);
  }

  // Every *.sql and *.yml/*.yaml file under the paths, sorted by path so that loading and every
  // diagnostic come out in the same order on every machine. Hidden files are skipped (editor
  // backups such as .#orders.sql). A default path that does not exist is an error only when
  // `default_required` (models/, not macros/).
  void collectFiles(const std::vector<ModelPath> &model_paths, std::vector<fs::path> &sql_files,
                    std::vector<fs::path> &yaml_files, bool default_required) {
    std::set<fs::path> seen;
    fs::path root(project_.root);
    for (const ModelPath &model_path : model_paths) {
      std::error_code ec;
      fs::path directory = root / model_path.path;
      if (!fs::is_directory(directory, ec)) {
        if (!default_required)
          continue;
        Diagnostic &error = diags_.error(model_path.range, "model path \"" + model_path.path +
                                                               "\" is not a directory");
        if (!model_path.range.valid())
          error.hint = "create it, or list the model directories under model-paths: in "
                       "kiln_project.yml";
        continue;
      }
      for (auto it = fs::recursive_directory_iterator(directory, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
          break;
        std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
          if (it->is_directory(ec))
            it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file(ec))
          continue;
        fs::path relative = it->path().lexically_relative(root);
        std::string extension = it->path().extension().string();
        if (!seen.insert(relative).second)
          continue;
        if (extension == ".sql")
          sql_files.push_back(relative);
        else if (extension == ".yml" || extension == ".yaml")
          yaml_files.push_back(relative);
      }
    }
    std::sort(sql_files.begin(), sql_files.end());
    std::sort(yaml_files.begin(), yaml_files.end());
  }

  // A model, or a singular test (`test_severity` "error").
  void loadModel(const fs::path &relative, const std::string &test_severity = "") {
    std::optional<FileId> file = addFile(relative);
    if (!file)
      return;
    Model model;
    model.name = relative.stem().string();
    model.path = relative.generic_string();
    model.file = *file;
    model.test_severity = test_severity;
    if (const Model *first = project_.findModel(model.name)) {
      Diagnostic &error =
          diags_.error({{model.file, 0}, 0}, "model \"" + model.name + "\" is defined twice");
      error.notes.emplace_back(SourceRange{{first->file, 0}, 0}, "first defined here");
      error.hint = "a model is named by its file name, which must be unique across model paths";
      return;
    }
    if (auto parsed = jinja::parseTemplate(sources_, model.file, diags_))
      context_->renderModel(model, model_connectors_[model.name], parsed);
    project_.models.push_back(std::move(model));
  }

  // dbt's unit tests: each input named as ref() or source() in the YAML, every input of the model
  // given, and the model rendered again reading the inputs' rows.
  void loadUnitTests() {
    static const std::regex kRef(R"(\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*)");
    static const std::regex kSource(
        R"(\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*)");
    std::set<std::string> names;
    for (UnitTestDecl &decl : schema_.unit_tests) {
      UnitTest test = std::move(decl.test);
      if (!names.insert(test.name).second) {
        diags_.error(test.range, "unit test \"" + test.name + "\" is defined twice");
        continue;
      }
      const Model *model = project_.findModel(test.model);
      if (!model || model->seed || !model->test_severity.empty()) {
        diags_.error(test.range, "unit test \"" + test.name + "\" tests \"" + test.model +
                                     "\", which is not a model of the project");
        continue;
      }
      std::map<std::string, std::string> inputs;
      bool ok = true;
      for (size_t i = 0; i < decl.inputs.size(); ++i) {
        const auto &[text, range] = decl.inputs[i];
        UnitTest::Input &input = test.given[i];
        std::smatch match;
        if (std::regex_match(text, match, kRef)) {
          input.relation = match[1];
        } else if (std::regex_match(text, match, kSource)) {
          input.relation = std::string(match[1]) + "." + std::string(match[2]);
          input.source = true;
        } else {
          diags_.error(range, "a given input is ref('model') or source('source', 'table')");
          ok = false;
          continue;
        }
        std::string cte = "__unit_" + std::to_string(i) + "_";
        for (char c : input.relation)
          cte += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        input.cte = cte;
        inputs[input.relation] = cte;
      }
      // Every input of the model needs rows (rows: [] for none), as in dbt.
      std::vector<std::string> missing;
      for (const std::string &ref : model->refs)
        if (!inputs.count(ref))
          missing.push_back("ref('" + ref + "')");
      for (const auto &[source, table] : model->sources)
        if (!inputs.count(source + "." + table))
          missing.push_back("source('" + source + "', '" + table + "')");
      if (!missing.empty()) {
        diags_
            .error(test.range, "unit test \"" + test.name + "\" gives no rows for " +
                                   quotedList(missing) + ", which " + test.model + " reads")
            .hint = "give every input of the model, with `rows: []` for an empty one";
        ok = false;
      }
      if (!ok)
        continue;
      auto parsed = jinja::parseTemplate(sources_, model->file, diags_);
      std::optional<std::string> sql =
          parsed ? context_->renderWithInputs(*model, parsed, inputs) : std::nullopt;
      if (!sql)
        continue;
      test.rendered_sql = std::move(*sql);
      project_.unit_tests.push_back(std::move(test));
    }
  }

  // The YAML files' descriptions and tags of models and seeds.
  void attachDocs() {
    for (Model &model : project_.models) {
      auto it = schema_.docs.find(model.name);
      if (it == schema_.docs.end() || !model.test_severity.empty())
        continue;
      model.description = it->second.description;
      model.column_docs = it->second.columns;
      model.tags.insert(model.tags.end(), it->second.tags.begin(), it->second.tags.end());
    }
  }

  // The CSV files under the seed paths, each a model of its rows (enabled: false leaves one out).
  void loadSeeds() {
    for (const ModelPath &seed_path : layout_.seed_paths) {
      fs::path directory = fs::path(project_.root) / seed_path.path;
      std::error_code ec;
      if (!fs::is_directory(directory, ec)) {
        continue; // dbt's project template lists seeds/ whether or not the project has any
      }
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(directory, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
          break;
        if (it->is_regular_file(ec) && it->path().extension() == ".csv" &&
            it->path().filename().string()[0] != '.')
          files.push_back(it->path().lexically_relative(project_.root));
      }
      std::sort(files.begin(), files.end());
      for (const fs::path &relative : files) {
        std::string name = relative.stem().string();
        std::vector<std::string> segments;
        for (const fs::path &part : relative.lexically_relative(seed_path.path).parent_path())
          segments.push_back(part.string());
        segments.push_back(name);
        SeedConfig config;
        if (layout_.seeds && layout_.project_file >= 0) {
          YamlFile yaml(layout_.project_file, sources_, diags_);
          config = seedConfigFor(yaml, layout_.seeds, project_.name, segments);
        }
        if (auto it = schema_.seeds.find(name); it != schema_.seeds.end()) {
          for (const auto &[column, type] : it->second.column_types)
            config.column_types[column] = type;
          if (it->second.enabled)
            config.enabled = it->second.enabled;
          if (it->second.range.valid())
            config.range = it->second.range;
        }
        if (!config.enabled.value_or(true)) {
          disabled_.insert(name);
          continue;
        }
        std::optional<FileId> file = addFile(relative);
        if (!file)
          continue;
        if (const Model *same = project_.findModel(name)) {
          diags_.error({{*file, 0}, 0}, "seed \"" + name + "\" has the name of a model")
              .notes.emplace_back(SourceRange{{same->file, 0}, 0}, "defined here");
          continue;
        }
        if (const SourceTable *same = project_.findSource(kSeedChangesSource, name)) {
          diags_
              .error(same->range, "source table \"" + same->qualifiedName() +
                                      "\" has the name of the table of seed \"" + name +
                                      "\"'s changes")
              .hint = "rename the source: Kiln names the table of a seed's changes seed.SEED";
          continue;
        }
        SourceTable changes;
        if (std::optional<Model> model = seedModel(name, relative.generic_string(), *file,
                                                   sources_.text(*file), config, changes, diags_)) {
          project_.models.push_back(std::move(*model));
          project_.sources.push_back(std::move(changes));
        }
      }
    }
  }

  // A test is a sink of its failing rows whose connector, test:SEVERITY, tells the program to
  // report when the test starts or stops failing.
  void makeTest(Model &model, SourceRange configured_at) {
    model.materialization = Materialization::Sink;
    model.connector.address = "test:" + model.test_severity;
    model.connector.range = configured_at;
  }

  // schema.yml's data tests: each renders a call of its test macro; every error in its SQL points
  // at the test's entry in the YAML.
  void loadDataTests() {
    std::vector<std::string> known = context_->testNames();
    for (const DataTest &test : schema_.tests) {
      if (!context_->hasTest(test.test)) {
        Diagnostic &error = diags_.error(test.range, "unknown test \"" + test.test + "\"");
        if (auto suggestion = closestMatch(test.test, known))
          error.hint = "did you mean \"" + *suggestion + "\"?";
        else
          error.hint = "define it with {% test " + test.test +
                       "(model, column_name) %} in a file under macro-paths";
        continue;
      }
      if (const Model *same = project_.findModel(test.name)) {
        diags_.error(test.range, "test \"" + test.name + "\" has the name of a model")
            .notes.emplace_back(SourceRange{{same->file, 0}, 0}, "defined here");
        continue;
      }
      std::string path = sources_.path(test.range.begin.file);
      Model model;
      model.name = test.name;
      model.path = path;
      model.file = sources_.addFile(path + " (test " + test.name + ")", dataTestTemplate(test));
      model.test_severity = test.severity;
      if (auto parsed = jinja::parseTemplate(sources_, model.file, diags_))
        context_->renderModel(model, model_connectors_[model.name], parsed);
      makeTest(model, test.range);
      model.file = test.range.begin.file;
      for (OffsetSegment &segment : model.offsets) {
        segment.model_begin = test.range.begin.offset;
        segment.model_length = test.range.length;
        segment.verbatim = false;
      }
      std::fill(model.ref_ranges.begin(), model.ref_ranges.end(), test.range);
      std::fill(model.source_ranges.begin(), model.source_ranges.end(), test.range);
      model.config_range = {};
      project_.models.push_back(std::move(model));
    }
  }

  // Singular tests: the SQL files under test-paths, each selecting its failing rows.
  void loadSingularTests() {
    std::vector<fs::path> sql_files, yaml_files;
    collectFiles(layout_.test_paths, sql_files, yaml_files, false);
    for (const fs::path &path : sql_files) {
      size_t before = project_.models.size();
      loadModel(path, "error");
      if (project_.models.size() > before)
        makeTest(project_.models.back(), {{project_.models.back().file, 0}, 0});
    }
  }

  // Sinks and indexes are found by their output names: an alias may not take another's.
  void checkOutputNames() {
    std::map<std::string, const Model *> outputs;
    for (const Model &model : project_.models) {
      auto [it, fresh] = outputs.emplace(model.outputName(), &model);
      if (fresh)
        continue;
      const Model &aliased = model.alias.empty() ? *it->second : model;
      const Model &other = model.alias.empty() ? model : *it->second;
      diags_
          .error(aliased.alias_range, "alias \"" + aliased.alias + "\" of model \"" + aliased.name +
                                          "\" is also the output name of model \"" + other.name +
                                          "\"")
          .hint = "give each model an output name of its own";
    }
  }

  void resolveReferences() {
    checkOutputNames();
    std::vector<std::string> model_names, table_names;
    for (const Model &model : project_.models)
      model_names.push_back(model.name);
    for (const SourceTable &table : project_.sources)
      table_names.push_back(table.qualifiedName());

    for (const Model &model : project_.models) {
      for (size_t i = 0; i < model.refs.size(); ++i) {
        const std::string &name = model.refs[i];
        if (project_.findModel(name))
          continue;
        if (disabled_.count(name)) {
          diags_.error(model.ref_ranges[i], "ref to disabled model \"" + name + "\"").hint =
              "enable it (enabled: true), or disable this model too";
          continue;
        }
        Diagnostic &error =
            diags_.error(model.ref_ranges[i], "ref to unknown model \"" + name + "\"");
        if (auto suggestion = closestMatch(name, model_names)) {
          error.hint = "did you mean \"" + *suggestion + "\"?";
        } else {
          for (const SourceTable &table : project_.sources)
            if (table.name == name)
              error.hint = "\"" + name + "\" is a source table: use {{ source('" + table.source +
                           "', '" + name + "') }}";
        }
      }
      for (size_t i = 0; i < model.sources.size(); ++i) {
        const auto &[source, table] = model.sources[i];
        if (project_.findSource(source, table))
          continue;
        bool source_known = std::any_of(project_.sources.begin(), project_.sources.end(),
                                        [&](const SourceTable &t) { return t.source == source; });
        Diagnostic &error =
            diags_.error(model.source_ranges[i],
                         source_known ? "source \"" + source + "\" has no table \"" + table + "\""
                                      : "unknown source \"" + source + "\"");
        error.hint = table_names.empty()
                         ? "no sources are declared; declare them under sources: in a .yml file "
                           "under the model paths"
                         : "declared tables: " + quotedList(table_names);
        if (auto suggestion = closestMatch(source + "." + table, table_names))
          error.hint = "did you mean \"" + *suggestion + "\"? " + error.hint;
      }
    }
  }

  // Orders models so that each comes after the models it refs. Among models whose dependencies
  // are all placed, the one with the smallest path goes first (models are already in path order),
  // so the order is stable. Models left over are on or behind a cycle, which is reported.
  void sortModels() {
    std::vector<Model> &models = project_.models;
    size_t count = models.size();
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < count; ++i)
      index[models[i].name] = i;
    std::vector<std::vector<size_t>> dependencies(count), dependents(count);
    for (size_t i = 0; i < count; ++i)
      for (const std::string &ref : models[i].refs)
        if (auto it = index.find(ref); it != index.end()) {
          dependencies[i].push_back(it->second);
          dependents[it->second].push_back(i);
        }

    std::vector<size_t> pending(count);
    std::set<size_t> ready;
    for (size_t i = 0; i < count; ++i)
      if ((pending[i] = dependencies[i].size()) == 0)
        ready.insert(i);
    std::vector<size_t> order;
    while (!ready.empty()) {
      size_t next = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(next);
      for (size_t dependent : dependents[next])
        if (--pending[dependent] == 0)
          ready.insert(dependent);
    }
    if (order.size() < count)
      reportCycles(dependencies, pending);

    std::vector<Model> sorted;
    sorted.reserve(count);
    for (size_t i : order)
      sorted.push_back(std::move(models[i]));
    models = std::move(sorted);
  }

  // Every model still pending has a pending dependency, so following the first pending dependency
  // from any of them must come back to a model already on the walk: that closes a cycle.
  void reportCycles(const std::vector<std::vector<size_t>> &dependencies,
                    const std::vector<size_t> &pending) {
    const std::vector<Model> &models = project_.models;
    std::vector<int> walked(models.size(), -1); // which walk reached the model first
    for (size_t start = 0; start < models.size(); ++start) {
      if (pending[start] == 0 || walked[start] >= 0)
        continue;
      std::vector<size_t> path;
      size_t at = start;
      while (walked[at] < 0) {
        walked[at] = static_cast<int>(start);
        path.push_back(at);
        for (size_t dependency : dependencies[at])
          if (pending[dependency] > 0) {
            at = dependency;
            break;
          }
      }
      if (walked[at] != static_cast<int>(start))
        continue; // led into a cycle already reported
      std::vector<size_t> cycle(std::find(path.begin(), path.end(), at), path.end());
      // Start at the model with the smallest path so the message does not depend on the walk.
      std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
      reportCycle(cycle);
    }
  }

  // `cycle` lists models each of which refs the next, the last one reffing the first.
  void reportCycle(const std::vector<size_t> &cycle) {
    const std::vector<Model> &models = project_.models;
    auto refRange = [&](size_t from, size_t to) {
      const Model &model = models[from];
      auto it = std::find(model.refs.begin(), model.refs.end(), models[to].name);
      return model.ref_ranges[it - model.refs.begin()];
    };
    std::string names;
    for (size_t i : cycle)
      names += models[i].name + " -> ";
    names += models[cycle.front()].name;
    Diagnostic &error =
        diags_.error(refRange(cycle.back(), cycle.front()), "models form a cycle: " + names);
    for (size_t i = 0; i + 1 < cycle.size(); ++i)
      error.notes.emplace_back(refRange(cycle[i], cycle[i + 1]),
                               "\"" + models[cycle[i]].name + "\" refs \"" +
                                   models[cycle[i + 1]].name + "\" here");
  }

  SourceManager &sources_;
  DiagnosticEngine &diags_;
  const LoadOptions &options_;
  fs::path display_root_;
  Project project_;
  ProjectLayout layout_;
  std::optional<DbtContext> context_;
  SchemaContents schema_{
      project_.sources, nullptr, false, {}, {}, {}, {}};      // what the YAML files declare
  FolderConfig folder_configs_;                               // dbt_project.yml's `models:`
  std::set<std::string> disabled_;                            // models with enabled: false
  std::map<std::string, ConnectorSettings> model_connectors_; // by model: its config()'s
};

} // namespace

std::optional<Project> loadProject(const std::string &directory, SourceManager &sources,
                                   DiagnosticEngine &diags, const LoadOptions &options) {
  return Loader(sources, diags, options).load(directory);
}

} // namespace kiln::project
