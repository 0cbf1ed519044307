// Wire types between agents and the controller: registration/heartbeat,
// assignments, peer hand-out with accepted hashes, and batched piece reports.
// Readers are lenient (unknown fields ignored) so agents and controllers of
// neighbouring versions interoperate during a rolling update.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::api {

// PUT /v1/nodes/{node}
struct NodeInfo {
  std::string name;
  std::string incarnation;  // new on every agent start
  std::string region;
  std::string zone;
  std::map<std::string, std::string> labels;
  std::string peer_addr;    // "host:port" of the agent's peer API
  uint64_t capacity_bytes = 0;
  std::vector<std::string> models;  // published "name:version" held by the node
};
nlohmann::json toJson(const NodeInfo& n);
Result<NodeInfo> nodeInfoFromJson(const nlohmann::json& j);

struct HeartbeatReply {
  uint32_t heartbeat_interval_ms = 2000;
};
nlohmann::json toJson(const HeartbeatReply& r);
Result<HeartbeatReply> heartbeatReplyFromJson(const nlohmann::json& j);

// GET /v1/nodes/{node}/assignments?cursor=C&wait_ms=W
// Answers at once when the node's assignments changed after `cursor`, otherwise
// when they change or after wait_ms with the same cursor.
struct AssignmentEntry {
  std::string rollout_id;
  ModelRef model;
  std::string state;  // rollout state
};
struct Assignments {
  uint64_t cursor = 0;
  std::vector<AssignmentEntry> rollouts;
};
nlohmann::json toJson(const Assignments& a);
Result<Assignments> assignmentsFromJson(const nlohmann::json& j);

// GET /v1/rollouts/{id}/peers?node=N&hash_cursor=C
struct PeerEntry {
  std::string name;
  std::string addr;  // "host:port"
  std::string zone;
};
struct PieceHash {
  uint32_t piece = 0;
  std::string sha256;
};
struct PeersReply {
  std::string rollout_state;
  std::vector<PeerEntry> peers;     // up to K peers of the node's region, same zone first
  std::vector<uint32_t> stripe;     // pieces this node must pull from the origin
  uint32_t source_index = 0;        // which replica this node's region pulls from
  std::vector<PieceHash> hashes;    // accepted hashes after hash_cursor
  uint64_t hash_cursor = 0;         // pass back to get only newer hashes
  // This node's share of its region's origin request budget; 0 = no budget (the
  // agent uses its own --origin-concurrency). Lenient: older controllers omit it.
  uint32_t origin_concurrency = 0;
  // The node's rank among the live nodes of its zone (by name) and the zone's
  // size, for the zone import rule (agent/zone_import_policy.h). zone_size 0: the
  // region has one zone, or an older controller; no rule.
  uint32_t zone_rank = 0;
  uint32_t zone_size = 0;
  // How often the controller wants this agent to poll and report (ms), so that
  // large rollouts stay within its request budget; 0 = the agent's own intervals.
  // Early polls for a needed hash come at most every poll_interval_ms / 4.
  uint32_t poll_interval_ms = 0;
};
nlohmann::json toJson(const PeersReply& r);
Result<PeersReply> peersReplyFromJson(const nlohmann::json& j);

// POST /v1/rollouts/{id}/pieces
struct BadPeerReport {
  std::string peer;  // node name
  uint32_t piece = 0;
  std::string detail;
};
struct PieceReport {
  std::string node;
  std::string incarnation;
  std::vector<PieceHash> hashes;  // hashes of pieces this node pulled from the origin
  std::vector<BadPeerReport> bad_peers;
  // Progress of this node in the rollout.
  std::string state;  // pending | fetching | ready | failed
  uint32_t pieces_done = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_from_origin = 0;
  uint64_t bytes_from_peers = 0;
  std::string reason;
  std::string message;
};
nlohmann::json toJson(const PieceReport& r);
Result<PieceReport> pieceReportFromJson(const nlohmann::json& j);

struct PieceReportReply {
  std::string rollout_state;
  std::vector<uint32_t> conflicting;  // reported hashes that contradict accepted ones
};
nlohmann::json toJson(const PieceReportReply& r);
Result<PieceReportReply> pieceReportReplyFromJson(const nlohmann::json& j);

}  // namespace shardcast::api
