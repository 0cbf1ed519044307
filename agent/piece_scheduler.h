// PieceScheduler: the pure policy that decides which piece to ask which peer for
// (DESIGN §4 "Swarm"). It takes state (my verified pieces, peers' bitfields, which
// accepted hashes are known, my origin stripe, what is in flight) and returns
// decisions; it does no I/O and reads no clock. Randomness comes from a seed, so
// tests and the simulator replay exactly.
//
// Policy, in order:
//   - Only pieces whose accepted hash is known are requested (a piece that cannot
//     be verified is not fetched), never pieces of my own origin stripe (those come
//     from the origin unless the controller moves the stripe), never from a peer
//     that was put aside for serving bad bytes.
//   - Rarest first: availability is the number of usable peers whose bitfield has
//     the piece; ties are broken uniformly at random.
//   - For the chosen piece: a peer in my zone with a free slot first, then any peer
//     with a free slot; the least loaded first; random among equals.
//   - Zones (ZoneImportPolicy, when the controller hands out a zone role): a piece
//     that a peer in my zone holds is fetched only in my zone; a piece only other
//     zones hold is fetched across zones only if I am its zone's importer.
//   - End-game: once every piece I still need from peers is in flight, an in-flight
//     piece may be requested once more from a different peer (at most two
//     outstanding requests per piece; under the zone rule, only from my zone).
//     The first verified copy wins; the caller ignores the other (onPieceVerified
//     makes the piece "have").
//
// Not thread-safe: the rollout worker owns one and calls it under its own mutex.
// Not responsible for verifying bytes, timeouts, or talking to peers.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <map>
#include <vector>

#include "agent/zone_import_policy.h"
#include "common/bitfield.h"

namespace shardcast::agent {

struct PieceRequest {
  uint32_t piece = 0;
  std::string peer;
  bool operator==(const PieceRequest&) const = default;
};

struct SchedulerPeer {
  std::string name;
  std::string zone;
};

class PieceScheduler {
 public:
  static constexpr uint32_t kMaxRequestsPerPiece = 2;

  PieceScheduler(uint32_t piece_count, uint64_t seed, std::string my_zone = "");

  uint32_t pieceCount() const { return piece_count_; }

  // Replaces the peer list. Peers no longer listed are forgotten (their bitfields
  // no longer count); in-flight requests to them stay counted until onRequestDone.
  // A peer that was put aside stays aside even if it is listed again.
  void setPeers(const std::vector<SchedulerPeer>& peers);
  // A fresh bitfield of a listed peer (ignored for unknown peers or a wrong size).
  void onPeerBitfield(const std::string& peer, const Bitfield& bits);
  // The peer could not be reached: its bitfield is dropped until the next one.
  void onPeerUnreachable(const std::string& peer);
  // The piece's accepted hash is known: it may now be requested.
  void onHashKnown(uint32_t piece);
  // My origin stripe (replaces the previous one). Stripe pieces are never
  // requested from peers.
  void setStripe(const std::vector<uint32_t>& stripe);
  // A request finished. ok=false (transport error, 404, bad bytes) also drops the
  // piece from that peer's bitfield until its next bitfield says otherwise.
  void onRequestDone(uint32_t piece, const std::string& peer, bool ok);
  // I hold a verified copy (from a peer, the origin, or a resumed bitfield).
  void onPieceVerified(uint32_t piece);
  // The peer served bytes that failed the accepted hash: never ask it again.
  void putAside(const std::string& peer);
  // My rank among the live nodes of my zone and the zone's size (0: no zone rule).
  void setZoneRole(uint32_t rank, uint32_t size) { zone_.setRole(rank, size); }
  // A bitfield round ended: feeds the zone rule's stall safety net. Returns true
  // when the rule was just lifted for this stalled node (schedule again).
  bool onBitfieldRound();

  // New requests such that at most `max_total` requests are in flight in all and
  // at most `max_per_peer` per peer. The returned requests are counted as in flight.
  std::vector<PieceRequest> nextRequests(uint32_t max_total, uint32_t max_per_peer);

  bool have(uint32_t piece) const { return have_.get(piece); }
  uint32_t haveCount() const { return have_.count(); }
  bool inStripe(uint32_t piece) const { return stripe_[piece]; }
  bool hashKnown(uint32_t piece) const { return hash_known_[piece]; }
  uint32_t inFlight() const { return total_in_flight_; }
  uint32_t inFlight(const std::string& peer) const;
  uint32_t requestsFor(uint32_t piece) const {
    return static_cast<uint32_t>(in_flight_[piece].size());
  }
  uint32_t availability(uint32_t piece) const { return availability_[piece]; }
  bool isPutAside(const std::string& peer) const;
  // True when every piece still needed from peers is already requested.
  bool inEndGame() const;

 private:
  struct PeerState {
    std::string zone;
    Bitfield bits;       // empty (size 0) until the first bitfield arrives
    bool listed = false;
    bool aside = false;
    uint32_t in_flight = 0;
  };

  bool usable(const PeerState& p) const {
    return p.listed && !p.aside && p.bits.size() == piece_count_;
  }
  // Adds (sign=+1) or removes (sign=-1) a peer's bitfield from availability.
  void account(const PeerState& p, int sign);
  bool wanted(uint32_t piece) const {
    return !have_.get(piece) && !stripe_[piece] && hash_known_[piece];
  }
  // Picks a peer for the piece under the per-peer cap, or "" if none qualifies.
  // Sets zone_blocked_ when only the zone rule kept the piece from being asked for.
  std::string choosePeer(uint32_t piece, uint32_t max_per_peer);
  void collectCandidates(bool end_game, std::vector<std::vector<uint32_t>>& buckets) const;
  void addInFlight(uint32_t piece, const std::string& peer);

  uint32_t piece_count_;
  std::string my_zone_;
  std::mt19937_64 rng_;
  Bitfield have_;
  std::vector<bool> stripe_;
  std::vector<bool> hash_known_;
  std::vector<uint16_t> availability_;  // over usable peers
  std::vector<std::vector<std::string>> in_flight_;  // peers asked, per piece
  uint32_t total_in_flight_ = 0;
  ZoneImportPolicy zone_;
  bool zone_blocked_ = false;  // the last nextRequests skipped a piece for the zone rule
  std::map<std::string, PeerState> peers_;  // ordered: replayable with a seed
};

}  // namespace shardcast::agent
