// SimResult: the figures of one simulated rollout, and how they are printed (a
// short table like bench/rig's, and one JSON object whose keys match the rig's
// where the meaning is the same). A value type; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/sim/sim_config.h"

namespace shardcast::bench {

// Requests the agents would send to the controller, derived from the agent's real
// intervals (peers poll, progress report, heartbeat, assignment long-poll) over
// each node's simulated lifetime.
struct ControllerLoad {
  double peers_calls = 0;        // GET /v1/rollouts/{id}/peers (early polls included)
  double early_polls = 0;        // of which: polls for a needed hash between periodic ones
  double reports = 0;            // POST /v1/rollouts/{id}/pieces
  double heartbeats = 0;         // PUT /v1/nodes/{node}
  double assignment_polls = 0;   // GET /v1/nodes/{node}/assignments
  double msgs_per_s = 0;         // all of the above / time to last ready
  double peak_msgs_per_s = 0;    // while every node is fetching
  // PeerSelector::select ranks every node of the region when a cached list expires.
  double peer_candidates_ranked_per_s = 0;
  double paced_interval_s = 0;   // PollPacing's interval for this fleet (0: none)
};

struct SimResult {
  SimConfig config;
  PieceLayout layout;
  double floor_s = 0;                 // F / B
  double time_to_last_ready_s = 0;    // over nodes present from the start that stayed
  double p50_s = 0;
  uint32_t ready_nodes = 0;
  uint32_t not_ready_nodes = 0;       // stayed but never ready (stalled sim)
  double non_straggler_last_s = 0;
  double straggler_last_s = 0;        // 0 when there are no stragglers
  double joiner_last_over_floor = 0;  // max (ready - join) / floor over joiners
  uint32_t nodes_left = 0, nodes_joined = 0;
  std::vector<double> ready_s;        // per original node; < 0 for nodes that left
  uint64_t origin_bytes = 0;
  uint64_t peer_bytes = 0;
  uint64_t duplicate_bytes = 0;       // end-game copies that arrived second
  uint64_t cross_zone_bytes = 0;
  double cross_zone_cost = 0;
  double publish_verify_s = 0;        // mean checksum time left at publish (FileDigester)
  double bitfield_requests_per_s = 0; // peer-to-peer, fleet-wide, while fetching
  ControllerLoad controller;
  uint32_t seeders = 0;
  uint32_t pieces_moved = 0;          // stripe pieces moved from gone seeders
  uint64_t events = 0;
  uint64_t rate_computations = 0;
  double step_s = 0;                  // 0: exact
  double wall_s = 0;
};

std::string resultTable(const SimResult& r);
std::string resultJson(const SimResult& r);

}  // namespace shardcast::bench
