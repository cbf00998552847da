// dbt's template context on Kiln's Jinja engine: ref, source, config, var, env_var, this, target,
// adapter.dispatch, exceptions, is_incremental and the dbt namespace of cross-database macros, as
// dbt renders models for the postgres adapter.
#include "Loader.h"

#include "kiln/Support/Spelling.h"

#include <algorithm>
#include <cstdlib>
#include <regex>

namespace kiln::project {
namespace {

using jinja::Argument;
using jinja::CallArgs;
using jinja::Renderer;
using jinja::Value;

// A relation as ref(), source() and this give it: prints as the name the SQL reads.
class Relation : public jinja::Object {
public:
  Relation(std::string schema, std::string identifier, std::string sql)
      : schema_(std::move(schema)), identifier_(std::move(identifier)), sql_(std::move(sql)) {}
  std::string typeName() const override { return "relation"; }
  std::string str() const override { return sql_; }
  std::optional<Value> attribute(const std::string &name) override {
    if (name == "identifier" || name == "name" || name == "table")
      return Value(identifier_);
    if (name == "schema")
      return Value(schema_);
    if (name == "database")
      return Value("kiln");
    if (name == "render")
      return Value::function("render", [sql = sql_](Renderer &, CallArgs &) { return Value(sql); });
    if (name == "is_table" || name == "is_view")
      return Value(name == "is_view");
    return std::nullopt;
  }

private:
  std::string schema_, identifier_, sql_;
};

// An object of fixed attributes (target, exceptions, adapter).
class Record : public jinja::Object {
public:
  Record(std::string type, jinja::Dict attributes)
      : type_(std::move(type)), attributes_(std::move(attributes)) {}
  std::string typeName() const override { return type_; }
  std::optional<Value> attribute(const std::string &name) override {
    if (const Value *found = attributes_.find(name))
      return *found;
    return std::nullopt;
  }

private:
  std::string type_;
  jinja::Dict attributes_;
};

// config: called as config(materialized='sink'), and read as config.get('key', default).
class ConfigObject : public jinja::Object {
public:
  explicit ConfigObject(std::function<Value(Renderer &, CallArgs &)> call,
                        std::function<std::optional<Value>(const std::string &)> get)
      : call_(std::move(call)), get_(std::move(get)) {}
  std::string typeName() const override { return "config"; }
  bool callable() const override { return true; }
  Value call(Renderer &renderer, CallArgs &args) override { return call_(renderer, args); }
  std::optional<Value> attribute(const std::string &name) override {
    if (name == "get" || name == "require")
      return Value::function("config." + name, [this, name](Renderer &, CallArgs &args) {
        std::string key = args.value(0, "name").str();
        if (std::optional<Value> value = get_(key))
          return *value;
        if (name == "require")
          args.fail("finds no \"" + key + "\" in the model's config");
        return args.value(1, "default", Value::none());
      });
    return std::nullopt;
  }

private:
  std::function<Value(Renderer &, CallArgs &)> call_;
  std::function<std::optional<Value>(const std::string &)> get_;
};

bool isYamlBool(const std::string &text, bool &value) {
  static const char *const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
  static const char *const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                       "NO",    "off",   "Off",   "OFF"};
  for (const char *word : kTrue)
    if (text == word)
      return value = true;
  for (const char *word : kFalse)
    if (text == word) {
      value = false;
      return true;
    }
  return false;
}

} // namespace

Value jinjaValue(const YAML::Node &node) {
  if (!node.IsDefined() || node.IsNull())
    return Value::none();
  if (node.IsSequence()) {
    jinja::List items;
    for (const YAML::Node &item : node)
      items.push_back(jinjaValue(item));
    return Value::list(std::move(items));
  }
  if (node.IsMap()) {
    jinja::Dict dict;
    for (const auto &entry : node)
      dict.set(entry.first.Scalar(), jinjaValue(entry.second));
    return Value::dict(std::move(dict));
  }
  const std::string &text = node.Scalar();
  if (node.Tag() == "!")
    return Value(text); // quoted: a string as it is
  // Plain scalars resolve as PyYAML (YAML 1.1, which dbt reads with) resolves them.
  bool boolean;
  if (isYamlBool(text, boolean))
    return Value(boolean);
  if (text == "null" || text == "Null" || text == "NULL" || text == "~")
    return Value::none();
  static const std::regex kInt("[-+]?(0|[1-9][0-9_]*)");
  static const std::regex kFloat("[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?");
  std::string digits;
  for (char c : text)
    if (c != '_')
      digits += c;
  try {
    if (std::regex_match(text, kInt))
      return Value(static_cast<int64_t>(std::stoll(digits)));
    if (text != "." && std::regex_match(text, kFloat))
      return Value(std::stod(digits));
  } catch (const std::exception &) {
  }
  return Value(text);
}

