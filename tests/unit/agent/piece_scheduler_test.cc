#include "agent/piece_scheduler.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

namespace shardcast::agent {
namespace {

Bitfield bitsOf(uint32_t n, std::initializer_list<uint32_t> set) {
  Bitfield b(n);
  for (uint32_t i : set) b.set(i);
  return b;
}

Bitfield allBits(uint32_t n) {
  Bitfield b(n);
  for (uint32_t i = 0; i < n; ++i) b.set(i);
  return b;
}

void knowAllHashes(PieceScheduler& s) {
  for (uint32_t i = 0; i < s.pieceCount(); ++i) s.onHashKnown(i);
}

}  // namespace

TEST_CASE("rarest piece is requested first") {
  PieceScheduler s(3, 1);
  knowAllHashes(s);
  s.setPeers({{"a", ""}, {"b", ""}, {"c", ""}});
  s.onPeerBitfield("a", bitsOf(3, {0, 1, 2}));
  s.onPeerBitfield("b", bitsOf(3, {0, 1}));
  s.onPeerBitfield("c", bitsOf(3, {0}));
  CHECK(s.availability(0) == 3);
  CHECK(s.availability(1) == 2);
  CHECK(s.availability(2) == 1);

  auto r1 = s.nextRequests(1, 4);
  REQUIRE(r1.size() == 1);
  CHECK(r1[0] == PieceRequest{2, "a"});
  auto r2 = s.nextRequests(2, 4);
  REQUIRE(r2.size() == 1);
  CHECK(r2[0].piece == 1);
  auto r3 = s.nextRequests(3, 4);
  REQUIRE(r3.size() == 1);
  CHECK(r3[0].piece == 0);
}

TEST_CASE("ties between equally rare pieces are broken at random over all candidates") {
  std::set<uint32_t> first_choices;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    PieceScheduler s(5, seed);
    knowAllHashes(s);
    s.setPeers({{"a", ""}});
    s.onPeerBitfield("a", allBits(5));
    auto r = s.nextRequests(1, 4);
    REQUIRE(r.size() == 1);
    first_choices.insert(r[0].piece);
  }
  CHECK(first_choices == std::set<uint32_t>{0, 1, 2, 3, 4});
}

TEST_CASE("the same seed replays the same decisions") {
  auto run = [](uint64_t seed) {
    PieceScheduler s(50, seed);
    knowAllHashes(s);
    s.setPeers({{"a", ""}, {"b", ""}, {"c", ""}});
    for (const char* p : {"a", "b", "c"}) s.onPeerBitfield(p, allBits(50));
    return s.nextRequests(6, 2);
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}

TEST_CASE("ties between equally good peers are broken at random") {
  std::set<std::string> chosen;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    PieceScheduler s(1, seed);
    knowAllHashes(s);
    s.setPeers({{"a", ""}, {"b", ""}, {"c", ""}});
    for (const char* p : {"a", "b", "c"}) s.onPeerBitfield(p, allBits(1));
    auto r = s.nextRequests(1, 1);
    REQUIRE(r.size() == 1);
    chosen.insert(r[0].peer);
  }
  CHECK(chosen == std::set<std::string>{"a", "b", "c"});
}

TEST_CASE("per-peer and total caps hold") {
  PieceScheduler s(10, 3);
  knowAllHashes(s);
  s.setPeers({{"a", ""}});
  s.onPeerBitfield("a", allBits(10));
  auto r = s.nextRequests(8, 2);
  CHECK(r.size() == 2);
  CHECK(s.inFlight("a") == 2);
  CHECK(s.nextRequests(8, 2).empty());

  s.onRequestDone(r[0].piece, "a", true);
  s.onPieceVerified(r[0].piece);
  auto more = s.nextRequests(8, 2);
  REQUIRE(more.size() == 1);
  CHECK(more[0].piece != r[0].piece);
  CHECK(more[0].piece != r[1].piece);

  SUBCASE("total cap") {
    PieceScheduler t(10, 3);
    knowAllHashes(t);
    t.setPeers({{"a", ""}, {"b", ""}, {"c", ""}});
    for (const char* p : {"a", "b", "c"}) t.onPeerBitfield(p, allBits(10));
    CHECK(t.nextRequests(4, 2).size() == 4);
    CHECK(t.inFlight() == 4);
    CHECK(t.nextRequests(4, 2).empty());
    CHECK(t.nextRequests(5, 2).size() == 1);
  }
}

