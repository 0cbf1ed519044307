// The assignments long-poll: immediate answers, waiters woken by changes,
// expired waiters answered with the same cursor, shutdown.
#include <doctest/doctest.h>

#include <optional>

#include "controller/assignment_watch.h"
#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

// Collects the answers of one poll.
struct Poll {
  int calls = 0;
  std::optional<Result<api::Assignments>> answer;

  AssignmentsCallback callback() {
    return [this](Result<api::Assignments> r) {
      ++calls;
      answer = std::move(r);
    };
  }
  const api::Assignments& value() const {
    REQUIRE(calls == 1);
    REQUIRE(answer->isOk());
    return answer->value();
  }
};

}  // namespace

TEST_CASE_FIXTURE(ServiceFixture, "a new node's first poll is answered at once") {
  node("e1", "east");
  Poll p;
  service.watchAssignments("e1", 0, 10000, p.callback());
  CHECK(p.value().cursor > 0);
  CHECK(p.value().rollouts.empty());
}

TEST_CASE_FIXTURE(ServiceFixture, "a waiter is answered when a rollout targets its node") {
  node("e1", "east");
  node("w1", "west");
  Poll first;
  service.watchAssignments("e1", 0, 0, first.callback());
  uint64_t c0 = first.value().cursor;

  Poll east, west;
  service.watchAssignments("e1", c0, 10000, east.callback());
  Poll w0;
  service.watchAssignments("w1", 0, 0, w0.callback());
  service.watchAssignments("w1", w0.value().cursor, 10000, west.callback());
  CHECK(east.calls == 0);
  CHECK(service.waiterCount() == 2);

  std::string id = create({"east"});
  const auto& a = east.value();
  CHECK(a.cursor > c0);
  REQUIRE(a.rollouts.size() == 1);
  CHECK(a.rollouts[0].rollout_id == id);
  CHECK(a.rollouts[0].model.toString() == "m:v1");
  CHECK(a.rollouts[0].state == api::kRolloutInProgress);
  CHECK(west.calls == 0);  // not targeted: still waiting
  CHECK(service.waiterCount() == 1);

  // Polling again with the new cursor waits; a cancel wakes it with the new state.
  Poll again;
  service.watchAssignments("e1", a.cursor, 10000, again.callback());
  CHECK(again.calls == 0);
  REQUIRE(service.cancelRollout(id).isOk());
  CHECK(again.value().cursor > a.cursor);
  CHECK(again.value().rollouts[0].state == api::kRolloutCancelled);

  // A poll with an old cursor is answered at once.
  Poll old;
  service.watchAssignments("e1", c0, 10000, old.callback());
  CHECK(old.value().rollouts.size() == 1);
}

TEST_CASE_FIXTURE(ServiceFixture, "an expired waiter is answered with the same cursor") {
  node("e1", "east");
  std::string id = create();
  Poll first;
  service.watchAssignments("e1", 0, 0, first.callback());
  uint64_t c = first.value().cursor;
  REQUIRE(first.value().rollouts.size() == 1);

  Poll p;
  service.watchAssignments("e1", c, 5000, p.callback());
  clock.advanceMs(4999);
  service.tick();
  CHECK(p.calls == 0);
  clock.advanceMs(1);
  service.tick();
  CHECK(p.value().cursor == c);
  REQUIRE(p.value().rollouts.size() == 1);
  CHECK(p.value().rollouts[0].rollout_id == id);
  CHECK(service.waiterCount() == 0);
}

TEST_CASE_FIXTURE(ServiceFixture, "wait_ms is capped at 30 s; wait_ms 0 answers at once") {
  node("e1", "east");
  Poll first;
  service.watchAssignments("e1", 0, 0, first.callback());
  uint64_t c = first.value().cursor;
  Poll now;
  service.watchAssignments("e1", c, 0, now.callback());
  CHECK(now.value().cursor == c);

  Poll p;
  service.watchAssignments("e1", c, 1'000'000'000, p.callback());
  clock.advanceMs(30000);
  service.tick();
  CHECK(p.value().cursor == c);
}

TEST_CASE_FIXTURE(ServiceFixture, "a cursor from the future (a restarted controller) is answered at once") {
  node("e1", "east");
  Poll p;
  service.watchAssignments("e1", UINT64_MAX - 1, 10000, p.callback());
  CHECK(p.calls == 1);
  CHECK(p.value().cursor < UINT64_MAX - 1);
}

TEST_CASE_FIXTURE(ServiceFixture, "unknown nodes are told to register") {
  Poll p;
  service.watchAssignments("ghost", 0, 10000, p.callback());
  REQUIRE(p.calls == 1);
  CHECK(p.answer->status().reason() == "unknown_node");
}

TEST_CASE_FIXTURE(ServiceFixture, "shutdown answers every waiter and later polls at once") {
  node("e1", "east");
  Poll first;
  service.watchAssignments("e1", 0, 0, first.callback());
  uint64_t c = first.value().cursor;
  Poll a, b;
  service.watchAssignments("e1", c, 10000, a.callback());
  service.shutdown();
  CHECK(a.value().cursor == c);
  service.watchAssignments("e1", c, 10000, b.callback());
  CHECK(b.value().cursor == c);
  CHECK(service.waiterCount() == 0);
}

TEST_CASE("AssignmentWatch keeps at most a few waiters per node") {
  AssignmentWatch watch(100);
  int answered = 0;
  std::vector<AssignmentWaiter> evicted;
  for (int i = 0; i < 6; ++i) {
    auto out = watch.addWaiter(AssignmentWaiter{"n", 100, 1000 + i, [&](Result<api::Assignments>) { ++answered; }});
    for (auto& w : out) evicted.push_back(std::move(w));
  }
  CHECK(evicted.size() == 2);
  CHECK(evicted[0].deadline_ms == 1000);  // the oldest go first
  CHECK(watch.waiterCount() == AssignmentWatch::kMaxWaitersPerNode);
  CHECK(!watch.changedSince("n", 100));
  auto woken = watch.markChanged({"n"});
  CHECK(woken.size() == 4);
  CHECK(watch.counter() == 101);
  CHECK(watch.changedSince("n", 100));
  CHECK(!watch.changedSince("other", 100));
  CHECK(watch.changedSince("other", 102));  // from the future
}

}  // namespace shardcast::controller::testing
