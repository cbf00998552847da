#include "kiln/Driver/Graph.h"

#include "kiln/Project/Project.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

namespace kiln {
namespace {

using project::Materialization;
using project::Model;
using project::Project;
using project::SourceTable;

struct Resource {
  enum class Kind { Source, Seed, Model, Test } kind;
  std::string name;             // orders, shop.orders
  std::vector<std::string> fqn; // project, folders..., name (sources: project, source, table)
  std::string path;             // its file
  std::vector<std::string> tags;
  std::vector<size_t> parents, children;
  const Model *model = nullptr;
  const SourceTable *table = nullptr;
};

const char *kindName(Resource::Kind kind) {
  switch (kind) {
  case Resource::Kind::Source:
    return "source";
  case Resource::Kind::Seed:
    return "seed";
  case Resource::Kind::Model:
    return "model";
  case Resource::Kind::Test:
    return "test";
  }
  return "?";
}

std::vector<Resource> resourcesOf(const Project &project) {
  std::vector<Resource> resources;
  std::map<std::string, size_t> by_model, by_table;
  for (const SourceTable &table : project.sources) {
    if (table.seed)
      continue; // part of its seed (the table of its changes at run time)
    Resource r{Resource::Kind::Source,
               table.qualifiedName(),
               {project.name, table.source, table.name},
               "",
               {},
               {},
               {},
               nullptr,
               &table};
    by_table[table.qualifiedName()] = resources.size();
    resources.push_back(std::move(r));
  }
  for (const Model &model : project.models) {
    Resource r{model.seed                     ? Resource::Kind::Seed
               : !model.test_severity.empty() ? Resource::Kind::Test
                                              : Resource::Kind::Model,
               model.name,
               {project.name},
               model.path,
               model.tags,
               {},
               {},
               &model,
               nullptr};
    // Folders under the model (or seed) path, as dbt's fqn has them; tests go by name alone.
    if (r.kind != Resource::Kind::Test) {
      std::vector<std::string> parts;
      std::stringstream path(model.path);
      for (std::string part; std::getline(path, part, '/');)
        parts.push_back(part);
      for (size_t i = 1; i + 1 < parts.size(); ++i)
        r.fqn.push_back(parts[i]);
    }
    r.fqn.push_back(model.name);
    by_model[model.name] = resources.size();
    resources.push_back(std::move(r));
  }
  for (size_t i = 0; i < resources.size(); ++i) {
    const Model *model = resources[i].model;
    if (!model)
      continue;
    auto link = [&](size_t parent) {
      if (std::find(resources[i].parents.begin(), resources[i].parents.end(), parent) !=
          resources[i].parents.end())
        return;
      resources[i].parents.push_back(parent);
      resources[parent].children.push_back(i);
    };
    for (const std::string &ref : model->refs)
      if (auto it = by_model.find(ref); it != by_model.end())
        link(it->second);
    for (const auto &[source, table] : model->sources)
      if (auto it = by_table.find(source + "." + table); it != by_table.end())
        link(it->second);
  }
  return resources;
}

// Shell-style globs: * any run of characters, ? one.
bool globMatch(std::string_view pattern, std::string_view text) {
  if (pattern.empty())
    return text.empty();
  if (pattern[0] == '*')
    return globMatch(pattern.substr(1), text) ||
           (!text.empty() && globMatch(pattern, text.substr(1)));
  return !text.empty() && (pattern[0] == '?' || pattern[0] == text[0]) &&
         globMatch(pattern.substr(1), text.substr(1));
}

class Selector {
public:
  Selector(const std::vector<Resource> &resources, std::ostream &err)
      : resources_(resources), err_(err) {}

