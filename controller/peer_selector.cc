#include "controller/peer_selector.h"

#include <algorithm>
#include <tuple>

namespace shardcast::controller {

uint64_t PeerSelector::affinity(const std::string& requester, const std::string& peer) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : requester) mix(c);
  mix(0);
  for (unsigned char c : peer) mix(c);
  // FNV-1a alone clusters names that differ only in their last character; a final
  // avalanche (splitmix64) spreads them.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::vector<PeerCandidate> PeerSelector::select(const std::string& requester,
                                                const std::string& zone,
                                                const std::vector<PeerCandidate>& region_nodes) const {
  struct Ranked {
    bool other_zone;
    uint64_t hash;
    const PeerCandidate* node;
  };
  std::vector<Ranked> ranked;
  for (const auto& n : region_nodes) {
    if (n.name == requester || !n.live || n.addr.empty()) continue;
    ranked.push_back(Ranked{n.zone != zone, affinity(requester, n.name), &n});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::tie(a.other_zone, a.hash, a.node->name) <
           std::tie(b.other_zone, b.hash, b.node->name);
  });
  std::vector<PeerCandidate> out;
  for (const auto& r : ranked) {
    if (out.size() >= max_peers_) break;
    // A name listed twice (should not happen) is handed out once.
    if (std::any_of(out.begin(), out.end(), [&](const PeerCandidate& p) { return p.name == r.node->name; })) {
      continue;
    }
    out.push_back(*r.node);
  }
  return out;
}

}  // namespace shardcast::controller
