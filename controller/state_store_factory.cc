#include "controller/state_store_factory.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "controller/data_dir_lock.h"
#include "controller/etcd_client.h"
#include "controller/in_memory_state_store.h"
#include "controller/journal_fs.h"
#include "controller/journal_state_store.h"

namespace shardcast::controller {
namespace {

Status validateEtcdSettings(const StateStoreConfig& c) {
  if (c.etcd_endpoints.empty()) {
    return invalidArgument(
        "--etcd-endpoints is required by the etcd state store (e.g. http://etcd:2379)");
  }
  for (const auto& e : c.etcd_endpoints) RETURN_IF_ERROR(parseEtcdEndpoints(e).status());
  const std::string& p = c.etcd_prefix;
  if (p.empty() || p.size() > 256 || p.back() != '/' ||
      !std::all_of(p.begin(), p.end(), [](unsigned char ch) { return ch > 0x20 && ch < 0x7f; })) {
    return invalidArgument("--etcd-prefix must be 1-256 printable characters ending with '/', e.g. /shardcast/");
  }
  if (c.leader_lease_ttl_ms < 2000 || c.leader_lease_ttl_ms > 3600 * 1000 ||
      c.leader_lease_ttl_ms % 1000 != 0) {
    return invalidArgument("--leader-lease-ttl must be whole seconds between 2s and 1h, e.g. 10s");
  }
  if (c.etcd_cert_file.empty() != c.etcd_key_file.empty()) {
    return invalidArgument("--etcd-cert-file and --etcd-key-file go together (a client certificate and its key)");
  }
  for (const auto& [flag, path] : {std::pair<const char*, const std::string&>{"--etcd-ca-file", c.etcd_ca_file},
                                   {"--etcd-cert-file", c.etcd_cert_file},
                                   {"--etcd-key-file", c.etcd_key_file}}) {
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
      return invalidArgument(std::string(flag) + " " + path.substr(0, 200) + " cannot be read: " +
                             std::strerror(errno));
    }
  }
  const bool tls_files = !c.etcd_ca_file.empty() || !c.etcd_cert_file.empty();
  for (const auto& e : c.etcd_endpoints) {
    if (tls_files && e.rfind("https://", 0) != 0) {
      return invalidArgument("--etcd-ca-file/--etcd-cert-file are for https:// endpoints; " + e.substr(0, 100) +
                             " is plain http");
    }
  }
  return Status::ok();
}

}  // namespace

Status validateStateStoreConfig(const StateStoreConfig& c) {
  if (c.kind == "memory") return Status::ok();
  if (c.kind == "journal") {
    if (c.data_dir.empty()) {
      return invalidArgument(
          "--data-dir is required by the journal state store (or use --state-store memory)");
    }
    if (c.snapshot_every == 0) return invalidArgument("--snapshot-every must be at least 1");
    return checkDataDir(c.data_dir);
  }
  if (c.kind == "etcd") return validateEtcdSettings(c);
  return invalidArgument("--state-store must be journal, etcd or memory, got '" +
                         c.kind.substr(0, 64) + "'");
}

Result<std::unique_ptr<StateStore>> openStateStore(const StateStoreConfig& c) {
  RETURN_IF_ERROR(validateStateStoreConfig(c));
  if (c.kind == "journal") {
    ASSIGN_OR_RETURN(std::unique_ptr<DataDirLock> lock, DataDirLock::acquire(c.data_dir));
    std::shared_ptr<JournalFs> fs = makePosixJournalFs();
    ASSIGN_OR_RETURN(std::unique_ptr<JournalStateStore> store,
                     JournalStateStore::open(fs, c.data_dir, JournalOptions{c.snapshot_every},
                                             std::move(lock)));
    return std::unique_ptr<StateStore>(std::move(store));
  }
  if (c.kind == "etcd") {
    // Its writes must follow the leader election: the Server opens it through
    // EtcdReplica (etcd_replica.h), never unguarded through here.
    return failedPrecondition("the etcd state store is opened with leader election (EtcdReplica)");
  }
  return std::unique_ptr<StateStore>(std::make_unique<InMemoryStateStore>());
}

}  // namespace shardcast::controller
