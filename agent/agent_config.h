// AgentConfig: everything the agent's composition root needs, and the parser that
// builds it from command-line flags (main.cc only calls parseAgentFlags and hands
// the result to a Server). Values are validated here so a bad flag is one clear
// line before anything starts. Reads only the token files named by flags and the
// environment (KUBERNETES_SERVICE_HOST/PORT, through an injectable lookup); with
// --check-config it also inspects, without creating anything or touching the
// network, every path the agent would use (checkDeployment). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"

namespace shardcast::agent {

struct AgentConfig {
  std::string name;                 // node name (default: hostname)
  std::string region = "default";
  std::string zone;
  std::map<std::string, std::string> labels;
  std::string controller_url = "http://127.0.0.1:7400";
  std::string data_dir;
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 7401;
  std::string advertise_host;       // "" = derived from listen_host
  uint16_t advertise_port = 0;      // 0 = the bound port
  std::string ready_file;
  uint32_t origin_concurrency = 4;
  uint32_t peer_requests = 1;
  uint32_t max_inflight = 16;
  std::string cluster_token;        // from --cluster-token-file; never logged
  std::string controller_token;     // from --controller-token-file; never logged
  std::string origin_ca_bundle;
  bool corrupt_serving_for_test = false;
  // Local API (DESIGN §5): "" = off.
  std::string local_socket;
  unsigned socket_mode = 0660;
  std::string socket_group;
  uint64_t disk_budget_bytes = 0;     // 0 = no absolute budget
  double disk_budget_percent = 0;     // 0 = no percentage budget
  int64_t default_lease_ttl_ms = 3600 * 1000;  // 0 = until released
  LogLevel log_level = LogLevel::kInfo;
  // Kubernetes (--kubernetes): the Node's region/zone/labels are defaults that
  // --region/--zone/--labels override, and leases whose id is the UID of a pod no
  // longer on this node are dropped every pod_sweep_interval_ms.
  bool kubernetes = false;
  std::string kube_api;  // resolved: --kube-api, else https://$KUBERNETES_SERVICE_HOST:PORT
  std::string kube_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string kube_ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  int64_t pod_sweep_interval_ms = 30000;
  // Which identity flags were given on the command line (a given flag beats the
  // Node's value; the defaults above do not).
  bool region_set = false;
  bool zone_set = false;
  bool default_lease_ttl_set = false;
};

// What main() should do after parsing.
enum class AgentAction { kRun, kHelp, kVersion, kCheckConfig };

struct ParsedAgentFlags {
  AgentAction action = AgentAction::kRun;
  AgentConfig config;
};

// Reads an environment variable; nullopt when unset. Tests inject a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// InvalidArgument with a one-line message for any bad or missing flag. `env`
// defaults to the process environment. With --check-config the result has also
// passed checkDeployment().
Result<ParsedAgentFlags> parseAgentFlags(const std::vector<std::string>& args,
                                         const EnvLookup& env = {});
// The deeper checks of --check-config, on paths and files only (never the
// network, never creating anything): --data-dir absolute and writable (or
// creatable), --local-socket absolute, short enough and not another kind of
// file, its group known, the --ready-file directory present, --origin-ca-bundle
// readable, and with --kubernetes the token file readable and non-empty and the
// CA file a readable PEM file (for an https API). Each error is one line:
// "<what is wrong>; <what to do>".
Status checkDeployment(const AgentConfig& config);
// 1-max_len characters of [A-Za-z0-9._-], not starting with '.' or '-' (node
// names, regions, zones).
bool validIdentifier(const std::string& s, size_t max_len);
std::string agentUsage();

// Splits "host:port" ("[v6]:port" too); the port must be a number 0..65535.
Status splitHostPort(const std::string& s, std::string& host, uint16_t& port);
// "[v6]" for IPv6 literals, the host unchanged otherwise, then ":port".
std::string joinHostPort(const std::string& host, uint16_t port);

}  // namespace shardcast::agent
