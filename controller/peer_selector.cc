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
  // A name listed twice (should not happen) is handed out once.
  ranked.erase(std::unique(ranked.begin(), ranked.end(),
                           [](const Ranked& a, const Ranked& b) { return a.node->name == b.node->name; }),
               ranked.end());
  const size_t same = static_cast<size_t>(
      std::find_if(ranked.begin(), ranked.end(), [](const Ranked& r) { return r.other_zone; }) -
      ranked.begin());
  const size_t other = ranked.size() - same;
  const size_t k = max_peers_;
  const size_t reserve = (k + 3) / 4;
  const size_t take_other = std::min(other, std::max(reserve, k - std::min(same, k)));
  const size_t take_same = std::min(same, k - std::min(k, take_other));
  std::vector<PeerCandidate> out;
  for (size_t i = 0; i < take_same; ++i) out.push_back(*ranked[i].node);
  for (size_t i = 0; i < take_other && out.size() < k; ++i) out.push_back(*ranked[same + i].node);
  return out;
}

ZoneRole PeerSelector::zoneRole(const std::string& requester, const std::string& zone,
                                const std::vector<PeerCandidate>& region_nodes) {
  bool other_zones = false;
  uint32_t size = 1;  // the requester
  uint32_t rank = 0;
  for (const auto& n : region_nodes) {
    if (!n.live || n.addr.empty()) continue;
    if (n.zone != zone) {
      other_zones = true;
      continue;
    }
    if (n.name == requester || !n.importer) continue;  // names are unique in the registry
    ++size;
    if (n.name < requester) ++rank;
  }
  if (!other_zones) return ZoneRole{};
  return ZoneRole{rank, size};
}

}  // namespace shardcast::controller
