#include "agent/agent_config.h"

#include "agent/controller_client.h"

#include <unistd.h>

#include "common/flag_parser.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace shardcast::agent {
namespace {

bool validName(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return s.front() != '.' && s.front() != '-';
}

Result<uint32_t> parseCount(const std::string& flag, const std::string& v, uint32_t max) {
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
    return invalidArgument(flag + " must be a positive number, got '" + v + "'");
  }
  uint32_t n = static_cast<uint32_t>(std::stoul(v));
  if (n == 0 || n > max) {
    return invalidArgument(flag + " must be between 1 and " + std::to_string(max));
  }
  return n;
}

Result<std::string> readToken(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return invalidArgument(flag + ": cannot read " + path + "; check the path and its permissions");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.erase(0, 1);
  if (t.empty()) return invalidArgument(flag + ": " + path + " is empty; put the token in it");
  for (char c : t) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      return invalidArgument(flag + ": the token in " + path + " contains whitespace or control characters");
    }
  }
  return t;
}

Status parseLabels(const std::string& v, std::map<std::string, std::string>& out) {
  size_t start = 0;
  while (start <= v.size() && !v.empty()) {
    size_t end = v.find(',', start);
    if (end == std::string::npos) end = v.size();
    std::string kv = v.substr(start, end - start);
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalidArgument("--labels wants k=v,k=v; got '" + kv + "'");
    }
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
    start = end + 1;
  }
  return Status::ok();
}

Result<LogLevel> parseLogLevel(const std::string& v) {
  if (v == "debug") return LogLevel::kDebug;
  if (v == "info") return LogLevel::kInfo;
  if (v == "warn" || v == "warning") return LogLevel::kWarn;
  if (v == "error") return LogLevel::kError;
  return invalidArgument("--log-level must be debug, info, warn or error");
}

std::string defaultName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

// "80%" (of the file system) or a size ("500GiB", bytes).
Status parseDiskBudget(const std::string& v, AgentConfig& c) {
  if (!v.empty() && v.back() == '%') {
    std::string num = v.substr(0, v.size() - 1);
    if (num.empty() || num.size() > 6 || num.find_first_not_of("0123456789.") != std::string::npos) {
      return invalidArgument("--disk-budget wants a percentage like 80% or a size like 500GiB");
    }
    double p = std::stod(num);
    if (p <= 0 || p > 100) return invalidArgument("--disk-budget percentage must be in (0, 100]");
    c.disk_budget_percent = p;
    return Status::ok();
  }
  auto bytes = parseByteSize(v);
  if (!bytes.isOk() || *bytes == 0) {
    return invalidArgument("--disk-budget wants a percentage like 80% or a size like 500GiB");
  }
  c.disk_budget_bytes = *bytes;
  return Status::ok();
}

// "200ms", "30s", "5m"; 0 turns the pod sweep off.
Status parseSweepInterval(const std::string& v, AgentConfig& c) {
  auto ms = parseDurationMs(v);
  if (!ms.isOk() || (*ms != 0 && (*ms < 100 || *ms > 24 * 3600 * 1000))) {
    return invalidArgument("--pod-sweep-interval must be a duration between 100ms and 24h "
                           "(or 0 = off), got '" + v + "'; e.g. 30s");
  }
  c.pod_sweep_interval_ms = *ms;
  return Status::ok();
}

// Applies one "--flag value" pair. `consumed_value` tells the caller to skip it.
Status applyFlag(const std::string& flag, const std::string& v, ParsedAgentFlags& out) {
  AgentConfig& c = out.config;
  if (flag == "--name") c.name = v;
  else if (flag == "--region") { c.region = v; c.region_set = true; }
  else if (flag == "--zone") { c.zone = v; c.zone_set = true; }
  else if (flag == "--labels") RETURN_IF_ERROR(parseLabels(v, c.labels));
  else if (flag == "--controller") c.controller_url = v;
  else if (flag == "--data-dir") c.data_dir = v;
  else if (flag == "--listen") RETURN_IF_ERROR(splitHostPort(v, c.listen_host, c.listen_port).withContext("--listen"));
  else if (flag == "--advertise-addr") {
    RETURN_IF_ERROR(splitHostPort(v, c.advertise_host, c.advertise_port).withContext("--advertise-addr"));
  } else if (flag == "--ready-file") c.ready_file = v;
  else if (flag == "--origin-concurrency") { ASSIGN_OR_RETURN(c.origin_concurrency, parseCount(flag, v, 64)); }
  else if (flag == "--peer-requests") { ASSIGN_OR_RETURN(c.peer_requests, parseCount(flag, v, 64)); }
  else if (flag == "--max-inflight") { ASSIGN_OR_RETURN(c.max_inflight, parseCount(flag, v, 256)); }
  else if (flag == "--cluster-token-file") { ASSIGN_OR_RETURN(c.cluster_token, readToken(flag, v)); }
  else if (flag == "--controller-token-file") { ASSIGN_OR_RETURN(c.controller_token, readToken(flag, v)); }
  else if (flag == "--origin-ca-bundle") c.origin_ca_bundle = v;
  else if (flag == "--log-level") { ASSIGN_OR_RETURN(c.log_level, parseLogLevel(v)); }
  else if (flag == "--local-socket") c.local_socket = v;
  else if (flag == "--socket-mode") {
    if (v.empty() || v.size() > 4 || v.find_first_not_of("01234567") != std::string::npos) {
      return invalidArgument("--socket-mode must be octal like 0660");
    }
    c.socket_mode = static_cast<unsigned>(std::stoul(v, nullptr, 8));
  } else if (flag == "--socket-group") c.socket_group = v;
  else if (flag == "--disk-budget") RETURN_IF_ERROR(parseDiskBudget(v, c));
  else if (flag == "--default-lease-ttl") {
    auto ms = parseDurationMs(v);
    if (!ms.isOk()) return ms.status().withContext("--default-lease-ttl");
    c.default_lease_ttl_ms = *ms;
    c.default_lease_ttl_set = true;
  }
  else if (flag == "--kube-api") c.kube_api = v;
  else if (flag == "--kube-token-file") c.kube_token_file = v;
  else if (flag == "--kube-ca-file") c.kube_ca_file = v;
  else if (flag == "--pod-sweep-interval") RETURN_IF_ERROR(parseSweepInterval(v, c));
  else return invalidArgument("unknown flag " + flag + " (see --help)");
  return Status::ok();
}

