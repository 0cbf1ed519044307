// VersionStore: the on-disk copy of one model version on this node (DESIGN §5, §6).
//
// While incomplete, the files live in <data-dir>/partial/<name>/<version>/ (each
// created at its full size) and the verified-piece bitfield in
// <data-dir>/partial/<name>/.<version>.pieces: one JSON line
// {"manifest_digest": ..., "pieces": N} followed by the raw bitfield bytes. Versions
// never start with '.', so that name cannot clash with a version directory.
// publish() moves the directory to <data-dir>/models/<name>/<version>/ with one
// rename, after which files are 0444 and directories 0555.
//
// Durability argument: writePiece() only pwrites; markVerified() queues the piece;
// flush() first fdatasyncs every touched file and only THEN sets the pieces' bits
// and persists the bitfield (temp file, fsync, rename, fsync dir). So after a crash
// every bit found on disk covers bytes that reached the disk, and resume can trust
// set bits when the digest matches the manifest. Only pieces whose bit is set are
// served (openPieceFd) or counted.
//
// The store holds an O_DIRECTORY descriptor of the version directory, so openat()
// keeps working across the publish rename. Paths were validated by the manifest;
// every segment is opened again with O_NOFOLLOW (safe_fs.h).
//
// Thread-safe: state is guarded by mu_; pwrite runs outside mu_ under a shared
// io_mu_ that publish() takes exclusively; flush() calls are serialised by flush_mu_.
// Not responsible for verifying bytes (the caller checks accepted hashes before
// markVerified) nor for deciding what to fetch.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "agent/safe_fs.h"
#include "common/bitfield.h"
#include "common/manifest.h"
#include "common/status.h"

namespace shardcast::agent {

// A read-only descriptor positioned for one piece; the receiver owns `fd`.
struct PieceFd {
  UniqueFd fd;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class VersionStore {
 public:
  // Opens the version below the data directory `root_fd` (not owned; duplicated).
  // Published -> complete. Else a bitfield whose digest equals manifest.digest()
  // is resumed; anything else under partial/ for this version is removed and the
  // files are created empty at their sizes (ResourceExhausted "no_space" when the
  // disk cannot hold them).
  static Result<std::shared_ptr<VersionStore>> open(int root_fd, const Manifest& manifest);
  ~VersionStore();

  const Manifest& manifest() const { return manifest_; }
  bool published() const;
  bool complete() const;
  Bitfield bits() const;
  uint32_t bitCount() const;
  bool hasPiece(uint32_t index) const;
  // Bytes of all pieces whose bit is set.
  uint64_t bytesDone() const;
  // True when the piece was resumed as set from an earlier run (for logs/tests).
  bool resumed() const { return resumed_; }

  // pwrites exactly the piece's bytes at its offset. Does not make it servable.
  Status writePiece(uint32_t index, const char* data, size_t len);
  // Queues a written, verified piece: its bit is set by the next flush().
  void markVerified(uint32_t index);
  size_t pendingCount() const;
  // fdatasync touched files, then set queued bits and persist the bitfield.
  // Returns the number of pieces that became servable.
  Result<size_t> flush();

  // A descriptor to serve piece `index` from; NotFound unless its bit is set.
  Result<PieceFd> openPieceFd(uint32_t index) const;
  // SHA-256 of one piece's bytes as they are on disk (resume check).
  Result<std::string> pieceSha256(uint32_t index) const;
  // Clears the pieces' bits and persists the bitfield (their bytes failed a check).
  Status dropPieces(const std::vector<uint32_t>& pieces);
  // SHA-256 of a whole file (for publisher checksums).
  Result<std::string> fileSha256(uint32_t file) const;
  // All bits set -> fsync, read-only, rename into models/, remove the bitfield.
  Status publish();

  // Accepted hash of a piece, sent to peers as a hint ("" when unknown).
  void setHashHint(uint32_t index, const std::string& sha256);
  std::string hashHint(uint32_t index) const;

 private:
  VersionStore(UniqueFd root, const Manifest& manifest);
  Status openExisting();
  Status openPartial();
  Status tryResume();
  Status createFiles();
  Status restoreWritable();
  std::string piecesFileName() const { return "." + manifest_.model().version + ".pieces"; }
  std::string piecesFileContent(const Bitfield& bits) const;
  // A shared descriptor for writing `file`: cached, at most kMaxWriteFds at once
  // (older ones are dropped from the cache; a writer still holding one keeps it open).
  Result<std::shared_ptr<UniqueFd>> writeFd(uint32_t file);
  Status syncFiles(const std::vector<std::pair<std::shared_ptr<UniqueFd>, uint32_t>>& files);
  Status makeReadOnly();
  Status renameIntoModels();

  const Manifest manifest_;
  UniqueFd root_;          // data directory
  UniqueFd partial_name_;  // partial/<name> (only while partial)
  UniqueFd version_dir_;   // the version directory, wherever it is now
  bool resumed_ = false;

  mutable std::mutex mu_;
  bool published_ = false;               // guarded by mu_
  Bitfield bits_;                         // guarded by mu_
  uint64_t bytes_done_ = 0;               // guarded by mu_
  std::set<uint32_t> pending_;            // guarded by mu_
  std::set<uint32_t> touched_files_;      // guarded by mu_
  static constexpr size_t kMaxWriteFds = 512;
  std::vector<std::shared_ptr<UniqueFd>> write_fds_;  // guarded by mu_ (opened lazily)
  std::deque<uint32_t> write_fd_order_;               // guarded by mu_ (eviction order)
  std::vector<std::string> hash_hints_;   // guarded by mu_

  std::mutex flush_mu_;       // serialises flush() and publish()
  std::shared_mutex io_mu_;   // shared: pwrite/fdatasync; exclusive: publish
};

}  // namespace shardcast::agent
