// The C API of a project compiled as a library (project_api.h), over the Engine. `kiln build
// --emit=lib` links this file with the program it generated (kiln_program_main), then renames
// the kiln_project_ functions after the project and hides every other symbol.
#include "kiln/runtime/project_api.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "Strings.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "kiln/runtime/Checkpoints.h"
#include "kiln/runtime/Engine.h"
#include "kiln/runtime/Jsonb.h"
#include "kiln/runtime/Values.h"

extern "C" const kiln_program kiln_program_main;

using kiln::runtime::ChangeOp;
using kiln::runtime::CommitReport;
using kiln::runtime::Engine;
using kiln::runtime::EngineOptions;

struct kiln_project_row {
  kiln_project *owner;
  const kiln_relation_desc *rel;
  void *data;
  int32_t table;      // the source a row being built belongs to; -1 for other rows
  int32_t index = -1; // the index a key row being built is for
};

struct kiln_project {
  std::unique_ptr<Engine> engine;
  kiln::runtime::RowDecoder decoder;
  std::string error;
  kiln_project_row building{this, nullptr, nullptr, -1, -1};
  kiln_project_row key{this, nullptr, nullptr, -1, -1};
  int64_t pushed = 0; // in this tick
  std::vector<CommitReport::LeftOut> left_out;
  kiln_project_stats stats{};
  int64_t applied_in_tick = 0;

  kiln_project_status fail(kiln_project_status status, std::string message) {
    error = std::move(message);
    return status;
  }
  kiln_project_status ok() {
    error.clear();
    return KILN_PROJECT_OK;
  }
};

namespace {

using namespace kiln::runtime;

// Runs `body`, turning an exception (out of memory, a bug) into a status.
template <typename Body> kiln_project_status guarded(kiln_project *instance, Body body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return instance->fail(KILN_PROJECT_INTERNAL_ERROR, e.what());
  } catch (...) {
    return instance->fail(KILN_PROJECT_INTERNAL_ERROR, "unknown internal error");
  }
}

const kiln_program &program() { return kiln_program_main; }

bool validTable(int32_t table) { return table >= 0 && table < program().nsources; }

// Applies a decoded row of `table` as change number `instance->pushed` of the tick.
kiln_project_status pushRow(kiln_project *instance, int32_t table, int32_t op, const void *row) {
  int64_t tag = instance->pushed++;
  if (op < KILN_PROJECT_INSERT || op > KILN_PROJECT_UPSERT)
    return instance->fail(KILN_PROJECT_INVALID_ARGUMENT, absl::StrCat("no operation ", op));
  ChangeOp change = op == KILN_PROJECT_INSERT   ? ChangeOp::Insert
                    : op == KILN_PROJECT_DELETE ? ChangeOp::Delete
                                                : ChangeOp::Upsert;
  absl::Status status = instance->engine->change(table, change, row, 1, tag);
  if (status.ok()) {
    ++instance->applied_in_tick;
    return instance->ok();
  }
  if (absl::IsAborted(status)) {
    ++instance->stats.runtime_errors;
    return instance->fail(KILN_PROJECT_RUNTIME_ERROR,
                          absl::StrCat(status.message(), " (change ", tag, " of the tick)"));
  }
  ++instance->stats.bad_changes;
  return instance->fail(KILN_PROJECT_BAD_CHANGE, std::string(status.message()));
}

// The column `column` of a row being built, if the setter may write it; else an error.
kiln_project_status settable(kiln_project_row *row, int32_t column, const char **why) {
  if (row == nullptr || (row->table < 0 && row->index < 0) || row->data == nullptr)
    return *why = "not a row being built", KILN_PROJECT_INVALID_ARGUMENT;
  if (column < 0 || column >= row->rel->ncols)
    return *why = "no such column", KILN_PROJECT_INVALID_ARGUMENT;
  return KILN_PROJECT_OK;
}

void clearNull(void *row, int32_t column) {
  static_cast<uint64_t *>(row)[column / 64] &= ~(uint64_t(1) << (column % 64));
}

