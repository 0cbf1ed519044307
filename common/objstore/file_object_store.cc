#include "common/objstore/file_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/http_client.h"
#include "common/path_rules.h"
#include "common/objstore/object_rules.h"

namespace shardcast {
namespace {

constexpr char kIndexFileName[] = "shardcast-index.json";
constexpr int kMaxDepth = 64;
constexpr size_t kReadChunkBytes = 1 << 20;

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string pinOf(const struct stat& st) {
  uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                      static_cast<uint64_t>(st.st_mtim.tv_nsec);
  return std::to_string(st.st_size) + "-" + std::to_string(mtime_ns);
}

Status objectChanged(const std::string& object, const std::string& pin, const std::string& now) {
  return failedPrecondition("object changed: " + object + " (pinned " + pin + ", now " + now + ")",
                            "object_changed");
}

// Reads exactly `length` bytes at `offset` into `sink`; a short file is Unavailable.
Status preadAll(int fd, const std::string& object, uint64_t offset, uint64_t length,
                const ByteSink& sink) {
  std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(length, kReadChunkBytes)));
  uint64_t done = 0;
  while (done < length) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), length - done));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoStatus("read " + object, errno);
    if (n == 0) {
      return unavailable("short read of " + object + ": got " + std::to_string(done) + " of " +
                         std::to_string(length) + " bytes");
    }
    RETURN_IF_ERROR(sink(buf.data(), static_cast<size_t>(n)));
    done += static_cast<uint64_t>(n);
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> FileObjectStore::open(const SourceSpec& source,
                                                           const ObjectStoreOptions& options) {
  const std::string kPrefix = "file://";
  if (source.uri.rfind(kPrefix, 0) != 0 || source.uri.size() <= kPrefix.size() ||
      source.uri[kPrefix.size()] != '/') {
    return invalidArgument("file source must look like file:///absolute/path, got '" +
                           source.uri.substr(0, 200) + "'");
  }
  ASSIGN_OR_RETURN(std::string path, urlDecode(source.uri.substr(kPrefix.size())));
  if (path.find('\0') != std::string::npos) return invalidArgument("file source path has a NUL");
  if (source.isPrefix()) {
    return std::unique_ptr<ObjectStore>(new FileObjectStore(source.uri, path, ""));
  }
  size_t slash = path.rfind('/');
  std::string name = path.substr(slash + 1);
  RETURN_IF_ERROR(validateRelativePath(name));
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  return std::unique_ptr<ObjectStore>(new FileObjectStore(source.uri, dir, name));
}

Result<std::vector<ObjectInfo>> FileObjectStore::list() {
  if (!single_name_.empty()) {
    ASSIGN_OR_RETURN(ObjectInfo info, statSingle());
    return std::vector<ObjectInfo>{info};
  }
  Fd dir(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return errnoStatus("open source directory " + uri_, errno);
  std::vector<ObjectInfo> out;
  RETURN_IF_ERROR(listDir(dir.get(), "", 0, out));
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.path < b.path; });
  return out;
}

Result<ObjectInfo> FileObjectStore::statSingle() {
  std::string full = root_ + (root_ == "/" ? "" : "/") + single_name_;
  struct stat st;
  if (::stat(full.c_str(), &st) != 0) return errnoStatus("stat " + uri_, errno);
  if (!S_ISREG(st.st_mode)) return invalidArgument(uri_ + " is not a regular file");
  return ObjectInfo{single_name_, static_cast<uint64_t>(st.st_size), pinOf(st), ""};
}

Status FileObjectStore::listDir(int dir_fd, const std::string& rel, int depth,
                                std::vector<ObjectInfo>& out) {
  if (depth > kMaxDepth) return invalidArgument("directory tree under " + uri_ + " is too deep");
  int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return errnoStatus("dup", errno);
  DIR* d = ::fdopendir(dup_fd);
  if (d == nullptr) {
    ::close(dup_fd);
    return errnoStatus("list " + uri_ + rel, errno);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (depth == 0 && name == kIndexFileName) continue;
    std::string path = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errnoStatus("stat " + uri_ + path, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) return errnoStatus("open " + uri_ + path, errno);
      RETURN_IF_ERROR(listDir(sub.get(), path, depth + 1, out));
    } else if (S_ISREG(st.st_mode)) {
      RETURN_IF_ERROR(validateRelativePath(path));
      out.push_back(ObjectInfo{path, static_cast<uint64_t>(st.st_size), pinOf(st), ""});
    }
    // Symlinks, sockets, devices and FIFOs are not model content: skipped.
  }
  return Status::ok();
}

Result<int> FileObjectStore::openObject(const std::string& path) {
  if (!single_name_.empty()) {
    std::string full = root_ + (root_ == "/" ? "" : "/") + single_name_;
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errnoStatus("open " + uri_, errno);
    return fd;
  }
  int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open source directory " + uri_, errno);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    bool last = slash == std::string::npos;
    std::string seg = path.substr(start, last ? std::string::npos : slash - start);
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY);
    int next = ::openat(fd, seg.c_str(), flags);
    int err = errno;
    ::close(fd);
    if (next < 0) {
      // ELOOP/ENOTDIR: a symlink or a file where a directory was expected.
      if (err == ELOOP || err == ENOTDIR) return notFound(uri_ + path + " is not a regular file");
      return errnoStatus("open " + uri_ + path, err);
    }
    if (last) return next;
    fd = next;
    start = slash + 1;
  }
}

Status FileObjectStore::readRange(const std::string& path, const std::string& pin,
                                  uint64_t offset, uint64_t length, const ByteSink& sink) {
  std::string object = single_name_.empty() ? uri_ + path : uri_;
  RETURN_IF_ERROR(checkRangeRequest(uri_, single_name_, path, offset, length));
  ASSIGN_OR_RETURN(int raw_fd, openObject(path));
  Fd fd(raw_fd);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errnoStatus("stat " + object, errno);
  if (!S_ISREG(st.st_mode)) return notFound(object + " is not a regular file");
  if (!pin.empty() && pinOf(st) != pin) return objectChanged(object, pin, pinOf(st));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || length > size - offset) {
    return invalidArgument("range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                           ") is beyond the end of " + object + " (" + std::to_string(size) +
                           " bytes)");
  }
  Status read = preadAll(fd.get(), object, offset, length, sink);
  if (!pin.empty()) {
    // A writer may have changed the file while we read it.
    if (::fstat(fd.get(), &st) != 0) return errnoStatus("stat " + object, errno);
    if (pinOf(st) != pin) return objectChanged(object, pin, pinOf(st));
  }
  return read;
}

}  // namespace shardcast
