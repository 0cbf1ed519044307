// restoreRollouts: rebuilds the controller's durable state — rollouts with their
// records, manifests, per-region stripe plans and source replicas, accepted-hash
// logs and seeder confirmations — from a StateStore snapshot (the keys written
// by rollout_codec.h) and the registered nodes. Per-rollout node rows (progress)
// and peer lists are not stored: agents report them again.
//
// Pure: no I/O, no clock; thread-safe. Anything inconsistent (a rollout whose
// manifest is missing, a gap in a hash log, a plan that does not fit the
// manifest) is Corruption naming the key, never silently dropped. Keys of kinds
// it does not know are counted and skipped (a newer controller's additions).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "common/api/node.h"
#include "common/manifest.h"
#include "common/model_ref.h"
#include "common/status.h"
#include "controller/rollout.h"
#include "controller/state_store.h"

namespace shardcast::controller {

struct RestoredState {
  // The newest manifest of each model ref (what GET /v1/manifests serves).
  std::map<ModelRef, std::shared_ptr<const Manifest>> manifests;
  std::vector<std::unique_ptr<Rollout>> rollouts;
  // Registered nodes as last stored (they heartbeat again within T, or are gone).
  std::vector<api::NodeInfo> nodes;
  size_t skipped_keys = 0;
};

Result<RestoredState> restoreRollouts(const StateSnapshot& snapshot);

}  // namespace shardcast::controller
