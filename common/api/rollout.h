// Wire types of the public rollout API (POST/GET /v1/rollouts), shared by the
// controller, the CLI and tests. Plain values; the JSON readers are strict for
// what users send (unknown fields rejected) and lenient for what the controller
// answers (so an older CLI can read a newer controller).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/manifest.h"
#include "common/model_ref.h"
#include "common/objstore/object_store.h"
#include "common/status.h"

namespace shardcast::api {

// Rollout states.
inline constexpr const char* kRolloutInProgress = "in_progress";
inline constexpr const char* kRolloutReady = "ready";
inline constexpr const char* kRolloutDegraded = "degraded";
inline constexpr const char* kRolloutFailed = "failed";
inline constexpr const char* kRolloutCancelled = "cancelled";
bool isTerminalRolloutState(const std::string& state);

// Node states within a rollout.
inline constexpr const char* kNodePending = "pending";
inline constexpr const char* kNodeFetching = "fetching";
inline constexpr const char* kNodeReady = "ready";
inline constexpr const char* kNodeFailed = "failed";

struct RolloutTarget {
  std::vector<std::string> regions;              // empty = every region
  std::map<std::string, std::string> selector;   // node labels that must match
  bool operator==(const RolloutTarget&) const = default;
};

struct RolloutRequest {
  ModelRef model;
  std::vector<SourceSpec> sources;  // replicas of the same content, at least one
  RolloutTarget target;
  uint64_t piece_size = 0;  // 0 = chosen from the model's size (autoPieceSize)
};

// Strict: {"model": "name:version", "sources": [uri | {uri, ...}], "target"?:
// {"regions"?: [...], "selector"?: {...}}, "piece_size"?: n}. Unknown fields,
// wrong types, a bad model ref, bad piece size or no source are InvalidArgument.
Result<RolloutRequest> rolloutRequestFromJson(const nlohmann::json& j);
nlohmann::json toJson(const RolloutRequest& r);

struct NodeProgress {
  std::string node;
  std::string region;
  std::string zone;
  std::string state = kNodePending;
  uint32_t pieces_done = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_from_origin = 0;
  uint64_t bytes_from_peers = 0;
  std::string reason;   // set when failed: no_space, origin_error, corrupt_source, ...
  std::string message;
};

struct RegionStatus {
  std::string name;
  std::string state = kRolloutInProgress;
  uint32_t nodes_total = 0;
  uint32_t nodes_ready = 0;
  uint32_t nodes_failed = 0;
  uint64_t bytes_done = 0;   // sum over the region's nodes
  uint32_t seeders = 0;      // nodes in the region's stripe plan
  uint32_t pieces_accepted = 0;
};

struct RolloutStatus {
  std::string id;
  ModelRef model;
  std::string state = kRolloutInProgress;
  std::string message;  // why it failed, when it did
  int64_t created_at_ms = 0;
  int64_t finished_at_ms = 0;  // 0 while in progress
  uint64_t total_bytes = 0;
  uint32_t piece_count = 0;
  uint64_t piece_size = 0;
  uint32_t file_count = 0;
  std::vector<SourceSpec> sources;
  RolloutTarget target;
  std::vector<RegionStatus> regions;
  std::vector<NodeProgress> nodes;
  uint32_t corrupt_reports = 0;  // pieces peers served that failed the accepted hash
};

nlohmann::json toJson(const RolloutStatus& s);
Result<RolloutStatus> rolloutStatusFromJson(const nlohmann::json& j);

}  // namespace shardcast::api
