// JournalFs: the narrow file-system seam under the controller's journal — only
// the calls JournalStateStore makes, so a test can put a fault-injecting,
// crash-simulating file system underneath (tests/unit/controller/fault_journal_fs.h)
// and PosixJournalFs does the real thing.
//
// Durability contract (what the journal relies on, and what the fault file
// system models): bytes appended to a file are durable once its sync() returned
// OK; a file's creation, a rename and a removal are durable once syncDir() of its
// directory returned OK; rename() replaces the target atomically.
//
// Implementations are thread-compatible: JournalStateStore calls them under its
// own mutex. Paths are whatever the caller passes; no path validation here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardcast::controller {

// A file open for appending. Closed when destroyed.
class AppendFile {
 public:
  virtual ~AppendFile() = default;
  virtual Status append(std::string_view data) = 0;
  // Makes every appended byte (and the file's size) durable (fdatasync).
  virtual Status sync() = 0;
  // Cuts the file to `size` bytes; later appends go after it. Not synced.
  virtual Status truncate(uint64_t size) = 0;
  virtual uint64_t size() const = 0;
};

class JournalFs {
 public:
  virtual ~JournalFs() = default;
  // Names (not paths) of the entries in `dir`.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  // The whole file; NotFound when it does not exist.
  virtual Result<std::string> read(const std::string& path) = 0;
  // Creates `path` empty (truncating an existing file) and opens it for appending.
  virtual Result<std::unique_ptr<AppendFile>> create(const std::string& path) = 0;
  // Opens an existing file for appending at its end.
  virtual Result<std::unique_ptr<AppendFile>> openAppend(const std::string& path) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status syncDir(const std::string& dir) = 0;
};

// The real file system (open/write/fdatasync/rename/unlink and fsync of the
// directory). Files are created with mode 0600.
std::unique_ptr<JournalFs> makePosixJournalFs();

}  // namespace shardcast::controller
