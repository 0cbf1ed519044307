#include "controller/stripe_planner.h"

#include <algorithm>
#include <cassert>

namespace shardcast::controller {
namespace {

// Index of the smallest load; ties go to the lowest index.
size_t leastLoaded(const std::vector<uint64_t>& load) {
  return static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
}

}  // namespace

std::vector<uint32_t> StripePlan::piecesOf(const std::string& name) const {
  std::vector<uint32_t> out;
  for (uint32_t s = 0; s < seeders.size(); ++s) {
    if (seeders[s] != name) continue;
    for (uint32_t p = 0; p < owner.size(); ++p) {
      if (owner[p] == s) out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint32_t StripePlan::activeSeeders() const {
  std::vector<bool> used(seeders.size(), false);
  for (uint32_t o : owner) used[o] = true;
  return static_cast<uint32_t>(std::count(used.begin(), used.end(), true));
}

StripePlanner::StripePlanner(uint32_t max_seeders) : max_seeders_(std::max(1u, max_seeders)) {}

StripePlan StripePlanner::plan(const std::vector<uint64_t>& piece_sizes,
                               const std::vector<std::string>& candidates) const {
  StripePlan out;
  if (candidates.empty()) return out;
  size_t s = std::min<size_t>(max_seeders_, candidates.size());
  out.seeders.assign(candidates.begin(), candidates.begin() + static_cast<long>(s));
  std::vector<uint64_t> load(s, 0);
  out.owner.reserve(piece_sizes.size());
  for (uint64_t size : piece_sizes) {
    size_t i = leastLoaded(load);
    out.owner.push_back(static_cast<uint32_t>(i));
    load[i] += size;
  }
  return out;
}

StripePlan StripePlanner::reassign(const StripePlan& plan, const std::vector<uint64_t>& piece_sizes,
                                   const std::set<std::string>& dead,
                                   const std::vector<std::string>& live_candidates,
                                   const std::vector<bool>& done, uint32_t* moved) const {
  assert(plan.owner.size() == piece_sizes.size() && done.size() == piece_sizes.size());
  if (moved) *moved = 0;
  std::vector<uint32_t> to_move;
  for (uint32_t p = 0; p < plan.owner.size(); ++p) {
    if (!done[p] && dead.count(plan.seeders[plan.owner[p]])) to_move.push_back(p);
  }
  if (to_move.empty()) return plan;

  StripePlan out = plan;
  // Receivers: live seeders first (in seeder order), then new nodes up to the cap.
  // load[] is the bytes of unfinished pieces each receiver already holds.
  std::vector<uint32_t> receivers;  // seeder ids in `out`
  auto idOf = [&](const std::string& name) -> int64_t {
    for (uint32_t s = 0; s < out.seeders.size(); ++s) {
      if (out.seeders[s] == name) return s;
    }
    return -1;
  };
  std::set<std::string> live(live_candidates.begin(), live_candidates.end());
  for (uint32_t s = 0; s < out.seeders.size(); ++s) {
    if (live.count(out.seeders[s]) && !dead.count(out.seeders[s])) receivers.push_back(s);
  }
  for (const auto& name : live_candidates) {
    if (receivers.size() >= max_seeders_) break;
    if (dead.count(name) || idOf(name) >= 0) continue;
    out.seeders.push_back(name);
    receivers.push_back(static_cast<uint32_t>(out.seeders.size() - 1));
  }
  if (receivers.empty()) return plan;

  std::vector<uint64_t> load(receivers.size(), 0);
  for (size_t r = 0; r < receivers.size(); ++r) {
    for (uint32_t p = 0; p < out.owner.size(); ++p) {
      if (!done[p] && out.owner[p] == receivers[r]) load[r] += piece_sizes[p];
    }
  }
  for (uint32_t p : to_move) {
    size_t r = leastLoaded(load);
    out.owner[p] = receivers[r];
    load[r] += piece_sizes[p];
  }
  // New nodes that received nothing do not join the plan.
  std::vector<bool> used(out.seeders.size(), false);
  for (uint32_t o : out.owner) used[o] = true;
  while (out.seeders.size() > plan.seeders.size() && !used[out.seeders.size() - 1]) {
    out.seeders.pop_back();
    used.pop_back();
  }
  std::vector<uint32_t> remap(out.seeders.size());
  std::vector<std::string> kept(plan.seeders);
  for (uint32_t s = 0; s < out.seeders.size(); ++s) {
    if (s < plan.seeders.size()) {
      remap[s] = s;
    } else if (used[s]) {
      remap[s] = static_cast<uint32_t>(kept.size());
      kept.push_back(out.seeders[s]);
    }
  }
  for (auto& o : out.owner) o = remap[o];
  out.seeders = std::move(kept);
  if (moved) *moved = static_cast<uint32_t>(to_move.size());
  return out;
}

}  // namespace shardcast::controller
