#include "agent/node_topology.h"

#include <doctest/doctest.h>

namespace shardcast::agent {
namespace {

using Labels = std::map<std::string, std::string>;

const Labels kGpuNode = {
    {"topology.kubernetes.io/region", "us-east-1"},
    {"topology.kubernetes.io/zone", "us-east-1a"},
    {"failure-domain.beta.kubernetes.io/region", "us-east-1"},
    {"failure-domain.beta.kubernetes.io/zone", "us-east-1a"},
    {"beta.kubernetes.io/arch", "amd64"},
    {"kubernetes.io/arch", "amd64"},
    {"kubernetes.io/hostname", "gpu-node-7"},
    {"nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"},
};

TEST_CASE("region, zone and labels come from the Node when no flag is given") {
  auto t = resolveNodeTopology("gpu-node-7", kGpuNode, {});
  REQUIRE(t.isOk());
  CHECK(t->region == "us-east-1");
  CHECK(t->region_source == "topology.kubernetes.io/region");
  CHECK(t->zone == "us-east-1a");
  CHECK(t->zone_source == "topology.kubernetes.io/zone");
  CHECK(t->labels.at("nvidia.com/gpu.product") == "NVIDIA-H100-80GB-HBM3");
  CHECK(t->labels.at("kubernetes.io/hostname") == "gpu-node-7");
  CHECK(t->labels.at("topology.kubernetes.io/zone") == "us-east-1a");
  // Deprecated duplicates are left out and counted.
  CHECK(t->labels.count("beta.kubernetes.io/arch") == 0);
  CHECK(t->labels.count("failure-domain.beta.kubernetes.io/zone") == 0);
  CHECK(t->dropped == 3);
  CHECK(t->labels.size() == kGpuNode.size() - 3);
}

TEST_CASE("--region, --zone and --labels override the Node") {
  TopologyFlags f;
  f.region = "eu-west";
  f.zone = "";  // given explicitly as empty: still beats the Node
  f.labels = {{"nvidia.com/gpu.product", "A100"}, {"pool", "inference"}};
  auto t = resolveNodeTopology("gpu-node-7", kGpuNode, f);
  REQUIRE(t.isOk());
  CHECK(t->region == "eu-west");
  CHECK(t->region_source == "--region");
  CHECK(t->zone == "");
  CHECK(t->zone_source == "--zone");
  CHECK(t->labels.at("nvidia.com/gpu.product") == "A100");
  CHECK(t->labels.at("pool") == "inference");
  CHECK(t->labels.at("kubernetes.io/arch") == "amd64");
}

TEST_CASE("the deprecated failure-domain labels are the fallback; nothing means default") {
  Labels old = {{"failure-domain.beta.kubernetes.io/region", "west"},
                {"failure-domain.beta.kubernetes.io/zone", "west-b"}};
  auto t = resolveNodeTopology("n", old, {});
  REQUIRE(t.isOk());
  CHECK(t->region == "west");
  CHECK(t->zone == "west-b");
  CHECK(t->region_source == "failure-domain.beta.kubernetes.io/region");

  auto bare = resolveNodeTopology("n", {{"kubernetes.io/os", "linux"}}, {});
  REQUIRE(bare.isOk());
  CHECK(bare->region == "default");
  CHECK(bare->zone == "");
  CHECK(bare->zone_source == "none");
}

TEST_CASE("a region from the Node that the agent would refuse is an error naming the flag") {
  auto t = resolveNodeTopology("n", {{"topology.kubernetes.io/region", "us east"}}, {});
  REQUIRE_FALSE(t.isOk());
  CHECK(t.status().message().find("topology.kubernetes.io/region") != std::string::npos);
  CHECK(t.status().message().find("--region") != std::string::npos);
  TopologyFlags f;
  f.region = "east";
  CHECK(resolveNodeTopology("n", {{"topology.kubernetes.io/region", "us east"}}, f).isOk());
  auto z = resolveNodeTopology("n", {{"topology.kubernetes.io/zone", std::string(200, 'z')}}, {});
  REQUIRE_FALSE(z.isOk());
  CHECK(z.status().message().find("--zone") != std::string::npos);
}

TEST_CASE("labels the controller would refuse are filtered, and at most 64 are kept") {
  Labels node;
  node["example.com/" + std::string(250, 'k')] = "too-long-key";
  node["example.com/long-value"] = std::string(254, 'v');
  node["example.com/empty"] = "";
  for (int i = 0; i < 100; ++i) {
    node["feature.node.kubernetes.io/cpu-" + std::to_string(100 + i)] = "true";
  }
  for (int i = 0; i < 10; ++i) node["team.example.com/k" + std::to_string(i)] = "v";
  TopologyFlags f;
  f.labels = {{"pool", "a"}};
  auto t = resolveNodeTopology("n", node, f);
  REQUIRE(t.isOk());
  CHECK(t->labels.size() == kMaxLabels);
  CHECK(t->labels.at("pool") == "a");
  CHECK(t->labels.count("example.com/long-value") == 0);
  CHECK(t->labels.at("example.com/empty") == "");
  // Ordinary labels are kept before node-feature-discovery ones.
  for (int i = 0; i < 10; ++i) CHECK(t->labels.count("team.example.com/k" + std::to_string(i)) == 1);
  CHECK(t->labels.count("feature.node.kubernetes.io/cpu-100") == 1);
  CHECK(t->labels.count("feature.node.kubernetes.io/cpu-199") == 0);
  // 2 refused + (1 flag + 1 empty + 10 team + 100 feature - 64) past the limit.
  CHECK(t->dropped == 2 + (112 - 64));
  for (const auto& [k, v] : t->labels) {
    CHECK(k.size() <= 253);
    CHECK(v.size() <= 253);
  }
}

TEST_CASE("control characters in a Node label are not passed on") {
  auto t = resolveNodeTopology("n", {{"a.example.com/x", "bad\nvalue"}, {"ok", "fine"}}, {});
  REQUIRE(t.isOk());
  CHECK(t->labels == Labels{{"ok", "fine"}});
  CHECK(t->dropped == 1);
}

}  // namespace
}  // namespace shardcast::agent
