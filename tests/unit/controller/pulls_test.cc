// On-demand pulls (POST /v1/nodes/{node}/pulls): RolloutService::requestPull.
#include <doctest/doctest.h>

#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

TEST_CASE_FIXTURE(ServiceFixture, "a pulled node in a region with no copy becomes its seeder") {
  node("e1", "east");
  node("w1", "west");
  std::string id = create({"east"});
  CHECK(service.peers(id, "w1", 0).status().reason() == "not_targeted");

  auto r = service.requestPull("w1", ModelRef{"m", "v1"});
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  CHECK(r->id == id);
  CHECK(row(*r, "w1") != nullptr);
  auto p = peers(id, "w1");
  CHECK(p.stripe.size() == 5);  // alone in west: it pulls every piece from the origin
  CHECK(p.peers.empty());
  CHECK(peers(id, "e1").stripe.size() == 5);  // east's plan is untouched

  // Asking again changes nothing; the record keeps the node (durable).
  REQUIRE(service.requestPull("w1", ModelRef{"m", "v1"}).isOk());
  CHECK(row(status(id), "w1") != nullptr);
}

TEST_CASE_FIXTURE(ServiceFixture, "a pulled node joins its region's swarm when the region has a copy") {
  node("e1", "east", "a", {{"gpu", "h100"}});
  node("e2", "east", "a");
  auto req = request("m:v1", {kSource}, {});
  req.target.selector = {{"gpu", "h100"}};
  auto created = service.createRollout(req);
  REQUIRE(created.isOk());
  std::string id = created->id;
  CHECK(peers(id, "e1").stripe.size() == 5);
  REQUIRE(service.requestPull("e2", ModelRef{"m", "v1"}).isOk());
  auto p = peers(id, "e2");
  CHECK(p.stripe.empty());  // the plan is never recomputed: e2 fetches from peers
  REQUIRE(p.peers.size() == 1);
  CHECK(p.peers[0].name == "e1");
}

TEST_CASE_FIXTURE(ServiceFixture, "a model never deployed cannot be pulled; unknown nodes are refused") {
  node("e1", "east");
  auto r = service.requestPull("e1", ModelRef{"never", "v1"});
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK(r.status().reason() == "unknown_model");
  CHECK(r.status().message().find("deploy it first") != std::string::npos);
  CHECK(service.requestPull("ghost", ModelRef{"m", "v1"}).status().reason() == "unknown_node");

  std::string id = create({"west"});
  REQUIRE(service.cancelRollout(id).isOk());
  auto c = service.requestPull("e1", ModelRef{"m", "v1"});
  CHECK(c.status().reason() == "no_active_rollout");
}

}  // namespace
}  // namespace shardcast::controller::testing
