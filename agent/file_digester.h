// FileDigester: hashes the files that carry a publisher checksum while the model
// arrives (DESIGN §4.5), so the whole-file check before publish only has to read
// the pieces that came last instead of the whole model.
//
// For each such file it keeps one running SHA-256 over the file's verified
// prefix: advance() reads (pread, from the page cache the pieces were just
// written to) and hashes the next pieces of each file for as long as they are
// verified in the store, in file order. digest() hashes what is left and returns
// the file's SHA-256. The result is the same as hashing the finished file; if a
// piece already hashed were later dropped and written again, the caller's
// mismatch path re-hashes the whole file (VersionStore::fileSha256) before it
// judges.
//
// Borrows the Manifest, which must outlive it. Not thread-safe: one thread at a
// time (the rollout worker's flusher calls advance(); digest() runs after the
// flusher stopped).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/version_store.h"
#include "common/manifest.h"
#include "common/sha256.h"
#include "common/status.h"

namespace shardcast::agent {

class FileDigester {
 public:
  explicit FileDigester(const Manifest& manifest);

  // Hashes the verified prefix of every checked file; returns the bytes hashed.
  Result<uint64_t> advance(const VersionStore& store);
  // The SHA-256 (hex) of file `file`, hashing the pieces not yet hashed. Every
  // piece of the file must be verified. Call once per file.
  Result<std::string> digest(const VersionStore& store, uint32_t file);
  // Bytes hashed so far by advance() and digest().
  uint64_t bytesHashed() const { return bytes_hashed_; }

 private:
  struct FileState {
    bool checked = false;  // the file has a publisher checksum
    uint32_t next_piece = 0;
    uint32_t end_piece = 0;
    Sha256 hasher;
  };
  Status hashPiece(const VersionStore& store, FileState& f);

  const Manifest& manifest_;
  std::vector<FileState> files_;
  std::vector<char> buffer_;
  uint64_t bytes_hashed_ = 0;
};

}  // namespace shardcast::agent
