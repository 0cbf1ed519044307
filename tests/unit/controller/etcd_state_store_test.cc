// EtcdStateStore against a real etcd on loopback. The StateStore contract runs
// against both the in-memory fake and etcd (TEST_CASE_TEMPLATE); then what only
// the etcd store does: leader-conditioned writes, batches split at etcd's
// limits, paged loads, the commit marker.
#include <doctest/doctest.h>

#include <memory>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "controller/etcd_state_store.h"
#include "controller/in_memory_state_store.h"
#include "tests/unit/controller/etcd_server.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;
using testing::EtcdServer;

struct MemoryBackend {
  InMemoryStateStore store;
};

struct EtcdBackend {
  EtcdServer etcd;
  EtcdClient client{EtcdClientOptions{{etcd.url()}}};
  EtcdStateStore store{client, [] {
                         EtcdStateStoreOptions o;
                         o.prefix = "/contract/";
                         o.replica_id = "test";
                         o.require_leader = false;
                         return o;
                       }()};
};

// One etcd per test, a store with its own options on it.
struct EtcdFixture {
  explicit EtcdFixture(EtcdStateStoreOptions o = defaults()) : client({{etcd.url()}}), options(o) {
    store = std::make_unique<EtcdStateStore>(client, options);
  }
  static EtcdStateStoreOptions defaults() {
    EtcdStateStoreOptions o;
    o.prefix = "/sc/";
    o.replica_id = "replica-a";
    o.require_leader = false;
    return o;
  }
  EtcdServer etcd;
  EtcdClient client;
  EtcdStateStoreOptions options;
  std::unique_ptr<EtcdStateStore> store;
};

StateSnapshot mustLoad(const StateStore& s) {
  auto r = s.load();
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  return std::move(r).value();
}

TEST_CASE_TEMPLATE("state store contract", Backend, MemoryBackend, EtcdBackend) {
  if constexpr (std::is_same_v<Backend, EtcdBackend>) SKIP_WITHOUT_ETCD();
  Backend b;
  StateStore& s = b.store;

  StateSnapshot empty = mustLoad(s);
  CHECK(empty.revision == 0);
  CHECK(empty.entries.empty());

  json nested = {{"id", "ro-1"}, {"list", {1, 2, 3}}, {"name", "llama \xc3\xa9"}};
  REQUIRE(s.commit({StateOp::put("rollouts/ro-1", nested), StateOp::put("b", 2)}).isOk());
  StateSnapshot one = mustLoad(s);
  CHECK(one.revision > 0);
  CHECK(one.entries.size() == 2);
  CHECK(one.entries.at("rollouts/ro-1") == nested);

  // Compare-and-set on the revision just read.
  REQUIRE(s.commit({StateOp::put("b", 3), StateOp::del("rollouts/ro-1")}, one.revision).isOk());
  StateSnapshot two = mustLoad(s);
  CHECK(two.revision > one.revision);
  CHECK(two.entries.size() == 1);
  CHECK(two.entries.at("b") == 3);

  // A stale revision changes nothing.
  Status stale = s.commit({StateOp::put("b", 4), StateOp::put("c", 1)}, one.revision);
  CHECK(stale.code() == StatusCode::kAborted);
  CHECK(stale.reason() == "precondition_failed");
  StateSnapshot same = mustLoad(s);
  CHECK(same.revision == two.revision);
  CHECK(same.entries == two.entries);

  // The last op on a key wins within a batch.
  REQUIRE(s.commit({StateOp::put("d", 1), StateOp::put("d", 2), StateOp::put("e", 1),
                    StateOp::del("e")})
              .isOk());
  StateSnapshot folded = mustLoad(s);
  CHECK(folded.entries.at("d") == 2);
  CHECK(folded.entries.count("e") == 0);

  // An empty batch is a no-op, but still checks the revision.
  REQUIRE(s.commit({}).isOk());
  CHECK(mustLoad(s).revision == folded.revision);
  CHECK(s.commit({}, folded.revision).isOk());
  CHECK(s.commit({}, folded.revision + 1000).reason() == "precondition_failed");
}

TEST_CASE("etcd state store: writes are conditioned on holding the leader key") {
  SKIP_WITHOUT_ETCD();
  EtcdStateStoreOptions o = EtcdFixture::defaults();
  o.require_leader = true;
  EtcdFixture f(o);
  EtcdStateStore& s = *f.store;

  // No term yet: refused before anything reaches etcd.
  Status none = s.commit({StateOp::put("k", 1)});
  CHECK(none.reason() == "not_leader");

  auto lease = f.client.leaseGrant(30);
  REQUIRE(lease.isOk());
  auto won = f.client.txn({EtcdCompare::createRevision(s.leaderKey(), 0)},
                          {EtcdOp::put(s.leaderKey(), R"({"id":"replica-a"})", lease->id)});
  REQUIRE(won.isOk());
  REQUIRE(won->succeeded);
  s.setLeaderRevision(won->revision);
  REQUIRE(s.commit({StateOp::put("k", 1)}).isOk());

  // The marker records who wrote, under which term.
  auto marker = f.client.range(EtcdRangeRequest{s.markerKey(), "", 0, 0});
  REQUIRE(marker.isOk());
  REQUIRE(marker->kvs.size() == 1);
  json m = json::parse(marker->kvs[0].value);
  CHECK(m["replica"] == "replica-a");
  CHECK(m["leader_rev"] == won->revision);
  CHECK(mustLoad(s).revision == static_cast<uint64_t>(marker->kvs[0].mod_revision));

  // The lease ends (e.g. the replica stalled) and another replica takes the key:
  // the old term can no longer write.
  REQUIRE(f.client.leaseRevoke(lease->id).isOk());
  auto other = f.client.txn({EtcdCompare::createRevision(s.leaderKey(), 0)},
                            {EtcdOp::put(s.leaderKey(), R"({"id":"replica-b"})")});
  REQUIRE(other.isOk());
  REQUIRE(other->succeeded);
  Status deposed = s.commit({StateOp::put("k", 2), StateOp::put("late", 1)});
  CHECK(deposed.code() == StatusCode::kAborted);
  CHECK(deposed.reason() == "not_leader");
  StateSnapshot after = mustLoad(s);
  CHECK(after.entries.at("k") == 1);
  CHECK(after.entries.count("late") == 0);

  // The same holds while the key is simply gone.
  REQUIRE(f.client.txn({}, {EtcdOp::del(s.leaderKey())}).isOk());
  CHECK(s.commit({StateOp::put("k", 3)}).reason() == "not_leader");
}

