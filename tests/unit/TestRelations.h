// Relation descriptors that tests share, laid out the way generated code lays out rows.
#pragma once

#include <cstddef>

#include "kiln/runtime/abi.h"

namespace kiln::runtime::testing {

// One column of every type kind, all nullable.
struct AllTypesRow {
  uint64_t nulls;
  uint8_t b;
  int32_t i;
  int64_t l;
  double f;
  __int128 n;  // NUMERIC(20,2)
  kiln_str t;
  int32_t d;
  int64_t ts;
  kiln_str j;
};

inline const kiln_column_desc kAllTypesColumns[] = {
    {"b", KILN_T_BOOL, 0, 0, offsetof(AllTypesRow, b), 0},
    {"i", KILN_T_INT32, 0, 0, offsetof(AllTypesRow, i), 0},
    {"l", KILN_T_INT64, 0, 0, offsetof(AllTypesRow, l), 0},
    {"f", KILN_T_FLOAT64, 0, 0, offsetof(AllTypesRow, f), 0},
    {"n", KILN_T_NUMERIC, 20, 2, offsetof(AllTypesRow, n), 0},
    {"t", KILN_T_TEXT, 0, 0, offsetof(AllTypesRow, t), 0},
    {"d", KILN_T_DATE, 0, 0, offsetof(AllTypesRow, d), 0},
    {"ts", KILN_T_TIMESTAMP, 0, 0, offsetof(AllTypesRow, ts), 0},
    {"j", KILN_T_JSONB, 0, 0, offsetof(AllTypesRow, j), 0},
};

inline const kiln_relation_desc kAllTypes = {
    "test.all_types", "models/sources.yml:1:1", 9, kAllTypesColumns,
    sizeof(AllTypesRow), alignof(AllTypesRow), 0, nullptr};

}  // namespace kiln::runtime::testing
