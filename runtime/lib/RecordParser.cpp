// JSON input with simdjson's On Demand API: rows (RowDecoder) and change records (RecordParser).
//
// NUMERIC values are decoded from the number's text as written, never through a double.
#include "RecordParser.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

#include "Strings.h"
#include "absl/container/fixed_array.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kiln/runtime/ArrayText.h"
#include "kiln/runtime/Jsonb.h"
#include "kiln/runtime/Values.h"
#include "kiln/runtime/interval.h"

namespace kiln::runtime {

namespace od = simdjson::ondemand;

namespace {

absl::Status jsonError(simdjson::error_code error) {
  return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
}

std::string_view jsonTypeName(od::json_type type) {
  switch (type) {
  case od::json_type::array:
    return "an array";
  case od::json_type::object:
    return "an object";
  case od::json_type::number:
    return "a number";
  case od::json_type::string:
    return "a string";
  case od::json_type::boolean:
    return "a boolean";
  case od::json_type::null:
    return "null";
  }
  return "an unknown value";
}

absl::Status wrongType(const kiln_column_desc &col, od::json_type got) {
  std::string_view expected = col.type == KILN_T_BOOL ? "true or false"
                              : col.type == KILN_T_TEXT || col.type == KILN_T_DATE ||
                                      col.type == KILN_T_TIMESTAMP ||
                                      col.type == KILN_T_TIMESTAMPTZ || col.type == KILN_T_INTERVAL
                                  ? "a string"
                                  : "a number or a string";
  return absl::InvalidArgumentError(absl::StrFormat("expected %s for type %s, got %s", expected,
                                                    typeName(col.type), jsonTypeName(got)));
}

template <typename T> absl::Status store(void *dst, const absl::StatusOr<T> &value) {
  if (!value.ok())
    return value.status();
  std::memcpy(dst, &*value, sizeof(T));
  return absl::OkStatus();
}

// A string value of the row. The parser's string buffer is reused by the next line, and a
// canonical form is a temporary: the row gets its own copy.
absl::Status storeText(void *dst, std::string_view text, Arena &strings) {
  std::string_view copy = strings.copy(text);
  kiln_str str{copy.data(), static_cast<int64_t>(copy.size())};
  std::memcpy(dst, &str, sizeof str);
  return absl::OkStatus();
}

// The text of a number (as written) or of a string (unescaped), for types that read either.
absl::StatusOr<std::string_view> numberOrStringText(const kiln_column_desc &col, od::value &value,
                                                    od::json_type type) {
  if (type == od::json_type::number)
    return detail::stripWhitespace(value.raw_json_token());
  if (type != od::json_type::string)
    return wrongType(col, type);
  std::string_view text;
  if (auto error = value.get_string().get(text))
    return jsonError(error);
  return text;
}

absl::StatusOr<std::string_view> stringText(const kiln_column_desc &col, od::value &value,
                                            od::json_type type) {
  if (type != od::json_type::string)
    return wrongType(col, type);
  std::string_view text;
  if (auto error = value.get_string().get(text))
    return jsonError(error);
  return text;
}

absl::Status decodeValue(const kiln_relation_desc &rel, int32_t column, od::value value, void *row,
                         Arena &strings) {
  const kiln_column_desc &col = rel.cols[column];
  od::json_type type;
  if (auto error = value.type().get(type))
    return jsonError(error);
  if (type == od::json_type::null) {
    // type() only looks at the first byte; is_null() checks the whole literal.
    bool is_null = false;
    if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null)
      return jsonError(simdjson::N_ATOM_ERROR);
    setNull(row, column);
    return absl::OkStatus();
  }
  void *dst = static_cast<char *>(row) + col.offset;
  switch (col.type) {
  case KILN_T_BOOL: {
    bool b;
    if (type == od::json_type::string) {
      // PostgreSQL's text form ('t', 'true', 'yes', ...), as CSV and some CDC payloads carry it.
      absl::StatusOr<std::string_view> text = stringText(col, value, type);
      if (!text.ok())
        return text.status();
      absl::StatusOr<bool> parsed = parseBool(*text);
      if (!parsed.ok())
        return parsed.status();
      *static_cast<uint8_t *>(dst) = *parsed;
      return absl::OkStatus();
    }
    if (type != od::json_type::boolean)
      return wrongType(col, type);
    if (auto error = value.get_bool().get(b))
      return jsonError(error);
    *static_cast<uint8_t *>(dst) = b;
    return absl::OkStatus();
  }
  case KILN_T_INT32:
  case KILN_T_INT64:
  case KILN_T_NUMERIC: {
    if (type == od::json_type::number && col.type != KILN_T_NUMERIC) {
      // Most integers are plain JSON integers: take simdjson's; anything else (a fraction, an
      // exponent, out of range) goes through the text path for PostgreSQL's message.
      int64_t i;
      if (value.get_int64().get(i) == simdjson::SUCCESS) {
        if (col.type == KILN_T_INT64)
          return store(dst, absl::StatusOr<int64_t>(i));
        if (isSmallintColumn(col) ? i >= INT16_MIN && i <= INT16_MAX
                                  : i >= INT32_MIN && i <= INT32_MAX)
          return store(dst, absl::StatusOr<int32_t>(static_cast<int32_t>(i)));
      }
    }
    absl::StatusOr<std::string_view> text = numberOrStringText(col, value, type);
    if (!text.ok())
      return text.status();
    if (col.type == KILN_T_INT32)
      return store(dst, isSmallintColumn(col) ? parseInt16(*text) : parseInt32(*text));
    if (col.type == KILN_T_INT64)
      return store(dst, parseInt64(*text));
    return store(dst, parseNumeric(*text, col.precision, col.scale));
  }
  case KILN_T_FLOAT64: {
    if (type != od::json_type::number) {
      absl::StatusOr<std::string_view> text = numberOrStringText(col, value, type);
      if (!text.ok())
        return text.status();
      return store(dst, isRealColumn(col) ? parseReal(*text) : parseFloat64(*text));
    }
    std::string_view token = detail::stripWhitespace(value.raw_json_token());
    if (isRealColumn(col)) // rounded once from the digits
      return store(dst, parseReal(token));
    double d;
    if (value.get_double().get(d) == simdjson::SUCCESS)
      return store(dst, absl::StatusOr<double>(d));
    // Not a JSON number simdjson accepts: PostgreSQL's message if it has one (out of range).
    absl::StatusOr<double> parsed = parseFloat64(token);
    if (!parsed.ok())
      return parsed.status();
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid input syntax for type double precision: \"%s\"", token));
  }
  case KILN_T_TEXT: {
    absl::StatusOr<std::string_view> text = stringText(col, value, type);
    if (!text.ok())
      return text.status();
    return storeText(dst, *text, strings);
  }
  case KILN_T_INTERVAL: {
    // PostgreSQL's text ('1 day 02:00:00'), or a number of microseconds (Debezium's
    // MicroDuration).
    if (type == od::json_type::number) {
      int64_t micros;
      if (auto error = value.get_int64().get(micros))
        return jsonError(error);
      __int128 packed = kiln_interval_pack({0, 0, micros});
      std::memcpy(dst, &packed, sizeof packed);
      return absl::OkStatus();
    }
    absl::StatusOr<std::string_view> text = stringText(col, value, type);
    if (!text.ok())
      return text.status();
    return store(dst, parseInterval(*text));
  }
  case KILN_T_JSONB: {
    // The field's JSON value is the jsonb value, but for a string, which holds JSON text (as
    // Debezium, Kafka Connect and CSV carry JSON columns; a jsonb string is then "\"x\"").
    std::string_view json;
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == od::json_type::string) {
      error = value.get_string().get(json);
    } else if (type == od::json_type::object) {
      od::object object;
      error = value.get_object().get(object);
      if (!error)
        error = object.raw_json().get(json);
    } else if (type == od::json_type::array) {
      od::array array;
      error = value.get_array().get(array);
      if (!error)
        error = array.raw_json().get(json);
    } else {
      json = value.raw_json_token();
    }
    if (error)
      return jsonError(error);
    absl::StatusOr<std::string> canonical = jsonb::normalize(json);
    if (!canonical.ok())
      return canonical.status();
    return storeText(dst, *canonical, strings);
  }
  case KILN_T_ARRAY: {
    // A JSON array of the elements (as Debezium writes an array column), or PostgreSQL's text
    // of one (as CSV and logical replication carry it). Elements are read as the column's
    // values are: a jsonb element is its JSON value, but for a string, which holds JSON text.
    kiln_column_desc element = arrayElement(col);
    absl::StatusOr<std::string> canonical;
    if (type == od::json_type::array) {
      array_text::Elements elements;
      od::array array;
      if (auto error = value.get_array().get(array))
        return jsonError(error);
      for (auto item_result : array) {
        od::value item;
        od::json_type item_type;
        if (auto error = item_result.get(item))
          return jsonError(error);
        if (auto error = item.type().get(item_type))
          return jsonError(error);
        std::string_view text;
        simdjson::error_code error = simdjson::SUCCESS;
        if (item_type == od::json_type::null) {
          elements.emplace_back(std::nullopt);
          continue;
        }
        if (item_type == od::json_type::string) {
          error = item.get_string().get(text);
        } else if (item_type == od::json_type::array || item_type == od::json_type::object) {
          if (element.type != KILN_T_JSONB)
            return absl::InvalidArgumentError(absl::StrCat("an array of ",
                                                           std::string(typeName(element.type)),
                                                           " has no nested arrays or objects"));
          if (item_type == od::json_type::object) {
            od::object object;
            error = item.get_object().get(object);
            if (!error)
              error = object.raw_json().get(text);
          } else {
            od::array nested;
            error = item.get_array().get(nested);
            if (!error)
              error = nested.raw_json().get(text);
          }
        } else {
          text = detail::stripWhitespace(item.raw_json_token());
        }
        if (error)
          return jsonError(error);
        elements.emplace_back(std::string(text));
      }
      canonical = canonicalArray(elements, element);
    } else {
      absl::StatusOr<std::string_view> text = stringText(col, value, type);
      if (!text.ok())
        return text.status();
      canonical = parseArray(*text, element);
    }
    if (!canonical.ok())
      return canonical.status();
    return storeText(dst, *canonical, strings);
  }
  case KILN_T_DATE:
  case KILN_T_TIMESTAMP:
  case KILN_T_TIMESTAMPTZ: {
    absl::StatusOr<std::string_view> text = stringText(col, value, type);
    if (!text.ok())
      return text.status();
    if (col.type == KILN_T_DATE)
      return store(dst, parseDate(*text));
    if (col.type == KILN_T_TIMESTAMPTZ)
      return store(dst, parseTimestampTz(*text));
    return store(dst, parseTimestamp(*text));
  }
  }
  return absl::InternalError(
      absl::StrCat("column \"", col.name, "\" has unknown type kind ", col.type));
}