TEST_CASE("etcd state store: a batch beyond etcd's op limit is split and fully stored") {
  SKIP_WITHOUT_ETCD();
  EtcdFixture f;
  EtcdStateStore& s = *f.store;
  REQUIRE(s.commit({StateOp::put("first", 1)}).isOk());
  uint64_t rev = mustLoad(s).revision;

  std::vector<StateOp> ops;
  for (int i = 0; i < 300; ++i) ops.push_back(StateOp::put("hashes/ro-1/" + std::to_string(i), i));
  REQUIRE(s.commit(ops, rev).isOk());
  StateSnapshot snap = mustLoad(s);
  CHECK(snap.entries.size() == 301);
  CHECK(snap.entries.at("hashes/ro-1/299") == 299);

  // The parts form a chain: the marker was written three times (127 + 127 + 46).
  auto marker = f.client.range(EtcdRangeRequest{s.markerKey(), "", 0, 0});
  REQUIRE(marker.isOk());
  json m = json::parse(marker->kvs[0].value);
  CHECK(m["parts"] == 3);
  CHECK(m["part"] == 3);
  CHECK(marker->kvs[0].version == 4);

  // A stale revision stops the first part: nothing of the batch is stored.
  std::vector<StateOp> more;
  for (int i = 0; i < 200; ++i) more.push_back(StateOp::put("more/" + std::to_string(i), i));
  CHECK(s.commit(more, rev).reason() == "precondition_failed");
  CHECK(mustLoad(s).entries.size() == 301);
}

TEST_CASE("etcd state store: a batch beyond the request size is split; one huge value is refused") {
  SKIP_WITHOUT_ETCD();
  EtcdStateStoreOptions o = EtcdFixture::defaults();
  o.page_size = 3;  // load() pages through the keys too
  EtcdFixture f(o);
  EtcdStateStore& s = *f.store;

  // Six 400 KB values: 2.4 MB in one batch, more than etcd takes in one request.
  std::vector<StateOp> ops;
  for (int i = 0; i < 6; ++i) {
    ops.push_back(StateOp::put("chunk/" + std::to_string(i), std::string(400 * 1000, 'a' + i)));
  }
  REQUIRE(s.commit(ops).isOk());
  StateSnapshot snap = mustLoad(s);
  REQUIRE(snap.entries.size() == 6);
  CHECK(snap.entries.at("chunk/5").get<std::string>() == std::string(400 * 1000, 'f'));
  auto marker = f.client.range(EtcdRangeRequest{s.markerKey(), "", 0, 0});
  REQUIRE(marker.isOk());
  CHECK(json::parse(marker->kvs[0].value)["parts"].get<int>() >= 2);

  Status huge = s.commit({StateOp::put("small", 1), StateOp::put("manifests/m/v", std::string(2 << 20, 'x'))});
  CHECK(huge.code() == StatusCode::kResourceExhausted);
  CHECK(huge.reason() == "value_too_large");
  CHECK(huge.message().find("manifests/m/v") != std::string::npos);
  CHECK(mustLoad(s).entries.count("small") == 0);  // refused before anything was written
}

TEST_CASE("etcd state store: keys outside state/ are not part of the snapshot") {
  SKIP_WITHOUT_ETCD();
  EtcdFixture f;
  EtcdStateStore& s = *f.store;
  REQUIRE(f.client.txn({}, {EtcdOp::put("/sc/leader", "{}"), EtcdOp::put("/scx/state/a", "1")}).isOk());
  REQUIRE(s.commit({StateOp::put("stripes/ro-1/us%2Feast", {{"seeders", {"a"}}})}).isOk());
  StateSnapshot snap = mustLoad(s);
  CHECK(snap.entries.size() == 1);
  CHECK(snap.entries.count("stripes/ro-1/us%2Feast") == 1);

  // A value that is not JSON is reported, naming the key.
  REQUIRE(f.client.txn({}, {EtcdOp::put("/sc/state/bad", "{not json")}).isOk());
  auto bad = s.load();
  CHECK(bad.status().code() == StatusCode::kCorruption);
  CHECK(bad.status().message().find("/sc/state/bad") != std::string::npos);
}

}  // namespace
}  // namespace shardcast::controller
