#include "agent/content_store.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace shardcast::agent {
namespace {

std::vector<std::string> listDirectories(int dirfd) {
  std::vector<std::string> out;
  int fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return out;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return out;
  }
  ::rewinddir(dir);
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    struct stat st;
    if (name == "." || name == "..") continue;
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      out.push_back(name);
    }
  }
  ::closedir(dir);
  return out;
}

}  // namespace

Result<std::unique_ptr<ContentStore>> ContentStore::open(const std::string& data_dir) {
  if (data_dir.empty()) return invalidArgument("--data-dir is required");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return ioError("cannot create data dir " + data_dir + ": " + ec.message());
  int fd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open data dir " + data_dir, errno);
  UniqueFd root(fd);
  for (const char* sub : {"models", "partial", "leases"}) {
    ASSIGN_OR_RETURN(UniqueFd d, openDirBeneath(root.get(), sub, true));
  }
  // Probe that the directory is writable now rather than mid-rollout.
  RETURN_IF_ERROR(writeFileAtomicAt(root.get(), ".write-probe", "ok\n"));
  (void)::unlinkat(root.get(), ".write-probe", 0);
  return std::unique_ptr<ContentStore>(new ContentStore(data_dir, std::move(root)));
}

Result<std::shared_ptr<VersionStore>> ContentStore::openVersion(const Manifest& manifest) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = versions_.find(manifest.model());
  if (it != versions_.end()) {
    const auto& open = it->second;
    if (open->manifest().digest() == manifest.digest()) return open;
    if (open->published() && open->manifest().sameContent(manifest)) return open;
    if (open.use_count() > 1) {
      return failedPrecondition(manifest.model().toString() +
                                " is being fetched for another manifest; try again later");
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<VersionStore> vs, VersionStore::open(root_.get(), manifest));
  versions_[manifest.model()] = vs;
  return vs;
}

std::shared_ptr<VersionStore> ContentStore::find(const ModelRef& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = versions_.find(ref);
  return it == versions_.end() ? nullptr : it->second;
}

std::vector<std::string> ContentStore::publishedModels() const {
  std::vector<std::string> out;
  auto models = openDirBeneath(root_.get(), "models", false);
  if (!models.isOk()) return out;
  for (const auto& name : listDirectories(models->get())) {
    if (!validateModelName(name).isOk()) continue;
    auto versions = openDirBeneath(models->get(), name, false);
    if (!versions.isOk()) continue;
    for (const auto& version : listDirectories(versions->get())) {
      if (validateModelVersion(version).isOk()) out.push_back(name + ":" + version);
    }
  }
  return out;
}

}  // namespace shardcast::agent
