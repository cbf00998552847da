// Compiling views with Kiln and driving instances of the compiled program.
#pragma once

#include "kiln/Driver/Build.h"
#include "kiln/IR/IR.h"
#include "kiln/runtime/Engine.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::slt {

using Row = std::vector<ir::Value>; // values typed by their table's schema

struct Table {
  std::string name;
  ir::Schema schema;
  std::vector<int32_t> key; // primary key columns
  std::vector<Row> rows;    // a multiset
};

// One change to table `table` (an index into the tables a program was compiled over).
struct Change {
  int32_t table;
  Row row;
  int64_t weight;
};

// A view's rows in PostgreSQL's text output format (nullopt for NULL), with their weights.
using TextRow = std::vector<std::optional<std::string>>;
using ZSet = std::map<TextRow, int64_t>;
void addTo(ZSet &set, const TextRow &row, int64_t weight);

struct ViewSource {
  std::string name;
  std::string sql;
  bool sink = true;
};

struct Compiled {
  std::unique_ptr<driver::CompiledProgram> program; // null if compilation failed
  bool unsupported = false; // Kiln rejected the SQL with a diagnostic (otherwise: internal error)
  std::string error;        // the first diagnostic's message, or the internal error
  std::string details;      // all diagnostics, rendered
};

// Compiles `views` over `tables` (in this order: table i is the program's source i), in the
// session time zone `time_zone` (empty: UTC).
Compiled compileViews(const std::vector<Table> &tables, const std::vector<ViewSource> &views,
                      const std::string &time_zone = "");

// One instance of a compiled program (a runtime Engine). A tick that raises a SQL runtime error
// (division by zero, overflow) is rolled back: the instance goes on from the state before it, as
// PostgreSQL goes on after a failed statement.
class Instance {
public:
  // `keep_typed`: also remember each emitted row's typed values (see typed()).
  explicit Instance(const kiln_program &program, bool keep_typed = false);
  ~Instance();
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  // Pushes the changes and commits them as one tick. False if the tick raised a SQL error; the
  // instance is then as it was before the tick.
  bool tick(const std::vector<Change> &changes);
  bool failed() const { return !error_.empty(); }     // the last tick
  const std::string &error() const { return error_; } // PostgreSQL's message
  const std::string &errorLocation() const { return error_location_; }

  const std::vector<ZSet> &total() const { return total_; }        // per sink, since creation
  const std::vector<ZSet> &lastTick() const { return last_tick_; } // per sink, the last tick
  // A row emitted more than once in one tick: the program's output was not consolidated.
  const std::optional<std::string> &unconsolidated() const { return unconsolidated_; }
  const Row &typed(int32_t sink, const TextRow &row) const { return typed_[sink].at(row); }

private:
  bool run(const std::vector<Change> &changes);

  const kiln_program &program_;
  std::unique_ptr<runtime::Engine> engine_;
  bool keep_typed_;
  std::vector<std::unique_ptr<std::byte[]>> rows_; // encoded rows of the current tick
  std::vector<ZSet> total_, last_tick_;
  std::vector<std::map<TextRow, int>> emitted_; // emissions per row in the current tick
  std::vector<std::map<TextRow, Row>> typed_;
  std::optional<std::string> unconsolidated_;
  std::string error_, error_location_;
};

// A row of `rel` in PostgreSQL's text format.
TextRow formatRow(const kiln_relation_desc &rel, const void *row);

} // namespace kiln::slt
