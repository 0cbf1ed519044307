#include "controller/handlers.h"

#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"
#include "common/api/node.h"
#include "common/api/rollout.h"
#include "controller/leader_gate.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

// An optional unsigned query parameter; `fallback` when absent.
Result<uint64_t> queryU64(const ApiRequest& req, const std::string& key, uint64_t fallback) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  if (v.size() > 20 || v.find_first_not_of("0123456789") != std::string::npos) {
    return invalidArgument("query parameter '" + key + "' must be a non-negative integer");
  }
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), nullptr, 10);
  if (errno == ERANGE) return invalidArgument("query parameter '" + key + "' is too large");
  return static_cast<uint64_t>(n);
}

Result<json> bodyJson(const ApiRequest& req) {
  if (req.body.empty()) return invalidArgument("request body must be a JSON object");
  return api::parseJson(req.body);
}

template <typename T>
ApiResponse resultResponse(const Result<T>& result, int ok_status = 200) {
  return result.isOk() ? jsonResponse(ok_status, api::toJson(result.value())) : errorResponse(result.status());
}

template <typename T>
void answer(const Responder& respond, const Result<T>& result, int ok_status = 200) {
  respond(resultResponse(result, ok_status));
}

inline constexpr char kFollowerRevisionHeader[] = "X-Shardcast-Follower-Revision";

// Answers a read from the source `reads` picks for this request.
template <typename F>
void answerRead(const ReadSourceFn& reads, const Responder& respond, F&& read) {
  auto source = reads();
  if (!source.isOk()) return respond(errorResponse(source.status()));
  ApiResponse r = read(*source->reader);
  if (source->follower_revision >= 0) {
    if (r.status == 404) r = notLeaderResponse(source->leader_url);
    r.headers.emplace_back(kFollowerRevisionHeader, std::to_string(source->follower_revision));
  }
  respond(std::move(r));
}

void routeReads(Router& router, const ReadSourceFn& reads) {
  router.add("GET", "/v1/rollouts", [reads](const RequestContext&, Responder respond) {
    answerRead(reads, respond, [](const RolloutReader& r) {
      json list = json::array();
      for (const auto& s : r.listRollouts()) list.push_back(api::toJson(s));
      return jsonResponse(200, json{{"rollouts", std::move(list)}});
    });
  });
  router.add("GET", "/v1/rollouts/{id}", [reads](const RequestContext& ctx, Responder respond) {
    answerRead(reads, respond,
               [&](const RolloutReader& r) { return resultResponse(r.getRollout(ctx.param("id"))); });
  });
  router.add("GET", "/v1/manifests/{model}/{version}",
             [reads](const RequestContext& ctx, Responder respond) {
               auto ref = parseModelRef(ctx.param("model") + ":" + ctx.param("version"));
               if (!ref.isOk()) return respond(errorResponse(ref.status()));
               answerRead(reads, respond, [&](const RolloutReader& r) {
                 auto m = r.manifest(*ref);
                 return m.isOk() ? jsonResponse(200, m->toJson()) : errorResponse(m.status());
               });
             });
}

void routeRollouts(Router& router, RolloutService& service) {
  router.add("POST", "/v1/rollouts", [&service](const RequestContext& ctx, Responder respond) {
    auto body = bodyJson(ctx.request);
    if (!body.isOk()) return respond(errorResponse(body.status()));
    auto request = api::rolloutRequestFromJson(*body);
    if (!request.isOk()) return respond(errorResponse(request.status()));
    answer(respond, service.createRollout(*request), 201);
  });
  router.add("POST", "/v1/rollouts/{id}:cancel",
             [&service](const RequestContext& ctx, Responder respond) {
               answer(respond, service.cancelRollout(ctx.param("id")));
             });
}

