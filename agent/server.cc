#include "agent/server.h"

#include <sys/statvfs.h>

#include <fstream>
#include <random>
#include <set>
#include <vector>

#include "agent/backoff.h"
#include "common/log.h"

namespace shardcast::agent {
namespace {

// The assignment long-poll's wait. HttpClient cannot cancel a request in flight,
// so this also bounds how long a clean shutdown waits for the poll to return.
constexpr uint32_t kAssignmentWaitMs = 5000;

std::string newIncarnation() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool stopsWorker(const std::string& state) {
  return state == api::kRolloutFailed || state == api::kRolloutCancelled;
}

}  // namespace

Server::Server(AgentConfig config)
    : config_(std::move(config)),
      incarnation_(newIncarnation()),
      registry_(ObjectStoreRegistry::withBuiltins()) {}

Server::~Server() { stop(); }

Status Server::start() {
  if (config_.kubernetes) RETURN_IF_ERROR(resolveTopology());  // before the first registration
  ASSIGN_OR_RETURN(content_, ContentStore::open(config_.data_dir,
                                                DiskBudget{config_.disk_budget_bytes,
                                                           config_.disk_budget_percent}));
  if (content_->budgetBytes() != UINT64_MAX) {
    LOG_INFO("disk budget: " << content_->budgetBytes() << " bytes");
  }
  PeerServerOptions po;
  po.listen_host = config_.listen_host;
  po.listen_port = config_.listen_port;
  po.cluster_token = config_.cluster_token;
  po.corrupt_serving_for_test = config_.corrupt_serving_for_test;
  peer_server_ = std::make_unique<PeerServer>(content_.get(), po);
  RETURN_IF_ERROR(peer_server_->start());

  std::string host = config_.advertise_host;
  if (host.empty()) {
    host = config_.listen_host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
  }
  uint16_t port = config_.advertise_port != 0 ? config_.advertise_port : peer_server_->port();
  advertise_addr_ = joinHostPort(host, port);

  ControllerClientOptions co;
  co.base_url = config_.controller_url;
  co.token = config_.controller_token;
  controller_ = std::make_unique<ControllerClient>(co);
  PeerClientOptions pco;
  pco.cluster_token = config_.cluster_token;
  peer_client_ = std::make_unique<PeerClient>(pco);

  LifecycleOptions lo{config_.name, config_.default_lease_ttl_ms};
  lifecycle_ = std::make_unique<ModelLifecycle>(content_.get(), controller_.get(), &counters_,
                                                clock_, lo, [this] { return workerViews(); });
  lifecycle_->load();
  content_->setLeasedModels([this] { return lifecycle_->leasedModels(); });
  verifier_ = std::make_unique<ModelVerifier>(content_.get(), controller_.get(), config_.name,
                                              [this] { return workerViews(); });
  if (!config_.local_socket.empty()) {
    LocalApiOptions lao{config_.local_socket, config_.socket_mode, config_.socket_group};
    local_api_ = std::make_unique<LocalApiServer>(
        lifecycle_.get(), verifier_.get(), lao, [this] { return peer_server_->bytesServed(); });
    RETURN_IF_ERROR(local_api_->start());
  }

  LOG_INFO("agent " << config_.name << " (region " << config_.region << ", zone '"
                    << config_.zone << "', incarnation " << incarnation_ << ") serving peers at "
                    << advertise_addr_ << "; controller " << config_.controller_url);
  heartbeat_ = std::thread([this] { heartbeatLoop(); });
  assignments_ = std::thread([this] { assignmentLoop(); });
  if (kube_ && config_.pod_sweep_interval_ms > 0) {
    pod_sweeper_ = std::thread([this] { podSweepLoop(); });
  }
  return Status::ok();
}

void Server::stop() {
  std::map<std::string, std::shared_ptr<RolloutWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = stopping_ = true;
    cv_.notify_all();
    workers.swap(workers_);  // reconcile() adds none once stopping_ is set
  }
  // Drain first: workers stop fetching and flush their verified pieces.
  for (auto& [id, w] : workers) w->stop();
  workers.clear();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (assignments_.joinable()) assignments_.join();  // at most one long-poll
  if (pod_sweeper_.joinable()) pod_sweeper_.join();  // at most one pod list
  if (local_api_) local_api_->stop();
  if (peer_server_) peer_server_->stop();
  LOG_INFO("agent stopped");
}

