// Kiln's Jinja engine: the part of Jinja2 that dbt projects use, with Jinja2's semantics.
//
// Templates are parsed once (syntax errors are located diagnostics) and rendered in an
// Environment that holds the names every template sees (dbt's context) and the macros of the
// project's macro files. Rendering a template returns its text with a map from each piece of the
// text back to the template: verbatim text maps to itself, everything a {{ }} produced maps to
// that whole {{ }}, so errors found later in the rendered text point into the user's file.
// Errors during rendering are located where they arise, with the macro calls that led there as
// notes.
#pragma once

#include "kiln/Jinja/Value.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::jinja {

struct Template; // a parsed file

// Parses the file; reports every syntax error and returns nullptr if there was one.
std::shared_ptr<const Template> parseTemplate(const SourceManager &sources, FileId file,
                                              DiagnosticEngine &diags);

// A contiguous piece of rendered text and where it came from.
struct Segment {
  uint32_t rendered_begin = 0;
  uint32_t length = 0;
  uint32_t template_begin = 0;  // offset in the template's file
  uint32_t template_length = 0; // the verbatim text's length, or the whole {{ }}'s
  bool verbatim = true;         // false: produced by a {{ }}
};

struct Rendered {
  std::string text;
  std::vector<Segment> segments;
};

// What builtins written in C++ may ask of the rendering that calls them.
class Renderer {
public:
  virtual ~Renderer() = default;
  // Calls a macro or function (adapter.dispatch's result, caller()).
  virtual Value call(const Value &callee, CallArgs &args) = 0;
  virtual DiagnosticEngine &diags() = 0;
};

class Environment {
public:
  Environment(const SourceManager &sources, DiagnosticEngine &diags);
  ~Environment();
  Environment(const Environment &) = delete;
  Environment &operator=(const Environment &) = delete;

  // A name every template sees, below its own names (dbt's context: ref, var, target, ...).
  void setGlobal(const std::string &name, Value value);

  // Runs the top level of a file of macros: each {% macro %} (and dbt's {% test %}, as macro
  // test_<name>) becomes a macro of `namespace_name`: "" for the project's own macros, which
  // every template calls by name, or a package such as "dbt", whose macros templates reach
  // through its object (dbt.date_trunc) and by name when the project defines none of that name.
  // Returns false after reporting an error (a macro defined twice, an error at the top level).
  bool defineMacros(const std::shared_ptr<const Template> &file, const std::string &namespace_name);
  // A macro of a namespace, if defined.
  std::optional<Value> macro(const std::string &namespace_name, const std::string &name) const;
  // The names of a namespace's macros, sorted.
  std::vector<std::string> macroNames(const std::string &namespace_name) const;
  // An object whose attributes are the macros of a namespace (dbt.date_trunc).
  Value namespaceObject(const std::string &namespace_name);

  // How many statements one rendering may run (default ten million) before it is an error.
  void setStepLimit(int64_t limit);

  // Renders a template with `locals` as its own names; reports an error and returns nullopt if
  // rendering fails.
  std::optional<Rendered> render(const std::shared_ptr<const Template> &file, const Dict &locals);

  struct State;

private:
  std::unique_ptr<State> state_;
};

} // namespace kiln::jinja
