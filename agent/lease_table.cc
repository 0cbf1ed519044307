#include "agent/lease_table.h"

#include <nlohmann/json.hpp>

namespace shardcast::agent {

Status LeaseTable::validateId(const std::string& id) {
  if (id.empty() || id.size() > 128) return invalidArgument("lease id must be 1-128 characters");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return invalidArgument("lease id must be characters of [A-Za-z0-9._-]");
  }
  return Status::ok();
}

bool LeaseTable::live(const Lease& l) const {
  return l.expires_at_ms == 0 || l.expires_at_ms > clock_.wallMs();
}

Status LeaseTable::acquire(const std::string& id, const ModelRef& model, int64_t ttl_ms) {
  RETURN_IF_ERROR(validateId(id));
  if (ttl_ms < 0) return invalidArgument("lease ttl must not be negative");
  Lease& l = leases_[id];
  if (!live(l)) l.models.clear();  // an expired lease starts over
  l.id = id;
  l.models.insert(model);
  l.renewed_at_ms = clock_.wallMs();
  l.expires_at_ms = ttl_ms == 0 ? 0 : clock_.wallMs() + ttl_ms;
  return Status::ok();
}

bool LeaseTable::release(const std::string& id) { return leases_.erase(id) > 0; }

std::vector<std::string> LeaseTable::expire() {
  std::vector<std::string> gone;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (live(it->second)) {
      ++it;
    } else {
      gone.push_back(it->first);
      it = leases_.erase(it);
    }
  }
  return gone;
}

bool LeaseTable::isLeased(const ModelRef& model) const {
  for (const auto& [id, l] : leases_) {
    if (live(l) && l.models.count(model)) return true;
  }
  return false;
}

std::vector<std::string> LeaseTable::holders(const ModelRef& model) const {
  std::vector<std::string> out;
  for (const auto& [id, l] : leases_) {
    if (live(l) && l.models.count(model)) out.push_back(id);
  }
  return out;
}

std::set<ModelRef> LeaseTable::leasedModels() const {
  std::set<ModelRef> out;
  for (const auto& [id, l] : leases_) {
    if (live(l)) out.insert(l.models.begin(), l.models.end());
  }
  return out;
}

std::vector<Lease> LeaseTable::all() const {
  std::vector<Lease> out;
  for (const auto& [id, l] : leases_) {
    if (live(l)) out.push_back(l);
  }
  return out;
}

nlohmann::json LeaseTable::toJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [id, l] : leases_) {
    nlohmann::json models = nlohmann::json::array();
    for (const auto& m : l.models) models.push_back(m.toString());
    list.push_back({{"id", id},
                    {"models", models},
                    {"expires_at_ms", l.expires_at_ms},
                    {"renewed_at_ms", l.renewed_at_ms}});
  }
  return {{"leases", list}};
}

Status LeaseTable::fromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("leases") || !j["leases"].is_array()) {
    return invalidArgument("lease file must be {\"leases\": [...]}");
  }
  leases_.clear();
  for (const auto& e : j["leases"]) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_string()) continue;
    Lease l;
    l.id = e["id"].get<std::string>();
    if (!validateId(l.id).isOk()) continue;
    if (e.contains("expires_at_ms") && e["expires_at_ms"].is_number_integer()) {
      l.expires_at_ms = e["expires_at_ms"].get<int64_t>();
    }
    if (e.contains("renewed_at_ms") && e["renewed_at_ms"].is_number_integer()) {
      l.renewed_at_ms = e["renewed_at_ms"].get<int64_t>();
    }
    if (e.contains("models") && e["models"].is_array()) {
      for (const auto& m : e["models"]) {
        if (!m.is_string()) continue;
        auto ref = parseModelRef(m.get<std::string>());
        if (ref.isOk()) l.models.insert(*ref);
      }
    }
    if (!l.models.empty()) leases_[l.id] = std::move(l);
  }
  return Status::ok();
}

}  // namespace shardcast::agent
