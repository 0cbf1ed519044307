// PollPacing: how often the agents of a rollout poll the controller for peers and
// hashes and report their progress, so the controller's load stays near a budget
// however many nodes take part (DESIGN §4 "Swarm", §7 scale).
//
// Every fetching agent sends one peers poll and one progress report per interval,
// so a rollout with N nodes costs 2 N / interval requests per second. When the
// agents' own intervals (300 ms polls, 500 ms reports: 16/3 requests/s a node)
// fit `requests_per_s` the interval is 0 and small rollouts are not slowed down;
// otherwise it is the smallest that fits, from 500 ms to kMaxIntervalMs (well
// inside the node timeout).
// Agents also poll early for a hash they need (a peer holds a piece they cannot
// verify yet), at most once per earlyPollGapMs.
//
// Pure: no I/O, no clock; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>

namespace shardcast::controller {

class PollPacing {
 public:
  static constexpr uint32_t kDefaultRequestsPerS = 4000;
  static constexpr uint32_t kMaxIntervalMs = 10000;

  // 0 = no pacing (the agents' own intervals); requests_per_s 0 disables pacing.
  static uint32_t intervalMs(uint64_t nodes, uint32_t requests_per_s);
  // The least time between an agent's early polls under `interval_ms` (0: none).
  static uint32_t earlyPollGapMs(uint32_t interval_ms) { return interval_ms / 4; }
  // The heartbeat interval the controller answers: T/5 (100 ms to 2 s), so a lost
  // heartbeat does not make a node dead; paced fleets heartbeat every 2 x the
  // paced interval, up to T/3.
  static uint32_t heartbeatMs(int64_t node_timeout_ms, uint32_t interval_ms);
  // How long the controller reuses a node's peer list and zone role: long enough
  // to spare it ranking the region, short enough that silent peers and importers
  // drop out soon after T. max(5 s, 4 intervals).
  static int64_t peerListTtlMs(uint32_t interval_ms) {
    return std::max<int64_t>(5000, 4 * int64_t{interval_ms});
  }
};

}  // namespace shardcast::controller
