// Restoring the controller after a restart (issue 6): a second RolloutService
// restored from the first one's StateStore — in memory, and through the journal
// on disk — has the same rollouts, manifests, stripe plans, accepted-hash log and
// seeder confirmations; stripes are reused, never re-planned; finished pieces
// never move; nothing settles while agents come back; inconsistent state is an
// error.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "controller/journal_state_store.h"
#include "controller/rollout_codec.h"
#include "controller/rollout_restore.h"
#include "tests/unit/common/temp_dir.h"
#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

std::set<uint32_t> asSet(const std::vector<uint32_t>& v) { return {v.begin(), v.end()}; }

// A controller restarted on the fixture's store, clock and origin.
struct Restarted {
  RolloutService service;
  Restarted(ServiceFixture& f, StateStore& store)
      : service(f.registry, f.clock, store, testOptions(), /*seed=*/7) {
    auto snapshot = store.load();
    REQUIRE(snapshot.isOk());
    Status s = service.restore(*snapshot);
    REQUIRE_MESSAGE(s.isOk(), s.toString());
  }
  void node(ServiceFixture& f, const std::string& name, const std::string& region,
            std::vector<std::string> models = {}) {
    api::NodeInfo info = f.info(name, region);
    info.incarnation = "inc-2";
    info.models = std::move(models);
    REQUIRE(service.heartbeat(info).isOk());
  }
  api::PeersReply peers(const std::string& id, const std::string& node, uint64_t cursor = 0) {
    auto r = service.peers(id, node, cursor);
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    return *r;
  }
  api::RolloutStatus status(const std::string& id) {
    auto s = service.getRollout(id);
    REQUIRE(s.isOk());
    return *s;
  }
  void progress(const std::string& id, const std::string& node, const std::string& state) {
    api::PieceReport rep;
    rep.node = node;
    rep.state = state;
    REQUIRE(service.reportPieces(id, rep).isOk());
  }
};

uint32_t accepted(const api::RolloutStatus& s, const std::string& region) {
  for (const auto& r : s.regions) {
    if (r.name == region) return r.pieces_accepted;
  }
  return 0;
}

}  // namespace

TEST_CASE_FIXTURE(ServiceFixture, "restore brings back rollouts, plans, the hash log and confirmations") {
  node("e1", "east");
  node("e2", "east");
  node("w1", "west");
  std::string id = create();
  auto s1 = peers(id, "e1").stripe;
  auto s2 = peers(id, "e2").stripe;
  REQUIRE(peers(id, "w1").stripe.size() == 5);
  report(id, "e1", s1);
  report(id, "w1", {s1[0], s2[0]});  // west accepts s2[0] first, confirms s1[0]
  auto before = peers(id, "e2");
  REQUIRE(before.hashes.size() == s1.size() + 1);

  Restarted r(*this, store);
  auto st = r.status(id);
  CHECK(st.state == api::kRolloutInProgress);
  CHECK(st.model.toString() == "m:v1");
  CHECK(st.piece_count == 5);
  CHECK(st.nodes.empty());  // rows come back as agents report
  CHECK(accepted(st, "east") == s1.size());
  CHECK(accepted(st, "west") == 2);
  CHECK(r.service.manifest(*parseModelRef("m:v1")).isOk());

  r.node(*this, "e1", "east");
  r.node(*this, "e2", "east");
  r.node(*this, "w1", "west");
  CHECK(r.peers(id, "e1").stripe == s1);  // the same plan, not a new one
  CHECK(r.peers(id, "e2").stripe == s2);
  auto after = r.peers(id, "e2");
  CHECK(after.hash_cursor == before.hash_cursor);
  REQUIRE(after.hashes.size() == before.hashes.size());
  for (size_t i = 0; i < after.hashes.size(); ++i) {
    CHECK(after.hashes[i].piece == before.hashes[i].piece);
    CHECK(after.hashes[i].sha256 == before.hashes[i].sha256);
  }
  // An agent's cursor from before the restart stays valid.
  CHECK(r.peers(id, "e2", before.hash_cursor).hashes.empty());
}

TEST_CASE_FIXTURE(ServiceFixture, "after a restore, absent seeders keep their stripes for T; finished pieces never move") {
  auto [id, s1, s2] = twoSeedersOneDone();  // e1 finished one piece of its stripe

  Restarted r(*this, store);
  r.node(*this, "e2", "east");
  clock.advanceMs(testOptions().node_timeout_ms - 1);
  CHECK(r.peers(id, "e2").stripe == s2);  // e1 may still come back

  clock.advanceMs(2);  // T passed: e1 is gone
  r.node(*this, "e2", "east");
  auto moved = asSet(r.peers(id, "e2").stripe);
  std::set<uint32_t> want = asSet(s2);
  want.insert(s1.begin() + 1, s1.end());  // only e1's unfinished pieces
  CHECK(moved == want);
  CHECK(!moved.count(s1[0]));
}

