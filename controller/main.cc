// shardcast-controller: parses flags, builds the Server, serves until SIGTERM or
// SIGINT, then drains. Exit codes: 0 clean stop (or --help/--version/
// --check-config), 1 could not start, 2 bad flags, 3 an HA replica lost its
// leadership (it exits so that it restarts as a follower).
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/flag_parser.h"
#include "common/log.h"
#include "controller/authenticator.h"
#include "controller/etcd_client.h"
#include "controller/server.h"

namespace {

using shardcast::FlagParser;
using shardcast::Result;
using shardcast::Status;
using shardcast::controller::ServerConfig;

constexpr const char* kUsage =
    "usage: shardcast-controller [flags]\n"
    "Schedules model rollouts and serves the shardcast controller API.\n\n"
    "flags:\n";

void declareFlags(FlagParser& p) {
  p.addValue("listen", "HOST:PORT to serve the API on (port 0 picks a free port)", "0.0.0.0:7400");
  p.addValue("ready-file", "write the listening HOST:PORT here once serving");
  p.addValue("state-store",
             "where controller state lives: journal (crash-safe files in --data-dir), etcd "
             "(HA), or memory (lost on restart)",
             "journal");
  p.addValue("data-dir",
             "directory of the journal (required with --state-store journal; created 0700)");
  p.addValue("snapshot-every", "journal records between snapshots (compaction)", "1000");
  p.addValue("etcd-endpoints",
             "etcd client URLs, comma-separated (required with --state-store etcd)");
  p.addValue("etcd-prefix", "key prefix of this controller group in etcd", "/shardcast/");
  p.addValue("etcd-ca-file", "TLS: CA bundle that signed etcd's certificate (https:// endpoints)");
  p.addValue("etcd-cert-file", "TLS: client certificate for etcd --client-cert-auth (PEM)");
  p.addValue("etcd-key-file", "TLS: the client certificate's key (PEM)");
  p.addValue("leader-lease-ttl", "HA leader lease TTL; a dead leader is replaced after it", "10s");
  p.addValue("advertise-url",
             "HA: how agents and other replicas reach this replica (default "
             "http://<listen host>:<port>)");
  p.addValue("node-timeout-ms", "a node silent for longer is dead (T)", "30000");
  p.addValue("max-seeders", "origin seeders per region (S)", "16");
  p.addValue("peers-per-node", "peers handed to each node (K)", "16");
  p.addValue("max-origin-requests-per-region",
             "concurrent origin requests per region, divided among its seeders (0 = no limit "
             "beyond S x each agent's --origin-concurrency)",
             "0");
  p.addValue("agent-requests-per-s",
             "budget of agents' peers polls and progress reports per second: large fleets poll "
             "less often (0 = agents use their own intervals)",
             "4000");
  p.addValue("list-timeout-ms", "timeout of each source listing request", "15000");
  p.addValue("token-file", "file holding the bearer token the API requires");
  p.addValue("log-level", "debug, info, warn or error", "info");
  p.addBool("check-config", "validate the flags and exit");
  p.addBool("version", "print the version and exit");
  p.addBool("help", "show this help");
}

Result<std::pair<std::string, uint16_t>> parseListen(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return shardcast::invalidArgument("--listen must be HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return shardcast::invalidArgument("--listen port must be 0-65535, got '" + port + "'");
  }
  return std::make_pair(host, static_cast<uint16_t>(std::stoul(port)));
}

Result<uint64_t> positive(const FlagParser& p, const std::string& name, uint64_t max) {
  ASSIGN_OR_RETURN(uint64_t v, p.u64(name));
  if (v == 0 || v > max) {
    return shardcast::invalidArgument("flag --" + name + " must be between 1 and " + std::to_string(max));
  }
  return v;
}

Result<shardcast::LogLevel> parseLogLevel(const std::string& s) {
  if (s == "debug") return shardcast::LogLevel::kDebug;
  if (s == "info") return shardcast::LogLevel::kInfo;
  if (s == "warn") return shardcast::LogLevel::kWarn;
  if (s == "error") return shardcast::LogLevel::kError;
  return shardcast::invalidArgument("--log-level must be debug, info, warn or error, got '" + s + "'");
}

// --etcd-endpoints, --etcd-prefix, --leader-lease-ttl, --advertise-url; checked
// with the rest of the state store settings (validateStateStoreConfig).
Status readReplicationFlags(const FlagParser& p, ServerConfig& c) {
  if (p.isSet("etcd-endpoints")) {
    ASSIGN_OR_RETURN(c.state_store.etcd_endpoints,
                     shardcast::controller::parseEtcdEndpoints(p.value("etcd-endpoints")));
  }
  c.state_store.etcd_prefix = p.value("etcd-prefix");
  c.state_store.etcd_ca_file = p.value("etcd-ca-file");
  c.state_store.etcd_cert_file = p.value("etcd-cert-file");
  c.state_store.etcd_key_file = p.value("etcd-key-file");
  auto ttl = shardcast::parseDurationMs(p.value("leader-lease-ttl"));
  if (!ttl.isOk()) return ttl.status().withContext("--leader-lease-ttl");
  c.state_store.leader_lease_ttl_ms = *ttl;
  c.advertise_url = p.value("advertise-url");
  const std::string& u = c.advertise_url;
  if (u.find('@') != std::string::npos) {
    return shardcast::invalidArgument("--advertise-url must not carry credentials (user@)");
  }
  if (!u.empty() && ((u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) || u.size() > 512 ||
                     u.find_first_of(" \t\r\n") != std::string::npos)) {
    return shardcast::invalidArgument("--advertise-url must be an http(s)://host:port URL, got '" +
                                      u.substr(0, 100) + "'");
  }
  while (!c.advertise_url.empty() && c.advertise_url.back() == '/') c.advertise_url.pop_back();
  return Status::ok();
}

Status buildConfig(const FlagParser& p, ServerConfig& c, shardcast::LogLevel& level) {
  ASSIGN_OR_RETURN(auto listen, parseListen(p.value("listen")));
  c.listen_host = listen.first;
  c.listen_port = listen.second;
  c.ready_file = p.value("ready-file");
  c.state_store.kind = p.value("state-store");
  c.state_store.data_dir = p.value("data-dir");
  ASSIGN_OR_RETURN(c.state_store.snapshot_every, positive(p, "snapshot-every", 1000000000));
  RETURN_IF_ERROR(readReplicationFlags(p, c));
  ASSIGN_OR_RETURN(uint64_t timeout, positive(p, "node-timeout-ms", 24ull * 3600 * 1000));
  ASSIGN_OR_RETURN(uint64_t seeders, positive(p, "max-seeders", 1024));
  ASSIGN_OR_RETURN(uint64_t peers, positive(p, "peers-per-node", 1024));
  ASSIGN_OR_RETURN(uint64_t list_timeout, positive(p, "list-timeout-ms", 3600 * 1000));
  c.controller.node_timeout_ms = static_cast<int64_t>(timeout);
  c.controller.max_seeders = static_cast<uint32_t>(seeders);
  c.controller.peers_per_node = static_cast<uint32_t>(peers);
  c.controller.list_timeout_ms = static_cast<long>(list_timeout);
  ASSIGN_OR_RETURN(uint64_t origin_budget, p.u64("max-origin-requests-per-region"));
  if (origin_budget > 1000000) {
    return shardcast::invalidArgument("flag --max-origin-requests-per-region must be at most 1000000");
  }
  c.controller.max_origin_requests_per_region = static_cast<uint32_t>(origin_budget);
  ASSIGN_OR_RETURN(uint64_t agent_budget, p.u64("agent-requests-per-s"));
  if (agent_budget > 100000000) {
    return shardcast::invalidArgument("flag --agent-requests-per-s must be at most 100000000");
  }
  c.controller.agent_requests_per_s = static_cast<uint32_t>(agent_budget);
  if (p.isSet("token-file")) {
    ASSIGN_OR_RETURN(c.token, shardcast::controller::readTokenFile(p.value("token-file")));
  }
  ASSIGN_OR_RETURN(level, parseLogLevel(p.value("log-level")));
  RETURN_IF_ERROR(shardcast::controller::validateStateStoreConfig(c.state_store));
  if (!p.positional().empty()) {
    return shardcast::invalidArgument("unexpected argument '" + p.positional().front() + "'");
  }
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  FlagParser flags;
  declareFlags(flags);
  Status parsed = flags.parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.isOk()) {
    std::cerr << "shardcast-controller: " << parsed.message() << "\n";
    return 2;
  }
  if (flags.flag("help")) {
    std::cout << kUsage << flags.usage();
    return 0;
  }
  if (flags.flag("version")) {
    std::cout << "shardcast-controller " << SHARDCAST_VERSION << "\n";
    return 0;
  }
  ServerConfig config;
  shardcast::LogLevel level = shardcast::LogLevel::kInfo;
  Status valid = buildConfig(flags, config, level);
  if (!valid.isOk()) {
    std::cerr << "shardcast-controller: " << valid.message() << "\n";
    return 2;
  }
  if (flags.flag("check-config")) return 0;
  shardcast::setLogLevel(level);
  shardcast::setLogComponent("controller");

  // Signals are taken synchronously by sigwait below; every thread the server
  // starts inherits this mask, so none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  shardcast::controller::Server server(std::move(config));
  Status started = server.start();
  if (!started.isOk()) {
    std::cerr << "shardcast-controller: " << started.message() << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  LOG_INFO("received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", draining");
  server.stop();
  return 0;
}
