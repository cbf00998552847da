// A binary image of a program's lasting state, written and read through the state descriptors
// alone (abi.h), for checkpoints.
//
//   "KILNSTAT" | u32 format | u32 ABI | str program | i64 ticks
//   | u32 operators | per operator: u64 fingerprint, str name, str model (every operator of the
//     build, so that an upgrade tells which ones a new build changed: Upgrade.h)
//   | u32 arrangements | per arrangement: u64 fingerprint, str operator, str role, str model (a
//     table of contents: a loader tells every operator whose plan changed before reading any
//     state, and `kiln diff` compares it with another build)
//   per lasting HASH arrangement, in the table of contents' order (a section):
//     u64 fingerprint | u32 slot | u32 payload size | u32 chains | u64 entries
//     per entry: u64 hash | u32 chains linked (bit k) | u64 hash per linked chain k >= 1
//                | the payload's bytes | per TEXT field: str | per MULTISET field: u64 values
//                (~0: none), then per value its bytes (TEXT: str) and i64 count
//   per section: u64 offset of its start in the image (an upgrade loads some sections only,
//     and cannot parse the others: their layouts are the old build's)
//   u64 offset of that list | u32 CRC-32 (zlib's) of everything before it
// where str is u64 length + bytes, numbers little-endian as the machine stores them (an image is
// read back on the machine kind that wrote it).
//
// Payload bytes are copied as they are, then the pointers in them are made again: TEXT values
// (kept text for a source's rows, which own them; interned text elsewhere) and multisets.
// SCRATCH fields mean nothing between ticks and are zeroed. Hashes are stored, not recomputed:
// generated code hashes with fixed seeds, so a rebuilt table finds its entries where the program
// looks for them.
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <zlib.h>

#include "Containers.h"
#include "Runtime.h"
#include "Strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kiln/runtime/State.h"
#include "kiln/runtime/Values.h"

namespace kiln::runtime {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'S', 'T', 'A', 'T'};
constexpr uint32_t kFormat = 2;

bool lasting(const kiln_arrangement_desc &desc) {
  return desc.container == KILN_STATE_HASH && !desc.transient;
}
// A source's rows own their text (kiln_text_keep); other operators intern theirs.
bool keepsText(const kiln_arrangement_desc &desc) { return std::strcmp(desc.kind, "source") == 0; }

// Writes an image in chunks to `sink`, keeping the CRC-32 of what it wrote: an image need not
// fit in memory beside the state it copies.
class Writer {
public:
  explicit Writer(const StateImageSink &sink) : sink_(sink) { out_.reserve(kChunk); }
  template <typename T> void put(T value) { bytes(&value, sizeof value); }
  void bytes(const void *data, size_t size) {
    out_.append(static_cast<const char *>(data), size);
    if (out_.size() >= kChunk)
      flush();
  }
  void str(const char *data, int64_t size) {
    put<uint64_t>(static_cast<uint64_t>(size));
    if (size > 0)
      bytes(data, static_cast<size_t>(size));
  }
  void str(const char *text) { str(text, static_cast<int64_t>(std::strlen(text))); }
  // Bytes written so far.
  uint64_t offset() const { return static_cast<uint64_t>(written_) + out_.size(); }
  // Ends the image with the CRC-32 of everything before it.
  absl::StatusOr<StateImageInfo> finish() {
    flush();
    uint32_t crc = crc_;
    out_.append(reinterpret_cast<const char *>(&crc), sizeof crc);
    sink(out_);
    if (!status_.ok())
      return status_;
    return StateImageInfo{written_, crc};
  }

private:
  static constexpr size_t kChunk = 1 << 20;
  void flush() {
    if (out_.empty())
      return;
    crc_ = static_cast<uint32_t>(
        crc32_z(crc_, reinterpret_cast<const Bytef *>(out_.data()), out_.size()));
    sink(out_);
  }
  void sink(std::string &chunk) {
    if (status_.ok())
      status_ = sink_(chunk);
    written_ += static_cast<int64_t>(chunk.size());
    chunk.clear();
  }
  const StateImageSink &sink_;
  std::string out_;
  uint32_t crc_ = static_cast<uint32_t>(crc32_z(0, nullptr, 0));
  int64_t written_ = 0;
  absl::Status status_;
};

