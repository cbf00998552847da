// libFuzzer target over the input record decoder: one input line, as change records, bare rows
// of a table, Debezium envelopes and rows of every column type. Whatever the bytes, the decoder
// answers with a row or an error status: never a crash or a sanitizer report.
#include "RecordParser.h"
#include "TestRelations.h"
#include "kiln/runtime/Values.h"

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
  return 0;
}
