// PodLeasePolicy: which prewarm leases to drop because their pod is gone
// (DESIGN §4.6: in Kubernetes a lease lasts until it is released or its pod is
// gone, so a lost node or a skipped preStop never pins a model forever).
//
// A lease is dropped only when all of these hold:
//   - its id looks like a pod UID (RFC 4122 text form, 8-4-4-4-12 hex digits);
//     other ids ("manual", hostnames) belong to someone else and are left alone;
//   - the pod listing is complete (every page read); a failed or partial listing
//     drops nothing;
//   - the UID is not among the listing's live pods (compared case-insensitively);
//   - the lease was last taken or renewed at least grace_ms before the listing
//     was requested, so a pod admitted while the list was in flight, or a list
//     served from a lagging API cache, cannot cost a fresh lease.
//
// Pure: takes state, returns decisions; no I/O, no clock (times are inputs).
// Thread-safe (const). Not responsible for listing pods or releasing leases.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "agent/lease_table.h"

namespace shardcast::agent {

struct PodListing {
  bool complete = false;             // every page was read
  std::set<std::string> live_uids;   // pods on this node (lowercase)
  int64_t requested_at_ms = 0;       // wall clock, taken before the first page
};

struct PodLeasePolicyOptions {
  int64_t grace_ms = 2000;
};

class PodLeasePolicy {
 public:
  explicit PodLeasePolicy(PodLeasePolicyOptions options = {}) : options_(options) {}

  static bool looksLikePodUid(const std::string& id);

  // Ids of the leases to drop, in the order given.
  std::vector<std::string> leasesToDrop(const std::vector<Lease>& leases,
                                        const PodListing& listing) const;

 private:
  PodLeasePolicyOptions options_;
};

}  // namespace shardcast::agent
