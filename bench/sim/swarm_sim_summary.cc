// SwarmSim: the figures of a finished run, and the controller load its agents
// would have caused.
#include <algorithm>
#include <cmath>

#include "bench/sim/swarm_sim.h"

namespace shardcast::bench {
namespace {

double percentile50(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

}  // namespace

ControllerLoad SwarmSim::controllerLoad(double end_s) const {
  // Real periods, never scaled: the controller's pacing (PollPacing) stretches
  // the agents' own intervals on large fleets.
  const double peers_period = std::max(c_.peers_poll_s, pacedS()) + c_.rtt_s;
  const double report_period = std::max(c_.report_s, pacedS());
  const int64_t node_timeout_ms = std::llround(c_.node_timeout_s * 1000);
  const double heartbeat_period =
      std::max(c_.heartbeat_s, controller::PollPacing::heartbeatMs(node_timeout_ms, paced_ms_) / 1000.0);
  // Per node, from the agent's loops: the rollout worker polls peers every
  // peers_period and reports every report_period, and once more of each per
  // origin piece (report_now, then an immediate poll for the accepted hash), plus
  // its early polls for a needed hash (counted as simulated, x bundle); the server
  // heartbeats and long-polls assignments for as long as it runs.
  ControllerLoad load;
  for (const Node& n : nodes_) {
    if (!n.registered) continue;
    double life_end = n.leave_s >= 0 ? n.leave_s : end_s;
    double life = std::max(0.0, life_end - n.join_s);
    double fetch_start = n.join_s + c_.start_delay_s;
    double fetch_end = n.ready_s >= 0 ? n.ready_s : life_end;
    double fetch = std::max(0.0, fetch_end - fetch_start);
    load.peers_calls += fetch / peers_period + n.origin_pieces * scale_ + 1;
    load.reports += fetch / report_period + n.origin_pieces * scale_ + 1;
    load.heartbeats += life / heartbeat_period;
    load.assignment_polls += life / c_.assignment_wait_s + 1;
  }
  load.early_polls = static_cast<double>(early_polls_) * scale_;
  load.peers_calls += load.early_polls;
  double total = load.peers_calls + load.reports + load.heartbeats + load.assignment_polls;
  load.msgs_per_s = end_s > 0 ? total / end_s : 0;
  const double n = c_.nodes;
  load.peak_msgs_per_s =
      n * (1 / peers_period + 1 / report_period + 1 / heartbeat_period + 1 / c_.assignment_wait_s);
  // The controller ranks the region for a node only when its cached peer list
  // expires (PeerListCache, PollPacing::peerListTtlMs).
  load.peer_candidates_ranked_per_s = n / (controller::PollPacing::peerListTtlMs(paced_ms_) / 1000.0) * n;
  load.paced_interval_s = pacedS();
  return load;
}

SimResult SwarmSim::summarize(double wall_s) {
  SimResult r;
  r.config = c_;
  r.layout = layout_;
  r.floor_s = static_cast<double>(c_.size) / c_.rate;
  std::vector<double> stayed;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.original) r.ready_s.push_back(n.state == State::kGone ? -1 : n.ready_s);
    if (n.state == State::kGone) {
      ++r.nodes_left;
      continue;
    }
    if (!n.registered) continue;
    if (!n.original) {
      ++r.nodes_joined;
      if (n.ready_s >= 0) {
        r.joiner_last_over_floor = std::max(r.joiner_last_over_floor, (n.ready_s - n.join_s) / r.floor_s);
      }
    }
    if (n.ready_s < 0) {
      ++r.not_ready_nodes;
      continue;
    }
    ++r.ready_nodes;
    if (!n.original) continue;
    stayed.push_back(n.ready_s);
    double& last = n.straggler ? r.straggler_last_s : r.non_straggler_last_s;
    last = std::max(last, n.ready_s);
  }
  r.time_to_last_ready_s = stayed.empty() ? 0 : *std::max_element(stayed.begin(), stayed.end());
  r.p50_s = percentile50(stayed);
  r.origin_bytes = origin_bytes_;
  r.peer_bytes = peer_bytes_;
  r.duplicate_bytes = dup_bytes_;
  r.cross_zone_bytes = xzone_bytes_;
  r.cross_zone_cost = static_cast<double>(xzone_bytes_) / 1e9 * c_.cross_zone_price_per_gb;
  double hash_sum = 0;
  uint32_t hashed = 0;
  for (const Node& n : nodes_) {
    if (n.ready_s < 0) continue;
    hash_sum += n.publish_hash_s;
    ++hashed;
  }
  r.publish_verify_s = hashed ? hash_sum / hashed : 0;
  double end_s = std::max(r.time_to_last_ready_s, now_);
  r.controller = controllerLoad(end_s);
  double per_node_bitfields = 0;
  for (const Node& n : nodes_) {
    if (n.registered) per_node_bitfields += static_cast<double>(n.next_peers.size()) * scale_ / bitfieldPeriod(n);
  }
  r.bitfield_requests_per_s = per_node_bitfields;
  r.seeders = plan_.activeSeeders();
  r.pieces_moved = pieces_moved_;
  r.events = events_count_;
  r.rate_computations = net_.rateComputations();
  r.step_s = step_s_;
  r.wall_s = wall_s;
  return r;
}

}  // namespace shardcast::bench
