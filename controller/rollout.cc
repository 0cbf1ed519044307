#include "controller/rollout.h"

#include <algorithm>
#include <set>

namespace shardcast::controller {
namespace {

bool isKnownNodeState(const std::string& s) {
  return s == api::kNodePending || s == api::kNodeFetching || s == api::kNodeReady ||
         s == api::kNodeFailed;
}

// "a (no_space), b (node_lost)" naming at most 10 nodes.
std::string nameFailed(const std::vector<api::NodeProgress>& failed) {
  std::string out;
  for (size_t i = 0; i < failed.size() && i < 10; ++i) {
    if (i) out += ", ";
    out += failed[i].node;
    if (!failed[i].reason.empty()) out += " (" + failed[i].reason + ")";
  }
  if (failed.size() > 10) out += " and " + std::to_string(failed.size() - 10) + " more";
  return out;
}

}  // namespace

Rollout::Rollout(RolloutRecord record, std::shared_ptr<const Manifest> manifest)
    : record_(std::move(record)),
      manifest_(std::move(manifest)),
      accepted_(manifest_->pieceCount()) {}

bool Rollout::stopped() const {
  return record_.state == api::kRolloutFailed || record_.state == api::kRolloutCancelled;
}

std::vector<uint64_t> Rollout::pieceSizes() const {
  std::vector<uint64_t> sizes(manifest_->pieceCount());
  for (uint32_t p = 0; p < sizes.size(); ++p) sizes[p] = manifest_->piece(p).length;
  return sizes;
}

bool Rollout::matches(const api::NodeInfo& node) const {
  if (std::binary_search(record_.pulled_nodes.begin(), record_.pulled_nodes.end(), node.name)) {
    return true;
  }
  const auto& target = record_.request.target;
  if (!target.regions.empty() &&
      std::find(target.regions.begin(), target.regions.end(), node.region) == target.regions.end()) {
    return false;
  }
  for (const auto& [key, value] : target.selector) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

bool Rollout::addNode(const api::NodeInfo& node) {
  auto [it, inserted] = rows_.try_emplace(node.name);
  it->second.node = node.name;
  it->second.region = node.region;
  it->second.zone = node.zone;
  return inserted;
}

void Rollout::applyProgress(const api::NodeInfo& node, const api::PieceReport& report) {
  addNode(node);
  api::NodeProgress& row = rows_[node.name];
  if (isKnownNodeState(report.state)) row.state = report.state;
  row.pieces_done = std::min(report.pieces_done, manifest_->pieceCount());
  row.bytes_done = std::min(report.bytes_done, manifest_->totalBytes());
  row.bytes_from_origin = report.bytes_from_origin;
  row.bytes_from_peers = report.bytes_from_peers;
  bool failed = row.state == api::kNodeFailed;
  row.reason = failed ? report.reason.substr(0, 64) : "";
  row.message = failed ? report.message.substr(0, 1024) : "";
}

const RegionState* Rollout::region(const std::string& name) const {
  auto it = regions_.find(name);
  return it == regions_.end() ? nullptr : &it->second;
}

void Rollout::setPlan(const std::string& region, StripePlan plan, uint32_t source_index) {
  RegionState& r = regions_[region];
  r.plan = std::move(plan);
  r.source_index = source_index;
  if (r.confirmed.size() != manifest_->pieceCount()) r.confirmed.assign(manifest_->pieceCount(), false);
}

HashJudgement Rollout::judgeHashes(const std::string& region, const std::string& node,
                                   const std::vector<api::PieceHash>& hashes) const {
  HashJudgement j;
  const RegionState* r = this->region(region);
  std::set<uint32_t> seen;
  for (const auto& h : hashes) {
    if (h.piece >= accepted_.size() || !seen.insert(h.piece).second) continue;
    bool is_seeder = r && !r->plan.empty() && r->plan.seeders[r->plan.owner[h.piece]] == node;
    const std::string& accepted = accepted_[h.piece];
    if (!accepted.empty()) {
      if (accepted != h.sha256) {
        j.conflicts.push_back(h);
      } else if (is_seeder && !r->confirmed[h.piece]) {
        j.confirm.push_back(h.piece);
      }
    } else if (is_seeder) {
      j.accept.push_back(h);
      j.confirm.push_back(h.piece);
    } else {
      ++j.ignored;
    }
  }
  return j;
}

void Rollout::applyHashes(const std::string& region, const HashJudgement& judgement) {
  for (const auto& h : judgement.accept) {
    if (!accepted_[h.piece].empty()) continue;
    accepted_[h.piece] = h.sha256;
    hash_log_.push_back(h);
  }
  auto it = regions_.find(region);
  if (it == regions_.end()) return;
  for (uint32_t p : judgement.confirm) it->second.confirmed[p] = true;
}

Status Rollout::restoreHashes(std::vector<api::PieceHash> log) {
  std::vector<std::string> accepted(manifest_->pieceCount());
  for (const auto& h : log) {
    if (h.piece >= accepted.size() || !accepted[h.piece].empty()) {
      return corruption("stored hashes of rollout " + record_.id + " name piece " +
                        std::to_string(h.piece) + " out of range or twice");
    }
    accepted[h.piece] = h.sha256;
  }
  accepted_ = std::move(accepted);
  hash_log_ = std::move(log);
  return Status::ok();
}

Status Rollout::restoreConfirmed(const std::string& region, const std::vector<uint32_t>& pieces) {
  auto it = regions_.find(region);
  if (it == regions_.end()) {
    return corruption("stored confirmations of rollout " + record_.id + " name region '" + region +
                      "', which has no stripe plan");
  }
  for (uint32_t p : pieces) {
    if (p < it->second.confirmed.size() && !accepted_[p].empty()) it->second.confirmed[p] = true;
  }
  return Status::ok();
}

std::vector<api::PieceHash> Rollout::hashesAfter(uint64_t cursor, size_t max, uint64_t* next) const {
  if (cursor > hash_log_.size()) cursor = 0;
  size_t end = std::min<size_t>(hash_log_.size(), cursor + max);
  *next = end;
  return std::vector<api::PieceHash>(hash_log_.begin() + static_cast<long>(cursor),
                                     hash_log_.begin() + static_cast<long>(end));
}

std::string Rollout::conflictMessage(const api::PieceHash& conflict, const std::string& node) const {
  const PieceRef& ref = manifest_->piece(conflict.piece);
  return "origin changed: piece " + std::to_string(conflict.piece) + " of " +
         manifest_->files()[ref.file].path + " hashed differently by " + node;
}

api::NodeProgress Rollout::effectiveRow(const api::NodeProgress& row, const NodeRegistry& nodes) const {
  api::NodeProgress out = row;
  if (row.state != api::kNodeReady && row.state != api::kNodeFailed && !nodes.isLive(row.node)) {
    out.state = api::kNodeFailed;
    out.reason = "node_lost";
    out.message = "no heartbeat for more than " + std::to_string(nodes.nodeTimeoutMs()) + " ms";
  }
  return out;
}

std::optional<RolloutRecord> Rollout::judgeState(const NodeRegistry& nodes, int64_t wall_ms) const {
  if (terminal() || rows_.empty()) return std::nullopt;
  size_t ready = 0;
  std::vector<api::NodeProgress> failed;
  for (const auto& [name, row] : rows_) {
    api::NodeProgress eff = effectiveRow(row, nodes);
    if (eff.state == api::kNodeReady) {
      ++ready;
    } else if (eff.state == api::kNodeFailed) {
      failed.push_back(std::move(eff));
    } else {
      return std::nullopt;
    }
  }
  RolloutRecord next = record_;
  next.finished_at_ms = wall_ms;
  if (failed.empty()) {
    next.state = api::kRolloutReady;
  } else if (ready > 0) {
    next.state = api::kRolloutDegraded;
    next.message = std::to_string(failed.size()) + " of " + std::to_string(rows_.size()) +
                   " nodes failed: " + nameFailed(failed);
  } else {
    next.state = api::kRolloutFailed;
    next.message = "all " + std::to_string(rows_.size()) + " nodes failed: " + nameFailed(failed);
  }
  return next;
}

api::RolloutStatus Rollout::status(const NodeRegistry& nodes) const {
  api::RolloutStatus s;
  s.id = record_.id;
  s.model = record_.request.model;
  s.state = record_.state;
  s.message = record_.message;
  s.created_at_ms = record_.created_at_ms;
  s.finished_at_ms = record_.finished_at_ms;
  s.total_bytes = manifest_->totalBytes();
  s.piece_count = manifest_->pieceCount();
  s.piece_size = manifest_->pieceSize();
  s.file_count = static_cast<uint32_t>(manifest_->files().size());
  s.sources = record_.request.sources;
  s.target = record_.request.target;
  s.corrupt_reports = corrupt_reports_;
  std::map<std::string, api::RegionStatus> regions;
  for (const auto& [name, r] : regions_) {
    api::RegionStatus& rs = regions[name];
    rs.name = name;
    rs.seeders = r.plan.activeSeeders();
    rs.pieces_accepted = static_cast<uint32_t>(std::count(r.confirmed.begin(), r.confirmed.end(), true));
  }
  for (const auto& [name, row] : rows_) {
    api::NodeProgress eff = effectiveRow(row, nodes);
    api::RegionStatus& rs = regions[eff.region];
    rs.name = eff.region;
    ++rs.nodes_total;
    rs.nodes_ready += eff.state == api::kNodeReady;
    rs.nodes_failed += eff.state == api::kNodeFailed;
    rs.bytes_done += eff.bytes_done;
    s.nodes.push_back(std::move(eff));
  }
  for (auto& [name, rs] : regions) {
    if (rs.nodes_total > 0 && rs.nodes_ready + rs.nodes_failed == rs.nodes_total) {
      rs.state = rs.nodes_failed == 0 ? api::kRolloutReady
                 : rs.nodes_ready > 0 ? api::kRolloutDegraded
                                      : api::kRolloutFailed;
    }
    if (stopped()) rs.state = record_.state;
    s.regions.push_back(std::move(rs));
  }
  return s;
}

std::vector<api::RolloutStatus> statusesOldestFirst(
    const std::map<std::string, std::unique_ptr<Rollout>>& rollouts, const NodeRegistry& nodes) {
  std::vector<api::RolloutStatus> out;
  for (const auto& [id, r] : rollouts) out.push_back(r->status(nodes));
  std::sort(out.begin(), out.end(), [](const api::RolloutStatus& a, const api::RolloutStatus& b) {
    return a.created_at_ms != b.created_at_ms ? a.created_at_ms < b.created_at_ms : a.id < b.id;
  });
  return out;
}

}  // namespace shardcast::controller
