// Client of the controller's public rollout API, used by the `shardcast` CLI.
//
// Owns one HttpClient (no proxies: controller traffic never goes through one);
// not thread-safe. Every call maps a non-2xx answer to the Status carried by the
// controller's JSON error body, so callers print one clear line.
//
// The base URL may list the replicas of an HA controller, comma-separated: a call
// that reaches a follower (503 not_leader) is repeated at the leader it names
// (X-Shardcast-Leader), and an unreachable replica or one that knows no leader
// yet makes the call try the next address, each at most once per call.
#pragma once

#include <string>
#include <vector>

#include "common/api/rollout.h"
#include "common/http_client.h"
#include "common/status.h"

namespace shardcast::cli {

class RolloutClient {
 public:
  // base_url like "http://127.0.0.1:7400" (or several, comma-separated); token
  // may be empty.
  RolloutClient(std::string base_url, std::string token);

  Result<api::RolloutStatus> create(const api::RolloutRequest& request);
  Result<api::RolloutStatus> get(const std::string& id);
  Result<std::vector<api::RolloutStatus>> list();
  Result<api::RolloutStatus> cancel(const std::string& id);

  // The controller calls go to now.
  const std::string& baseUrl() const { return base_url_; }

 private:
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::string& body);

  // Moves base_url_ on after `why`; false when every address was tried.
  bool moveOn(const std::string& leader_hint);

  std::vector<std::string> urls_;  // the configured addresses
  size_t index_ = 0;               // the list address used last
  std::string base_url_;           // followed now: urls_[index_] or a leader named by a follower
  HttpClient http_;
};

}  // namespace shardcast::cli