void *valueAt(const kiln_project_row *row, int32_t column) {
  return static_cast<char *>(row->data) + row->rel->cols[column].offset;
}

// Writes a typed value into column `column` of a row being built, if the column has one of
// `kinds`; `write` stores it (and may fail with a message).
template <typename Write>
kiln_project_status setValue(kiln_project_row *row, int32_t column,
                             std::initializer_list<int32_t> kinds, const char *setter,
                             Write write) {
  const char *why = nullptr;
  if (settable(row, column, &why) != KILN_PROJECT_OK) {
    if (row == nullptr)
      return KILN_PROJECT_INVALID_ARGUMENT;
    return row->owner->fail(KILN_PROJECT_INVALID_ARGUMENT,
                            absl::StrCat(setter, ": ", why, " (", column, ")"));
  }
  kiln_project *instance = row->owner;
  return guarded(instance, [&]() -> kiln_project_status {
    const kiln_column_desc &col = row->rel->cols[column];
    if (std::find(kinds.begin(), kinds.end(), col.type) == kinds.end())
      return instance->fail(KILN_PROJECT_INVALID_ARGUMENT,
                            absl::StrCat(setter, ": column \"", col.name, "\" of ", row->rel->name,
                                         " is ", detail::toAbsl(typeName(col.type))));
    absl::Status status = write(col, valueAt(row, column));
    if (!status.ok())
      return instance->fail(KILN_PROJECT_BAD_CHANGE,
                            absl::StrCat("column \"", col.name, "\": ", status.message()));
    clearNull(row->data, column);
    return instance->ok();
  });
}

template <typename T> absl::Status store(void *at, absl::StatusOr<T> value) {
  if (!value.ok())
    return value.status();
  std::memcpy(at, &*value, sizeof(T));
  return absl::OkStatus();
}

size_t copyOut(std::string_view text, char *buffer, size_t size) {
  if (size > 0) {
    size_t n = std::min(text.size(), size - 1);
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
  return text.size();
}

bool readable(const kiln_project_row *row, int32_t column) {
  return row != nullptr && column >= 0 && column < row->rel->ncols;
}

} // namespace

namespace {

// Visits rows of index `index` through `visit`, as lookup and scan do.
template <typename Read>
int64_t readIndex(kiln_project *instance, int32_t index, kiln_project_row_fn visit, void *context,
                  Read read) {
  if (instance == nullptr)
    return -1;
  if (visit == nullptr || index < 0 || index >= program().nindexes) {
    instance->fail(KILN_PROJECT_INVALID_ARGUMENT,
                   visit == nullptr ? "visit is NULL" : absl::StrCat("no index ", index));
    return -1;
  }
  try {
    kiln_project_row row{instance, &program().indexes[index], nullptr, -1, -1};
    absl::StatusOr<int64_t> visited = read([&](const void *data, int64_t weight) {
      row.data = const_cast<void *>(data);
      visit(context, &row, weight);
    });
    if (!visited.ok()) {
      instance->fail(KILN_PROJECT_INVALID_ARGUMENT, std::string(visited.status().message()));
      return -1;
    }
    instance->ok();
    return *visited;
  } catch (const std::exception &e) {
    instance->fail(KILN_PROJECT_INTERNAL_ERROR, e.what());
    return -1;
  }
}

} // namespace

