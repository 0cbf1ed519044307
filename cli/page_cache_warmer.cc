#include "cli/page_cache_warmer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

namespace shardcast::cli {
namespace {

Status warmFile(const std::string& path, WarmResult& result,
                const std::function<void(uint64_t)>& progress) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open " + path, errno);
  // Ask the kernel to start reading the whole file, then read it through so that
  // every page is really resident when this returns.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(4 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errnoStatus("read " + path, err);
    }
    if (n == 0) break;
    result.bytes += static_cast<uint64_t>(n);
    if (progress) progress(result.bytes);
  }
  ::close(fd);
  ++result.files;
  return Status::ok();
}

}  // namespace

Result<WarmResult> warmPageCache(const std::string& dir,
                                 const std::function<void(uint64_t)>& progress) {
  WarmResult result;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  if (ec) return ioError("cannot read " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return ioError("cannot read " + dir + ": " + ec.message());
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    RETURN_IF_ERROR(warmFile(it->path().string(), result, progress));
  }
  return result;
}

}  // namespace shardcast::cli
