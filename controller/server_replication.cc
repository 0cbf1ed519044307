// Server: the HA half (--state-store etcd). See server.h.
#include <cstdlib>

#include "common/log.h"
#include "controller/handlers.h"
#include "controller/leader_gate.h"
#include "controller/server.h"

namespace shardcast::controller {
namespace {

// Exit code of a replica that lost its leadership (see main.cc).
constexpr int kExitDeposed = 3;

}  // namespace

Status Server::openReplicated() {
  const StateStoreConfig& s = config_.state_store;
  RETURN_IF_ERROR(validateStateStoreConfig(s));
  EtcdReplicaConfig rc;
  rc.endpoints = s.etcd_endpoints;
  rc.prefix = s.etcd_prefix;
  rc.lease_ttl_ms = s.leader_lease_ttl_ms;
  rc.ca_file = s.etcd_ca_file;
  rc.cert_file = s.etcd_cert_file;
  rc.key_file = s.etcd_key_file;
  replica_ = std::make_unique<EtcdReplica>(std::move(rc), clock_);
  service_ = std::make_unique<RolloutService>(registry_, clock_, replica_->store(), config_.controller);
  follower_reads_ = std::make_unique<FollowerReads>(replica_->store(), clock_);
  registerRoutes(router_, *service_, [this] { return role(); }, [this]() -> Result<ReadSource> {
    if (serving()) return leaderReads(*service_);
    // A follower: the replicated state as of its last load (at most a second old).
    ASSIGN_OR_RETURN(std::shared_ptr<const FollowerView> view, follower_reads_->view());
    const auto revision = static_cast<int64_t>(view->revision());
    return ReadSource{std::move(view), revision, replica_->leaderUrl()};
  });
  registerMetrics(router_, metrics_, *service_, [this] { return serving(); });
  router_.setGate(makeLeaderGate([this] { return serving(); },
                                 [this] { return replica_->leaderUrl(); }));
  return Status::ok();
}

std::string Server::advertiseUrl() const {
  if (!config_.advertise_url.empty()) return config_.advertise_url;
  return "http://" + address_;
}

void Server::startReplication() {
  std::string url = advertiseUrl();
  if (config_.advertise_url.empty() &&
      (config_.listen_host == "0.0.0.0" || config_.listen_host == "::")) {
    LOG_WARN("--advertise-url is not set and the listener is on a wildcard address; other "
             "replicas will point agents at "
             << url << ": set --advertise-url to this replica's reachable URL");
  }
  LOG_INFO("HA replica " << replica_->replicaId() << " (advertise " << url << ", etcd prefix "
                         << config_.state_store.etcd_prefix << ", lease TTL "
                         << config_.state_store.leader_lease_ttl_ms / 1000
                         << "s): following until elected");
  replica_->start(
      url,
      [this](const LeaderTerm&) {
        // Loading may take a while: not on the elector's thread (keepalives).
        std::lock_guard<std::mutex> l(mu_);
        takeover_pending_ = true;
        wake_.notify_all();
      },
      [this](const std::string& reason) { onDeposed(reason); });
}

void Server::stopReplication() {
  restored_ = false;
  replica_->stop();
}

void Server::takeOver() {
  if (!replica_->isLeader()) return;  // lost again before we got here
  auto snapshot = replica_->store().load();
  if (!snapshot.isOk()) {
    LOG_ERROR("elected, but cannot load the state from etcd: " << snapshot.status().message()
                                                                << "; retrying");
    std::lock_guard<std::mutex> l(mu_);
    takeover_pending_ = true;
    return;
  }
  Status restored = service_->restore(*snapshot);
  if (!restored.isOk()) {
    // Another replica would find the same state: stop loudly instead of serving.
    LOG_ERROR("elected, but the state in etcd cannot be restored: " << restored.message()
                                                                     << "; exiting");
    std::_Exit(1);
  }
  restored_ = true;
  LOG_INFO("serving as the leader from state revision " << snapshot->revision);
}

void Server::onDeposed(const std::string& reason) {
  restored_ = false;  // the gate closes now; the store already refuses writes
  LOG_ERROR("no longer the leader (" << reason
                                     << "); exiting so that no stale state is served: the "
                                        "replica restarts as a follower");
  std::_Exit(kExitDeposed);
}

bool Server::serving() const { return !replica_ || (restored_.load() && replica_->isLeader()); }

}  // namespace shardcast::controller
