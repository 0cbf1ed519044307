// The REST routes end to end without a socket: Router + handlers + service.
// Status codes and JSON error bodies for bad input (DESIGN §1 invariant 5).
#include <doctest/doctest.h>

#include "controller/handlers.h"
#include "controller/router.h"
#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

using nlohmann::json;

struct Api : ServiceFixture {
  AllowAllAuthenticator auth;
  Router router{auth};
  Api() { registerRoutes(router, service); }

  // Sends one request; returns the answer (which must come synchronously).
  std::pair<int, json> call(const std::string& method, const std::string& target,
                            const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = *parseQuery(target.substr(q + 1));
    r.body = body;
    int calls = 0;
    ApiResponse out;
    router.handle(r, [&](ApiResponse resp) {
      ++calls;
      out = std::move(resp);
    });
    REQUIRE(calls == 1);
    CHECK(out.content_type == "application/json");
    return {out.status, json::parse(out.body)};
  }

  void expectError(const std::string& method, const std::string& target, const std::string& body,
                   int status, const std::string& code) {
    auto [s, j] = call(method, target, body);
    CHECK_MESSAGE(s == status, body.substr(0, 100) << " -> " << j.dump());
    REQUIRE(j.contains("error"));
    CHECK(j["error"]["code"] == code);
    CHECK(j["error"]["message"].is_string());
  }
};

const std::string kGood = R"("model": "m:v1", "sources": ["mem://bucket/m/"])";

}  // namespace

TEST_CASE_FIXTURE(Api, "POST /v1/rollouts rejects bad input with 400 JSON errors") {
  expectError("POST", "/v1/rollouts", "{not json", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", "", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", "[1,2,3]", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", "{" + kGood + R"(, "colour": "blue"})", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", "{" + kGood + R"(, "piece_size": "big"})", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", R"({"model": "m:v1", "sources": "mem://x/"})", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", "{" + kGood + R"(, "target": {"regions": "east"}})", 400,
              "invalid_argument");
  expectError("POST", "/v1/rollouts", R"({"model": "Bad Name:v1", "sources": ["mem://bucket/m/"]})", 400,
              "invalid_argument");
  expectError("POST", "/v1/rollouts", R"({"model": "m:..", "sources": ["mem://bucket/m/"]})", 400,
              "invalid_argument");
  expectError("POST", "/v1/rollouts", R"({"model": "m:v1", "sources": []})", 400, "invalid_argument");
  expectError("POST", "/v1/rollouts", R"({"model": "m:v1", "sources": ["gopher://x/"]})", 400,
              "invalid_argument");
  origin.fail("mem://down/", unavailable("refused"));
  expectError("POST", "/v1/rollouts", R"({"model": "m:v1", "sources": ["mem://down/"]})", 422,
              "source_unreachable");
  CHECK(call("GET", "/v1/rollouts").second["rollouts"].empty());
}

TEST_CASE_FIXTURE(Api, "create, get, list, cancel and the manifest over the routes") {
  auto [s, created] = call("POST", "/v1/rollouts", "{" + kGood + R"(, "piece_size": 65536})");
  REQUIRE(s == 201);
  std::string id = created["id"];
  CHECK(created["state"] == "in_progress");
  CHECK(created["piece_count"] == 5);

  auto [s2, got] = call("GET", "/v1/rollouts/" + id);
  CHECK(s2 == 200);
  CHECK(got["id"] == id);
  auto [s3, list] = call("GET", "/v1/rollouts");
  CHECK(s3 == 200);
  CHECK(list["rollouts"].size() == 1);

  auto [s4, m] = call("GET", "/v1/manifests/m/v1");
  CHECK(s4 == 200);
  CHECK(m["piece_count"] == 5);
  CHECK(m["files"].size() == 2);
  expectError("GET", "/v1/manifests/m/v9", "", 404, "not_found");
  expectError("GET", "/v1/manifests/M/v1", "", 400, "invalid_argument");

  // Different content for the same version.
  origin.set(kSource, {{"config.json", 501, "", ""}});
  expectError("POST", "/v1/rollouts", "{" + kGood + "}", 409, "version_immutable");

  auto [s5, cancelled] = call("POST", "/v1/rollouts/" + id + ":cancel");
  CHECK(s5 == 200);
  CHECK(cancelled["state"] == "cancelled");
  expectError("GET", "/v1/rollouts/ro-doesnotexist", "", 404, "not_found");
  expectError("DELETE", "/v1/rollouts", "", 405, "method_not_allowed");
}

