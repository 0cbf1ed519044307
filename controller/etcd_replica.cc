#include "controller/etcd_replica.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

namespace shardcast::controller {
namespace {

std::string newReplicaId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "replica");
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
  return std::string(host) + "-" + suffix;
}

}  // namespace

EtcdReplica::EtcdReplica(EtcdReplicaConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  if (config_.replica_id.empty()) config_.replica_id = newReplicaId();
  EtcdClientOptions co;
  co.endpoints = config_.endpoints;
  co.ca_file = config_.ca_file;
  co.cert_file = config_.cert_file;
  co.key_file = config_.key_file;
  // A request must not outlast a keepalive interval (TTL / 3).
  co.timeout_ms = std::max<long>(500, std::min<long>(5000, static_cast<long>(config_.lease_ttl_ms / 3)));
  client_ = std::make_unique<EtcdClient>(co);
  EtcdStateStoreOptions so;
  so.prefix = config_.prefix;
  so.replica_id = config_.replica_id;
  so.require_leader = true;
  store_ = std::make_unique<EtcdStateStore>(*client_, so);
}

EtcdReplica::~EtcdReplica() { stop(); }

void EtcdReplica::start(const std::string& advertise_url,
                        std::function<void(const LeaderTerm&)> on_elected,
                        std::function<void(const std::string& reason)> on_deposed) {
  if (elector_) return;
  LeaderElectorOptions eo;
  eo.leader_key = store_->leaderKey();
  eo.replica_id = config_.replica_id;
  eo.advertise_url = advertise_url;
  eo.lease_ttl_ms = config_.lease_ttl_ms;
  LeaderElector::Callbacks cb;
  cb.on_elected = [this, on_elected = std::move(on_elected)](const LeaderTerm& term) {
    store_->setLeaderRevision(term.create_revision);
    if (on_elected) on_elected(term);
  };
  cb.on_deposed = [this, on_deposed = std::move(on_deposed)](const std::string& reason) {
    store_->setLeaderRevision(0);
    if (on_deposed) on_deposed(reason);
  };
  elector_ = std::make_unique<LeaderElector>(*client_, clock_, eo, std::move(cb));
  elector_->start();
}

void EtcdReplica::stop() {
  if (!elector_) return;
  store_->setLeaderRevision(0);
  elector_->stop();
}

std::string EtcdReplica::leaderUrl() const {
  if (!elector_) return "";
  return elector_->leader().url;
}

}  // namespace shardcast::controller