// Fields usually come in column order, so the column after the previous one is tried first.
int32_t findColumn(const kiln_relation_desc &rel, std::string_view name, int32_t hint) {
  if (hint < rel.ncols && name == rel.cols[hint].name)
    return hint;
  for (int32_t i = 0; i < rel.ncols; ++i)
    if (name == rel.cols[i].name)
      return i;
  return -1;
}

// The field an object iteration reached, and its unescaped key.
simdjson::error_code openField(simdjson::simdjson_result<od::field> result, od::field &field,
                               std::string_view &key) {
  if (auto error = std::move(result).get(field))
    return error;
  return field.unescaped_key().get(key);
}

absl::Status decodeObject(const kiln_relation_desc &rel, od::object object, void *row,
                          Arena &strings) {
  absl::FixedArray<bool, 64> seen(rel.ncols, false);
  int32_t next = 0;
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (auto error = openField(std::move(field_result), field, key))
      return jsonError(error);
    int32_t column = findColumn(rel, key, next);
    if (column < 0)
      return absl::InvalidArgumentError(
          absl::StrFormat("column \"%s\" of relation \"%s\" does not exist", key, rel.name));
    if (seen[column])
      return absl::InvalidArgumentError(
          absl::StrFormat("column \"%s\" specified more than once", key));
    seen[column] = true;
    next = column + 1;
    if (absl::Status status = decodeValue(rel, column, field.value(), row, strings); !status.ok())
      return absl::InvalidArgumentError(
          absl::StrFormat("column \"%s\": %s", key, status.message()));
  }
  for (int32_t i = 0; i < rel.ncols; ++i)
    if (!seen[i])
      setNull(row, i);
  return absl::OkStatus();
}

