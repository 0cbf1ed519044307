// Client of the controller's public rollout API, used by the `shardcast` CLI.
//
// Owns one HttpClient (no proxies: controller traffic never goes through one);
// not thread-safe. Every call maps a non-2xx answer to the Status carried by the
// controller's JSON error body, so callers print one clear line.
#pragma once

#include <string>
#include <vector>

#include "common/api/rollout.h"
#include "common/http_client.h"
#include "common/status.h"

namespace shardcast::cli {

class RolloutClient {
 public:
  // base_url like "http://127.0.0.1:7400"; token may be empty.
  RolloutClient(std::string base_url, std::string token);

  Result<api::RolloutStatus> create(const api::RolloutRequest& request);
  Result<api::RolloutStatus> get(const std::string& id);
  Result<std::vector<api::RolloutStatus>> list();
  Result<api::RolloutStatus> cancel(const std::string& id);

  const std::string& baseUrl() const { return base_url_; }

 private:
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::string& body);

  std::string base_url_;
  HttpClient http_;
};

}  // namespace shardcast::cli
