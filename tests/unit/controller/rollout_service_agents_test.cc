// RolloutService, agent side: peers and stripes, hash acceptance, stripe
// reassignment after T, late regions, piece report validation.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "controller/api_types.h"
#include "controller/rollout_codec.h"
#include "tests/unit/controller/service_fixture.h"

namespace shardcast::controller::testing {
namespace {

std::set<uint32_t> asSet(const std::vector<uint32_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE_FIXTURE(ServiceFixture, "stripes partition the pieces; peers are same zone first") {
  node("e1", "east", "a");
  node("e2", "east", "b");
  node("e3", "east", "a");
  node("w1", "west", "a");
  std::string id = create();
  std::set<uint32_t> all;
  size_t total = 0;
  for (const char* n : {"e1", "e2", "e3"}) {
    auto p = peers(id, n);
    CHECK(p.rollout_state == api::kRolloutInProgress);
    CHECK(p.source_index == 0);
    CHECK(!p.stripe.empty());
    total += p.stripe.size();
    all.insert(p.stripe.begin(), p.stripe.end());
  }
  CHECK(total == 5);
  CHECK(all.size() == 5);
  CHECK(peers(id, "w1").stripe.size() == 5);  // alone in its region

  auto p = peers(id, "e1");
  REQUIRE(p.peers.size() == 2);
  CHECK(p.peers[0].name == "e3");
  CHECK(p.peers[0].zone == "a");
  CHECK(p.peers[1].name == "e2");
  CHECK(p.peers[0].addr == info("e3", "east").peer_addr);
  CHECK(peers(id, "w1").peers.empty());  // other regions are never peers
}

TEST_CASE_FIXTURE(ServiceFixture, "hashes: only the piece's seeder is accepted, first wins, the log is a cursor") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  auto s1 = peers(id, "e1").stripe;
  auto s2 = peers(id, "e2").stripe;
  REQUIRE(!s1.empty());
  REQUIRE(!s2.empty());

  // e2 reporting e1's piece is ignored: not its seeder.
  auto r = report(id, "e2", {s1[0]});
  CHECK(r.conflicting.empty());
  CHECK(peers(id, "e1").hashes.empty());

  report(id, "e1", s1);
  auto p = peers(id, "e2");
  CHECK(p.hashes.size() == s1.size());
  CHECK(p.hash_cursor == s1.size());
  for (const auto& h : p.hashes) CHECK(h.sha256 == hashOf(h.piece));
  CHECK(status(id).regions[0].pieces_accepted == s1.size());

  // Only newer hashes after the cursor; a cursor from a previous controller restarts.
  report(id, "e2", {s2[0]});
  auto q = peers(id, "e1", p.hash_cursor);
  REQUIRE(q.hashes.size() == 1);
  CHECK(q.hashes[0].piece == s2[0]);
  CHECK(q.hash_cursor == s1.size() + 1);
  CHECK(peers(id, "e1", q.hash_cursor).hashes.empty());
  CHECK(peers(id, "e1", 999).hashes.size() == s1.size() + 1);

  // The same report again changes nothing.
  r = report(id, "e1", s1);
  CHECK(r.conflicting.empty());
  CHECK(peers(id, "e1").hash_cursor == s1.size() + 1);
  CHECK(status(id).state == api::kRolloutInProgress);

  // Stored in chunks.
  auto chunk = store.load()->entries.at(hashChunkKey(id, 0));
  CHECK(chunk.size() == s1.size() + 1);
}

TEST_CASE_FIXTURE(ServiceFixture, "a contradicting report fails the rollout: origin changed") {
  node("e1", "east");
  node("w1", "west");
  std::string id = create();
  auto se = peers(id, "e1").stripe;
  auto sw = peers(id, "w1").stripe;
  REQUIRE(se.size() == 5);
  REQUIRE(sw.size() == 5);
  report(id, "e1", {0, 1, 2});
  // west's seeder confirms the same hashes: fine, counted for its region.
  auto r = report(id, "w1", {0, 1});
  CHECK(r.conflicting.empty());
  auto s = status(id);
  CHECK(region(s, "west")->pieces_accepted == 2);
  CHECK(region(s, "east")->pieces_accepted == 3);
  CHECK(s.state == api::kRolloutInProgress);

  // Piece 2 hashes differently in west: the origin changed.
  r = report(id, "w1", {2}, "fetching", "-changed");
  CHECK(r.conflicting == std::vector<uint32_t>{2});
  CHECK(r.rollout_state == api::kRolloutFailed);
  s = status(id);
  CHECK(s.state == api::kRolloutFailed);
  CHECK(s.message == "origin changed: piece 2 of weights/a.bin hashed differently by w1");
  CHECK(s.finished_at_ms == clock.wallMs());
  // The accepted hash stays.
  auto p = peers(id, "e1");
  CHECK(p.rollout_state == api::kRolloutFailed);
  CHECK(store.load()->entries.at(rolloutKey(id))["state"] == "failed");
}

TEST_CASE_FIXTURE(ServiceFixture, "after T, only the unfinished pieces of a silent seeder move") {
  node("e1", "east");
  node("e2", "east");
  node("e3", "east");
  std::string id = create();
  auto s1 = peers(id, "e1").stripe;
  auto s2 = peers(id, "e2").stripe;
  auto s3 = peers(id, "e3").stripe;
  REQUIRE(s1.size() == 2);
  report(id, "e1", {s1[0]});  // finished

  // e1 restarts within T (new incarnation): it keeps its stripe.
  clock.advanceMs(29000);
  auto again = info("e1", "east");
  again.incarnation = "inc-2";
  REQUIRE(service.heartbeat(again).isOk());
  heartbeat({"e2", "e3"}, "east");
  CHECK(peers(id, "e1").stripe == s1);
  CHECK(peers(id, "e2").stripe == s2);

  // e1 goes silent for longer than T.
  clock.advanceMs(20000);
  heartbeat({"e2", "e3"}, "east");
  clock.advanceMs(11000);
  heartbeat({"e2", "e3"}, "east");
  auto n2 = peers(id, "e2").stripe;
  auto n3 = peers(id, "e3").stripe;
  std::set<uint32_t> gained;
  for (uint32_t p : n2) gained.insert(p);
  for (uint32_t p : n3) gained.insert(p);
  for (uint32_t p : s2) gained.erase(p);
  for (uint32_t p : s3) gained.erase(p);
  CHECK(gained == std::set<uint32_t>{s1[1]});  // the unfinished one moved
  CHECK(asSet(n2).size() + asSet(n3).size() == 4);
  // e1 keeps its finished piece; its old peers no longer list it (dead).
  CHECK(peers(id, "e2").peers.size() == 1);
  auto stored = store.load()->entries.at(stripeKey(id, "east"));
  CHECK(stored["owner"].size() == 5);

  // The new seeder's report is accepted; e1's late report of the moved piece is not.
  node("e1", "east");  // back, after its piece moved
  uint32_t moved = s1[1];
  report(id, "e1", {moved});
  CHECK(peers(id, "e2").hashes.size() == 1);
  std::string owner = asSet(n2).count(moved) ? "e2" : "e3";
  report(id, owner, {moved});
  CHECK(peers(id, "e2").hashes.size() == 2);
}

TEST_CASE_FIXTURE(ServiceFixture, "a seeder that re-registers in another region loses its unfinished pieces") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  auto s1 = peers(id, "e1").stripe;
  report(id, "e1", {s1[0]});
  node("e1", "west");  // moved, but live
  auto s2 = peers(id, "e2").stripe;
  CHECK(s2.size() == 5 - 1);  // everything but e1's finished piece
  CHECK(std::find(s2.begin(), s2.end(), s1[0]) == s2.end());
}

TEST_CASE_FIXTURE(ServiceFixture, "a seeder that reports it failed the rollout loses its unfinished pieces at once") {
  auto [id, s1, s2] = twoSeedersOneDone();
  progress(id, "e1", "failed", "no_space");
  heartbeat({"e1"}, "east");         // still alive: only this rollout failed on it
  auto now2 = asSet(peers(id, "e2").stripe);
  std::set<uint32_t> want = asSet(s2);
  want.insert(s1.begin() + 1, s1.end());  // its unfinished pieces, without waiting for T
  CHECK(now2 == want);
  CHECK(!now2.count(s1[0]));              // the finished one stays where it was confirmed
  // A region planned later leaves out a node that failed the rollout there.
  CHECK(peers(id, "e1").stripe.size() == 1);
}

TEST_CASE_FIXTURE(ServiceFixture, "a region whose first node appears later gets its plan then") {
  node("e1", "east");
  std::string id = create();  // every region
  CHECK(status(id).regions.size() == 1);
  node("w1", "west");
  node("w2", "west");
  // w1 asks first: the region is planned over its live nodes at that moment.
  auto p1 = peers(id, "w1");
  auto p2 = peers(id, "w2");
  CHECK(p1.stripe.size() + p2.stripe.size() == 5);
  // A node joining after that fetches from peers only: the plan is never recomputed.
  node("w3", "west");
  CHECK(peers(id, "w3").stripe.empty());
  auto s = status(id);
  CHECK(region(s, "west")->seeders == 2);
  CHECK(region(s, "west")->nodes_total == 3);  // joined through peers
}

TEST_CASE_FIXTURE(ServiceFixture, "targeting by region and labels") {
  node("e1", "east", "", {{"gpu", "h100"}});
  node("e2", "east", "", {{"gpu", "a10"}});
  node("w1", "west", "", {{"gpu", "h100"}});
  auto req = request("m:v1", {kSource}, {"east"});
  req.target.selector = {{"gpu", "h100"}};
  auto s = service.createRollout(req);
  REQUIRE(s.isOk());
  REQUIRE(s->nodes.size() == 1);
  CHECK(s->nodes[0].node == "e1");
  CHECK(service.peers(s->id, "e2", 0).status().reason() == "not_targeted");
  CHECK(service.peers(s->id, "w1", 0).status().reason() == "not_targeted");
}

TEST_CASE_FIXTURE(ServiceFixture, "piece reports are validated") {
  node("e1", "east");
  std::string id = create();
  api::PieceReport rep;
  rep.node = "e1";
  rep.hashes = {{5, hashOf(5)}};  // 5 pieces: 0-4
  CHECK(service.reportPieces(id, rep).status().code() == StatusCode::kInvalidArgument);
  rep.hashes = {{1, "ABC"}};
  CHECK(service.reportPieces(id, rep).status().code() == StatusCode::kInvalidArgument);
  rep.hashes = {};
  rep.state = "exploded";
  CHECK(service.reportPieces(id, rep).status().code() == StatusCode::kInvalidArgument);
  rep.state = "fetching";
  rep.node = "ghost";
  CHECK(service.reportPieces(id, rep).status().reason() == "unknown_node");
  rep.node = "e1";
  CHECK(service.reportPieces("ro-nope", rep).status().code() == StatusCode::kNotFound);
  CHECK(service.peers(id, "ghost", 0).status().reason() == "unknown_node");
  CHECK(service.peers("ro-nope", "e1", 0).status().code() == StatusCode::kNotFound);
}

TEST_CASE_FIXTURE(ServiceFixture, "bad peer reports are counted; progress rows update") {
  node("e1", "east");
  node("e2", "east");
  std::string id = create();
  api::PieceReport rep;
  rep.node = "e2";
  rep.state = "fetching";
  rep.pieces_done = 3;
  rep.bytes_done = 1000;
  rep.bytes_from_peers = 1000;
  rep.bad_peers = {{"e1", 2, "sha256 mismatch"}, {"e1", 3, "sha256 mismatch"}};
  REQUIRE(service.reportPieces(id, rep).isOk());
  auto s = status(id);
  CHECK(s.corrupt_reports == 2);
  CHECK(row(s, "e2")->pieces_done == 3);
  CHECK(row(s, "e2")->bytes_from_peers == 1000);
  CHECK(region(s, "east")->bytes_done == 1000);
}

}  // namespace shardcast::controller::testing

