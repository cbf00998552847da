#include "kiln/runtime/Checkpoints.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>

#include "Strings.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kiln/runtime/Values.h"

namespace fs = std::filesystem;

namespace kiln::runtime {

namespace {

constexpr std::string_view kPrefix = "checkpoint-";
constexpr std::string_view kPartial = ".partial-";

std::string sequenceName(std::string_view prefix, int64_t sequence) {
  return absl::StrFormat("%s%06d", std::string(prefix), sequence);
}

absl::Status ioError(std::string_view what, const std::string &path) {
  return absl::InternalError(
      absl::StrFormat("cannot %s %s: %s", std::string(what), path, std::strerror(errno)));
}

// Writes to `path` what `produce` hands its sink, then fsyncs it.
absl::Status writeDurably(const std::string &path,
                          const std::function<absl::Status(const StateImageSink &)> &produce) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return ioError("create", path);
  StateImageSink sink = [&](std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ioError("write", path);
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  };
  absl::Status status = produce(sink);
  if (status.ok() && ::fsync(fd) != 0)
    status = ioError("sync", path);
  if (::close(fd) != 0 && status.ok())
    status = ioError("close", path);
  return status;
}

absl::Status writeDurably(const std::string &path, std::string_view bytes) {
  return writeDurably(path, [&](const StateImageSink &sink) { return sink(bytes); });
}

absl::Status syncDirectory(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ioError("open", path);
  int status = ::fsync(fd);
  ::close(fd);
  return status == 0 ? absl::OkStatus() : ioError("sync", path);
}

} // namespace

absl::StatusOr<std::string> readFile(const std::string &path) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return ioError("open", path);
  std::string bytes;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    bytes.append(buffer, n);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed)
    return ioError("read", path);
  return bytes;
}

absl::Status writeFileAtomically(const std::string &path, const StateImageWriter &write_state) {
  std::string temporary = path + ".partial";
  absl::Status status = writeDurably(
      temporary, [&](const StateImageSink &sink) { return write_state(sink).status(); });
  if (!status.ok())
    return status;
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    return ioError("rename", temporary);
  fs::path parent = fs::path(path).parent_path();
  return syncDirectory(parent.empty() ? "." : parent.string());
}

namespace {

uint32_t crcOf(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef *>(bytes.data()), bytes.size()));
}

// The CRC-32 a state image ends with (StateImage.cpp), if the bytes before it match it; else
// nullopt. (The CRC of a whole image, its own CRC included, is the same for every image.)
std::optional<uint32_t> imageCrc(std::string_view image) {
  uint32_t crc;
  if (image.size() < sizeof crc)
    return std::nullopt;
  std::memcpy(&crc, image.data() + image.size() - sizeof crc, sizeof crc);
  if (crcOf(image.substr(0, image.size() - sizeof crc)) != crc)
    return std::nullopt;
  return crc;
}

std::string manifestJson(const CheckpointManifest &m, const StateImageInfo &state) {
  std::string out = absl::StrFormat("{\"sequence\":%d,\"ticks\":%d,\"current\":%d,\"inputs\":[",
                                    m.sequence, m.ticks, m.current);
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    out += i == 0 ? "{\"path\":" : ",{\"path\":";
    appendJsonString(out, m.inputs[i].path);
    out += absl::StrFormat(",\"offset\":%d,\"line\":%d,\"partitions\":[", m.inputs[i].offset,
                           m.inputs[i].line);
    for (size_t p = 0; p < m.inputs[i].partitions.size(); ++p)
      out += absl::StrFormat("%s{\"partition\":%d,\"offset\":%d}", p == 0 ? "" : ",",
                             m.inputs[i].partitions[p].first, m.inputs[i].partitions[p].second);
    out += "]}";
  }
  out += "],\"outputs\":[";
  for (size_t i = 0; i < m.outputs.size(); ++i) {
    out += i == 0 ? "{\"path\":" : ",{\"path\":";
    appendJsonString(out, m.outputs[i].path);
    out += absl::StrFormat(",\"length\":%d}", m.outputs[i].length);
  }
  out += "],\"failing_rows\":{";
  bool first = true;
  for (const auto &[name, rows] : m.failing_rows) {
    if (!first)
      out += ",";
    first = false;
    appendJsonString(out, name);
    out += absl::StrFormat(":%d", rows);
  }
  out += absl::StrFormat("},\"records_read\":%d,\"bad_records\":%d,\"runtime_errors\":%d,"
                         "\"changes_out\":%d,\"state_bytes\":%d,\"state_crc32\":%d}\n",
                         m.records_read, m.bad_records, m.runtime_errors, m.changes_out,
                         state.bytes, state.crc);
  return out;
}

