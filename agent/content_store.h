// ContentStore: the node's data directory (DESIGN §6) and the registry of the
// model versions this agent currently has open.
//
//   <data-dir>/models/<name>/<version>/...   published, read-only
//   <data-dir>/partial/<name>/<version>/...  being filled (+ .<version>.pieces)
//   <data-dir>/leases/                       pre-warm leases, last-use times
//   <data-dir>/trash/                        evicted versions being removed
//
// It owns an O_DIRECTORY descriptor of the data directory and one VersionStore
// per open version (shared with rollout workers and the peer server, which looks
// versions up by model ref). Versions stay open for the life of the process so
// the node keeps serving what it holds.
//
// Disk budget and admission (DESIGN §6): before the first write of a version,
// openVersion() reserves its size; when it does not fit, published versions that
// are not leased and not being fetched are evicted in LRU order (EvictionPolicy);
// when even that is not enough, ResourceExhausted with reason "no_space" and the
// numbers, and nothing is written. Eviction renames the whole version directory
// into trash/ first, so a published version is never partially deleted; trash/ is
// emptied on open. Last-use times live in leases/last-use.json.
//
// Thread-safe (mu_ guards the registry, the budget state and the last-use map).
// Not responsible for leases themselves: the owner supplies which versions are
// leased through setLeasedModels().
#pragma once

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/residency.h"
#include "agent/safe_fs.h"
#include "agent/version_store.h"
#include "common/manifest.h"
#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::agent {

// The disk budget: an absolute size, or a percentage of the file system (one of
// the two; neither = the whole file system).
struct DiskBudget {
  uint64_t bytes = 0;
  double percent = 0;
};

// One version on disk, for GET /v1/models and metrics.
struct StoredVersionInfo {
  ModelRef model;
  bool published = false;
  uint64_t bytes = 0;        // on disk (partial files are allocated at full size)
  int64_t last_use_ms = 0;   // wall clock
};

class ContentStore {
 public:
  // Creates the data directory and its models/, partial/, leases/ and trash/
  // folders and empties trash/.
  static Result<std::unique_ptr<ContentStore>> open(const std::string& data_dir,
                                                    DiskBudget budget = {});

  // Which versions are leased right now (called with mu_ held; must not call back).
  void setLeasedModels(std::function<std::set<ModelRef>()> leased);
  // Marks the version used now (prewarm, publish); persisted.
  void touch(const ModelRef& ref);
  std::vector<StoredVersionInfo> storedVersions() const;
  uint64_t budgetBytes() const { return budget_bytes_; }  // UINT64_MAX = none
  // Page-cache residency of a published version (NotFound when not published).
  Result<Residency> residency(const ModelRef& ref) const;
  // A small state file in leases/ (written atomically), e.g. the lease table.
  Status saveStateFile(const std::string& name, const std::string& data) const;
  Result<std::string> loadStateFile(const std::string& name) const;
  uint64_t evictions() const;

  // The version's store: the already open one when its manifest digest matches (or
  // it is published with the same content), else a fresh VersionStore::open.
  // FailedPrecondition when the open one belongs to another manifest and is in use.
  // A version that is neither published nor partially on disk is admitted first
  // (see above): ResourceExhausted "no_space" when it cannot fit.
  Result<std::shared_ptr<VersionStore>> openVersion(const Manifest& manifest);
  // The open version, or nullptr.
  std::shared_ptr<VersionStore> find(const ModelRef& ref) const;
  // "name:version" of every published version on disk (scans models/).
  std::vector<std::string> publishedModels() const;
  const std::string& dataDir() const { return data_dir_; }

 private:
  ContentStore(std::string data_dir, UniqueFd root, uint64_t budget_bytes)
      : data_dir_(std::move(data_dir)), root_(std::move(root)), budget_bytes_(budget_bytes) {}

  // All below run with mu_ held.
  std::vector<StoredVersionInfo> scanLocked() const;
  Status admitLocked(const Manifest& manifest);
  Status evictLocked(const ModelRef& ref);
  void loadLastUse();
  void saveLastUseLocked();

  const std::string data_dir_;
  const UniqueFd root_;
  const uint64_t budget_bytes_;  // UINT64_MAX = no budget
  mutable std::mutex mu_;
  std::map<ModelRef, std::shared_ptr<VersionStore>> versions_;  // guarded by mu_
  std::map<ModelRef, int64_t> last_use_;                         // guarded by mu_
  std::function<std::set<ModelRef>()> leased_;                  // guarded by mu_
  uint64_t evictions_ = 0;                                       // guarded by mu_
  uint64_t trash_seq_ = 0;                                       // guarded by mu_
};

}  // namespace shardcast::agent
