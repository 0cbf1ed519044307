// Server: the agent's composition root. It owns the content store, the peer
// server, the controller and peer clients, the origin registry, the heartbeat and
// assignment threads, and one RolloutWorker per assigned rollout.
//
//   - heartbeat: PUT /v1/nodes/{name} every HeartbeatReply.heartbeat_interval_ms
//     with this start's random incarnation and the published models held;
//   - assignments: long-poll; a worker starts per new rollout id; workers of
//     cancelled/failed (or no longer assigned) rollouts stop;
//   - the local API (--local-socket): prewarm, models, leases, metrics, verify,
//     through a ModelLifecycle and a ModelVerifier that see the workers via
//     workerViews();
//   - --ready-file gets the advertised peer address once the peer server serves
//     AND the first registration succeeded;
//   - with --kubernetes (server_kubernetes.cc): the Node's region/zone/labels are
//     resolved before anything starts (an API error fails start()), and a pod
//     sweeper drops leases of pods gone from this node every --pod-sweep-interval.
//
// start()/stop() are called by main's thread; stop() drains cleanly (workers
// flush their verified pieces) and is idempotent. Not thread-safe otherwise.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/agent_config.h"
#include "agent/agent_counters.h"
#include "agent/content_store.h"
#include "agent/controller_client.h"
#include "agent/kube_client.h"
#include "agent/local_api_server.h"
#include "agent/model_lifecycle.h"
#include "agent/model_verifier.h"
#include "agent/peer_client.h"
#include "agent/peer_server.h"
#include "agent/rollout_worker.h"
#include "common/api/node.h"
#include "common/objstore/registry.h"

namespace shardcast::agent {

class Server {
 public:
  explicit Server(AgentConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status start();
  void stop();

  const std::string& advertiseAddr() const { return advertise_addr_; }
  uint16_t peerPort() const { return peer_server_ ? peer_server_->port() : 0; }

 private:
  void heartbeatLoop();
  void assignmentLoop();
  void reconcile(const api::Assignments& assignments);
  api::NodeInfo nodeInfo() const;
  std::vector<WorkerView> workerViews();
  void writeReadyFile();
  bool waitMs(int64_t ms);  // false when stopping
  Status resolveTopology();  // server_kubernetes.cc
  void podSweepLoop();       // server_kubernetes.cc

  // Not const: start() fills region/zone/labels from the Kubernetes Node before
  // any other thread exists; read-only after that.
  AgentConfig config_;
  const std::string incarnation_;
  std::string advertise_addr_;
  ObjectStoreRegistry registry_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<PeerServer> peer_server_;
  std::unique_ptr<ControllerClient> controller_;
  std::unique_ptr<PeerClient> peer_client_;
  SystemClock clock_;
  AgentCounters counters_;
  std::unique_ptr<ModelLifecycle> lifecycle_;
  std::unique_ptr<ModelVerifier> verifier_;
  std::unique_ptr<LocalApiServer> local_api_;
  std::unique_ptr<KubeClient> kube_;  // --kubernetes only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;    // guarded by mu_
  bool stopped_ = false;     // guarded by mu_
  bool registered_ = false;  // guarded by mu_
  std::map<std::string, std::shared_ptr<RolloutWorker>> workers_;  // guarded by mu_
  std::thread heartbeat_;
  std::thread assignments_;
  std::thread pod_sweeper_;  // --kubernetes with a sweep interval
  uint64_t worker_seed_ = 1;  // assignment thread only
};

}  // namespace shardcast::agent
