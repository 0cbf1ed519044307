// PeerListCache: the peer list and zone role last handed to each node of one
// rollout, so the controller does not rank a whole region on every poll (at
// 10,000 nodes that was 3 x 10^8 candidates a second). An entry is reused until
// it expires or the node registry's version moves (a node joined, or one changed
// region, zone, labels or address); a node that goes silent stays listed until
// the entry expires, and agents skip peers they cannot reach.
//
// Not thread-safe: RolloutService guards it with its mutex. Pure (the caller
// passes the time).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/api/node.h"
#include "controller/peer_selector.h"

namespace shardcast::controller {

struct CachedPeers {
  std::vector<api::PeerEntry> peers;
  ZoneRole role;
  uint64_t registry_version = 0;
  int64_t expires_ms = 0;
};

class PeerListCache {
 public:
  // The node's entry if it is still valid, else nullptr.
  const CachedPeers* find(const std::string& node, uint64_t registry_version, int64_t now_ms) const;
  const CachedPeers& put(const std::string& node, CachedPeers entry) {
    return entries_[node] = std::move(entry);
  }
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, CachedPeers> entries_;
};

}  // namespace shardcast::controller
