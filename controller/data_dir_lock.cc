#include "controller/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shardcast::controller {
namespace {

Status checkExisting(const std::string& dir, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    return failedPrecondition("--data-dir " + dir +
                              " is a symbolic link; give the directory it points to");
  }
  if (!S_ISDIR(st.st_mode)) {
    return failedPrecondition("--data-dir " + dir + " exists and is not a directory");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return permissionDenied("--data-dir " + dir + " is not writable by this user (" +
                            std::strerror(errno) + "); fix its owner or mode");
  }
  return Status::ok();
}

// mkdir -p with mode 0700 for every directory it creates.
Status makeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return errnoStatus("cannot create --data-dir " + dir + " (at " + prefix + ")", errno);
    }
  }
  return Status::ok();
}

}  // namespace

Status checkDataDir(const std::string& dir) {
  if (dir.empty()) return invalidArgument("--data-dir must not be empty");
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::ok();
    return errnoStatus("cannot inspect --data-dir " + dir, errno);
  }
  return checkExisting(dir, st);
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const std::string& dir) {
  RETURN_IF_ERROR(checkDataDir(dir));
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    RETURN_IF_ERROR(makeDirs(dir));
    if (::lstat(dir.c_str(), &st) != 0) return errnoStatus("cannot inspect --data-dir " + dir, errno);
    RETURN_IF_ERROR(checkExisting(dir, st));
  }
  std::string lock_path = dir + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errnoStatus("cannot open the lock file " + lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return failedPrecondition("another shardcast-controller is using --data-dir " + dir +
                                    " (it holds " + lock_path +
                                    "); stop it, or give this one its own --data-dir",
                                "data_dir_locked");
    }
    return errnoStatus("cannot lock " + lock_path, err);
  }
  // The holder's pid, for an operator who wonders who holds the lock.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(dir, fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace shardcast::controller