// After the top-level object, only whitespace may follow.
absl::Status expectEnd(od::document &doc) {
  const char *rest;
  if (doc.current_location().get(rest) == simdjson::SUCCESS)
    return absl::InvalidArgumentError("unexpected text after the JSON object");
  return absl::OkStatus();
}

// One simdjson parser and the padded copy of the current input that it reads.
struct JsonInput {
  simdjson::simdjson_result<od::document> iterate(std::string_view text) {
    buffer.assign(text);
    buffer.resize(text.size() + simdjson::SIMDJSON_PADDING);
    return parser.iterate(simdjson::padded_string_view(buffer.data(), text.size(), buffer.size()));
  }

  // Parses a part of the current input again (it stays padded: the buffer continues after it).
  simdjson::simdjson_result<od::document> iterateAgain(std::string_view part) {
    size_t capacity = buffer.data() + buffer.size() - part.data();
    return parser.iterate(simdjson::padded_string_view(part.data(), part.size(), capacity));
  }

  // The top-level object of a document, and its errors worded for users.
  static absl::StatusOr<od::object> topObject(od::document &doc) {
    od::object object;
    auto error = doc.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE)
      return absl::InvalidArgumentError("expected a JSON object");
    if (error)
      return jsonError(error);
    return object;
  }

  od::parser parser;
  std::string buffer;
};

