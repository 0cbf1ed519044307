// RolloutService: the controller's business logic behind its REST API (DESIGN §4,
// §5). Public side: create, get, list and cancel rollouts, serve manifests. Agent
// side: registration and heartbeats, the assignments long-poll, peer hand-out
// with this node's stripe and accepted hashes, and batched piece reports.
//
// It owns the node registry, the rollouts, the manifests by model ref and the
// long-poll waiters, all guarded by one mutex. Durable changes (rollouts,
// manifests, stripe plans, accepted hashes) are committed to the StateStore before
// they become visible. Source listing (network I/O) runs outside the lock, and
// long-poll callbacks are always called after the lock is released.
//
// Thread-safe. Not responsible for HTTP (handlers.cc maps requests and Status),
// nor for periodic work: the Server's sweeper calls tick().
// The implementation is split: rollout_service.cc (public API, shared helpers) and
// rollout_service_agents.cc (the agent API).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/clock.h"
#include "common/manifest.h"
#include "common/objstore/registry.h"
#include "controller/assignment_watch.h"
#include "controller/controller_metrics.h"
#include "controller/node_registry.h"
#include "controller/peer_list_cache.h"
#include "controller/peer_selector.h"
#include "controller/poll_pacing.h"
#include "controller/rollout.h"
#include "controller/source_lister.h"
#include "controller/state_store.h"
#include "controller/rollout_reader.h"
#include "controller/stripe_planner.h"

namespace shardcast::controller {

struct ControllerOptions {
  int64_t node_timeout_ms = 30000;     // T: a node silent for longer is dead
  uint32_t max_seeders = StripePlanner::kDefaultMaxSeeders;
  uint32_t peers_per_node = PeerSelector::kDefaultMaxPeers;
  long list_timeout_ms = 15000;        // per source listing request
  int64_t max_wait_ms = 30000;         // cap of the assignments long-poll
  size_t max_hashes_per_reply = 65536;
  // Concurrent origin requests per region, divided among its seeders
  // (originConcurrencyShare); 0 = no budget (S x each agent's --origin-concurrency).
  uint32_t max_origin_requests_per_region = 0;
  // Budget for agents' peers polls and progress reports (PollPacing); 0 = none.
  uint32_t agent_requests_per_s = PollPacing::kDefaultRequestsPerS;
};

class RolloutService : public RolloutReader {
 public:
  RolloutService(const ObjectStoreRegistry& registry, const Clock& clock, StateStore& store,
                 ControllerOptions options, uint64_t seed = std::random_device{}());
  RolloutService(const RolloutService&) = delete;
  RolloutService& operator=(const RolloutService&) = delete;

  // Replaces the rollouts and manifests with those of a StateStore snapshot
  // (restoreRollouts): stripe plans, accepted hashes and confirmations included.
  // Called before serving after a restart, or when an HA replica takes over.
  // Corruption (nothing changed) when the stored state is inconsistent. Node rows
  // fill up again as agents report. With rollouts in progress, for one node timeout
  // T after the restore (every live agent heartbeats within T) a seeder that has
  // not registered again is not treated as gone and no rollout is settled.
  Status restore(const StateSnapshot& snapshot);

  // --- public API ---
  Result<api::RolloutStatus> createRollout(const api::RolloutRequest& request);
  Result<api::RolloutStatus> getRollout(const std::string& id) const override;
  std::vector<api::RolloutStatus> listRollouts() const override;
  Result<api::RolloutStatus> cancelRollout(const std::string& id);
  Result<Manifest> manifest(const ModelRef& model) const override;

  // --- agent API ---
  Result<api::HeartbeatReply> heartbeat(const api::NodeInfo& info);
  // Calls `reply` exactly once: now, when the node's assignments change, or when
  // wait_ms (capped) has passed, the latter with the same cursor.
  void watchAssignments(const std::string& node, uint64_t cursor, int64_t wait_ms,
                        AssignmentsCallback reply);
  Result<api::PeersReply> peers(const std::string& id, const std::string& node, uint64_t hash_cursor);
  Result<api::PieceReportReply> reportPieces(const std::string& id, const api::PieceReport& report);
  // On-demand pull (DESIGN §4.3, §4.6): makes `node` a participant of the newest
  // rollout of `model` that is not failed or cancelled, and returns that rollout.
  // The node's region gets its stripe plan when the node first asks for peers, so
  // in a region with no copy the node becomes the seeder. NotFound "unknown_model"
  // when the model was never deployed (there is no source to pull from).
  Result<api::RolloutStatus> requestPull(const std::string& node, const ModelRef& model);