TEST_CASE_FIXTURE(Api, "agent routes: register, assignments, peers, pieces") {
  expectError("PUT", "/v1/nodes/e1", R"({"name": "other", "region": "east"})", 400, "invalid_argument");
  expectError("PUT", "/v1/nodes/e1", "nope", 400, "invalid_argument");
  auto [s, hb] = call("PUT", "/v1/nodes/e1",
                      R"({"region": "east", "peer_addr": "127.0.0.1:9001", "future_field": 1})");
  REQUIRE(s == 200);
  CHECK(hb["heartbeat_interval_ms"] == 2000);

  auto [s1, a0] = call("GET", "/v1/nodes/e1/assignments?cursor=0&wait_ms=0");
  CHECK(s1 == 200);
  CHECK(a0["rollouts"].empty());
  expectError("GET", "/v1/nodes/e1/assignments?cursor=abc", "", 400, "invalid_argument");
  expectError("GET", "/v1/nodes/ghost/assignments", "", 404, "unknown_node");

  // A long-poll is answered later, when the rollout arrives.
  ApiRequest poll;
  poll.method = "GET";
  poll.path = "/v1/nodes/e1/assignments";
  poll.query = {{"cursor", std::to_string(a0["cursor"].get<uint64_t>())}, {"wait_ms", "20000"}};
  int calls = 0;
  ApiResponse later;
  router.handle(poll, [&](ApiResponse r) {
    ++calls;
    later = std::move(r);
  });
  CHECK(calls == 0);
  auto [sc, created] = call("POST", "/v1/rollouts", "{" + kGood + "}");
  REQUIRE(sc == 201);
  std::string id = created["id"];
  REQUIRE(calls == 1);
  CHECK(later.status == 200);
  CHECK(json::parse(later.body)["rollouts"][0]["rollout_id"] == id);

  expectError("GET", "/v1/rollouts/" + id + "/peers", "", 400, "invalid_argument");
  auto [sp, peers] = call("GET", "/v1/rollouts/" + id + "/peers?node=e1&hash_cursor=0");
  REQUIRE(sp == 200);
  CHECK(peers["stripe"].size() == created["piece_count"].get<size_t>());  // the only seeder
  CHECK(peers["rollout_state"] == "in_progress");

  std::string report = R"({"node": "e1", "state": "ready", "pieces_done": 5, "hashes": [[0, ")" +
                       hashOf(0) + R"("]], "extra": true})";
  auto [sr, reply] = call("POST", "/v1/rollouts/" + id + "/pieces", report);
  REQUIRE(sr == 200);
  CHECK(reply["rollout_state"] == "ready");
  CHECK(reply["conflicting"].empty());
  expectError("POST", "/v1/rollouts/" + id + "/pieces", R"({"state": "ready"})", 400, "invalid_argument");
  auto [sp2, peers2] = call("GET", "/v1/rollouts/" + id + "/peers?node=e1&hash_cursor=0");
  CHECK(peers2["hashes"].size() == 1);
  CHECK(peers2["hash_cursor"] == 1);
}

TEST_CASE_FIXTURE(Api, "healthz") {
  auto [s, j] = call("GET", "/healthz");
  CHECK(s == 200);
  CHECK(j["ok"] == true);
}

}  // namespace shardcast::controller::testing
