// FollowerReads: how an HA follower answers reads (DESIGN §7). It loads the
// replicated state (the leader's commits in etcd) at most once per `max_age_ms`
// and serves GET /v1/rollouts, /v1/rollouts/{id} and /v1/manifests/... from an
// immutable FollowerView of it, so `shardcast status` keeps working on any
// replica and while a new leader is being elected.
//
// What a follower shows is the durable state as of the loaded revision: rollout
// states, stripe plans, accepted hashes and node records the leader committed.
// Progress that only lives in the leader's memory (bytes of a piece in flight,
// node liveness) is not there; the revision is returned with every view.
//
// Owns its views; borrows the store and the clock, which must outlive it.
// Thread-safe: concurrent callers share one load.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "controller/node_registry.h"
#include "controller/rollout.h"
#include "controller/rollout_reader.h"
#include "controller/state_store.h"

namespace shardcast::controller {

// The rollouts and manifests of one StateSnapshot, read-only.
class FollowerView : public RolloutReader {
 public:
  // Corruption (naming the key) when the snapshot does not restore.
  static Result<std::shared_ptr<const FollowerView>> build(const StateSnapshot& snapshot,
                                                           const Clock& clock);

  Result<api::RolloutStatus> getRollout(const std::string& id) const override;
  std::vector<api::RolloutStatus> listRollouts() const override;
  Result<Manifest> manifest(const ModelRef& model) const override;
  uint64_t revision() const { return revision_; }

 private:
  FollowerView(const Clock& clock) : nodes_(clock, 1) {}

  uint64_t revision_ = 0;
  std::map<std::string, std::unique_ptr<Rollout>> rollouts_;
  std::map<ModelRef, std::shared_ptr<const Manifest>> manifests_;
  NodeRegistry nodes_;  // empty: node liveness is the leader's
  mutable std::mutex mu_;  // Rollout::status is const but not documented as thread-safe
};

class FollowerReads {
 public:
  static constexpr int64_t kDefaultMaxAgeMs = 1000;

  FollowerReads(StateStore& store, const Clock& clock, int64_t max_age_ms = kDefaultMaxAgeMs)
      : store_(store), clock_(clock), max_age_ms_(max_age_ms) {}

  // The current view, loaded again when older than max_age_ms. Unavailable when
  // the store cannot be read (with the last good view older than 10 x max_age).
  Result<std::shared_ptr<const FollowerView>> view();

 private:
  StateStore& store_;
  const Clock& clock_;
  const int64_t max_age_ms_;
  std::mutex mu_;  // one load at a time; guards the fields below
  std::shared_ptr<const FollowerView> view_;
  int64_t loaded_at_ms_ = 0;
};

}  // namespace shardcast::controller
