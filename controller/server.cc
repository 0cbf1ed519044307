#include "controller/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <utility>

#include "common/log.h"
#include "controller/handlers.h"

namespace shardcast::controller {
namespace {

std::unique_ptr<Authenticator> makeAuthenticator(const std::string& token) {
  if (token.empty()) return std::make_unique<AllowAllAuthenticator>();
  return std::make_unique<StaticTokenAuthenticator>(token);
}

}  // namespace

Server::Server(ServerConfig config)
    : config_(std::move(config)),
      registry_(ObjectStoreRegistry::withBuiltins()),
      auth_(makeAuthenticator(config_.token)),
      router_(*auth_),
      listener_(router_) {}

Server::~Server() { stop(); }

Status Server::openState() {
  if (config_.state_store.kind == "etcd") return openReplicated();
  ASSIGN_OR_RETURN(store_, openStateStore(config_.state_store));
  service_ = std::make_unique<RolloutService>(registry_, clock_, *store_, config_.controller);
  ASSIGN_OR_RETURN(StateSnapshot snapshot, store_->load());
  RETURN_IF_ERROR(service_->restore(snapshot));
  registerRoutes(router_, *service_);
  registerMetrics(router_, metrics_, *service_, [] { return true; });
  return Status::ok();
}

Status Server::start() {
  RETURN_IF_ERROR(openState());
  ASSIGN_OR_RETURN(address_, listener_.open(config_.listen_host, config_.listen_port));
  started_ = true;
  sweeper_ = std::thread([this] { sweepLoop(); });
  LOG_INFO("controller listening on http://" << address_ << " (auth: "
                                             << (config_.token.empty() ? "none" : "bearer token")
                                             << ", state: " << config_.state_store.kind
                                             << ", node timeout " << config_.controller.node_timeout_ms
                                             << " ms)");
  if (replica_) startReplication();
  if (!config_.ready_file.empty()) {
    Status written = writeReadyFile();
    if (!written.isOk()) {
      stop();
      return written;
    }
  }
  return Status::ok();
}

void Server::stop() {
  if (!started_) return;
  started_ = false;
  LOG_INFO("controller stopping");
  if (replica_) stopReplication();  // a leader resigns first: a follower takes over
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  // Long-polls first: closing the listener waits for every open request.
  service_->shutdown();
  listener_.close();
  if (sweeper_.joinable()) sweeper_.join();
  LOG_INFO("controller stopped");
}

void Server::sweepLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    wake_.wait_for(l, std::chrono::milliseconds(config_.sweep_interval_ms));
    if (stopping_) break;
    bool takeover = std::exchange(takeover_pending_, false);
    l.unlock();
    if (takeover) takeOver();
    if (serving()) service_->tick();
    l.lock();
  }
}

// Written to a temporary file and renamed, so a reader never sees half an address.
Status Server::writeReadyFile() const {
  std::string tmp = config_.ready_file + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoStatus("cannot write ready file " + tmp, errno);
  std::string text = address_ + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ::close(fd);
  if (!ok) return errnoStatus("cannot write ready file " + tmp, err);
  if (::rename(tmp.c_str(), config_.ready_file.c_str()) != 0) {
    return errnoStatus("cannot rename ready file to " + config_.ready_file, errno);
  }
  return Status::ok();
}

}  // namespace shardcast::controller
