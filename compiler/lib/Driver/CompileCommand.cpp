#include "kiln/Driver/CompileCommand.h"

#include <ostream>

#include "kiln/Driver/Catalog.h"
#include "kiln/Project/Project.h"

namespace kiln {

int runCompileCommand(const std::string &project_dir,
                      const std::map<std::string, std::string> &vars, kiln::DiagnosticFormat format,
                      std::ostream &out, std::ostream &err, const std::string &catalog) {
  SourceManager sources;
  DiagnosticEngine diags(sources);
  project::LoadOptions options;
  options.var_overrides = vars;
  if (!catalog.empty())
    options.catalog = driver::postgresCatalog(catalog);
  std::optional<project::Project> project =
      project::loadProject(project_dir, sources, diags, options);
  diags.print(err, format);
  if (!project)
    return 1;

  // Sources first, as SQL comments, so the schema read from the YAML files can be checked too.
  for (const project::SourceTable &table : project->sources) {
    out << "-- source: " << table.qualifiedName() << " (";
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const project::ColumnDecl &column = table.columns[i];
      out << (i ? ", " : "") << column.name << ' ' << column.type
          << (column.not_null ? " not null" : "");
    }
    for (size_t i = 0; i < table.primary_key.size(); ++i)
      out << (i ? ", " : ", primary key (") << table.primary_key[i];
    out << (table.primary_key.empty() ? ")\n" : "))\n");
  }
  bool separate = !project->sources.empty(); // a blank line before every block but the first
  for (const project::Model &model : project->models) {
    if (separate)
      out << '\n';
    separate = true;
    out << "-- model: " << model.name << " (" << project::materializationName(model.materialization)
        << ")\n";
    out << model.rendered_sql;
    if (!model.rendered_sql.empty() && model.rendered_sql.back() != '\n')
      out << '\n';
  }
  return 0;
}

} // namespace kiln
