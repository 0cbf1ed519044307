// LeaderLease (pure timing policy) and LeaderElector against a real etcd on
// loopback: one leader at a time, followers see its URL, a leader steps down when
// its key is lost, its lease expires, or its own clock says the lease may be
// over; a resigning leader hands over at once.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "controller/etcd_state_store.h"
#include "controller/leader_elector.h"
#include "tests/unit/controller/etcd_server.h"

namespace shardcast::controller {
namespace {

using testing::EtcdServer;

TEST_CASE("leader lease: keepalive every TTL/3, valid until sent + TTL - margin") {
  LeaderLease lease;
  CHECK_FALSE(lease.held());
  CHECK_FALSE(lease.valid(0));
  lease.renewed(1000, 9);  // sent at 1000 ms, 9 s left
  CHECK(lease.held());
  CHECK(lease.nextKeepAliveMs() == 1000 + 3000);
  CHECK(LeaderLease::marginMs(9000) == 450);
  CHECK(lease.validUntilMs() == 1000 + 9000 - 450);
  CHECK(lease.valid(9549));
  CHECK_FALSE(lease.valid(9550));

  // A keepalive sent later moves the bound; a late answer to an earlier one never
  // moves it back.
  lease.renewed(4000, 9);
  CHECK(lease.validUntilMs() == 4000 + 9000 - 450);
  lease.renewed(3000, 9);
  CHECK(lease.validUntilMs() == 4000 + 9000 - 450);

  lease.lost();
  CHECK_FALSE(lease.valid(4001));

  // Small TTLs keep a margin of at least 100 ms and keepalives at least 100 ms apart.
  LeaderLease small;
  small.renewed(0, 1);
  CHECK(small.validUntilMs() == 900);
  CHECK(small.keepAliveTimeoutMs() == 333);
}

struct Events {
  std::mutex mu;
  std::vector<LeaderTerm> elected;
  std::vector<std::string> deposed;