  // The resources `selectors` (space-separated or repeated: a union) select; nullopt after
  // reporting a malformed selector.
  std::optional<std::set<size_t>> select(const std::vector<std::string> &selectors) {
    std::set<size_t> all;
    for (const std::string &argument : selectors) {
      std::stringstream words(argument);
      for (std::string word; words >> word;) {
        std::optional<std::set<size_t>> chosen = intersection(word);
        if (!chosen)
          return std::nullopt;
        all.insert(chosen->begin(), chosen->end());
      }
    }
    return all;
  }

private:
  std::optional<std::set<size_t>> intersection(const std::string &word) {
    std::optional<std::set<size_t>> result;
    std::stringstream parts(word);
    for (std::string part; std::getline(parts, part, ',');) {
      std::optional<std::set<size_t>> chosen = one(part);
      if (!chosen)
        return std::nullopt;
      if (!result) {
        result = std::move(chosen);
        continue;
      }
      std::set<size_t> both;
      std::set_intersection(result->begin(), result->end(), chosen->begin(), chosen->end(),
                            std::inserter(both, both.end()));
      result = std::move(both);
    }
    return result.value_or(std::set<size_t>{});
  }

  // One selector: graph operators around a method:value (or a bare name).
  std::optional<std::set<size_t>> one(std::string text) {
    bool at = false;
    std::optional<int> up, down; // levels of ancestors / descendants (-1: all)
    if (!text.empty() && text[0] == '@') {
      at = true;
      text.erase(0, 1);
    }
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
      ++digits;
    if (digits < text.size() && text[digits] == '+') {
      up = digits ? std::atoi(text.substr(0, std::min<size_t>(digits, 6)).c_str()) : -1;
      text.erase(0, digits + 1);
    }
    // name+ or name+N: descendants (all, or N levels).
    if (size_t plus = text.rfind('+');
        plus != std::string::npos && plus > 0 &&
        std::all_of(text.begin() + plus + 1, text.end(), ::isdigit)) {
      down = plus + 1 == text.size() ? -1 : std::atoi(text.substr(plus + 1, 6).c_str());
      text.erase(plus);
    }
    if (text.empty()) {
      err_ << "kiln: error: empty selector\n";
      return std::nullopt;
    }
    std::optional<std::set<size_t>> base = matching(text);
    if (!base)
      return std::nullopt;
    std::set<size_t> result = *base;
    if (up)
      for (size_t r : *base)
        walk(r, *up, true, result);
    if (down || at)
      for (size_t r : *base)
        walk(r, down.value_or(-1), false, result);
    if (at) { // every ancestor of what was selected, so that it can be built
      std::set<size_t> selected = result;
      for (size_t r : selected)
        walk(r, -1, true, result);
    }
    return result;
  }

  void walk(size_t from, int levels, bool up, std::set<size_t> &into) {
    if (levels == 0)
      return;
    for (size_t next : up ? resources_[from].parents : resources_[from].children)
      if (into.insert(next).second || levels > 0)
        walk(next, levels < 0 ? -1 : levels - 1, up, into);
  }

  std::optional<std::set<size_t>> matching(const std::string &text) {
    size_t colon = text.find(':');
    std::string method = colon == std::string::npos ? "" : text.substr(0, colon);
    std::string value = colon == std::string::npos ? text : text.substr(colon + 1);
    std::set<size_t> found;
    for (size_t i = 0; i < resources_.size(); ++i) {
      const Resource &r = resources_[i];
      bool match = false;
      if (method.empty() || method == "fqn") {
        // A name, a folder of its fqn, or the project (dbt's default method).
        match = globMatch(value, r.name) ||
                (r.kind != Resource::Kind::Source &&
                 std::any_of(r.fqn.begin(), r.fqn.end() - 1,
                             [&](const std::string &part) { return globMatch(value, part); }));
      } else if (method == "tag") {
        match = std::any_of(r.tags.begin(), r.tags.end(),
                            [&](const std::string &tag) { return globMatch(value, tag); });
      } else if (method == "path") {
        std::string prefix = value;
        while (!prefix.empty() && prefix.back() == '/')
          prefix.pop_back();
        match = !r.path.empty() && (r.path == prefix || r.path.rfind(prefix + "/", 0) == 0);
      } else if (method == "source") {
        match = r.kind == Resource::Kind::Source &&
                (globMatch(value, r.name) || globMatch(value, r.table->source));
      } else if (method == "resource_type") {
        match = value == kindName(r.kind);
      } else if (method == "test_type") {
        bool singular = r.kind == Resource::Kind::Test && r.path.size() > 4 &&
                        r.path.compare(r.path.size() - 4, 4, ".sql") == 0;
        match = r.kind == Resource::Kind::Test && (value == "singular") == singular;
      } else {
        err_ << "kiln: error: unknown selector method \"" << method
             << "\"; use tag:, path:, source:, resource_type: or test_type:, or a name\n";
        return std::nullopt;
      }
      if (match)
        found.insert(i);
    }
    return found;
  }