class Reader {
public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T> bool get(T &value) {
    if (in_.size() < sizeof value)
      return false;
    std::memcpy(&value, in_.data(), sizeof value);
    in_.remove_prefix(sizeof value);
    return true;
  }
  bool bytes(void *data, size_t size) {
    if (in_.size() < size)
      return false;
    std::memcpy(data, in_.data(), size);
    in_.remove_prefix(size);
    return true;
  }
  bool str(std::string_view &text) {
    uint64_t size;
    if (!get(size) || in_.size() < size)
      return false;
    text = in_.substr(0, size);
    in_.remove_prefix(size);
    return true;
  }
  bool done() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

private:
  std::string_view in_;
};

uint32_t crcOf(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef *>(bytes.data()), bytes.size()));
}

std::byte *payloadOf(kiln_entry *entry) {
  return reinterpret_cast<std::byte *>(entry) + KILN_ENTRY_PAYLOAD_OFFSET;
}
kiln_entry_link *linkOf(kiln_entry *entry, const kiln_arrangement_desc &desc, int32_t chain) {
  return reinterpret_cast<kiln_entry_link *>(reinterpret_cast<std::byte *>(entry) +
                                             kiln_entry_link_offset(desc.payload_size, chain));
}

} // namespace

absl::StatusOr<StateImageInfo> writeStateImage(const kiln_program &program, void *state,
                                               int64_t ticks, const StateImageSink &sink) {
  auto *slots = static_cast<void **>(state);
  Writer w(sink);
  w.bytes(kMagic, sizeof kMagic);
  w.put<uint32_t>(kFormat);
  w.put<uint32_t>(KILN_STATE_ABI_VERSION);
  w.str(program.name);
  w.put<int64_t>(ticks);
  w.put<uint32_t>(static_cast<uint32_t>(program.nops));
  for (int32_t i = 0; i < program.nops; ++i) {
    w.put<uint64_t>(program.ops[i].fingerprint);
    w.str(program.ops[i].name);
    w.str(program.ops[i].model);
  }
  uint32_t count = 0;
  for (int32_t a = 0; a < program.nstate; ++a)
    count += lasting(program.state[a]);
  w.put<uint32_t>(count);
  for (int32_t a = 0; a < program.nstate; ++a) {
    const kiln_arrangement_desc &desc = program.state[a];
    if (!lasting(desc))
      continue;
    w.put<uint64_t>(desc.fingerprint);
    for (const char *text : {desc.op, desc.role, desc.model})
      w.str(text);
  }
  std::vector<uint64_t> sections;
  for (int32_t a = 0; a < program.nstate; ++a) {
    const kiln_arrangement_desc &desc = program.state[a];
    if (!lasting(desc))
      continue;
    sections.push_back(w.offset());
    auto *table = static_cast<kiln_hashtable *>(slots[desc.slot]);
    w.put<uint64_t>(desc.fingerprint);
    w.put<uint32_t>(static_cast<uint32_t>(desc.slot));
    w.put<uint32_t>(static_cast<uint32_t>(desc.payload_size));
    w.put<uint32_t>(static_cast<uint32_t>(desc.nchains));
    w.put<uint64_t>(static_cast<uint64_t>(kiln_ht_size(table)));
    for (kiln_entry *e = kiln_ht_first(table); e != nullptr; e = kiln_ht_next(table, e)) {
      w.put<uint64_t>(e->hash);
      uint32_t linked = 0;
      for (int32_t k = 1; k < desc.nchains; ++k)
        linked |= static_cast<uint32_t>(kiln_ht_linked(table, e, k)) << k;
      w.put<uint32_t>(linked);
      for (int32_t k = 1; k < desc.nchains; ++k)
        if (linked >> k & 1)
          w.put<uint64_t>(linkOf(e, desc, k)->hash);
      const std::byte *payload = payloadOf(e);
      w.bytes(payload, static_cast<size_t>(desc.payload_size));
      for (int32_t f = 0; f < desc.nfields; ++f) {
        const kiln_state_field &field = desc.fields[f];
        if (field.kind == KILN_FIELD_VALUE && kiln_type_is_string(field.type)) {
          kiln_str text;
          std::memcpy(&text, payload + field.offset, sizeof text);
          w.str(text.ptr, text.ptr == nullptr ? 0 : text.len);
        } else if (field.kind == KILN_FIELD_MULTISET) {
          kiln_multiset *set;
          std::memcpy(&set, payload + field.offset, sizeof set);
          if (set == nullptr) {
            w.put<uint64_t>(~uint64_t{0});
            continue;
          }
          w.put<uint64_t>(static_cast<uint64_t>(kiln_ms_size(set)));
          detail::forEachCount(set, [&](const void *value, int64_t n) {
            if (kiln_type_is_string(field.type)) {
              kiln_str text;
              std::memcpy(&text, value, sizeof text);
              w.str(text.ptr, text.len);
            } else {
              w.bytes(value, storageSize(field.type));
            }
            w.put<int64_t>(n);
          });
        }
      }
    }
  }
  uint64_t list = w.offset();
  for (uint64_t section : sections)
    w.put<uint64_t>(section);
  w.put<uint64_t>(list);
  return w.finish();
}

