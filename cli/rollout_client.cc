#include "cli/rollout_client.h"

#include <nlohmann/json.hpp>

#include "common/api/error.h"
#include "common/api/json_fields.h"

namespace shardcast::cli {

RolloutClient::RolloutClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), http_(HttpClientOptions{
          .user_agent = "shardcast-cli/" SHARDCAST_VERSION,
          .use_proxy_env = false,
          .ca_bundle = "",
          .unix_socket_path = "",
          .bearer_token = std::move(token)}) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<nlohmann::json> RolloutClient::call(const std::string& method, const std::string& path,
                                           const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.url = base_url_ + path;
  req.timeout_ms = 120000;  // creating a rollout lists every source replica
  if (!body.empty() || method == "POST") {
    req.body = body;
    req.headers.push_back({"Content-Type", "application/json"});
  }
  auto resp = http_.send(req);
  if (!resp.isOk()) {
    return unavailable("cannot reach the controller at " + base_url_ + " (" +
                       resp.status().message() +
                       "); check --controller or SHARDCAST_CONTROLLER");
  }
  if (resp->status < 200 || resp->status >= 300) {
    return api::statusFromErrorBody(static_cast<int>(resp->status), resp->body);
  }
  auto j = api::parseJson(resp->body);
  if (!j.isOk()) return internalError("the controller answered with malformed JSON");
  return j;
}

Result<api::RolloutStatus> RolloutClient::create(const api::RolloutRequest& request) {
  ASSIGN_OR_RETURN(auto j, call("POST", "/v1/rollouts", api::toJson(request).dump()));
  return api::rolloutStatusFromJson(j);
}

Result<api::RolloutStatus> RolloutClient::get(const std::string& id) {
  ASSIGN_OR_RETURN(auto j, call("GET", "/v1/rollouts/" + urlEncode(id), ""));
  return api::rolloutStatusFromJson(j);
}

Result<std::vector<api::RolloutStatus>> RolloutClient::list() {
  ASSIGN_OR_RETURN(auto j, call("GET", "/v1/rollouts", ""));
  if (!j.is_object() || !j.contains("rollouts") || !j["rollouts"].is_array()) {
    return internalError("the controller's rollout list has no 'rollouts' array");
  }
  std::vector<api::RolloutStatus> out;
  for (const auto& e : j["rollouts"]) {
    ASSIGN_OR_RETURN(auto s, api::rolloutStatusFromJson(e));
    out.push_back(std::move(s));
  }
  return out;
}

Result<api::RolloutStatus> RolloutClient::cancel(const std::string& id) {
  ASSIGN_OR_RETURN(auto j, call("POST", "/v1/rollouts/" + urlEncode(id) + ":cancel", ""));
  return api::rolloutStatusFromJson(j);
}

}  // namespace shardcast::cli
