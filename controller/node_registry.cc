#include "controller/node_registry.h"

namespace shardcast::controller {

NodeRegistry::NodeRegistry(const Clock& clock, int64_t node_timeout_ms)
    : clock_(clock), node_timeout_ms_(node_timeout_ms) {}

NodeUpsert NodeRegistry::upsert(const api::NodeInfo& info) {
  NodeUpsert result;
  int64_t now = clock_.nowMs();
  auto it = nodes_.find(info.name);
  if (it == nodes_.end()) {
    nodes_[info.name] = NodeRecord{info, now, now};
    result.is_new = true;
    ++version_;
    return result;
  }
  const api::NodeInfo& old = it->second.info;
  result.placement_changed = old.region != info.region || old.zone != info.zone ||
                             old.labels != info.labels || old.peer_addr != info.peer_addr;
  result.restarted = old.incarnation != info.incarnation;
  if (result.placement_changed) ++version_;
  it->second.info = info;
  it->second.last_seen_ms = now;
  return result;
}

void NodeRegistry::restore(const api::NodeInfo& info) {
  if (nodes_.count(info.name)) return;
  const int64_t now = clock_.nowMs();
  nodes_[info.name] = NodeRecord{info, now, now};
  ++version_;
}

void NodeRegistry::touch(const std::string& name) {
  auto it = nodes_.find(name);
  if (it != nodes_.end()) it->second.last_seen_ms = clock_.nowMs();
}

const NodeRecord* NodeRegistry::find(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

bool NodeRegistry::isLive(const std::string& name) const {
  const NodeRecord* r = find(name);
  return r != nullptr && clock_.nowMs() - r->last_seen_ms <= node_timeout_ms_;
}

std::vector<const NodeRecord*> NodeRegistry::all() const {
  std::vector<const NodeRecord*> out;
  out.reserve(nodes_.size());
  for (const auto& [name, record] : nodes_) out.push_back(&record);
  return out;
}

}  // namespace shardcast::controller
