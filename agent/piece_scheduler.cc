#include "agent/piece_scheduler.h"

#include <algorithm>
#include <set>

namespace shardcast::agent {

PieceScheduler::PieceScheduler(uint32_t piece_count, uint64_t seed, std::string my_zone)
    : piece_count_(piece_count),
      my_zone_(std::move(my_zone)),
      rng_(seed),
      have_(piece_count),
      stripe_(piece_count, false),
      hash_known_(piece_count, false),
      availability_(piece_count, 0),
      in_flight_(piece_count) {}

void PieceScheduler::account(const PeerState& p, int sign) {
  if (!usable(p)) return;
  const auto& bytes = p.bits.bytes();
  for (size_t b = 0; b < bytes.size(); ++b) {
    if (bytes[b] == 0) continue;
    for (uint32_t bit = 0; bit < 8; ++bit) {
      if (bytes[b] & (0x80u >> bit)) availability_[b * 8 + bit] += sign;
    }
  }
}

void PieceScheduler::setPeers(const std::vector<SchedulerPeer>& peers) {
  std::set<std::string> listed;
  for (const auto& sp : peers) {
    listed.insert(sp.name);
    PeerState& p = peers_[sp.name];
    p.zone = sp.zone;
    if (!p.listed) {
      p.listed = true;
      account(p, +1);  // no-op until a bitfield arrives
    }
  }
  for (auto it = peers_.begin(); it != peers_.end();) {
    PeerState& p = it->second;
    if (listed.count(it->first) || !p.listed) {
      ++it;
      continue;
    }
    account(p, -1);
    p.listed = false;
    p.bits = Bitfield();
    if (p.in_flight == 0 && !p.aside) {
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
}

void PieceScheduler::onPeerBitfield(const std::string& peer, const Bitfield& bits) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.listed || bits.size() != piece_count_) return;
  PeerState& p = it->second;
  if (p.aside) {
    p.bits = bits;
    return;
  }
  if (p.bits.size() != piece_count_) {
    p.bits = bits;
    account(p, +1);
    return;
  }
  // Adjust availability by the difference only: bitfields arrive often.
  const auto& old_bytes = p.bits.bytes();
  const auto& new_bytes = bits.bytes();
  for (size_t b = 0; b < new_bytes.size(); ++b) {
    uint8_t diff = old_bytes[b] ^ new_bytes[b];
    if (diff == 0) continue;
    for (uint32_t bit = 0; bit < 8; ++bit) {
      uint8_t mask = static_cast<uint8_t>(0x80u >> bit);
      if (diff & mask) availability_[b * 8 + bit] += (new_bytes[b] & mask) ? 1 : -1;
    }
  }
  p.bits = bits;
}

void PieceScheduler::onPeerUnreachable(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  account(it->second, -1);
  it->second.bits = Bitfield();
}

void PieceScheduler::onHashKnown(uint32_t piece) {
  if (piece < piece_count_) hash_known_[piece] = true;
}

void PieceScheduler::setStripe(const std::vector<uint32_t>& stripe) {
  std::fill(stripe_.begin(), stripe_.end(), false);
  for (uint32_t piece : stripe) {
    if (piece < piece_count_) stripe_[piece] = true;
  }
}

void PieceScheduler::onRequestDone(uint32_t piece, const std::string& peer, bool ok) {
  if (piece >= piece_count_) return;
  auto& asked = in_flight_[piece];
  auto pos = std::find(asked.begin(), asked.end(), peer);
  if (pos == asked.end()) return;
  asked.erase(pos);
  --total_in_flight_;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  PeerState& p = it->second;
  --p.in_flight;
  if (!ok && usable(p) && p.bits.get(piece)) {
    // Stale bitfield or a failing peer: do not ask it for this piece again until
    // its next bitfield says it has the piece.
    p.bits.clear(piece);
    --availability_[piece];
  }
  if (!p.listed && p.in_flight == 0 && !p.aside) peers_.erase(it);
}

void PieceScheduler::onPieceVerified(uint32_t piece) {
  if (piece < piece_count_) have_.set(piece);
}

void PieceScheduler::putAside(const std::string& peer) {
  PeerState& p = peers_[peer];
  if (p.aside) return;
  account(p, -1);
  p.aside = true;
}

bool PieceScheduler::onBitfieldRound() {
  return zone_.onRound(total_in_flight_ == 0, zone_blocked_);
}

uint32_t PieceScheduler::inFlight(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.in_flight;
}

bool PieceScheduler::isPutAside(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.aside;
}

bool PieceScheduler::inEndGame() const {
  bool any_needed = false;
  for (uint32_t i = 0; i < piece_count_; ++i) {
    if (have_.get(i) || stripe_[i]) continue;
    any_needed = true;
    if (in_flight_[i].empty()) return false;
  }
  return any_needed;
}

void PieceScheduler::collectCandidates(bool end_game,
                                       std::vector<std::vector<uint32_t>>& buckets) const {
  const size_t want_requests = end_game ? 1 : 0;
  for (uint32_t i = 0; i < piece_count_; ++i) {
    if (!wanted(i) || availability_[i] == 0 || in_flight_[i].size() != want_requests) continue;
    if (buckets.size() <= availability_[i]) buckets.resize(availability_[i] + 1);
    buckets[availability_[i]].push_back(i);
  }
}

std::string PieceScheduler::choosePeer(uint32_t piece, uint32_t max_per_peer) {
  const auto& asked = in_flight_[piece];
  const bool may_import = zone_.mayImport(piece, !asked.empty());
  const std::string* best = nullptr;
  std::pair<int, uint32_t> best_score{0, 0};
  uint64_t ties = 0;
  bool held_in_zone = false;  // a usable peer of my zone has the piece
  bool held_elsewhere = false;
  for (const auto& [name, p] : peers_) {
    if (!usable(p) || !p.bits.get(piece)) continue;
    const bool same_zone = p.zone == my_zone_;
    held_in_zone = held_in_zone || same_zone;
    held_elsewhere = held_elsewhere || !same_zone;
    if (p.in_flight >= max_per_peer) continue;
    if (std::find(asked.begin(), asked.end(), name) != asked.end()) continue;
    if (!same_zone && !may_import) continue;
    std::pair<int, uint32_t> score{same_zone ? 0 : 1, p.in_flight};
    if (best == nullptr || score < best_score) {
      best = &name;
      best_score = score;
      ties = 1;
    } else if (score == best_score) {
      // Reservoir sampling: each equal peer wins with probability 1/ties.
      ++ties;
      if (std::uniform_int_distribution<uint64_t>(0, ties - 1)(rng_) == 0) best = &name;
    }
  }
  if (zone_.active() && !zone_.lifted()) {
    // Under the zone rule a piece my zone holds is never fetched across zones.
    if (best && best_score.first == 1 && held_in_zone) return std::string();
    if (!best && !held_in_zone && held_elsewhere && !may_import) zone_blocked_ = true;
  }
  return best ? *best : std::string();
}

void PieceScheduler::addInFlight(uint32_t piece, const std::string& peer) {
  in_flight_[piece].push_back(peer);
  ++peers_[peer].in_flight;
  ++total_in_flight_;
}

std::vector<PieceRequest> PieceScheduler::nextRequests(uint32_t max_total, uint32_t max_per_peer) {
  std::vector<PieceRequest> out;
  zone_blocked_ = false;
  if (total_in_flight_ >= max_total || max_per_peer == 0) return out;
  bool free_peer = false;
  for (const auto& [name, p] : peers_) free_peer = free_peer || (usable(p) && p.in_flight < max_per_peer);
  if (!free_peer) return out;

  const bool end_game = inEndGame();
  std::vector<std::vector<uint32_t>> buckets;
  collectCandidates(end_game, buckets);
  for (auto& bucket : buckets) {
    // Partial Fisher-Yates: draw candidates of equal rarity in uniform random order.
    for (size_t k = 0; k < bucket.size() && total_in_flight_ < max_total; ++k) {
      size_t j = std::uniform_int_distribution<size_t>(k, bucket.size() - 1)(rng_);
      std::swap(bucket[k], bucket[j]);
      uint32_t piece = bucket[k];
      if (end_game && in_flight_[piece].size() >= kMaxRequestsPerPiece) continue;
      std::string peer = choosePeer(piece, max_per_peer);
      if (peer.empty()) continue;
      addInFlight(piece, peer);
      out.push_back(PieceRequest{piece, std::move(peer)});
    }
    if (total_in_flight_ >= max_total) break;
  }
  return out;
}

}  // namespace shardcast::agent
