#include "cli/rollout_client.h"

#include <set>

#include <nlohmann/json.hpp>

#include "common/api/error.h"
#include "common/api/json_fields.h"

namespace shardcast::cli {

namespace {

std::string trimSlashes(std::string u) {
  while (!u.empty() && (u.back() == '/' || u.back() == ' ')) u.pop_back();
  while (!u.empty() && u.front() == ' ') u.erase(u.begin());
  return u;
}

// The leader a follower names in its 503 not_leader ("" if none); sets
// *not_leader when the answer is one.
std::string notLeaderHint(const HttpResponse& resp, bool* not_leader) {
  *not_leader = false;
  if (resp.status != 503) return "";
  auto j = api::parseJson(resp.body);
  if (!j.isOk() || !j->is_object() || !(*j)["error"].is_object()) return "";
  const auto& err = (*j)["error"];
  if (err.value("code", std::string()) != "not_leader") return "";
  *not_leader = true;
  std::string leader = trimSlashes(resp.header("X-Shardcast-Leader"));
  if (leader.empty() && err.contains("leader") && err["leader"].is_string()) {
    leader = trimSlashes(err["leader"].get<std::string>());
  }
  bool http = leader.rfind("http://", 0) == 0 || leader.rfind("https://", 0) == 0;
  return http && leader.find_first_of(" \t\r\n,") == std::string::npos ? leader : "";
}

}  // namespace

RolloutClient::RolloutClient(std::string base_url, std::string token)
    : http_(HttpClientOptions{
          .user_agent = "shardcast-cli/" SHARDCAST_VERSION,
          .use_proxy_env = false,
          .ca_bundle = "",
          .unix_socket_path = "",
          .bearer_token = std::move(token)}) {
  size_t pos = 0;
  while (pos <= base_url.size()) {
    size_t comma = base_url.find(',', pos);
    std::string u = trimSlashes(base_url.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (!u.empty()) urls_.push_back(u);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (urls_.empty()) urls_.push_back(trimSlashes(base_url));
  base_url_ = urls_.front();
}

bool RolloutClient::moveOn(const std::string& leader_hint) {
  if (!leader_hint.empty() && leader_hint != base_url_) {
    base_url_ = leader_hint;
    return true;
  }
  if (urls_.size() == 1 && base_url_ == urls_[0]) return false;
  if (base_url_ == urls_[index_]) index_ = (index_ + 1) % urls_.size();
  base_url_ = urls_[index_];
  return true;
}

Result<nlohmann::json> RolloutClient::call(const std::string& method, const std::string& path,
                                           const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.timeout_ms = 120000;  // creating a rollout lists every source replica
  if (!body.empty() || method == "POST") {
    req.body = body;
    req.headers.push_back({"Content-Type", "application/json"});
  }
  Result<HttpResponse> resp = unavailable("no controller address");
  std::set<std::string> tried;  // each address at most once per call
  std::string sent_to;
  for (;;) {
    tried.insert(base_url_);
    sent_to = base_url_;
    req.url = base_url_ + path;
    resp = http_.send(req);
    bool not_leader = false;
    std::string hint;
    if (resp.isOk()) hint = notLeaderHint(*resp, &not_leader);
    bool retry = !resp.isOk() ? resp.status().code() == StatusCode::kUnavailable : not_leader;
    if (!retry || tried.size() > urls_.size() + 4 || !moveOn(hint) || tried.count(base_url_)) break;
  }
  if (!resp.isOk()) {
    return unavailable("cannot reach the controller at " + sent_to + " (" +
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