void *allocateRow(const kiln_relation_desc &rel, Arena &arena) {
  return arena.allocateZeroed(rel.row_size, std::max<int32_t>(rel.row_align, alignof(uint64_t)));
}

} // namespace

struct RowDecoder::Impl : JsonInput {};

RowDecoder::RowDecoder() : impl_(std::make_unique<Impl>()) {}
RowDecoder::~RowDecoder() = default;

absl::Status RowDecoder::decode(const kiln_relation_desc &rel, std::string_view json, void *row,
                                Arena &strings) {
  od::document doc;
  if (auto error = impl_->iterate(json).get(doc))
    return jsonError(error);
  absl::StatusOr<od::object> object = JsonInput::topObject(doc);
  if (!object.ok())
    return object.status();
  if (absl::Status status = decodeObject(rel, *object, row, strings); !status.ok())
    return status;
  return expectEnd(doc);
}

namespace detail {

bool isValidUtf8(std::string_view bytes) {
  return simdjson::validate_utf8(bytes.data(), bytes.size());
}

struct RecordParser::Impl : JsonInput {};

RecordParser::RecordParser(const kiln_program &program)
    : program_(program), impl_(std::make_unique<Impl>()) {
  for (int32_t i = 0; i < program.nsources; ++i) {
    std::string_view name = program.sources[i].name;
    qualified_.emplace(name, i);
    std::string_view table = name.substr(name.find('.') + 1); // npos + 1 == 0: unqualified
    auto [it, inserted] = unqualified_.emplace(table, i);
    if (!inserted)
      it->second = -1;
  }
}

RecordParser::~RecordParser() = default;

absl::StatusOr<int32_t> RecordParser::resolveTable(std::string_view name) const {
  if (auto it = qualified_.find(name); it != qualified_.end())
    return it->second;
  auto it = unqualified_.find(name);
  if (it == unqualified_.end())
    return absl::InvalidArgumentError(absl::StrFormat("unknown table \"%s\"", name));
  if (it->second < 0)
    return absl::InvalidArgumentError(
        absl::StrFormat("table name \"%s\" is ambiguous; qualify it with its source name", name));
  return it->second;
}

namespace {

// Whether a record is an envelope ({"op":..., "row":...} or a commit) rather than a bare row.
absl::StatusOr<bool> isEnvelope(od::object object) {
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (auto error = openField(std::move(field_result), field, key))
      return jsonError(error);
    if (key == "op" || key == "row" || key == "commit")
      return true;
  }
  return false;
}

absl::StatusOr<ChangeOp> parseOp(std::string_view op) {
  if (op == "insert")
    return ChangeOp::Insert;
  if (op == "delete")
    return ChangeOp::Delete;
  if (op == "upsert")
    return ChangeOp::Upsert;
  if (op == "commit")
    return ChangeOp::Commit;
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown op \"%s\" (expected insert, delete, upsert or commit)", op));
}

} // namespace

