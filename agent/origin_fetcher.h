// OriginFetcher: pulls this node's stripe of a rollout from the origin (DESIGN §4
// "Striped seeding"): up to `concurrency` parallel ranged GETs, one piece per
// request, pinned to the manifest's pin for the region's replica, hashed while the
// bytes arrive into a buffer of exactly the piece's length.
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
// Resume: when a read fails after some bytes of the piece arrived, the retry asks
// only for the rest, [offset + received, end), and appends; the hash runs over the
// bytes in arrival order, which is piece order, so each byte is hashed exactly once
// and only re-sent bytes cost origin egress. The pin (ETag) is checked on every
// resumed answer; without a pin the origin cannot prove the rest belongs to the
// same content, so the piece is read again from its start. Owns its ObjectStore and threads; the Manifest must outlive it.
// Thread-safe; the callbacks run on the fetch threads.
// Not responsible for accepted hashes, holding pieces, or writing them.
#pragma once

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

  // One ranged GET of one piece (no retry).
  Result<FetchedPiece> fetchPiece(uint32_t index);
  // The piece with retries and resume (what the fetch threads run).
  Result<FetchedPiece> fetchWithRetry(uint32_t index, uint64_t seed);

  void start(unsigned concurrency, NextPiece next, PieceDone done);
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
  // A piece being received: its bytes so far and their running hash.
  struct Partial {
    FetchedPiece piece;
    Sha256 hasher;
  };
  void runThread(uint64_t seed);
  // Reads the rest of the piece into `partial` (one request).
  Status readRest(uint32_t index, Partial& partial);
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
  std::vector<std::thread> threads_;
};

}  // namespace shardcast::agent
