// FakeController: a stand-in for the controller's agent-facing routes (GET rollout,
// GET manifest, GET peers, POST pieces) on 127.0.0.1, port 0, served by
// libmicrohttpd, so a RolloutWorker can be tested in-process. The test decides
// the stripe, the peers and when reported hashes become accepted. Thread-safe.
#pragma once

#include <microhttpd.h>
#include <netinet/in.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/api/error.h"
#include "common/api/json_fields.h"
#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/manifest.h"

namespace shardcast::testing {

class FakeController {
 public:
  FakeController(Manifest manifest, std::string source_uri, std::string rollout_id = "ro-1")
      : manifest_(std::move(manifest)), source_uri_(std::move(source_uri)),
        rollout_id_(std::move(rollout_id)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr,
                               nullptr, &FakeController::access, this, MHD_OPTION_SOCK_ADDR, &addr,
                               MHD_OPTION_NOTIFY_COMPLETED, &FakeController::completed, nullptr,
                               MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_END);
    if (daemon_ == nullptr) throw std::runtime_error("fake controller did not start");
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~FakeController() { MHD_stop_daemon(daemon_); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& rolloutId() const { return rollout_id_; }

  void setStripe(const std::string& node, std::vector<uint32_t> stripe) {
    std::lock_guard<std::mutex> lock(mu_);
    stripes_[node] = std::move(stripe);
  }
  void setPeers(std::vector<api::PeerEntry> peers) {
    std::lock_guard<std::mutex> lock(mu_);
    peers_ = std::move(peers);
  }
  // When on, the first reported hash of a piece is accepted at once.
  void setAutoAccept(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    auto_accept_ = on;
    if (on) {
      for (const auto& h : reported_) acceptLocked(h);
    }
  }
  void accept(uint32_t piece, const std::string& sha256) {
    std::lock_guard<std::mutex> lock(mu_);
    acceptLocked(api::PieceHash{piece, sha256});
  }
  // While down, every route answers 503 (a controller outage or restart).
  void setDown(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = down;
  }
  size_t refused() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }
  void setRolloutState(const std::string& state) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = state;
  }
  std::vector<api::PieceReport> reports() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }
  std::vector<api::PieceHash> reportedHashes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reported_;
  }
  // The latest report of a node ("" state when none yet).
  api::PieceReport lastReport(const std::string& node) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = reports_.rbegin(); it != reports_.rend(); ++it) {
      if (it->node == node) return *it;
    }
    return api::PieceReport{};
  }

 private:
  void acceptLocked(const api::PieceHash& h) {
    for (const auto& a : accepted_) {
      if (a.piece == h.piece) return;
    }
    accepted_.push_back(h);
  }

  std::pair<int, std::string> route(const std::string& method, const std::string& path,
                                    const std::string& query_node, uint64_t hash_cursor,
                                    const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) {
      ++refused_;
      return {503, api::errorBody("unavailable", "the controller is down (test)").dump()};
    }
    const std::string rollout_path = "/v1/rollouts/" + rollout_id_;
    const ModelRef& ref = manifest_.model();
    if (method == "GET" && path == rollout_path) {
      api::RolloutStatus s;
      s.id = rollout_id_;
      s.model = ref;
      s.state = state_;
      s.total_bytes = manifest_.totalBytes();
      s.piece_count = manifest_.pieceCount();
      s.piece_size = manifest_.pieceSize();
      SourceSpec source;
      source.uri = source_uri_;
      s.sources = {source};
      return {200, api::toJson(s).dump()};
    }
    if (method == "GET" && path == "/v1/manifests/" + ref.name + "/" + ref.version) {
      return {200, manifest_.toJson().dump()};
    }
    if (method == "GET" && path == rollout_path + "/peers") {
      api::PeersReply r;
      r.rollout_state = state_;
      for (const auto& p : peers_) {
        if (p.name != query_node) r.peers.push_back(p);
      }
      r.stripe = stripes_[query_node];
      for (size_t i = hash_cursor; i < accepted_.size(); ++i) r.hashes.push_back(accepted_[i]);
      r.hash_cursor = accepted_.size();
      return {200, api::toJson(r).dump()};
    }
    if (method == "POST" && path == rollout_path + "/pieces") {
      auto j = api::parseJson(body);
      if (!j.isOk()) return {400, api::errorBody(j.status()).dump()};
      auto rep = api::pieceReportFromJson(*j);
      if (!rep.isOk()) return {400, api::errorBody(rep.status()).dump()};
      reports_.push_back(*rep);
      for (const auto& h : rep->hashes) {
        reported_.push_back(h);
        if (auto_accept_) acceptLocked(h);
      }
      api::PieceReportReply reply;
      reply.rollout_state = state_;
      return {200, api::toJson(reply).dump()};
    }
    return {404, api::errorBody("not_found", "no route " + path).dump()};
  }

  static MHD_Result access(void* cls, MHD_Connection* c, const char* url, const char* method,
                           const char*, const char* upload, size_t* upload_size, void** con_cls) {
    auto* self = static_cast<FakeController*>(cls);
    if (*con_cls == nullptr) {
      *con_cls = new std::string();
      return MHD_YES;
    }
    auto* body = static_cast<std::string*>(*con_cls);
    if (*upload_size != 0) {
      body->append(upload, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    const char* node = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "node");
    const char* cursor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hash_cursor");
    auto [status, out] = self->route(method, url, node ? node : "",
                                     cursor ? std::stoull(cursor) : 0, *body);
    MHD_Response* r = MHD_create_response_from_buffer(out.size(), out.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_Result ret = MHD_queue_response(c, static_cast<unsigned>(status), r);
    MHD_destroy_response(r);
    return ret;
  }

  static void completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    delete static_cast<std::string*>(*con_cls);
    *con_cls = nullptr;
  }

  const Manifest manifest_;
  const std::string source_uri_;
  const std::string rollout_id_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;

  mutable std::mutex mu_;
  std::string state_ = api::kRolloutInProgress;
  std::map<std::string, std::vector<uint32_t>> stripes_;
  std::vector<api::PeerEntry> peers_;
  bool auto_accept_ = false;
  bool down_ = false;
  size_t refused_ = 0;
  std::vector<api::PieceHash> accepted_;
  std::vector<api::PieceHash> reported_;
  std::vector<api::PieceReport> reports_;
};

// Polls `pred` until it holds or `timeout_ms` passes; for waiting on threads the
// test does not control (a condition, not a race won by sleeping).
inline bool eventually(const std::function<bool()>& pred, int timeout_ms = 20000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace shardcast::testing
