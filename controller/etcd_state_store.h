// EtcdStateStore: the StateStore (state_store.h) over etcd, for controllers that
// run as several replicas with one leader (DESIGN §7).
//
// Key layout under the prefix P (--etcd-prefix, default "/shardcast/"):
//   P + "leader"        the leader key: {"id","url"} on the leader's lease
//                       (written by LeaderElector, read here)
//   P + "commit"        the commit marker: {"replica","leader_rev","ops","part",
//                       "parts"}, rewritten by every commit, so its mod_revision
//                       is the revision of the newest commit
//   P + "state/" + K    the value of StateStore key K as JSON text
//
// Compare-and-set: the store's revision is the commit marker's mod_revision (0
// before the first commit). commit(ops, R) is one etcd txn whose compares are
//   - mod_revision(P+"commit") == R          (when if_revision is set), and
//   - create_revision(P+"leader") == L       (L = setLeaderRevision; when the
//                                             store requires a leader)
// so a replica that lost the leader key (a stalled or deposed leader) cannot
// write: its txn fails and commit() answers Aborted "not_leader".
//
// Limits: etcd takes at most 128 ops per txn and 1.5 MiB per request. A batch
// beyond them (after duplicate keys are folded: etcd rejects a txn that names a
// key twice; the last op on a key wins, as in the journal) is split into several
// txns in op order. Each part carries both compares, and part i > 0 also
// requires the marker's mod_revision to be the revision part i-1 wrote, so no
// other writer interleaves. A split batch is not atomic: a crash (or a failed
// part) leaves a prefix of it in etcd, which a later leader restores. The
// controller's batches are ordered so that a prefix is a usable state (a manifest
// before its rollout record before its stripe plans; hash chunks in log order),
// but e.g. a rollout whose creation the client saw fail may then reappear. In
// practice the controller's batches stay far below the limits (one rollout's
// records; hash chunks of 4096 entries, ~300 KB); a split is logged as a warning.
// One op whose key and value alone exceed the request limit is refused with
// ResourceExhausted naming the key.
//
// load() reads the marker, then every key under P+"state/" in pages, all at the
// marker read's revision: one consistent snapshot.
//
// Thread-safe (the leader revision is guarded by a mutex; EtcdClient is
// thread-safe). Not responsible for leader election (LeaderElector) nor for what
// the keys mean (rollout_codec.h).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "controller/etcd_client.h"
#include "controller/state_store.h"

namespace shardcast::controller {

struct EtcdStateStoreOptions {
  std::string prefix = "/shardcast/";
  std::string replica_id;  // written into every commit marker
  // When true, commits need setLeaderRevision() and are conditioned on it.
  bool require_leader = true;
  size_t max_txn_ops = 128;                   // etcd's --max-txn-ops
  size_t max_txn_bytes = 1536 * 1024 - 64 * 1024;  // under --max-request-bytes, with room
  int64_t page_size = 128;                    // keys per range page in load()
};

class EtcdStateStore final : public StateStore {
 public:
  EtcdStateStore(EtcdClient& client, EtcdStateStoreOptions options);

  Status commit(const std::vector<StateOp>& ops,
                std::optional<uint64_t> if_revision = std::nullopt) override;
  Result<StateSnapshot> load() const override;

  // The create_revision of the leader key this replica holds (0 = none). Set
  // by the server when elected, cleared when deposed.
  void setLeaderRevision(int64_t create_revision);
  int64_t leaderRevision() const;

  std::string leaderKey() const { return options_.prefix + "leader"; }
  std::string markerKey() const { return options_.prefix + "commit"; }
  std::string statePrefix() const { return options_.prefix + "state/"; }

 private:
  struct Part {
    std::vector<EtcdOp> ops;
  };
  // Folds duplicate keys and cuts the batch into txn-sized parts.
  Result<std::vector<Part>> plan(const std::vector<StateOp>& ops) const;
  // Commits one part; `expect_marker` (if >= 0) is the marker revision required.
  // Returns the revision written.
  Result<int64_t> commitPart(const Part& part, int64_t leader_rev, int64_t expect_marker,
                             size_t index, size_t parts);

  EtcdClient& client_;
  const EtcdStateStoreOptions options_;
  mutable std::mutex mu_;
  int64_t leader_rev_ = 0;  // guarded by mu_
};

}  // namespace shardcast::controller