  const std::vector<Resource> &resources_;
  std::ostream &err_;
};

struct Loaded {
  SourceManager sources;
  std::optional<DiagnosticEngine> diags;
  std::optional<Project> project;
  std::vector<Resource> resources;
  std::set<size_t> selected;
};

// Loads the project and applies the selection; false after reporting why not.
bool load(const GraphOptions &options, Loaded &loaded, std::ostream &err) {
  loaded.diags.emplace(loaded.sources);
  project::LoadOptions load_options;
  load_options.var_overrides = options.vars;
  loaded.project =
      project::loadProject(options.project_dir, loaded.sources, *loaded.diags, load_options);
  loaded.diags->print(err, options.diagnostics);
  if (!loaded.project)
    return false;
  loaded.resources = resourcesOf(*loaded.project);
  Selector selector(loaded.resources, err);
  if (options.select.empty()) {
    for (size_t i = 0; i < loaded.resources.size(); ++i)
      loaded.selected.insert(i);
  } else if (auto chosen = selector.select(options.select)) {
    loaded.selected = std::move(*chosen);
  } else {
    return false;
  }
  if (!options.exclude.empty()) {
    std::optional<std::set<size_t>> excluded = selector.select(options.exclude);
    if (!excluded)
      return false;
    for (size_t r : *excluded)
      loaded.selected.erase(r);
  }
  if (!options.resource_types.empty())
    for (auto it = loaded.selected.begin(); it != loaded.selected.end();)
      it = std::find(options.resource_types.begin(), options.resource_types.end(),
                     kindName(loaded.resources[*it].kind)) == options.resource_types.end()
               ? loaded.selected.erase(it)
               : std::next(it);
  return true;
}

std::string joined(const std::vector<std::string> &parts, const char *separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i)
    out += (i ? separator : "") + parts[i];
  return out;
}

std::string materialization(const Resource &r) {
  if (r.kind == Resource::Kind::Test)
    return "test (" + r.model->test_severity + ")";
  if (r.kind == Resource::Kind::Seed)
    return "seed";
  if (r.model)
    return project::materializationName(r.model->materialization);
  return "source";
}

// A DOT string; `\n` in `text` stays DOT's line break.
std::string dotQuoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

void writeDot(const Loaded &loaded, std::ostream &out) {
  const std::vector<Resource> &resources = loaded.resources;
  out << "digraph " << dotQuoted(loaded.project->name) << " {\n"
      << "  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11, style=filled];\n";
  for (size_t i : loaded.selected) {
    const Resource &r = resources[i];
    const char *shape = "box", *color = "#dbe9f6";
    switch (r.kind) {
    case Resource::Kind::Source:
      shape = "cylinder";
      color = "#d5ecd4";
      break;
    case Resource::Kind::Seed:
      shape = "cylinder";
      color = "#f6ecd2";
      break;
    case Resource::Kind::Test:
      shape = "note";
      color = "#f6dada";
      break;
    case Resource::Kind::Model:
      if (r.model->materialization == Materialization::Sink)
        shape = "doubleoctagon", color = "#c9dcf2";
      break;
    }
    out << "  " << dotQuoted(std::string(kindName(r.kind)) + "." + r.name)
        << " [label=" << dotQuoted(r.name + "\\n" + materialization(r)) << ", shape=" << shape
        << ", fillcolor=" << dotQuoted(color) << "];\n";
  }
  for (size_t i : loaded.selected)
    for (size_t parent : resources[i].parents)
      if (loaded.selected.count(parent))
        out << "  "
            << dotQuoted(std::string(kindName(resources[parent].kind)) + "." +
                         resources[parent].name)
            << " -> "
            << dotQuoted(std::string(kindName(resources[i].kind)) + "." + resources[i].name)
            << ";\n";
  out << "}\n";
}

std::string html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

// A picture of the graph: resources in columns by their depth (the longest path from a source),
// edges from each parent to its children.
void writeSvg(const Loaded &loaded, std::ostream &out) {
  const std::vector<Resource> &resources = loaded.resources;
  std::map<size_t, int> depth;
  std::function<int(size_t)> depthOf = [&](size_t r) {
    if (auto it = depth.find(r); it != depth.end())
      return it->second;
    int d = 0;
    for (size_t parent : resources[r].parents)
      if (loaded.selected.count(parent))
        d = std::max(d, depthOf(parent) + 1);
    return depth[r] = d;
  };
  std::map<int, std::vector<size_t>> columns;
  for (size_t r : loaded.selected)
    columns[depthOf(r)].push_back(r);
  constexpr int kWidth = 200, kHeight = 34, kColumn = 260, kRow = 48, kMargin = 20;
  std::map<size_t, std::pair<int, int>> at;
  size_t tallest = 0;
  for (const auto &[d, members] : columns) {
    tallest = std::max(tallest, members.size());
    for (size_t i = 0; i < members.size(); ++i)
      at[members[i]] = {kMargin + d * kColumn, kMargin + static_cast<int>(i) * kRow};
  }
  int width = kMargin * 2 + static_cast<int>(columns.size()) * kColumn;
  int height = kMargin * 2 + static_cast<int>(tallest) * kRow;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
      << "markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
      << "fill=\"#777\"/></marker></defs>\n";
  for (size_t r : loaded.selected)
    for (size_t parent : resources[r].parents)
      if (loaded.selected.count(parent)) {
        auto [x1, y1] = at[parent];
        auto [x2, y2] = at[r];
        out << "<path d=\"M" << x1 + kWidth << "," << y1 + kHeight / 2 << " C" << x1 + kWidth + 30
            << "," << y1 + kHeight / 2 << " " << x2 - 30 << "," << y2 + kHeight / 2 << " " << x2
            << "," << y2 + kHeight / 2
            << "\" fill=\"none\" stroke=\"#999\" marker-end=\"url(#arrow)\"/>\n";
      }
  for (size_t r : loaded.selected) {
    const Resource &resource = resources[r];
    auto [x, y] = at[r];
    const char *fill = resource.kind == Resource::Kind::Source ? "#d5ecd4"
                       : resource.kind == Resource::Kind::Seed ? "#f6ecd2"
                       : resource.kind == Resource::Kind::Test ? "#f6dada"
                                                               : "#dbe9f6";
    std::string label =
        resource.name.size() > 30 ? resource.name.substr(0, 28) + "…" : resource.name;
    out << "<a href=\"#" << kindName(resource.kind) << "-" << html(resource.name) << "\"><rect x=\""
        << x << "\" y=\"" << y << "\" width=\"" << kWidth << "\" height=\"" << kHeight
        << "\" rx=\"6\" fill=\"" << fill << "\" stroke=\"#888\"/><text x=\"" << x + 8 << "\" y=\""
        << y + 21 << "\" font-family=\"Helvetica\" font-size=\"12\">" << html(label)
        << "</text><title>" << html(resource.name) << " (" << html(materialization(resource))
        << ")</title></a>\n";
  }
  out << "</svg>\n";
}

void writeHtml(const Loaded &loaded, std::ostream &out) {
  const std::vector<Resource> &resources = loaded.resources;
  const Project &project = *loaded.project;
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html(project.name)
      << "</title>\n<style>body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222}"
      << "section{border-top:1px solid #ddd;padding:.5em 0}table{border-collapse:collapse}"
      << "td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}pre{background:#f6f6f6;"
      << "padding:.5em;overflow:auto}.kind{color:#666;font-size:90%}</style></head><body>\n<h1>"
      << html(project.name) << "</h1>\n<div style=\"overflow:auto\">\n";
  writeSvg(loaded, out);
  out << "</div>\n";
  auto links = [&](const std::vector<size_t> &to) {
    std::string text;
    for (size_t r : to)
      text += std::string(text.empty() ? "" : ", ") + "<a href=\"#" + kindName(resources[r].kind) +
              "-" + html(resources[r].name) + "\">" + html(resources[r].name) + "</a>";
    return text.empty() ? std::string("none") : text;
  };
  for (size_t r : loaded.selected) {
    const Resource &resource = resources[r];
    out << "<section id=\"" << kindName(resource.kind) << "-" << html(resource.name) << "\"><h2>"
        << html(resource.name) << " <span class=\"kind\">" << kindName(resource.kind) << ", "
        << html(materialization(resource)) << "</span></h2>\n";
    std::string description =
        resource.table ? resource.table->description : resource.model->description;
    if (!description.empty())
      out << "<p>" << html(description) << "</p>\n";
    if (!resource.path.empty())
      out << "<p>File: <code>" << html(resource.path) << "</code></p>\n";
    if (!resource.tags.empty())
      out << "<p>Tags: " << html(joined(resource.tags, ", ")) << "</p>\n";
    out << "<p>Reads: " << links(resource.parents) << ". Read by: " << links(resource.children)
        << ".</p>\n";
    if (resource.table) {
      out << "<table><tr><th>column</th><th>type</th><th>description</th></tr>\n";
      for (const project::ColumnDecl &column : resource.table->columns)
        out << "<tr><td>" << html(column.name) << "</td><td>" << html(column.type)
            << (column.not_null ? " not null" : "") << "</td><td>" << html(column.description)
            << "</td></tr>\n";
      out << "</table>\n";
    } else {
      if (!resource.model->column_docs.empty()) {
        out << "<table><tr><th>column</th><th>description</th></tr>\n";
        for (const auto &[name, text] : resource.model->column_docs)
          out << "<tr><td>" << html(name) << "</td><td>" << html(text) << "</td></tr>\n";
        out << "</table>\n";
      }
      out << "<details><summary>SQL</summary><pre>" << html(resource.model->rendered_sql)
          << "</pre></details>\n";
    }
    out << "</section>\n";
  }
  out << "</body></html>\n";
}

} // namespace

