// The follower gate in the Router: every authenticated /v1/ request of a replica
// that is not serving as the leader gets 503 not_leader naming the leader, except
// the reads a follower answers itself; public routes (health checks) and
// unauthenticated requests are not gated.
#include "controller/leader_gate.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>

#include "controller/authenticator.h"
#include "controller/router.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

ApiResponse route(const Router& router, const std::string& path, const std::string& token = "") {
  ApiRequest r;
  r.method = "GET";
  r.path = path;
  if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
  int calls = 0;
  ApiResponse out;
  router.handle(r, [&](ApiResponse a) {
    ++calls;
    out = std::move(a);
  });
  REQUIRE(calls == 1);
  return out;
}

std::string headerOf(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

struct GatedRouter {
  explicit GatedRouter(const Authenticator& auth) : router(auth) {
    auto ok = [](const RequestContext&, Responder respond) { respond(jsonResponse(200, json{{"ok", true}})); };
    router.add("GET", "/v1/rollouts", ok);
    router.add("GET", "/v1/rollouts/{id}/peers", ok);
    router.add("GET", "/healthz", ok, /*is_public=*/true);
    router.setGate(makeLeaderGate([this] { return serving.load(); },
                                  [this] {
                                    std::lock_guard<std::mutex> l(mu);
                                    return leader;
                                  }));
  }
  void setLeader(const std::string& url) {
    std::lock_guard<std::mutex> l(mu);
    leader = url;
  }
  Router router;
  std::atomic<bool> serving{false};
  std::mutex mu;
  std::string leader;  // guarded by mu
};

TEST_CASE("leader gate: a follower answers 503 not_leader with the leader's URL") {
  AllowAllAuthenticator auth;
  GatedRouter g(auth);
  g.setLeader("http://10.0.0.7:7400");

  ApiResponse r = route(g.router, "/v1/rollouts/ro-1/peers");
  CHECK(r.status == 503);
  json body = json::parse(r.body);
  CHECK(body["error"]["code"] == "not_leader");
  CHECK(body["error"]["leader"] == "http://10.0.0.7:7400");
  CHECK(body["error"]["message"].get<std::string>().find("http://10.0.0.7:7400") != std::string::npos);
  CHECK(headerOf(r, kLeaderHeader) == "http://10.0.0.7:7400");

  // Health checks are public, and the follower answers reads itself.
  CHECK(route(g.router, "/healthz").status == 200);
  CHECK(route(g.router, "/v1/rollouts").status == 200);

  // No leader known yet: 503 without the header, "leader" empty.
  g.setLeader("");
  ApiResponse none = route(g.router, "/v1/rollouts/ro-1/peers");
  CHECK(none.status == 503);
  CHECK(json::parse(none.body)["error"]["leader"] == "");
  CHECK(headerOf(none, kLeaderHeader).empty());

  // Serving as the leader: requests go through.
  g.serving = true;
  CHECK(route(g.router, "/v1/rollouts/ro-1/peers").status == 200);
}

TEST_CASE("leader gate: a follower answers the public API's reads, nothing else") {
  auto req = [](const std::string& method, const std::string& path) {
    ApiRequest r;
    r.method = method;
    r.path = path;
    return r;
  };
  CHECK(followerMayAnswer(req("GET", "/v1/rollouts")));
  CHECK(followerMayAnswer(req("GET", "/v1/rollouts/ro-1")));
  CHECK(followerMayAnswer(req("GET", "/v1/manifests/llama/v1")));
  CHECK_FALSE(followerMayAnswer(req("POST", "/v1/rollouts")));
  CHECK_FALSE(followerMayAnswer(req("POST", "/v1/rollouts/ro-1:cancel")));
  CHECK_FALSE(followerMayAnswer(req("GET", "/v1/rollouts/")));
  CHECK_FALSE(followerMayAnswer(req("GET", "/v1/rollouts/ro-1/peers")));
  CHECK_FALSE(followerMayAnswer(req("GET", "/v1/nodes/n1/assignments")));
  CHECK_FALSE(followerMayAnswer(req("PUT", "/v1/nodes/n1")));
}

TEST_CASE("leader gate: authentication comes first") {
  StaticTokenAuthenticator auth("secret");
  GatedRouter g(auth);
  g.setLeader("http://leader:7400");
  CHECK(route(g.router, "/v1/rollouts").status == 401);  // anonymous learns nothing
  CHECK(route(g.router, "/v1/rollouts/ro-1/peers", "secret").status == 503);
  CHECK(route(g.router, "/v1/nope", "secret").status == 404);  // unknown paths stay 404
}

}  // namespace
}  // namespace shardcast::controller
