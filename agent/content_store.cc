#include "agent/content_store.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/eviction_policy.h"
#include "common/api/json_fields.h"
#include "common/log.h"

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

// Sum of the sizes of the regular files below dirfd/name (no symlinks followed).
uint64_t treeBytes(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (!S_ISDIR(st.st_mode)) return 0;
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return 0;
  }
  uint64_t sum = 0;
  while (struct dirent* e = ::readdir(dir)) {
    std::string child = e->d_name;
    if (child != "." && child != "..") sum += treeBytes(::dirfd(dir), child);
  }
  ::closedir(dir);
  return sum;
}

int64_t mtimeMs(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int64_t wallNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

constexpr const char* kLastUseFile = "last-use.json";

}  // namespace

Result<std::unique_ptr<ContentStore>> ContentStore::open(const std::string& data_dir,
                                                         DiskBudget budget) {
  if (data_dir.empty()) return invalidArgument("--data-dir is required");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return ioError("cannot create data dir " + data_dir + ": " + ec.message());
  int fd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open data dir " + data_dir, errno);
  UniqueFd root(fd);
  for (const char* sub : {"models", "partial", "leases", "trash"}) {
    ASSIGN_OR_RETURN(UniqueFd d, openDirBeneath(root.get(), sub, true));
  }
  // Versions renamed into trash/ before a crash: finish removing them.
  RETURN_IF_ERROR(removeTreeAt(root.get(), "trash"));
  ASSIGN_OR_RETURN(UniqueFd trash, openDirBeneath(root.get(), "trash", true));
  // Probe that the directory is writable now rather than mid-rollout.
  RETURN_IF_ERROR(writeFileAtomicAt(root.get(), ".write-probe", "ok\n"));
  (void)::unlinkat(root.get(), ".write-probe", 0);
  uint64_t budget_bytes = UINT64_MAX;
  if (budget.bytes > 0) budget_bytes = budget.bytes;
  if (budget.percent > 0) {
    struct statvfs vfs;
    if (::fstatvfs(root.get(), &vfs) != 0) return errnoStatus("statvfs " + data_dir, errno);
    double fs = static_cast<double>(vfs.f_blocks) * static_cast<double>(vfs.f_frsize);
    budget_bytes = static_cast<uint64_t>(fs * budget.percent / 100.0);
  }
  std::unique_ptr<ContentStore> cs(new ContentStore(data_dir, std::move(root), budget_bytes));
  cs->loadLastUse();
  return cs;
}

void ContentStore::setLeasedModels(std::function<std::set<ModelRef>()> leased) {
  std::lock_guard<std::mutex> lock(mu_);
  leased_ = std::move(leased);
}

void ContentStore::loadLastUse() {
  auto leases = openDirBeneath(root_.get(), "leases", false);
  if (!leases.isOk()) return;
  auto raw = readFileAt(leases->get(), kLastUseFile, 16 << 20);
  if (!raw.isOk()) return;
  auto j = api::parseJson(*raw);
  if (!j.isOk() || !j->is_object()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : j->items()) {
    auto ref = parseModelRef(k);
    if (ref.isOk() && v.is_number_integer()) last_use_[*ref] = v.get<int64_t>();
  }
}

void ContentStore::saveLastUseLocked() {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [ref, ms] : last_use_) j[ref.toString()] = ms;
  auto leases = openDirBeneath(root_.get(), "leases", true);
  Status s = leases.isOk() ? writeFileAtomicAt(leases->get(), kLastUseFile, j.dump())
                           : leases.status();
  if (!s.isOk()) LOG_WARN("cannot save last-use times: " << s.toString());
}

void ContentStore::touch(const ModelRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  last_use_[ref] = std::max(last_use_[ref], wallNowMs());
  saveLastUseLocked();
}

Result<Residency> ContentStore::residency(const ModelRef& ref) const {
  RETURN_IF_ERROR(validateModelName(ref.name));
  RETURN_IF_ERROR(validateModelVersion(ref.version));
  ASSIGN_OR_RETURN(UniqueFd dir, openDirBeneath(root_.get(), "models/" + ref.name + "/" + ref.version, false));
  return treeResidency(dir.get());
}

Status ContentStore::saveStateFile(const std::string& name, const std::string& data) const {
  ASSIGN_OR_RETURN(UniqueFd leases, openDirBeneath(root_.get(), "leases", true));
  return writeFileAtomicAt(leases.get(), name, data);
}