TEST_CASE("same-zone peers are preferred, then the least loaded") {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    PieceScheduler s(4, seed, "zone-a");
    knowAllHashes(s);
    s.setPeers({{"far", "zone-b"}, {"near", "zone-a"}});
    s.onPeerBitfield("far", allBits(4));
    s.onPeerBitfield("near", allBits(4));
    auto r = s.nextRequests(1, 2);
    REQUIRE(r.size() == 1);
    CHECK(r[0].peer == "near");
    // "near" fills up to its cap before "far" is used.
    auto r2 = s.nextRequests(3, 2);
    REQUIRE(r2.size() == 2);
    CHECK(r2[0].peer == "near");
    CHECK(r2[1].peer == "far");
  }
  SUBCASE("least loaded among equals") {
    PieceScheduler s(4, 5);
    knowAllHashes(s);
    s.setPeers({{"a", ""}, {"b", ""}});
    s.onPeerBitfield("a", allBits(4));
    s.onPeerBitfield("b", allBits(4));
    auto r = s.nextRequests(4, 2);
    REQUIRE(r.size() == 4);
    CHECK(s.inFlight("a") == 2);
    CHECK(s.inFlight("b") == 2);
    // Alternation: never two requests to one peer while the other has none.
    CHECK(r[0].peer != r[1].peer);
  }
}

TEST_CASE("a peer put aside is never asked again and does not count for rarity") {
  PieceScheduler s(4, 9);
  knowAllHashes(s);
  s.setPeers({{"bad", ""}, {"good", ""}});
  s.onPeerBitfield("bad", allBits(4));
  s.onPeerBitfield("good", bitsOf(4, {0, 1}));
  s.putAside("bad");
  CHECK(s.isPutAside("bad"));
  CHECK(s.availability(2) == 0);
  CHECK(s.availability(0) == 1);
  for (int round = 0; round < 5; ++round) {
    for (const auto& r : s.nextRequests(8, 4)) {
      CHECK(r.peer == "good");
      CHECK(r.piece < 2);
      s.onRequestDone(r.piece, r.peer, true);
      s.onPieceVerified(r.piece);
    }
    s.onPeerBitfield("bad", allBits(4));  // new bitfields do not bring it back
    s.setPeers({{"bad", ""}, {"good", ""}});
  }
  CHECK(s.have(0));
  CHECK(s.have(1));
  CHECK_FALSE(s.have(2));
  CHECK(s.inFlight("bad") == 0);
}

TEST_CASE("pieces whose accepted hash is unknown are never requested") {
  PieceScheduler s(4, 2);
  s.setPeers({{"a", ""}});
  s.onPeerBitfield("a", allBits(4));
  CHECK(s.nextRequests(8, 8).empty());
  s.onHashKnown(3);
  auto r = s.nextRequests(8, 8);
  REQUIRE(r.size() == 1);
  CHECK(r[0].piece == 3);
}

TEST_CASE("stripe pieces are never requested from peers unless the stripe moves") {
  PieceScheduler s(4, 4);
  knowAllHashes(s);
  s.setStripe({1, 2});
  s.setPeers({{"a", ""}, {"b", ""}});
  s.onPeerBitfield("a", allBits(4));
  s.onPeerBitfield("b", allBits(4));
  std::set<uint32_t> asked;
  for (int round = 0; round < 3; ++round) {
    for (const auto& r : s.nextRequests(8, 8)) asked.insert(r.piece);
  }
  CHECK(asked == std::set<uint32_t>{0, 3});
  CHECK(s.inEndGame());  // every piece needed from peers is in flight
  s.setStripe({2});  // piece 1 moved to another seeder
  auto r = s.nextRequests(8, 8);
  std::set<uint32_t> now;
  for (const auto& q : r) now.insert(q.piece);
  CHECK(now.count(1) == 1);
  CHECK(now.count(2) == 0);
}