// Parses a manifest; also returns the state's recorded size and CRC.
absl::Status parseManifest(std::string_view json, CheckpointManifest &m, int64_t &state_bytes,
                           int64_t &state_crc) {
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS)
    return absl::DataLossError("the manifest is not JSON");
  auto number = [&](std::string_view key, int64_t &value) {
    return doc[key].get_int64().get(value) == simdjson::SUCCESS;
  };
  bool ok =
      number("sequence", m.sequence) && number("ticks", m.ticks) && number("current", m.current);
  simdjson::ondemand::array inputs;
  ok = ok && doc["inputs"].get_array().get(inputs) == simdjson::SUCCESS;
  if (ok) {
    for (auto item : inputs) {
      simdjson::ondemand::object object;
      std::string_view path;
      CheckpointManifest::Input input;
      ok = ok && item.get_object().get(object) == simdjson::SUCCESS &&
           object["path"].get_string().get(path) == simdjson::SUCCESS &&
           object["offset"].get_int64().get(input.offset) == simdjson::SUCCESS &&
           object["line"].get_int64().get(input.line) == simdjson::SUCCESS;
      simdjson::ondemand::array partitions;
      ok = ok && object["partitions"].get_array().get(partitions) == simdjson::SUCCESS;
      if (ok) {
        for (auto partition : partitions) {
          int64_t number = 0, offset = 0;
          ok = ok && partition["partition"].get_int64().get(number) == simdjson::SUCCESS &&
               partition["offset"].get_int64().get(offset) == simdjson::SUCCESS;
          input.partitions.emplace_back(static_cast<int32_t>(number), offset);
        }
      }
      input.path = std::string(path);
      m.inputs.push_back(std::move(input));
    }
  }
  simdjson::ondemand::array outputs;
  ok = ok && doc["outputs"].get_array().get(outputs) == simdjson::SUCCESS;
  if (ok) {
    for (auto item : outputs) {
      simdjson::ondemand::object object;
      std::string_view path;
      CheckpointManifest::Output output;
      ok = ok && item.get_object().get(object) == simdjson::SUCCESS &&
           object["path"].get_string().get(path) == simdjson::SUCCESS &&
           object["length"].get_int64().get(output.length) == simdjson::SUCCESS;
      output.path = std::string(path);
      m.outputs.push_back(std::move(output));
    }
  }
  // Data tests' failing rows (absent from checkpoints of older builds).
  simdjson::ondemand::object failing;
  if (ok && doc["failing_rows"].get_object().get(failing) == simdjson::SUCCESS) {
    for (auto field : failing) {
      std::string_view name;
      int64_t rows = 0;
      ok = ok && field.unescaped_key().get(name) == simdjson::SUCCESS &&
           field.value().get_int64().get(rows) == simdjson::SUCCESS;
      m.failing_rows[std::string(name)] = rows;
    }
  }
  ok = ok && number("records_read", m.records_read) && number("bad_records", m.bad_records) &&
       number("runtime_errors", m.runtime_errors) && number("changes_out", m.changes_out) &&
       number("state_bytes", state_bytes) && number("state_crc32", state_crc);
  return ok ? absl::OkStatus() : absl::DataLossError("the manifest lacks a field");
}

