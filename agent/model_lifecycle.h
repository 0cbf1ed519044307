// ModelLifecycle: what the agent's local API does (DESIGN §4.6, §5, §6): pre-warm
// requests (lease, on-demand pull, readiness), the list of models on this node,
// lease release and expiry, and the Prometheus text of GET /metrics.
//
// A prewarm request is idempotent and answers at once with the model's state;
// the client polls it (which also renews its lease) until the state is "ready".
// When no rollout worker holds the model and it is not published here, the
// controller is asked to add this node to the model's rollout (an on-demand pull;
// asked again at most every 10 s while it has not shown up).
//
// Owns the LeaseTable (persisted in leases/leases.json); borrows the ContentStore,
// ControllerClient and AgentCounters, and reads rollout workers through
// `workers` (the Server's callback). Thread-safe: leases_mu_ guards the lease
// table and the pull times, and is never held while calling out.
// Not responsible for warming (the pre-warm client reads the files) or HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/agent_counters.h"
#include "agent/content_store.h"
#include "agent/controller_client.h"
#include "agent/lease_table.h"
#include "common/clock.h"

namespace shardcast::agent {

// One rollout worker as the local API sees it.
struct WorkerView {
  std::string rollout_id;
  ModelRef model;
  std::string phase;  // starting, fetching, ready, failed, stopped
  Status failure;
  uint64_t bytes_done = 0;
  uint64_t total_bytes = 0;
  std::string manifest_digest;  // "" before the worker loaded its manifest
};

struct PrewarmRequest {
  ModelRef model;
  std::string lease_id;   // "" = no lease
  int64_t lease_ttl_ms = -1;  // -1 = the agent's default; 0 = until released
  std::string warm;       // what the client will do ("none", "pagecache"); logged
};

// A model on this node, for prewarm replies and GET /v1/models.
struct ModelView {
  ModelRef model;
  std::string state;  // ready, fetching, pending, failed, partial
  std::string path;   // the published directory ("" until ready)
  uint64_t bytes = 0;        // on disk
  uint64_t total_bytes = 0;  // model size (0 when unknown)
  uint64_t bytes_done = 0;   // verified
  std::vector<std::string> leases;
  int64_t last_use_ms = 0;
  double resident_percent = -1;  // -1 = not measured (not published)
  std::string rollout_id;
  std::string reason;
  std::string message;
};
nlohmann::json toJson(const ModelView& v);

struct LifecycleOptions {
  std::string node;
  int64_t default_lease_ttl_ms = 3600 * 1000;
};

class ModelLifecycle {
 public:
  ModelLifecycle(ContentStore* content, ControllerClient* controller, AgentCounters* counters,
                 const Clock& clock, LifecycleOptions options,
                 std::function<std::vector<WorkerView>()> workers);

  // Restores the lease table from disk (a missing file is an empty table).
  void load();

  // The model's state after taking/renewing the lease. A failed model (no_space,
  // unknown model) is an error Status with its reason.
  Result<ModelView> prewarm(const PrewarmRequest& request);
  std::vector<ModelView> models();
  Status releaseLease(const std::string& id);
  // Drops expired leases (called periodically).
  void expireLeases();
  // Drops the leases `choose` picks from the unexpired ones and returns them.
  // `choose` runs under the lease lock (so a lease renewed meanwhile is judged on
  // its latest state): it must be a pure decision (PodLeasePolicy), never I/O.
  std::vector<Lease> dropLeases(
      const std::function<std::vector<std::string>(const std::vector<Lease>&)>& choose);
  std::set<ModelRef> leasedModels() const;
  std::string metricsText(uint64_t peer_bytes_served);
  std::string modelsRoot() const;

 private:
  std::string pathOf(const ModelRef& ref) const;
  void persistLocked();
  std::vector<std::string> leasedHolders(const ModelRef& ref) const;
  ModelView published(const StoredVersionInfo& v);

  ContentStore* content_;
  ControllerClient* controller_;
  AgentCounters* counters_;
  const Clock& clock_;
  const LifecycleOptions options_;
  const std::function<std::vector<WorkerView>()> workers_;

  mutable std::mutex leases_mu_;
  LeaseTable leases_;                          // guarded by leases_mu_
  std::map<ModelRef, int64_t> pull_asked_ms_;  // guarded by leases_mu_ (monotonic)
};

}  // namespace shardcast::agent