bool Server::waitMs(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

api::NodeInfo Server::nodeInfo() const {
  api::NodeInfo n;
  n.name = config_.name;
  n.incarnation = incarnation_;
  n.region = config_.region;
  n.zone = config_.zone;
  n.labels = config_.labels;
  n.peer_addr = advertise_addr_;
  struct statvfs vfs;
  if (::statvfs(config_.data_dir.c_str(), &vfs) == 0) {
    n.capacity_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  }
  n.models = content_->publishedModels();
  return n;
}

std::vector<WorkerView> Server::workerViews() {
  std::vector<std::shared_ptr<RolloutWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, w] : workers_) workers.push_back(w);
  }
  std::vector<WorkerView> out;
  for (const auto& w : workers) {
    out.push_back(WorkerView{w->rolloutId(), w->model(), phaseName(w->phase()), w->failure(),
                             w->bytesDone(), w->totalBytes(), w->manifestDigest()});
  }
  return out;
}

void Server::writeReadyFile() {
  if (config_.ready_file.empty()) return;
  std::string tmp = config_.ready_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << advertise_addr_ << "\n";
    if (!out) {
      LOG_ERROR("cannot write ready file " << config_.ready_file);
      return;
    }
  }
  if (std::rename(tmp.c_str(), config_.ready_file.c_str()) != 0) {
    LOG_ERROR("cannot write ready file " << config_.ready_file);
  }
}

void Server::heartbeatLoop() {
  Backoff backoff(250, 5000);
  int failures = 0;
  while (true) {
    auto r = controller_->heartbeat(nodeInfo());
    int64_t wait_ms;
    if (r.isOk()) {
      backoff.reset();
      if (failures > 0) LOG_INFO("controller reachable again");
      failures = 0;
      bool first = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        first = !registered_;
        registered_ = true;
        cv_.notify_all();
      }
      if (first) {
        LOG_INFO("registered with the controller as " << config_.name);
        writeReadyFile();
      }
      wait_ms = std::clamp<int64_t>(r->heartbeat_interval_ms, 100, 60000);
      lifecycle_->expireLeases();
    } else {
      if (failures++ % 20 == 0) LOG_WARN("heartbeat: " << r.status().toString());
      wait_ms = backoff.nextDelayMs();
    }
    if (!waitMs(wait_ms)) return;
  }
}

void Server::assignmentLoop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || registered_; });
    if (stopping_) return;
  }
  Backoff backoff(250, 5000);
  uint64_t cursor = 0;
  int failures = 0;
  while (true) {
    auto r = controller_->assignments(config_.name, cursor, kAssignmentWaitMs);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (!r.isOk()) {
      if (failures++ % 20 == 0) LOG_WARN("assignments: " << r.status().toString());
      if (!waitMs(backoff.nextDelayMs())) return;
      continue;
    }
    failures = 0;
    backoff.reset();
    cursor = r->cursor;
    reconcile(*r);
  }
}

void Server::reconcile(const api::Assignments& assignments) {
  std::vector<std::shared_ptr<RolloutWorker>> to_stop;
  std::vector<std::shared_ptr<RolloutWorker>> to_cancel;  // stay in workers_: not restarted
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    std::set<std::string> listed;
    for (const auto& e : assignments.rollouts) {
      listed.insert(e.rollout_id);
      auto it = workers_.find(e.rollout_id);
      if (stopsWorker(e.state)) {
        if (it != workers_.end() && !it->second->finished()) {
          LOG_INFO("rollout " << e.rollout_id << " is " << e.state << "; stopping its worker");
          to_cancel.push_back(it->second);
        }
        continue;
      }
      if (it != workers_.end()) continue;
      LOG_INFO("assigned rollout " << e.rollout_id << " (" << e.model.toString() << ")");
      WorkerOptions wo;
      wo.node = config_.name;
      wo.region = config_.region;
      wo.zone = config_.zone;
      wo.incarnation = incarnation_;
      wo.origin_concurrency = config_.origin_concurrency;
      wo.peer_requests = config_.peer_requests;
      wo.max_inflight = config_.max_inflight;
      wo.origin_options.ca_bundle = config_.origin_ca_bundle;
      wo.seed = std::random_device{}() ^ (worker_seed_++ << 32);
      WorkerDeps deps{content_.get(), controller_.get(), peer_client_.get(), &registry_,
                      &counters_};
      auto w = std::make_shared<RolloutWorker>(e.rollout_id, wo, deps);
      w->start();
      workers_[e.rollout_id] = std::move(w);
    }
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (listed.count(it->first)) {
        ++it;
        continue;
      }
      LOG_INFO("rollout " << it->first << " is no longer assigned; stopping its worker");
      to_stop.push_back(std::move(it->second));
      it = workers_.erase(it);
    }
  }
  // Joining a worker can take a moment (requests in flight): not under mu_, which
  // the heartbeat thread needs. stop() is safe to call concurrently with Server::stop.
  for (auto& w : to_cancel) w->stop();
  for (auto& w : to_stop) w->stop();
}

}  // namespace shardcast::agent
