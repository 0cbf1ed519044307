// Page-cache residency of a model's files (DESIGN §4.6): how much of a published
// version is in memory right now, measured with mincore() over a read-only mmap of
// each file. The agent reports it in GET /v1/models; the pre-warm client warms the
// files (so the page cache is charged to the pod) and the agent only measures.
//
// Free functions; thread-safe. Files are opened beneath `dir_fd` with O_NOFOLLOW
// on every segment (safe_fs.h), never following a symlink out of the data dir.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardcast::agent {

struct Residency {
  uint64_t total_bytes = 0;
  uint64_t resident_bytes = 0;  // counted in whole pages, capped at each file's size
  // 100 for an empty model.
  double percent() const {
    return total_bytes == 0 ? 100.0 : 100.0 * static_cast<double>(resident_bytes) /
                                          static_cast<double>(total_bytes);
  }
};

// Residency of one open file descriptor (size from fstat).
Result<Residency> fileResidency(int fd);
// Sum over every regular file below the directory `dir_fd` (symlinks skipped).
Result<Residency> treeResidency(int dir_fd);
// Sum over `paths` (relative to dir_fd).
Result<Residency> filesResidency(int dir_fd, const std::vector<std::string>& paths);

}  // namespace shardcast::agent
