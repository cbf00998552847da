// libFuzzer target over the front of the compiler: model text in, diagnostics or IR out. The
// input is a model as a user writes it (a Jinja template of SQL); it is rendered with dbt's
// functions stubbed (ref, source, var, config), parsed, bound against a fixed catalog, lowered,
// verified and run through the default passes. A crash, a sanitizer report, an invalid IR module
// or a pass that breaks the IR is a bug; every error must come back as a diagnostic.
#include "kiln/Binder/Binder.h"
#include "kiln/Frontend/Parser.h"
#include "kiln/IR/IR.h"
#include "kiln/IR/TextFormat.h"
#include "kiln/Incremental/Lowering.h"
#include "kiln/Jinja/Jinja.h"
#include "kiln/Transforms/Passes.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace {

using namespace kiln;

ir::Column column(const char *name, ir::Type type, bool nullable = true) {
  ir::Column c;
  c.name = name;
  c.type = type;
  c.nullable = nullable;
  return c;
}

// The tables models may read: every type, with and without a primary key.
const std::vector<incremental::SourceTableInfo> &tables() {
  static const std::vector<incremental::SourceTableInfo> all = [] {
    std::vector<incremental::SourceTableInfo> t;
    t.push_back({"shop.orders",
                 {column("id", ir::Type::int64(), false), column("customer_id", ir::Type::int64()),
                  column("status", ir::Type::text()), column("amount", ir::Type::numeric(12, 2)),
                  column("placed", ir::Type::date()), column("at", ir::Type::timestamp())},
                 {0},
                 {},
                 false});
    t.push_back({"shop.customers",
                 {column("id", ir::Type::int64(), false), column("name", ir::Type::text()),
                  column("vip", ir::Type::boolean()), column("score", ir::Type::float64()),
                  column("seen", ir::Type::timestamptz()), column("prefs", ir::Type::jsonb())},
                 {0},
                 {},
                 false});
    t.push_back({"t1",
                 {column("a", ir::Type::int32()), column("b", ir::Type::int32()),
                  column("c", ir::Type::text()), column("d", ir::Type::int64()),
                  column("e", ir::Type::float64()), column("f", ir::Type::int16()),
                  column("g", ir::Type::real()), column("h", ir::Type::interval())},
                 {},
                 {},
                 false});
    return t;
  }();
  return all;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  SourceManager sources;
  DiagnosticEngine diags(sources);
  FileId file = sources.addFile("models/fuzz.sql", text);
  std::ostringstream discard;
  struct PrintAtEnd { // rendering diagnostics exercises the caret code on odd ranges
    DiagnosticEngine &diags;
    std::ostringstream &out;
    ~PrintAtEnd() { diags.print(out); }
  } print{diags, discard};

  std::shared_ptr<const jinja::Template> parsed = jinja::parseTemplate(sources, file, diags);
  if (!parsed)
    return 0;
  jinja::Environment env(sources, diags);
  env.setStepLimit(100'000);
  using jinja::CallArgs;
  using jinja::Renderer;
  using jinja::Value;
  env.setGlobal("ref", Value::function("ref", [](Renderer &, CallArgs &args) {
                  return Value(args.value(0, "name").str());
                }));
  env.setGlobal("source", Value::function("source", [](Renderer &, CallArgs &args) {
                  return Value(args.value(0, "s").str() + "." + args.value(1, "t").str());
                }));
  env.setGlobal("var", Value::function("var", [](Renderer &, CallArgs &args) {
                  return args.value(1, "default", Value(int64_t(1)));
                }));
  env.setGlobal("config", Value::function("config", [](Renderer &, CallArgs &) {
                  return Value("");
                }));
  std::optional<jinja::Rendered> rendered = env.render(parsed, {});
  if (!rendered)
    return 0;

  FileId sql = sources.addFile("rendered.sql", rendered->text);
  std::unique_ptr<ast::SelectStmt> query =
      frontend::parseQuery(rendered->text, frontend::identityMapper(sql), diags);
  if (!query)
    return 0;
  binder::Catalog catalog;
  // Inputs of odd length run in a session time zone with daylight saving (timestamptz text,
  // casts and arithmetic on its clock), the others in UTC.
  catalog.time_zone = size % 2 ? "Europe/Paris" : "";
  for (const incremental::SourceTableInfo &table : tables())
    catalog.add({table.name, table.schema, false, table.key});
  plan::NodePtr plan = binder::bindQuery(*query, catalog, sources, diags);
  if (!plan)
    return 0;
  std::unique_ptr<ir::Module> module =
      incremental::lowerProject("fuzz", tables(), {{"fuzz", "", plan, true, std::nullopt, {}}});
  module->time_zone = catalog.time_zone;
  std::vector<std::string> problems = ir::verifyModule(*module);
  if (!problems.empty()) {
    std::fprintf(stderr, "invalid IR after lowering: %s\n", problems[0].c_str());
    std::abort();
  }
  std::string error;
  if (!transforms::runPasses(*module, transforms::defaultPipeline(), error)) {
    std::fprintf(stderr, "a pass failed: %s\n", error.c_str());
    std::abort();
  }
  return 0;
}
