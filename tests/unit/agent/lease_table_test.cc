#include "agent/lease_table.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace shardcast::agent {
namespace {

const ModelRef kLlama{"llama", "v1"};
const ModelRef kMistral{"mistral", "v2"};

TEST_CASE("a lease holds its model until its TTL runs out, and renewing extends it") {
  FakeClock clock;
  LeaseTable t(clock);
  REQUIRE(t.acquire("pod-a", kLlama, 1000).isOk());
  CHECK(t.isLeased(kLlama));
  CHECK_FALSE(t.isLeased(kMistral));
  clock.advanceMs(900);
  REQUIRE(t.acquire("pod-a", kLlama, 1000).isOk());  // renew
  clock.advanceMs(900);
  CHECK(t.isLeased(kLlama));
  clock.advanceMs(200);
  CHECK_FALSE(t.isLeased(kLlama));
  CHECK(t.expire() == std::vector<std::string>{"pod-a"});
  CHECK(t.size() == 0);
}

TEST_CASE("a TTL of 0 lasts until release; release drops every model of the id") {
  FakeClock clock;
  LeaseTable t(clock);
  REQUIRE(t.acquire("pod-a", kLlama, 0).isOk());
  REQUIRE(t.acquire("pod-a", kMistral, 0).isOk());
  REQUIRE(t.acquire("pod-b", kLlama, 0).isOk());
  clock.advanceMs(365LL * 86400 * 1000);
  CHECK(t.expire().empty());
  CHECK(t.holders(kLlama) == std::vector<std::string>{"pod-a", "pod-b"});
  CHECK(t.release("pod-a"));
  CHECK_FALSE(t.release("pod-a"));
  CHECK_FALSE(t.isLeased(kMistral));
  CHECK(t.isLeased(kLlama));  // pod-b still holds it
  CHECK(t.leasedModels() == std::set<ModelRef>{kLlama});
}

TEST_CASE("lease ids and TTLs are validated") {
  FakeClock clock;
  LeaseTable t(clock);
  CHECK_FALSE(t.acquire("", kLlama, 0).isOk());
  CHECK_FALSE(t.acquire("../etc", kLlama, 0).isOk());
  CHECK_FALSE(t.acquire(std::string(129, 'a'), kLlama, 0).isOk());
  CHECK_FALSE(t.acquire("pod", kLlama, -1).isOk());
  CHECK(t.acquire("0b1c2d3e-aaaa-bbbb-cccc-1234567890ab", kLlama, 0).isOk());
}

TEST_CASE("the table survives a round trip through JSON; bad entries are skipped") {
  FakeClock clock;
  LeaseTable t(clock);
  REQUIRE(t.acquire("pod-a", kLlama, 5000).isOk());
  REQUIRE(t.acquire("pod-b", kMistral, 0).isOk());
  LeaseTable back(clock);
  REQUIRE(back.fromJson(t.toJson()).isOk());
  CHECK(back.holders(kLlama) == std::vector<std::string>{"pod-a"});
  CHECK(back.holders(kMistral) == std::vector<std::string>{"pod-b"});
  clock.advanceMs(5001);
  CHECK_FALSE(back.isLeased(kLlama));  // the expiry time was kept

  auto j = nlohmann::json::parse(
      R"({"leases": [{"id": "../x", "models": ["a:b"]}, {"id": "ok", "models": ["bad", 3]},
                     {"id": "good", "models": ["m:v"]}, 7]})");
  LeaseTable hostile(clock);
  REQUIRE(hostile.fromJson(j).isOk());
  CHECK(hostile.size() == 1);
  CHECK(hostile.isLeased(ModelRef{"m", "v"}));
  CHECK_FALSE(hostile.fromJson(nlohmann::json::array()).isOk());
}

}  // namespace
}  // namespace shardcast::agent
