#include "agent/controller_client.h"

#include <nlohmann/json.hpp>

#include "common/api/error.h"
#include "common/api/json_fields.h"

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

}  // namespace

ControllerClient::ControllerClient(ControllerClientOptions options)
    : options_(std::move(options)), base_(options_.base_url), pool_(clientOptions(options_)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Result<nlohmann::json> ControllerClient::call(const std::string& method, const std::string& path,
                                              const std::string& body, long timeout_ms) {
  auto client = pool_.acquire();
  ASSIGN_OR_RETURN(HttpResponse resp, client->sendJson(method, base_ + path, body, timeout_ms));
  if (resp.status < 200 || resp.status >= 300) {
    return api::statusFromErrorBody(static_cast<int>(resp.status), resp.body)
        .withContext(method + " " + path);
  }
  auto parsed = api::parseJson(resp.body);
  if (!parsed.isOk()) return parsed.status().withContext(method + " " + path);
  return parsed;
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
