// The controller's data directory: the checks it must pass and the lock that
// keeps a second controller off it (DESIGN §7, §8).
//
// DataDirLock::acquire() creates the directory (mode 0700, parents too) when it
// is missing, refuses a path that is a symbolic link, not a directory, or not
// writable, and takes an exclusive flock(2) on <dir>/LOCK, so a second controller
// on the same directory fails at once with a clear message. The lock is released
// when the object is destroyed (or the process dies: the kernel drops it).
//
// checkDataDir() is the side-effect-free part for --check-config.
//
// Thread-compatible value types; not responsible for the files inside the
// directory (JournalStateStore is).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace shardcast::controller {

// OK when `dir` is missing (it will be created) or an existing, writable
// directory that is not a symbolic link. Creates nothing.
Status checkDataDir(const std::string& dir);

class DataDirLock {
 public:
  static Result<std::unique_ptr<DataDirLock>> acquire(const std::string& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  DataDirLock(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}

  const std::string dir_;
  const int fd_;
};

}  // namespace shardcast::controller
