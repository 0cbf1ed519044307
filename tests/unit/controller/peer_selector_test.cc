#include "controller/peer_selector.h"

#include <doctest/doctest.h>

#include <set>

namespace shardcast::controller {
namespace {

std::vector<PeerCandidate> region(int per_zone, const std::vector<std::string>& zones) {
  std::vector<PeerCandidate> out;
  for (const auto& z : zones) {
    for (int i = 0; i < per_zone; ++i) {
      std::string name = z + "-n" + std::to_string(i);
      out.push_back(PeerCandidate{name, z, "10.0.0.1:" + std::to_string(7000 + out.size()), true});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("excludes the requester, dead nodes and nodes without an address") {
  auto nodes = region(3, {"a"});
  nodes[1].live = false;
  nodes.push_back(PeerCandidate{"no-addr", "a", "", true});
  auto peers = PeerSelector(16).select("a-n0", "a", nodes);
  REQUIRE(peers.size() == 1);
  CHECK(peers[0].name == "a-n2");
}

TEST_CASE("same zone first, then other zones, at most K") {
  auto nodes = region(5, {"a", "b", "c"});
  auto peers = PeerSelector(8).select("a-n0", "a", nodes);
  REQUIRE(peers.size() == 8);
  for (int i = 0; i < 4; ++i) CHECK(peers[i].zone == "a");
  for (int i = 4; i < 8; ++i) CHECK(peers[i].zone != "a");
  std::set<std::string> unique;
  for (const auto& p : peers) unique.insert(p.name);
  CHECK(unique.size() == 8);
  CHECK(unique.count("a-n0") == 0);
}

TEST_CASE("deterministic for one requester, different across requesters") {
  auto nodes = region(40, {"a"});
  PeerSelector selector(16);
  auto first = selector.select("a-n0", "a", nodes);
  CHECK(first == selector.select("a-n0", "a", nodes));
  // With 39 candidates and K = 16, other requesters see other subsets.
  int differing = 0;
  for (int i = 1; i < 10; ++i) {
    auto other = selector.select("a-n" + std::to_string(i), "a", nodes);
    std::set<std::string> a, b;
    for (const auto& p : first) a.insert(p.name);
    for (const auto& p : other) b.insert(p.name);
    a.erase("a-n" + std::to_string(i));
    differing += a != b;
  }
  CHECK(differing >= 8);
}

TEST_CASE("the order does not depend on the input order") {
  auto nodes = region(10, {"a", "b"});
  auto reversed = std::vector<PeerCandidate>(nodes.rbegin(), nodes.rend());
  PeerSelector selector(6);
  CHECK(selector.select("b-n3", "b", nodes) == selector.select("b-n3", "b", reversed));
}

TEST_CASE("fewer nodes than K: everyone else, same zone first") {
  auto nodes = region(2, {"a", "b"});
  auto peers = PeerSelector(16).select("b-n1", "b", nodes);
  REQUIRE(peers.size() == 3);
  CHECK(peers[0].name == "b-n0");
  CHECK(peers[1].zone == "a");
  CHECK(peers[2].zone == "a");
}

TEST_CASE("affinity is a stable hash") {
  CHECK(PeerSelector::affinity("x", "y") == PeerSelector::affinity("x", "y"));
  CHECK(PeerSelector::affinity("x", "y") != PeerSelector::affinity("y", "x"));
  CHECK(PeerSelector::affinity("ab", "c") != PeerSelector::affinity("a", "bc"));
}

}  // namespace shardcast::controller

namespace shardcast::controller {

TEST_CASE("a zone larger than K still gets a quarter of K from other zones") {
  auto nodes = region(20, {"a", "b", "c"});
  auto peers = PeerSelector(8).select("a-n0", "a", nodes);
  REQUIRE(peers.size() == 8);
  int other = 0;
  for (const auto& p : peers) other += p.zone != "a";
  CHECK(other == 2);
  for (int i = 0; i < 6; ++i) CHECK(peers[i].zone == "a");
  // One zone only: all K from it.
  auto single = PeerSelector(8).select("a-n0", "a", region(20, {"a"}));
  CHECK(single.size() == 8);
  // Fewer other-zone nodes than the reserve: the rest from my zone.
  auto nodes2 = region(20, {"a"});
  nodes2.push_back(PeerCandidate{"b-n0", "b", "10.0.0.2:7000", true});
  auto mixed = PeerSelector(8).select("a-n0", "a", nodes2);
  REQUIRE(mixed.size() == 8);
  CHECK(mixed.back().name == "b-n0");
}

TEST_CASE("zone role: rank by name among live importers of the zone; none with one zone") {
  auto nodes = region(4, {"a", "b"});
  CHECK(PeerSelector::zoneRole("a-n0", "a", nodes) == ZoneRole{0, 4});
  CHECK(PeerSelector::zoneRole("a-n2", "a", nodes) == ZoneRole{2, 4});
  CHECK(PeerSelector::zoneRole("b-n3", "b", nodes) == ZoneRole{3, 4});
  nodes[1].live = false;      // a-n1 silent
  nodes[2].importer = false;  // a-n2 failed the rollout
  CHECK(PeerSelector::zoneRole("a-n3", "a", nodes) == ZoneRole{1, 2});
  // The requester counts even when not listed (it is asking).
  CHECK(PeerSelector::zoneRole("a-n9", "a", nodes) == ZoneRole{2, 3});
  CHECK(PeerSelector::zoneRole("a-n0", "a", region(4, {"a"})) == ZoneRole{});
  // Each member's rank is distinct: the roles partition the zone.
  auto full = region(5, {"x", "y", "z"});
  std::set<uint32_t> ranks;
  for (int i = 0; i < 5; ++i) ranks.insert(PeerSelector::zoneRole("y-n" + std::to_string(i), "y", full).rank);
  CHECK(ranks.size() == 5);
}

}  // namespace shardcast::controller
