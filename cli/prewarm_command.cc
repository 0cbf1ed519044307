#include "cli/prewarm_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/page_cache_warmer.h"
#include "common/api/error.h"
#include "common/api/json_fields.h"
#include "common/flag_parser.h"
#include "common/http_client.h"
#include "common/model_ref.h"

namespace shardcast::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kDefaultSocket = "/run/shardcast/agent.sock";
constexpr int64_t kPollMs = 500;

int fail(const std::string& msg) {
  std::fprintf(stderr, "shardcast: error: %s\n", msg.c_str());
  return kExitError;
}

std::string socketPath(const FlagParser& p) {
  if (p.isSet("socket")) return p.value("socket");
  if (const char* env = std::getenv("SHARDCAST_AGENT_SOCKET"); env && *env) return env;
  return kDefaultSocket;
}

// Sends one request to the agent; transport failures name the socket.
Result<nlohmann::json> call(HttpClient& http, const std::string& socket, const std::string& method,
                            const std::string& path, const std::string& body, long* status,
                            long timeout_ms = 30000) {
  HttpRequest req;
  req.method = method;
  req.url = "http://localhost" + path;
  req.body = body;
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.timeout_ms = timeout_ms;
  req.connect_timeout_ms = 3000;
  auto r = http.send(req);
  if (!r.isOk()) {
    return unavailable("cannot reach the shardcast agent at unix:" + socket + " (" +
                       r.status().message() +
                       "); is the agent running with --local-socket, and the socket mounted?");
  }
  *status = r->status;
  if (r->status >= 300) return api::statusFromErrorBody(static_cast<int>(r->status), r->body);
  return api::parseJson(r->body);
}

std::string percentText(const nlohmann::json& v) {
  uint64_t total = v.value("total_bytes", uint64_t{0});
  uint64_t done = v.value("bytes_done", uint64_t{0});
  if (total == 0) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, " %.1f%% (%llu of %llu bytes)", 100.0 * done / total,
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  return buf;
}

std::string defaultLeaseId() {
  if (const char* env = std::getenv("POD_UID"); env && *env) return env;
  std::random_device rd;
  char buf[48];
  std::snprintf(buf, sizeof buf, "prewarm-%d-%08x", static_cast<int>(::getpid()), rd());
  return buf;
}

int usage(FlagParser& p, const char* line, const Status& s) {
  if (p.isSet("help")) {
    std::printf("usage: %s\n\nflags:\n%s", line, p.usage().c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "shardcast: error: %s; usage: %s\n", s.message().c_str(), line);
  return kExitUsage;
}

// Warms the page cache and reports progress every 2 s on stderr.
Status warm(const std::string& path, uint64_t total) {
  auto last = Clock::now();
  std::fprintf(stderr, "prewarm: reading %s into the page cache\n", path.c_str());
  auto r = warmPageCache(path, [&](uint64_t done) {
    if (Clock::now() - last < std::chrono::seconds(2)) return;
    last = Clock::now();
    std::fprintf(stderr, "prewarm: warming %.1f%%\n", total ? 100.0 * done / total : 100.0);
  });
  if (!r.isOk()) return r.status();
  std::fprintf(stderr, "prewarm: warmed %llu files, %llu bytes\n",
               static_cast<unsigned long long>(r->files), static_cast<unsigned long long>(r->bytes));
  return Status::ok();
}

}  // namespace

