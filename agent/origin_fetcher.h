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
// transient errors with backoff. An object that changed (reason "object_changed")
// is not retried. Owns its ObjectStore and threads; the Manifest must outlive it.
// Thread-safe; the callbacks run on the fetch threads.
// Not responsible for accepted hashes, holding pieces, or writing them.
#pragma once

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

  void start(unsigned concurrency, NextPiece next, PieceDone done);
  // Something changed: idle threads ask NextPiece again.
  void wake();
  // Stops and joins the threads (an in-progress GET finishes first).
  void stop();

  void setRetryPolicyForTest(int attempts, int64_t initial_backoff_ms) {
    max_attempts_ = attempts;
    initial_backoff_ms_ = initial_backoff_ms;
  }

 private:
  OriginFetcher(std::unique_ptr<ObjectStore> store, const Manifest* manifest, uint32_t source_index)
      : store_(std::move(store)), manifest_(manifest), source_index_(source_index) {}
  void runThread(uint64_t seed);
  Result<FetchedPiece> fetchWithRetry(uint32_t index, uint64_t seed);
  // Waits up to ms; false when stopping.
  bool waitMs(int64_t ms);

  std::unique_ptr<ObjectStore> store_;
  const Manifest* manifest_;
  const uint32_t source_index_;
  int max_attempts_ = 5;
  int64_t initial_backoff_ms_ = 250;

  NextPiece next_;
  PieceDone done_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;   // guarded by mu_
  uint64_t wakeups_ = 0;    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace shardcast::agent