extern "C" {

kiln_project_status kiln_project_open(const kiln_project_options *options, kiln_project **instance,
                                      char *error, size_t error_size) {
  auto failed = [&](kiln_project_status status, std::string_view message) {
    copyOut(message, error, error_size);
    return status;
  };
  if (instance == nullptr)
    return failed(KILN_PROJECT_INVALID_ARGUMENT, "kiln_project_open: instance is NULL");
  *instance = nullptr;
  if (options == nullptr)
    return failed(KILN_PROJECT_INVALID_ARGUMENT, "kiln_project_open: options is NULL");
  if (options->api_version != KILN_PROJECT_API_VERSION)
    return failed(KILN_PROJECT_VERSION_MISMATCH,
                  absl::StrCat("the program was compiled against version ", options->api_version,
                               " of the project API, and this library implements version ",
                               KILN_PROJECT_API_VERSION, ": rebuild the program with its header"));
  if (options->on_error != KILN_PROJECT_ON_ERROR_FAIL &&
      options->on_error != KILN_PROJECT_ON_ERROR_ISOLATE)
    return failed(KILN_PROJECT_INVALID_ARGUMENT,
                  absl::StrCat("kiln_project_open: no on_error policy ", options->on_error));
  try {
    EngineOptions engine_options;
    engine_options.on_error = options->on_error == KILN_PROJECT_ON_ERROR_ISOLATE
                                  ? EngineOptions::OnError::Isolate
                                  : EngineOptions::OnError::Fail;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::open(&program(), engine_options);
    if (!engine.ok())
      return failed(KILN_PROJECT_VERSION_MISMATCH, std::string(engine.status().message()));
    auto *opened = new kiln_project;
    opened->engine = *std::move(engine);
    *instance = opened;
    return KILN_PROJECT_OK;
  } catch (const std::exception &e) {
    return failed(KILN_PROJECT_INTERNAL_ERROR, e.what());
  }
}

void kiln_project_close(kiln_project *instance) { delete instance; }

const char *kiln_project_error(const kiln_project *instance) {
  return instance == nullptr ? "no instance" : instance->error.c_str();
}

kiln_project_status kiln_project_push_json(kiln_project *instance, int32_t table, int32_t op,
                                           const char *json, size_t length) {
  if (instance == nullptr)
    return KILN_PROJECT_INVALID_ARGUMENT;
  return guarded(instance, [&]() -> kiln_project_status {
    if (!validTable(table) || json == nullptr) {
      ++instance->pushed;
      return instance->fail(KILN_PROJECT_INVALID_ARGUMENT,
                            json == nullptr ? "kiln_project_push_json: json is NULL"
                                            : absl::StrCat("no table ", table));
    }
    const kiln_relation_desc &rel = program().sources[table];
    Arena &scratch = instance->engine->scratch();
    void *row = scratch.allocateZeroed(static_cast<size_t>(rel.row_size),
                                       static_cast<size_t>(std::max<int32_t>(rel.row_align, 8)));
    absl::Status decoded =
        instance->decoder.decode(rel, std::string_view(json, length), row, scratch);
    if (!decoded.ok()) {
      ++instance->pushed;
      ++instance->stats.bad_changes;
      return instance->fail(KILN_PROJECT_BAD_CHANGE,
                            absl::StrCat(rel.name, ": ", decoded.message()));
    }
    return pushRow(instance, table, op, row);
  });
}

kiln_project_row *kiln_project_row_begin(kiln_project *instance, int32_t table) {
  if (instance == nullptr)
    return nullptr;
  if (!validTable(table)) {
    instance->fail(KILN_PROJECT_INVALID_ARGUMENT, absl::StrCat("no table ", table));
    return nullptr;
  }
  try {
    const kiln_relation_desc &rel = program().sources[table];
    void *row = instance->engine->scratch().allocateZeroed(
        static_cast<size_t>(rel.row_size),
        static_cast<size_t>(std::max<int32_t>(rel.row_align, 8)));
    for (int32_t c = 0; c < rel.ncols; ++c)
      setNull(row, c);
    instance->building = {instance, &rel, row, table};
    instance->ok();
    return &instance->building;
  } catch (const std::exception &e) {
    instance->fail(KILN_PROJECT_INTERNAL_ERROR, e.what());
    return nullptr;
  }
}

kiln_project_status kiln_project_set_null(kiln_project_row *row, int32_t column) {
  const char *why = nullptr;
  if (settable(row, column, &why) != KILN_PROJECT_OK)
    return row == nullptr ? KILN_PROJECT_INVALID_ARGUMENT
                          : row->owner->fail(KILN_PROJECT_INVALID_ARGUMENT,
                                             absl::StrCat("set_null: ", why, " (", column, ")"));
  std::memset(valueAt(row, column), 0, storageSize(row->rel->cols[column].type));
  setNull(row->data, column);
  return row->owner->ok();
}

kiln_project_status kiln_project_set_bool(kiln_project_row *row, int32_t column, int value) {
  return setValue(row, column, {KILN_T_BOOL}, "set_bool", [&](const kiln_column_desc &, void *at) {
    *static_cast<uint8_t *>(at) = value != 0;
    return absl::OkStatus();
  });
}

kiln_project_status kiln_project_set_int64(kiln_project_row *row, int32_t column, int64_t value) {
  return setValue(row, column, {KILN_T_INT32, KILN_T_INT64, KILN_T_NUMERIC}, "set_int64",
                  [&](const kiln_column_desc &col, void *at) -> absl::Status {
                    std::string text = std::to_string(value);
                    if (col.type == KILN_T_INT32)
                      return store(at, isSmallintColumn(col) ? parseInt16(text) : parseInt32(text));
                    if (col.type == KILN_T_INT64)
                      return store(at, absl::StatusOr<int64_t>(value));
                    return store(at, parseNumeric(text, col.precision, col.scale));
                  });
}

kiln_project_status kiln_project_set_double(kiln_project_row *row, int32_t column, double value) {
  return setValue(
      row, column, {KILN_T_FLOAT64}, "set_double", [&](const kiln_column_desc &col, void *at) {
        return store(at, isRealColumn(col) ? narrowToReal(value) : absl::StatusOr<double>(value));
      });
}

kiln_project_status kiln_project_set_text(kiln_project_row *row, int32_t column, const char *text,
                                          size_t length) {
  if (text == nullptr && length > 0)
    return row == nullptr
               ? KILN_PROJECT_INVALID_ARGUMENT
               : row->owner->fail(KILN_PROJECT_INVALID_ARGUMENT, "set_text: text is NULL");
  std::string_view value(text == nullptr ? "" : text, length);
  return setValue(row, column,
                  {KILN_T_BOOL, KILN_T_INT32, KILN_T_INT64, KILN_T_FLOAT64, KILN_T_NUMERIC,
                   KILN_T_TEXT, KILN_T_DATE, KILN_T_TIMESTAMP, KILN_T_TIMESTAMPTZ, KILN_T_JSONB,
                   KILN_T_INTERVAL, KILN_T_ARRAY},
                  "set_text", [&](const kiln_column_desc &col, void *at) -> absl::Status {
                    switch (col.type) {
                    case KILN_T_BOOL:
                      return store(at, parseBool(value));
                    case KILN_T_INT32:
                      return store(at,
                                   isSmallintColumn(col) ? parseInt16(value) : parseInt32(value));
                    case KILN_T_INT64:
                      return store(at, parseInt64(value));
                    case KILN_T_FLOAT64:
                      return store(at, isRealColumn(col) ? parseReal(value) : parseFloat64(value));
                    case KILN_T_NUMERIC:
                      return store(at, parseNumeric(value, col.precision, col.scale));
                    case KILN_T_DATE:
                      return store(at, parseDate(value));
                    case KILN_T_TIMESTAMP:
                      return store(at, parseTimestamp(value));
                    case KILN_T_TIMESTAMPTZ:
                      return store(at, parseTimestampTz(value));
                    case KILN_T_INTERVAL:
                      return store(at, parseInterval(value));
                    default: { // text, or jsonb or an array in its canonical form
                      absl::StatusOr<std::string> canonical;
                      if (col.type == KILN_T_JSONB || col.type == KILN_T_ARRAY) {
                        canonical = col.type == KILN_T_JSONB ? kiln::jsonb::normalize(value)
                                                             : parseArray(value, arrayElement(col));
                        if (!canonical.ok())
                          return canonical.status();
                        value = *canonical;
                      }
                      std::string_view copy = row->owner->engine->scratch().copy(value);
                      kiln_str str{copy.data(), static_cast<int64_t>(copy.size())};
                      std::memcpy(at, &str, sizeof str);
                      return absl::OkStatus();
                    }
                    }
                  });
}

kiln_project_status kiln_project_set_date(kiln_project_row *row, int32_t column, int32_t days) {
  return setValue(row, column, {KILN_T_DATE}, "set_date", [&](const kiln_column_desc &, void *at) {
    return store(at, absl::StatusOr<int32_t>(days));
  });
}

kiln_project_status kiln_project_set_timestamp(kiln_project_row *row, int32_t column,
                                               int64_t micros) {
  return setValue(row, column, {KILN_T_TIMESTAMP, KILN_T_TIMESTAMPTZ}, "set_timestamp",
                  [&](const kiln_column_desc &, void *at) {
                    return store(at, absl::StatusOr<int64_t>(micros));
                  });
}

kiln_project_status kiln_project_row_push(kiln_project_row *row, int32_t op) {
  if (row == nullptr || row->table < 0 || row->data == nullptr)
    return row == nullptr
               ? KILN_PROJECT_INVALID_ARGUMENT
               : row->owner->fail(KILN_PROJECT_INVALID_ARGUMENT, "row_push: not a row being built");
  kiln_project *instance = row->owner;
  return guarded(instance, [&]() -> kiln_project_status {
    void *data = row->data;
    row->data = nullptr; // pushed: a row is pushed once
    return pushRow(instance, row->table, op, data);
  });
}

int64_t kiln_project_changes_pushed(const kiln_project *instance) {
  return instance == nullptr ? 0 : instance->pushed;
}

kiln_project_status kiln_project_commit(kiln_project *instance, kiln_project_change_fn on_change,
                                        void *context) {
  if (instance == nullptr)
    return KILN_PROJECT_INVALID_ARGUMENT;
  return guarded(instance, [&]() -> kiln_project_status {
    instance->engine->setSinkCallback([&](int32_t sink, const void *data, int64_t weight) {
      ++instance->stats.changes_out;
      if (on_change == nullptr)
        return;
      kiln_project_row row{instance, &program().sinks[sink], const_cast<void *>(data), -1};
      on_change(context, sink, &row, weight);
    });
    absl::StatusOr<CommitReport> report = instance->engine->commit();
    instance->engine->setSinkCallback(nullptr);
    int64_t pushed = instance->pushed, applied = instance->applied_in_tick;
    instance->pushed = 0;
    instance->applied_in_tick = 0;
    instance->building.data = nullptr;
    instance->left_out.clear();
    if (!report.ok()) {
      ++instance->stats.runtime_errors;
      const std::optional<RuntimeError> &error = instance->engine->runtimeError();
      std::string blame = error && error->tag
                              ? absl::StrCat(" (raised by change ", *error->tag, " of ", pushed,
                                             " in the tick, which was not applied)")
                              : " (the tick was not applied)";
      return instance->fail(KILN_PROJECT_RUNTIME_ERROR,
                            absl::StrCat(report.status().message(), blame));
    }
    ++instance->stats.ticks;
    instance->stats.changes_in += applied - static_cast<int64_t>(report->left_out.size());
    for (const CommitReport::LeftOut &left : report->left_out)
      ++(left.error ? instance->stats.runtime_errors : instance->stats.bad_changes);
    instance->left_out = std::move(report->left_out);
    return instance->ok();
  });
}

void kiln_project_rollback(kiln_project *instance) {
  if (instance == nullptr)
    return;
  instance->engine->rollback();
  instance->pushed = 0;
  instance->applied_in_tick = 0;
  instance->building.data = nullptr;
}

int64_t kiln_project_left_out_count(const kiln_project *instance) {
  return instance == nullptr ? 0 : static_cast<int64_t>(instance->left_out.size());
}

kiln_project_status kiln_project_left_out(const kiln_project *instance, int64_t i, int64_t *change,
                                          const char **reason) {
  if (instance == nullptr || i < 0 || i >= static_cast<int64_t>(instance->left_out.size()))
    return KILN_PROJECT_INVALID_ARGUMENT;
  const CommitReport::LeftOut &left = instance->left_out[static_cast<size_t>(i)];
  if (change != nullptr)
    *change = left.tag;
  if (reason != nullptr)
    *reason = left.reason.c_str();
  return KILN_PROJECT_OK;
}

int32_t kiln_project_row_columns(const kiln_project_row *row) {
  return row == nullptr ? 0 : row->rel->ncols;
}

const char *kiln_project_column_name(const kiln_project_row *row, int32_t column) {
  return readable(row, column) ? row->rel->cols[column].name : "";
}

int32_t kiln_project_column_type(const kiln_project_row *row, int32_t column) {
  return readable(row, column) ? row->rel->cols[column].type : -1;
}

int kiln_project_is_null(const kiln_project_row *row, int32_t column) {
  return !readable(row, column) || row->data == nullptr || isNull(row->data, column);
}

int64_t kiln_project_get_int64(const kiln_project_row *row, int32_t column) {
  if (kiln_project_is_null(row, column))
    return 0;
  const void *at = valueAt(row, column);
  switch (row->rel->cols[column].type) {
  case KILN_T_BOOL:
    return *static_cast<const uint8_t *>(at);
  case KILN_T_INT32:
  case KILN_T_DATE:
    return *static_cast<const int32_t *>(at);
  case KILN_T_INT64:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ:
    return *static_cast<const int64_t *>(at);
  default:
    return 0;
  }
}

double kiln_project_get_double(const kiln_project_row *row, int32_t column) {
  if (kiln_project_is_null(row, column))
    return 0;
  const kiln_column_desc &col = row->rel->cols[column];
  const void *at = valueAt(row, column);
  if (col.type == KILN_T_FLOAT64)
    return *static_cast<const double *>(at);
  if (col.type == KILN_T_NUMERIC) {
    // Through its exact decimal text, so that 0.1 becomes the double nearest 0.1.
    __int128 scaled;
    std::memcpy(&scaled, at, sizeof scaled);
    return std::strtod(formatNumeric(scaled, col.scale).c_str(), nullptr);
  }
  return 0;
}

const char *kiln_project_get_text(const kiln_project_row *row, int32_t column, size_t *length) {
  if (length != nullptr)
    *length = 0;
  if (kiln_project_is_null(row, column) || !kiln_type_is_string(row->rel->cols[column].type))
    return "";
  kiln_str str;
  std::memcpy(&str, valueAt(row, column), sizeof str);
  if (length != nullptr)
    *length = static_cast<size_t>(str.len);
  return str.ptr == nullptr ? "" : str.ptr;
}

size_t kiln_project_format_value(const kiln_project_row *row, int32_t column, char *buffer,
                                 size_t size) {
  if (!readable(row, column) || row->data == nullptr)
    return copyOut("", buffer, size);
  try {
    return copyOut(formatValue(*row->rel, column, row->data).value_or(""), buffer, size);
  } catch (...) {
    return copyOut("", buffer, size);
  }
}

size_t kiln_project_format_json(const kiln_project_row *row, char *buffer, size_t size) {
  if (row == nullptr || row->data == nullptr)
    return copyOut("", buffer, size);
  try {
    return copyOut(formatRowJson(*row->rel, row->data), buffer, size);
  } catch (...) {
    return copyOut("", buffer, size);
  }
}

kiln_project_row *kiln_project_key_begin(kiln_project *instance, int32_t index) {
  if (instance == nullptr)
    return nullptr;
  if (index < 0 || index >= program().nindexes) {
    instance->fail(KILN_PROJECT_INVALID_ARGUMENT, absl::StrCat("no index ", index));
    return nullptr;
  }
  try {
    const kiln_relation_desc &rel = program().indexes[index];
    void *row = instance->engine->scratch().allocateZeroed(
        static_cast<size_t>(rel.row_size),
        static_cast<size_t>(std::max<int32_t>(rel.row_align, 8)));
    for (int32_t c = 0; c < rel.ncols; ++c)
      setNull(row, c);
    instance->key = {instance, &rel, row, -1, index};
    instance->ok();
    return &instance->key;
  } catch (const std::exception &e) {
    instance->fail(KILN_PROJECT_INTERNAL_ERROR, e.what());
    return nullptr;
  }
}

int64_t kiln_project_lookup(kiln_project *instance, const kiln_project_row *key,
                            kiln_project_row_fn visit, void *context) {
  if (instance != nullptr && (key == nullptr || key->index < 0 || key->data == nullptr)) {
    instance->fail(KILN_PROJECT_INVALID_ARGUMENT, "lookup: not a key row (kiln_project_key_begin)");
    return -1;
  }
  int32_t index = key == nullptr ? -1 : key->index;
  return readIndex(instance, index, visit, context, [&](const Engine::RowCallback &callback) {
    return instance->engine->lookup(index, key->data, callback);
  });
}

int64_t kiln_project_scan(kiln_project *instance, int32_t index, kiln_project_row_fn visit,
                          void *context) {
  return readIndex(instance, index, visit, context, [&](const Engine::RowCallback &callback) {
    return instance->engine->scan(index, callback);
  });
}

kiln_project_status kiln_project_checkpoint(kiln_project *instance, const char *path) {
  if (instance == nullptr || path == nullptr)
    return instance == nullptr ? KILN_PROJECT_INVALID_ARGUMENT
                               : instance->fail(KILN_PROJECT_INVALID_ARGUMENT, "path is NULL");
  return guarded(instance, [&]() -> kiln_project_status {
    if (instance->engine->hasPendingChanges() || instance->pushed > 0)
      return instance->fail(KILN_PROJECT_INVALID_ARGUMENT,
                            "checkpoint: the tick has changes; commit or roll it back first");
    absl::Status written = writeFileAtomically(
        path, [&](const StateImageSink &sink) { return instance->engine->writeState(sink); });
    if (!written.ok())
      return instance->fail(KILN_PROJECT_INTERNAL_ERROR, std::string(written.message()));
    return instance->ok();
  });
}

kiln_project_status kiln_project_restore(kiln_project *instance, const char *path) {
  if (instance == nullptr || path == nullptr)
    return instance == nullptr ? KILN_PROJECT_INVALID_ARGUMENT
                               : instance->fail(KILN_PROJECT_INVALID_ARGUMENT, "path is NULL");
  return guarded(instance, [&]() -> kiln_project_status {
    absl::StatusOr<std::string> image = readFile(path);
    if (!image.ok())
      return instance->fail(KILN_PROJECT_INVALID_ARGUMENT, std::string(image.status().message()));
    absl::Status restored = instance->engine->restoreState(*image);
    if (!restored.ok())
      return instance->fail(absl::IsDataLoss(restored) ? KILN_PROJECT_BAD_CHANGE
                                                       : KILN_PROJECT_VERSION_MISMATCH,
                            absl::StrCat(path, ": ", restored.message()));
    instance->stats.ticks = instance->engine->ticksCommitted();
    return instance->ok();
  });
}

kiln_project_status kiln_project_get_stats(kiln_project *instance, kiln_project_stats *stats) {
  if (instance == nullptr || stats == nullptr)
    return KILN_PROJECT_INVALID_ARGUMENT;
  return guarded(instance, [&]() -> kiln_project_status {
    *stats = instance->stats;
    StateStats state = instance->engine->stateStats();
    stats->state_bytes = state.total_bytes;
    stats->state_entries = 0;
    for (const OperatorStats &op : state.operators)
      stats->state_entries += op.entries;
    return instance->ok();
  });
}

} // extern "C"
