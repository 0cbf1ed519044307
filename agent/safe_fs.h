// File-system helpers that work relative to an open directory and never follow a
// symlink (DESIGN §8: nothing is read or written outside the data directory).
// Every path segment is opened with O_NOFOLLOW, so a symlink planted anywhere
// under the data directory makes the operation fail instead of escaping.
//
// Free functions over file descriptors; thread-safe as far as the kernel is.
// UniqueFd owns one descriptor and closes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "common/status.h"

namespace shardcast::agent {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Splits "a/b/c" into {"a", "b", "c"}.
std::vector<std::string> splitPath(std::string_view rel);

// Opens (and with `create`, makes, mode 0755) the directory `rel` below `dirfd`,
// one segment at a time with O_NOFOLLOW. `rel` may be "" (dup of dirfd).
Result<UniqueFd> openDirBeneath(int dirfd, std::string_view rel, bool create);

// Opens the file `rel` below `dirfd` without following symlinks in any segment.
// With O_CREAT in `flags`, missing parent directories are created (0755).
Result<UniqueFd> openFileBeneath(int dirfd, std::string_view rel, int flags, mode_t mode = 0644);

// Removes `name` (a file or a whole tree) inside `dirfd`; symlinks are removed,
// never followed. A missing entry is not an error.
Status removeTreeAt(int dirfd, const std::string& name);

// Writes `data` to `name` inside `dirfd` atomically: temp file, fsync, rename,
// fsync of the directory.
Status writeFileAtomicAt(int dirfd, const std::string& name, std::string_view data);

// Reads a whole small file inside `dirfd` (no symlinks), at most `max_bytes`.
Result<std::string> readFileAt(int dirfd, const std::string& name, size_t max_bytes);

Status fsyncFd(int fd, const std::string& what);
Status pwriteAll(int fd, const char* data, size_t len, uint64_t offset, const std::string& what);
Status preadAll(int fd, char* data, size_t len, uint64_t offset, const std::string& what);

}  // namespace shardcast::agent
