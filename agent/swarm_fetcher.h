// SwarmFetcher: the peer half of a rollout worker (DESIGN §4 "Swarm"). It polls
// the bitfields of the peers the controller handed out, asks the PieceScheduler
// what to fetch from whom, keeps up to `max_inflight` piece requests in flight (at
// most `per_peer` per peer) on its own threads, and verifies every piece against
// the ACCEPTED hash (never the peer's hint) before handing it to the owner.
//
// A piece that fails verification puts its peer aside for the rollout, is reported
// through OnBadPeer, and is fetched again elsewhere. The first verified copy of a
// piece wins; an end-game duplicate is dropped.
//
// Owns the scheduler, its threads and the piece buffers in flight (memory is
// bounded by max_inflight pieces). Borrows the PeerClient and the Manifest, which
// must outlive it. Thread-safe; callbacks run on the fetch threads.
// Not responsible for writing pieces (OnVerified does) or for the origin stripe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/peer_client.h"
#include "agent/piece_scheduler.h"
#include "common/api/node.h"
#include "common/manifest.h"
#include "common/status.h"

namespace shardcast::agent {

struct SwarmOptions {
  std::string my_name;
  std::string my_zone;
  uint32_t max_inflight = 16;
  uint32_t per_peer = 1;
  int64_t bitfield_poll_ms = 300;
  uint64_t seed = 1;
  // Also adds bytesFromOtherZones() here (a process-wide counter), if set.
  std::atomic<uint64_t>* other_zones_counter = nullptr;
};

class SwarmFetcher {
 public:
  // Write the verified piece; a non-OK Status is fatal for the rollout on this node.
  using OnVerified = std::function<Status(uint32_t piece, const std::string& data)>;
  using OnBadPeer = std::function<void(const std::string& peer, uint32_t piece,
                                       const std::string& detail)>;
  // A fatal error from OnVerified.
  using OnFatal = std::function<void(const Status& status)>;

  SwarmFetcher(const Manifest* manifest, PeerClient* client, SwarmOptions options,
               OnVerified on_verified, OnBadPeer on_bad_peer, OnFatal on_fatal);
  ~SwarmFetcher();

  void start();
  void stop();

  // Called (on the bitfield thread, no lock held) when a peer holds a piece this
  // node needs whose accepted hash it does not know yet: the owner asks the
  // controller for hashes now instead of at its next poll. Set before start().
  void setOnHashWanted(std::function<void()> f) { on_hash_wanted_ = std::move(f); }

  void setPeers(const std::vector<api::PeerEntry>& peers);
  // My rank in my zone and the zone's size, from the controller (0: no zone rule).
  void setZoneRole(uint32_t rank, uint32_t size);
  // Accepted hashes (a batch, so one scheduling pass covers them all).
  void setAcceptedHashes(const std::vector<api::PieceHash>& hashes);
  void setStripe(const std::vector<uint32_t>& stripe);
  // This node holds the piece (resumed, or pulled from the origin and verified).
  void markHave(uint32_t piece);
  bool have(uint32_t piece) const;
  uint64_t bytesFromPeers() const { return bytes_from_peers_.load(); }
  // Piece bytes received from peers of another zone, verified or not (an end-game
  // duplicate and a piece that failed the hash count too): the cross-zone traffic
  // this node caused, without TCP/HTTP overhead.
  uint64_t bytesFromOtherZones() const { return bytes_other_zones_.load(); }

 private:
  void fetchLoop();
  void bitfieldLoop();
  void handlePiece(const PieceRequest& req, Result<FetchedPiece> result);
  void scheduleLocked();

  const Manifest* manifest_;
  PeerClient* client_;
  const SwarmOptions options_;
  OnVerified on_verified_;
  OnBadPeer on_bad_peer_;
  OnFatal on_fatal_;
  std::function<void()> on_hash_wanted_;

  mutable std::mutex mu_;
  std::condition_variable jobs_cv_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;                      // guarded by mu_
  PieceScheduler scheduler_;                   // guarded by mu_
  std::vector<std::string> accepted_;          // guarded by mu_
  std::map<std::string, std::string> addrs_;   // peer name -> addr; guarded by mu_
  std::map<std::string, std::string> zones_;   // peer name -> zone; guarded by mu_
  std::deque<PieceRequest> jobs_;              // guarded by mu_
  std::atomic<uint64_t> bytes_from_peers_{0};
  std::atomic<uint64_t> bytes_other_zones_{0};
  std::vector<std::thread> threads_;
};

}  // namespace shardcast::agent