namespace {

absl::Status damaged(std::string_view what) {
  return absl::DataLossError(absl::StrCat("damaged state image: ", detail::toAbsl(what)));
}

// An image's header, operators, table of contents and section offsets, checked (magic, CRC,
// format); the sections are read from `image` by their offsets.
struct ParsedImage {
  std::string_view image;
  uint32_t abi = 0;
  StateImageSummary summary;
  std::vector<uint64_t> sections; // per table-of-contents entry
};

absl::StatusOr<ParsedImage> parseImage(std::string_view image) {
  if (image.size() < sizeof kMagic + sizeof(uint32_t) + sizeof(uint64_t) ||
      std::memcmp(image.data(), kMagic, sizeof kMagic) != 0)
    return damaged("not a Kiln state image");
  uint32_t crc;
  std::memcpy(&crc, image.data() + image.size() - sizeof crc, sizeof crc);
  image.remove_suffix(sizeof crc);
  if (crcOf(image) != crc)
    return damaged("checksum mismatch (truncated or corrupted)");
  ParsedImage parsed;
  parsed.image = image;
  Reader r(image.substr(sizeof kMagic));
  uint32_t format, ops, count;
  std::string_view name;
  if (!r.get(format) || !r.get(parsed.abi))
    return damaged("truncated header");
  if (format != kFormat)
    return absl::FailedPreconditionError(
        absl::StrFormat("the state image was written by another Kiln (image format %d; this one "
                        "reads %d): start from an empty checkpoint directory",
                        format, kFormat));
  if (!r.str(name) || !r.get(parsed.summary.ticks) || !r.get(ops))
    return damaged("truncated header");
  parsed.summary.program = std::string(name);
  for (uint32_t i = 0; i < ops; ++i) {
    StateImageSummary::Op op;
    std::string_view op_name, model;
    if (!r.get(op.fingerprint) || !r.str(op_name) || !r.str(model))
      return damaged("truncated list of operators");
    op.name = std::string(op_name);
    op.model = std::string(model);
    parsed.summary.ops.push_back(std::move(op));
  }
  if (!r.get(count))
    return damaged("truncated table of contents");
  for (uint32_t i = 0; i < count; ++i) {
    StateImageSummary::Arrangement arrangement;
    std::string_view op, role, model;
    if (!r.get(arrangement.fingerprint) || !r.str(op) || !r.str(role) || !r.str(model))
      return damaged("truncated table of contents");
    arrangement.op = std::string(op);
    arrangement.role = std::string(role);
    arrangement.model = std::string(model);
    parsed.summary.arrangements.push_back(std::move(arrangement));
  }
  uint64_t list;
  std::memcpy(&list, image.data() + image.size() - sizeof list, sizeof list);
  if (list > image.size() - sizeof list || (image.size() - sizeof list - list) / 8 != count)
    return damaged("bad list of sections");
  Reader sections(image.substr(list));
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t offset;
    if (!sections.get(offset) || offset >= list)
      return damaged("bad list of sections");
    parsed.sections.push_back(offset);
  }
  return parsed;
}