TEST_CASE("end-game duplicates only once every needed piece is in flight") {
  PieceScheduler s(3, 11);
  knowAllHashes(s);
  s.setPeers({{"a", ""}, {"b", ""}});
  s.onPeerBitfield("a", allBits(3));
  s.onPeerBitfield("b", bitsOf(3, {0, 1}));

  SUBCASE("not while a needed piece is not yet requested") {
    PieceScheduler t(3, 11);
    t.onHashKnown(0);
    t.onHashKnown(1);  // piece 2's hash is not known yet: it cannot be requested
    t.setPeers({{"a", ""}, {"b", ""}});
    t.onPeerBitfield("a", allBits(3));
    t.onPeerBitfield("b", allBits(3));
    CHECK(t.nextRequests(8, 4).size() == 2);
    CHECK_FALSE(t.inEndGame());
    CHECK(t.nextRequests(8, 4).empty());
    CHECK(t.requestsFor(0) == 1);
    CHECK(t.requestsFor(1) == 1);
  }

  auto first = s.nextRequests(8, 4);
  CHECK(first.size() == 3);
  for (uint32_t p = 0; p < 3; ++p) CHECK(s.requestsFor(p) == 1);
  CHECK(s.inEndGame());
  auto dup = s.nextRequests(8, 4);
  // Duplicates go to a different peer that has the piece; piece 2 is only on "a".
  std::map<uint32_t, std::string> dup_peer;
  for (const auto& r : dup) dup_peer[r.piece] = r.peer;
  for (const auto& r : first) {
    if (r.piece == 2) {
      CHECK(dup_peer.count(2) == 0);
    } else {
      REQUIRE(dup_peer.count(r.piece) == 1);
      CHECK(dup_peer[r.piece] != r.peer);
    }
  }
  for (uint32_t p = 0; p < 3; ++p) CHECK(s.requestsFor(p) <= PieceScheduler::kMaxRequestsPerPiece);
  CHECK(s.nextRequests(8, 4).empty());

  // The first copy wins; the duplicate's completion is just bookkeeping.
  s.onRequestDone(0, "a", true);
  s.onPieceVerified(0);
  s.onRequestDone(0, "b", true);
  CHECK(s.requestsFor(0) == 0);
  CHECK(s.have(0));
  CHECK(s.nextRequests(8, 4).empty());
}

TEST_CASE("a failed request drops the piece from that peer until its next bitfield") {
  PieceScheduler s(1, 6);
  knowAllHashes(s);
  s.setPeers({{"a", ""}});
  s.onPeerBitfield("a", allBits(1));
  auto r = s.nextRequests(1, 1);
  REQUIRE(r.size() == 1);
  s.onRequestDone(0, "a", false);
  CHECK(s.availability(0) == 0);
  CHECK(s.nextRequests(1, 1).empty());
  s.onPeerBitfield("a", allBits(1));
  CHECK(s.nextRequests(1, 1).size() == 1);
}

TEST_CASE("unreachable and unlisted peers are not used") {
  PieceScheduler s(2, 8);
  knowAllHashes(s);
  s.setPeers({{"a", ""}, {"b", ""}});
  s.onPeerBitfield("a", allBits(2));
  s.onPeerBitfield("b", allBits(2));
  CHECK(s.availability(0) == 2);
  s.onPeerUnreachable("a");
  CHECK(s.availability(0) == 1);
  s.setPeers({{"a", ""}});  // b is no longer handed out
  CHECK(s.availability(0) == 0);
  CHECK(s.nextRequests(4, 4).empty());
  s.onPeerBitfield("b", allBits(2));  // bitfields of unlisted peers are ignored
  CHECK(s.availability(0) == 0);
  s.onPeerBitfield("a", allBits(2));
  auto r = s.nextRequests(4, 4);
  CHECK(r.size() == 2);
  for (const auto& q : r) CHECK(q.peer == "a");
}

TEST_CASE("availability follows bitfield updates incrementally") {
  PieceScheduler s(10, 1);
  s.setPeers({{"a", ""}, {"b", ""}});
  s.onPeerBitfield("a", bitsOf(10, {0, 3, 9}));
  s.onPeerBitfield("b", bitsOf(10, {3}));
  CHECK(s.availability(3) == 2);
  s.onPeerBitfield("a", bitsOf(10, {0, 1, 9}));
  CHECK(s.availability(3) == 1);
  CHECK(s.availability(1) == 1);
  CHECK(s.availability(9) == 1);
  s.onPeerBitfield("a", Bitfield(7));  // wrong size: ignored
  CHECK(s.availability(9) == 1);
}

TEST_CASE("verified pieces are never requested") {
  PieceScheduler s(3, 1);
  knowAllHashes(s);
  s.onPieceVerified(0);
  s.onPieceVerified(2);
  s.setPeers({{"a", ""}});
  s.onPeerBitfield("a", allBits(3));
  auto r = s.nextRequests(8, 8);
  REQUIRE(r.size() == 1);
  CHECK(r[0].piece == 1);
  CHECK(s.haveCount() == 2);
}

}  // namespace shardcast::agent

