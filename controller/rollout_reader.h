// RolloutReader: the read side of the public API (GET /v1/rollouts,
// GET /v1/rollouts/{id}, GET /v1/manifests/...). The leader answers from its
// RolloutService; an HA follower from a FollowerView of the replicated state
// (DESIGN §7: followers answer reads). Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/api/rollout.h"
#include "common/manifest.h"
#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::controller {

class RolloutReader {
 public:
  virtual ~RolloutReader() = default;
  virtual Result<api::RolloutStatus> getRollout(const std::string& id) const = 0;
  // Oldest first.
  virtual std::vector<api::RolloutStatus> listRollouts() const = 0;
  virtual Result<Manifest> manifest(const ModelRef& model) const = 0;
};

}  // namespace shardcast::controller
