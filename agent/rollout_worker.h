// RolloutWorker: brings one assigned rollout to "ready" on this node (DESIGN §4).
//
// On its own control thread it fetches the rollout and its manifest, opens the
// VersionStore (already published -> report ready), then loops: polls the
// controller for peers, its origin stripe and accepted hashes (~300 ms), reports
// progress and the hashes of pieces it pulled from the origin (~500 ms, sooner when
// there is news), until every piece's bit is set; then it checks the publisher's
// whole-file checksums, publishes with one rename and reports ready.
//
// Pieces arrive two ways:
//   - origin (OriginFetcher): the hash is reported, and the piece is HELD in memory
//     (not written, not served) until the controller's accepted hash for it arrives
//     and equals; origin buffers (pulled or held) stay within 2 x origin_concurrency.
//   - peers (SwarmFetcher): verified against the accepted hash on arrival.
// Verified pieces are pwritten, then a flusher thread makes them durable and
// servable in batches (VersionStore::flush).
//
// Origin concurrency: at most --origin-concurrency requests, and at most the
// share of the region's budget the controller hands out with the peers
// (PeersReply.origin_concurrency), whichever is smaller.
//
// Controller outages: nothing here needs the controller to move bytes. Peer and
// origin transfers already scheduled go on (with the last peer list and stripe);
// reports keep their hashes; every call to the controller is retried with
// backoff. When a report goes through again after
// failing (the controller restarted, or came back), the worker re-reports its
// full progress and the hash of every piece it pulled from the origin, so a
// restarted controller learns again what this node holds; the agent's heartbeat
// re-registers the node meanwhile.
//
// Failures: a persistent origin error reports failed/origin_error (a changed
// object: origin_changed); a disk error reports failed with its reason
// (no_space, io_error); publisher checksum mismatch: corrupt_source. A rollout
// that is cancelled or failed stops the worker. Memory is bounded by the pieces
// in flight plus the held ones.
//
// Owns its threads, fetchers and the manifest; borrows the ContentStore,
// ControllerClient, PeerClient and ObjectStoreRegistry (all outlive it).
// start()/stop() are called by the owner; everything else is internal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_counters.h"
#include "agent/backoff.h"
#include "agent/content_store.h"
#include "agent/controller_client.h"
#include "agent/file_digester.h"
#include "agent/origin_fetcher.h"
#include "agent/peer_client.h"
#include "agent/swarm_fetcher.h"
#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/manifest.h"
#include "common/objstore/registry.h"

namespace shardcast::agent {

struct WorkerOptions {
  std::string node;
  std::string region;
  std::string zone;
  std::string incarnation;
  uint32_t origin_concurrency = 4;
  uint32_t peer_requests = 1;
  uint32_t max_inflight = 16;
  int64_t peers_poll_ms = 300;
  int64_t bitfield_poll_ms = 300;
  int64_t report_ms = 500;
  ObjectStoreOptions origin_options;  // user_agent is set per rollout
  uint64_t seed = 1;
};

struct WorkerDeps {
  ContentStore* content = nullptr;
  ControllerClient* controller = nullptr;
  PeerClient* peer_client = nullptr;
  const ObjectStoreRegistry* registry = nullptr;
  AgentCounters* counters = nullptr;  // optional
};

class RolloutWorker {
 public:
  enum class Phase { kStarting, kFetching, kReady, kFailed, kStopped };

  RolloutWorker(std::string rollout_id, WorkerOptions options, WorkerDeps deps);
  ~RolloutWorker();
  RolloutWorker(const RolloutWorker&) = delete;
  RolloutWorker& operator=(const RolloutWorker&) = delete;

  void start();
  // Stops fetching, flushes verified pieces, joins. Safe to call twice, also from
  // two threads at once.
  void stop();
  const std::string& rolloutId() const { return rollout_id_; }
  Phase phase() const { return phase_.load(); }
  // The control thread has ended (ready, failed, or stopped).
  bool finished() const { return finished_.load(); }
  // The rollout's model once loaded ("" name before), and why it failed (OK else).
  ModelRef model() const;
  // The digest of the rollout's manifest ("" before loaded).
  std::string manifestDigest() const;
  Status failure() const;
  // Bytes of verified pieces on disk, and the model's size (0 before loaded).
  uint64_t bytesDone() const;
  uint64_t totalBytes() const;

 private:
  enum class OriginState : uint8_t { kIdle, kPulling, kHeld, kDone };

