#include "agent/safe_fs.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shardcast::agent {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::vector<std::string> splitPath(std::string_view rel) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    if (end > start) out.emplace_back(rel.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

namespace {

bool badSegment(const std::string& seg) {
  return seg.empty() || seg == "." || seg == ".." || seg.find('\0') != std::string::npos;
}

Result<UniqueFd> openDirSegment(int parent, const std::string& seg, bool create) {
  if (badSegment(seg)) return invalidArgument("bad path segment '" + seg + "'");
  int fd = ::openat(parent, seg.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (::mkdirat(parent, seg.c_str(), 0755) != 0 && errno != EEXIST) {
      return errnoStatus("mkdir " + seg, errno);
    }
    fd = ::openat(parent, seg.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      return permissionDenied("'" + seg + "' is a symlink or not a directory; refusing to follow");
    }
    return errnoStatus("open directory " + seg, err);
  }
  return UniqueFd(fd);
}

}  // namespace

Result<UniqueFd> openDirBeneath(int dirfd, std::string_view rel, bool create) {
  int fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errnoStatus("dup", errno);
  UniqueFd cur(fd);
  for (const auto& seg : splitPath(rel)) {
    ASSIGN_OR_RETURN(UniqueFd next, openDirSegment(cur.get(), seg, create));
    cur = std::move(next);
  }
  return cur;
}

Result<UniqueFd> openFileBeneath(int dirfd, std::string_view rel, int flags, mode_t mode) {
  auto segs = splitPath(rel);
  if (segs.empty()) return invalidArgument("empty file path");
  std::string leaf = segs.back();
  if (badSegment(leaf)) return invalidArgument("bad path segment '" + leaf + "'");
  std::string parent_rel(rel.substr(0, rel.size() - leaf.size()));
  ASSIGN_OR_RETURN(UniqueFd parent, openDirBeneath(dirfd, parent_rel, (flags & O_CREAT) != 0));
  int fd = ::openat(parent.get(), leaf.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) return permissionDenied("'" + std::string(rel) + "' is a symlink; refusing to follow");
    return errnoStatus("open " + std::string(rel), err);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return permissionDenied("'" + std::string(rel) + "' is not a regular file");
  }
  return UniqueFd(fd);
}

Status removeTreeAt(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status::ok() : errnoStatus("stat " + name, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return errnoStatus("unlink " + name, errno);
    }
    return Status::ok();
  }
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open directory " + name, errno);
  // A published tree is read-only (0555); make it writable so it can be emptied.
  (void)::fchmod(fd, 0700);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return errnoStatus("opendir " + name, errno);
  }
  std::vector<std::string> children;
  while (struct dirent* e = ::readdir(dir)) {
    std::string child = e->d_name;
    if (child != "." && child != "..") children.push_back(child);
  }
  Status st_children;
  for (const auto& child : children) {
    Status s = removeTreeAt(::dirfd(dir), child);
    if (!s.isOk() && st_children.isOk()) st_children = s;
  }
  ::closedir(dir);
  RETURN_IF_ERROR(st_children);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return errnoStatus("rmdir " + name, errno);
  }
  return Status::ok();
}

Status fsyncFd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return errnoStatus("fsync " + what, errno);
  return Status::ok();
}

Status pwriteAll(int fd, const char* data, size_t len, uint64_t offset, const std::string& what) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("write " + what, errno);
    }
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::ok();
}

Status preadAll(int fd, char* data, size_t len, uint64_t offset, const std::string& what) {
  while (len > 0) {
    ssize_t n = ::pread(fd, data, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("read " + what, errno);
    }
    if (n == 0) return ioError("read " + what + ": unexpected end of file");
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::ok();
}

Status writeFileAtomicAt(int dirfd, const std::string& name, std::string_view data) {
  std::string tmp = name + ".tmp";
  (void)::unlinkat(dirfd, tmp.c_str(), 0);
  int fd = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return errnoStatus("create " + tmp, errno);
  UniqueFd guard(fd);
  Status s = pwriteAll(fd, data.data(), data.size(), 0, tmp);
  if (s.isOk()) s = fsyncFd(fd, tmp);
  if (s.isOk() && ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
    s = errnoStatus("rename " + tmp, errno);
  }
  if (!s.isOk()) {
    (void)::unlinkat(dirfd, tmp.c_str(), 0);
    return s;
  }
  return fsyncFd(dirfd, "directory of " + name);
}

Result<std::string> readFileAt(int dirfd, const std::string& name, size_t max_bytes) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open " + name, errno);
  UniqueFd guard(fd);
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("read " + name, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) return invalidArgument(name + " is larger than expected");
  }
  return out;
}

}  // namespace shardcast::agent
