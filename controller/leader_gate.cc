#include "controller/leader_gate.h"

#include <nlohmann/json.hpp>

namespace shardcast::controller {

ApiResponse notLeaderResponse(const std::string& leader_url) {
  std::string message = leader_url.empty()
                            ? "this controller replica is not the leader and no leader is "
                              "elected yet; retry shortly"
                            : "this controller replica is not the leader; send requests to " +
                                  leader_url;
  nlohmann::json body = {
      {"error", {{"code", "not_leader"}, {"message", message}, {"leader", leader_url}}}};
  ApiResponse r = jsonResponse(503, body);
  if (!leader_url.empty()) r.headers.emplace_back(kLeaderHeader, leader_url);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool followerMayAnswer(const ApiRequest& request) {
  if (request.method != "GET") return false;
  const std::string& p = request.path;
  if (p == "/v1/rollouts") return true;
  if (p.rfind("/v1/manifests/", 0) == 0) return true;
  const std::string prefix = "/v1/rollouts/";
  if (p.rfind(prefix, 0) != 0) return false;
  const std::string id = p.substr(prefix.size());
  return !id.empty() && id.find('/') == std::string::npos;
}

Gate makeLeaderGate(std::function<bool()> serving, std::function<std::string()> leader_url) {
  return [serving = std::move(serving),
          leader_url = std::move(leader_url)](const ApiRequest& request) -> std::optional<ApiResponse> {
    if (request.path.rfind("/v1/", 0) != 0 || serving() || followerMayAnswer(request)) {
      return std::nullopt;
    }
    return notLeaderResponse(leader_url());
  };
}

}  // namespace shardcast::controller
