// ContentStore: the node's data directory (DESIGN §6) and the registry of the
// model versions this agent currently has open.
//
//   <data-dir>/models/<name>/<version>/...   published, read-only
//   <data-dir>/partial/<name>/<version>/...  being filled (+ .<version>.pieces)
//   <data-dir>/leases/                       pre-warm leases (later issue)
//
// It owns an O_DIRECTORY descriptor of the data directory and one VersionStore
// per open version (shared with rollout workers and the peer server, which looks
// versions up by model ref). Versions stay open for the life of the process so
// the node keeps serving what it holds.
//
// Thread-safe (mu_ guards the registry). Not responsible for garbage collection
// or disk budgets (later issues).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/safe_fs.h"
#include "agent/version_store.h"
#include "common/manifest.h"
#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::agent {

class ContentStore {
 public:
  // Creates the data directory and its models/, partial/ and leases/ folders.
  static Result<std::unique_ptr<ContentStore>> open(const std::string& data_dir);

  // The version's store: the already open one when its manifest digest matches (or
  // it is published with the same content), else a fresh VersionStore::open.
  // FailedPrecondition when the open one belongs to another manifest and is in use.
  Result<std::shared_ptr<VersionStore>> openVersion(const Manifest& manifest);
  // The open version, or nullptr.
  std::shared_ptr<VersionStore> find(const ModelRef& ref) const;
  // "name:version" of every published version on disk (scans models/).
  std::vector<std::string> publishedModels() const;
  const std::string& dataDir() const { return data_dir_; }

 private:
  ContentStore(std::string data_dir, UniqueFd root)
      : data_dir_(std::move(data_dir)), root_(std::move(root)) {}

  const std::string data_dir_;
  const UniqueFd root_;
  mutable std::mutex mu_;
  std::map<ModelRef, std::shared_ptr<VersionStore>> versions_;  // guarded by mu_
};

}  // namespace shardcast::agent
