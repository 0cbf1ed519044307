// Server: the controller's composition root. It owns every object of the process
// and their lifetimes: clock, object-store registry, state store, authenticator,
// rollout service, router, REST listener and the sweeper thread that answers
// expired long-polls and settles rollouts whose nodes died.
//
// start() opens the state store, restores the rollouts it holds, opens the
// listener and then writes the address it serves on to the ready file (DESIGN §2). stop() drains: pending long-polls are answered, the
// listener closes, the sweeper ends. Not thread-safe: start/stop from one thread
// (main); everything else runs on the listener's and the sweeper's threads.
//
// With --state-store etcd (server_replication.cc) the replica starts as a
// follower: it serves, but a gate answers every /v1/ request with 503 not_leader
// and the leader's URL. When its elector wins, the sweeper thread loads the
// snapshot from etcd, restores the service and only then serves and ticks. When
// deposed it exits at once (exit code 3): it must not act on stale state, and a
// fresh process (Kubernetes restarts the container) rejoins as a follower.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/objstore/registry.h"
#include "controller/authenticator.h"
#include "controller/etcd_replica.h"
#include "controller/follower_reads.h"
#include "controller/state_store_factory.h"
#include "controller/rest_listener.h"
#include "controller/rollout_service.h"
#include "controller/router.h"

namespace shardcast::controller {

struct ServerConfig {
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 7400;
  std::string ready_file;  // written with "host:port" once serving; "" = none
  StateStoreConfig state_store;  // where durable state lives (--state-store, --data-dir)
  std::string token;       // bearer token required by the API; "" = none
  ControllerOptions controller;
  int64_t sweep_interval_ms = 100;
  // HA: how agents and other replicas reach this one (--advertise-url);
  // "" = http://<listen host>:<port>.
  std::string advertise_url;
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status start();
  // Idempotent.
  void stop();
  // "host:port" the listener serves on, once started.
  const std::string& address() const { return address_; }
  // Valid once start() opened the state store.
  RolloutService& serviceForTest() { return *service_; }

 private:
  // Opens the state store, builds the service and restores it (before serving).
  Status openState();
  void sweepLoop();
  Status writeReadyFile() const;

  // --- HA over etcd (server_replication.cc) ---
  // Builds the replica, the service over its store, the routes and the gate.
  Status openReplicated();
  // Starts campaigning (once the listener's address is known).
  void startReplication();
  // Resigns leadership and stops campaigning.
  void stopReplication();
  // On the sweeper thread after an election: load, restore, serve.
  void takeOver();
  // From the elector: stop at once.
  void onDeposed(const std::string& reason);
  // True when this process may answer /v1/ requests and schedule.
  bool serving() const;
  std::string role() const { return serving() ? "leader" : "follower"; }
  std::string advertiseUrl() const;

  ServerConfig config_;
  SystemClock clock_;
  ObjectStoreRegistry registry_;
  std::unique_ptr<StateStore> store_;        // set by start()
  std::unique_ptr<Authenticator> auth_;
  // HA only; declared before the service and router, which use its store and
  // elector, so it outlives them.
  std::unique_ptr<EtcdReplica> replica_;
  std::unique_ptr<FollowerReads> follower_reads_;  // with replica_
  ControllerMetrics metrics_;
  std::unique_ptr<RolloutService> service_;  // set by start(), uses *store_
  Router router_;
  RestListener listener_;

  std::atomic<bool> restored_{false};     // HA: the leader restored its state

  std::thread sweeper_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool takeover_pending_ = false;  // guarded by mu_
  bool started_ = false;
  std::string address_;
};

}  // namespace shardcast::controller
