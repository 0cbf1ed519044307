#include "bench/sim/sim_config.h"

#include "common/manifest.h"

#include <doctest/doctest.h>

#include "agent/agent_config.h"
#include "controller/poll_pacing.h"

namespace shardcast::bench {

TEST_CASE("flags in the rig's style") {
  auto p = parseSimFlags({"--nodes", "10000", "--size", "140GB", "--rate", "250mbit", "--piece-size",
                          "16MiB", "--zones=3", "--stragglers", "0.05", "--json"});
  REQUIRE(p.isOk());
  const SimConfig& c = p->config;
  CHECK(c.nodes == 10000);
  CHECK(c.size == 140000000000ull);
  CHECK(c.rate == doctest::Approx(250e6 / 8));
  CHECK(c.origin_rate == doctest::Approx(c.rate));
  CHECK(c.piece_size == 16ull << 20);
  CHECK(c.zones == 3);
  CHECK(c.stragglers == doctest::Approx(0.05));
  CHECK(c.json);
  // Defaults are the agent's and the controller's.
  const agent::AgentConfig agent_defaults;
  CHECK(c.peer_requests == agent_defaults.peer_requests);
  CHECK(c.max_inflight == agent_defaults.max_inflight);
  CHECK(c.agent_requests_per_s == controller::PollPacing::kDefaultRequestsPerS);
  CHECK(c.origin_concurrency == 4);
  CHECK(c.max_seeders == 16);
  CHECK(c.peers_per_node == 16);
  CHECK(c.bitfield_poll_s == doctest::Approx(0.3));
}

TEST_CASE("without --piece-size the piece size is the controller's choice for F") {
  auto small = parseSimFlags({"--size", "256MiB"});
  REQUIRE(small.isOk());
  CHECK(small->config.piece_size == autoPieceSize(256ull << 20));
  auto big = parseSimFlags({"--size", "140GB"});
  REQUIRE(big.isOk());
  CHECK(big->config.piece_size == autoPieceSize(140000000000ull));
  CHECK(big->config.piece_size == 16ull << 20);
}

TEST_CASE("bad flags are one line naming the flag") {
  auto p = parseSimFlags({"--rate", "fast"});
  REQUIRE(!p.isOk());
  CHECK(p.status().message().find("--rate") != std::string::npos);
  CHECK(p.status().message().find('\n') == std::string::npos);
  CHECK(!parseSimFlags({"--nodes", "1"}).isOk());
  CHECK(!parseSimFlags({"--stragglers", "1.5"}).isOk());
  CHECK(!parseSimFlags({"--bogus"}).isOk());
  CHECK(!parseSimFlags({"--step", "soon"}).isOk());
}

TEST_CASE("rates, byte rates and durations") {
  CHECK(*parseRateBytesPerSecond("1gbit") == doctest::Approx(125e6));
  CHECK(*parseRateBytesPerSecond("10mbps") == doctest::Approx(10e6));
  CHECK(*parseByteRate("1800MB/s") == doctest::Approx(1.8e9));
  CHECK(*parseByteRate("0") == doctest::Approx(0));
  CHECK(*parseSeconds("300ms") == doctest::Approx(0.3));
  CHECK(*parseSeconds("2m") == doctest::Approx(120));
}

TEST_CASE("the layout bundles pieces only above the limit, never across files") {
  SimConfig c;
  c.size = 140000000000ull;
  c.piece_size = 16ull << 20;
  c.max_sim_pieces = 1000;
  PieceLayout l = makeLayout(c);
  CHECK(l.rollout_pieces == 8345);  // ceil(140e9 / 16 MiB)
  CHECK(l.bundle == 9);
  CHECK(l.sim_piece_size == 9 * (16ull << 20));
  CHECK(l.sizes.size() <= 1000);
  uint64_t total = 0;
  for (uint64_t s : l.sizes) total += s;
  CHECK(total == c.size);

  c.size = 3 * (16ull << 20) + 10;
  c.files = 2;
  c.max_sim_pieces = 0;
  PieceLayout two = makeLayout(c);
  CHECK(two.bundle == 1);
  // Two files of 1.5 pieces + 5 bytes: 2 pieces each, the second one short.
  REQUIRE(two.sizes.size() == 4);
  CHECK(two.sizes[0] == 16ull << 20);
  CHECK(two.sizes[1] == (c.size / 2) - (16ull << 20));
}

}  // namespace shardcast::bench