  enum class LoopState { kRun, kStop, kFail, kComplete };
  // The control thread's next calls. After a failed call to the controller both
  // wait out a backoff (`retry`; 200 ms doubling to 5 s, jittered), so a fleet
  // does not hammer a controller that is down or restarting.
  // `last_poll` paces early polls (a needed hash) when the controller paces us.
  struct Deadlines {
    std::chrono::steady_clock::time_point poll, report, log, retry, last_poll;
  };

  void run();
  void startFetchers();
  LoopState loopState(Status& failure);
  void talkToController(Deadlines& d);
  bool loadRollout();
  // Resume check: re-hashes the pieces resumed from an earlier run against the
  // controller's accepted hashes and drops those that fail (or have none).
  Status verifyResumed();
  Result<std::shared_ptr<VersionStore>> openStore();
  void fetchLoop();
  void teardown();
  void finish();
  void failNode(const Status& status);
  void fatal(const Status& status);

  bool pollPeers();
  void ensureOrigin();
  bool sendReport(const std::string& state, const Status& failure = Status::ok());
  void reportUntilAccepted(const std::string& state, const Status& failure = Status::ok());
  // After a report went through following failed ones: queues the full re-report.
  void reReportAfterOutage();

  std::optional<uint32_t> nextOriginPiece();
  void originDone(uint32_t piece, Result<FetchedPiece> result);
  Status commitPiece(uint32_t piece, const std::string& data);
  void flushLoop();
  bool waitMs(int64_t ms);  // false when stopping

  const std::string rollout_id_;
  const WorkerOptions options_;
  const WorkerDeps deps_;
  std::atomic<Phase> phase_{Phase::kStarting};
  std::atomic<bool> finished_{false};

  // Set once by the control thread before any fetch thread starts.
  Manifest manifest_;
  api::RolloutStatus rollout_;
  std::shared_ptr<VersionStore> store_;
  std::unique_ptr<SwarmFetcher> swarm_;
  std::unique_ptr<OriginFetcher> origin_;  // opened at the first non-empty stripe
  // Hashes checked files as their pieces arrive; used by the flusher, then by
  // finish() after the flusher stopped.
  std::unique_ptr<FileDigester> digester_;

  mutable std::mutex mu_;
  std::condition_variable cv_;          // wakes the control thread
  std::condition_variable flush_cv_;    // wakes the flusher
  bool stopping_ = false;               // guarded by mu_
  bool terminal_ = false;               // rollout cancelled/failed; guarded by mu_
  bool report_now_ = false;             // guarded by mu_
  bool poll_now_ = false;               // guarded by mu_
  bool flush_wanted_ = false;           // guarded by mu_
  bool flush_stop_ = false;             // guarded by mu_
  Status fatal_;                        // first fatal error; guarded by mu_
  Status failure_;                      // what failNode reported; guarded by mu_
  ModelRef model_;                      // guarded by mu_
  std::string manifest_digest_;         // guarded by mu_
  std::shared_ptr<VersionStore> store_view_;  // store_ for other threads; guarded by mu_
  uint64_t hash_cursor_ = 0;            // guarded by mu_
  uint32_t source_index_ = 0;           // guarded by mu_
  std::vector<std::string> accepted_;   // guarded by mu_
  std::vector<uint32_t> stripe_;        // guarded by mu_
  std::vector<OriginState> origin_state_;          // guarded by mu_
  std::map<uint32_t, FetchedPiece> held_;          // guarded by mu_
  uint32_t pulling_ = 0;                           // guarded by mu_
  uint32_t origin_share_ = 0;  // controller's per-region budget share, 0 = none; guarded by mu_
  int64_t paced_ms_ = 0;       // controller's poll interval (PeersReply), 0 = none; guarded by mu_
  std::vector<api::PieceHash> pending_hashes_;     // guarded by mu_
  // Every piece pulled from the origin by this worker and its hash: re-reported
  // after the controller was unreachable. Guarded by mu_.
  std::map<uint32_t, std::string> origin_hashes_;
  // A report failed since the last one that went through. Guarded by mu_.
  bool controller_lost_ = false;
  std::vector<api::BadPeerReport> pending_bad_;    // guarded by mu_
  std::atomic<uint64_t> bytes_from_origin_{0};

  Backoff controller_backoff_{200, 5000, options_.seed + 4};  // control thread only
  std::mutex join_mu_;  // serialises joining control_
  std::thread control_;
  std::thread flusher_;
};

const char* phaseName(RolloutWorker::Phase phase);

}  // namespace shardcast::agent
