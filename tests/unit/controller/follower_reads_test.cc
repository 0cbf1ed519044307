// FollowerReads (issue 6: followers answer reads): a view of the leader's
// committed state, loaded again at most once per max age, that shows what the
// leader shows for durable fields; a store that cannot be read is an error, not
// an empty list.
#include "controller/follower_reads.h"

#include <doctest/doctest.h>

#include "controller/handlers.h"
#include "controller/leader_gate.h"
#include "controller/router.h"
#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

// A store whose reads can be made to fail, around the fixture's store.
class FlakyStore : public StateStore {
 public:
  explicit FlakyStore(StateStore& inner) : inner_(inner) {}
  Result<StateSnapshot> load() const override {
    if (fail) return unavailable("etcd: connection refused");
    return inner_.load();
  }
  Status commit(const std::vector<StateOp>& ops, std::optional<uint64_t> if_revision) override {
    return inner_.commit(ops, if_revision);
  }
  bool fail = false;

 private:
  StateStore& inner_;
};

}  // namespace

TEST_CASE_FIXTURE(ServiceFixture, "a follower's view shows the leader's committed rollouts and manifests") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  auto s1 = peers(id, "e1").stripe;
  report(id, "e1", s1);

  FollowerReads reads(store, clock);
  auto view = reads.view();
  REQUIRE_MESSAGE(view.isOk(), view.status().toString());
  CHECK((*view)->revision() > 0);
  auto leader = service.getRollout(id);
  auto follower = (*view)->getRollout(id);
  REQUIRE(leader.isOk());
  REQUIRE(follower.isOk());
  CHECK(follower->id == leader->id);
  CHECK(follower->state == leader->state);
  CHECK(follower->model == leader->model);
  CHECK(follower->piece_count == leader->piece_count);
  CHECK(follower->total_bytes == leader->total_bytes);
  REQUIRE(follower->regions.size() == 1);
  CHECK(follower->regions[0].pieces_accepted == s1.size());
  CHECK(follower->nodes.empty());  // node rows live in the leader's memory only
  CHECK((*view)->listRollouts().size() == 1);
  auto m = (*view)->manifest(*parseModelRef("m:v1"));
  REQUIRE(m.isOk());
  CHECK(m->pieceCount() == leader->piece_count);
  CHECK((*view)->getRollout("ro-none").status().code() == StatusCode::kNotFound);
  CHECK((*view)->manifest(*parseModelRef("m:v2")).status().code() == StatusCode::kNotFound);
}

TEST_CASE_FIXTURE(ServiceFixture, "a follower's view is loaded again only once it is older than the max age") {
  FollowerReads reads(store, clock, /*max_age_ms=*/1000);
  auto first = reads.view();
  REQUIRE(first.isOk());
  CHECK((*first)->listRollouts().empty());

  node("e1", "east");
  std::string id = create();
  clock.advanceMs(999);
  auto cached = reads.view();
  REQUIRE(cached.isOk());
  CHECK(cached->get() == first->get());  // the same view, not a new load
  CHECK((*cached)->listRollouts().empty());

  clock.advanceMs(1);
  auto fresh = reads.view();
  REQUIRE(fresh.isOk());
  CHECK((*fresh)->revision() > (*first)->revision());
  REQUIRE((*fresh)->listRollouts().size() == 1);
  CHECK((*fresh)->listRollouts()[0].id == id);
}

TEST_CASE_FIXTURE(ServiceFixture, "a follower that cannot read the store says so instead of answering empty") {
  FlakyStore flaky(store);
  FollowerReads reads(flaky, clock, /*max_age_ms=*/1000);
  node("e1", "east");
  create();
  REQUIRE(reads.view().isOk());

  flaky.fail = true;
  clock.advanceMs(1500);
  auto stale = reads.view();  // a little old is better than nothing
  REQUIRE(stale.isOk());
  CHECK((*stale)->listRollouts().size() == 1);

  clock.advanceMs(10000);
  auto gone = reads.view();
  REQUIRE_FALSE(gone.isOk());
  CHECK(gone.status().code() == StatusCode::kUnavailable);
  CHECK(gone.status().message().find("connection refused") != std::string::npos);
}

TEST_CASE_FIXTURE(ServiceFixture, "the routes answer a follower's reads from its view; what it lacks goes to the leader") {
  node("e1", "east");
  std::string id = create();
  FollowerReads reads(store, clock);
  AllowAllAuthenticator auth;
  Router router(auth);
  registerRoutes(router, service, [] { return std::string("follower"); }, [&]() -> Result<ReadSource> {
    ASSIGN_OR_RETURN(std::shared_ptr<const FollowerView> view, reads.view());
    const auto revision = static_cast<int64_t>(view->revision());
    return ReadSource{std::move(view), revision, "http://leader:7400"};
  });
  auto get = [&](const std::string& path) {
    ApiRequest r;
    r.method = "GET";
    r.path = path;
    ApiResponse out;
    router.handle(r, [&](ApiResponse a) { out = std::move(a); });
    return out;
  };
  auto header = [](const ApiResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string();
  };

  ApiResponse found = get("/v1/rollouts/" + id);
  CHECK(found.status == 200);
  CHECK(nlohmann::json::parse(found.body)["id"] == id);
  CHECK(header(found, "X-Shardcast-Follower-Revision") == std::to_string(store.load()->revision));
  CHECK(get("/v1/rollouts").status == 200);
  CHECK(get("/v1/manifests/m/v1").status == 200);

  // Not in the view: maybe newer than it. The leader decides, not the follower.
  ApiResponse missing = get("/v1/rollouts/ro-newer");
  CHECK(missing.status == 503);
  CHECK(nlohmann::json::parse(missing.body)["error"]["code"] == "not_leader");
  CHECK(header(missing, kLeaderHeader) == "http://leader:7400");
  CHECK(get("/v1/manifests/m/v9").status == 503);
}

}  // namespace shardcast::controller::testing