absl::StatusOr<std::vector<ChangeRecord>>
RecordParser::parseDebezium(std::string_view value, int32_t source, Arena &scratch) {
  const kiln_relation_desc &rel = program_.sources[source];
  if (value.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return std::vector<ChangeRecord>{}; // a tombstone (log compaction's delete marker)
  // The envelope's parts as raw JSON, each parsed again on its own: the wrapper's "payload" is
  // the envelope itself.
  // (Copies: each parse reuses the parser's buffer, which the views of the last one point into.)
  std::string_view text = value;
  std::string before, after, op;
  for (int depth = 0; depth < 2; ++depth) {
    od::document doc;
    if (auto error = impl_->iterate(text).get(doc))
      return jsonError(error);
    // (simdjson's results are read through get(): converting one that holds an error throws.)
    bool tombstone = false;
    if (doc.is_null().get(tombstone) == simdjson::SUCCESS && tombstone)
      return std::vector<ChangeRecord>{};
    doc.rewind();
    absl::StatusOr<od::object> object = JsonInput::topObject(doc);
    if (!object.ok())
      return object.status();
    std::string_view payload;
    bool has_op = false;
    for (auto field_result : *object) {
      od::field field;
      std::string_view key;
      if (auto error = openField(std::move(field_result), field, key))
        return jsonError(error);
      if (key != "payload" && key != "before" && key != "after" && key != "op")
        continue; // schema, source, ts_ms, transaction
      od::value value = field.value();
      if (key == "op") {
        std::string_view name;
        if (value.get_string().get(name))
          return absl::InvalidArgumentError("a Debezium event's \"op\" must be a string");
        op.assign(name);
        has_op = true;
        continue;
      }
      // An object's text, or "null".
      std::string_view raw = "null";
      od::object object_value;
      bool is_null = false;
      if (value.is_null().get(is_null) != simdjson::SUCCESS)
        return absl::InvalidArgumentError(
            absl::StrFormat("a Debezium event's \"%s\" must be an object or null", key));
      if (!is_null) {
        if (value.get_object().get(object_value))
          return absl::InvalidArgumentError(
              absl::StrFormat("a Debezium event's \"%s\" must be an object or null", key));
        if (auto error = object_value.raw_json().get(raw))
          return jsonError(error);
      }
      raw = stripWhitespace(raw);
      if (key == "payload")
        payload = raw;
      else if (key == "before")
        before.assign(raw);
      else
        after.assign(raw);
    }
    if (has_op || payload.empty())
      break;
    if (payload == "null")
      return std::vector<ChangeRecord>{};
    // The copy the next iteration parses lives in the parser's buffer, so keep it apart.
    deferred_.assign(payload);
    text = deferred_;
  }
  if (op.empty())
    return absl::InvalidArgumentError("not a Debezium change event: no \"op\"");
  bool keyed = rel.nkeys > 0;
  auto decode = [&](std::string_view raw, const char *which) -> absl::StatusOr<void *> {
    if (raw.empty() || raw == "null")
      return absl::InvalidArgumentError(
          absl::StrFormat("a Debezium \"%s\" event needs \"%s\"", op, which));
    od::document doc;
    if (auto error = impl_->iterate(raw).get(doc))
      return jsonError(error);
    absl::StatusOr<od::object> object = JsonInput::topObject(doc);
    if (!object.ok())
      return object.status();
    void *row = allocateRow(rel, scratch);
    if (absl::Status status = decodeObject(rel, *object, row, scratch); !status.ok())
      return absl::InvalidArgumentError(absl::StrCat("\"", which, "\": ", status.message()));
    return row;
  };
  auto change = [&](ChangeOp change_op, void *row) {
    ChangeRecord record;
    record.op = change_op;
    record.source = source;
    record.row = row;
    return record;
  };
  std::vector<ChangeRecord> changes;
  if (op == "c" || op == "r") {
    // A snapshot read again after a restart finds its key: keyed tables take it as an upsert.
    absl::StatusOr<void *> row = decode(after, "after");
    if (!row.ok())
      return row.status();
    changes.push_back(change(keyed ? ChangeOp::Upsert : ChangeOp::Insert, *row));
  } else if (op == "d") {
    absl::StatusOr<void *> row = decode(before, "before");
    if (!row.ok())
      return row.status();
    changes.push_back(change(ChangeOp::Delete, *row));
  } else if (op == "u") {
    absl::StatusOr<void *> new_row = decode(after, "after");
    if (!new_row.ok())
      return new_row.status();
    if (keyed && (before.empty() || before == "null")) {
      // PostgreSQL's default replica identity sends no "before": the table's key finds the row.
      changes.push_back(change(ChangeOp::Upsert, *new_row));
      return changes;
    }
    absl::StatusOr<void *> old_row = decode(before, "before");
    if (!old_row.ok())
      return old_row.status();
    if (!keyed) {
      changes.push_back(change(ChangeOp::Delete, *old_row));
      changes.push_back(change(ChangeOp::Insert, *new_row));
      return changes;
    }
    changes.push_back(change(ChangeOp::Upsert, *new_row));
    for (int32_t k = 0; k < rel.nkeys; ++k) {
      int32_t column = rel.key_cols[k];
      if (formatValue(rel, column, *old_row) != formatValue(rel, column, *new_row)) {
        changes.push_back(change(ChangeOp::Delete, *old_row)); // the key changed
        break;
      }
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("Debezium operation \"%s\" is not supported (c, r, u and d are)", op));
  }
  return changes;
}

absl::StatusOr<ChangeRecord> RecordParser::parse(std::string_view line, int32_t default_source,
                                                 Arena &scratch) {
  od::document doc;
  if (auto error = impl_->iterate(line).get(doc))
    return jsonError(error);
  absl::StatusOr<od::object> object = JsonInput::topObject(doc);
  if (!object.ok())
    return object.status();

  ChangeRecord record;
  if (default_source >= 0) {
    absl::StatusOr<bool> envelope = isEnvelope(*object);
    if (!envelope.ok())
      return envelope.status();
    doc.rewind();
    object = JsonInput::topObject(doc);
    if (!object.ok())
      return object.status();
    if (!*envelope) {
      const kiln_relation_desc &rel = program_.sources[default_source];
      record.op = ChangeOp::Insert;
      record.source = default_source;
      record.row = allocateRow(rel, scratch);
      if (absl::Status status = decodeObject(rel, *object, record.row, scratch); !status.ok())
        return status;
      if (absl::Status status = expectEnd(doc); !status.ok())
        return status;
      return record;
    }
  }

  enum Key { kTable = 1, kOp = 2, kRow = 4, kWeight = 8, kCommit = 16 };
  int seen = 0;
  bool explicit_table = false;
  std::string_view deferred_row; // raw text of a row that came before its table
  record.source = default_source;
  for (auto field_result : *object) {
    od::field field;
    std::string_view key;
    if (auto error = openField(std::move(field_result), field, key))
      return jsonError(error);
    int bit = key == "table"    ? kTable
              : key == "op"     ? kOp
              : key == "row"    ? kRow
              : key == "weight" ? kWeight
              : key == "commit" ? kCommit
                                : 0;
    if (bit == 0)
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown field \"%s\" in change record (expected table, op, row or weight)", key));
    if (seen & bit)
      return absl::InvalidArgumentError(absl::StrFormat("field \"%s\" given more than once", key));
    seen |= bit;
    od::value value = field.value();
    switch (bit) {
    case kTable: {
      std::string_view name;
      if (value.get_string().get(name))
        return absl::InvalidArgumentError("\"table\" must be a string");
      absl::StatusOr<int32_t> source = resolveTable(name);
      if (!source.ok())
        return source.status();
      record.source = *source;
      explicit_table = true;
      break;
    }
    case kOp: {
      std::string_view op;
      if (value.get_string().get(op))
        return absl::InvalidArgumentError("\"op\" must be a string");
      absl::StatusOr<ChangeOp> parsed_op = parseOp(op);
      if (!parsed_op.ok())
        return parsed_op.status();
      record.op = *parsed_op;
      break;
    }
    case kRow: {
      od::object row_object;
      if (value.get_object().get(row_object))
        return absl::InvalidArgumentError("\"row\" must be a JSON object");
      if (explicit_table) {
        const kiln_relation_desc &rel = program_.sources[record.source];
        record.row = allocateRow(rel, scratch);
        if (absl::Status status = decodeObject(rel, row_object, record.row, scratch); !status.ok())
          return status;
      } else if (auto error = row_object.raw_json().get(deferred_row)) {
        return jsonError(error);
      }
      break;
    }
    case kWeight:
      if (value.get_int64().get(record.weight) || record.weight == 0)
        return absl::InvalidArgumentError("\"weight\" must be a non-zero integer");
      break;
    case kCommit: {
      bool commit = false;
      if (value.get_bool().get(commit) || !commit)
        return absl::InvalidArgumentError("\"commit\" must be true");
      record.op = ChangeOp::Commit;
      break;
    }
    }
  }
  if (absl::Status status = expectEnd(doc); !status.ok())
    return status;

  if ((seen & kCommit) || ((seen & kOp) && record.op == ChangeOp::Commit)) {
    if (seen & (kTable | kRow | kWeight))
      return absl::InvalidArgumentError("a commit record has no table, row or weight");
    if ((seen & kCommit) && (seen & kOp))
      return absl::InvalidArgumentError(
          "a commit record has either \"op\" or \"commit\", not both");
    record.op = ChangeOp::Commit;
    return record;
  }
  if (!(seen & kOp))
    return absl::InvalidArgumentError("missing \"op\"");
  if (!(seen & kRow))
    return absl::InvalidArgumentError("missing \"row\"");
  if (record.source < 0)
    return absl::InvalidArgumentError("missing \"table\"");
  if (record.op == ChangeOp::Upsert && (seen & kWeight))
    return absl::InvalidArgumentError("an upsert has no weight");
  if (record.row == nullptr) {
    // The row came before the table (or the table is the input's default): decode it now.
    const kiln_relation_desc &rel = program_.sources[record.source];
    record.row = allocateRow(rel, scratch);
    if (auto error = impl_->iterateAgain(deferred_row).get(doc))
      return jsonError(error);
    absl::StatusOr<od::object> row_object = JsonInput::topObject(doc);
    if (!row_object.ok())
      return row_object.status();
    if (absl::Status status = decodeObject(rel, *row_object, record.row, scratch); !status.ok())
      return status;
  }
  return record;
}

