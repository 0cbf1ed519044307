#include "agent/pod_lease_policy.h"

#include <doctest/doctest.h>

namespace shardcast::agent {
namespace {

constexpr const char* kGonePod = "0b6f3c2e-9a41-4c7e-8d2b-5f1e7a9c3d10";
constexpr const char* kLivePod = "7d1e2f3a-4b5c-4d6e-8f70-819a2b3c4d5e";
constexpr int64_t kListedAt = 1'700'000'100'000;

Lease lease(const std::string& id, int64_t renewed_at_ms) {
  Lease l;
  l.id = id;
  l.models.insert(ModelRef{"llama", "v1"});
  l.renewed_at_ms = renewed_at_ms;
  return l;
}

PodListing listing(std::set<std::string> uids, bool complete = true) {
  PodListing p;
  p.complete = complete;
  p.live_uids = std::move(uids);
  p.requested_at_ms = kListedAt;
  return p;
}

TEST_CASE("pod UIDs are recognised in their RFC 4122 text form only") {
  CHECK(PodLeasePolicy::looksLikePodUid(kGonePod));
  CHECK(PodLeasePolicy::looksLikePodUid("0B6F3C2E-9A41-4C7E-8D2B-5F1E7A9C3D10"));
  CHECK_FALSE(PodLeasePolicy::looksLikePodUid("manual"));
  CHECK_FALSE(PodLeasePolicy::looksLikePodUid("pod-1"));
  CHECK_FALSE(PodLeasePolicy::looksLikePodUid("0b6f3c2e9a414c7e8d2b5f1e7a9c3d10"));      // no dashes
  CHECK_FALSE(PodLeasePolicy::looksLikePodUid("0b6f3c2e-9a41-4c7e-8d2b-5f1e7a9c3d1"));   // short
  CHECK_FALSE(PodLeasePolicy::looksLikePodUid("0b6f3c2e-9a41-4c7e-8d2b-5f1e7a9c3d1g"));  // not hex
  CHECK_FALSE(PodLeasePolicy::looksLikePodUid("0b6f3c2e-9a414-c7e-8d2b-5f1e7a9c3d10"));  // dash moved
}

TEST_CASE("the lease of a pod gone from the node is dropped; others stay") {
  PodLeasePolicy policy;
  std::vector<Lease> leases = {lease(kGonePod, kListedAt - 60'000),
                               lease(kLivePod, kListedAt - 60'000),
                               lease("manual", kListedAt - 60'000)};
  CHECK(policy.leasesToDrop(leases, listing({kLivePod})) == std::vector<std::string>{kGonePod});
  // Upper-case ids match the API's lower-case UIDs.
  std::vector<Lease> upper = {lease("7D1E2F3A-4B5C-4D6E-8F70-819A2B3C4D5E", kListedAt - 60'000)};
  CHECK(policy.leasesToDrop(upper, listing({kLivePod})).empty());
}

TEST_CASE("a failed or partial listing drops nothing, not even with no pods in it") {
  PodLeasePolicy policy;
  std::vector<Lease> leases = {lease(kGonePod, kListedAt - 60'000)};
  CHECK(policy.leasesToDrop(leases, listing({}, /*complete=*/false)).empty());
  CHECK(policy.leasesToDrop(leases, PodListing{}).empty());
  CHECK(policy.leasesToDrop(leases, listing({})) == std::vector<std::string>{kGonePod});
}

TEST_CASE("a lease taken after (or just before) the list was requested is kept") {
  PodLeasePolicy policy(PodLeasePolicyOptions{2000});
  CHECK(policy.leasesToDrop({lease(kGonePod, kListedAt + 1)}, listing({})).empty());
  CHECK(policy.leasesToDrop({lease(kGonePod, kListedAt)}, listing({})).empty());
  CHECK(policy.leasesToDrop({lease(kGonePod, kListedAt - 1999)}, listing({})).empty());
  CHECK(policy.leasesToDrop({lease(kGonePod, kListedAt - 2000)}, listing({})) ==
        std::vector<std::string>{kGonePod});
}

}  // namespace
}  // namespace shardcast::agent
