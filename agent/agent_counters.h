// AgentCounters: the agent's process-wide counters, exported by GET /metrics on the
// local API (names in README "Agent metrics"). Owned by the Server and shared by
// pointer with the rollout workers and the local API. Thread-safe (atomics only).
#pragma once

#include <atomic>
#include <cstdint>

namespace shardcast::agent {

struct AgentCounters {
  std::atomic<uint64_t> origin_bytes{0};          // verified-or-held bytes pulled from origins
  std::atomic<uint64_t> peer_bytes{0};            // verified bytes received from peers
  std::atomic<uint64_t> peer_bytes_other_zones{0};  // piece bytes received from other zones' peers
  std::atomic<uint64_t> pieces_resumed{0};        // set bits kept after re-hashing on start
  std::atomic<uint64_t> pieces_dropped_on_resume{0};  // set bits whose bytes failed the hash
  std::atomic<uint64_t> prewarm_requests{0};
  std::atomic<uint64_t> pulls_requested{0};       // on-demand pulls sent to the controller
  std::atomic<uint64_t> no_space_failures{0};
};

}  // namespace shardcast::agent