// Checkpoints (or partial ones) in the directory, by sequence.
std::vector<std::pair<int64_t, std::string>> entries(const std::string &dir,
                                                     std::string_view prefix) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix))
      continue;
    char *end = nullptr;
    long long sequence = std::strtoll(name.c_str() + prefix.size(), &end, 10);
    if (end != nullptr && *end == '\0')
      found.emplace_back(sequence, name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

} // namespace

absl::Status CheckpointDir::write(const CheckpointManifest &manifest,
                                  const StateImageWriter &write_state) {
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", path_, ": ", ec.message()));
  std::string partial = (fs::path(path_) / sequenceName(kPartial, manifest.sequence)).string();
  std::string final_name = sequenceName(kPrefix, manifest.sequence);
  std::string complete = (fs::path(path_) / final_name).string();
  fs::remove_all(partial, ec);
  fs::create_directory(partial, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", partial, ": ", ec.message()));
  StateImageInfo state;
  absl::Status written =
      writeDurably((fs::path(partial) / "state.bin").string(), [&](const StateImageSink &sink) {
        absl::StatusOr<StateImageInfo> info = write_state(sink);
        if (info.ok())
          state = *info;
        return info.status();
      });
  if (!written.ok())
    return written;
  if (absl::Status s = writeDurably((fs::path(partial) / "manifest.json").string(),
                                    manifestJson(manifest, state));
      !s.ok())
    return s;
  if (absl::Status s = syncDirectory(partial); !s.ok())
    return s;
  fs::remove_all(complete, ec);
  fs::rename(partial, complete, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot rename ", partial, ": ", ec.message()));
  if (absl::Status s = syncDirectory(path_); !s.ok())
    return s;
  // The new one is complete: keep it and the one before, drop the rest and any leftovers.
  std::vector<std::pair<int64_t, std::string>> complete_ones = entries(path_, kPrefix);
  for (size_t i = 0; i + 2 < complete_ones.size(); ++i)
    fs::remove_all(fs::path(path_) / complete_ones[i].second, ec);
  for (const auto &[sequence, name] : entries(path_, kPartial))
    fs::remove_all(fs::path(path_) / name, ec);
  return absl::OkStatus();
}

int64_t CheckpointDir::lastSequence() const {
  int64_t last = 0;
  for (std::string_view prefix : {kPrefix, kPartial})
    for (const auto &[sequence, name] : entries(path_, prefix))
      last = std::max(last, sequence);
  return last;
}

absl::StatusOr<std::optional<Checkpoint>>
CheckpointDir::latest(std::vector<std::string> &warnings) const {
  std::vector<std::pair<int64_t, std::string>> found = entries(path_, kPrefix);
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    std::string dir = (fs::path(path_) / it->second).string();
    auto skip = [&](absl::string_view why) {
      warnings.push_back(
          absl::StrCat("checkpoint ", dir, " is damaged (", why, "): using the one before it"));
    };
    absl::StatusOr<std::string> manifest_text =
        readFile((fs::path(dir) / "manifest.json").string());
    if (!manifest_text.ok()) {
      skip(manifest_text.status().message());
      continue;
    }
    Checkpoint checkpoint;
    int64_t state_bytes = 0, state_crc = 0;
    if (absl::Status s = parseManifest(*manifest_text, checkpoint.manifest, state_bytes, state_crc);
        !s.ok()) {
      skip(s.message());
      continue;
    }
    absl::StatusOr<std::string> state = readFile((fs::path(dir) / "state.bin").string());
    if (!state.ok()) {
      skip(state.status().message());
      continue;
    }
    std::optional<uint32_t> crc = imageCrc(*state);
    if (static_cast<int64_t>(state->size()) != state_bytes || !crc ||
        static_cast<int64_t>(*crc) != state_crc) {
      skip("the state file's size or checksum differs from the manifest's");
      continue;
    }
    checkpoint.state = *std::move(state);
    checkpoint.name = it->second;
    return std::optional<Checkpoint>(std::move(checkpoint));
  }
  return std::optional<Checkpoint>();
}

} // namespace kiln::runtime
