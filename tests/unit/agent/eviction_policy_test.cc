#include "agent/eviction_policy.h"

#include <doctest/doctest.h>

namespace shardcast::agent {
namespace {

StoredVersion published(const std::string& name, uint64_t bytes, int64_t last_use, bool leased = false) {
  return StoredVersion{ModelRef{name, "v1"}, bytes, last_use, leased, true, false};
}

TEST_CASE("a version that fits is admitted without evicting anything") {
  AdmissionInput in{100, UINT64_MAX, 30, {published("a", 40, 1), published("b", 20, 2)}};
  auto d = EvictionPolicy().admit(in);
  CHECK(d.fits);
  CHECK(d.evict.empty());
  CHECK(d.used_bytes == 60);
}

TEST_CASE("eviction takes least recently used, unleased, published versions first") {
  AdmissionInput in{100, UINT64_MAX, 40,
                    {published("newest", 30, 300), published("oldest", 30, 100),
                     published("leased", 30, 50, true)}};
  auto d = EvictionPolicy().admit(in);
  REQUIRE(d.fits);
  CHECK(d.evict == std::vector<ModelRef>{ModelRef{"oldest", "v1"}});
  CHECK(d.freed_bytes == 30);

  in.need_bytes = 70;  // needs both unleased ones, oldest first
  d = EvictionPolicy().admit(in);
  REQUIRE(d.fits);
  CHECK(d.evict == std::vector<ModelRef>{ModelRef{"oldest", "v1"}, ModelRef{"newest", "v1"}});
}

TEST_CASE("partial, in-use and leased versions are never evicted; no fit evicts nothing") {
  StoredVersion partial{ModelRef{"partial", "v1"}, 30, 1, false, false, false};
  StoredVersion fetching{ModelRef{"fetching", "v1"}, 30, 1, false, true, true};
  AdmissionInput in{100, UINT64_MAX, 40, {partial, fetching, published("leased", 30, 1, true)}};
  auto d = EvictionPolicy().admit(in);
  CHECK_FALSE(d.fits);
  CHECK(d.evict.empty());
  CHECK(d.used_bytes == 90);
  CHECK(d.leased_bytes == 30);
  CHECK(d.evictable_bytes == 0);
  CHECK(d.explain(40, 100) == "need 40 bytes; disk budget 100 bytes, used 90 (leased 30), evictable 0");

  // Evicting every candidate would still not be enough: nothing is evicted.
  AdmissionInput in2{100, UINT64_MAX, 90, {published("a", 30, 1), published("b", 60, 2, true)}};
  d = EvictionPolicy().admit(in2);
  CHECK_FALSE(d.fits);
  CHECK(d.evict.empty());
}

TEST_CASE("the file system's free space limits admission too; evicted bytes count as freed") {
  AdmissionInput in{1000, 10, 30, {published("a", 25, 1)}};
  auto d = EvictionPolicy().admit(in);
  REQUIRE(d.fits);
  CHECK(d.evict.size() == 1);
  in.fs_free_bytes = 1;
  CHECK_FALSE(EvictionPolicy().admit(in).fits);
  CHECK_FALSE(EvictionPolicy().admit(AdmissionInput{100, UINT64_MAX, 101, {}}).fits);
}

}  // namespace
}  // namespace shardcast::agent
