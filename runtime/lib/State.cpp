#include "kiln/runtime/State.h"

#include <cstring>
#include <map>

#include "Runtime.h"
#include "absl/strings/str_cat.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime {

namespace {

// Whether an arrangement's entries are the operator's lasting contents (not per-tick state).
bool holdsContents(const kiln_arrangement_desc &desc) {
  return desc.container == KILN_STATE_HASH && !desc.transient;
}

// Rows kept in another operator's table: those linked in the first of its chains, and what the
// chains cost (their directories and links).
ArrangementStats measureShared(const kiln_arrangement_desc &desc, void *container) {
  ArrangementStats stats;
  stats.desc = &desc;
  auto *table = static_cast<kiln_hashtable *>(container);
  if (table == nullptr || desc.nchains == 0)
    return stats;
  for (kiln_entry *e = kiln_ht_first(table); e != nullptr; e = kiln_ht_next(table, e))
    stats.entries += kiln_ht_linked(table, e, desc.chain_keys[0]);
  for (int32_t c = 0; c < desc.nchains; ++c)
    stats.bytes += kiln_ht_chain_bytes(table, desc.chain_keys[c]);
  return stats;
}

ArrangementStats measure(const kiln_arrangement_desc &desc, void *container) {
  if (desc.container == KILN_STATE_SHARED)
    return measureShared(desc, container);
  ArrangementStats stats;
  stats.desc = &desc;
  if (container == nullptr)
    return stats;
  if (desc.container == KILN_STATE_LIST) {
    auto *list = static_cast<kiln_ptrvec *>(container);
    stats.entries = kiln_vec_size(list);
    stats.bytes = kiln_vec_bytes(list);
    return stats;
  }
  auto *table = static_cast<kiln_hashtable *>(container);
  stats.entries = kiln_ht_size(table);
  stats.bytes = kiln_ht_bytes(table);
  // What entries own: MIN/MAX multisets.
  std::vector<int32_t> owned;
  for (int32_t f = 0; f < desc.nfields; ++f)
    if (desc.fields[f].kind == KILN_FIELD_MULTISET)
      owned.push_back(desc.fields[f].offset);
  if (owned.empty())
    return stats;
  for (kiln_entry *e = kiln_ht_first(table); e != nullptr; e = kiln_ht_next(table, e)) {
    const auto *payload = reinterpret_cast<const std::byte *>(e) + KILN_ENTRY_PAYLOAD_OFFSET;
    for (int32_t offset : owned) {
      kiln_multiset *set;
      std::memcpy(&set, payload + offset, sizeof set);
      if (set != nullptr)
        stats.bytes += kiln_ms_bytes(set);
    }
  }
  return stats;
}

} // namespace

StateStats measureState(const kiln_program &program, void *state) {
  StateStats result;
  auto *slots = static_cast<void **>(state);
  std::map<std::string, size_t> index; // operator name -> position in result.operators
  for (int32_t a = 0; a < program.nstate; ++a) {
    const kiln_arrangement_desc &desc = program.state[a];
    auto [it, fresh] = index.try_emplace(desc.op, result.operators.size());
    if (fresh) {
      OperatorStats op;
      op.op = desc.op;
      op.kind = desc.kind;
      op.model = desc.model;
      result.operators.push_back(std::move(op));
    }
    OperatorStats &op = result.operators[it->second];
    ArrangementStats stats = measure(desc, slots[desc.slot]);
    if (holdsContents(desc) || desc.container == KILN_STATE_SHARED)
      op.entries += stats.entries;
    op.bytes += stats.bytes;
    result.total_bytes += stats.bytes;
    op.arrangements.push_back(stats);
  }
  // Bytes of chains kept in another operator's table count for the operator that keeps them, not
  // twice: the table's owner (described earlier: sources come first) gives them up.
  for (OperatorStats &sharer : result.operators) {
    for (const ArrangementStats &shared : sharer.arrangements) {
      if (shared.desc->container != KILN_STATE_SHARED)
        continue;
      for (OperatorStats &owner : result.operators)
        for (ArrangementStats &table : owner.arrangements)
          if (table.desc->container == KILN_STATE_HASH && table.desc->slot == shared.desc->slot) {
            table.bytes -= shared.bytes;
            owner.bytes -= shared.bytes;
            result.total_bytes -= shared.bytes;
          }
    }
  }
  const kiln_runtime &rt = *static_cast<kiln_runtime *>(slots[0]);
  result.interned_strings = static_cast<int64_t>(rt.interned_set.size());
  result.interned_bytes = static_cast<int64_t>(
      rt.interned.reservedBytes() + rt.interned_set.capacity() * sizeof(std::string_view));
  result.kept_text_bytes = rt.kept_text_bytes;
  result.total_bytes += result.interned_bytes + result.kept_text_bytes;
  return result;
}