namespace shardcast::controller::testing {

TEST_CASE_FIXTURE(ServiceFixture, "zone roles: rank within the zone; peer lists are reused until they expire or the fleet changes") {
  node("e1", "east", "a");
  node("e2", "east", "a");
  node("e3", "east", "b");
  std::string id = create();
  auto p1 = peers(id, "e1");
  CHECK(p1.zone_rank == 0);
  CHECK(p1.zone_size == 2);
  CHECK(peers(id, "e2").zone_rank == 1);
  CHECK(peers(id, "e3").zone_size == 1);
  CHECK(p1.poll_interval_ms == 0);  // 3 nodes: the agents' own intervals fit the budget

  // e2 fails the rollout: it stops counting as an importer once e1's list expires.
  progress(id, "e2", "failed", "no_space");
  CHECK(peers(id, "e1").zone_size == 2);  // the cached entry
  clock.advanceMs(5001);
  heartbeat({"e1", "e2"}, "east", "a");
  heartbeat({"e3"}, "east", "b");
  CHECK(peers(id, "e1").zone_size == 1);

  // A node joining moves the registry's version: lists are rebuilt at once.
  REQUIRE(peers(id, "e1").peers.size() == 2);
  node("e4", "east", "a");
  auto after = peers(id, "e1");
  CHECK(after.peers.size() == 3);
  CHECK(after.zone_size == 2);  // e1 and e4 (e2 failed)
}

}  // namespace shardcast::controller::testing
