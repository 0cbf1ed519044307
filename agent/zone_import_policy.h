// ZoneImportPolicy: which pieces this node may fetch from a peer in another zone
// (DESIGN §4 "Swarm", with zones). The goal is that each piece crosses into each
// zone once, so a region with Z zones carries at most (Z - 1) x F across zones.
//
// The controller ranks the live nodes of each zone of the region by name and
// hands every node its rank r and the zone's size s (PeersReply.zone_rank,
// zone_size). Piece p is imported into the zone by the node whose rank is
// importerRank(p, s); every other member waits until a peer in its own zone holds
// the piece. A zone size of 0 (one zone, or an older controller) turns the rule
// off.
//
// Safety net: memberships change, and an importer may die before the controller
// notices. A node that has nothing in flight while wanted pieces sit only in
// other zones for kStallRounds consecutive bitfield rounds may import any piece
// until it has a request in flight again; the rule then applies again.
//
// Pure: no I/O, no clock (the caller counts rounds). Not thread-safe; owned by
// the PieceScheduler.
#pragma once

#include <cstdint>

namespace shardcast::agent {

class ZoneImportPolicy {
 public:
  // Consecutive idle bitfield rounds (300 ms each by default) before the rule is
  // lifted for a stalled node.
  static constexpr uint32_t kStallRounds = 10;

  // The rank of the zone member that imports `piece` in a zone of `size` nodes.
  static uint32_t importerRank(uint32_t piece, uint32_t size);

  // rank < size, or size 0 for no rule. A rank outside the zone turns it off too.
  void setRole(uint32_t rank, uint32_t size);
  bool active() const { return size_ > 0; }
  uint32_t rank() const { return rank_; }
  uint32_t size() const { return size_; }

  // May this node fetch `piece` from a peer in another zone now? `duplicate` is
  // true for an end-game second request: never sent across zones under the rule.
  bool mayImport(uint32_t piece, bool duplicate) const;

  // One bitfield round ended. `idle`: nothing in flight; `blocked`: the last
  // scheduling pass skipped a wanted piece that only other zones hold. Returns
  // true when the rule was just lifted (the caller schedules again and logs).
  bool onRound(bool idle, bool blocked);
  bool lifted() const { return stalled_rounds_ >= kStallRounds; }

 private:
  uint32_t rank_ = 0;
  uint32_t size_ = 0;
  uint32_t stalled_rounds_ = 0;
};

}  // namespace shardcast::agent
