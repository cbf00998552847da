#include "Engine.h"

#include "kiln/runtime/Values.h"

#include <cstring>
#include <sstream>

namespace kiln::slt {
namespace {

template <typename T> void store(std::byte *row, const kiln_column_desc &col, T value) {
  std::memcpy(row + col.offset, &value, sizeof value);
}

template <typename T> T load(const void *row, const kiln_column_desc &col) {
  T value;
  std::memcpy(&value, static_cast<const std::byte *>(row) + col.offset, sizeof value);
  return value;
}

// A row in the source's layout (abi.h), with its strings' bytes stored right after it so that one
// allocation keeps everything alive until the commit.
std::unique_ptr<std::byte[]> encodeRow(const kiln_relation_desc &rel, const Row &values) {
  size_t size = rel.row_size;
  for (int32_t i = 0; i < rel.ncols; ++i)
    if (kiln_type_is_string(rel.cols[i].type) && !values[i].is_null)
      size += values[i].s.size();
  auto row = std::make_unique<std::byte[]>(size); // zeroed: NULL storage must be zero
  std::byte *tail = row.get() + rel.row_size;
  for (int32_t i = 0; i < rel.ncols; ++i) {
    const kiln_column_desc &col = rel.cols[i];
    const ir::Value &v = values[i];
    if (v.is_null) {
      runtime::setNull(row.get(), i);
      continue;
    }
    switch (col.type) {
    case KILN_T_BOOL:
      store<uint8_t>(row.get(), col, v.b ? 1 : 0);
      break;
    case KILN_T_INT32:
    case KILN_T_DATE:
      store<int32_t>(row.get(), col, static_cast<int32_t>(v.i));
      break;
    case KILN_T_INT64:
    case KILN_T_TIMESTAMP:
    case KILN_T_TIMESTAMPTZ:
      store<int64_t>(row.get(), col, v.i);
      break;
    case KILN_T_FLOAT64:
      store<double>(row.get(), col, v.f);
      break;
    case KILN_T_NUMERIC:
    case KILN_T_INTERVAL:
      store<__int128>(row.get(), col, v.n);
      break;
    case KILN_T_TEXT:
    case KILN_T_JSONB:
    case KILN_T_ARRAY: {
      std::memcpy(tail, v.s.data(), v.s.size());
      store(row.get(), col,
            kiln_str{reinterpret_cast<const char *>(tail), static_cast<int64_t>(v.s.size())});
      tail += v.s.size();
      break;
    }
    }
  }
  return row;
}

Row decodeRow(const kiln_relation_desc &rel, const void *row) {
  Row values(rel.ncols);
  for (int32_t i = 0; i < rel.ncols; ++i) {
    const kiln_column_desc &col = rel.cols[i];
    ir::Value &v = values[i];
    v.is_null = runtime::isNull(row, i);
    if (v.is_null)
      continue;
    switch (col.type) {
    case KILN_T_BOOL:
      v.b = load<uint8_t>(row, col) != 0;
      break;
    case KILN_T_INT32:
    case KILN_T_DATE:
      v.i = load<int32_t>(row, col);
      break;
    case KILN_T_INT64:
    case KILN_T_TIMESTAMP:
    case KILN_T_TIMESTAMPTZ:
      v.i = load<int64_t>(row, col);
      break;
    case KILN_T_FLOAT64:
      v.f = load<double>(row, col);
      break;
    case KILN_T_NUMERIC:
    case KILN_T_INTERVAL:
      v.n = load<__int128>(row, col);
      break;
    case KILN_T_TEXT:
    case KILN_T_JSONB:
    case KILN_T_ARRAY: {
      kiln_str str = load<kiln_str>(row, col);
      v.s.assign(str.ptr, str.len);
      break;
    }
    }
  }
  return values;
}

} // namespace

void addTo(ZSet &set, const TextRow &row, int64_t weight) {
  auto [it, inserted] = set.try_emplace(row, weight);
  if (!inserted && (it->second += weight) == 0)
    set.erase(it);
}

TextRow formatRow(const kiln_relation_desc &rel, const void *row) {
  TextRow text(rel.ncols);
  for (int32_t i = 0; i < rel.ncols; ++i)
    text[i] = runtime::formatValue(rel, i, row);
  return text;
}

Compiled compileViews(const std::vector<Table> &tables, const std::vector<ViewSource> &views,
                      const std::string &time_zone) {
  std::vector<driver::TableDef> defs;
  for (const Table &table : tables)
    defs.push_back({table.name, table.schema, table.key});
  std::vector<driver::ViewDef> view_defs;
  for (const ViewSource &view : views)
    view_defs.push_back({view.name, view.sql, view.sink});
  SourceManager sources;
  DiagnosticEngine diags(sources);
  Compiled result;
  result.program =
      driver::compileInMemory(defs, view_defs, sources, diags, result.error, true, time_zone);
  if (diags.hasErrors()) {
    result.program.reset();
    result.unsupported = true;
    for (const Diagnostic &d : diags.diagnostics()) {
      if (d.severity == Severity::Error && result.error.empty())
        result.error = d.message;
    }
    std::ostringstream out;
    diags.print(out);
    result.details = out.str();
  } else if (!result.program && result.error.empty()) {
    result.error = "compilation failed without a diagnostic";
  }
  return result;
}

namespace {

std::unique_ptr<runtime::Engine> openEngine(const kiln_program &program) {
  absl::StatusOr<std::unique_ptr<runtime::Engine>> engine = runtime::Engine::open(&program);
  if (!engine.ok())
    throw std::runtime_error(std::string(engine.status().message()));
  return *std::move(engine);
}

} // namespace

Instance::Instance(const kiln_program &program, bool keep_typed)
    : program_(program), engine_(openEngine(program)), keep_typed_(keep_typed),
      total_(program.nsinks), last_tick_(program.nsinks), emitted_(program.nsinks),
      typed_(program.nsinks) {
  engine_->setSinkCallback([this](int32_t sink, const void *row, int64_t weight) {
    const kiln_relation_desc &rel = program_.sinks[sink];
    TextRow text = formatRow(rel, row);
    if (++emitted_[sink][text] == 2 && !unconsolidated_) {
      std::string shown;
      for (const auto &value : text)
        shown += " " + value.value_or("NULL");
      unconsolidated_ = std::string(rel.name) + " emitted" + shown + " more than once in one tick";
    }
    addTo(last_tick_[sink], text, weight);
    if (keep_typed_)
      typed_[sink].try_emplace(text, decodeRow(rel, row));
  });
}

Instance::~Instance() = default;

bool Instance::tick(const std::vector<Change> &changes) {
  error_.clear();
  error_location_.clear();
  for (ZSet &set : last_tick_)
    set.clear();
  for (auto &counts : emitted_)
    counts.clear();
  rows_.clear();
  for (const Change &change : changes)
    rows_.push_back(encodeRow(program_.sources[change.table], change.row));
  bool ok = run(changes);
  rows_.clear();
  if (!ok) {
    for (ZSet &set : last_tick_)
      set.clear();
    return false;
  }
  for (size_t sink = 0; sink < total_.size(); ++sink)
    for (const auto &[row, weight] : last_tick_[sink])
      addTo(total_[sink], row, weight);
  return true;
}

bool Instance::run(const std::vector<Change> &changes) {
  auto failed = [&](const absl::Status &status) {
    if (const std::optional<runtime::RuntimeError> &raised = engine_->runtimeError();
        absl::IsAborted(status) && raised) {
      error_ = raised->message;
      error_location_ = raised->location;
    } else {
      error_ = std::string(status.message());
    }
    engine_->rollback();
    return false;
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    const Change &change = changes[i];
    if (change.weight == 0)
      continue;
    runtime::ChangeOp op =
        change.weight > 0 ? runtime::ChangeOp::Insert : runtime::ChangeOp::Delete;
    int64_t units = change.weight < 0 ? -change.weight : change.weight;
    // A keyed table's rows go in and out one at a time.
    bool keyed = program_.sources[change.table].nkeys > 0;
    for (int64_t n = 0; n < (keyed ? units : 1); ++n) {
      absl::Status status = engine_->change(change.table, op, rows_[i].get(), keyed ? 1 : units,
                                            static_cast<int64_t>(i));
      if (!status.ok())
        return failed(status);
    }
  }
  absl::StatusOr<runtime::CommitReport> committed = engine_->commit();
  return committed.ok() || failed(committed.status());
}

} // namespace kiln::slt
