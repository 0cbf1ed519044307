// LeaderElector: lease-based leader election among controller replicas over
// etcd (DESIGN §7).
//
// A follower looks at the leader key every poll interval; when it is absent it
// campaigns: it grants a lease (TTL --leader-lease-ttl) and creates the key in
// one txn, "create if absent" (create_revision == 0), with the value
// {"id": <replica id>, "url": <advertise url>} attached to the lease. The txn's
// revision is the key's create_revision: the term's identity, which every state
// store write of this leader is conditioned on (EtcdStateStore).
//
// A leader sends a keepalive every TTL / 3 and checks that the key is still its
// own. It steps down (onDeposed, once per term) when the lease expired, when the
// key is gone or belongs to another term, or when it could not renew before the
// lease's safe end measured on its own clock (LeaderLease): a stalled leader stops
// acting on its own, before anyone else can be elected. isLeader() applies the
// same bound on every call, so a request gate never serves past it even when the
// elector's thread is late.
//
// Callbacks run on the elector's thread with no lock held; they must return
// quickly (the server hands the takeover to another thread) or keepalives starve.
// Thread-safe. Not responsible for loading state or serving (the Server is).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "controller/etcd_client.h"
#include "controller/leader_lease.h"

namespace shardcast::controller {

struct LeaderElectorOptions {
  std::string leader_key;      // e.g. "/shardcast/leader"
  std::string replica_id;      // unique per process
  std::string advertise_url;   // how agents reach this replica
  int64_t lease_ttl_ms = 10000;
  int64_t poll_interval_ms = 0;  // follower's look at the key; 0 = TTL / 10 in [100, 1000] ms
};

struct LeaderTerm {
  int64_t lease = 0;
  int64_t create_revision = 0;  // of the leader key: identifies the term
};

struct ObservedLeader {
  std::string id;   // "" when no leader is known
  std::string url;
  int64_t create_revision = 0;
};

class LeaderElector {
 public:
  struct Callbacks {
    std::function<void(const LeaderTerm&)> on_elected;
    std::function<void(const std::string& reason)> on_deposed;
  };

  LeaderElector(EtcdClient& client, const Clock& clock, LeaderElectorOptions options,
                Callbacks callbacks);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the election thread (campaigns at once).
  void start();
  // Stops the thread. A leader resigns: it revokes its lease, which deletes the
  // leader key so a follower takes over without waiting for the TTL.
  void stop();

  // Holds a term whose lease is still safely valid by the local clock.
  bool isLeader() const;
  std::optional<LeaderTerm> term() const;
  // The leader as last seen in etcd (this replica itself while it leads).
  ObservedLeader leader() const;

  // One round of the loop (a campaign or a keepalive), for tests on a FakeClock.
  void stepForTest() { step(); }

 private:
  void loop();
  void step();
  void campaign();
  void keepAlive();
  // Ends the current term (if any) and calls on_deposed.
  void depose(const std::string& reason);
  // Records a won term and calls on_elected.
  void won(const EtcdLease& lease, int64_t create_revision, int64_t granted_at_ms);
  void observe(const std::vector<EtcdKeyValue>& kvs);
  int64_t pollIntervalMs() const;
  int64_t leaseTtlSeconds() const;

  EtcdClient& client_;
  const Clock& clock_;
  const LeaderElectorOptions options_;
  const Callbacks callbacks_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;             // guarded by mu_
  std::optional<LeaderTerm> term_;    // guarded by mu_
  LeaderLease lease_;                 // guarded by mu_
  ObservedLeader observed_;           // guarded by mu_
  int failures_ = 0;                  // only the loop's thread
  std::thread thread_;
};

}  // namespace shardcast::controller
