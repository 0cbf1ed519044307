// The controller's REST routes (DESIGN §5): each handler parses its request,
// calls one RolloutService method and maps the Status to HTTP. Thin by design;
// rules live in the service.
//
// registerRoutes() is called once at start-up by the Server. The service must
// outlive the router.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controller/controller_metrics.h"
#include "controller/rollout_reader.h"
#include "controller/rollout_service.h"
#include "controller/router.h"

namespace shardcast::controller {

// Where reads are answered from, per request: the leader's service, or an HA
// follower's view of the replicated state (follower_revision = its revision,
// sent as X-Shardcast-Follower-Revision).
// A follower cannot tell "does not exist" from "newer than my view": its 404s
// become 503 not_leader naming `leader_url`, so clients ask the leader.
struct ReadSource {
  std::shared_ptr<const RolloutReader> reader;
  int64_t follower_revision = -1;  // -1: the leader answers
  std::string leader_url;          // for a follower's not-found
};
using ReadSourceFn = std::function<Result<ReadSource>()>;

// Reads answered by the leader's own service (which outlives the router).
inline ReadSource leaderReads(const RolloutReader& service) {
  return ReadSource{std::shared_ptr<const RolloutReader>(&service, [](const RolloutReader*) {})};
}

// `role` names this replica's role on /healthz ("leader" or "follower"); without
// it the controller is alone and always the leader. `reads` picks the source of
// GET /v1/rollouts, /v1/rollouts/{id} and /v1/manifests/... (default: `service`).
void registerRoutes(Router& router, RolloutService& service,
                    std::function<std::string()> role = nullptr, ReadSourceFn reads = nullptr);

// GET /metrics (public, Prometheus text) and the router's observer that counts
// every answer into `metrics`; `leader` tells whether this replica serves.
void registerMetrics(Router& router, ControllerMetrics& metrics, const RolloutService& service,
                     std::function<bool()> leader);

}  // namespace shardcast::controller
