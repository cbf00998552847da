// Internal pieces of the project loader, one per file they read or render.
#pragma once

#include "Yaml.h"
#include "kiln/Project/Project.h"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::project {

// --- SqlText.cpp: spelling names and values as SQL text.

// The name as an SQL identifier: as-is when it is a plain lower-case identifier that is not a
// reserved keyword, double-quoted otherwise.
std::string sqlIdentifier(std::string_view name);
// 'text' with embedded quotes doubled.
std::string sqlStringLiteral(std::string_view text);
// Whether the text is a decimal number literal (digits, optional sign, point and exponent).
bool isNumberLiteral(std::string_view text);
// A YAML scalar as an SQL literal: quoted scalars are strings; plain ones are numbers, true/false,
// null, or else strings. An empty node is NULL.
std::string sqlLiteral(const YAML::Node &scalar);

// --- ProjectFile.cpp: kiln_project.yml.

struct ModelPath {
  std::string path;  // relative to the project root
  SourceRange range; // the entry in kiln_project.yml; invalid for the default "models"
};

// Fills name, version, vars and tick_size. Returns false if the file could not be used at all.
bool readProjectFile(YamlFile &yaml, Project &project, std::vector<ModelPath> &model_paths);

// --- SchemaFile.cpp: the *.yml files under the model paths.

// Appends the file's source tables to `tables` (which holds those of earlier files, to find
// tables declared twice).
void readSchemaFile(YamlFile &yaml, std::vector<SourceTable> &tables);

// --- Jinja.cpp: rendering a model.

// Renders `text` (the model file's contents) into model.rendered_sql and model.offsets, and
// records its refs, sources and config. Errors are reported at their construct; rendering goes
// on past them where it can, to report more than one.
void renderModel(Model &model, std::string_view text,
                 const std::map<std::string, std::string> &vars, DiagnosticEngine &diags);

} // namespace kiln::project