DbtContext::DbtContext(const SourceManager &sources, DiagnosticEngine &diags,
                       std::string project_name, std::map<std::string, Value> vars)
    : env_(sources, diags), diags_(diags), project_name_(std::move(project_name)),
      vars_(std::move(vars)) {
  env_.setGlobal("var",
                 Value::function("var", [this](Renderer &, CallArgs &args) { return var(args); }));
  env_.setGlobal("env_var", Value::function("env_var", [](Renderer &, CallArgs &args) {
                   return envVar(args);
                 }));
  auto always_false = [](Renderer &, CallArgs &args) {
    args.expect(0, {});
    return Value(false);
  };
  env_.setGlobal("is_incremental", Value::function("is_incremental", always_false));
  env_.setGlobal("should_full_refresh", Value::function("should_full_refresh", always_false));
  env_.setGlobal("execute", Value(true));
  env_.setGlobal("log", Value::function("log", [](Renderer &, CallArgs &) { return Value(""); }));
  env_.setGlobal("print",
                 Value::function("print", [](Renderer &, CallArgs &) { return Value(""); }));

  jinja::Dict target;
  target.set("type", Value("postgres"));
  target.set("name", Value("dev"));
  target.set("schema", Value("public"));
  target.set("database", Value("kiln"));
  target.set("profile_name", Value(project_name_));
  target.set("threads", Value(int64_t(1)));
  env_.setGlobal("target", Value::object(std::make_shared<Record>("target", std::move(target))));

  jinja::Dict exceptions;
  exceptions.set("raise_compiler_error",
                 Value::function("exceptions.raise_compiler_error", [](Renderer &, CallArgs &args) {
                   throw jinja::Error{args.range, args.value(0, "msg").str(), "", {}};
                   return Value();
                 }));
  exceptions.set(
      "raise_not_implemented",
      Value::function("exceptions.raise_not_implemented", [](Renderer &, CallArgs &args) {
        throw jinja::Error{args.range, "not implemented: " + args.value(0, "msg").str(), "", {}};
        return Value();
      }));
  exceptions.set("warn", Value::function("exceptions.warn", [](Renderer &renderer, CallArgs &args) {
                   renderer.diags().warning(args.range, args.value(0, "msg").str());
                   return Value("");
                 }));
  env_.setGlobal("exceptions",
                 Value::object(std::make_shared<Record>("exceptions", std::move(exceptions))));

  jinja::Dict adapter;
  adapter.set("dispatch", Value::function("adapter.dispatch", [this](Renderer &, CallArgs &args) {
                return dispatch(args);
              }));
  adapter.set("quote", Value::function("adapter.quote", [](Renderer &, CallArgs &args) {
                return Value(sqlIdentifier(args.value(0, "identifier").str()));
              }));
  for (const char *warehouse_call : {"get_relation", "get_columns_in_relation", "execute",
                                     "get_missing_columns", "list_relations_without_caching"})
    adapter.set(warehouse_call,
                Value::function(std::string("adapter.") + warehouse_call,
                                [](Renderer &, CallArgs &args) -> Value {
                                  args.fail("needs a warehouse",
                                            "Kiln renders models without connecting to a "
                                            "database; write the columns or relation out");
                                }));
  env_.setGlobal("adapter", Value::object(std::make_shared<Record>("adapter", std::move(adapter))));
  env_.setGlobal("dbt", env_.namespaceObject("dbt"));
  env_.setGlobal(project_name_, env_.namespaceObject(""));
}

bool DbtContext::defineMacros(const std::shared_ptr<const jinja::Template> &file,
                              bool dbt_builtin) {
  return env_.defineMacros(file, dbt_builtin ? "dbt" : "");
}

