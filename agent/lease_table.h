// LeaseTable: which model versions pre-warm hooks hold on this node (DESIGN §4.6,
// §6). A lease is an id (the pod's UID by default) holding one or more versions
// until it is released or its TTL runs out; a TTL of 0 never expires. A leased
// version is never evicted. Taking a lease again renews it (and adds the version).
//
// Pure: no I/O, the clock is injected; the owner persists it with toJson() and
// restores it with fromJson(). Expiry here is by time only. In Kubernetes a lease
// also ends when its pod is gone: PodLeasePolicy decides which, and the agent's
// pod sweeper releases them through ModelLifecycle::dropLeases.
//
// Not thread-safe: the owner (ModelLifecycle) guards it with its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/clock.h"
#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::agent {

struct Lease {
  std::string id;
  std::set<ModelRef> models;
  int64_t expires_at_ms = 0;  // wall clock; 0 = never
  int64_t renewed_at_ms = 0;  // wall clock
};

class LeaseTable {
 public:
  explicit LeaseTable(const Clock& clock) : clock_(clock) {}

  // Lease ids are 1-128 characters of [A-Za-z0-9._-] (pod UIDs, hostnames).
  static Status validateId(const std::string& id);

  // Takes or renews lease `id` on `model` for ttl_ms (0 = no expiry).
  Status acquire(const std::string& id, const ModelRef& model, int64_t ttl_ms);
  // Drops the lease; false when there was none.
  bool release(const std::string& id);
  // Drops expired leases and returns their ids.
  std::vector<std::string> expire();

  // True when an unexpired lease holds the version.
  bool isLeased(const ModelRef& model) const;
  // Ids of the unexpired leases holding the version, sorted.
  std::vector<std::string> holders(const ModelRef& model) const;
  std::set<ModelRef> leasedModels() const;
  std::vector<Lease> all() const;
  size_t size() const { return leases_.size(); }

  nlohmann::json toJson() const;
  // Replaces the contents; entries that fail validation are skipped.
  Status fromJson(const nlohmann::json& j);

 private:
  bool live(const Lease& l) const;

  const Clock& clock_;
  std::map<std::string, Lease> leases_;
};

}  // namespace shardcast::agent