int64_t dumpState(const kiln_program &program, void *state, std::FILE *out) {
  auto *slots = static_cast<void **>(state);
  int64_t written = 0;
  for (int32_t a = 0; a < program.nstate; ++a) {
    const kiln_arrangement_desc &desc = program.state[a];
    if (!holdsContents(desc) || slots[desc.slot] == nullptr)
      continue;
    auto *table = static_cast<kiln_hashtable *>(slots[desc.slot]);
    std::string prefix = "{\"operator\":";
    appendJsonString(prefix, desc.op);
    prefix += ",\"model\":";
    appendJsonString(prefix, desc.model);
    prefix += ",\"role\":";
    appendJsonString(prefix, desc.role);
    prefix += ",\"entry\":{";
    for (kiln_entry *e = kiln_ht_first(table); e != nullptr; e = kiln_ht_next(table, e)) {
      const auto *payload = reinterpret_cast<const std::byte *>(e) + KILN_ENTRY_PAYLOAD_OFFSET;
      std::string line = prefix;
      bool first = true;
      for (int32_t f = 0; f < desc.nfields; ++f) {
        const kiln_state_field &field = desc.fields[f];
        if (field.kind == KILN_FIELD_FLAG || field.kind == KILN_FIELD_SCRATCH)
          continue;
        line += first ? "" : ",";
        first = false;
        appendJsonString(line, field.name);
        line += ":";
        const std::byte *at = payload + field.offset;
        if (field.kind == KILN_FIELD_WEIGHT) {
          int64_t weight;
          std::memcpy(&weight, at, sizeof weight);
          absl::StrAppend(&line, weight);
        } else if (field.kind == KILN_FIELD_MULTISET) {
          kiln_multiset *set;
          std::memcpy(&set, at, sizeof set);
          absl::StrAppend(&line, set == nullptr ? 0 : kiln_ms_size(set));
        } else {
          uint64_t word = 0;
          if (field.null_offset >= 0)
            std::memcpy(&word, payload + field.null_offset, sizeof word);
          if ((word >> field.null_bit) & 1) {
            line += "null";
          } else {
            kiln_column_desc col{field.name, field.type, 0, field.scale, 0, 0, 0};
            appendJsonString(line, formatScalar(col, at));
          }
        }
      }
      line += "}}\n";
      std::fputs(line.c_str(), out);
      ++written;
    }
  }
  return written;
}

void printStateStats(std::FILE *out, const StateStats &stats) {
  std::fprintf(out, "%-24s %-24s %-12s %12s %14s\n", "operator", "model", "kind", "entries",
               "bytes");
  for (const OperatorStats &op : stats.operators)
    std::fprintf(out, "%-24s %-24s %-12s %12lld %14lld\n", op.op.c_str(), op.model.c_str(),
                 op.kind.c_str(), static_cast<long long>(op.entries),
                 static_cast<long long>(op.bytes));
  std::fprintf(out, "%-24s %-24s %-12s %12lld %14lld\n", "interned strings", "", "",
               static_cast<long long>(stats.interned_strings),
               static_cast<long long>(stats.interned_bytes));
  std::fprintf(out, "%-24s %-24s %-12s %12s %14lld\n", "kept strings", "", "", "",
               static_cast<long long>(stats.kept_text_bytes));
  std::fprintf(out, "%-24s %-24s %-12s %12s %14lld\n", "total", "", "", "",
               static_cast<long long>(stats.total_bytes));
}

std::string stateStatsJson(const StateStats &stats) {
  std::string out = "{\"operators\":[";
  for (size_t i = 0; i < stats.operators.size(); ++i) {
    const OperatorStats &op = stats.operators[i];
    if (i)
      out += ",";
    out += "{\"operator\":";
    appendJsonString(out, op.op);
    out += ",\"model\":";
    appendJsonString(out, op.model);
    out += ",\"kind\":";
    appendJsonString(out, op.kind);
    out +=
        absl::StrCat(",\"entries\":", op.entries, ",\"bytes\":", op.bytes, ",\"arrangements\":[");
    for (size_t a = 0; a < op.arrangements.size(); ++a) {
      const ArrangementStats &arr = op.arrangements[a];
      if (a)
        out += ",";
      out += "{\"role\":";
      appendJsonString(out, arr.desc->role);
      out += absl::StrCat(",\"fingerprint\":\"", absl::Hex(arr.desc->fingerprint, absl::kZeroPad16),
                          "\",\"entries\":", arr.entries, ",\"bytes\":", arr.bytes, "}");
    }
    out += "]}";
  }
  out += absl::StrCat("],\"interned_strings\":", stats.interned_strings,
                      ",\"interned_bytes\":", stats.interned_bytes,
                      ",\"kept_text_bytes\":", stats.kept_text_bytes,
                      ",\"total_bytes\":", stats.total_bytes, "}");
  return out;
}

} // namespace kiln::runtime