Value DbtContext::var(CallArgs &args) {
  bool well_formed = (args.args.size() == 1 || args.args.size() == 2) &&
                     args.positional() == args.args.size() && args.args[0].value.isString();
  if (!well_formed)
    args.fail("expects a name and an optional default, e.g. {{ var('min_amount', 10) }}");
  const std::string &name = args.args[0].value.asString();
  if (auto it = vars_.find(name); it != vars_.end())
    return it->second;
  if (args.args.size() == 2)
    return args.args[1].value;
  std::vector<std::string> defined;
  for (const auto &[defined_name, value] : vars_)
    defined.push_back(defined_name);
  throw jinja::Error{args.range,
                     "var \"" + name + "\" is not defined",
                     defined.empty() ? "no vars are defined; set them under vars: in the project "
                                       "file or with --vars"
                                     : "defined vars: " + quotedList(defined),
                     {}};
}

Value DbtContext::envVar(CallArgs &args) {
  args.expect(2, {"default"});
  const Argument *name = args.get(0, "var");
  if (!name || !name->value.isString())
    args.fail("takes a variable's name and an optional default, e.g. "
              "env_var('KAFKA_BROKERS', 'localhost:9092')");
  const Argument *fallback = args.get(1, "default");
  const char *set = std::getenv(name->value.asString().c_str());
  // A variable that is not set is undefined (an error where the SQL prints it), but a connector
  // setting keeps the call, set or not: the executable reads the variable when it starts.
  Value value = set        ? Value(std::string(set))
                : fallback ? Value(fallback->value.str())
                           : Value::undefined(name->value.asString());
  value.setDeferredText("{{ env_var('" + name->value.asString() + "'" +
                        (fallback ? ", '" + fallback->value.str() + "'" : "") + ") }}");
  return value;
}

Value DbtContext::dispatch(CallArgs &args) {
  args.expect(2, {"macro_name", "macro_namespace"});
  Value name = args.value(0, "macro_name");
  if (!name.isString())
    args.fail("takes a macro name, e.g. adapter.dispatch('date_trunc', 'dbt')");
  Value space = args.value(1, "macro_namespace", Value::none());
  // The project's implementations first, then the namespace's; in each, postgres__ before
  // default__, as dbt searches for the postgres adapter.
  std::vector<std::string> namespaces{""};
  if (space.isString() && space.asString() == "dbt")
    namespaces.push_back("dbt");
  for (const std::string &in : namespaces)
    for (const char *prefix : {"postgres__", "default__"})
      if (std::optional<Value> found = env_.macro(in, prefix + name.asString()))
        return *found;
  if (space.isString() && space.asString() != "dbt" && space.asString() != project_name_)
    args.fail("finds no macro \"" + name.asString() + "\" in namespace \"" + space.asString() +
                  "\"",
              "packages are not supported; copy the package's macros into a file under "
              "macro-paths");
  args.fail("finds no implementation of \"" + name.asString() + "\" for postgres",
            "define a macro postgres__" + name.asString() + " or default__" + name.asString());
}

void DbtContext::renderModel(Model &model, ConnectorSettings &connector,
                             const std::shared_ptr<const jinja::Template> &file) {
  jinja::Dict config_values;
  // ref(), source(), config() and this are the model's own, and macros the model calls see them.
  env_.setGlobal(
      "ref", Value::function("ref", [&](Renderer &, CallArgs &args) { return ref(model, args); }));
  env_.setGlobal("source", Value::function("source", [&](Renderer &, CallArgs &args) {
                   return source(model, args);
                 }));
  env_.setGlobal("config", Value::object(std::make_shared<ConfigObject>(
                               [&](Renderer &, CallArgs &args) {
                                 config(model, connector, args);
                                 for (const Argument &argument : args.args)
                                   config_values.set(argument.keyword, argument.value);
                                 return Value("");
                               },
                               [&](const std::string &key) -> std::optional<Value> {
                                 if (const Value *found = config_values.find(key))
                                   return *found;
                                 if (key == "materialized")
                                   return Value(materializationName(model.materialization));
                                 return std::nullopt;
                               })));
  env_.setGlobal("this", Value::object(std::make_shared<Relation>("public", model.name,
                                                                  sqlIdentifier(model.name))));
  jinja::Dict model_info;
  model_info.set("name", Value(model.name));
  model_info.set("unique_id", Value("model." + project_name_ + "." + model.name));
  model_info.set("original_file_path", Value(model.path));
  model_info.set("resource_type", Value("model"));
  model_info.set("package_name", Value(project_name_));
  env_.setGlobal("model", Value::dict(std::move(model_info)));

  std::optional<jinja::Rendered> rendered = env_.render(file, {});
  // The model's own functions refer to this call's locals: no template may call them later.
  for (const char *name : {"ref", "source", "config", "this", "model"})
    env_.setGlobal(name, Value::undefined(name));
  if (!rendered)
    return;
  model.rendered_sql = std::move(rendered->text);
  for (const jinja::Segment &segment : rendered->segments)
    model.offsets.push_back({segment.rendered_begin, segment.length, segment.template_begin,
                             segment.verbatim, segment.template_length});
}

