// Two controller replicas (Server, --state-store etcd) in one process against a
// real etcd on loopback: one leads, the other answers 503 not_leader with the
// leader's URL over real HTTP; /healthz tells the roles; when the leader stops
// (resigns), the follower loads the state from etcd and serves the rollout the
// old leader accepted.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "controller/server.h"
#include "tests/unit/common/temp_dir.h"
#include "tests/unit/controller/etcd_server.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

ServerConfig replicaConfig(const std::string& etcd_url) {
  ServerConfig c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.sweep_interval_ms = 10;
  c.state_store.kind = "etcd";
  c.state_store.etcd_endpoints = {etcd_url};
  c.state_store.etcd_prefix = "/ha-test/";
  c.state_store.leader_lease_ttl_ms = 3000;
  return c;
}

std::string roleOf(const std::string& base) {
  HttpClient http;
  auto r = http.get(base + "/healthz", 2000);
  if (!r.isOk() || r->status != 200) return "";
  return json::parse(r->body).value("role", "");
}

template <typename F>
bool eventually(F cond, int seconds = 10) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

TEST_CASE("HA replicas: one leader, a follower that reads and forwards writes, takeover with the stored state") {
  SKIP_WITHOUT_ETCD();
  testing::EtcdServer etcd;
  testing::TempDir dir;
  dir.write("model/weights.bin", testing::patternBytes(300000));

  auto a = std::make_unique<Server>(replicaConfig(etcd.url()));
  REQUIRE(a->start().isOk());
  std::string base_a = "http://" + a->address();
  REQUIRE(eventually([&] { return roleOf(base_a) == "leader"; }));

  Server b(replicaConfig(etcd.url()));
  REQUIRE(b.start().isOk());
  std::string base_b = "http://" + b.address();
  CHECK(roleOf(base_b) == "follower");

  HttpClient http;
  json request = {{"model", "m:v1"}, {"sources", {"file://" + dir.path() + "/model/"}}};
  auto created = http.sendJson("POST", base_a + "/v1/rollouts", request.dump());
  REQUIRE(created.isOk());
  REQUIRE_MESSAGE(created->status == 201, created->body);
  std::string id = json::parse(created->body)["id"];

  // The follower answers reads from the replicated state...
  REQUIRE(eventually([&] {
    auto r = http.get(base_b + "/v1/rollouts/" + id);
    return r.isOk() && r->status == 200 && !r->header("X-Shardcast-Follower-Revision").empty();
  }));
  auto read = http.get(base_b + "/v1/rollouts/" + id);
  REQUIRE(read.isOk());
  CHECK(json::parse(read->body)["id"] == id);
  // ...and sends writes to the leader.
  auto gated = http.sendJson("POST", base_b + "/v1/rollouts/" + id + ":cancel", "");
  REQUIRE(gated.isOk());
  CHECK(gated->status == 503);
  CHECK(gated->header("X-Shardcast-Leader") == base_a);
  json err = json::parse(gated->body)["error"];
  CHECK(err["code"] == "not_leader");
  CHECK(err["leader"] == base_a);

  // The leader stops: it resigns, the follower takes over from etcd.
  a->stop();
  a.reset();
  REQUIRE(eventually([&] { return roleOf(base_b) == "leader"; }));
  auto got = http.get(base_b + "/v1/rollouts/" + id);
  REQUIRE(got.isOk());
  CHECK(got->status == 200);
  json status = json::parse(got->body);
  CHECK(status["id"] == id);
  CHECK(status["model"] == "m:v1");
  auto manifest = http.get(base_b + "/v1/manifests/m/v1");
  REQUIRE(manifest.isOk());
  CHECK(manifest->status == 200);
  b.stop();
}

}  // namespace
}  // namespace shardcast::controller
