// The Kubernetes flags of the agent and --check-config (issue 8).
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <filesystem>

#include "agent/agent_config.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast::agent {
namespace {

using Args = std::vector<std::string>;

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kInCluster =
    envOf({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
const EnvLookup kNoEnv = envOf({});

constexpr const char* kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

// A deployment-like layout in a temp dir: token, CA, data dir, socket dir.
struct Mounts {
  testing::TempDir dir;
  std::string token = dir.write("sa/token", "eyJhbGciOi.payload.sig\n");
  std::string ca = dir.write("sa/ca.crt", kPem);
  std::string data = dir.path() + "/data";
  std::string sock = dir.path() + "/run/agent.sock";

  Args args(Args extra = {}) const {
    Args a = {"--data-dir", data, "--kubernetes", "--kube-token-file", token, "--kube-ca-file", ca,
              "--local-socket", sock, "--check-config"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

// The one-line error of a failing parse ("" when it passed).
std::string errorOf(const Args& args, const EnvLookup& env = kInCluster) {
  auto r = parseAgentFlags(args, env);
  return r.isOk() ? "" : r.status().message();
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_CASE("--kubernetes derives the API address from the pod's environment") {
  auto r = parseAgentFlags({"--data-dir", "d", "--kubernetes"}, kInCluster);
  REQUIRE(r.isOk());
  CHECK(r->config.kubernetes);
  CHECK(r->config.kube_api == "https://10.96.0.1:443");
  CHECK(r->config.kube_token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  CHECK(r->config.kube_ca_file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  CHECK(r->config.pod_sweep_interval_ms == 30000);

  auto v6 = parseAgentFlags({"--data-dir", "d", "--kubernetes"},
                            envOf({{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                   {"KUBERNETES_SERVICE_PORT", "6443"}}));
  REQUIRE(v6.isOk());
  CHECK(v6->config.kube_api == "https://[fd00::1]:6443");

  std::string e = errorOf({"--data-dir", "d", "--kubernetes"}, kNoEnv);
  CHECK(has(e, "KUBERNETES_SERVICE_HOST"));
  CHECK(has(e, "--kube-api"));
  CHECK(has(errorOf({"--data-dir", "d", "--kubernetes"},
                    envOf({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "x"}})),
            "KUBERNETES_SERVICE_PORT"));
  // Without --kubernetes the environment is not needed.
  CHECK(parseAgentFlags({"--data-dir", "d"}, kNoEnv).isOk());
}

TEST_CASE("--kube-api, token and CA flags take both spellings; the API URL is checked") {
  auto r = parseAgentFlags({"--data-dir", "d", "--kubernetes", "--kube-api=https://api.example:6443/",
                            "--kube-token-file", "/t", "--kube-ca-file=/c",
                            "--pod-sweep-interval", "200ms"},
                           kNoEnv);
  REQUIRE(r.isOk());
  CHECK(r->config.kube_api == "https://api.example:6443");
  CHECK(r->config.kube_token_file == "/t");
  CHECK(r->config.kube_ca_file == "/c");
  CHECK(r->config.pod_sweep_interval_ms == 200);
  CHECK(has(errorOf({"--data-dir", "d", "--kubernetes", "--kube-api", "ftp://x"}), "--kube-api"));
  CHECK(has(errorOf({"--data-dir", "d", "--kube-api"}), "needs a value"));
  CHECK(has(errorOf({"--data-dir", "d", "--kubernetes=true"}), "takes no value"));
}

TEST_CASE("--pod-sweep-interval wants a sane duration; 0 turns the sweep off") {
  CHECK(parseAgentFlags({"--data-dir", "d", "--pod-sweep-interval", "0"})->config
            .pod_sweep_interval_ms == 0);
  CHECK(parseAgentFlags({"--data-dir", "d", "--pod-sweep-interval", "5m"})->config
            .pod_sweep_interval_ms == 300000);
  for (const char* bad : {"5ms", "abc", "-1s", "48h"}) {
    std::string e = errorOf({"--data-dir", "d", "--pod-sweep-interval", bad});
    CHECK_MESSAGE(has(e, "--pod-sweep-interval"), bad);
  }
}

TEST_CASE("the agent knows which of --region/--zone were given") {
  auto plain = parseAgentFlags({"--data-dir", "d"});
  REQUIRE(plain.isOk());
  CHECK_FALSE(plain->config.region_set);
  CHECK_FALSE(plain->config.zone_set);
  CHECK(plain->config.region == "default");
  auto given = parseAgentFlags({"--data-dir", "d", "--region", "default", "--zone="});
  REQUIRE(given.isOk());
  CHECK(given->config.region_set);  // even when equal to the default
  CHECK(given->config.zone_set);
}

TEST_CASE("in Kubernetes a lease lasts until released or its pod is gone, unless a TTL is given") {
  CHECK(parseAgentFlags({"--data-dir", "d"})->config.default_lease_ttl_ms == 3600 * 1000);
  CHECK(parseAgentFlags({"--data-dir", "d", "--kubernetes"}, kInCluster)->config
            .default_lease_ttl_ms == 0);
  CHECK(parseAgentFlags({"--data-dir", "d", "--kubernetes", "--default-lease-ttl", "10m"},
                        kInCluster)
            ->config.default_lease_ttl_ms == 600000);
}

TEST_CASE("--check-config passes a complete deployment and creates nothing") {
  Mounts m;
  auto r = parseAgentFlags(m.args(), kInCluster);
  REQUIRE_MESSAGE(r.isOk(), r.status().message());
  CHECK(r->action == AgentAction::kCheckConfig);
  CHECK_FALSE(std::filesystem::exists(m.data));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(m.sock).parent_path()));
  // An http:// API needs no CA file.
  CHECK(errorOf(m.args({"--kube-api", "http://127.0.0.1:8080", "--kube-ca-file", "/nonexistent"}))
            .empty());
  // Without --kubernetes the service-account files are not looked at.
  CHECK(errorOf({"--data-dir", m.data, "--check-config", "--kube-token-file", "/nonexistent"})
            .empty());
}

TEST_CASE("--check-config: every bad file or path is one line saying what to do") {
  Mounts m;
  std::string empty_token = m.dir.write("sa/empty", " \n");
  std::string not_pem = m.dir.write("sa/not-pem", "hello");
  std::string file = m.dir.write("a-file", "x");
  std::string long_sock = m.dir.path() + "/" + std::string(120, 's') + ".sock";
  struct Case {
    Args args;
    std::string expect;
  };
  std::vector<Case> cases = {
      {m.args({"--kube-token-file", m.dir.path() + "/missing"}), "--kube-token-file"},
      {m.args({"--kube-token-file", empty_token}), "is empty"},
      {m.args({"--kube-token-file", m.dir.path()}), "is a directory"},
      {m.args({"--kube-ca-file", m.dir.path() + "/missing"}), "--kube-ca-file"},
      {m.args({"--kube-ca-file", not_pem}), "no PEM certificate"},
      {m.args({"--data-dir", "relative/dir"}), "not an absolute path"},
      {m.args({"--data-dir", file}), "not a directory"},
      {m.args({"--data-dir", file + "/sub"}), "cannot be created"},
      {m.args({"--local-socket", "agent.sock"}), "--local-socket"},
      {m.args({"--local-socket", long_sock}), "longer than a unix socket allows"},
      {m.args({"--local-socket", file}), "is not a socket"},
      {m.args({"--socket-group", "no-such-group-shardcast"}), "--socket-group"},
      {m.args({"--ready-file", m.dir.path() + "/missing/ready"}), "--ready-file"},
      {m.args({"--origin-ca-bundle", m.dir.path() + "/missing.pem"}), "--origin-ca-bundle"},
  };
  for (const auto& c : cases) {
    std::string e = errorOf(c.args);
    CHECK_MESSAGE(has(e, c.expect), "want '" << c.expect << "', got '" << e << "'");
    CHECK_MESSAGE(has(e, "; "), "no hint in '" << e << "'");
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("--check-config refuses a data dir the agent cannot write") {
  if (::geteuid() == 0) return;  // root writes anywhere; the permission bit proves nothing
  Mounts m;
  std::filesystem::create_directories(m.data);
  ::chmod(m.data.c_str(), 0555);
  CHECK(has(errorOf(m.args()), "not writable"));
  ::chmod(m.data.c_str(), 0755);
}

}  // namespace
}  // namespace shardcast::agent