namespace {

// Parses a Debezium message into `doc` and returns its envelope: the top-level object, or its
// "payload" when the message is wrapped with a "schema" (Kafka Connect's JSON converter with
// schemas enabled). Nullopt for a null message or payload.
absl::StatusOr<std::optional<od::object>> parseEnvelope(JsonInput &input, std::string_view text,
                                                        od::document &doc) {
  if (auto error = input.iterate(text).get(doc))
    return jsonError(error);
  bool null_document = false;
  if (doc.is_null().get(null_document) == simdjson::SUCCESS && null_document)
    return std::nullopt;
  doc.rewind();
  absl::StatusOr<od::object> object = JsonInput::topObject(doc);
  if (!object.ok())
    return object.status();
  bool wrapper = true;
  std::optional<std::string_view> payload;
  for (auto field_result : *object) {
    od::field field;
    std::string_view key;
    if (auto error = openField(std::move(field_result), field, key))
      return jsonError(error);
    if (key != "payload") {
      wrapper = wrapper && key == "schema";
      continue;
    }
    od::value value = field.value();
    bool is_null = false;
    od::object inner;
    std::string_view raw;
    if (value.is_null().get(is_null) != simdjson::SUCCESS)
      return absl::InvalidArgumentError("a Debezium message's \"payload\" must be an object");
    if (!is_null && (value.get_object().get(inner) || inner.raw_json().get(raw)))
      return absl::InvalidArgumentError("a Debezium message's \"payload\" must be an object");
    payload = is_null ? std::string_view() : stripWhitespace(raw);
  }
  if (!wrapper || !payload) {
    doc.rewind();
    return JsonInput::topObject(doc);
  }
  if (payload->empty())
    return std::nullopt;
  // (The payload lies in the input's padded buffer: it parses in place.)
  if (auto error = input.iterateAgain(*payload).get(doc))
    return jsonError(error);
  return JsonInput::topObject(doc);
}

// A transaction id as Debezium writes it: a string ("571:53195832"), or a number.
absl::StatusOr<std::string> transactionId(od::value value) {
  od::json_type type;
  if (auto error = value.type().get(type))
    return jsonError(error);
  if (type == od::json_type::number)
    return std::string(detail::stripWhitespace(value.raw_json_token()));
  std::string_view id;
  if (type != od::json_type::string || value.get_string().get(id) || id.empty())
    return absl::InvalidArgumentError("a Debezium transaction's \"id\" must be a string");
  return std::string(id);
}

} // namespace

