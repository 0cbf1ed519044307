// ControllerClient: the agent's side of the agent <-> controller protocol
// (DESIGN §5; wire types in common/api/node.h and rollout.h): register and
// heartbeat, the assignment long-poll, rollouts, manifests, peers with accepted
// hashes, and batched piece reports.
//
// Every call returns a Result and never throws; a transport failure is
// Unavailable/DeadlineExceeded, an HTTP error becomes the Status of its JSON error
// body. Retrying with backoff is the caller's loop (see Backoff). Controller
// traffic never uses a proxy.
//
// Thread-safe: each call borrows its own HttpClient from a pool.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/http_client.h"
#include "common/manifest.h"
#include "common/status.h"

namespace shardcast::agent {

struct ControllerClientOptions {
  std::string base_url = "http://127.0.0.1:7400";  // no trailing slash needed
  std::string token;                               // bearer token ("" = none)
  std::string user_agent = "shardcast-agent/" SHARDCAST_VERSION;
  long timeout_ms = 10000;
};

class ControllerClient {
 public:
  explicit ControllerClient(ControllerClientOptions options);

  Result<api::HeartbeatReply> heartbeat(const api::NodeInfo& node);
  // Long-poll; the request timeout is wait_ms plus a margin.
  Result<api::Assignments> assignments(const std::string& node, uint64_t cursor, uint32_t wait_ms);
  Result<api::RolloutStatus> rollout(const std::string& id);
  Result<Manifest> manifest(const ModelRef& ref);
  Result<api::PeersReply> peers(const std::string& rollout_id, const std::string& node,
                                uint64_t hash_cursor);
  Result<api::PieceReportReply> reportPieces(const std::string& rollout_id,
                                             const api::PieceReport& report);
  // On-demand pull: asks the controller to add this node to the model's newest
  // rollout; returns that rollout's id. NotFound "unknown_model" when the model
  // was never deployed.
  Result<std::string> requestPull(const std::string& node, const ModelRef& model);

 private:
  // Sends and parses a JSON response body; non-2xx becomes the error body's Status.
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::string& body, long timeout_ms);

  const ControllerClientOptions options_;
  std::string base_;
  HttpClientPool pool_;
};

}  // namespace shardcast::agent
