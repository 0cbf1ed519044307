// PosixJournalFs: JournalFs over POSIX calls (see journal_fs.h).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "controller/journal_fs.h"

namespace shardcast::controller {
namespace {

class PosixAppendFile final : public AppendFile {
 public:
  PosixAppendFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixAppendFile() override { ::close(fd_); }

  Status append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errnoStatus("cannot append to " + path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Status::ok();
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return errnoStatus("cannot sync " + path_, errno);
    return Status::ok();
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return errnoStatus("cannot truncate " + path_, errno);
    }
    size_ = size;
    return Status::ok();
  }

  uint64_t size() const override { return size_; }

 private:
  const std::string path_;
  const int fd_;
  uint64_t size_;
};

Result<std::unique_ptr<AppendFile>> openWith(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errnoStatus("cannot open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return errnoStatus("cannot stat " + path, err);
  }
  return std::unique_ptr<AppendFile>(
      std::make_unique<PosixAppendFile>(path, fd, static_cast<uint64_t>(st.st_size)));
}

class PosixJournalFs final : public JournalFs {
 public:
  Result<std::vector<std::string>> list(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return errnoStatus("cannot list " + dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
  }

  Result<std::string> read(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errnoStatus("cannot read " + path, errno);
    std::string out;
    char buf[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return errnoStatus("cannot read " + path, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<std::unique_ptr<AppendFile>> create(const std::string& path) override {
    return openWith(path, O_CREAT | O_TRUNC);
  }

  Result<std::unique_ptr<AppendFile>> openAppend(const std::string& path) override {
    return openWith(path, 0);
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return errnoStatus("cannot rename " + from + " to " + to, errno);
    }
    return Status::ok();
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errnoStatus("cannot remove " + path, errno);
    return Status::ok();
  }

  Status syncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errnoStatus("cannot open directory " + dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errnoStatus("cannot sync directory " + dir, err);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<JournalFs> makePosixJournalFs() { return std::make_unique<PosixJournalFs>(); }

}  // namespace shardcast::controller
