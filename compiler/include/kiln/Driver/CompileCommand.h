// `kiln compile <project>`: loads the project and prints every model's rendered SQL, in dependency
// order, each under a header line `-- model: <name> (<materialization>)`. Before the models, one
// comment line per source table shows the schema read from the YAML files:
//   -- source: shop.orders (id bigint not null, status text, primary key (id))
#pragma once

#include "kiln/Support/Diagnostics.h"

#include <iosfwd>
#include <map>
#include <string>

namespace kiln {

// Diagnostics (warnings too) go to `err` in `format`. Returns the process exit code: 0, or 1 if the
// project has errors. `vars` are --vars overrides (see project::LoadOptions::var_overrides).
int runCompileCommand(const std::string &project_dir,
                      const std::map<std::string, std::string> &vars, kiln::DiagnosticFormat format,
                      std::ostream &out, std::ostream &err, const std::string &catalog = "");

} // namespace kiln
