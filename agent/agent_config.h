// AgentConfig: everything the agent's composition root needs, and the parser that
// builds it from command-line flags (main.cc only calls parseAgentFlags and hands
// the result to a Server). Values are validated here so a bad flag is one clear
// line before anything starts. Pure (reads only the token files named by flags);
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
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
  uint32_t peer_requests = 2;
  uint32_t max_inflight = 8;
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
};

// What main() should do after parsing.
enum class AgentAction { kRun, kHelp, kVersion, kCheckConfig };

struct ParsedAgentFlags {
  AgentAction action = AgentAction::kRun;
  AgentConfig config;
};

// InvalidArgument with a one-line message for any bad or missing flag.
Result<ParsedAgentFlags> parseAgentFlags(const std::vector<std::string>& args);
std::string agentUsage();

// Splits "host:port" ("[v6]:port" too); the port must be a number 0..65535.
Status splitHostPort(const std::string& s, std::string& host, uint16_t& port);
// "[v6]" for IPv6 literals, the host unchanged otherwise, then ":port".
std::string joinHostPort(const std::string& host, uint16_t port);

}  // namespace shardcast::agent