std::optional<std::string> processEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// --kube-api, or the in-cluster address kubelet puts in every pod's environment.
Status resolveKubeApi(AgentConfig& c, const EnvLookup& env) {
  if (c.kube_api.empty()) {
    auto host = env("KUBERNETES_SERVICE_HOST");
    if (!host || host->empty()) {
      return invalidArgument("--kubernetes: KUBERNETES_SERVICE_HOST is not set (not running in a "
                             "pod?); pass --kube-api https://HOST:PORT");
    }
    auto port = env("KUBERNETES_SERVICE_PORT");
    std::string p = port && !port->empty() ? *port : "443";
    if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(p) == 0 || std::stoul(p) > 65535) {
      return invalidArgument("--kubernetes: KUBERNETES_SERVICE_PORT '" + p.substr(0, 32) +
                             "' is not a port; pass --kube-api https://HOST:PORT");
    }
    std::string h = *host;
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    c.kube_api = "https://" + joinHostPort(h, static_cast<uint16_t>(std::stoul(p)));
  }
  while (!c.kube_api.empty() && c.kube_api.back() == '/') c.kube_api.pop_back();
  if (c.kube_api.rfind("https://", 0) != 0 && c.kube_api.rfind("http://", 0) != 0) {
    return invalidArgument("--kube-api must be an https:// (or http://) URL, e.g. "
                           "https://kubernetes.default.svc");
  }
  if (c.kube_token_file.empty()) return invalidArgument("--kube-token-file must not be empty");
  // In Kubernetes a lease lasts until it is released or its pod is gone (DESIGN
  // §4.6); a TTL applies only when the prewarm request or the flag names one.
  if (!c.default_lease_ttl_set) c.default_lease_ttl_ms = 0;
  return Status::ok();
}

Status validate(AgentConfig& c, const EnvLookup& env) {
  if (c.name.empty()) c.name = defaultName();
  if (!validName(c.name, 253)) {
    return invalidArgument("--name '" + c.name + "' must be 1-253 characters of [A-Za-z0-9._-]");
  }
  if (!validName(c.region, 128)) return invalidArgument("--region must be 1-128 characters of [A-Za-z0-9._-]");
  if (!c.zone.empty() && !validName(c.zone, 128)) {
    return invalidArgument("--zone must be up to 128 characters of [A-Za-z0-9._-]");
  }
  // One URL, or the replicas of an HA controller (the agent follows the leader).
  RETURN_IF_ERROR(parseControllerUrls(c.controller_url).status());
  if (c.data_dir.empty()) {
    return invalidArgument("--data-dir is required; e.g. --data-dir /var/lib/shardcast");
  }
  if (c.kubernetes) RETURN_IF_ERROR(resolveKubeApi(c, env));
  return Status::ok();
}

}  // namespace

Status splitHostPort(const std::string& s, std::string& host, uint16_t& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return invalidArgument("'" + s + "' must be HOST:PORT");
  std::string h = s.substr(0, colon);
  std::string p = s.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return invalidArgument("'" + s + "' has no host");
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(p) > 65535) {
    return invalidArgument("'" + s + "' has a bad port");
  }
  host = h;
  port = static_cast<uint16_t>(std::stoul(p));
  return Status::ok();
}

bool validIdentifier(const std::string& s, size_t max_len) { return validName(s, max_len); }