std::optional<std::string>
DbtContext::renderWithInputs(const Model &model, const std::shared_ptr<const jinja::Template> &file,
                             const std::map<std::string, std::string> &inputs) {
  Model scratch;
  scratch.name = model.name;
  scratch.path = model.path;
  scratch.file = model.file;
  ConnectorSettings connector;
  unit_inputs_ = &inputs;
  size_t errors = diags_.errorCount();
  renderModel(scratch, connector, file);
  unit_inputs_ = nullptr;
  if (diags_.errorCount() > errors)
    return std::nullopt;
  return scratch.rendered_sql;
}

bool DbtContext::hasTest(const std::string &name) const {
  return env_.macro("", "test_" + name) || env_.macro("dbt", "test_" + name);
}

std::vector<std::string> DbtContext::testNames() const {
  std::vector<std::string> names;
  for (const char *space : {"", "dbt"})
    for (const std::string &macro : env_.macroNames(space))
      if (macro.rfind("test_", 0) == 0)
        names.push_back(macro.substr(5));
  return names;
}

namespace {
bool positionalStrings(const CallArgs &args, size_t count) {
  if (args.args.size() != count)
    return false;
  for (const Argument &argument : args.args)
    if (!argument.keyword.empty() || !argument.value.isString())
      return false;
  return true;
}
} // namespace

Value DbtContext::ref(Model &model, CallArgs &args) {
  // ref('model'), and ref('this_project', 'model') as dbt allows it.
  if (positionalStrings(args, 2) && args.args[0].value.asString() == project_name_)
    args.args.erase(args.args.begin());
  if (!positionalStrings(args, 1)) {
    std::string hint =
        positionalStrings(args, 2) ? "Kiln projects have no packages to ref into" : "";
    throw jinja::Error{
        args.range, "ref() expects one model name, e.g. {{ ref('stg_orders') }}", hint, {}};
  }
  const std::string &name = args.args[0].value.asString();
  if (unit_inputs_) {
    auto input = unit_inputs_->find(name);
    std::string sql = input != unit_inputs_->end() ? input->second : sqlIdentifier(name);
    return Value::object(std::make_shared<Relation>("public", name, sql));
  }
  if (std::find(model.refs.begin(), model.refs.end(), name) == model.refs.end()) {
    model.refs.push_back(name);
    model.ref_ranges.push_back(args.range);
  }
  return Value::object(std::make_shared<Relation>("public", name, sqlIdentifier(name)));
}

Value DbtContext::source(Model &model, CallArgs &args) {
  if (!positionalStrings(args, 2))
    throw jinja::Error{args.range,
                       "source() expects a source name and a table name, e.g. "
                       "{{ source('shop', 'orders') }}",
                       "",
                       {}};
  std::pair<std::string, std::string> table{args.args[0].value.asString(),
                                            args.args[1].value.asString()};
  if (unit_inputs_) {
    auto input = unit_inputs_->find(table.first + "." + table.second);
    std::string sql = input != unit_inputs_->end()
                          ? input->second
                          : sqlIdentifier(table.first) + "." + sqlIdentifier(table.second);
    return Value::object(std::make_shared<Relation>(table.first, table.second, sql));
  }
  if (std::find(model.sources.begin(), model.sources.end(), table) == model.sources.end()) {
    model.sources.push_back(table);
    model.source_ranges.push_back(args.range);
  }
  return Value::object(std::make_shared<Relation>(
      table.first, table.second, sqlIdentifier(table.first) + "." + sqlIdentifier(table.second)));
}

