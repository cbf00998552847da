#include "Link.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kiln/Driver/Config.h"

namespace fs = std::filesystem;

namespace kiln::driver {

namespace {

std::string shellQuote(const std::string &text) {
  std::string quoted = "'";
  for (char c : text)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

bool run(const std::string &command, std::string &error) {
  if (std::system(command.c_str()) == 0)
    return true;
  error = "linking failed: " + command;
  return false;
}

// The runtime archives every artifact links, and Abseil's, which depend on one another.
std::string runtimeArchives(const std::string &runtime) {
  std::string archives =
      shellQuote(runtime) + " " + shellQuote(KILN_STDLIB_LIB) + " -Wl,--start-group";
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(KILN_ABSL_LIB_DIR, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("libabsl_", 0) == 0 && entry.path().extension() == ".a")
      archives += " " + shellQuote(entry.path().string());
  }
  return archives + " -Wl,--end-group " + shellQuote(KILN_ZLIB_STATIC_LIB);
}

// "shop.orders" -> "SHOP_ORDERS".
std::string macroName(const std::string &name) {
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

// The functions the API declares: every "kiln_project_<name>(" of the header.
std::vector<std::string> apiFunctions(const std::string &header) {
  std::vector<std::string> names;
  const std::string prefix = "kiln_project_";
  for (size_t at = header.find(prefix); at != std::string::npos; at = header.find(prefix, at + 1)) {
    size_t end = at + prefix.size();
    while (end < header.size() &&
           (std::isalnum(static_cast<unsigned char>(header[end])) || header[end] == '_'))
      ++end;
    size_t paren = end;
    while (paren < header.size() && header[paren] == ' ')
      ++paren;
    bool declared = paren < header.size() && header[paren] == '(' && at > 0 &&
                    (header[at - 1] == ' ' || header[at - 1] == '*');
    std::string name = header.substr(at, end - at);
    if (declared && std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  }
  return names;
}

bool readFile(const std::string &path, std::string &text, std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return true;
}

void replaceAll(std::string &text, const std::string &from, const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

} // namespace

bool linkExecutable(const std::string &object, const std::string &output, std::string &error) {
  const char *runtime_override = std::getenv("KILN_RUNTIME_LIB");
  const char *extra_flags = std::getenv("KILN_LINK_FLAGS");
  std::string command = shellQuote(KILN_LINKER) + " -o " + shellQuote(output) + " " +
                        shellQuote(object) + " " + shellQuote(KILN_RUNTIME_MAIN_LIB) + " " +
                        runtimeArchives(runtime_override ? runtime_override : KILN_RUNTIME_LIB) +
                        " " + KILN_RDKAFKA_LINK + " " + shellQuote(KILN_ZLIB_STATIC_LIB) +
                        " -lsimdjson -lpthread";
  if (extra_flags)
    command += std::string(" ") + extra_flags;
  return run(command, error);
}

std::string cPrefix(const std::string &project) {
  std::string prefix;
  for (char c : project)
    prefix +=
        std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  if (prefix.empty() || std::isdigit(static_cast<unsigned char>(prefix[0])))
    prefix = "kiln_" + prefix;
  return prefix;
}

bool writeLibraryHeader(const LibraryInterface &interface, const std::string &path,
                        std::string &error) {
  std::string header;
  if (!readFile(KILN_PROJECT_API_HEADER, header, error))
    return false;
  std::string prefix = cPrefix(interface.project), macro = macroName(prefix);
  // Every constant once: a collision would make two columns one name.
  std::map<std::string, std::string> named; // C name -> what it names
  std::ostringstream constants;
  auto constant = [&](const std::string &name, int64_t value, const std::string &what,
                      const std::string &comment) {
    auto [it, fresh] = named.emplace(name, what);
    if (!fresh)
      error = "the C names of " + it->second + " and " + what + " are both " + name +
              ": rename one of them to build a library";
    constants << "  " << name << " = " << value << ", /* " << comment << " */\n";
  };
  auto columns = [&](const std::string &relation, const ir::Schema &schema) {
    constants << "/* Columns of " << relation << " */\nenum {\n";
    for (size_t c = 0; c < schema.size(); ++c)
      constant(macro + "_" + macroName(relation) + "_" + macroName(schema[c].name),
               static_cast<int64_t>(c), "column " + schema[c].name + " of " + relation,
               schema[c].type.sqlName() + (schema[c].nullable ? "" : " NOT NULL"));
    constants << "};\n";
  };
  constants << "\n/* Tables (kiln_project_push_json, kiln_project_row_begin) */\nenum {\n";
  for (size_t t = 0; t < interface.tables.size(); ++t) {
    const codegen::SourceTable &table = interface.tables[t];
    std::string key;
    for (int32_t k : table.key)
      key += (key.empty() ? "" : ", ") + table.schema[k].name;
    constant(macro + "_TABLE_" + macroName(table.name), static_cast<int64_t>(t),
             "table " + table.name, table.name + (key.empty() ? "" : " (primary key " + key + ")"));
  }
  constants << "  " << macro << "_TABLE_COUNT = " << interface.tables.size() << "\n};\n";
  for (const codegen::SourceTable &table : interface.tables)
    columns(table.name, table.schema);
  constants << "/* Sinks (kiln_project_change_fn) */\nenum {\n";
  for (size_t s = 0; s < interface.sinks.size(); ++s)
    constant(macro + "_SINK_" + macroName(interface.sinks[s].name), static_cast<int64_t>(s),
             "sink " + interface.sinks[s].name, "model " + interface.sinks[s].name);
  constants << "  " << macro << "_SINK_COUNT = " << interface.sinks.size() << "\n};\n";
  for (const codegen::ModelRelation &sink : interface.sinks)
    columns(sink.name, sink.schema);
  constants << "/* Indexes (kiln_project_key_begin, kiln_project_scan) */\nenum {\n";
  for (size_t i = 0; i < interface.indexes.size(); ++i) {
    const codegen::ModelRelation &index = interface.indexes[i];
    std::string key;
    for (int32_t k : index.key)
      key += (key.empty() ? "" : ", ") + index.schema[k].name;
    constant(macro + "_INDEX_" + macroName(index.name), static_cast<int64_t>(i),
             "index " + index.name, "model " + index.name + ", by " + key);
  }
  constants << "  " << macro << "_INDEX_COUNT = " << interface.indexes.size() << "\n};\n";
  for (const codegen::ModelRelation &index : interface.indexes)
    columns(index.name, index.schema);
  if (!error.empty())
    return false;

  const std::string marker = " * @KILN_PROJECT_CONSTANTS@ */";
  size_t at = header.find(marker);
  if (at == std::string::npos) {
    error = std::string("no constants marker in ") + KILN_PROJECT_API_HEADER;
    return false;
  }
  header.replace(at, marker.size(), " */" + constants.str());
  replaceAll(header, "kiln_project", prefix);
  replaceAll(header, "KILN_PROJECT", macro);
  header = "/* " + prefix + ".h: generated by `kiln build --emit=lib` for the project \"" +
           interface.project + "\". Do not edit. */\n" + header;
  std::ofstream out(path);
  out << header;
  if (!out.flush()) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

bool linkLibrary(const std::string &object, const LibraryInterface &interface,
                 const std::string &archive, std::string &error) {
  std::string header;
  if (!readFile(KILN_PROJECT_API_HEADER, header, error))
    return false;
  std::string prefix = cPrefix(interface.project);
  std::string combined = archive + ".combined.o", renames = archive + ".renames",
              keep = archive + ".keep";
  {
    std::ofstream rename_file(renames), keep_file(keep);
    for (const std::string &function : apiFunctions(header)) {
      std::string renamed = prefix + function.substr(std::string("kiln_project").size());
      rename_file << function << " " << renamed << "\n";
      keep_file << renamed << "\n";
    }
  }
  // One relocatable object: section groups resolved here (a group another library also has
  // would otherwise be dropped by the final link while this object's local symbols point into
  // it), then every symbol but the API's made local.
  bool ok = run(shellQuote(KILN_LINKER) + " -r -nostdlib -Wl,--force-group-allocation -o " +
                    shellQuote(combined) + " " + shellQuote(object) + " -Wl,--whole-archive " +
                    shellQuote(KILN_RUNTIME_PROJECT_API_LIB) + " -Wl,--no-whole-archive " +
                    runtimeArchives(KILN_RUNTIME_LIB),
                error) &&
            run(shellQuote(KILN_OBJCOPY) + " --redefine-syms=" + shellQuote(renames) + " " +
                    shellQuote(combined),
                error) &&
            run(shellQuote(KILN_OBJCOPY) + " --keep-global-symbols=" + shellQuote(keep) + " " +
                    shellQuote(combined),
                error);
  std::error_code ec;
  fs::remove(archive, ec);
  ok = ok &&
       run(shellQuote(KILN_AR) + " rcs " + shellQuote(archive) + " " + shellQuote(combined), error);
  fs::remove(combined, ec);
  fs::remove(renames, ec);
  fs::remove(keep, ec);
  return ok;
}

} // namespace kiln::driver
