// RolloutService, public side: creation and its errors, immutability, durable
// writes, rollout state, cancel.
#include <doctest/doctest.h>

#include "controller/api_types.h"
#include "controller/rollout_codec.h"
#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {

TEST_CASE_FIXTURE(ServiceFixture, "create targets live matching nodes and plans their regions") {
  node("e1", "east");
  node("e2", "east");
  node("w1", "west");
  node("s1", "south");
  node("e0", "east");
  clock.advanceMs(31000);  // e0 stays silent: dead
  heartbeat({"e1", "e2"}, "east");
  heartbeat({"w1"}, "west");
  heartbeat({"s1"}, "south");

  auto s = service.createRollout(request("m:v1", {kSource}, {"east", "west"}));
  REQUIRE(s.isOk());
  CHECK(s->id.size() == 15);
  CHECK(s->id.rfind("ro-", 0) == 0);
  CHECK(s->state == api::kRolloutInProgress);
  CHECK(s->piece_count == 5);
  CHECK(s->file_count == 2);
  CHECK(s->total_bytes == 3 * kPiece + 600);
  CHECK(s->piece_size == kPiece);
  CHECK(s->created_at_ms == clock.wallMs());
  REQUIRE(s->nodes.size() == 3);
  CHECK(row(*s, "e0") == nullptr);
  CHECK(row(*s, "s1") == nullptr);
  CHECK(row(*s, "e1")->state == api::kNodePending);
  CHECK(region(*s, "east")->seeders == 2);
  CHECK(region(*s, "east")->nodes_total == 2);
  CHECK(region(*s, "west")->seeders == 1);
  CHECK(origin.lastTimeoutMs() == 1234);

  auto snap = store.load();
  REQUIRE(snap.isOk());
  CHECK(snap->entries.count(rolloutKey(s->id)));
  CHECK(snap->entries.count("manifests/m/v1"));
  CHECK(snap->entries.count(stripeKey(s->id, "east")));
  CHECK(snap->entries.count(stripeKey(s->id, "west")));
  CHECK(snap->entries.at(rolloutKey(s->id))["state"] == "in_progress");
  CHECK(snap->entries.at(stripeKey(s->id, "east"))["seeders"] == nlohmann::json({"e1", "e2"}));

  auto m = service.manifest(*parseModelRef("m:v1"));
  REQUIRE(m.isOk());
  CHECK(m->pieceCount() == 5);
  CHECK(m->files()[1].pins == std::vector<std::string>{"etag-a"});
}

TEST_CASE_FIXTURE(ServiceFixture, "the same ref again: same content is a new rollout, different content 409") {
  std::string first = create();
  std::string second = create();
  CHECK(first != second);
  CHECK(service.listRollouts().size() == 2);

  origin.set(kSource, {{"weights/a.bin", 3 * kPiece + 101, "etag-a2", ""},
                       {"config.json", 500, "etag-c", ""}});
  auto r = service.createRollout(request("m:v1"));
  REQUIRE(!r.isOk());
  CHECK(r.status().reason() == "version_immutable");
  CHECK(httpStatusOf(r.status()) == 409);
  CHECK(service.listRollouts().size() == 2);
  // A new version of the same name is fine.
  CHECK(service.createRollout(request("m:v2")).isOk());
}

TEST_CASE_FIXTURE(ServiceFixture, "source problems are 422 with a reason, an unknown scheme 400") {
  origin.fail("mem://down/", unavailable("connection refused"));
  auto r = service.createRollout(request("m:v1", {"mem://down/"}));
  CHECK(r.status().reason() == "source_unreachable");
  CHECK(httpStatusOf(r.status()) == 422);
  CHECK(r.status().message().find("mem://down/") != std::string::npos);

  origin.fail("mem://slow/", deadlineExceeded("timed out"));
  CHECK(service.createRollout(request("m:v1", {"mem://slow/"})).status().reason() == "source_unreachable");

  CHECK(service.createRollout(request("m:v1", {"mem://missing/"})).status().reason() == "source_not_found");

  origin.set("mem://empty/", {});
  r = service.createRollout(request("m:v1", {"mem://empty/"}));
  CHECK(r.status().reason() == "empty_source");
  CHECK(httpStatusOf(r.status()) == 422);

  origin.set("mem://evil/", {{"../etc/passwd", 10, "", ""}});
  r = service.createRollout(request("m:v1", {"mem://evil/"}));
  CHECK(r.status().reason() == "source_invalid");
  CHECK(httpStatusOf(r.status()) == 422);

  origin.set("mem://other/", {{"weights/a.bin", 3 * kPiece + 100, "x", ""}});  // lacks config.json
  r = service.createRollout(request("m:v1", {kSource, "mem://other/"}));
  CHECK(r.status().reason() == "sources_differ");
  CHECK(httpStatusOf(r.status()) == 422);

  origin.set("mem://sizes/", {{"weights/a.bin", 3 * kPiece, "x", ""}, {"config.json", 500, "y", ""}});
  CHECK(service.createRollout(request("m:v1", {kSource, "mem://sizes/"})).status().reason() ==
        "sources_differ");

  r = service.createRollout(request("m:v1", {"gopher://x/"}));
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(httpStatusOf(r.status()) == 400);
  CHECK(r.status().reason() == "invalid_argument");

  CHECK(service.listRollouts().empty());
  CHECK(!service.manifest(*parseModelRef("m:v1")).isOk());
}

