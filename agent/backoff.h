// Backoff: capped exponential delays with jitter for retry loops (controller
// reconnects, origin retries). A value type with its own seeded RNG; not
// thread-safe (one per loop). It only computes delays; callers wait.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>

namespace shardcast::agent {

class Backoff {
 public:
  Backoff(int64_t initial_ms, int64_t max_ms, uint64_t seed = std::random_device{}())
      : initial_ms_(initial_ms), max_ms_(max_ms), next_ms_(initial_ms), rng_(seed) {}

  // The delay before the next attempt: the current step with +-25% jitter; the
  // step doubles up to max_ms.
  int64_t nextDelayMs() {
    int64_t base = next_ms_;
    next_ms_ = std::min(max_ms_, next_ms_ * 2);
    int64_t spread = base / 4;
    if (spread == 0) return base;
    return base + std::uniform_int_distribution<int64_t>(-spread, spread)(rng_);
  }
  void reset() { next_ms_ = initial_ms_; }

 private:
  int64_t initial_ms_;
  int64_t max_ms_;
  int64_t next_ms_;
  std::mt19937_64 rng_;
};

}  // namespace shardcast::agent
