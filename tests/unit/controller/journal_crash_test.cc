// Crash consistency of the journal (issue 6, item 2): a scripted sequence of
// commits (with snapshots and compactions along the way) runs on FaultJournalFs
// once per write/sync/rename boundary k, with the crash at k. The disk a reboot
// finds (unsynced bytes cut to a random prefix, sometimes zero-filled; unsynced
// directory changes kept up to a random prefix) must replay to the state after
// some prefix of the commits — and that prefix holds every commit that returned
// OK before the crash. The recovered journal must then take new commits.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "controller/journal_state_store.h"
#include "tests/unit/controller/fault_journal_fs.h"

namespace shardcast::controller::testing {
namespace {

using nlohmann::json;

struct Step {
  std::vector<StateOp> ops;
  std::optional<uint64_t> if_revision;  // set: a compare-and-set
  bool expect_ok = true;                // false: a stale compare-and-set
};

// Puts, overwrites, deletes, a value large enough to span many bytes of a
// record, compare-and-sets that hold and one that does not.
std::vector<Step> script() {
  std::vector<Step> steps;
  uint64_t revision = 0;
  for (int i = 1; i <= 14; ++i) {
    Step s;
    s.ops.push_back(StateOp::put("rollouts/r" + std::to_string(i % 5),
                                 json{{"i", i}, {"pad", std::string(i * 37 % 300, 'x')}}));
    if (i % 4 == 0) s.ops.push_back(StateOp::del("rollouts/r" + std::to_string((i + 2) % 5)));
    if (i == 6) s.ops.push_back(StateOp::put("hashes/big", std::string(3000, 'h')));
    if (i % 3 == 0) s.if_revision = revision;
    steps.push_back(s);
    ++revision;
    if (i == 8) steps.push_back(Step{{StateOp::put("never", 1)}, revision - 1, false});
  }
  return steps;
}

// states[j]: the state after the first j successful commits.
std::vector<std::map<std::string, json>> expectedStates(const std::vector<Step>& steps) {
  std::vector<std::map<std::string, json>> states(1);
  for (const auto& s : steps) {
    if (!s.expect_ok) continue;
    auto next = states.back();
    for (const auto& op : s.ops) {
      if (op.kind == StateOp::Kind::kPut) {
        next[op.key] = op.value;
      } else {
        next.erase(op.key);
      }
    }
    states.push_back(std::move(next));
  }
  return states;
}

constexpr uint64_t kSnapshotEvery = 4;

struct Run {
  uint64_t acked = 0;       // commits that returned OK
  bool opened = false;
};

// Runs the script on `disk` until the first failure other than the expected
// stale compare-and-set.
Run runScript(const std::shared_ptr<FaultJournalFs>& disk, const std::vector<Step>& steps) {
  Run run;
  auto opened = JournalStateStore::open(disk, "/data", JournalOptions{kSnapshotEvery});
  if (!opened.isOk()) return run;
  run.opened = true;
  auto store = std::move(opened).value();
  for (const auto& s : steps) {
    Status st = store->commit(s.ops, s.if_revision);
    if (!s.expect_ok) {
      REQUIRE((st.reason() == "precondition_failed" || disk->crashed()));
      continue;
    }
    if (!st.isOk()) break;
    ++run.acked;
  }
  return run;
}

}  // namespace

TEST_CASE("journal crash at every write boundary replays a prefix holding every acknowledged commit") {
  const auto steps = script();
  const auto states = expectedStates(steps);

  // The run without a crash: how many boundaries there are, and that it snapshots.
  auto clean = std::make_shared<FaultJournalFs>();
  Run full = runScript(clean, steps);
  REQUIRE(full.acked == states.size() - 1);
  const uint64_t boundaries = clean->boundaries();
  auto ops = clean->opsForTest();
  CHECK(std::count(ops.begin(), ops.end(), FaultJournalFs::Op::kRename) >= 3);  // snapshots
  CHECK(std::count(ops.begin(), ops.end(), FaultJournalFs::Op::kRemove) >= 3);  // compactions
  MESSAGE(boundaries << " boundaries in the script");

  constexpr uint64_t kSeeds = 6;
  size_t in_flight_kept = 0, in_flight_lost = 0;  // the commit the crash interrupted
  for (uint64_t k = 0; k <= boundaries; ++k) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      CAPTURE(k);
      CAPTURE(seed);
      auto disk = std::make_shared<FaultJournalFs>();
      disk->crashAt(k, seed * 7919 + k);
      Run run = runScript(disk, steps);
      CHECK(disk->crashed() == (k < boundaries));

      auto reboot = std::make_shared<FaultJournalFs>(disk->crashImage(seed * 104729 + k));
      auto reopened = JournalStateStore::open(reboot, "/data", JournalOptions{kSnapshotEvery});
      REQUIRE_MESSAGE(reopened.isOk(), reopened.status().toString());
      auto state = (*reopened)->load();
      REQUIRE(state.isOk());
      // Durability: every acknowledged commit is there; at most the one in flight
      // beyond. Atomicity: the state equals the state after exactly that prefix.
      CHECK(state->revision >= run.acked);
      CHECK(state->revision <= run.acked + 1);
      REQUIRE(state->revision < states.size());
      CHECK(state->entries == states[state->revision]);
      if (run.acked < full.acked) {
        in_flight_kept += state->revision == run.acked + 1;
        in_flight_lost += state->revision == run.acked;
      }

      // The recovered journal takes new commits, and they survive a clean reopen.
      uint64_t rev = state->revision;
      REQUIRE((*reopened)->commit({StateOp::put("after", json(rev))}, rev).isOk());
      reopened->reset();
      auto again = std::make_shared<FaultJournalFs>(reboot->current());
      auto third = JournalStateStore::open(again, "/data", JournalOptions{kSnapshotEvery});
      REQUIRE_MESSAGE(third.isOk(), third.status().toString());
      CHECK((*third)->load()->revision == rev + 1);
      CHECK((*third)->load()->entries.at("after") == json(rev));
    }
  }
  // Both outcomes of a crash mid-commit were exercised.
  CHECK(in_flight_kept > 0);
  CHECK(in_flight_lost > 0);
  MESSAGE(in_flight_kept << " runs kept the commit in flight, " << in_flight_lost << " lost it");
}

}  // namespace shardcast::controller::testing
