#include "agent/agent_config.h"

#include <doctest/doctest.h>

#include "tests/unit/common/temp_dir.h"

namespace shardcast::agent {

TEST_CASE("flags parse into the config with defaults") {
  auto r = parseAgentFlags({"--data-dir", "/tmp/x", "--name", "node-1", "--region=eu",
                            "--labels", "gpu=a100,pool=inference", "--listen", "127.0.0.1:0",
                            "--max-inflight", "24", "--corrupt-serving-for-test"});
  REQUIRE(r.isOk());
  const AgentConfig& c = r->config;
  CHECK(r->action == AgentAction::kRun);
  CHECK(c.name == "node-1");
  CHECK(c.region == "eu");
  CHECK(c.zone == "");
  CHECK(c.labels == std::map<std::string, std::string>{{"gpu", "a100"}, {"pool", "inference"}});
  CHECK(c.listen_host == "127.0.0.1");
  CHECK(c.listen_port == 0);
  CHECK(c.max_inflight == 24);
  CHECK(c.origin_concurrency == 4);
  CHECK(c.peer_requests == 1);  // the default
  CHECK(c.controller_url == "http://127.0.0.1:7400");
  CHECK(c.corrupt_serving_for_test);
}

TEST_CASE("bad flags are one clear error") {
  CHECK_FALSE(parseAgentFlags({}).isOk());  // --data-dir is required
  CHECK(parseAgentFlags({"--data-dir", "d", "--bogus", "1"}).status().message().find("--bogus") !=
        std::string::npos);
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--listen", "nohost"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--listen", "h:70000"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--max-inflight", "0"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--labels", "novalue"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--name", "bad/name"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--controller", "ftp://x"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir", "d", "--cluster-token-file", "/nonexistent"}).isOk());
  CHECK_FALSE(parseAgentFlags({"--data-dir"}).isOk());
}

TEST_CASE("help, version and check-config are actions") {
  CHECK(parseAgentFlags({"--help"})->action == AgentAction::kHelp);
  CHECK(parseAgentFlags({"--version"})->action == AgentAction::kVersion);
  testing::TempDir dir;
  CHECK(parseAgentFlags({"--data-dir", dir.path(), "--check-config"})->action ==
        AgentAction::kCheckConfig);
}

TEST_CASE("the cluster token is read from its file, trimmed") {
  testing::TempDir dir;
  std::string path = dir.write("token", "  abc123\n");
  auto r = parseAgentFlags({"--data-dir", "d", "--cluster-token-file", path});
  REQUIRE(r.isOk());
  CHECK(r->config.cluster_token == "abc123");
}

TEST_CASE("host:port helpers handle IPv6 brackets") {
  std::string host;
  uint16_t port = 1;
  REQUIRE(splitHostPort("[::1]:7401", host, port).isOk());
  CHECK(host == "::1");
  CHECK(port == 7401);
  CHECK(joinHostPort("::1", 7401) == "[::1]:7401");
  CHECK(joinHostPort("10.0.0.1", 80) == "10.0.0.1:80");
}

}  // namespace shardcast::agent