TEST_CASE_FIXTURE(ServiceFixture, "replicas: one pin per replica, the publisher's checksum kept") {
  std::string sum = sha256Hex("config");
  origin.set("mem://mirror/", {{"config.json", 500, "m-etag-c", sum}, {"weights/a.bin", 3 * kPiece + 100, "m-etag-a", ""}});
  auto s = service.createRollout(request("m:v1", {kSource, "mem://mirror/"}));
  REQUIRE(s.isOk());
  auto m = service.manifest(*parseModelRef("m:v1"));
  REQUIRE(m.isOk());
  CHECK(m->files()[0].path == "config.json");
  CHECK(m->files()[0].pins == std::vector<std::string>{"etag-c", "m-etag-c"});
  CHECK(m->files()[0].sha256 == sum);
}

TEST_CASE_FIXTURE(ServiceFixture, "a failed commit creates nothing") {
  node("e1", "east");
  store.failNextCommitsForTest(1);
  auto r = service.createRollout(request());
  REQUIRE(!r.isOk());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(service.listRollouts().empty());
  CHECK(!service.manifest(*parseModelRef("m:v1")).isOk());
  CHECK(store.load()->entries.empty());
  CHECK(service.createRollout(request()).isOk());
}

TEST_CASE_FIXTURE(ServiceFixture, "ready when every targeted node is ready; terminal once") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  progress(id, "e1", "ready");
  CHECK(status(id).state == api::kRolloutInProgress);
  clock.advanceMs(500);
  auto reply = progress(id, "e2", "ready");
  CHECK(reply.rollout_state == api::kRolloutReady);
  auto s = status(id);
  CHECK(s.state == api::kRolloutReady);
  CHECK(s.finished_at_ms == clock.wallMs());
  CHECK(region(s, "east")->state == api::kRolloutReady);
  CHECK(region(s, "east")->nodes_ready == 2);
  CHECK(store.load()->entries.at(rolloutKey(id))["state"] == "ready");

  // A node joining later still gets the model and shows up; the state stays.
  node("e3", "east");
  progress(id, "e3", "fetching");
  s = status(id);
  CHECK(s.state == api::kRolloutReady);
  REQUIRE(row(s, "e3") != nullptr);
  CHECK(row(s, "e3")->state == api::kNodeFetching);
}

TEST_CASE_FIXTURE(ServiceFixture, "degraded when some nodes failed, failed when all did") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  progress(id, "e1", "ready");
  progress(id, "e2", "failed", "no_space");
  auto s = status(id);
  CHECK(s.state == api::kRolloutDegraded);
  CHECK(s.message.find("e2 (no_space)") != std::string::npos);
  CHECK(row(s, "e2")->reason == "no_space");
  CHECK(region(s, "east")->nodes_failed == 1);

  std::string id2 = create();
  progress(id2, "e1", "failed", "origin_error");
  progress(id2, "e2", "failed", "no_space");
  CHECK(status(id2).state == api::kRolloutFailed);
}

TEST_CASE_FIXTURE(ServiceFixture, "a node silent for longer than T counts as failed (node_lost)") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  progress(id, "e1", "ready");
  clock.advanceMs(20000);
  heartbeat({"e1"}, "east");
  service.tick();
  CHECK(status(id).state == api::kRolloutInProgress);
  clock.advanceMs(15000);  // e2 silent for 35 s
  heartbeat({"e1"}, "east");
  service.tick();
  auto s = status(id);
  CHECK(s.state == api::kRolloutDegraded);
  CHECK(row(s, "e2")->state == api::kNodeFailed);
  CHECK(row(s, "e2")->reason == "node_lost");
}

TEST_CASE_FIXTURE(ServiceFixture, "cancel") {
  node("e1", "east");
  std::string id = create();
  auto c = service.cancelRollout(id);
  REQUIRE(c.isOk());
  CHECK(c->state == api::kRolloutCancelled);
  CHECK(c->finished_at_ms == clock.wallMs());
  CHECK(service.cancelRollout(id).isOk());  // idempotent
  auto p = peers(id, "e1");
  CHECK(p.rollout_state == api::kRolloutCancelled);
  CHECK(p.stripe.empty());
  CHECK(store.load()->entries.at(rolloutKey(id))["state"] == "cancelled");

  std::string done = create();
  progress(done, "e1", "ready");
  auto late = service.cancelRollout(done);
  CHECK(late.status().code() == StatusCode::kFailedPrecondition);
  CHECK(httpStatusOf(late.status()) == 409);
  CHECK(service.cancelRollout("ro-nope").status().code() == StatusCode::kNotFound);
}

TEST_CASE_FIXTURE(ServiceFixture, "list is ordered by creation") {
  std::string a = create();
  clock.advanceMs(10);
  std::string b = create();
  auto list = service.listRollouts();
  REQUIRE(list.size() == 2);
  CHECK(list[0].id == a);
  CHECK(list[1].id == b);
  CHECK(service.getRollout("ro-missing").status().code() == StatusCode::kNotFound);
}

TEST_CASE_FIXTURE(ServiceFixture, "node registrations are validated") {
  auto bad = info("bad name", "east");
  CHECK(service.heartbeat(bad).status().code() == StatusCode::kInvalidArgument);
  bad = info("n1", std::string(200, 'r'));
  CHECK(!service.heartbeat(bad).isOk());
  bad = info("n1", "east");
  bad.peer_addr = "x y";
  CHECK(!service.heartbeat(bad).isOk());
  auto ok = service.heartbeat(info("n1", "east"));
  REQUIRE(ok.isOk());
  CHECK(ok->heartbeat_interval_ms == 2000);
}

}  // namespace shardcast::controller::testing