struct DebeziumMetadataReader::Impl : JsonInput {};

DebeziumMetadataReader::DebeziumMetadataReader() : impl_(std::make_unique<Impl>()) {}
DebeziumMetadataReader::~DebeziumMetadataReader() = default;

absl::StatusOr<std::optional<std::string>>
DebeziumMetadataReader::transactionOf(std::string_view event) {
  if (stripWhitespace(event).empty())
    return std::nullopt; // a tombstone
  od::document doc;
  absl::StatusOr<std::optional<od::object>> envelope = parseEnvelope(*impl_, event, doc);
  if (!envelope.ok())
    return envelope.status();
  if (!envelope->has_value())
    return std::nullopt;
  od::value block;
  if ((*envelope)->find_field_unordered("transaction").get(block))
    return std::nullopt;
  bool null_block = false;
  if (block.is_null().get(null_block) != simdjson::SUCCESS || null_block)
    return std::nullopt;
  od::object transaction;
  if (block.get_object().get(transaction))
    return absl::InvalidArgumentError(
        "a Debezium event's \"transaction\" must be an object or null");
  od::value id;
  if (transaction.find_field_unordered("id").get(id))
    return absl::InvalidArgumentError("a Debezium event's \"transaction\" has no \"id\"");
  return transactionId(id);
}

