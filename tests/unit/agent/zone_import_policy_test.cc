#include "agent/zone_import_policy.h"

#include <doctest/doctest.h>

#include <vector>

namespace shardcast::agent {

TEST_CASE("importers: every piece has one importer per zone, and shares are even") {
  const uint32_t size = 4, pieces = 20000;
  std::vector<uint32_t> share(size, 0);
  for (uint32_t p = 0; p < pieces; ++p) {
    uint32_t owners = 0;
    for (uint32_t rank = 0; rank < size; ++rank) {
      ZoneImportPolicy z;
      z.setRole(rank, size);
      owners += z.mayImport(p, false) ? 1 : 0;
    }
    CHECK(owners == 1);
    ++share[ZoneImportPolicy::importerRank(p, size)];
  }
  for (uint32_t s : share) {
    CHECK(s > pieces / size * 9 / 10);
    CHECK(s < pieces / size * 11 / 10);
  }
  // Neighbouring pieces spread over members (not runs of one member).
  uint32_t same_as_next = 0;
  for (uint32_t p = 0; p + 1 < pieces; ++p) {
    same_as_next += ZoneImportPolicy::importerRank(p, size) == ZoneImportPolicy::importerRank(p + 1, size);
  }
  CHECK(same_as_next < pieces / 3);
}

TEST_CASE("no role, a zone of one, or a rank outside the zone: every piece may be imported") {
  ZoneImportPolicy none;
  CHECK(!none.active());
  CHECK(none.mayImport(7, true));
  ZoneImportPolicy alone;
  alone.setRole(0, 1);
  CHECK(alone.active());
  for (uint32_t p = 0; p < 50; ++p) CHECK(alone.mayImport(p, false));
  ZoneImportPolicy bad;
  bad.setRole(5, 3);
  CHECK(!bad.active());
  CHECK(bad.mayImport(1, false));
}

TEST_CASE("an end-game duplicate never crosses zones under the rule") {
  ZoneImportPolicy z;
  z.setRole(0, 1);
  CHECK(z.mayImport(3, false));
  CHECK(!z.mayImport(3, true));
}

TEST_CASE("a stalled node imports after kStallRounds idle, blocked rounds, until it is busy again") {
  ZoneImportPolicy z;
  z.setRole(1, 3);
  uint32_t mine = 0, other = 0;
  while (ZoneImportPolicy::importerRank(other, 3) == 1) ++other;
  while (ZoneImportPolicy::importerRank(mine, 3) != 1) ++mine;
  CHECK(!z.mayImport(other, false));
  for (uint32_t i = 1; i < ZoneImportPolicy::kStallRounds; ++i) CHECK(!z.onRound(true, true));
  // A busy round or an unblocked one starts the count over.
  CHECK(!z.onRound(false, true));
  for (uint32_t i = 1; i < ZoneImportPolicy::kStallRounds; ++i) CHECK(!z.onRound(true, true));
  CHECK(!z.onRound(true, false));
  CHECK(!z.lifted());
  for (uint32_t i = 1; i < ZoneImportPolicy::kStallRounds; ++i) CHECK(!z.onRound(true, true));
  CHECK(z.onRound(true, true));  // just lifted: reported once
  CHECK(z.lifted());
  CHECK(!z.onRound(true, true));
  CHECK(z.mayImport(other, false));
  CHECK(z.mayImport(other, true));
  CHECK(!z.onRound(false, true));  // requests in flight again: the rule is back
  CHECK(!z.lifted());
  CHECK(!z.mayImport(other, false));
  CHECK(z.mayImport(mine, false));
}

}  // namespace shardcast::agent
