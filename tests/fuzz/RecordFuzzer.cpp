// libFuzzer target over the input record decoder: one input line, as change records, bare rows
// of a table, Debezium envelopes and rows of every column type and of arrays of each. Whatever the bytes, the decoder
// answers with a row or an error status: never a crash or a sanitizer report.
#include "RecordParser.h"
#include "TestRelations.h"
#include "kiln/runtime/Values.h"

#include <vector>

namespace {

using namespace kiln::runtime;

const kiln_program &program() {
  static const kiln_relation_desc sources[] = {testing::kAllTypes};
  static const kiln_program p = [] {
    kiln_program q{};
    q.abi_version = KILN_ABI_VERSION;
    q.name = "fuzz";
    q.nsources = 1;
    q.sources = sources;
    return q;
  }();
  return p;
}

// kAllTypes with its double precision and integer columns as real and smallint (the same
// storage, narrowed: kiln/runtime/Values.h isRealColumn).
const kiln_relation_desc &narrowTypes() {
  static const std::vector<kiln_column_desc> cols = [] {
    std::vector<kiln_column_desc> c(testing::kAllTypes.cols,
                                    testing::kAllTypes.cols + testing::kAllTypes.ncols);
    for (kiln_column_desc &col : c) {
      if (col.type == KILN_T_FLOAT64)
        col.precision = 24;
      if (col.type == KILN_T_INT32)
        col.precision = 16;
    }
    return c;
  }();
  static const kiln_relation_desc rel = [] {
    kiln_relation_desc r = testing::kAllTypes;
    r.cols = cols.data();
    return r;
  }();
  return rel;
}

// kAllTypes with every column an array of its type, each a kiln_str after the null bitmap.
struct ArrayRow {
  uint64_t nulls;
  kiln_str values[9];
};
const kiln_relation_desc &arrayTypes() {
  static const std::vector<kiln_column_desc> cols = [] {
    std::vector<kiln_column_desc> c(testing::kAllTypes.cols,
                                    testing::kAllTypes.cols + testing::kAllTypes.ncols);
    for (size_t i = 0; i < c.size(); ++i) {
      c[i].element = c[i].type;
      c[i].type = KILN_T_ARRAY;
      c[i].offset = static_cast<int32_t>(offsetof(ArrayRow, values) + i * sizeof(kiln_str));
    }
    return c;
  }();
  static const kiln_relation_desc rel = [] {
    kiln_relation_desc r = testing::kAllTypes;
    r.cols = cols.data();
    r.row_size = sizeof(ArrayRow);
    r.row_align = alignof(ArrayRow);
    return r;
  }();
  static_assert(sizeof(ArrayRow::values) / sizeof(kiln_str) == 9);
  return rel;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view line(reinterpret_cast<const char *>(data), size);
  static detail::RecordParser parser(program());
  static RowDecoder decoder;
  Arena scratch;
  if (absl::StatusOr<detail::ChangeRecord> record = parser.parse(line, -1, scratch); record.ok())
    (void)record->op;
  (void)parser.parse(line, 0, scratch);
  (void)parser.parseDebezium(line, 0, scratch);
  testing::AllTypesRow row{};
  if (decoder.decode(testing::kAllTypes, line, &row, scratch).ok())
    for (int32_t c = 0; c < testing::kAllTypes.ncols; ++c)
      (void)formatValue(testing::kAllTypes, c, &row);
  testing::AllTypesRow narrow{};
  if (decoder.decode(narrowTypes(), line, &narrow, scratch).ok())
    for (int32_t c = 0; c < narrowTypes().ncols; ++c)
      (void)formatValue(narrowTypes(), c, &narrow);
  ArrayRow arrays{};
  if (decoder.decode(arrayTypes(), line, &arrays, scratch).ok())
    for (int32_t c = 0; c < arrayTypes().ncols; ++c)
      if (auto text = formatValue(arrayTypes(), c, &arrays))
        (void)arrayToJson(*text, arrayTypes().cols[c].element);
  return 0;
}