int runPrewarm(const std::vector<std::string>& args) {
  const char* line =
      "shardcast prewarm MODEL:VERSION [--wait] [--timeout D] [--warm none|pagecache] "
      "[--lease-ttl D] [--lease-id ID] [--models-root DIR] [--socket PATH]";
  FlagParser p;
  p.addBool("wait", "wait until the model is published and warmed");
  p.addValue("timeout", "give up after this long with --wait (e.g. 30m; 0 = never)", "0");
  p.addValue("warm", "none or pagecache", "pagecache");
  p.addValue("lease-ttl", "lease TTL (e.g. 1h; 0 = until released); default: the agent's");
  p.addValue("lease-id", "lease id (default $POD_UID, else generated)");
  p.addValue("models-root", "the path where the pod mounts the agent's models/ (default: the agent's)");
  p.addValue("socket", "the agent's local API socket; also $SHARDCAST_AGENT_SOCKET", kDefaultSocket);
  p.addValue("o", "output format: text or json", "text");
  p.addBool("help", "show this help");
  Status s = p.parse(args);
  if (p.isSet("help") || !s.isOk()) return usage(p, line, s);
  if (p.positional().size() != 1) return usage(p, line, invalidArgument("one MODEL:VERSION is required"));
  auto ref = parseModelRef(p.positional()[0]);
  if (!ref.isOk()) return usage(p, line, ref.status());
  const std::string warm_mode = p.value("warm");
  if (warm_mode != "none" && warm_mode != "pagecache") {
    return usage(p, line, invalidArgument("--warm must be none or pagecache"));
  }
  auto timeout = parseDurationMs(p.value("timeout"));
  if (!timeout.isOk()) return usage(p, line, timeout.status().withContext("--timeout"));
  nlohmann::json body = {{"model", ref->toString()}, {"warm", warm_mode}};
  std::string lease = p.isSet("lease-id") ? p.value("lease-id") : defaultLeaseId();
  body["lease_id"] = lease;
  if (p.isSet("lease-ttl")) {
    auto ttl = parseDurationMs(p.value("lease-ttl"));
    if (!ttl.isOk()) return usage(p, line, ttl.status().withContext("--lease-ttl"));
    body["lease_ttl_ms"] = *ttl;
  }
  const std::string socket = socketPath(p);
  HttpClientOptions ho;
  ho.unix_socket_path = socket;
  ho.user_agent = "shardcast-prewarm/" SHARDCAST_VERSION;
  HttpClient http(ho);

  const auto start = Clock::now();
  const bool wait = p.isSet("wait");
  std::string last_state;
  auto last_print = Clock::now() - std::chrono::hours(1);
  std::fprintf(stderr, "prewarm: %s (lease %s) via unix:%s\n", ref->toString().c_str(),
               lease.c_str(), socket.c_str());
  nlohmann::json view;
  while (true) {
    long status = 0;
    auto r = call(http, socket, "POST", "/v1/prewarm", body.dump(), &status);
    if (!r.isOk()) return fail(ref->toString() + ": " + r.status().message());
    view = std::move(r).value();
    std::string state = view.value("state", "");
    if (state == "ready") break;
    if (state != last_state || Clock::now() - last_print > std::chrono::seconds(2)) {
      std::fprintf(stderr, "prewarm: %s is %s%s\n", ref->toString().c_str(), state.c_str(),
                   percentText(view).c_str());
      last_state = state;
      last_print = Clock::now();
    }
    if (!wait) return kExitNotReady;
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    if (*timeout > 0 && waited >= *timeout) {
      return fail("timed out after " + p.value("timeout") + " waiting for " + ref->toString() +
                  " (" + state + percentText(view) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
  std::string path = view.value("path", "");
  if (p.isSet("models-root")) path = p.value("models-root") + "/" + ref->name + "/" + ref->version;
  if (warm_mode == "pagecache") {
    Status w = warm(path, view.value("total_bytes", uint64_t{0}));
    if (!w.isOk()) return fail("warming " + path + ": " + w.message());
  }
  if (p.value("o") == "json") {
    view["path"] = path;
    view["lease_id"] = lease;
    std::printf("%s\n", view.dump().c_str());
  } else {
    std::printf("%s\n", path.c_str());
  }
  return kExitOk;
}

int runRelease(const std::vector<std::string>& args) {
  const char* line = "shardcast release LEASE [--socket PATH]";
  FlagParser p;
  p.addValue("socket", "the agent's local API socket; also $SHARDCAST_AGENT_SOCKET", kDefaultSocket);
  p.addBool("help", "show this help");
  Status s = p.parse(args);
  if (p.isSet("help") || !s.isOk()) return usage(p, line, s);
  if (p.positional().size() != 1) return usage(p, line, invalidArgument("one LEASE id is required"));
  const std::string socket = socketPath(p);
  HttpClientOptions ho;
  ho.unix_socket_path = socket;
  HttpClient http(ho);
  long status = 0;
  auto r = call(http, socket, "DELETE", "/v1/leases/" + urlEncode(p.positional()[0]), "", &status);
  if (!r.isOk()) return fail("release " + p.positional()[0] + ": " + r.status().message());
  std::printf("released %s\n", p.positional()[0].c_str());
  return kExitOk;
}

namespace {

// The one-line verdict: "ok: ...", "CORRUPT: ... bad files: a, b ..." or "unverified: ...".
std::string verdictLine(const nlohmann::json& r) {
  const std::string model = r.value("model", "");
  char stats[128];
  std::snprintf(stats, sizeof stats, "%u pieces, %llu bytes hashed in %.2f s",
                r.value("pieces", 0u),
                static_cast<unsigned long long>(r.value("bytes_hashed", uint64_t{0})),
                r.value("seconds", 0.0));
  if (r.value("ok", false)) return "ok: " + model + " verified against the accepted hashes (" + stats + ")";
  std::string files;
  for (const auto& f : r.value("files_bad", nlohmann::json::array())) {
    files += (files.empty() ? "" : ", ") + f.get<std::string>();
  }
  size_t bad = r.value("bad_pieces", nlohmann::json::array()).size();
  if (!files.empty() || bad > 0) {
    return "CORRUPT: " + model + ": " + std::to_string(bad) + (bad == 1 ? " bad piece" : " bad pieces") + "; bad files: " + files +
           " (" + stats + "); left in place, nothing was deleted";
  }
  return "unverified: " + model + ": " + std::to_string(r.value("unverified_pieces", 0u)) +
         " pieces have no accepted hash on the controller (" + stats + ")";
}

}  // namespace

int runVerify(const std::vector<std::string>& args) {
  const char* line = "shardcast verify MODEL:VERSION [--timeout D] [--socket PATH] [-o json]";
  FlagParser p;
  p.addValue("timeout", "give up after this long (e.g. 30m; 0 = never)", "0");
  p.addValue("socket", "the agent's local API socket; also $SHARDCAST_AGENT_SOCKET", kDefaultSocket);
  p.addValue("o", "output format: text or json", "text");
  p.addBool("help", "show this help");
  Status s = p.parse(args);
  if (p.isSet("help") || !s.isOk()) return usage(p, line, s);
  if (p.positional().size() != 1) return usage(p, line, invalidArgument("one MODEL:VERSION is required"));
  auto ref = parseModelRef(p.positional()[0]);
  if (!ref.isOk()) return usage(p, line, ref.status());
  auto timeout = parseDurationMs(p.value("timeout"));
  if (!timeout.isOk()) return usage(p, line, timeout.status().withContext("--timeout"));
  const std::string socket = socketPath(p);
  HttpClientOptions ho;
  ho.unix_socket_path = socket;
  ho.user_agent = "shardcast-verify/" SHARDCAST_VERSION;
  HttpClient http(ho);
  long status = 0;
  nlohmann::json body = {{"model", ref->toString()}};
  auto r = call(http, socket, "POST", "/v1/verify", body.dump(), &status, static_cast<long>(*timeout));
  if (!r.isOk()) {
    std::fprintf(stderr, "shardcast: error: verify %s: %s\n", ref->toString().c_str(),
                 r.status().message().c_str());
    return kExitCannotVerify;
  }
  if (p.value("o") == "json") {
    std::printf("%s\n", r->dump().c_str());
  } else {
    std::printf("%s\n", verdictLine(*r).c_str());
  }
  if (r->value("ok", false)) return kExitOk;
  bool corrupt = !r->value("files_bad", nlohmann::json::array()).empty() ||
                 !r->value("bad_pieces", nlohmann::json::array()).empty();
  return corrupt ? kExitCorrupt : kExitCannotVerify;
}

}  // namespace shardcast::cli
