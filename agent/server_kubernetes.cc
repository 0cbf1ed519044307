// The Kubernetes part of the agent's composition root (Server, server.h):
// resolving the Node's topology before the first registration, and the pod
// sweeper that drops the leases of pods gone from this node.
#include <chrono>
#include <thread>

#include "agent/backoff.h"
#include "agent/node_topology.h"
#include "agent/pod_lease_policy.h"
#include "agent/server.h"
#include "common/log.h"

namespace shardcast::agent {
namespace {

// A Node lookup that fails on the network or with a 5xx is tried this many times
// (about 4 s in all) before start() gives up; 401/403/404 fail at once.
constexpr int kTopologyAttempts = 4;

bool transient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

std::string modelList(const Lease& l) {
  std::string out;
  for (const auto& m : l.models) out += (out.empty() ? "" : ", ") + m.toString();
  return out;
}

}  // namespace

Status Server::resolveTopology() {
  kube_ = std::make_unique<KubeClient>(
      KubeClientOptions{config_.kube_api, config_.kube_token_file, config_.kube_ca_file});
  Backoff backoff(500, 2000);
  auto labels = kube_->nodeLabels(config_.name);
  for (int attempt = 1; !labels.isOk() && transient(labels.status()) && attempt < kTopologyAttempts;
       ++attempt) {
    LOG_WARN("looking up Node " << config_.name << ": " << labels.status().message()
                                << "; trying again");
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff.nextDelayMs()));
    labels = kube_->nodeLabels(config_.name);
  }
  if (!labels.isOk()) return labels.status();

  TopologyFlags flags;
  if (config_.region_set) flags.region = config_.region;
  if (config_.zone_set) flags.zone = config_.zone;
  flags.labels = config_.labels;
  ASSIGN_OR_RETURN(NodeTopology t, resolveNodeTopology(config_.name, *labels, flags));
  config_.region = t.region;
  config_.zone = t.zone;
  config_.labels = t.labels;
  std::string left_out;
  if (t.dropped > 0) {
    left_out = ", " + std::to_string(t.dropped) +
               " Node labels left out (deprecated, too long or past the 64-label limit)";
  }
  LOG_INFO("Kubernetes Node " << config_.name << ": region " << t.region << " (from "
                              << t.region_source << "), zone '" << t.zone << "' (from "
                              << t.zone_source << "), " << t.labels.size() << " labels"
                              << left_out);
  return Status::ok();
}

void Server::podSweepLoop() {
  PodLeasePolicy policy;
  int failures = 0;
  while (waitMs(config_.pod_sweep_interval_ms)) {
    PodListing listing;
    listing.requested_at_ms = clock_.wallMs();
    auto uids = kube_->livePodUids(config_.name);
    if (!uids.isOk()) {
      if (failures++ % 20 == 0) {
        LOG_WARN("listing the pods on this node: "
                 << uids.status().message() << "; no lease is dropped until a list succeeds");
      }
      continue;
    }
    if (failures > 0) LOG_INFO("listing the pods on this node works again");
    failures = 0;
    listing.complete = true;
    listing.live_uids = std::move(*uids);
    auto dropped = lifecycle_->dropLeases(
        [&](const std::vector<Lease>& leases) { return policy.leasesToDrop(leases, listing); });
    for (const auto& l : dropped) {
      LOG_INFO("lease " << l.id << " dropped: pod " << l.id << " is no longer on node "
                        << config_.name << " (it held " << modelList(l) << ")");
    }
  }
}

}  // namespace shardcast::agent
