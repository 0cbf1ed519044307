// The Router gate of an HA controller replica (DESIGN §5, §7): while the replica
// is not serving as the leader, every /v1/ request is answered here with
//   503 {"error": {"code": "not_leader", "message": ..., "leader": "<url or empty>"}}
// and the header X-Shardcast-Leader: <url> when the leader is known, so clients
// (agents, the CLI) switch to the leader. Health checks, metrics and other
// public routes are not gated.
//
// Pure apart from the two functions it is given, which must be thread-safe.
#pragma once

#include <functional>
#include <string>

#include "controller/api_types.h"
#include "controller/router.h"

namespace shardcast::controller {

inline constexpr char kLeaderHeader[] = "X-Shardcast-Leader";

// The follower's answer, pointing at `leader_url` ("" when no leader is known).
ApiResponse notLeaderResponse(const std::string& leader_url);

// A gate that lets requests through while `serving()` is true.
Gate makeLeaderGate(std::function<bool()> serving, std::function<std::string()> leader_url);

}  // namespace shardcast::controller
