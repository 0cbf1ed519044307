#include "common/manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "common/api/json_fields.h"
#include "common/path_rules.h"
#include "common/sha256.h"

namespace shardcast {
namespace {

// Rejects a path that equals another file's directory ("a" and "a/b"), which could
// not both exist on disk.
Status checkNoFileDirClash(const std::vector<ManifestFile>& files) {
  std::set<std::string> paths;
  for (const auto& f : files) {
    if (!paths.insert(f.path).second) return invalidArgument("duplicate file path '" + f.path + "'");
  }
  for (const auto& f : files) {
    for (size_t pos = f.path.find('/'); pos != std::string::npos; pos = f.path.find('/', pos + 1)) {
      if (paths.count(f.path.substr(0, pos))) {
        return invalidArgument("file path '" + f.path.substr(0, pos) +
                               "' is also a directory of '" + f.path + "'");
      }
    }
  }
  return Status::ok();
}

}  // namespace

Result<Manifest> Manifest::create(ModelRef model, uint64_t piece_size,
                                  std::vector<ManifestFile> files) {
  RETURN_IF_ERROR(validateModelName(model.name));
  RETURN_IF_ERROR(validateModelVersion(model.version));
  if (piece_size < kMinPieceSize || piece_size > kMaxPieceSize) {
    return invalidArgument("piece_size " + std::to_string(piece_size) + " must be between " +
                           std::to_string(kMinPieceSize) + " and " +
                           std::to_string(kMaxPieceSize) + " bytes");
  }
  if (files.empty()) return invalidArgument("a model needs at least one file");
  if (files.size() > kMaxManifestFiles) {
    return invalidArgument("a model may have at most " + std::to_string(kMaxManifestFiles) +
                           " files");
  }
  for (const auto& f : files) {
    RETURN_IF_ERROR(validateRelativePath(f.path));
    if (!f.sha256.empty() && !isSha256Hex(f.sha256)) {
      return invalidArgument("sha256 of '" + f.path + "' is not 64 lowercase hex characters");
    }
  }
  RETURN_IF_ERROR(checkNoFileDirClash(files));
  // One canonical order, so every replica's listing yields the same layout.
  std::sort(files.begin(), files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });

  Manifest m;
  m.model_ = std::move(model);
  m.piece_size_ = piece_size;
  m.files_ = std::move(files);
  for (uint32_t fi = 0; fi < m.files_.size(); ++fi) {
    const auto& f = m.files_[fi];
    m.first_piece_.push_back(static_cast<uint32_t>(m.pieces_.size()));
    for (uint64_t off = 0; off < f.size; off += piece_size) {
      if (m.pieces_.size() >= UINT32_MAX) return invalidArgument("too many pieces");
      m.pieces_.push_back(PieceRef{fi, off, std::min(piece_size, f.size - off)});
    }
    m.total_bytes_ += f.size;
  }
  return m;
}

uint32_t Manifest::pieceCountOfFile(uint32_t file) const {
  uint32_t end = file + 1 < first_piece_.size() ? first_piece_[file + 1] : pieceCount();
  return end - first_piece_.at(file);
}

nlohmann::json Manifest::toJson() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : files_) {
    nlohmann::json e = {{"path", f.path}, {"size", f.size}, {"pins", f.pins}};
    if (!f.sha256.empty()) e["sha256"] = f.sha256;
    files.push_back(std::move(e));
  }
  return {{"model", model_.toString()},
          {"piece_size", piece_size_},
          {"total_bytes", total_bytes_},
          {"piece_count", pieceCount()},
          {"files", std::move(files)}};
}

Result<Manifest> Manifest::fromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(api::checkObject(j, "manifest", {}, /*strict=*/false));
  std::string ref;
  uint64_t piece_size = 0;
  RETURN_IF_ERROR(api::readString(j, "model", ref, true));
  RETURN_IF_ERROR(api::readU64(j, "piece_size", piece_size, true));
  ASSIGN_OR_RETURN(ModelRef model, parseModelRef(ref));
  auto it = j.find("files");
  if (it == j.end() || !it->is_array()) return invalidArgument("manifest needs a 'files' array");
  std::vector<ManifestFile> files;
  files.reserve(it->size());
  for (const auto& e : *it) {
    RETURN_IF_ERROR(api::checkObject(e, "manifest file", {}, false));
    ManifestFile f;
    RETURN_IF_ERROR(api::readString(e, "path", f.path, true));
    RETURN_IF_ERROR(api::readU64(e, "size", f.size, true));
    RETURN_IF_ERROR(api::readStringList(e, "pins", f.pins, false));
    RETURN_IF_ERROR(api::readString(e, "sha256", f.sha256, false));
    files.push_back(std::move(f));
  }
  return create(std::move(model), piece_size, std::move(files));
}

std::string Manifest::digest() const {
  nlohmann::json j = toJson();
  for (auto& f : j["files"]) f.erase("sha256");
  return sha256Hex(j.dump());
}

bool Manifest::sameContent(const Manifest& other) const {
  if (files_.size() != other.files_.size()) return false;
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].path != other.files_[i].path || files_[i].size != other.files_[i].size) {
      return false;
    }
  }
  return true;
}

uint64_t autoPieceSize(uint64_t total_bytes) {
  uint64_t size = 4ull << 20;
  while (size < kDefaultPieceSize && size * 2 * 2048 <= total_bytes) size *= 2;
  return size;
}

}  // namespace shardcast
