// The Router gate of an HA controller replica (DESIGN §5, §7): while the replica
// is not serving as the leader, every /v1/ request but the reads a follower
// answers itself (followerMayAnswer: GET /v1/rollouts, /v1/rollouts/{id},
// /v1/manifests/..., from FollowerReads) is answered here with
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

// GET /v1/rollouts, GET /v1/rollouts/{id} and GET /v1/manifests/...: the reads
// of the public API. The agent protocol (assignments, peers) is not among them.
bool followerMayAnswer(const ApiRequest& request);

// A gate that lets requests through while `serving()` is true, and follower
// reads always.
Gate makeLeaderGate(std::function<bool()> serving, std::function<std::string()> leader_url);

}  // namespace shardcast::controller
