// originConcurrencyShare: a region's origin request budget divided among its seeders.
#include <doctest/doctest.h>

#include <numeric>

#include <nlohmann/json.hpp>

#include "common/api/node.h"
#include "controller/origin_share.h"

namespace shardcast::controller {
namespace {

std::vector<std::string> seeders(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("n" + std::to_string(i));
  return out;
}

uint32_t total(uint32_t budget, const std::vector<std::string>& s) {
  uint32_t sum = 0;
  for (const auto& n : s) sum += originConcurrencyShare(budget, s, n);
  return sum;
}

TEST_CASE("no budget or not a seeder: 0 (the agent's own flag applies)") {
  CHECK(originConcurrencyShare(0, seeders(3), "n0") == 0);
  CHECK(originConcurrencyShare(8, seeders(3), "other") == 0);
  CHECK(originConcurrencyShare(8, {}, "n0") == 0);
}

TEST_CASE("even split") {
  auto s = seeders(4);
  for (const auto& n : s) CHECK(originConcurrencyShare(16, s, n) == 4);
  CHECK(total(16, s) == 16);
}

TEST_CASE("remainder goes to the first seeders; shares add up to the budget") {
  auto s = seeders(3);
  CHECK(originConcurrencyShare(8, s, "n0") == 3);
  CHECK(originConcurrencyShare(8, s, "n1") == 3);
  CHECK(originConcurrencyShare(8, s, "n2") == 2);
  for (uint32_t budget = 3; budget <= 100; ++budget) {
    for (int n = 1; n <= 3 && n <= static_cast<int>(budget); ++n) CHECK(total(budget, seeders(n)) == budget);
  }
  for (int n = 1; n <= 16; ++n) {
    for (uint32_t budget = n; budget <= 64; ++budget) {
      auto sv = seeders(n);
      uint32_t lo = UINT32_MAX, hi = 0;
      for (const auto& x : sv) {
        lo = std::min(lo, originConcurrencyShare(budget, sv, x));
        hi = std::max(hi, originConcurrencyShare(budget, sv, x));
      }
      CHECK(total(budget, sv) == budget);
      CHECK(hi - lo <= 1);
    }
  }
}

TEST_CASE("a budget below the seeder count still gives every seeder one request") {
  auto s = seeders(5);
  for (const auto& n : s) CHECK(originConcurrencyShare(2, s, n) == 1);
  CHECK(total(2, s) == 5);
}

TEST_CASE("the share travels in PeersReply.origin_concurrency; older controllers omit it") {
  api::PeersReply r;
  r.origin_concurrency = 3;
  auto back = api::peersReplyFromJson(api::toJson(r));
  REQUIRE(back.isOk());
  CHECK(back->origin_concurrency == 3);
  nlohmann::json old = api::toJson(r);
  old.erase("origin_concurrency");
  auto lenient = api::peersReplyFromJson(old);
  REQUIRE(lenient.isOk());
  CHECK(lenient->origin_concurrency == 0);
  old["origin_concurrency"] = "many";
  CHECK_FALSE(api::peersReplyFromJson(old).isOk());
}

}  // namespace
}  // namespace shardcast::controller
