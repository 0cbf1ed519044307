// FileObjectStore: an ObjectStore over the local file system, for file:///abs/dir/
// (every regular file below the directory) and file:///abs/file (one file).
//
// Symbolic links below the root are neither followed nor listed, and every path
// is opened component by component with O_NOFOLLOW, so a listing or a read never
// leaves the root. The root itself (the directory or file the URI names) may be
// a symlink: the operator chose it. The pin is "<size>-<mtime_ns>"; a read with a
// pin fails with reason "object_changed" when the file no longer carries it
// (checked before and after reading).
//
// Thread-safe: holds no mutable state; each call opens its own descriptors.
// Not responsible for publisher checksums (it reports none).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/objstore/object_store.h"

namespace shardcast {

class FileObjectStore : public ObjectStore {
 public:
  // InvalidArgument unless source.uri is file:///<absolute path>.
  static Result<std::unique_ptr<ObjectStore>> open(const SourceSpec& source,
                                                   const ObjectStoreOptions& options);

  Result<std::vector<ObjectInfo>> list() override;
  Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                   uint64_t length, const ByteSink& sink) override;
  std::string describe() const override { return uri_; }

 private:
  // root_ is the directory (prefix) or the file's parent directory; single_name_ is
  // the file's name for a single-file source, "" for a prefix.
  FileObjectStore(std::string uri, std::string root, std::string single_name)
      : uri_(std::move(uri)), root_(std::move(root)), single_name_(std::move(single_name)) {}

  Status listDir(int dir_fd, const std::string& rel, int depth, std::vector<ObjectInfo>& out);
  Result<ObjectInfo> statSingle();
  // Opens root_/path for reading without following symlinks below the root.
  Result<int> openObject(const std::string& path);

  const std::string uri_;
  const std::string root_;
  const std::string single_name_;
};

}  // namespace shardcast