void DbtContext::config(Model &model, ConnectorSettings &connector, CallArgs &args) {
  if (model.config_range.valid()) {
    jinja::Error error{args.range, "config() is called twice in one model", "", {}};
    error.notes.emplace_back(model.config_range, "first called here");
    throw error;
  }
  model.config_range = args.range;
  for (const Argument &argument : args.args) {
    if (argument.keyword.empty())
      throw jinja::Error{argument.range,
                         "config() takes keyword arguments, e.g. {{ config(materialized='sink') }}",
                         "",
                         {}};
    const Value &value = argument.value;
    switch (classifyConfigKey(argument.keyword)) {
    case ConfigKey::Materialized: {
      std::optional<Materialization> kind;
      if (value.isString())
        kind = parseMaterialization(value.asString());
      if (!kind)
        throw jinja::Error{argument.range,
                           "unsupported materialization \"" +
                               (value.isString() ? value.asString() : value.str()) + "\"",
                           kMaterializationHint,
                           {}};
      model.materialization = *kind;
      model.materialization_range = argument.range;
      model.materialization_in_model = true;
      break;
    }
    case ConfigKey::Enabled:
      if (value.kind() != Value::Kind::Bool)
        throw jinja::Error{argument.range, "enabled must be true or false", "", {}};
      model.enabled = value.asBool();
      break;
    case ConfigKey::Alias:
      if (!value.isString() || value.asString().empty())
        throw jinja::Error{argument.range, "alias must be a name, e.g. alias='orders_v2'", "", {}};
      model.alias = value.asString();
      model.alias_range = argument.range;
      break;
    case ConfigKey::Placement: // where a warehouse puts it: nothing in Kiln
      break;
    case ConfigKey::UniqueKey:
      model.unique_key =
          columnNames(argument, "unique_key", "unique_key='id' or unique_key=['order_id', 'line']");
      model.unique_key_range = argument.range;
      break;
    case ConfigKey::Connector: {
      ConnectorSetting setting;
      setting.key_range = argument.keyword_range;
      setting.value_range = argument.range;
      if (argument.keyword == "key") {
        setting.key = columnNames(argument, "key", "key='id' or key=['region', 'day']");
        for (const std::string &column : setting.key)
          setting.value += (setting.value.empty() ? "" : ",") + column;
      } else if (!value.deferredText().empty()) {
        setting.value = value.deferredText();
      } else if (value.isString()) {
        setting.value = value.asString();
      } else {
        throw jinja::Error{argument.range,
                           argument.keyword + " takes a string, e.g. " + argument.keyword +
                               "='...'",
                           "",
                           {}};
      }
      connector[argument.keyword] = std::move(setting);
      break;
    }
    case ConfigKey::Unused:
      if (argument.keyword == "tags")
        for (const Value &tag :
             value.kind() == Value::Kind::List ? value.asList() : jinja::List{value})
          model.tags.push_back(tag.str());
      // A singular test's severity (the other test configs are dbt's alone).
      if (argument.keyword == "severity" && !model.test_severity.empty()) {
        std::string severity = value.str();
        for (char &c : severity)
          c = std::tolower(static_cast<unsigned char>(c));
        if (severity != "error" && severity != "warn")
          throw jinja::Error{argument.range, "severity must be error or warn", "", {}};
        model.test_severity = severity;
      }
      break;
    case ConfigKey::Unknown:
      throw jinja::Error{argument.keyword_range,
                         "unsupported config key \"" + argument.keyword + "\"",
                         "Kiln's config() takes materialized=, enabled=, unique_key= and a "
                         "sink's connector settings (connector=, format=, topic=, brokers=, "
                         "path=, key=), and accepts dbt's other model configs (tags, ...) "
                         "without using them",
                         {}};
    }
  }
}

std::vector<std::string> DbtContext::columnNames(const Argument &argument, const std::string &what,
                                                 const std::string &example) {
  std::vector<std::string> columns;
  const Value &value = argument.value;
  bool ok = value.isString() || (value.kind() == Value::Kind::List && !value.asList().empty());
  if (value.isString())
    columns.push_back(value.asString());
  else if (ok)
    for (const Value &item : value.asList()) {
      ok &= item.isString();
      columns.push_back(item.str());
    }
  if (!ok)
    throw jinja::Error{
        argument.range, what + " takes a column name or a list of them, e.g. " + example, "", {}};
  return columns;
}

} // namespace kiln::project
