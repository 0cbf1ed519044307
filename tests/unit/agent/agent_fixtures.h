// Fixtures for the agent's unit tests: a temp data directory that can be removed
// even after publish made parts of it read-only, and small model manifests with
// their bytes.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/manifest.h"
#include "common/sha256.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast::testing {

// A TempDir whose tree is made writable again before removal (published models
// are 0555/0444, which would stop remove_all for a non-root user).
class DataDir {
 public:
  ~DataDir() {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir_.path(), ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_symlink()) {
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
      }
    }
  }
  const std::string& path() const { return dir_.path(); }
  std::string operator/(const std::string& rel) const { return dir_.path() + "/" + rel; }

 private:
  TempDir dir_;
};

struct ModelFixture {
  Manifest manifest;
  std::map<std::string, std::string> content;  // path -> bytes

  // The bytes of piece i.
  std::string piece(uint32_t i) const {
    const PieceRef& p = manifest.piece(i);
    return content.at(manifest.files()[p.file].path).substr(p.offset, p.length);
  }
  std::string pieceHash(uint32_t i) const { return sha256Hex(piece(i)); }
};

// Files of the given sizes, pattern bytes, piece size 64 KiB (the minimum).
inline ModelFixture makeModelFixture(const std::map<std::string, size_t>& sizes,
                                     const std::string& name = "m", const std::string& version = "v1",
                                     const std::string& pin = "etag-1") {
  ModelFixture f;
  std::vector<ManifestFile> files;
  unsigned seed = 1;
  for (const auto& [path, size] : sizes) {
    f.content[path] = patternBytes(size, seed++);
    files.push_back(ManifestFile{path, size, {pin}, ""});
  }
  auto m = Manifest::create(ModelRef{name, version}, kMinPieceSize, files);
  if (!m.isOk()) throw std::runtime_error(m.status().toString());
  f.manifest = std::move(m).value();
  return f;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace shardcast::testing