  // --- housekeeping ---
  // Answers expired long-polls, settles rollouts whose nodes died, and stores the
  // registrations of nodes that registered, moved or restarted since the last tick.
  void tick();
  // Answers every pending long-poll, and from now on answers new ones at once
  // (before the listener closes, which waits for open requests).
  void shutdown();
  size_t waiterCount() const;
  // Counts for /metrics: rollouts by state, nodes registered and live, long-polls.
  ServiceStats stats() const;
  const ControllerOptions& options() const { return options_; }

 private:
  using Later = std::vector<std::function<void()>>;  // run after unlocking
  static void runAll(Later& later);

  // Everything below runs with mu_ held.
  Rollout* findRollout(const std::string& id) const;
  // Stores the registrations of nodes that are new, moved or restarted since the
  // last tick, in one batch; kept for the next tick when the store fails.
  void storeNodes();
  // Registered nodes the rollout targets (any liveness), sorted by name.
  std::vector<std::string> matchingNodes(const Rollout& rollout) const;
  // Live registered nodes of `region` the rollout targets and that did not fail it,
  // sorted by name.
  std::vector<std::string> liveParticipants(const Rollout& rollout, const std::string& region) const;
  api::Assignments assignmentsOf(const std::string& node, uint64_t cursor) const;
  // Queues answers for long-polls woken by a change.
  void answerWoken(std::vector<AssignmentWaiter> woken, Later& later);
  void answerWithCursor(std::vector<AssignmentWaiter> waiters, Later& later);
  // The replica a region pulls from. Always 0 until the price table lands.
  uint32_t pickSourceForRegion(const Rollout& rollout, const std::string& region) const;
  // A node that heartbeats with a published model counts as ready in the
  // in-progress rollouts of that model that have no row for it yet (after a
  // controller restart, its worker has long finished and reports no more).
  void addPublishedRows(const api::NodeInfo& info);
  // Creates the region's stripe plan over its live participants if it has none.
  Status ensurePlan(Rollout& rollout, const std::string& region);
  // Moves the unfinished pieces of seeders silent for longer than T.
  Status reassignDeadSeeders(Rollout& rollout, const std::string& region);
  // Commits and applies a new record (terminal state, cancel) and wakes the
  // rollout's nodes.
  Status changeRecord(Rollout& rollout, RolloutRecord next, Later& later);
  // Judges the rollout's state from its nodes; changes it when it settles.
  void settle(Rollout& rollout, Later& later);
  std::string newRolloutId();
  // True while agents may still be re-registering after a restore.
  bool reconnecting() const { return clock_.nowMs() < reconnect_until_ms_; }

  const Clock& clock_;
  StateStore& store_;
  const ControllerOptions options_;
  const SourceLister lister_;
  const StripePlanner planner_;
  const PeerSelector selector_;

  mutable std::mutex mu_;
  NodeRegistry nodes_;                                            // guarded by mu_
  AssignmentWatch watch_;                                         // guarded by mu_
  std::map<std::string, std::unique_ptr<Rollout>> rollouts_;      // guarded by mu_
  std::map<ModelRef, std::shared_ptr<const Manifest>> manifests_; // guarded by mu_
  std::map<std::string, PeerListCache> peer_caches_;              // by rollout id; guarded by mu_
  std::mt19937_64 rng_;                                           // guarded by mu_
  bool shutting_down_ = false;                                    // guarded by mu_
  // Until then (monotonic ms) agents are still coming back after a restore.
  int64_t reconnect_until_ms_ = 0;                                // guarded by mu_
  std::set<std::string> unsaved_nodes_;  // registrations to store; guarded by mu_
};

// Node names, regions, zones, labels and addresses are bounded and printable.
Status validateNodeInfo(const api::NodeInfo& info);

}  // namespace shardcast::controller