absl::StatusOr<DebeziumTransactionMarker> DebeziumMetadataReader::marker(std::string_view message) {
  od::document doc;
  absl::StatusOr<std::optional<od::object>> envelope = parseEnvelope(*impl_, message, doc);
  if (!envelope.ok())
    return envelope.status();
  if (!envelope->has_value())
    return absl::InvalidArgumentError("a Debezium transaction event cannot be null");
  od::object &object = **envelope;
  DebeziumTransactionMarker marker;
  std::string_view status;
  if (object.find_field_unordered("status").get_string().get(status) ||
      (status != "BEGIN" && status != "END"))
    return absl::InvalidArgumentError(
        "a Debezium transaction event's \"status\" must be \"BEGIN\" or \"END\"");
  marker.end = status == "END";
  od::value id;
  if (object.find_field_unordered("id").get(id))
    return absl::InvalidArgumentError("a Debezium transaction event has no \"id\"");
  absl::StatusOr<std::string> text = transactionId(id);
  if (!text.ok())
    return text.status();
  marker.id = *std::move(text);
  if (!marker.end)
    return marker;
  od::array collections;
  if (object.find_field_unordered("data_collections").get_array().get(collections))
    return absl::InvalidArgumentError(
        "a Debezium END event needs \"data_collections\": an array of "
        "{\"data_collection\", \"event_count\"}");
  for (auto item : collections) {
    od::object entry;
    std::string_view name;
    int64_t count = 0;
    if (item.get_object().get(entry) ||
        entry.find_field_unordered("data_collection").get_string().get(name) ||
        entry.find_field_unordered("event_count").get_int64().get(count) || count < 0)
      return absl::InvalidArgumentError(
          "a Debezium END event's \"data_collections\" holds {\"data_collection\": NAME, "
          "\"event_count\": N} objects");
    marker.event_counts.emplace_back(std::string(name), count);
  }
  return marker;
}

} // namespace detail
} // namespace kiln::runtime

namespace kiln::runtime::detail {

namespace {

// Calls `each` with every non-blank line of `text` as a parsed document; stops at an error.
absl::Status forEachJsonLine(std::string_view text,
                             const std::function<absl::Status(od::document &)> &each) {
  od::parser parser;
  simdjson::padded_string padded;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == text.npos ? text.size() : end + 1);
    if (line.find_first_not_of(" \t\r") == line.npos)
      continue;
    padded = simdjson::padded_string(line);
    od::document doc;
    if (auto error = parser.iterate(padded).get(doc))
      return jsonError(error);
    if (absl::Status status = each(doc); !status.ok())
      return status;
  }
  return absl::OkStatus();
}

} // namespace

absl::Status sumSinkOutput(std::string_view text, std::string_view sink,
                           absl::flat_hash_map<std::string, int64_t> &rows) {
  return forEachJsonLine(text, [&](od::document &doc) {
    std::string_view name, row;
    int64_t weight;
    if (auto error = doc["sink"].get_string().get(name))
      return jsonError(error);
    if (name != sink)
      return absl::OkStatus();
    if (auto error = doc["weight"].get_int64().get(weight))
      return jsonError(error);
    od::object object;
    if (auto error = doc["row"].get_object().get(object))
      return jsonError(error);
    if (auto error = object.raw_json().get(row))
      return jsonError(error);
    // raw_json keeps the whitespace after the value: the host writes none.
    while (!row.empty() && (row.back() == ' ' || row.back() == '\n' || row.back() == '\r'))
      row.remove_suffix(1);
    rows[std::string(row)] += weight;
    return absl::OkStatus();
  });
}

absl::Status deadLetterRecords(std::string_view text,
                               absl::flat_hash_set<std::pair<std::string, int64_t>> &records) {
  return forEachJsonLine(text, [&](od::document &doc) {
    std::string_view origin;
    int64_t line;
    if (auto error = doc["origin"].get_string().get(origin))
      return jsonError(error);
    auto position = origin.starts_with("kafka:") ? doc["offset"] : doc["line"];
    if (auto error = position.get_int64().get(line))
      return jsonError(error);
    records.emplace(std::string(origin), line);
    return absl::OkStatus();
  });
}

} // namespace kiln::runtime::detail