// Reads the section of one arrangement into its (empty) table.
absl::Status loadSection(const kiln_arrangement_desc &desc, kiln_hashtable *table, kiln_runtime *rt,
                         Reader &r) {
  uint64_t fingerprint, entries;
  uint32_t slot, payload_size, chains;
  if (!r.get(fingerprint) || !r.get(slot) || !r.get(payload_size) || !r.get(chains) ||
      !r.get(entries))
    return damaged("truncated arrangement");
  // The fingerprint covers the plan, not the layout the code generator chose for it.
  if (fingerprint != desc.fingerprint || payload_size != static_cast<uint32_t>(desc.payload_size) ||
      chains != static_cast<uint32_t>(desc.nchains))
    return absl::FailedPreconditionError(absl::StrFormat(
        "the state of %s (%s, model %s) in the image was written by another build: its layout "
        "changed",
        desc.op, desc.role, desc.model));
  bool keep = keepsText(desc);
  for (uint64_t i = 0; i < entries; ++i) {
    uint64_t hash;
    uint32_t linked;
    if (!r.get(hash) || !r.get(linked))
      return damaged("truncated entry");
    std::vector<uint64_t> link_hashes(static_cast<size_t>(desc.nchains), 0);
    for (int32_t k = 1; k < desc.nchains; ++k)
      if ((linked >> k & 1) && !r.get(link_hashes[static_cast<size_t>(k)]))
        return damaged("truncated entry");
    kiln_entry *e = kiln_ht_insert(table, hash);
    std::byte *payload = payloadOf(e);
    if (!r.bytes(payload, payload_size))
      return damaged("truncated entry");
    for (int32_t f = 0; f < desc.nfields; ++f) {
      const kiln_state_field &field = desc.fields[f];
      std::byte *at = payload + field.offset;
      if (field.kind == KILN_FIELD_SCRATCH) {
        std::memset(at, 0, sizeof(void *));
      } else if (field.kind == KILN_FIELD_VALUE && kiln_type_is_string(field.type)) {
        std::string_view text;
        if (!r.str(text))
          return damaged("truncated text");
        kiln_str value{nullptr, 0};
        if (!text.empty())
          value = keep ? kiln_text_keep(rt, text.data(), static_cast<int64_t>(text.size()))
                       : kiln_intern(rt, text.data(), static_cast<int64_t>(text.size()));
        std::memcpy(at, &value, sizeof value);
      } else if (field.kind == KILN_FIELD_MULTISET) {
        uint64_t values;
        if (!r.get(values))
          return damaged("truncated multiset");
        kiln_multiset *set = nullptr;
        if (values != ~uint64_t{0}) {
          set = kiln_ms_create(rt, field.type);
          for (uint64_t v = 0; v < values; ++v) {
            alignas(16) std::byte value[16];
            if (kiln_type_is_string(field.type)) {
              std::string_view text;
              if (!r.str(text))
                return damaged("truncated multiset");
              kiln_str str{text.data(), static_cast<int64_t>(text.size())};
              std::memcpy(value, &str, sizeof str);
            } else if (!r.bytes(value, storageSize(field.type))) {
              return damaged("truncated multiset");
            }
            int64_t n;
            if (!r.get(n))
              return damaged("truncated multiset");
            kiln_ms_add(set, value, n);
          }
        }
        std::memcpy(at, &set, sizeof set);
      }
    }
    for (int32_t k = 1; k < desc.nchains; ++k)
      if (linked >> k & 1)
        kiln_ht_link(table, e, k, link_hashes[static_cast<size_t>(k)]);
  }
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<int64_t> loadStateImage(const kiln_program &program, void *state, kiln_runtime *rt,
                                       std::string_view image,
                                       const std::set<std::string> *only_ops) {
  absl::StatusOr<ParsedImage> parsed = parseImage(image);
  if (!parsed.ok())
    return parsed.status();
  const StateImageSummary &saved = parsed->summary;
  if (parsed->abi != KILN_STATE_ABI_VERSION)
    return absl::FailedPreconditionError(
        absl::StrFormat("the state image was written by another Kiln (ABI %d; this one: %d)",
                        parsed->abi, KILN_STATE_ABI_VERSION));
  if (saved.program != program.name)
    return absl::FailedPreconditionError(
        absl::StrFormat("the state image is of project %s, not %s", saved.program, program.name));

  // The arrangements to load, each with the section of the same operator (fingerprint) and role.
  std::vector<const kiln_arrangement_desc *> loaded;
  for (int32_t a = 0; a < program.nstate; ++a)
    if (lasting(program.state[a]) && (!only_ops || only_ops->contains(program.state[a].op)))
      loaded.push_back(&program.state[a]);
  std::vector<bool> used(saved.arrangements.size(), false);
  std::vector<size_t> section_of;
  std::set<std::string> changed_models;
  for (const kiln_arrangement_desc *desc : loaded) {
    size_t found = saved.arrangements.size();
    for (size_t i = 0; i < saved.arrangements.size() && found == saved.arrangements.size(); ++i)
      if (!used[i] && saved.arrangements[i].fingerprint == desc->fingerprint &&
          saved.arrangements[i].role == desc->role)
        found = i;
    if (found == saved.arrangements.size()) {
      changed_models.insert(*desc->model ? desc->model : desc->op);
      continue;
    }
    used[found] = true;
    section_of.push_back(found);
  }
  // Without an upgrade plan, every operator whose plan changed blocks the restore: name them
  // all, by model.
  if (!changed_models.empty() ||
      (!only_ops && std::count(used.begin(), used.end(), true) != static_cast<long>(used.size())))
    return absl::FailedPreconditionError(absl::StrFormat(
        "the state image was written by another build of %s: the plans of %s changed, so their "
        "state cannot be kept (start from an empty checkpoint directory to rebuild it from the "
        "inputs)",
        program.name,
        changed_models.empty() ? std::string("its operators")
                               : absl::StrJoin(changed_models, ", ")));

  auto *slots = static_cast<void **>(state);
  // The state create() made for the loaded operators is replaced: the tables emptied (a global
  // aggregate's group), the per-tick lists cleared. Operators an upgrade rebuilds keep theirs.
  for (int32_t a = 0; a < program.nstate; ++a) {
    const kiln_arrangement_desc &desc = program.state[a];
    if (only_ops && !only_ops->contains(desc.op))
      continue;
    if (desc.container == KILN_STATE_LIST && slots[desc.slot] != nullptr)
      kiln_vec_clear(static_cast<kiln_ptrvec *>(slots[desc.slot]));
  }
  for (size_t i = 0; i < loaded.size(); ++i) {
    const kiln_arrangement_desc &desc = *loaded[i];
    auto *table = static_cast<kiln_hashtable *>(slots[desc.slot]);
    while (kiln_entry *e = kiln_ht_first(table))
      kiln_ht_erase(table, e);
    Reader r(parsed->image.substr(parsed->sections[section_of[i]]));
    if (absl::Status status = loadSection(desc, table, rt, r); !status.ok())
      return status;
  }
  return saved.ticks;
}

absl::StatusOr<StateImageSummary> summarizeStateImage(std::string_view image) {
  absl::StatusOr<ParsedImage> parsed = parseImage(image);
  if (!parsed.ok())
    return parsed.status();
  return std::move(parsed->summary);
}

} // namespace kiln::runtime