std::string joinHostPort(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {
const std::set<std::string> kValueFlags = {
    "--name", "--region", "--zone", "--labels", "--controller", "--data-dir", "--listen",
    "--advertise-addr", "--ready-file", "--origin-concurrency", "--peer-requests",
    "--max-inflight", "--cluster-token-file", "--controller-token-file", "--origin-ca-bundle",
    "--log-level", "--local-socket", "--socket-mode", "--socket-group", "--disk-budget",
    "--default-lease-ttl", "--kube-api", "--kube-token-file", "--kube-ca-file",
    "--pod-sweep-interval"};
}  // namespace

Result<ParsedAgentFlags> parseAgentFlags(const std::vector<std::string>& args,
                                         const EnvLookup& env) {
  ParsedAgentFlags out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    if (flag == "--help" || flag == "-h") return ParsedAgentFlags{AgentAction::kHelp, {}};
    if (flag == "--version") return ParsedAgentFlags{AgentAction::kVersion, {}};
    if (flag == "--check-config") {
      out.action = AgentAction::kCheckConfig;
      continue;
    }
    if (flag == "--corrupt-serving-for-test") {
      out.config.corrupt_serving_for_test = true;
      continue;
    }
    if (flag == "--kubernetes") {
      out.config.kubernetes = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) return invalidArgument("unexpected argument '" + flag + "'");
    std::string value;
    size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--kubernetes" || flag == "--check-config") {
      return invalidArgument(flag + " takes no value; write " + flag + " alone");
    }
    if (!kValueFlags.count(flag)) return invalidArgument("unknown flag " + flag + " (see --help)");
    if (eq == std::string::npos) {
      if (i + 1 >= args.size()) return invalidArgument(flag + " needs a value");
      value = args[++i];
    }
    RETURN_IF_ERROR(applyFlag(flag, value, out));
  }
  RETURN_IF_ERROR(validate(out.config, env ? env : EnvLookup(processEnv)));
  if (out.action == AgentAction::kCheckConfig) RETURN_IF_ERROR(checkDeployment(out.config));
  return out;
}

std::string agentUsage() {
  return R"(shardcast-agent: the shardcast node agent (fetches model versions from peers and the origin).

Usage: shardcast-agent --data-dir DIR [flags]

  --name NAME                 node name (default: hostname)
  --region REGION             region (default "default")
  --zone ZONE                 zone within the region (default "")
  --labels k=v,k=v            node labels matched by rollout selectors
  --controller URL[,URL...]   controller base URL, or the replicas of an HA controller:
                              the agent follows the leader (default http://127.0.0.1:7400)
  --data-dir DIR              where models/ and partial/ live (required)
  --listen HOST:PORT          peer API listener (default 0.0.0.0:7401; port 0 = any)
  --advertise-addr HOST:PORT  address peers use (default: listen host, 127.0.0.1 for
                              0.0.0.0, with the bound port)
  --ready-file PATH           write the advertised peer address here once serving
                              and registered
  --origin-concurrency N      parallel ranged GETs to the origin (default 4); the
                              controller's --max-origin-requests-per-region share
                              lowers it (a region runs at most S x N without one)
  --peer-requests N           requests in flight per peer (default 1)
  --max-inflight N            piece requests in flight in all (default 16)
  --cluster-token-file PATH   bearer token for the peer API (both directions)
  --controller-token-file PATH bearer token sent to the controller
  --origin-ca-bundle PATH     extra CA bundle for TLS origins
  --corrupt-serving-for-test  TEST ONLY: serve altered piece bytes with lying hashes
  --log-level LEVEL           debug, info, warn or error (default info)
  --local-socket PATH         serve the local API (prewarm, models, leases, metrics) on
                              this unix socket, e.g. /run/shardcast/agent.sock (default off)
  --socket-mode MODE          the socket's permissions, octal (default 0660)
  --socket-group GROUP        the socket's group (default: the agent's)
  --disk-budget B             80% (of the file system) or a size like 500GiB (default none)
  --default-lease-ttl D       lease TTL when a prewarm names none: 30s, 10m, 1h; 0 = until
                              released (default 1h)
  --kubernetes                read region, zone and labels of Node --name from the
                              Kubernetes API (defaults that --region/--zone/--labels
                              override) and drop prewarm leases whose id is the UID of
                              a pod no longer on this node; leases then last until
                              released unless a TTL is asked for
  --kube-api URL              Kubernetes API (default https://$KUBERNETES_SERVICE_HOST:
                              $KUBERNETES_SERVICE_PORT)
  --kube-token-file PATH      service account token, re-read on every request (default
                              /var/run/secrets/kubernetes.io/serviceaccount/token)
  --kube-ca-file PATH         CA of the API server (default
                              /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)
  --pod-sweep-interval D      how often pods are listed for lease expiry (default 30s;
                              0 = off)
  --check-config              validate the flags and the files and paths they name
                              (no network, nothing created), print "config ok", exit 0;
                              exit 2 with one line otherwise
  --version, --help
)";
}

}  // namespace shardcast::agent