TEST_CASE_FIXTURE(ServiceFixture, "nothing settles while agents come back; a node holding the model is ready") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  progress(id, "e1", "ready");
  progress(id, "e2", "fetching");

  Restarted r(*this, store);
  r.node(*this, "e1", "east", {"m:v1"});  // its worker finished long ago
  r.service.tick();
  auto st = r.status(id);
  REQUIRE(st.nodes.size() == 1);
  CHECK(st.nodes[0].state == api::kNodeReady);
  CHECK(st.state == api::kRolloutInProgress);  // e2 is not back yet

  clock.advanceMs(testOptions().node_timeout_ms / 2);
  r.node(*this, "e2", "east");
  r.progress(id, "e2", "fetching");
  r.service.tick();
  CHECK(r.status(id).state == api::kRolloutInProgress);
  r.progress(id, "e2", "ready");
  r.node(*this, "e1", "east", {"m:v1"});
  clock.advanceMs(testOptions().node_timeout_ms / 2 + 1);
  r.service.tick();
  st = r.status(id);
  CHECK(st.state == api::kRolloutReady);
  CHECK(st.nodes.size() == 2);
}

TEST_CASE_FIXTURE(ServiceFixture, "the node registry survives a restore; a node that stays away is dead after T") {
  node("e1", "east");
  node("e2", "east", "z2");
  service.tick();  // registrations are stored in a batch by the tick
  auto stored = store.load();
  REQUIRE(stored.isOk());
  REQUIRE(stored->entries.count("nodes/e2"));
  CHECK(stored->entries.at("nodes/e2")["zone"] == "z2");
  CHECK(stored->entries.at("nodes/e2")["models"].empty());  // what it holds, it reports again

  Restarted r(*this, store);
  // Known without registering again: a deploy right after the restart plans for both.
  origin.set("mem://bucket/m2/", {{"a.bin", 2 * kPiece, "etag-m2", ""}});
  auto first = r.service.createRollout(request("m:v2", {"mem://bucket/m2/"}));
  REQUIRE_MESSAGE(first.isOk(), first.status().toString());
  REQUIRE(first->regions.size() == 1);
  CHECK(first->regions[0].seeders == 2);

  // e2 comes back, e1 does not: after T, e1 is dead and a new deploy leaves it out.
  clock.advanceMs(testOptions().node_timeout_ms / 2);
  r.node(*this, "e2", "east");
  clock.advanceMs(testOptions().node_timeout_ms / 2 + 1);
  r.node(*this, "e2", "east");
  origin.set("mem://bucket/m3/", {{"a.bin", 2 * kPiece, "etag-m3", ""}});
  auto later = r.service.createRollout(request("m:v3", {"mem://bucket/m3/"}));
  REQUIRE_MESSAGE(later.isOk(), later.status().toString());
  REQUIRE(later->regions.size() == 1);
  CHECK(later->regions[0].seeders == 1);
}

TEST_CASE_FIXTURE(ServiceFixture, "a fleet registering at once is stored in a few commits of at most 100 nodes") {
  for (int i = 0; i < 250; ++i) node("n" + std::to_string(1000 + i), "east");
  const uint64_t before = store.load()->revision;
  service.tick();
  auto after = store.load();
  REQUIRE(after.isOk());
  CHECK(after->revision - before == 3);  // 100 + 100 + 50
  size_t stored = 0;
  for (const auto& [key, value] : after->entries) stored += key.rfind("nodes/", 0) == 0;
  CHECK(stored == 250);
  service.tick();
  CHECK(store.load()->revision == after->revision);  // nothing new: nothing written
  node("n1000", "west");                              // moved: stored again
  service.tick();
  CHECK(store.load()->entries.at("nodes/n1000")["region"] == "west");
}

TEST_CASE_FIXTURE(ServiceFixture, "a stored node under another name's key is corruption") {
  node("e1", "east");
  service.tick();
  auto snap = store.load();
  REQUIRE(snap.isOk());
  StateSnapshot bad = *snap;
  bad.entries["nodes/e9"] = bad.entries.at("nodes/e1");
  auto restored = restoreRollouts(bad);
  REQUIRE_FALSE(restored.isOk());
  CHECK(restored.status().code() == StatusCode::kCorruption);
  CHECK(restored.status().message().find("e9") != std::string::npos);
}

TEST_CASE_FIXTURE(ServiceFixture, "ended rollouts and immutable versions survive a restore") {
  node("e1", "east");
  std::string id = create();
  REQUIRE(service.cancelRollout(id).isOk());

  Restarted r(*this, store);
  auto st = r.status(id);
  CHECK(st.state == api::kRolloutCancelled);
  CHECK(st.message == "cancelled");
  CHECK(st.finished_at_ms > 0);
  REQUIRE(r.service.listRollouts().size() == 1);

  origin.set(kSource, {{"weights/a.bin", 7 * kPiece, "etag-x", ""}});
  auto again = r.service.createRollout(request());
  REQUIRE(!again.isOk());
  CHECK(again.status().reason() == "version_immutable");
}

