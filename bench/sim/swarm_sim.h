// SwarmSim: a flow-level simulation of one shardcast rollout in one region
// (issue 4, DESIGN §9). It links the policies the real processes run, unchanged:
//   - agent::PieceScheduler (one per node): which piece to ask which peer for;
//   - controller::StripePlanner: the origin stripe plan and its reassignment when a
//     seeder is gone for longer than T;
//   - controller::PeerSelector: the K peers the controller hands each node;
//   - controller::originConcurrencyShare: the region's origin request budget.
// Around them it re-enacts what the agent's threads do (agent/rollout_worker.cc,
// agent/swarm_fetcher.cc), with their intervals: bitfields are polled every
// bitfield_poll (+ one RTT per peer), accepted hashes and stripes arrive with the
// peers poll, an origin piece is held until its hash is accepted (report, then an
// immediate poll), a verified piece is servable after the flusher, and publishing
// waits for the requests still in flight and for the whole-file checksums.
//
// Bandwidth: every transfer is a flow in a FlowNetwork (max-min fair sharing of
// each node's up and down link, the origin's link, zone links and an optional
// aggregate cap). Exact mode recomputes rates at every event; stepped mode at most
// every step_s (new flows get the free capacity in between). See README.md for
// the approximations and how they were checked.
//
// Single-threaded and deterministic for a given seed. Owns everything.
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "agent/piece_scheduler.h"
#include "bench/sim/flow_network.h"
#include "bench/sim/sim_config.h"
#include "bench/sim/sim_result.h"
#include "common/bitfield.h"
#include "controller/peer_selector.h"
#include "controller/poll_pacing.h"
#include "controller/stripe_planner.h"

namespace shardcast::bench {

class SwarmSim {
 public:
  explicit SwarmSim(SimConfig config);
  SimResult run();

 private:
  static constexpr uint32_t kOrigin = UINT32_MAX;
  static constexpr uint32_t kNever = UINT32_MAX;  // a peer's bitfield was never read

  // kFinishing: every piece verified, waiting for requests still in flight;
  // kPublishing: whole-file checksums and the ready report.
  enum class State : uint8_t { kAbsent, kFetching, kFinishing, kPublishing, kReady, kGone };
  enum class Origin : uint8_t { kNone, kIdle, kPulling, kHeld, kDone };
  enum class Ev : uint8_t {
    kStart, kRequestStart, kBitfieldPoll, kPeersPoll, kHashAccepted, kOriginCommit,
    kServable, kReady, kLeave, kJoin, kDead, kRecompute
  };

  struct Node {
    std::string name, zone_name;
    uint32_t zone = 0;
    uint32_t up = 0, down = 0;  // FlowNetwork resources
    State state = State::kAbsent;
    bool straggler = false, original = true;
    bool registered = false, ctl_dead = false;  // the controller's view
    double join_s = 0, complete_s = -1, ready_s = -1, leave_s = -1;
    std::unique_ptr<agent::PieceScheduler> sched;
    Bitfield have;                  // what its bitfield says (servable pieces)
    std::vector<uint32_t> acquired; // servable pieces, in the order they became so
    std::vector<uint32_t> peers;    // the list the agent uses (applied at its peers poll)
    std::vector<uint32_t> next_peers;  // the controller's current list for it
    std::vector<uint32_t> seen;     // per peer: entries of its `acquired` read (kNever)
    std::vector<uint32_t> watchers; // nodes whose list holds this node
    bool peers_changed = false, stripe_changed = false;
    bool bitfield_pending = false, peers_pending = false;
    double phase = 0;               // offset of its poll grids
    uint32_t hash_cursor = 0;       // accepted hashes applied (controller order)
    std::vector<uint32_t> stripe;   // sorted
    std::vector<Origin> origin;     // per piece, for nodes that ever had a stripe
    uint32_t origin_cursor = 0, pulling = 0, held = 0, origin_pieces = 0;
    // OriginFetcher: pieces being pulled, oldest first, each in parts.
    struct Pull {
      uint32_t piece, parts, next_part, parts_left;
    };
    std::vector<Pull> pulls;
    uint32_t origin_requests = 0;   // parts in flight
    double publish_hash_s = 0;      // checksum time left at completion
    uint32_t origin_share = 0;
    uint32_t zone_rank = 0, zone_size = 0;  // the controller's zone role for it
    bool role_changed = false;              // applied at its next peers poll
    double last_peers_poll = -1e300;        // paces early polls (PollPacing)
    bool early_poll_pending = false;
    std::vector<uint32_t> inbox;    // peer requests in flight to this node (ids)
  };
  struct Request {
    bool live = false;
    uint32_t src = 0, dst = 0, piece = 0;  // src kOrigin: an origin request (a part)
    uint64_t bytes = 0;
    int64_t flow = -1;              // -1 while the request is on its way
    uint32_t generation = 0;        // ids are reused; stale start events are ignored
  };
  struct Event {
    double t;
    uint64_t seq;
    Ev type;
    uint32_t a, b;
    bool operator>(const Event& o) const { return t > o.t || (t == o.t && seq > o.seq); }
  };

