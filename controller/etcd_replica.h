// EtcdReplica: one controller replica's membership in an etcd-backed HA group
// (--state-store etcd, DESIGN §7). It owns the etcd client, the state store over
// it and the leader elector, and ties them together: the store writes under the
// term the elector holds (EtcdStateStore::setLeaderRevision is set on election,
// cleared on deposition), so the Server only decides what to do on election
// (load the snapshot, restore, serve) and on deposition (stop).
//
// The replica id is "<hostname>-<random>", new for every process: a restarted
// replica never mistakes the old leader key for its own.
//
// Thread-safe (its parts are). Not responsible for the rollout logic or serving.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/etcd_client.h"
#include "controller/etcd_state_store.h"
#include "controller/leader_elector.h"

namespace shardcast::controller {

struct EtcdReplicaConfig {
  std::vector<std::string> endpoints;
  std::string prefix = "/shardcast/";
  int64_t lease_ttl_ms = 10000;
  std::string replica_id;  // "" = generated
  std::string ca_file, cert_file, key_file;  // TLS to etcd (EtcdClientOptions)
};

class EtcdReplica {
 public:
  EtcdReplica(EtcdReplicaConfig config, const Clock& clock);
  ~EtcdReplica();
  EtcdReplica(const EtcdReplica&) = delete;
  EtcdReplica& operator=(const EtcdReplica&) = delete;

  StateStore& store() { return *store_; }
  const std::string& replicaId() const { return config_.replica_id; }

  // Starts campaigning; `advertise_url` is what followers hand to agents while
  // this replica leads. `on_elected` runs after the store took the new term;
  // `on_deposed` after the store dropped it. Both run on the elector's thread and
  // must return quickly.
  void start(const std::string& advertise_url, std::function<void(const LeaderTerm&)> on_elected,
             std::function<void(const std::string& reason)> on_deposed);
  // Stops campaigning; a leader resigns (its lease is revoked).
  void stop();

  bool isLeader() const { return elector_ && elector_->isLeader(); }
  // The leader's advertise URL as last seen ("" when none is known).
  std::string leaderUrl() const;

 private:
  EtcdReplicaConfig config_;
  const Clock& clock_;
  std::unique_ptr<EtcdClient> client_;
  std::unique_ptr<EtcdStateStore> store_;
  std::unique_ptr<LeaderElector> elector_;
};

}  // namespace shardcast::controller
