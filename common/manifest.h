// The manifest of one model version: its files, their pins per source replica,
// publisher checksums where known, and the piece layout (DESIGN §3).
//
// Pieces are numbered globally in file order. A file of size s contributes
// ceil(s / piece_size) pieces; the last one may be short; a piece never spans two
// files; empty files have no pieces. A Manifest is a value: build it once with
// Manifest::create (which validates and computes the layout), then share it
// read-only between threads. Accepted piece hashes are not part of the manifest:
// they arrive later, from the controller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast {

inline constexpr uint64_t kDefaultPieceSize = 16ull << 20;
inline constexpr uint64_t kMinPieceSize = 64ull << 10;
inline constexpr uint64_t kMaxPieceSize = 256ull << 20;
inline constexpr size_t kMaxManifestFiles = 200000;

// The piece size of a rollout that names none: F / 2048 rounded down to a power of
// two, between 4 MiB and kDefaultPieceSize (4 MiB below 16 GiB, 16 MiB from 32 GiB
// up). A region's swarm can only start once its seeders hold whole pieces (about
// S x piece / origin rate), and the last piece to enter must still be copied
// hop by hop to every node (about log_K(N) x K x piece / B): both are small next to
// F / B only when pieces are small next to F. Big enough pieces keep the per-piece
// cost (requests, hashes, reports) low. Measured (bench/README.md): on the rig at
// N = 16, F = 1 GiB, 4 MiB pieces beat 1 MiB (CPU per piece) and 16 MiB (the swarm
// starts late); simulated at N = 1,000, F = 10 GB, 4 MiB gives 1.18 x F/B and
// 16 MiB 1.23.
uint64_t autoPieceSize(uint64_t total_bytes);

struct ManifestFile {
  std::string path;               // validated relative path
  uint64_t size = 0;
  std::vector<std::string> pins;  // ETag or version id, one per source replica ("" = none)
  std::string sha256;             // publisher's whole-file checksum (hex), "" if none

  bool operator==(const ManifestFile&) const = default;
};

struct PieceRef {
  uint32_t file = 0;    // index into Manifest::files()
  uint64_t offset = 0;  // byte offset within that file
  uint64_t length = 0;
};

class Manifest {
 public:
  Manifest() = default;

  // Validates the model ref, every path (and uniqueness, also against a file being
  // another file's directory), the piece size, sorts the files by path and
  // computes the layout.
  static Result<Manifest> create(ModelRef model, uint64_t piece_size,
                                 std::vector<ManifestFile> files);
  static Result<Manifest> fromJson(const nlohmann::json& j);
  nlohmann::json toJson() const;

  const ModelRef& model() const { return model_; }
  uint64_t pieceSize() const { return piece_size_; }
  const std::vector<ManifestFile>& files() const { return files_; }
  uint64_t totalBytes() const { return total_bytes_; }
  uint32_t pieceCount() const { return static_cast<uint32_t>(pieces_.size()); }
  const PieceRef& piece(uint32_t index) const { return pieces_.at(index); }
  // First piece of file f and the number of pieces it has.
  uint32_t firstPiece(uint32_t file) const { return first_piece_.at(file); }
  uint32_t pieceCountOfFile(uint32_t file) const;
  // SHA-256 of the canonical JSON of model, piece size, paths, sizes and pins:
  // what a persisted bitfield is checked against on restart.
  std::string digest() const;
  // True when the content (paths, sizes) equals `other`'s; pins may differ.
  bool sameContent(const Manifest& other) const;

 private:
  ModelRef model_;
  uint64_t piece_size_ = kDefaultPieceSize;
  std::vector<ManifestFile> files_;
  std::vector<PieceRef> pieces_;
  std::vector<uint32_t> first_piece_;
  uint64_t total_bytes_ = 0;
};

}  // namespace shardcast
