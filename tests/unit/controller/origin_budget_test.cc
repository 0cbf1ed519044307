// RolloutService and origins (issue 3): the per-region origin request budget is
// handed to seeders in PeersReply, and a node that saw its pinned object change
// fails the whole rollout with a message naming the object.
#include <doctest/doctest.h>

#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

struct BudgetFixture : ServiceFixture {
  static ControllerOptions budgetOptions() {
    ControllerOptions o = testOptions();
    o.max_origin_requests_per_region = 5;
    return o;
  }
  InMemoryStateStore store2;
  RolloutService budgeted{registry, clock, store2, budgetOptions(), /*seed=*/42};
};

}  // namespace

TEST_CASE_FIXTURE(ServiceFixture, "without a budget PeersReply carries no origin share") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  CHECK(peers(id, "e1").origin_concurrency == 0);
  CHECK(peers(id, "e2").origin_concurrency == 0);
}

TEST_CASE_FIXTURE(BudgetFixture, "a region's budget is divided among its seeders") {
  for (const char* n : {"e1", "e2", "e3"}) REQUIRE(budgeted.heartbeat(info(n, "east")).isOk());
  REQUIRE(budgeted.heartbeat(info("w1", "west")).isOk());
  auto created = budgeted.createRollout(request());
  REQUIRE(created.isOk());
  uint32_t sum = 0;
  for (const char* n : {"e1", "e2", "e3"}) {
    auto p = budgeted.peers(created->id, n, 0);
    REQUIRE(p.isOk());
    REQUIRE(!p->stripe.empty());
    CHECK(p->origin_concurrency >= 1);
    CHECK(p->origin_concurrency <= 2);
    sum += p->origin_concurrency;
  }
  CHECK(sum == 5);
  auto w = budgeted.peers(created->id, "w1", 0);
  REQUIRE(w.isOk());
  CHECK(w->origin_concurrency == 5);  // alone in its region: the whole budget
}

TEST_CASE_FIXTURE(ServiceFixture, "a node that saw its object change fails the rollout, naming it") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  peers(id, "e1");
  peers(id, "e2");
  api::PieceReport rep;
  rep.node = "e1";
  rep.state = "failed";
  rep.reason = "origin_changed";
  rep.message = "origin pull of piece 3 (weights/a.bin): object changed: mem://bucket/m/weights/a.bin "
                "(pinned ETag \"etag-a\", now \"etag-b\")";
  auto r = service.reportPieces(id, rep);
  REQUIRE(r.isOk());
  CHECK(r->rollout_state == api::kRolloutFailed);
  auto s = status(id);
  CHECK(s.state == api::kRolloutFailed);
  CHECK(s.message.find("origin changed") != std::string::npos);
  CHECK(s.message.find("weights/a.bin") != std::string::npos);
  CHECK(s.message.find("e1") != std::string::npos);
  const api::NodeProgress* e1 = row(s, "e1");
  REQUIRE(e1);
  CHECK(e1->reason == "origin_changed");
  CHECK(e1->message == rep.message);
  CHECK(peers(id, "e2").rollout_state == api::kRolloutFailed);  // the others stop
}

TEST_CASE_FIXTURE(ServiceFixture, "other node failures do not fail the rollout at once") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  peers(id, "e1");
  peers(id, "e2");
  progress(id, "e1", "failed", "no_space");
  CHECK(status(id).state == api::kRolloutInProgress);
}

}  // namespace shardcast::controller::testing
