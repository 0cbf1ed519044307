// NodeRegistry: the agents the controller knows, as they registered (PUT
// /v1/nodes/{node}), and when each was last heard from. A node silent for longer
// than node_timeout_ms (T, DESIGN §4) is dead; one that comes back within T (same
// name, new incarnation) is the same node and keeps its stripe.
//
// Not thread-safe: RolloutService owns it and guards it with its own mutex. The
// clock is injected. Not responsible for rollouts or for acting on deaths.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/api/node.h"
#include "common/clock.h"

namespace shardcast::controller {

struct NodeRecord {
  api::NodeInfo info;
  int64_t registered_ms = 0;  // monotonic time of the first registration
  int64_t last_seen_ms = 0;   // monotonic time of the last heartbeat or request
};

// What a registration changed, so callers can tell whose assignments moved.
struct NodeUpsert {
  bool is_new = false;
  bool placement_changed = false;  // region, zone, labels or peer address differ
  bool restarted = false;          // incarnation differs from the last one
};

class NodeRegistry {
 public:
  NodeRegistry(const Clock& clock, int64_t node_timeout_ms);

  // Registers or refreshes a node (its heartbeat).
  NodeUpsert upsert(const api::NodeInfo& info);
  // A node from the stored state after a restart: registered as if it had just
  // heartbeated, so it has T to come back before it counts as dead. No-op for a
  // node already registered.
  void restore(const api::NodeInfo& info);
  // Records that the node was heard from (any request); no-op for unknown nodes.
  void touch(const std::string& name);

  const NodeRecord* find(const std::string& name) const;
  bool isLive(const std::string& name) const;
  // Every node, sorted by name.
  std::vector<const NodeRecord*> all() const;
  size_t size() const { return nodes_.size(); }
  // Moves whenever a node is added or its placement (region, zone, labels, peer
  // address) changes: cached peer lists older than this are stale.
  uint64_t version() const { return version_; }
  int64_t nodeTimeoutMs() const { return node_timeout_ms_; }

 private:
  const Clock& clock_;
  int64_t node_timeout_ms_;
  std::map<std::string, NodeRecord> nodes_;
  uint64_t version_ = 0;
};

}  // namespace shardcast::controller