std::optional<std::set<std::string>> selectModels(const project::Project &project,
                                                  const std::vector<std::string> &select,
                                                  const std::vector<std::string> &exclude,
                                                  bool with_tests, std::ostream &err) {
  std::vector<Resource> resources = resourcesOf(project);
  Selector selector(resources, err);
  std::set<size_t> chosen;
  if (select.empty()) {
    for (size_t i = 0; i < resources.size(); ++i)
      chosen.insert(i);
  } else if (auto picked = selector.select(select)) {
    chosen = std::move(*picked);
  } else {
    return std::nullopt;
  }
  if (!exclude.empty()) {
    std::optional<std::set<size_t>> excluded = selector.select(exclude);
    if (!excluded)
      return std::nullopt;
    for (size_t r : *excluded)
      chosen.erase(r);
  }
  if (with_tests)
    for (size_t i = 0; i < resources.size(); ++i)
      if (resources[i].kind == Resource::Kind::Test)
        for (size_t parent : resources[i].parents)
          if (chosen.count(parent))
            chosen.insert(i);
  // What the chosen read, all the way up.
  std::vector<size_t> pending(chosen.begin(), chosen.end());
  while (!pending.empty()) {
    size_t r = pending.back();
    pending.pop_back();
    for (size_t parent : resources[r].parents)
      if (chosen.insert(parent).second)
        pending.push_back(parent);
  }
  std::set<std::string> names;
  for (size_t r : chosen)
    if (resources[r].model)
      names.insert(resources[r].name);
  return names;
}

int runListCommand(const GraphOptions &options, std::ostream &out, std::ostream &err) {
  Loaded loaded;
  if (!load(options, loaded, err))
    return 1;
  for (size_t r : loaded.selected) {
    const Resource &resource = loaded.resources[r];
    if (resource.kind == Resource::Kind::Source)
      out << "source:";
    out << joined(resource.fqn, ".") << "\n";
  }
  return 0;
}

int runGraphCommand(const GraphOptions &options, std::ostream &out, std::ostream &err) {
  Loaded loaded;
  if (!load(options, loaded, err))
    return 1;
  std::ofstream file;
  std::ostream *target = &out;
  if (!options.output.empty()) {
    file.open(options.output);
    if (!file) {
      err << "kiln: error: cannot write " << options.output << "\n";
      return 1;
    }
    target = &file;
  }
  if (options.format == "html")
    writeHtml(loaded, *target);
  else
    writeDot(loaded, *target);
  return target->good() ? 0 : 1;
}

} // namespace kiln
