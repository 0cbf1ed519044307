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
// Following the leader (DESIGN §7): base_url may list several controller
// replicas, comma-separated. Calls go to the one followed now. A follower answers
// 503 not_leader naming the leader (X-Shardcast-Leader, or "leader" in the body):
// the client follows that URL at once and repeats the call. When the followed
// controller cannot be reached (refused, reset) or no leader is known, the call
// moves on to the next address of the list. An address that could not be
// reached is held down for 2 s: it is skipped in the list, and a follower naming
// it as the leader (which followers do until the dead leader's lease expires) is
// not believed meanwhile. A call sends to each address at most once; when all
// fail, it fails and the caller's loop backs off. A request that timed out is not
// repeated (it may have been applied), but the next call starts at the next
// address. Each switch is logged ("following controller ...").
//
// Thread-safe: each call borrows its own HttpClient from a pool; the followed
// address is guarded by a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/http_client.h"
#include "common/manifest.h"
#include "common/status.h"

namespace shardcast::agent {

struct ControllerClientOptions {
  // One URL, or several comma-separated (the replicas of an HA controller).
  std::string base_url = "http://127.0.0.1:7400";
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

  // The controller calls go to now.
  std::string currentUrl() const;

 private:
  // Sends and parses a JSON response body; non-2xx becomes the error body's Status.
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::string& body, long timeout_ms);

  // One attempt of `call` against `base`.
  Result<HttpResponse> send(const std::string& base, const std::string& method,
                            const std::string& path, const std::string& body, long timeout_ms);
  // Follows `url` (a leader named by a follower) if `from` is still followed.
  void follow(const std::string& from, const std::string& url, const std::string& why);
  // Moves from `from` to the next address of the list, if `from` is still
  // followed; `unreachable` holds `from` down for a moment: a follower that still
  // names it as the leader (until its lease expires) is not believed meanwhile.
  void moveOn(const std::string& from, const std::string& why, bool unreachable = false);
  bool heldDown(const std::string& url) const;  // mu_ held

  static constexpr int64_t kHoldDownMs = 2000;

  const ControllerClientOptions options_;
  std::vector<std::string> urls_;  // the list, trailing slashes removed
  HttpClientPool pool_;
  mutable std::mutex mu_;
  std::string current_;  // guarded by mu_
  size_t index_ = 0;     // guarded by mu_: position in urls_ of the last list address used
  // Addresses that could not be reached, until when they are not followed.
  std::map<std::string, std::chrono::steady_clock::time_point> unreachable_until_;  // guarded by mu_
};

// Splits and checks a --controller value: one or more http(s):// URLs separated
// by commas (trailing slashes removed). InvalidArgument with one line otherwise.
Result<std::vector<std::string>> parseControllerUrls(const std::string& text);

}  // namespace shardcast::agent
