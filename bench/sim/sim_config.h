// SimConfig: one simulated rollout, and the parser of shardcast-sim's flags.
//
// Every knob that exists in the agent or the controller carries the same name and
// default as there (agent/agent_config.h, agent/rollout_worker.h,
// agent/swarm_fetcher.h, controller/rollout_service.h, controller/stripe_planner.h,
// controller/peer_selector.h), so a figure from the simulator names a setting an
// operator can use. Rates are bits/s on the command line (tc style, like
// bench/rig) and bytes/s inside. Pure; a value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardcast::bench {

struct SimConfig {
  // Fleet and model.
  uint32_t nodes = 16;
  uint64_t size = 1ull << 30;         // F, bytes
  uint32_t files = 1;                 // F split into equal files; pieces never span two
  uint64_t piece_size = 16ull << 20;  // the rollout's piece size (deploy --piece-size)
  double rate = 250e6 / 8;            // B: each node's up and down capacity, bytes/s
  double origin_rate = 0;             // the origin's link, bytes/s (0: = rate)
  double origin_flow_rate = 0;        // cap of one origin request, bytes/s (0: none)
  double aggregate_rate = 0;          // one cap over every flow, e.g. a rig host's CPU (0: none)
  uint32_t zones = 1;                 // node i is in zone i mod Z (as in bench/rig)
  double zone_rate = 0;               // each ordered zone pair's link, bytes/s (0: unlimited)
  double cross_zone_price_per_gb = 0.01;  // $ per GB sent across zones
  double stragglers = 0;              // fraction of nodes with straggler_factor x B
  double straggler_factor = 0.5;
  double churn_leave = 0;             // fraction of nodes that leave mid-run
  double churn_join = 0;              // fraction of N that join mid-run (empty nodes)
  double churn_from = 0.2, churn_to = 0.8;  // window, as fractions of F/B
  bool churn_spares_seeders = false;  // leavers are drawn from non-seeders only

  // Agent knobs (agent/agent_config.h, rollout_worker.h, swarm_fetcher.h).
  uint32_t peer_requests = 1;         // --peer-requests: requests in flight per peer
  uint32_t max_inflight = 16;         // --max-inflight: piece requests in flight in all
  uint32_t origin_concurrency = 4;    // --origin-concurrency: origin requests per seeder,
                                      // one piece at a time in parts of >= 1 MiB
  uint64_t min_part_bytes = 1 << 20;  // OriginFetcher::kMinPartBytes
  double bitfield_poll_s = 0.300;     // SwarmOptions::bitfield_poll_ms
  double peers_poll_s = 0.300;        // WorkerOptions::peers_poll_ms
  double report_s = 0.500;            // WorkerOptions::report_ms
  double flush_s = 0.020;             // a verified piece becomes servable after the flusher
  // Publisher checksums: the agent hashes each file's verified prefix as pieces
  // are flushed (FileDigester) and the rest at publish, at this rate (0: none).
  double verify_rate = 1.8e9;
  // The agent lets the second (end-game) request for a piece run to its end, and
  // finish() waits for it. true: cancel it when the first copy is verified.
  bool cancel_duplicates = false;

  // Controller knobs (controller/rollout_service.h and the policies).
  uint32_t max_seeders = 16;          // --max-seeders (S)
  uint32_t peers_per_node = 16;       // --peers-per-node (K)
  uint32_t max_origin_requests_per_region = 0;  // 0: no regional budget
  uint32_t agent_requests_per_s = 4000;  // --agent-requests-per-s (PollPacing); 0: none
  double node_timeout_s = 30;         // T
  double heartbeat_s = 2.0;           // min(T/5, 2 s), as the controller answers
  double assignment_wait_s = 5.0;     // the agent's long-poll wait

  // Latencies.
  double rtt_s = 0.001;               // agent <-> agent and agent <-> controller
  double request_overhead_s = 0;      // per peer request, on top of one RTT
  double origin_latency_s = 0.020;    // origin request to first byte
  double start_delay_s = 0;           // deploy -> agents start fetching

  // Simulation.
  uint32_t max_sim_pieces = 0;        // bundle pieces above this count (0: auto)
  double step_s = -1;                 // rate recomputation: <0 auto, 0 exact, >0 step
  uint64_t seed = 1;
  bool json = false;
};

// The piece layout the simulator uses: like Manifest (ceil(file/piece) pieces per
// file, the last one short), with `bundle` rollout pieces per simulated piece.
struct PieceLayout {
  uint64_t bundle = 1;                // rollout pieces per simulated piece
  uint64_t sim_piece_size = 0;
  uint64_t rollout_pieces = 0;
  std::vector<uint64_t> sizes;        // bytes of each simulated piece
  std::vector<uint32_t> file_of;      // the file each simulated piece belongs to
};

PieceLayout makeLayout(const SimConfig& config);

// "250mbit", "1gbit", "10gbps" (bytes), "31250000bit" -> bytes/s.
Result<double> parseRateBytesPerSecond(const std::string& text);
// "1.8GB/s", "500MB/s", "0" -> bytes/s.
Result<double> parseByteRate(const std::string& text);
// "300ms", "1.5s", "2m" -> seconds.
Result<double> parseSeconds(const std::string& text);

struct ParsedSimFlags {
  bool help = false;
  SimConfig config;
};
// InvalidArgument with one line naming the flag for bad or missing values.
Result<ParsedSimFlags> parseSimFlags(const std::vector<std::string>& args);
std::string simUsage();

}  // namespace shardcast::bench
