#include "agent/controller_client.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "common/api/error.h"
#include "common/api/json_fields.h"
#include "common/log.h"

namespace shardcast::agent {
namespace {

HttpClientOptions clientOptions(const ControllerClientOptions& o) {
  HttpClientOptions h;
  h.user_agent = o.user_agent;
  h.use_proxy_env = false;  // controller traffic never goes through a proxy
  h.bearer_token = o.token;
  return h;
}

std::string dumpJson(const nlohmann::json& j) {
  // Replace invalid UTF-8 instead of throwing: messages may quote arbitrary bytes.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool isHttpUrl(const std::string& u) {
  return (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) && u.size() <= 512 &&
         u.find_first_of(" \t\r\n,") == std::string::npos && u.find("://") + 3 < u.size();
}

std::string trimUrl(std::string u) {
  size_t b = u.find_first_not_of(" \t");
  size_t e = u.find_last_not_of(" \t");
  u = b == std::string::npos ? "" : u.substr(b, e - b + 1);
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

// The leader a follower's 503 not_leader names: the header, else the body's
// "leader"; "" when the answer is not a not_leader or names none.
std::string leaderFromNotLeader(const HttpResponse& resp, bool* not_leader) {
  *not_leader = false;
  if (resp.status != 503) return "";
  auto parsed = api::parseJson(resp.body);
  if (!parsed.isOk() || !parsed->is_object()) return "";
  const auto& err = (*parsed)["error"];
  if (!err.is_object() || err.value("code", std::string()) != "not_leader") return "";
  *not_leader = true;
  std::string leader = trimUrl(resp.header("X-Shardcast-Leader"));
  if (leader.empty() && err.contains("leader") && err["leader"].is_string()) {
    leader = trimUrl(err["leader"].get<std::string>());
  }
  return isHttpUrl(leader) ? leader : "";
}

}  // namespace

Result<std::vector<std::string>> parseControllerUrls(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = trimUrl(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (!item.empty()) {
      if (item.find('@') != std::string::npos) {  // not quoted: it would hold a password
        return invalidArgument("--controller URLs must not carry credentials (user@); use --controller-token-file");
      }
      if (!isHttpUrl(item)) {
        return invalidArgument("--controller must be http:// or https:// URLs separated by commas, got '" +
                               item.substr(0, 100) + "'");
      }
      out.push_back(item);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) return invalidArgument("--controller needs at least one http:// or https:// URL");
  return out;
}

ControllerClient::ControllerClient(ControllerClientOptions options)
    : options_(std::move(options)), pool_(clientOptions(options_)) {
  auto urls = parseControllerUrls(options_.base_url);
  if (urls.isOk()) {
    urls_ = std::move(urls).value();
  } else {
    urls_ = {trimUrl(options_.base_url)};  // validated by the caller; kept as given
  }
  current_ = urls_.front();
}

std::string ControllerClient::currentUrl() const {
  std::lock_guard<std::mutex> l(mu_);
  return current_;
}

void ControllerClient::follow(const std::string& from, const std::string& url, const std::string& why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (current_ != from) return;  // another call moved already
    current_ = url;
    auto it = std::find(urls_.begin(), urls_.end(), url);
    if (it != urls_.end()) index_ = static_cast<size_t>(it - urls_.begin());
  }
  LOG_INFO("following controller " << url << " (" << why << ")");
}

bool ControllerClient::heldDown(const std::string& url) const {
  auto it = unreachable_until_.find(url);
  return it != unreachable_until_.end() &&
         std::chrono::steady_clock::now() < it->second;
}

void ControllerClient::moveOn(const std::string& from, const std::string& why, bool unreachable) {
  std::string next;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (unreachable) {
      unreachable_until_[from] = std::chrono::steady_clock::now() + std::chrono::milliseconds(kHoldDownMs);
    }
    if (current_ != from) return;
    // From a list address to the next one that was not unreachable just now
    // (staying put when all were); from a leader named by a follower back to the
    // list, after the address used last.
    size_t start = current_ == urls_[index_] ? index_ + 1 : index_;
    size_t pick = start % urls_.size();
    for (size_t i = 0; i < urls_.size(); ++i) {
      size_t candidate = (start + i) % urls_.size();
      if (!heldDown(urls_[candidate])) {
        pick = candidate;
        break;
      }
    }
    index_ = pick;
    next = current_ = urls_[index_];
  }
  if (next != from) LOG_INFO("following controller " << next << " (" << from << " " << why << ")");
}

Result<HttpResponse> ControllerClient::send(const std::string& base, const std::string& method,
                                            const std::string& path, const std::string& body,
                                            long timeout_ms) {
  auto client = pool_.acquire();
  return client->sendJson(method, base + path, body, timeout_ms);
}

Result<nlohmann::json> ControllerClient::call(const std::string& method, const std::string& path,
                                              const std::string& body, long timeout_ms) {
  Status last = unavailable("no controller answered");
  // Each address (from the list, or a leader named by a follower) at most once.
  std::set<std::string> tried;
  for (;;) {
    std::string base = currentUrl();
    if (!tried.insert(base).second || tried.size() > urls_.size() + 4) return last;
    auto resp = send(base, method, path, body, timeout_ms);
    if (!resp.isOk()) {
      last = resp.status();
      bool alone = urls_.size() == 1 && base == urls_[0];
      if (!alone) moveOn(base, "is unreachable: " + resp.status().message().substr(0, 200), true);
      // A timed-out request may have been applied: not repeated here.
      if (alone || resp.status().code() == StatusCode::kDeadlineExceeded) return last;
      continue;
    }
    bool not_leader = false;
    std::string leader = leaderFromNotLeader(*resp, &not_leader);
    if (not_leader) {
      bool leader_down;
      {
        std::lock_guard<std::mutex> l(mu_);
        leader_down = !leader.empty() && heldDown(leader);
      }
      std::string why = leader.empty() ? " and no leader is elected yet"
                        : leader_down  ? "; the leader it names (" + leader +
                                            ") is unreachable: a new one is not elected yet"
                                       : "; the leader is " + leader;
      last = unavailable("controller " + base + " is not the leader" + why, "not_leader")
                 .withContext(method + " " + path);
      if (!leader.empty() && leader != base && !leader_down) {
        follow(base, leader, base + " is a follower");
      } else if (urls_.size() > 1 || base != urls_[0]) {
        moveOn(base, "knows no leader");
      } else {
        return last;
      }
      continue;
    }
    if (resp->status < 200 || resp->status >= 300) {
      return api::statusFromErrorBody(static_cast<int>(resp->status), resp->body)
          .withContext(method + " " + path);
    }
    auto parsed = api::parseJson(resp->body);
    if (!parsed.isOk()) return parsed.status().withContext(method + " " + path);
    return parsed;
  }
}

Result<api::HeartbeatReply> ControllerClient::heartbeat(const api::NodeInfo& node) {
  ASSIGN_OR_RETURN(nlohmann::json j, call("PUT", "/v1/nodes/" + urlEncode(node.name),
                                          dumpJson(api::toJson(node)), options_.timeout_ms));
  return api::heartbeatReplyFromJson(j);
}

Result<api::Assignments> ControllerClient::assignments(const std::string& node, uint64_t cursor,
                                                       uint32_t wait_ms) {
  std::string path = "/v1/nodes/" + urlEncode(node) + "/assignments?cursor=" +
                     std::to_string(cursor) + "&wait_ms=" + std::to_string(wait_ms);
  ASSIGN_OR_RETURN(nlohmann::json j, call("GET", path, "", wait_ms + options_.timeout_ms));
  return api::assignmentsFromJson(j);
}

Result<api::RolloutStatus> ControllerClient::rollout(const std::string& id) {
  ASSIGN_OR_RETURN(nlohmann::json j, call("GET", "/v1/rollouts/" + urlEncode(id), "",
                                          options_.timeout_ms));
  return api::rolloutStatusFromJson(j);
}

Result<Manifest> ControllerClient::manifest(const ModelRef& ref) {
  ASSIGN_OR_RETURN(nlohmann::json j,
                   call("GET", "/v1/manifests/" + urlEncode(ref.name) + "/" + urlEncode(ref.version),
                        "", options_.timeout_ms * 3));
  return Manifest::fromJson(j);
}

Result<api::PeersReply> ControllerClient::peers(const std::string& rollout_id,
                                                const std::string& node, uint64_t hash_cursor) {
  std::string path = "/v1/rollouts/" + urlEncode(rollout_id) + "/peers?node=" + urlEncode(node) +
                     "&hash_cursor=" + std::to_string(hash_cursor);
  ASSIGN_OR_RETURN(nlohmann::json j, call("GET", path, "", options_.timeout_ms));
  return api::peersReplyFromJson(j);
}

Result<api::PieceReportReply> ControllerClient::reportPieces(const std::string& rollout_id,
                                                             const api::PieceReport& report) {
  ASSIGN_OR_RETURN(nlohmann::json j, call("POST", "/v1/rollouts/" + urlEncode(rollout_id) + "/pieces",
                                          dumpJson(api::toJson(report)), options_.timeout_ms));
  return api::pieceReportReplyFromJson(j);
}

Result<std::string> ControllerClient::requestPull(const std::string& node, const ModelRef& model) {
  nlohmann::json body = {{"model", model.toString()}};
  ASSIGN_OR_RETURN(nlohmann::json j, call("POST", "/v1/nodes/" + urlEncode(node) + "/pulls",
                                          body.dump(), options_.timeout_ms));
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
    return unavailable("the controller's pull reply has no rollout id");
  }
  return j["id"].get<std::string>();
}

}  // namespace shardcast::agent