TEST_CASE_FIXTURE(ServiceFixture, "restore through the journal on disk, after a reopen") {
  shardcast::testing::TempDir dir;
  auto journal = JournalStateStore::open(makePosixJournalFs(), dir.path(), JournalOptions{2});
  REQUIRE(journal.isOk());
  RolloutService first(registry, clock, **journal, testOptions(), 3);
  REQUIRE(first.heartbeat(info("e1", "east")).isOk());
  REQUIRE(first.heartbeat(info("e2", "east")).isOk());
  auto created = first.createRollout(request());
  REQUIRE(created.isOk());
  const std::string id = created->id;
  auto s1 = first.peers(id, "e1", 0)->stripe;
  auto s2 = first.peers(id, "e2", 0)->stripe;
  api::PieceReport rep;
  rep.node = "e1";
  for (uint32_t p : s1) rep.hashes.push_back(api::PieceHash{p, hashOf(p)});
  REQUIRE(first.reportPieces(id, rep).isOk());
  journal->reset();  // the controller is gone

  auto reopened = JournalStateStore::open(makePosixJournalFs(), dir.path(), JournalOptions{2});
  REQUIRE_MESSAGE(reopened.isOk(), reopened.status().toString());
  Restarted r(*this, **reopened);
  r.node(*this, "e1", "east");
  r.node(*this, "e2", "east");
  CHECK(r.peers(id, "e1").stripe == s1);
  CHECK(r.peers(id, "e2").stripe == s2);
  CHECK(r.peers(id, "e2").hashes.size() == s1.size());
  CHECK(accepted(r.status(id), "east") == s1.size());
}

TEST_CASE_FIXTURE(ServiceFixture, "inconsistent stored state is Corruption, and nothing is restored") {
  node("e1", "east");
  std::string id = create();
  report(id, "e1", peers(id, "e1").stripe);
  StateSnapshot good = *store.load();
  RolloutService fresh(registry, clock, store, testOptions(), 9);

  StateSnapshot no_manifest = good;
  no_manifest.entries.erase(manifestKey(*parseModelRef("m:v1")));
  Status s = fresh.restore(no_manifest);
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK(s.message().find("refers to manifest manifests/m/v1") != std::string::npos);

  StateSnapshot gap = good;
  gap.entries[hashChunkKey(id, 2)] = gap.entries.at(hashChunkKey(id, 0));
  s = fresh.restore(gap);
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK(s.message().find("chunk 2") != std::string::npos);

  StateSnapshot bad_plan = good;
  bad_plan.entries[stripeKey(id, "east")]["owner"] = nlohmann::json::array({0, 0});
  s = fresh.restore(bad_plan);
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK(s.message().find("covers 2 pieces") != std::string::npos);
  CHECK(fresh.listRollouts().empty());

  StateSnapshot extra = good;
  extra.entries["leader"] = "someone";  // another component's key: skipped
  REQUIRE(fresh.restore(extra).isOk());
  CHECK(fresh.listRollouts().size() == 1);
}

TEST_CASE("codec: keys split back into their segments; confirmation chunks round trip") {
  auto seg = splitKey(confirmChunkKey("ro-1", "us east/1", 3));
  REQUIRE(seg.isOk());
  CHECK(*seg == std::vector<std::string>{"confirmed", "ro-1", "us east/1", "000003"});
  CHECK(!splitKey("rollouts/%zz").isOk());

  std::vector<bool> confirmed(3 * kHashChunkSize + 10, false);
  std::vector<uint32_t> changed{1, 7, uint32_t(kHashChunkSize) + 2, uint32_t(3 * kHashChunkSize) + 9};
  for (uint32_t p : changed) confirmed[p] = true;
  auto ops = confirmChunkOps("ro-1", "east", confirmed, changed);
  REQUIRE(ops.size() == 3);  // chunks 0, 1 and 3
  std::vector<uint32_t> back;
  for (size_t i = 0; i < ops.size(); ++i) {
    size_t chunk = i < 2 ? i : 3;
    CHECK(ops[i].key == confirmChunkKey("ro-1", "east", chunk));
    auto pieces = decodeConfirmChunk(ops[i].value, chunk, uint32_t(confirmed.size()));
    REQUIRE(pieces.isOk());
    back.insert(back.end(), pieces->begin(), pieces->end());
  }
  CHECK(back == changed);
  CHECK(!decodeConfirmChunk(ops[2].value, 3, uint32_t(3 * kHashChunkSize)).isOk());  // out of range
}

}  // namespace shardcast::controller::testing