void routeAgents(Router& router, RolloutService& service) {
  router.add("PUT", "/v1/nodes/{node}", [&service](const RequestContext& ctx, Responder respond) {
    auto body = bodyJson(ctx.request);
    if (!body.isOk()) return respond(errorResponse(body.status()));
    if (body->is_object() && !body->contains("name")) (*body)["name"] = ctx.param("node");
    auto info = api::nodeInfoFromJson(*body);
    if (!info.isOk()) return respond(errorResponse(info.status()));
    if (info->name != ctx.param("node")) {
      return respond(errorResponse(invalidArgument("node name in the body ('" + info->name.substr(0, 64) +
                                                   "') differs from the path")));
    }
    answer(respond, service.heartbeat(*info));
  });
  router.add("GET", "/v1/nodes/{node}/assignments",
             [&service](const RequestContext& ctx, Responder respond) {
               auto cursor = queryU64(ctx.request, "cursor", 0);
               if (!cursor.isOk()) return respond(errorResponse(cursor.status()));
               auto wait = queryU64(ctx.request, "wait_ms", 0);
               if (!wait.isOk()) return respond(errorResponse(wait.status()));
               int64_t wait_ms = static_cast<int64_t>(std::min<uint64_t>(*wait, INT32_MAX));
               service.watchAssignments(ctx.param("node"), *cursor, wait_ms,
                                        [respond](Result<api::Assignments> r) { answer(respond, r); });
             });
  router.add("POST", "/v1/nodes/{node}/pulls",
             [&service](const RequestContext& ctx, Responder respond) {
               auto body = bodyJson(ctx.request);
               if (!body.isOk()) return respond(errorResponse(body.status()));
               std::string model;
               if (!body->is_object()) {
                 return respond(errorResponse(invalidArgument("request body must be a JSON object")));
               }
               Status s = api::readString(*body, "model", model, true);
               if (!s.isOk()) return respond(errorResponse(s));
               auto ref = parseModelRef(model);
               if (!ref.isOk()) return respond(errorResponse(ref.status()));
               answer(respond, service.requestPull(ctx.param("node"), *ref));
             });
  router.add("GET", "/v1/rollouts/{id}/peers", [&service](const RequestContext& ctx, Responder respond) {
    auto node = ctx.request.query.find("node");
    if (node == ctx.request.query.end() || node->second.empty()) {
      return respond(errorResponse(invalidArgument("query parameter 'node' is required")));
    }
    auto cursor = queryU64(ctx.request, "hash_cursor", 0);
    if (!cursor.isOk()) return respond(errorResponse(cursor.status()));
    answer(respond, service.peers(ctx.param("id"), node->second, *cursor));
  });
  router.add("POST", "/v1/rollouts/{id}/pieces",
             [&service](const RequestContext& ctx, Responder respond) {
               auto body = bodyJson(ctx.request);
               if (!body.isOk()) return respond(errorResponse(body.status()));
               auto report = api::pieceReportFromJson(*body);
               if (!report.isOk()) return respond(errorResponse(report.status()));
               answer(respond, service.reportPieces(ctx.param("id"), *report));
             });
}

}  // namespace

void registerRoutes(Router& router, RolloutService& service, std::function<std::string()> role,
                    ReadSourceFn reads) {
  if (!reads) {
    // Alone: the service answers every read.
    reads = [&service]() -> Result<ReadSource> { return leaderReads(service); };
  }
  router.add(
      "GET", "/healthz",
      [role](const RequestContext&, Responder respond) {
        respond(jsonResponse(200, json{{"ok", true}, {"role", role ? role() : "leader"}}));
      },
      /*is_public=*/true);
  routeReads(router, reads);
  routeRollouts(router, service);
  routeAgents(router, service);
}

void registerMetrics(Router& router, ControllerMetrics& metrics, const RolloutService& service,
                     std::function<bool()> leader) {
  router.setObserver([&metrics](const std::string& method, const std::string& route, int status) {
    metrics.onResponse(method, route, status);
  });
  router.add(
      "GET", "/metrics",
      [&metrics, &service, leader](const RequestContext&, Responder respond) {
        ApiResponse r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = metrics.render(service.stats(), leader());
        respond(std::move(r));
      },
      /*is_public=*/true);
}

}  // namespace shardcast::controller
