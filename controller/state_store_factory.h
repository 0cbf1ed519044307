// Which StateStore the controller runs on (--state-store, DESIGN §7):
//   journal  the embedded, crash-safe journal in --data-dir (the binary's default)
//   etcd     etcd's v3 JSON gateway, for several replicas with a leader (HA)
//   memory   nothing survives a restart (tests, demos)
//
// validateStateStoreConfig() checks the settings without creating or contacting
// anything (--check-config); openStateStore() opens the store — for the journal
// it creates and locks the data dir and replays it.
//
// Stateless functions; thread-safe. Not responsible for leader election.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/state_store.h"

namespace shardcast::controller {

struct StateStoreConfig {
  // The binary's --state-store defaults to journal; a Server built in code
  // (tests) keeps its state in memory unless it asks for more.
  std::string kind = "memory";
  std::string data_dir;             // journal: required
  uint64_t snapshot_every = 1000;   // journal: records between snapshots
  // etcd (HA): the Server opens it through EtcdReplica, with leader election.
  std::vector<std::string> etcd_endpoints;  // http://host:port, at least one
  std::string etcd_prefix = "/shardcast/";  // every key lives under it; ends with '/'
  int64_t leader_lease_ttl_ms = 10000;      // the leader's lease TTL (whole seconds, >= 2 s)
  std::string etcd_ca_file;                 // TLS: CA of etcd's certificate ("" = system)
  std::string etcd_cert_file;               // TLS client certificate (with etcd_key_file)
  std::string etcd_key_file;
};

Status validateStateStoreConfig(const StateStoreConfig& config);
Result<std::unique_ptr<StateStore>> openStateStore(const StateStoreConfig& config);

}  // namespace shardcast::controller
