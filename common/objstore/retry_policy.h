// RetryPolicy: when and how long to wait before retrying a failed origin request
// (DESIGN §1 invariant 4, issue 3 "Retries").
//
//   retryable:  Unavailable or DeadlineExceeded (reasons origin_error and
//               source_unreachable: 5xx, 408, 429/SlowDown, resets, timeouts,
//               short bodies) unless the reason is object_changed.
//   final:      object_changed, PermissionDenied, Unauthenticated, NotFound,
//               FailedPrecondition (an origin that ignores Range, a wrong region),
//               Corruption, InvalidArgument, Aborted, local I/O errors.
//
// Delay before retry n (n = failures in a row without progress, from 1):
// uniform in [0, min(max_backoff_ms, initial_backoff_ms * 2^(n-1))] ("full
// jitter"), raised to the server's Retry-After (Status::retryAfterMs, capped at
// max_retry_after_ms) when one was given. An attempt that delivered bytes before
// failing resets the exponent (the read resumes where it stopped) but still counts
// toward max_total_attempts, so a server that drops every connection cannot keep a
// piece busy forever. Gives up after max_attempts failures in a row without
// progress.
//
// Pure: no I/O, no clock; the RNG is seeded by the caller. One object per retried
// operation; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "common/status.h"

namespace shardcast {

struct RetryOptions {
  int max_attempts = 6;             // failures in a row without progress
  int max_total_attempts = 30;      // all attempts of one operation
  int64_t initial_backoff_ms = 250;
  int64_t max_backoff_ms = 8000;
  int64_t max_retry_after_ms = 60000;  // a longer Retry-After is clamped to this
};

class RetryPolicy {
 public:
  RetryPolicy(RetryOptions options, uint64_t seed) : options_(options), rng_(seed) {}

  // Whether a failure of this kind may succeed when tried again.
  static bool isRetryable(const Status& s);

  // Call after each failed attempt; `progress` = the attempt delivered bytes.
  // Returns the delay before the next attempt, or nullopt to give up.
  std::optional<int64_t> nextDelayMs(const Status& failure, bool progress);

  int attempts() const { return attempts_; }
  const RetryOptions& options() const { return options_; }

 private:
  RetryOptions options_;
  std::mt19937_64 rng_;
  int attempts_ = 0;       // failed attempts so far
  int no_progress_ = 0;    // failed attempts in a row without progress
};

// Parses an HTTP Retry-After value: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms),
// relative to `now_wall_ms` (Unix ms). A date in the past is 0. nullopt when the
// value is malformed.
std::optional<int64_t> parseRetryAfterMs(const std::string& value, int64_t now_wall_ms);

}  // namespace shardcast
