// The last step of `kiln build`: the generated object linked with Kiln's runtime into an
// executable (--emit=exe) or a static library with its C header (--emit=lib).
#pragma once

#include <string>
#include <vector>

#include "kiln/CodeGen/CodeGen.h"

namespace kiln::driver {

// Links `object` with the runtime into an executable that needs none of Kiln's build-time
// packages: Kiln's archives and Abseil are linked statically. Kiln's own tests link a runtime
// built with sanitizers instead: KILN_RUNTIME_LIB names its archive and KILN_LINK_FLAGS adds
// flags (tests/e2e/sanitized-runtime.test).
bool linkExecutable(const std::string &object, const std::string &output, std::string &error);

// What a library's header lists: the project's tables and sinks, in the program's order.
struct LibraryInterface {
  std::string project; // the project's name, which the C names start with
  std::vector<codegen::SourceTable> tables;
  std::vector<codegen::ModelRelation> sinks;
  std::vector<codegen::ModelRelation> indexes;
};

// The C identifier the API of `project` is named with: "my-shop" -> "my_shop".
std::string cPrefix(const std::string &project);

// The header of the library: runtime/include/kiln/runtime/project_api.h named after the
// project, with its tables, sinks and columns. Fails if two of them get the same C name.
bool writeLibraryHeader(const LibraryInterface &interface, const std::string &path,
                        std::string &error);

// Links `object` with the runtime and the C API into one relocatable object whose only global
// symbols are the API's functions, renamed after the project (so that libraries of two
// projects, or two builds of one, link into one program), and archives it at `archive`.
bool linkLibrary(const std::string &object, const LibraryInterface &interface,
                 const std::string &archive, std::string &error);

} // namespace kiln::driver
