#include "agent/file_digester.h"

#include <unistd.h>

#include <cerrno>

namespace shardcast::agent {

FileDigester::FileDigester(const Manifest& manifest) : manifest_(manifest), files_(manifest.files().size()) {
  for (uint32_t fi = 0; fi < files_.size(); ++fi) {
    FileState& f = files_[fi];
    f.checked = !manifest.files()[fi].sha256.empty();
    f.next_piece = manifest.firstPiece(fi);
    f.end_piece = f.next_piece + manifest.pieceCountOfFile(fi);
  }
}

Status FileDigester::hashPiece(const VersionStore& store, FileState& f) {
  ASSIGN_OR_RETURN(PieceFd piece, store.openPieceFd(f.next_piece));
  if (buffer_.empty()) buffer_.resize(1 << 20);
  uint64_t offset = piece.offset;
  uint64_t left = piece.length;
  while (left > 0) {
    size_t want = left < buffer_.size() ? static_cast<size_t>(left) : buffer_.size();
    ssize_t n = ::pread(piece.fd.get(), buffer_.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoStatus("read piece " + std::to_string(f.next_piece), errno);
    if (n == 0) return ioError("piece " + std::to_string(f.next_piece) + " is shorter than the manifest says");
    f.hasher.update(buffer_.data(), static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
    left -= static_cast<uint64_t>(n);
  }
  bytes_hashed_ += piece.length;
  ++f.next_piece;
  return Status::ok();
}

Result<uint64_t> FileDigester::advance(const VersionStore& store) {
  uint64_t before = bytes_hashed_;
  for (FileState& f : files_) {
    if (!f.checked) continue;
    while (f.next_piece < f.end_piece && store.hasPiece(f.next_piece)) {
      RETURN_IF_ERROR(hashPiece(store, f));
    }
  }
  return bytes_hashed_ - before;
}

Result<std::string> FileDigester::digest(const VersionStore& store, uint32_t file) {
  if (file >= files_.size()) return invalidArgument("file index out of range");
  FileState& f = files_[file];
  while (f.next_piece < f.end_piece) RETURN_IF_ERROR(hashPiece(store, f));
  return f.hasher.finishHex();
}

}  // namespace shardcast::agent