namespace shardcast::agent {
namespace {

// The first piece (from 0) that the member of `rank` imports into a zone of `size`,
// and the first one it does not.
uint32_t pieceImportedBy(uint32_t rank, uint32_t size, bool by_rank) {
  uint32_t p = 0;
  while ((ZoneImportPolicy::importerRank(p, size) == rank) != by_rank) ++p;
  return p;
}

// A scheduler in zone-a, rank `rank` of `size`, that holds every piece but the last.
PieceScheduler onlyLastMissing(uint32_t last, uint64_t seed, uint32_t rank, uint32_t size) {
  PieceScheduler s(last + 1, seed, "zone-a");
  for (uint32_t i = 0; i < last; ++i) s.onPieceVerified(i);
  knowAllHashes(s);
  s.setZoneRole(rank, size);
  return s;
}

}  // namespace

TEST_CASE("zone rule: only the zone's importer fetches a piece that only other zones hold") {
  const uint32_t n = 64;
  const uint32_t mine = pieceImportedBy(1, 3, true), theirs = pieceImportedBy(1, 3, false);
  PieceScheduler s(n, 4, "zone-a");
  knowAllHashes(s);
  s.setZoneRole(1, 3);
  s.setPeers({{"far", "zone-b"}, {"near", "zone-a"}});
  s.onPeerBitfield("far", bitsOf(n, {mine, theirs}));
  s.onPeerBitfield("near", Bitfield(n));
  auto r = s.nextRequests(8, 4);
  REQUIRE(r.size() == 1);
  CHECK(r[0].piece == mine);
  CHECK(r[0].peer == "far");
  // Once a zone member holds the other piece, it comes from the zone.
  s.onPeerBitfield("near", bitsOf(n, {theirs}));
  auto r2 = s.nextRequests(8, 4);
  REQUIRE(r2.size() == 1);
  CHECK(r2[0].piece == theirs);
  CHECK(r2[0].peer == "near");
}

TEST_CASE("zone rule: a piece my zone holds is never fetched across zones, even when the zone peer is busy") {
  const uint32_t n = 64;
  const uint32_t a = pieceImportedBy(0, 2, true);
  uint32_t b = a + 1;
  while (ZoneImportPolicy::importerRank(b, 2) != 0) ++b;
  PieceScheduler s(n, 9, "zone-a");
  knowAllHashes(s);
  s.setZoneRole(0, 2);
  s.setPeers({{"far", "zone-b"}, {"near", "zone-a"}});
  s.onPeerBitfield("far", bitsOf(n, {a, b}));
  s.onPeerBitfield("near", bitsOf(n, {a, b}));
  auto r = s.nextRequests(8, 1);  // one request per peer: "near" takes one piece
  REQUIRE(r.size() == 1);
  CHECK(r[0].peer == "near");
  CHECK(s.inFlight("far") == 0);
  // Without the rule the other piece would go to "far" at once.
  PieceScheduler t(n, 9, "zone-a");
  knowAllHashes(t);
  t.setPeers({{"far", "zone-b"}, {"near", "zone-a"}});
  t.onPeerBitfield("far", bitsOf(n, {a, b}));
  t.onPeerBitfield("near", bitsOf(n, {a, b}));
  CHECK(t.nextRequests(8, 1).size() == 2);
}

TEST_CASE("zone rule: end-game duplicates stay in the zone") {
  const uint32_t p = pieceImportedBy(0, 2, true);
  PieceScheduler s = onlyLastMissing(p, 3, 0, 2);
  s.setPeers({{"far1", "zone-b"}, {"far2", "zone-c"}});
  s.onPeerBitfield("far1", allBits(p + 1));
  s.onPeerBitfield("far2", allBits(p + 1));
  auto r = s.nextRequests(8, 4);
  REQUIRE(r.size() == 1);  // imported once
  CHECK(s.inEndGame());
  CHECK(s.nextRequests(8, 4).empty());  // no second copy across zones
  s.setPeers({{"far1", "zone-b"}, {"far2", "zone-c"}, {"near", "zone-a"}});
  s.onPeerBitfield("near", allBits(p + 1));
  auto dup = s.nextRequests(8, 4);
  REQUIRE(dup.size() == 1);
  CHECK(dup[0].peer == "near");
}

TEST_CASE("zone rule: a node stalled on pieces only other zones hold imports after the stall rounds") {
  const uint32_t theirs = pieceImportedBy(1, 2, false);
  PieceScheduler s = onlyLastMissing(theirs, 5, 1, 2);
  s.setPeers({{"far", "zone-b"}});
  s.onPeerBitfield("far", allBits(theirs + 1));
  bool lifted = false;
  for (uint32_t round = 0; round < ZoneImportPolicy::kStallRounds; ++round) {
    CHECK(s.nextRequests(8, 4).empty());
    lifted = s.onBitfieldRound();
  }
  CHECK(lifted);
  auto r = s.nextRequests(8, 4);
  REQUIRE(r.size() == 1);
  CHECK(r[0].peer == "far");
  CHECK(!s.onBitfieldRound());  // busy: the rule applies again for new requests
}

}  // namespace shardcast::agent
