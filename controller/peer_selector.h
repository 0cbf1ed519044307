// PeerSelector: the pure policy that hands a node its peers for one rollout
// (DESIGN §4 "Swarm"): up to K live nodes of its region, never itself, same zone
// first. Within each group the order is a deterministic hash of (requester, peer),
// so when a region has more than K nodes different requesters see different peers
// and the swarm stays connected without a central view of who talks to whom.
//
// Pure: no I/O, no clock; thread-safe (const). Not responsible for deciding which
// nodes are live or participate: the caller passes that in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shardcast::controller {

struct PeerCandidate {
  std::string name;
  std::string zone;
  std::string addr;  // "host:port" of the peer API; nodes without one are skipped
  bool live = true;
  bool operator==(const PeerCandidate&) const = default;
};

class PeerSelector {
 public:
  static constexpr uint32_t kDefaultMaxPeers = 16;

  explicit PeerSelector(uint32_t max_peers = kDefaultMaxPeers) : max_peers_(max_peers) {}

  std::vector<PeerCandidate> select(const std::string& requester, const std::string& zone,
                                    const std::vector<PeerCandidate>& region_nodes) const;

  // The stable 64-bit FNV-1a hash of "requester\0peer" that orders each group.
  static uint64_t affinity(const std::string& requester, const std::string& peer);

 private:
  uint32_t max_peers_;
};

}  // namespace shardcast::controller
