#include "controller/leader_elector.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace shardcast::controller {

LeaderElector::LeaderElector(EtcdClient& client, const Clock& clock, LeaderElectorOptions options,
                             Callbacks callbacks)
    : client_(client), clock_(clock), options_(std::move(options)), callbacks_(std::move(callbacks)) {}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::optional<LeaderTerm> ended;
  {
    std::lock_guard<std::mutex> l(mu_);
    ended = term_;
    term_.reset();
    lease_.lost();
  }
  if (ended) {
    Status revoked = client_.leaseRevoke(ended->lease);
    if (revoked.isOk()) {
      LOG_INFO("resigned leadership (revoked lease " << ended->lease << ")");
    } else {
      LOG_WARN("resigning leadership: " << revoked.message() << "; the lease expires on its own");
    }
  }
}

bool LeaderElector::isLeader() const {
  std::lock_guard<std::mutex> l(mu_);
  return term_.has_value() && lease_.valid(clock_.nowMs());
}

std::optional<LeaderTerm> LeaderElector::term() const {
  std::lock_guard<std::mutex> l(mu_);
  return term_;
}

ObservedLeader LeaderElector::leader() const {
  std::lock_guard<std::mutex> l(mu_);
  return observed_;
}

int64_t LeaderElector::pollIntervalMs() const {
  if (options_.poll_interval_ms > 0) return options_.poll_interval_ms;
  return std::clamp<int64_t>(options_.lease_ttl_ms / 10, 100, 1000);
}

int64_t LeaderElector::leaseTtlSeconds() const {
  return std::max<int64_t>(1, (options_.lease_ttl_ms + 999) / 1000);
}

void LeaderElector::loop() {
  for (;;) {
    step();
    std::unique_lock<std::mutex> l(mu_);
    int64_t wait_ms = pollIntervalMs();
    if (term_) {
      int64_t now = clock_.nowMs();
      // Wake for the next keepalive, or at the lease's safe end to step down.
      wait_ms = std::min(lease_.nextKeepAliveMs(), lease_.validUntilMs()) - now;
      wait_ms = std::clamp<int64_t>(wait_ms, 0, 60000);
    }
    wake_.wait_for(l, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
    if (stopping_) return;
  }
}

void LeaderElector::step() {
  bool leading;
  {
    std::lock_guard<std::mutex> l(mu_);
    leading = term_.has_value();
  }
  if (leading) {
    keepAlive();
  } else {
    campaign();
  }
}

void LeaderElector::observe(const std::vector<EtcdKeyValue>& kvs) {
  ObservedLeader seen;
  if (!kvs.empty()) {
    seen.create_revision = kvs[0].create_revision;
    try {
      auto j = nlohmann::json::parse(kvs[0].value);
      seen.id = j.value("id", std::string());
      seen.url = j.value("url", std::string());
    } catch (const std::exception&) {
      seen.id = "?";  // a key someone else wrote: still a leader, address unknown
    }
  }
  bool changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    changed = seen.create_revision != observed_.create_revision;
    observed_ = seen;
  }
  if (changed) {
    if (seen.id.empty()) {
      LOG_INFO("no leader holds " << options_.leader_key << "; campaigning");
    } else {
      LOG_INFO("following leader " << seen.id << " at " << (seen.url.empty() ? "?" : seen.url)
                                   << " (rev " << seen.create_revision << ")");
    }
  }
}

void LeaderElector::campaign() {
  auto current = client_.range(EtcdRangeRequest{options_.leader_key, "", 0, 0});
  if (!current.isOk()) {
    if (failures_++ % 20 == 0) LOG_WARN("leader election: " << current.status().message());
    return;
  }
  failures_ = 0;
  observe(current->kvs);
  if (!current->kvs.empty()) return;

  int64_t granted_at = clock_.nowMs();
  auto lease = client_.leaseGrant(leaseTtlSeconds());
  if (!lease.isOk()) {
    LOG_WARN("leader election: cannot grant a lease: " << lease.status().message());
    return;
  }
  nlohmann::json value = {{"id", options_.replica_id}, {"url", options_.advertise_url}};
  auto txn = client_.txn({EtcdCompare::createRevision(options_.leader_key, 0)},
                         {EtcdOp::put(options_.leader_key, value.dump(), lease->id)},
                         {EtcdOp::get(options_.leader_key)});
  if (txn.isOk() && txn->succeeded) return won(*lease, txn->revision, granted_at);
  if (txn.isOk()) {
    observe(txn->ranges.empty() ? std::vector<EtcdKeyValue>{} : txn->ranges[0].kvs);
  } else {
    // The txn may have been applied before the answer was lost: if the key is on
    // our lease, we won.
    auto again = client_.range(EtcdRangeRequest{options_.leader_key, "", 0, 0});
    if (again.isOk() && !again->kvs.empty() && again->kvs[0].lease == lease->id) {
      return won(*lease, again->kvs[0].create_revision, granted_at);
    }
    LOG_WARN("leader election: campaign failed: " << txn.status().message());
  }
  (void)client_.leaseRevoke(lease->id);  // unused; it would expire anyway
}

void LeaderElector::won(const EtcdLease& lease, int64_t create_revision, int64_t granted_at_ms) {
  LeaderTerm term{lease.id, create_revision};
  {
    std::lock_guard<std::mutex> l(mu_);
    term_ = term;
    lease_ = LeaderLease();
    lease_.renewed(granted_at_ms, lease.ttl_s);
    observed_ = ObservedLeader{options_.replica_id, options_.advertise_url, create_revision};
  }
  LOG_INFO("elected leader (lease " << lease.id << ", rev " << create_revision << ", ttl "
                                    << lease.ttl_s << "s) as " << options_.replica_id);
  if (callbacks_.on_elected) callbacks_.on_elected(term);
}

void LeaderElector::keepAlive() {
  LeaderTerm term;
  long timeout_ms;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!term_) return;
    term = *term_;
    timeout_ms = static_cast<long>(lease_.keepAliveTimeoutMs());
  }
  int64_t sent = clock_.nowMs();
  auto ttl = client_.leaseKeepAlive(term.lease, timeout_ms);
  if (ttl.isOk()) {
    std::lock_guard<std::mutex> l(mu_);
    lease_.renewed(sent, *ttl);
  } else if (ttl.status().reason() == "lease_expired") {
    return depose("lease " + std::to_string(term.lease) + " expired");
  } else {
    LOG_WARN("leader lease keepalive: " << ttl.status().message());
  }
  auto key = client_.range(EtcdRangeRequest{options_.leader_key, "", 0, 0});
  if (key.isOk() && (key->kvs.empty() || key->kvs[0].create_revision != term.create_revision)) {
    return depose(key->kvs.empty() ? "the leader key is gone"
                                   : "the leader key belongs to another term (rev " +
                                         std::to_string(key->kvs[0].create_revision) + ")");
  }
  bool valid;
  {
    std::lock_guard<std::mutex> l(mu_);
    valid = lease_.valid(clock_.nowMs());
  }
  if (!valid) depose("could not renew lease " + std::to_string(term.lease) + " within its TTL");
}

void LeaderElector::depose(const std::string& reason) {
  std::optional<LeaderTerm> ended;
  {
    std::lock_guard<std::mutex> l(mu_);
    ended = term_;
    term_.reset();
    lease_.lost();
    observed_ = ObservedLeader{};
  }
  if (!ended) return;
  LOG_ERROR("deposed as leader (lease " << ended->lease << ", rev " << ended->create_revision
                                        << "): " << reason);
  if (callbacks_.on_deposed) callbacks_.on_deposed(reason);
}

}  // namespace shardcast::controller