  LeaderElector::Callbacks callbacks() {
    return {[this](const LeaderTerm& t) {
              std::lock_guard<std::mutex> l(mu);
              elected.push_back(t);
            },
            [this](const std::string& why) {
              std::lock_guard<std::mutex> l(mu);
              deposed.push_back(why);
            }};
  }
  size_t electedCount() {
    std::lock_guard<std::mutex> l(mu);
    return elected.size();
  }
  size_t deposedCount() {
    std::lock_guard<std::mutex> l(mu);
    return deposed.size();
  }
};

LeaderElectorOptions options(const std::string& id, int64_t ttl_ms = 4000) {
  LeaderElectorOptions o;
  o.leader_key = "/el/leader";
  o.replica_id = id;
  o.advertise_url = "http://" + id + ":7400";
  o.lease_ttl_ms = ttl_ms;
  o.poll_interval_ms = 50;
  return o;
}

template <typename Pred>
bool pollUntil(Pred pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

TEST_CASE("leader elector: one leader; the follower sees its URL; losing the key deposes") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient client(EtcdClientOptions{{etcd.url()}});
  FakeClock clock;
  Events ea, eb;
  LeaderElector a(client, clock, options("a"), ea.callbacks());
  LeaderElector b(client, clock, options("b"), eb.callbacks());

  a.stepForTest();
  REQUIRE(ea.electedCount() == 1);
  CHECK(a.isLeader());
  LeaderTerm term = *a.term();
  CHECK(term.create_revision > 0);
  CHECK(term.lease != 0);

  b.stepForTest();
  CHECK_FALSE(b.isLeader());
  CHECK(eb.electedCount() == 0);
  CHECK(b.leader().id == "a");
  CHECK(b.leader().url == "http://a:7400");
  CHECK(b.leader().create_revision == term.create_revision);

  // Keepalives keep the term; its writes go through a store conditioned on it.
  EtcdStateStoreOptions so;
  so.prefix = "/el/";
  so.replica_id = "a";
  EtcdStateStore store(client, so);
  store.setLeaderRevision(term.create_revision);
  clock.advanceMs(1500);
  a.stepForTest();
  CHECK(a.isLeader());
  CHECK(store.commit({StateOp::put("k", 1)}).isOk());

  // Someone deletes the key (an operator, or etcd after the lease expired).
  REQUIRE(client.txn({}, {EtcdOp::del("/el/leader")}).isOk());
  a.stepForTest();
  CHECK_FALSE(a.isLeader());
  REQUIRE(ea.deposedCount() == 1);
  CHECK(ea.deposed[0].find("leader key is gone") != std::string::npos);

  // b takes over with a new term; a's old term can no longer write.
  b.stepForTest();
  REQUIRE(eb.electedCount() == 1);
  CHECK(b.isLeader());
  CHECK(b.term()->create_revision > term.create_revision);
  Status stale = store.commit({StateOp::put("k", 2)});
  CHECK(stale.reason() == "not_leader");
}

TEST_CASE("leader elector: the local clock ends leadership before etcd can") {
  SKIP_WITHOUT_ETCD();
  auto etcd = std::make_unique<EtcdServer>();
  EtcdClient client(EtcdClientOptions{{etcd->url()}, 1000, 200});
  FakeClock clock;
  Events ev;
  LeaderElector a(client, clock, options("a", 4000), ev.callbacks());
  a.stepForTest();
  REQUIRE(a.isLeader());

  // The replica stalls: no keepalive for longer than the TTL. isLeader() turns
  // false on the clock alone (the gate stops serving), before etcd's own expiry.
  clock.advanceMs(4000 - LeaderLease::marginMs(4000));
  CHECK_FALSE(a.isLeader());
  CHECK(a.term().has_value());  // the loop has not noticed yet

  // When the loop runs again, the keepalive still succeeds (etcd has not expired
  // the lease in real time), which renews the term from now on.
  a.stepForTest();
  CHECK(a.isLeader());
  CHECK(ev.deposedCount() == 0);

  // etcd becomes unreachable: keepalives fail; the leader steps down once its own
  // clock passes the lease's safe end, without hearing from etcd.
  etcd.reset();
  clock.advanceMs(1500);
  a.stepForTest();  // fails, but the lease may still be valid
  CHECK(a.isLeader());
  CHECK(ev.deposedCount() == 0);
  clock.advanceMs(2500);
  a.stepForTest();
  CHECK_FALSE(a.isLeader());
  REQUIRE(ev.deposedCount() == 1);
  CHECK(ev.deposed[0].find("could not renew") != std::string::npos);
}

TEST_CASE("leader elector: an expired lease deposes the leader") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient client(EtcdClientOptions{{etcd.url()}});
  SystemClock clock;
  Events ev;
  LeaderElector a(client, clock, options("a", 2000), ev.callbacks());
  a.stepForTest();
  REQUIRE(a.isLeader());
  // No keepalives: wait (real time) until etcd deleted the key with the lease.
  REQUIRE(pollUntil(
      [&] {
        auto r = client.range(EtcdRangeRequest{"/el/leader", "", 0, 0});
        return r.isOk() && r->kvs.empty();
      },
      10000));
  CHECK_FALSE(a.isLeader());
  a.stepForTest();
  REQUIRE(ev.deposedCount() == 1);
  CHECK(ev.deposed[0].find("expired") != std::string::npos);
}

TEST_CASE("leader elector: threads; a resigning leader hands over at once") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient client(EtcdClientOptions{{etcd.url()}});
  SystemClock clock;
  Events ea, eb;
  auto a = std::make_unique<LeaderElector>(client, clock, options("a", 3000), ea.callbacks());
  LeaderElector b(client, clock, options("b", 3000), eb.callbacks());
  a->start();
  REQUIRE(pollUntil([&] { return a->isLeader(); }, 5000));
  b.start();
  REQUIRE(pollUntil([&] { return b.leader().id == "a"; }, 5000));

  // Several keepalive rounds: a stays the only leader.
  std::atomic<bool> both{false};
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < until) {
    if (a->isLeader() && b.isLeader()) both = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_FALSE(both.load());
  CHECK(a->isLeader());
  CHECK(ea.deposedCount() == 0);

  auto t0 = std::chrono::steady_clock::now();
  a->stop();  // resigns: revokes the lease
  CHECK_FALSE(a->isLeader());
  REQUIRE(pollUntil([&] { return b.isLeader(); }, 3000));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  MESSAGE("handover after resign took " << took.count() << " ms");
  CHECK(took.count() < 1500);  // poll interval, not the 3 s TTL
  CHECK(eb.electedCount() == 1);
  b.stop();
}

}  // namespace
}  // namespace shardcast::controller
