// The real process front end: Server with its cpprestsdk listener on a free
// loopback port, talked to over HTTP with the libcurl client.
#include "controller/server.h"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

ServerConfig testConfig(const std::string& dir) {
  ServerConfig c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.ready_file = dir + "/ready";
  c.token = "test-token";
  c.sweep_interval_ms = 10;
  return c;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// Waits (bounded) until `cond` holds; for conditions another thread makes true.
template <typename F>
bool eventually(F cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

}  // namespace

TEST_CASE("serves the API on a free port, writes the ready file, needs the token") {
  shardcast::testing::TempDir dir;
  Server server(testConfig(dir.path()));
  REQUIRE(server.start().isOk());
  std::string addr = readFile(dir.path() + "/ready");
  CHECK(addr == server.address());
  CHECK(addr.rfind("127.0.0.1:", 0) == 0);
  CHECK(addr != "127.0.0.1:0");
  std::string base = "http://" + addr;

  HttpClient anon;
  auto health = anon.get(base + "/healthz");
  REQUIRE(health.isOk());
  CHECK(health->status == 200);
  CHECK(json::parse(health->body)["ok"] == true);

  auto denied = anon.get(base + "/v1/rollouts");
  REQUIRE(denied.isOk());
  CHECK(denied->status == 401);
  CHECK(json::parse(denied->body)["error"]["code"] == "unauthenticated");

  HttpClientOptions opts;
  opts.bearer_token = "test-token";
  HttpClient client(opts);
  auto list = client.get(base + "/v1/rollouts");
  REQUIRE(list.isOk());
  CHECK(list->status == 200);
  CHECK(json::parse(list->body)["rollouts"].empty());

  auto big = client.sendJson("POST", base + "/v1/rollouts", std::string(2 << 20, ' '));
  REQUIRE(big.isOk());
  CHECK(big->status == 413);
  CHECK(json::parse(big->body)["error"]["code"] == "body_too_large");

  auto bad = client.sendJson("POST", base + "/v1/rollouts", "{\"model\": 1}");
  REQUIRE(bad.isOk());
  CHECK(bad->status == 400);

  auto hb = client.sendJson("PUT", base + "/v1/nodes/n1", R"({"region": "r", "peer_addr": "127.0.0.1:1"})");
  REQUIRE(hb.isOk());
  CHECK(hb->status == 200);
  auto first = client.get(base + "/v1/nodes/n1/assignments?cursor=0");
  REQUIRE(first.isOk());
  uint64_t cursor = json::parse(first->body)["cursor"];
  // A short long-poll comes back with the same cursor once its time is up.
  auto polled = client.get(base + "/v1/nodes/n1/assignments?cursor=" + std::to_string(cursor) + "&wait_ms=50");
  REQUIRE(polled.isOk());
  CHECK(polled->status == 200);
  CHECK(json::parse(polled->body)["cursor"] == cursor);

  // Prometheus metrics are public (like /healthz) and count what was answered above,
  // by route pattern, never by node or model name.
  auto metrics = anon.get(base + "/metrics");
  REQUIRE(metrics.isOk());
  CHECK(metrics->status == 200);
  CHECK(metrics->header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& text = metrics->body;
  CHECK(text.find("shardcast_controller_requests_total{method=\"GET\",route=\"/v1/rollouts\",code=\"401\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("shardcast_controller_requests_total{method=\"GET\",route=\"/v1/rollouts\",code=\"200\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("route=\"/v1/nodes/{node}/assignments\",code=\"200\"} 2\n") != std::string::npos);
  CHECK(text.find("shardcast_controller_nodes{state=\"registered\"} 1\n") != std::string::npos);
  CHECK(text.find("shardcast_controller_nodes{state=\"live\"} 1\n") != std::string::npos);
  CHECK(text.find("shardcast_controller_rollouts{state=\"in_progress\"} 0\n") != std::string::npos);
  CHECK(text.find("shardcast_controller_leader 1\n") != std::string::npos);
  CHECK(text.find("n1") == std::string::npos);  // no node names
  auto unknown = anon.get(base + "/no/such/path/n1");
  REQUIRE(unknown.isOk());
  auto again = anon.get(base + "/metrics");
  REQUIRE(again.isOk());
  CHECK(again->body.find("route=\"unmatched\",code=\"404\"} 1\n") != std::string::npos);
  CHECK(again->body.find("route=\"/metrics\",code=\"200\"} 1\n") != std::string::npos);
  CHECK(again->body.find("n1") == std::string::npos);
  server.stop();
}

TEST_CASE("stop answers a pending long-poll and closes") {
  shardcast::testing::TempDir dir;
  Server server(testConfig(dir.path()));
  REQUIRE(server.start().isOk());
  std::string base = "http://" + server.address();
  HttpClientOptions opts;
  opts.bearer_token = "test-token";
  HttpClient client(opts);
  REQUIRE(client.sendJson("PUT", base + "/v1/nodes/n1", R"({"region": "r"})").isOk());
  auto first = client.get(base + "/v1/nodes/n1/assignments?cursor=0");
  REQUIRE(first.isOk());
  uint64_t cursor = json::parse(first->body)["cursor"];

  auto pending = std::async(std::launch::async, [&] {
    HttpClient c(opts);
    return c.get(base + "/v1/nodes/n1/assignments?cursor=" + std::to_string(cursor) + "&wait_ms=30000", 60000);
  });
  REQUIRE(eventually([&] { return server.serviceForTest().waiterCount() == 1; }));
  auto started = std::chrono::steady_clock::now();
  server.stop();
  auto answer = pending.get();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  REQUIRE(answer.isOk());
  CHECK(answer->status == 200);
  CHECK(json::parse(answer->body)["cursor"] == cursor);
  CHECK(!client.get(base + "/healthz", 2000).isOk());  // no longer listening
}

}  // namespace shardcast::controller
