// OriginFetcher: pulls this node's stripe of a rollout from the origin (DESIGN §4
// "Striped seeding"): each piece with parallel ranged GETs, pinned to the
// manifest's pin for the region's replica, into a buffer of exactly the piece's
// length, hashed once all of it arrived.
//
// Pieces are cut into up to `concurrency` parts of at least kMinPartBytes, and the
// fetch threads take parts in piece order: the parts of the oldest unfinished
// piece first, then the first part of the next piece. So a seeder has one piece
// (two at a piece boundary) in flight at the origin, finished at the seeder's full
// share of the origin link, instead of `concurrency` pieces at a fraction each:
// the first piece a region can share arrives `concurrency` times sooner, and the
// swarm starts that much earlier (bench/README.md).
//
// Every request carries the User-Agent
//   shardcast-agent/<version> (node=<n>; region=<r>; rollout=<id>)
// (DESIGN §5): operators see it in access logs and tests count origin bytes per
// region from it, so its format is exact.
//
// The fetch threads ask the owner for the next piece (NextPiece; nullopt = nothing
// to do now, wait for wake()) and hand each result to PieceDone, after retrying
// transient errors (RetryPolicy: 5xx, 429/SlowDown, resets, timeouts; exponential
// backoff with full jitter, Retry-After as a floor). An object that changed
// (reason "object_changed"), a denied or missing object are not retried.
//
// Resume: when a read of a part fails after some of its bytes arrived, the retry
// asks only for the rest of the part, [received, end), written in place; only
// re-sent bytes cost origin egress. The pin (ETag) is checked on every resumed
// answer; without a pin the origin cannot prove the rest belongs to the same
// content, so the part is read again from its start. A part that fails for good
// fails its piece (the other parts of it are not started). The piece is hashed
// once, after its last part arrived.
// Owns its ObjectStore, its threads and the pieces in flight; the Manifest must
// outlive it.
// Thread-safe; the callbacks run on the fetch threads.
// Not responsible for accepted hashes, holding pieces, or writing them.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/peer_client.h"
#include "common/manifest.h"
#include "common/objstore/registry.h"
#include "common/objstore/retry_policy.h"
#include "common/sha256.h"
#include "common/status.h"

namespace shardcast::agent {

struct OriginIdentity {
  std::string node;
  std::string region;
  std::string rollout_id;
};

class OriginFetcher {
 public:
  using NextPiece = std::function<std::optional<uint32_t>()>;
  using PieceDone = std::function<void(uint32_t piece, Result<FetchedPiece> result)>;

  static std::string userAgent(const OriginIdentity& id);

  // Opens the source through the registry with the agent's User-Agent.
  static Result<std::unique_ptr<OriginFetcher>> open(const ObjectStoreRegistry& registry,
                                                     const SourceSpec& source,
                                                     ObjectStoreOptions options,
                                                     const OriginIdentity& id,
                                                     const Manifest* manifest,
                                                     uint32_t source_index);
  ~OriginFetcher();

  // The whole piece as one range, with retries and resume, on the caller's thread
  // (what a fetch thread does for each part).
  Result<FetchedPiece> fetchWithRetry(uint32_t index, uint64_t seed);

  // A range smaller than this costs more in request latency than it saves.
  static constexpr uint64_t kMinPartBytes = 1 << 20;

  void start(unsigned concurrency, NextPiece next, PieceDone done);
  // At most `n` requests at once (the region's origin budget share); 0 = all threads.
  void setRequestLimit(unsigned n);
  // Parts are at least this long (default kMinPartBytes). Before start().
  void setMinPartBytes(uint64_t n) { min_part_bytes_ = std::max<uint64_t>(1, n); }
  // Something changed: idle threads ask NextPiece again.
  void wake();
  // Stops and joins the threads (an in-progress GET finishes first).
  void stop();

  void setRetryOptions(const RetryOptions& options) { retry_ = options; }
  void setRetryPolicyForTest(int attempts, int64_t initial_backoff_ms) {
    retry_.max_attempts = attempts;
    retry_.initial_backoff_ms = initial_backoff_ms;
  }
  // Requests answered with an error or cut short, and bytes of the pieces that were
  // requested again after such a failure (0 when every read resumed).
  uint64_t retries() const { return retries_.load(); }
  uint64_t restartedBytes() const { return restarted_bytes_.load(); }

 private:
  OriginFetcher(std::unique_ptr<ObjectStore> store, const Manifest* manifest, uint32_t source_index)
      : store_(std::move(store)), manifest_(manifest), source_index_(source_index) {}
  // One piece being pulled in parts; owned by active_ until its last part is in.
  struct Active {
    uint32_t piece = 0;
    std::string data;              // the piece's bytes, parts written in place
    std::vector<uint64_t> bounds;  // part k is [bounds[k], bounds[k+1])
    size_t next_part = 0;          // first part no thread has taken
    size_t parts_left = 0;         // parts not finished
    Status error;                  // first part that failed for good
  };
  struct Claim {
    std::shared_ptr<Active> active;
    size_t part = 0;
  };
  void runThread(uint64_t seed);
  // The next part to fetch, or nullopt (stopping, or nothing to do until wake()).
  std::optional<Claim> claim();
  // Fetches part `part` of `a` into place, with retries and resume.
  Status fetchPart(Active& a, size_t part, uint64_t seed);
  // Records the part's end; hands the piece to done_ when it was the last part.
  void partDone(const Claim& c, Status s);
  std::vector<uint64_t> partBounds(uint64_t length) const;
  // Waits up to ms; false when stopping.
  bool waitMs(int64_t ms);

  std::unique_ptr<ObjectStore> store_;
  const Manifest* manifest_;
  const uint32_t source_index_;
  RetryOptions retry_;
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> restarted_bytes_{0};

  NextPiece next_;
  PieceDone done_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;   // guarded by mu_
  uint64_t wakeups_ = 0;    // guarded by mu_
  unsigned concurrency_ = 1;
  uint64_t min_part_bytes_ = kMinPartBytes;
  unsigned request_limit_ = 0;   // guarded by mu_; 0 = concurrency_
  unsigned requests_ = 0;        // parts being fetched; guarded by mu_
  std::vector<std::shared_ptr<Active>> active_;  // piece order; guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace shardcast::agent