Result<std::string> ContentStore::loadStateFile(const std::string& name) const {
  ASSIGN_OR_RETURN(UniqueFd leases, openDirBeneath(root_.get(), "leases", false));
  return readFileAt(leases.get(), name, 16 << 20);
}

uint64_t ContentStore::evictions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evictions_;
}

std::vector<StoredVersionInfo> ContentStore::storedVersions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scanLocked();
}

std::vector<StoredVersionInfo> ContentStore::scanLocked() const {
  std::vector<StoredVersionInfo> out;
  for (const char* area : {"models", "partial"}) {
    auto top = openDirBeneath(root_.get(), area, false);
    if (!top.isOk()) continue;
    for (const auto& name : listDirectories(top->get())) {
      if (!validateModelName(name).isOk()) continue;
      auto versions = openDirBeneath(top->get(), name, false);
      if (!versions.isOk()) continue;
      for (const auto& version : listDirectories(versions->get())) {
        if (!validateModelVersion(version).isOk()) continue;
        StoredVersionInfo v;
        v.model = ModelRef{name, version};
        v.published = std::string(area) == "models";
        v.bytes = treeBytes(versions->get(), version);
        auto it = last_use_.find(v.model);
        v.last_use_ms = it != last_use_.end() ? it->second : mtimeMs(versions->get(), version);
        out.push_back(std::move(v));
      }
    }
  }
  return out;
}

Status ContentStore::admitLocked(const Manifest& manifest) {
  const ModelRef& ref = manifest.model();
  AdmissionInput in;
  in.budget_bytes = budget_bytes_;
  struct statvfs vfs;
  if (::fstatvfs(root_.get(), &vfs) == 0) {
    in.fs_free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  std::set<ModelRef> leased = leased_ ? leased_() : std::set<ModelRef>{};
  uint64_t have = 0;  // a partial copy of this version already holds its space
  for (auto& v : scanLocked()) {
    if (v.model == ref) {
      if (v.published) return Status::ok();
      have += v.bytes;
      continue;
    }
    auto open = versions_.find(v.model);
    in.stored.push_back(StoredVersion{v.model, v.bytes, v.last_use_ms, leased.count(v.model) > 0,
                                      v.published,
                                      open != versions_.end() && !open->second->published()});
  }
  in.need_bytes = manifest.totalBytes() > have ? manifest.totalBytes() - have : 0;
  if (in.fs_free_bytes != UINT64_MAX) in.fs_free_bytes += have;  // rewritten in place
  AdmissionDecision d = EvictionPolicy().admit(in);
  if (!d.fits) {
    return resourceExhausted("no space for " + ref.toString() + ": " +
                                 d.explain(in.need_bytes, budget_bytes_) +
                                 (in.need_bytes > in.fs_free_bytes
                                      ? "; the file system has " +
                                            std::to_string(in.fs_free_bytes) + " bytes free"
                                      : ""),
                             "no_space");
  }
  for (const auto& victim : d.evict) RETURN_IF_ERROR(evictLocked(victim));
  last_use_[ref] = wallNowMs();
  saveLastUseLocked();
  return Status::ok();
}

Status ContentStore::evictLocked(const ModelRef& ref) {
  ASSIGN_OR_RETURN(UniqueFd names, openDirBeneath(root_.get(), "models/" + ref.name, false));
  ASSIGN_OR_RETURN(UniqueFd trash, openDirBeneath(root_.get(), "trash", true));
  // Renaming a directory to another parent needs write permission on it.
  {
    ASSIGN_OR_RETURN(UniqueFd vdir, openDirBeneath(names.get(), ref.version, false));
    if (::fchmod(vdir.get(), 0755) != 0) return errnoStatus("chmod " + ref.toString(), errno);
  }
  std::string gone = ref.name + "@" + ref.version + "." + std::to_string(++trash_seq_);
  // One rename takes the whole version out of models/: never partially deleted.
  if (::renameat(names.get(), ref.version.c_str(), trash.get(), gone.c_str()) != 0) {
    return errnoStatus("evict " + ref.toString(), errno);
  }
  RETURN_IF_ERROR(fsyncFd(names.get(), "models/" + ref.name));
  versions_.erase(ref);
  last_use_.erase(ref);
  ++evictions_;
  LOG_INFO("evicted " << ref.toString() << " (least recently used, not leased) to make room");
  Status removed = removeTreeAt(trash.get(), gone);
  if (!removed.isOk()) LOG_WARN("removing evicted " << ref.toString() << ": " << removed.toString());
  return Status::ok();
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
  RETURN_IF_ERROR(admitLocked(manifest));
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
