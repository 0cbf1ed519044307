// ControllerClient following the leader of an HA controller: stub replicas on
// loopback (libmicrohttpd, port 0) answer as leader (200) or follower (503
// not_leader naming the leader); the client follows the named leader, skips
// unreachable addresses, stays with the leader, and fails cleanly when no leader
// is known. Also the --controller list parser.
#include "agent/controller_client.h"

#include <doctest/doctest.h>

#include <microhttpd.h>
#include <netinet/in.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/unit/common/server_process.h"

namespace shardcast::agent {
namespace {

// One controller replica: a leader answers GET /v1/rollouts/{id}; a follower
// answers every request with 503 not_leader naming `leader` ("" = none known).
class StubReplica {
 public:
  StubReplica() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr, nullptr,
                               &StubReplica::access, this, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (!daemon_) throw std::runtime_error("stub replica did not start");
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~StubReplica() { MHD_stop_daemon(daemon_); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void lead() { setRole(true, ""); }
  void follow(const std::string& leader) { setRole(false, leader); }
  int requests() const { return requests_.load(); }

 private:
  void setRole(bool leader, const std::string& url) {
    std::lock_guard<std::mutex> l(mu_);
    leader_ = leader;
    leader_url_ = url;
  }
  static MHD_Result access(void* cls, MHD_Connection* c, const char*, const char*, const char*,
                           const char*, size_t*, void** con_cls) {
    if (*con_cls == nullptr) {  // first call: headers only
      *con_cls = cls;
      return MHD_YES;
    }
    auto* self = static_cast<StubReplica*>(cls);
    ++self->requests_;
    bool leader;
    std::string url;
    {
      std::lock_guard<std::mutex> l(self->mu_);
      leader = self->leader_;
      url = self->leader_url_;
    }
    nlohmann::json body;
    unsigned status = 200;
    if (leader) {
      body = {{"id", "ro-1"}, {"model", "m:v"}, {"state", "in_progress"}};
    } else {
      status = 503;
      body = {{"error", {{"code", "not_leader"}, {"message", "follower"}, {"leader", url}}}};
    }
    std::string out = body.dump();
    MHD_Response* r = MHD_create_response_from_buffer(out.size(), out.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (!leader && !url.empty()) MHD_add_response_header(r, "X-Shardcast-Leader", url.c_str());
    MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
  }

  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  bool leader_ = true;      // guarded by mu_
  std::string leader_url_;  // guarded by mu_
};

ControllerClient clientFor(const std::string& urls) {
  return ControllerClient(ControllerClientOptions{urls, "", "test", 2000});
}

std::string deadUrl() { return "http://127.0.0.1:" + std::to_string(testing::unusedLoopbackPort()); }

TEST_CASE("controller client: follows the leader a follower names, then stays there") {
  StubReplica a, b;
  b.lead();
  a.follow(b.url());
  ControllerClient c = clientFor(a.url() + "," + b.url());
  CHECK(c.currentUrl() == a.url());
  auto r = c.rollout("ro-1");
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  CHECK(r->id == "ro-1");
  CHECK(c.currentUrl() == b.url());
  CHECK(a.requests() == 1);
  REQUIRE(c.rollout("ro-1").isOk());
  CHECK(a.requests() == 1);  // straight to the leader now
  CHECK(b.requests() == 2);

  // Leadership moves to a: b (now a follower) points back.
  a.lead();
  b.follow(a.url());
  REQUIRE(c.rollout("ro-1").isOk());
  CHECK(c.currentUrl() == a.url());
}

TEST_CASE("controller client: skips an unreachable replica") {
  StubReplica b;
  b.lead();
  std::string dead = deadUrl();
  ControllerClient c = clientFor(dead + "," + b.url());
  auto r = c.rollout("ro-1");
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  CHECK(c.currentUrl() == b.url());
}

TEST_CASE("controller client: a leader outside the list is followed, and left when it dies") {
  auto leader = std::make_unique<StubReplica>();
  StubReplica front;  // e.g. a Service address that reached a follower
  leader->lead();
  std::string leader_url = leader->url();
  front.follow(leader_url);
  ControllerClient c = clientFor(front.url());
  REQUIRE(c.rollout("ro-1").isOk());
  CHECK(c.currentUrl() == leader_url);

  leader.reset();  // the leader dies; the front still names it for a while
  auto r = c.rollout("ro-1");
  CHECK_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kUnavailable);

  // A new leader is named: the next call gets there.
  StubReplica next;
  next.lead();
  front.follow(next.url());
  auto again = c.rollout("ro-1");
  REQUIRE_MESSAGE(again.isOk(), again.status().toString());
  CHECK(c.currentUrl() == next.url());
}

TEST_CASE("controller client: a dead leader that a follower still names is not followed") {
  StubReplica b;
  std::string dead = deadUrl();
  b.follow(dead);  // b has not seen the dead leader's lease expire yet
  ControllerClient c = clientFor(dead + "," + b.url());
  auto r = c.rollout("ro-1");
  CHECK_FALSE(r.isOk());
  CHECK(r.status().reason() == "not_leader");
  CHECK(c.currentUrl() == b.url());  // stays with the live replica
  CHECK_FALSE(c.rollout("ro-1").isOk());
  CHECK(c.currentUrl() == b.url());
  CHECK(b.requests() == 2);

  b.lead();  // b takes over
  REQUIRE(c.rollout("ro-1").isOk());
  CHECK(b.requests() == 3);
}

TEST_CASE("controller client: no leader elected yet fails the call with not_leader") {
  StubReplica a, b;
  a.follow("");
  b.follow("");
  ControllerClient c = clientFor(a.url() + "," + b.url());
  auto r = c.rollout("ro-1");
  CHECK_FALSE(r.isOk());
  CHECK(r.status().reason() == "not_leader");
  CHECK(r.status().message().find("no leader") != std::string::npos);
  CHECK(a.requests() + b.requests() <= 3);  // each address about once, no spinning
}

TEST_CASE("controller client: --controller lists") {
  auto two = parseControllerUrls("http://a:7400/, https://b:7400");
  REQUIRE(two.isOk());
  CHECK(*two == std::vector<std::string>{"http://a:7400", "https://b:7400"});
  CHECK(parseControllerUrls("http://a:7400")->size() == 1);
  CHECK_FALSE(parseControllerUrls("").isOk());
  CHECK_FALSE(parseControllerUrls("a:7400").isOk());
  CHECK_FALSE(parseControllerUrls("http://a:7400,ftp://b").isOk());
  auto secret = parseControllerUrls("http://u:hunter2@a:7400");
  CHECK_FALSE(secret.isOk());
  CHECK(secret.status().message().find("hunter2") == std::string::npos);
}

}  // namespace
}  // namespace shardcast::agent
