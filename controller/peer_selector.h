// PeerSelector: the pure policy that hands a node its peers for one rollout
// (DESIGN §4 "Swarm"): up to K live nodes of its region, never itself, same zone
// first, but at least ceil(K/4) from other zones when the region has them (so a
// zone larger than K still reaches the others). Within each group the order is a
// deterministic hash of (requester, peer), so when a region has more than K nodes
// different requesters see different peers and the swarm stays connected without
// a central view of who talks to whom.
//
// It also gives a node its zone role for the agent's zone import rule
// (agent/zone_import_policy.h): its rank by name among the live nodes of its zone
// and the zone's size; size 0 when the region has a single zone.
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
  bool importer = true;  // counts for zone roles (false: it failed the rollout)
  bool operator==(const PeerCandidate&) const = default;
};

struct ZoneRole {
  uint32_t rank = 0;
  uint32_t size = 0;  // 0: no zone rule
  bool operator==(const ZoneRole&) const = default;
};

class PeerSelector {
 public:
  static constexpr uint32_t kDefaultMaxPeers = 16;

  explicit PeerSelector(uint32_t max_peers = kDefaultMaxPeers) : max_peers_(max_peers) {}

  std::vector<PeerCandidate> select(const std::string& requester, const std::string& zone,
                                    const std::vector<PeerCandidate>& region_nodes) const;

  // The requester's rank and zone size among the live, addressed importers of
  // region_nodes (the requester counts even if not listed).
  static ZoneRole zoneRole(const std::string& requester, const std::string& zone,
                           const std::vector<PeerCandidate>& region_nodes);

  // The stable 64-bit FNV-1a hash of "requester\0peer" that orders each group.
  static uint64_t affinity(const std::string& requester, const std::string& peer);

 private:
  uint32_t max_peers_;
};

}  // namespace shardcast::controller
