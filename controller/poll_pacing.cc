#include "controller/poll_pacing.h"

#include <algorithm>

namespace shardcast::controller {

uint32_t PollPacing::intervalMs(uint64_t nodes, uint32_t requests_per_s) {
  if (requests_per_s == 0 || nodes == 0) return 0;
  // At the agents' own intervals a node sends 1/0.3 + 1/0.5 = 16/3 requests/s.
  if (nodes * 16 <= 3ull * requests_per_s) return 0;
  // Paced, a node sends a poll and a report per interval.
  const uint64_t ms = (2 * nodes * 1000 + requests_per_s - 1) / requests_per_s;
  return static_cast<uint32_t>(std::clamp<uint64_t>(ms, 500, kMaxIntervalMs));
}

uint32_t PollPacing::heartbeatMs(int64_t node_timeout_ms, uint32_t interval_ms) {
  const int64_t base = std::clamp<int64_t>(node_timeout_ms / 5, 100, 2000);
  const int64_t paced = std::min<int64_t>(node_timeout_ms / 3, 2 * int64_t{interval_ms});
  return static_cast<uint32_t>(std::max(base, paced));
}

}  // namespace shardcast::controller
