#include "controller/peer_list_cache.h"

namespace shardcast::controller {

const CachedPeers* PeerListCache::find(const std::string& node, uint64_t registry_version,
                                       int64_t now_ms) const {
  auto it = entries_.find(node);
  if (it == entries_.end()) return nullptr;
  const CachedPeers& e = it->second;
  if (e.registry_version != registry_version || now_ms >= e.expires_ms) return nullptr;
  return &e;
}

}  // namespace shardcast::controller
