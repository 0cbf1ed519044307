#include "controller/poll_pacing.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

namespace shardcast::controller {

TEST_CASE("small fleets keep the agents' own intervals") {
  CHECK(PollPacing::intervalMs(16, 4000) == 0);
  CHECK(PollPacing::intervalMs(750, 4000) == 0);  // 750 x 16/3 = 4000 requests/s
  CHECK(PollPacing::intervalMs(0, 4000) == 0);
  CHECK(PollPacing::intervalMs(1000000, 0) == 0);  // pacing off
}

TEST_CASE("large fleets are paced to the budget: 2 requests a node per interval") {
  CHECK(PollPacing::intervalMs(751, 4000) == 500);  // just over: the 500 ms floor
  CHECK(PollPacing::intervalMs(10000, 4000) == 5000);
  // Requests per second at that interval stay within the budget.
  for (uint64_t n : {1000ull, 3000ull, 10000ull, 19999ull}) {
    const uint32_t ms = PollPacing::intervalMs(n, 4000);
    REQUIRE(ms > 0);
    CHECK(2.0 * n * 1000 / ms <= 4000.0 + 1e-9);
  }
  CHECK(PollPacing::intervalMs(1000000, 4000) == PollPacing::kMaxIntervalMs);
  CHECK(PollPacing::earlyPollGapMs(5000) == 1250);
  CHECK(PollPacing::earlyPollGapMs(0) == 0);
}

TEST_CASE("heartbeats: T/5 up to 2 s; paced fleets every 2 intervals, never beyond T/3") {
  CHECK(PollPacing::heartbeatMs(30000, 0) == 2000);
  CHECK(PollPacing::heartbeatMs(1000, 0) == 200);
  CHECK(PollPacing::heartbeatMs(100, 0) == 100);
  CHECK(PollPacing::heartbeatMs(30000, 5000) == 10000);
  CHECK(PollPacing::heartbeatMs(30000, 10000) == 10000);
  CHECK(PollPacing::heartbeatMs(30000, 500) == 2000);
}

TEST_CASE("peer lists are reused for max(5 s, 4 intervals)") {
  CHECK(PollPacing::peerListTtlMs(0) == 5000);
  CHECK(PollPacing::peerListTtlMs(1000) == 5000);
  CHECK(PollPacing::peerListTtlMs(5000) == 20000);
}

}  // namespace shardcast::controller
