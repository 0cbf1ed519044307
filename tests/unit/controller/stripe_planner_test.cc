#include "controller/stripe_planner.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

namespace shardcast::controller {
namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("node-" + std::to_string(100 + i));
  return out;
}

// Pieces of a model: files of the given sizes cut at piece_size.
std::vector<uint64_t> layout(const std::vector<uint64_t>& files, uint64_t piece_size) {
  std::vector<uint64_t> out;
  for (uint64_t f : files) {
    for (uint64_t off = 0; off < f; off += piece_size) out.push_back(std::min(piece_size, f - off));
  }
  return out;
}

std::vector<uint64_t> bytesPerSeeder(const StripePlan& plan, const std::vector<uint64_t>& sizes) {
  std::vector<uint64_t> load(plan.seeders.size(), 0);
  for (size_t p = 0; p < plan.owner.size(); ++p) load[plan.owner[p]] += sizes[p];
  return load;
}

}  // namespace

TEST_CASE("plan: every piece has exactly one seeder and S = min(max, candidates)") {
  auto sizes = layout({23 * 1000 + 345, 9 * 1000, 77, 0, 1000}, 1000);
  StripePlanner planner(16);
  for (int n : {1, 2, 3, 15, 16, 17, 40}) {
    StripePlan plan = planner.plan(sizes, names(n));
    CHECK(plan.seeders.size() == static_cast<size_t>(std::min(n, 16)));
    REQUIRE(plan.owner.size() == sizes.size());
    for (uint32_t o : plan.owner) CHECK(o < plan.seeders.size());
    // The seeders are the first S candidates, in the given order.
    for (size_t i = 0; i < plan.seeders.size(); ++i) CHECK(plan.seeders[i] == names(n)[i]);
  }
}

TEST_CASE("plan: bytes are balanced within one piece size") {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<uint64_t> files;
    int nfiles = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < nfiles; ++f) files.push_back(rng() % 50'000);
    uint64_t piece = 1000 + rng() % 4000;
    auto sizes = layout(files, piece);
    int n = 1 + static_cast<int>(rng() % 20);
    StripePlan plan = StripePlanner(16).plan(sizes, names(n));
    if (sizes.empty()) {
      CHECK(plan.owner.empty());
      continue;
    }
    auto load = bytesPerSeeder(plan, sizes);
    auto [lo, hi] = std::minmax_element(load.begin(), load.end());
    CHECK(*hi - *lo <= piece);
  }
}

TEST_CASE("plan: interleaves seeders over a file") {
  auto sizes = layout({8000}, 1000);
  StripePlan plan = StripePlanner(16).plan(sizes, names(4));
  CHECK(plan.owner == std::vector<uint32_t>{0, 1, 2, 3, 0, 1, 2, 3});
  CHECK(plan.piecesOf("node-101") == std::vector<uint32_t>{1, 5});
  CHECK(plan.piecesOf("stranger").empty());
  CHECK(plan.activeSeeders() == 4);
}

TEST_CASE("plan: deterministic, and empty without candidates") {
  auto sizes = layout({12345, 999, 4000}, 1000);
  StripePlanner planner(3);
  CHECK(planner.plan(sizes, names(5)) == planner.plan(sizes, names(5)));
  CHECK(planner.plan(sizes, {}).empty());
  CHECK(planner.plan(sizes, {}).owner.empty());
}

TEST_CASE("reassign moves only unfinished pieces of dead seeders") {
  auto sizes = layout({40'000}, 1000);  // 40 pieces
  StripePlanner planner(4);
  StripePlan plan = planner.plan(sizes, names(4));
  std::vector<bool> done(sizes.size(), false);
  for (size_t p = 0; p < done.size(); p += 3) done[p] = true;
  const std::string dead = "node-101";
  uint32_t moved = 0;
  StripePlan next = planner.reassign(plan, sizes, {dead}, names(4), done, &moved);

  uint32_t expect_moved = 0;
  for (size_t p = 0; p < sizes.size(); ++p) {
    const std::string& before = plan.seeders[plan.owner[p]];
    const std::string& after = next.seeders[next.owner[p]];
    if (before == dead && !done[p]) {
      ++expect_moved;
      CHECK(after != dead);
    } else {
      CHECK(after == before);  // finished pieces and live seeders' pieces never move
    }
  }
  CHECK(moved == expect_moved);
  CHECK(moved > 0);
  // The dead seeder keeps its finished pieces; the seeder list only grows.
  CHECK(std::find(next.seeders.begin(), next.seeders.end(), dead) != next.seeders.end());
  for (size_t i = 0; i < plan.seeders.size(); ++i) CHECK(next.seeders[i] == plan.seeders[i]);
}

TEST_CASE("reassign balances moved pieces over live seeders and new nodes up to the cap") {
  auto sizes = layout({64'000}, 1000);  // 64 pieces
  StripePlanner planner(4);
  StripePlan plan = planner.plan(sizes, names(4));  // node-100..103, 16 pieces each
  std::vector<bool> done(sizes.size(), false);
  // node-100 is dead with all 16 unfinished; node-104 and node-105 are new and live.
  std::vector<std::string> live = {"node-101", "node-102", "node-103", "node-104", "node-105"};
  StripePlan next = planner.reassign(plan, sizes, {"node-100"}, live, done);
  // Cap 4: three live seeders plus one new node (the first in preference order).
  CHECK(next.seeders.size() == 5);
  CHECK(next.seeders.back() == "node-104");
  CHECK(next.piecesOf("node-105").empty());
  CHECK(next.piecesOf("node-100").empty());
  // Unfinished load: 16 each on the live seeders, 0 on the new node, so the new
  // node takes all 16 moved pieces and everyone ends at 16.
  CHECK(next.piecesOf("node-104").size() == 16);
  for (const char* n : {"node-101", "node-102", "node-103"}) CHECK(next.piecesOf(n).size() == 16);
}

TEST_CASE("reassign with no live node or nothing unfinished changes nothing") {
  auto sizes = layout({10'000}, 1000);
  StripePlanner planner(2);
  StripePlan plan = planner.plan(sizes, names(2));
  std::vector<bool> none_done(sizes.size(), false);
  std::vector<bool> all_done(sizes.size(), true);
  uint32_t moved = 99;
  CHECK(planner.reassign(plan, sizes, {"node-100", "node-101"}, {}, none_done, &moved) == plan);
  CHECK(moved == 0);
  CHECK(planner.reassign(plan, sizes, {"node-100"}, {"node-101"}, all_done, &moved) == plan);
  CHECK(moved == 0);
  CHECK(planner.reassign(plan, sizes, {}, {"node-100", "node-101"}, none_done, &moved) == plan);
}

TEST_CASE("reassign is incremental: a second death moves only that seeder's pieces") {
  auto sizes = layout({30'000}, 1000);
  StripePlanner planner(3);
  StripePlan plan = planner.plan(sizes, names(3));
  std::vector<bool> done(sizes.size(), false);
  StripePlan first = planner.reassign(plan, sizes, {"node-100"}, {"node-101", "node-102"}, done);
  done[first.piecesOf("node-101").front()] = true;
  StripePlan second = planner.reassign(first, sizes, {"node-100", "node-101"}, {"node-102"}, done);
  for (size_t p = 0; p < sizes.size(); ++p) {
    if (first.seeders[first.owner[p]] == "node-102" || done[p]) {
      CHECK(second.seeders[second.owner[p]] == first.seeders[first.owner[p]]);
    } else {
      CHECK(second.seeders[second.owner[p]] == "node-102");
    }
  }
}

}  // namespace shardcast::controller
