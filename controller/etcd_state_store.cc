#include "controller/etcd_state_store.h"

#include <exception>
#include <map>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

// Bytes an op adds to a txn request besides its key and value (field tags,
// lengths); generous, so the estimate stays above the real size.
constexpr size_t kOpOverheadBytes = 64;
// Room kept in every part for the compares and the commit marker.
constexpr size_t kPartReserveBytes = 4096;

std::string dumpValue(const json& value) {
  // Replace invalid UTF-8 instead of throwing (names may echo client input).
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

EtcdStateStore::EtcdStateStore(EtcdClient& client, EtcdStateStoreOptions options)
    : client_(client), options_(std::move(options)) {}

void EtcdStateStore::setLeaderRevision(int64_t create_revision) {
  std::lock_guard<std::mutex> l(mu_);
  leader_rev_ = create_revision;
}

int64_t EtcdStateStore::leaderRevision() const {
  std::lock_guard<std::mutex> l(mu_);
  return leader_rev_;
}

Result<std::vector<EtcdStateStore::Part>> EtcdStateStore::plan(const std::vector<StateOp>& ops) const {
  // etcd refuses a txn naming a key twice: keep each key's last op, in the order
  // of those last ops (applying the batch in order gives the same state).
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < ops.size(); ++i) last[ops[i].key] = i;
  std::vector<Part> parts(1);
  size_t part_bytes = 0;
  size_t max_ops = options_.max_txn_ops > 1 ? options_.max_txn_ops - 1 : 1;  // 1 for the marker
  size_t max_bytes = options_.max_txn_bytes > kPartReserveBytes
                         ? options_.max_txn_bytes - kPartReserveBytes
                         : options_.max_txn_bytes;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (last[ops[i].key] != i) continue;
    const StateOp& op = ops[i];
    EtcdOp e = op.kind == StateOp::Kind::kPut
                   ? EtcdOp::put(statePrefix() + op.key, dumpValue(op.value))
                   : EtcdOp::del(statePrefix() + op.key);
    size_t bytes = e.key.size() + e.value.size() + kOpOverheadBytes;
    if (bytes > max_bytes) {
      return resourceExhausted("state key '" + op.key.substr(0, 200) + "' holds " +
                                   std::to_string(e.value.size()) +
                                   " bytes; etcd takes at most " + std::to_string(max_bytes) +
                                   " bytes per request (store large lists in chunks)",
                               "value_too_large");
    }
    if (!parts.back().ops.empty() &&
        (parts.back().ops.size() >= max_ops || part_bytes + bytes > max_bytes)) {
      parts.emplace_back();
      part_bytes = 0;
    }
    parts.back().ops.push_back(std::move(e));
    part_bytes += bytes;
  }
  return parts;
}

Result<int64_t> EtcdStateStore::commitPart(const Part& part, int64_t leader_rev,
                                           int64_t expect_marker, size_t index, size_t parts) {
  std::vector<EtcdCompare> compares;
  if (leader_rev > 0) compares.push_back(EtcdCompare::createRevision(leaderKey(), leader_rev));
  if (expect_marker >= 0) compares.push_back(EtcdCompare::modRevision(markerKey(), expect_marker));
  std::vector<EtcdOp> success = part.ops;
  json marker = {{"replica", options_.replica_id},
                 {"leader_rev", leader_rev},
                 {"ops", part.ops.size()},
                 {"part", index + 1},
                 {"parts", parts}};
  success.push_back(EtcdOp::put(markerKey(), marker.dump()));
  ASSIGN_OR_RETURN(EtcdTxnResult r,
                   client_.txn(compares, success, {EtcdOp::get(leaderKey()), EtcdOp::get(markerKey())}));
  if (r.succeeded) return r.revision;
  const auto& leader = r.ranges.size() > 0 ? r.ranges[0].kvs : std::vector<EtcdKeyValue>{};
  if (leader_rev > 0 && (leader.empty() || leader[0].create_revision != leader_rev)) {
    std::string now = leader.empty() ? "nobody holds it"
                                     : "it was created at revision " +
                                           std::to_string(leader[0].create_revision);
    return aborted("this replica no longer holds the leader key (held since revision " +
                       std::to_string(leader_rev) + "; " + now + "): not the leader",
                   "not_leader");
  }
  const auto& mk = r.ranges.size() > 1 ? r.ranges[1].kvs : std::vector<EtcdKeyValue>{};
  int64_t actual = mk.empty() ? 0 : mk[0].mod_revision;
  return aborted("state store revision is " + std::to_string(actual) + ", expected " +
                     std::to_string(expect_marker),
                 "precondition_failed");
}

Status EtcdStateStore::commit(const std::vector<StateOp>& ops, std::optional<uint64_t> if_revision) {
  int64_t leader_rev = leaderRevision();
  if (options_.require_leader && leader_rev == 0) {
    return aborted("this replica is not the leader; it cannot write the state store", "not_leader");
  }
  if (ops.empty()) {
    if (!if_revision) return Status::ok();
    ASSIGN_OR_RETURN(EtcdRange m, client_.range(EtcdRangeRequest{markerKey(), "", 0, 0}));
    uint64_t actual = m.kvs.empty() ? 0 : static_cast<uint64_t>(m.kvs[0].mod_revision);
    if (actual == *if_revision) return Status::ok();
    return aborted("state store revision is " + std::to_string(actual) + ", expected " +
                       std::to_string(*if_revision),
                   "precondition_failed");
  }
  ASSIGN_OR_RETURN(std::vector<Part> parts, plan(ops));
  if (parts.size() > 1) {
    LOG_WARN("state store: a batch of " << ops.size() << " ops exceeds etcd's txn limits; writing it in "
                                        << parts.size() << " txns (not atomic: a crash between "
                                                           "them keeps a prefix)");
  }
  int64_t expect = if_revision ? static_cast<int64_t>(*if_revision) : -1;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto written = commitPart(parts[i], leader_rev, expect, i, parts.size());
    if (!written.isOk()) {
      if (i > 0) {
        LOG_ERROR("state store: part " << i + 1 << " of " << parts.size()
                                       << " failed; the first " << i << " parts are stored");
      }
      return written.status();
    }
    expect = *written;
  }
  return Status::ok();
}

Result<StateSnapshot> EtcdStateStore::load() const {
  Status last;
  // A compaction between the pages of one read makes its revision unreadable:
  // start over a few times before giving up.
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(EtcdRange m, client_.range(EtcdRangeRequest{markerKey(), "", 0, 0}));
    auto all = client_.rangePrefix(statePrefix(), m.revision, options_.page_size);
    if (!all.isOk()) {
      last = all.status();
      if (last.reason() == "etcd_compacted") continue;
      return last;
    }
    StateSnapshot snap;
    snap.revision = m.kvs.empty() ? 0 : static_cast<uint64_t>(m.kvs[0].mod_revision);
    size_t strip = statePrefix().size();
    for (const auto& kv : all->kvs) {
      std::string key = kv.key.substr(strip);
      try {
        snap.entries[key] = json::parse(kv.value);
      } catch (const std::exception&) {
        return corruption("etcd key '" + kv.key.substr(0, 200) + "' does not hold JSON");
      }
    }
    return snap;
  }
  return last;
}

}  // namespace shardcast::controller
