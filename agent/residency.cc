#include "agent/residency.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "agent/safe_fs.h"

namespace shardcast::agent {

Result<Residency> fileResidency(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errnoStatus("stat", errno);
  Residency r;
  r.total_bytes = static_cast<uint64_t>(st.st_size);
  if (r.total_bytes == 0) return r;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  // Map and probe in windows so a 100 GB file does not need a 25M-entry vector.
  constexpr uint64_t kWindow = 1ull << 30;
  std::vector<unsigned char> vec;
  for (uint64_t off = 0; off < r.total_bytes; off += kWindow) {
    uint64_t len = std::min(kWindow, r.total_bytes - off);
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(off));
    if (p == MAP_FAILED) return errnoStatus("mmap", errno);
    uint64_t pages = (len + page - 1) / page;
    vec.assign(pages, 0);
    int rc = ::mincore(p, len, vec.data());
    int err = errno;
    ::munmap(p, len);
    if (rc != 0) return errnoStatus("mincore", err);
    for (uint64_t i = 0; i < pages; ++i) {
      if (vec[i] & 1) r.resident_bytes += std::min(page, len - i * page);
    }
  }
  return r;
}

Result<Residency> treeResidency(int dir_fd) {
  int fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errnoStatus("dup directory", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return errnoStatus("opendir", errno);
  }
  ::rewinddir(dir);
  std::vector<std::pair<std::string, bool>> entries;  // name, is_dir
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) entries.emplace_back(name, S_ISDIR(st.st_mode));
  }
  ::closedir(dir);
  Residency sum;
  for (const auto& [name, is_dir] : entries) {
    Result<Residency> r = Residency{};
    if (is_dir) {
      ASSIGN_OR_RETURN(UniqueFd sub, openDirBeneath(dir_fd, name, false));
      r = treeResidency(sub.get());
    } else {
      ASSIGN_OR_RETURN(UniqueFd f, openFileBeneath(dir_fd, name, O_RDONLY));
      r = fileResidency(f.get());
    }
    if (!r.isOk()) return r.status().withContext(name);
    sum.total_bytes += r->total_bytes;
    sum.resident_bytes += r->resident_bytes;
  }
  return sum;
}

Result<Residency> filesResidency(int dir_fd, const std::vector<std::string>& paths) {
  Residency sum;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(UniqueFd fd, openFileBeneath(dir_fd, path, O_RDONLY));
    auto r = fileResidency(fd.get());
    if (!r.isOk()) return r.status().withContext(path);
    sum.total_bytes += r->total_bytes;
    sum.resident_bytes += r->resident_bytes;
  }
  return sum;
}

}  // namespace shardcast::agent