  // Set-up (swarm_sim_control.cc).
  void build();
  void planChurn();
  std::vector<controller::PeerCandidate> candidates() const;
  // The controller's zone roles (PeerSelector::zoneRole) for every registered,
  // not-dead node; nodes whose role changes apply it at their next peers poll.
  void assignZoneRoles();
  std::vector<uint32_t> selectPeers(uint32_t node, const std::vector<controller::PeerCandidate>& from) const;
  void setPeerList(uint32_t node, std::vector<uint32_t> peers);
  // Controller side of churn.
  void onLeave(uint32_t node);
  void onJoin(uint32_t node);
  void onDead(uint32_t node);
  void reassignStripes();
  void applyPlan();
  SimResult summarize(double wall_s);
  ControllerLoad controllerLoad(double end_s) const;

  // Agent side (swarm_sim.cc).
  void loop();
  void traceLine();
  void maybeRecompute();
  void handle(const Event& e);
  void startNode(uint32_t node);
  void bitfieldPoll(uint32_t node);
  void peersPoll(uint32_t node);
  void trySchedule(uint32_t node);
  bool wantsNews(const Node& n, uint32_t piece) const;
  void startOrigin(uint32_t node);
  void issue(uint32_t src, uint32_t dst, uint32_t piece, uint64_t bytes, double delay);
  double unhashedBytes(const Node& n) const;
  void startFlow(uint32_t request, uint32_t generation);
  void onFlowDone(uint32_t flow);
  void onPeerPiece(uint32_t request);
  void onOriginPiece(uint32_t request);
  void pieceVerified(uint32_t node, uint32_t piece);
  void maybeFinish(uint32_t node);
  void abortRequest(uint32_t request, bool count_partial);
  void dropFromInbox(uint32_t node, uint32_t request);
  void notifyWatchers(uint32_t node);
  void onHashAccepted(uint32_t piece);

  void push(double t, Ev type, uint32_t a = 0, uint32_t b = 0);
  void schedulePoll(uint32_t node, bool bitfields);
  double nextGrid(double phase, double period) const;
  double bitfieldPeriod(const Node& n) const;
  double peersPeriod() const;
  static uint32_t indexOf(const std::string& name);

  SimConfig c_;
  PieceLayout layout_;
  uint32_t pieces_ = 0;
  double step_s_ = 0;
  double scale_ = 1;  // per-piece delays x bundle
  std::mt19937_64 rng_;
  controller::StripePlanner planner_;
  controller::PeerSelector selector_;
  FlowNetwork net_;
  uint32_t origin_res_ = 0, aggregate_res_ = 0;
  std::vector<uint32_t> zone_links_;  // [from * Z + to]
  std::vector<Node> nodes_;
  std::vector<Request> requests_;
  std::vector<uint32_t> free_requests_;
  std::vector<uint32_t> flow_request_;  // flow id -> request
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  double now_ = 0;
  double last_recompute_ = -1;
  bool recompute_pending_ = false;

  controller::StripePlan plan_;
  std::vector<bool> accepted_;
  std::vector<uint32_t> accepted_order_;
  std::vector<std::string> dead_seeders_;

  uint64_t events_count_ = 0;
  uint64_t origin_bytes_ = 0, peer_bytes_ = 0, dup_bytes_ = 0, xzone_bytes_ = 0;
  uint64_t early_polls_ = 0;  // peers polls for a needed hash, between the periodic ones
  uint32_t paced_ms_ = 0;     // the controller's poll interval for this fleet (PollPacing)
  double pacedS() const { return paced_ms_ / 1000.0; }
  uint32_t pieces_moved_ = 0;
  uint32_t unfinished_ = 0;  // nodes present and not ready
  double trace_s_ = 0, next_trace_ = 0;
  bool no_gate_ = false;
};

}  // namespace shardcast::bench
