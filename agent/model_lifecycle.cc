#include "agent/model_lifecycle.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/api/json_fields.h"
#include "common/log.h"

namespace shardcast::agent {
namespace {

constexpr const char* kLeaseFile = "leases.json";
constexpr int64_t kPullRetryMs = 10000;

}  // namespace

nlohmann::json toJson(const ModelView& v) {
  nlohmann::json j = {{"model", v.model.toString()},
                      {"state", v.state},
                      {"path", v.path},
                      {"bytes", v.bytes},
                      {"total_bytes", v.total_bytes},
                      {"bytes_done", v.bytes_done},
                      {"leases", v.leases},
                      {"last_use_ms", v.last_use_ms}};
  if (v.resident_percent >= 0) j["resident_percent"] = v.resident_percent;
  if (!v.rollout_id.empty()) j["rollout_id"] = v.rollout_id;
  if (!v.reason.empty()) j["reason"] = v.reason;
  if (!v.message.empty()) j["message"] = v.message;
  return j;
}

ModelLifecycle::ModelLifecycle(ContentStore* content, ControllerClient* controller,
                               AgentCounters* counters, const Clock& clock,
                               LifecycleOptions options,
                               std::function<std::vector<WorkerView>()> workers)
    : content_(content),
      controller_(controller),
      counters_(counters),
      clock_(clock),
      options_(std::move(options)),
      workers_(std::move(workers)),
      leases_(clock) {}

void ModelLifecycle::load() {
  auto raw = content_->loadStateFile(kLeaseFile);
  if (!raw.isOk()) return;
  auto j = api::parseJson(*raw);
  std::lock_guard<std::mutex> lock(leases_mu_);
  if (!j.isOk() || !leases_.fromJson(*j).isOk()) {
    LOG_WARN("ignoring unreadable lease file leases/" << kLeaseFile);
    return;
  }
  LOG_INFO("restored " << leases_.size() << " leases");
}

void ModelLifecycle::persistLocked() {
  Status s = content_->saveStateFile(kLeaseFile, leases_.toJson().dump());
  if (!s.isOk()) LOG_WARN("cannot save leases: " << s.toString());
}

std::string ModelLifecycle::modelsRoot() const {
  std::error_code ec;
  auto abs = std::filesystem::absolute(std::filesystem::path(content_->dataDir()) / "models", ec);
  return ec ? content_->dataDir() + "/models" : abs.lexically_normal().string();
}

std::string ModelLifecycle::pathOf(const ModelRef& ref) const {
  return modelsRoot() + "/" + ref.name + "/" + ref.version;
}

std::set<ModelRef> ModelLifecycle::leasedModels() const {
  std::lock_guard<std::mutex> lock(leases_mu_);
  return leases_.leasedModels();
}

void ModelLifecycle::expireLeases() {
  std::lock_guard<std::mutex> lock(leases_mu_);
  auto gone = leases_.expire();
  for (const auto& id : gone) LOG_INFO("lease " << id << " expired");
  if (!gone.empty()) persistLocked();
}

std::vector<Lease> ModelLifecycle::dropLeases(
    const std::function<std::vector<std::string>(const std::vector<Lease>&)>& choose) {
  std::lock_guard<std::mutex> lock(leases_mu_);
  std::vector<Lease> current = leases_.all();
  std::vector<Lease> dropped;
  for (const auto& id : choose(current)) {
    for (const auto& l : current) {
      if (l.id == id && leases_.release(id)) dropped.push_back(l);
    }
  }
  if (!dropped.empty()) persistLocked();
  return dropped;
}

Status ModelLifecycle::releaseLease(const std::string& id) {
  RETURN_IF_ERROR(LeaseTable::validateId(id));
  std::lock_guard<std::mutex> lock(leases_mu_);
  if (!leases_.release(id)) return notFound("no lease '" + id + "' on this node", "unknown_lease");
  LOG_INFO("lease " << id << " released");
  persistLocked();
  return Status::ok();
}

std::vector<std::string> ModelLifecycle::leasedHolders(const ModelRef& ref) const {
  std::lock_guard<std::mutex> lock(leases_mu_);
  return leases_.holders(ref);
}

ModelView ModelLifecycle::published(const StoredVersionInfo& v) {
  ModelView m;
  m.model = v.model;
  m.state = "ready";
  m.path = pathOf(v.model);
  m.bytes = m.total_bytes = m.bytes_done = v.bytes;
  m.last_use_ms = v.last_use_ms;
  auto r = content_->residency(v.model);
  if (r.isOk()) m.resident_percent = r->percent();
  return m;
}

Result<ModelView> ModelLifecycle::prewarm(const PrewarmRequest& req) {
  if (counters_) ++counters_->prewarm_requests;
  if (!req.lease_id.empty()) {
    int64_t ttl = req.lease_ttl_ms < 0 ? options_.default_lease_ttl_ms : req.lease_ttl_ms;
    std::lock_guard<std::mutex> lock(leases_mu_);
    RETURN_IF_ERROR(leases_.acquire(req.lease_id, req.model, ttl));
    persistLocked();
  }
  for (const auto& v : content_->storedVersions()) {
    if (v.model == req.model && v.published) {
      content_->touch(req.model);
      ModelView m = published(v);
      m.leases = leasedHolders(req.model);
      return m;
    }
  }
  ModelView m;
  m.model = req.model;
  m.leases = leasedHolders(req.model);
  for (const auto& w : workers_()) {
    if (w.model != req.model) continue;
    if (w.phase == "failed") {
      Status f = w.failure;
      return f;
    }
    if (w.phase == "stopped") continue;
    m.state = w.phase == "starting" ? "pending" : "fetching";
    m.rollout_id = w.rollout_id;
    m.bytes_done = w.bytes_done;
    m.total_bytes = w.total_bytes;
    return m;
  }
  // No worker holds it: ask the controller to add this node (on-demand pull).
  {
    std::lock_guard<std::mutex> lock(leases_mu_);
    auto it = pull_asked_ms_.find(req.model);
    if (it != pull_asked_ms_.end() && clock_.nowMs() - it->second < kPullRetryMs) {
      m.state = "pending";
      return m;
    }
  }
  auto r = controller_->requestPull(options_.node, req.model);
  if (!r.isOk()) {
    if (r.status().code() == StatusCode::kUnavailable ||
        r.status().code() == StatusCode::kDeadlineExceeded) {
      return Status(r.status().code(),
                    "cannot reach the controller to pull " + req.model.toString() + ": " +
                        r.status().message(),
                    "controller_unreachable");
    }
    return r.status();
  }
  if (counters_) ++counters_->pulls_requested;
  LOG_INFO("prewarm of " << req.model.toString() << ": pulling on demand (rollout " << *r << ")");
  {
    std::lock_guard<std::mutex> lock(leases_mu_);
    pull_asked_ms_[req.model] = clock_.nowMs();
  }
  m.state = "pending";
  m.rollout_id = *r;
  return m;
}

std::vector<ModelView> ModelLifecycle::models() {
  std::vector<ModelView> out;
  std::map<ModelRef, WorkerView> by_model;
  for (auto& w : workers_()) {
    if (w.model.name.empty()) continue;
    auto it = by_model.find(w.model);
    // Prefer the worker that is doing something over a stopped one.
    if (it == by_model.end() || it->second.phase == "stopped") by_model[w.model] = w;
  }
  for (const auto& v : content_->storedVersions()) {
    ModelView m;
    if (v.published) {
      m = published(v);
    } else {
      m.model = v.model;
      m.state = "partial";
      m.bytes = v.bytes;
      m.last_use_ms = v.last_use_ms;
    }
    auto w = by_model.find(v.model);
    if (w != by_model.end()) {
      m.rollout_id = w->second.rollout_id;
      if (!v.published) {
        m.state = w->second.phase == "failed" ? "failed" : "fetching";
        m.bytes_done = w->second.bytes_done;
        m.total_bytes = w->second.total_bytes;
      }
      by_model.erase(w);
    }
    out.push_back(std::move(m));
  }
  for (const auto& [ref, w] : by_model) {  // workers with nothing on disk (no_space)
    if (w.phase != "failed") continue;
    ModelView m;
    m.model = ref;
    m.state = "failed";
    m.rollout_id = w.rollout_id;
    m.reason = w.failure.reason();
    m.message = w.failure.message();
    out.push_back(std::move(m));
  }
  for (auto& m : out) m.leases = leasedHolders(m.model);
  return out;
}

std::string ModelLifecycle::metricsText(uint64_t peer_bytes_served) {
  std::ostringstream os;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    os << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
       << name << " " << v << "\n";
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    os << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
       << name << " " << v << "\n";
  };
  counter("shardcast_agent_origin_bytes_total", "Bytes pulled from origins.",
          counters_->origin_bytes.load());
  counter("shardcast_agent_peer_bytes_total", "Verified bytes received from peers.",
          counters_->peer_bytes.load());
  counter("shardcast_agent_peer_bytes_other_zones_total",
          "Piece bytes received from peers in another zone (cross-zone traffic, verified or not).",
          counters_->peer_bytes_other_zones.load());
  counter("shardcast_agent_served_bytes_total", "Piece bytes served to peers.", peer_bytes_served);
  counter("shardcast_agent_resumed_pieces_total",
          "Pieces kept on start after re-hashing against accepted hashes.",
          counters_->pieces_resumed.load());
  counter("shardcast_agent_resume_dropped_pieces_total",
          "Pieces dropped on start because their bytes failed the accepted hash.",
          counters_->pieces_dropped_on_resume.load());
  counter("shardcast_agent_prewarm_requests_total", "POST /v1/prewarm requests.",
          counters_->prewarm_requests.load());
  counter("shardcast_agent_pulls_total", "On-demand pulls asked of the controller.",
          counters_->pulls_requested.load());
  counter("shardcast_agent_no_space_total", "Versions refused for lack of disk budget.",
          counters_->no_space_failures.load());
  counter("shardcast_agent_evictions_total", "Published versions evicted (LRU, unleased).",
          content_->evictions());
  auto stored = content_->storedVersions();
  uint64_t used = 0;
  size_t published_n = 0;
  for (const auto& v : stored) {
    used += v.bytes;
    if (v.published) ++published_n;
  }
  uint64_t budget = content_->budgetBytes();
  gauge("shardcast_agent_disk_budget_bytes", "Disk budget (0 = none).",
        budget == UINT64_MAX ? 0.0 : static_cast<double>(budget));
  gauge("shardcast_agent_disk_used_bytes", "Bytes of published and partial versions.",
        static_cast<double>(used));
  gauge("shardcast_agent_models_published", "Published versions on this node.",
        static_cast<double>(published_n));
  gauge("shardcast_agent_models_partial", "Partially fetched versions on this node.",
        static_cast<double>(stored.size() - published_n));
  {
    std::lock_guard<std::mutex> lock(leases_mu_);
    gauge("shardcast_agent_leases", "Unexpired pre-warm leases.",
          static_cast<double>(leases_.all().size()));
  }
  os << "# HELP shardcast_agent_model_resident_ratio Fraction of a published version in page cache.\n"
     << "# TYPE shardcast_agent_model_resident_ratio gauge\n";
  for (const auto& v : stored) {
    if (!v.published) continue;
    auto r = content_->residency(v.model);
    if (r.isOk()) {
      os << "shardcast_agent_model_resident_ratio{model=\"" << v.model.toString() << "\"} "
         << r->percent() / 100.0 << "\n";
    }
  }
  return os.str();
}

}  // namespace shardcast::agent
