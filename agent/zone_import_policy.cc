#include "agent/zone_import_policy.h"

namespace shardcast::agent {

uint32_t ZoneImportPolicy::importerRank(uint32_t piece, uint32_t size) {
  if (size == 0) return 0;
  // splitmix64: neighbouring pieces go to different members, so each member
  // imports an even share of every file.
  uint64_t h = piece + 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<uint32_t>(h % size);
}

void ZoneImportPolicy::setRole(uint32_t rank, uint32_t size) {
  if (rank >= size) size = 0;
  rank_ = size ? rank : 0;
  size_ = size;
}

bool ZoneImportPolicy::mayImport(uint32_t piece, bool duplicate) const {
  if (!active() || lifted()) return true;
  return !duplicate && importerRank(piece, size_) == rank_;
}

bool ZoneImportPolicy::onRound(bool idle, bool blocked) {
  if (!active() || !idle || !blocked) {
    stalled_rounds_ = 0;
    return false;
  }
  if (stalled_rounds_ >= kStallRounds) return false;  // already lifted
  return ++stalled_rounds_ == kStallRounds;
}

}  // namespace shardcast::agent
