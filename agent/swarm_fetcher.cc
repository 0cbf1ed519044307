#include "agent/swarm_fetcher.h"

#include "common/log.h"

namespace shardcast::agent {

SwarmFetcher::SwarmFetcher(const Manifest* manifest, PeerClient* client, SwarmOptions options,
                           OnVerified on_verified, OnBadPeer on_bad_peer, OnFatal on_fatal)
    : manifest_(manifest),
      client_(client),
      options_(std::move(options)),
      on_verified_(std::move(on_verified)),
      on_bad_peer_(std::move(on_bad_peer)),
      on_fatal_(std::move(on_fatal)),
      scheduler_(manifest->pieceCount(), options_.seed, options_.my_zone),
      accepted_(manifest->pieceCount()) {}

SwarmFetcher::~SwarmFetcher() { stop(); }

void SwarmFetcher::start() {
  for (uint32_t i = 0; i < std::max(1u, options_.max_inflight); ++i) {
    threads_.emplace_back([this] { fetchLoop(); });
  }
  threads_.emplace_back([this] { bitfieldLoop(); });
}

void SwarmFetcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    jobs_cv_.notify_all();
    poll_cv_.notify_all();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void SwarmFetcher::setPeers(const std::vector<api::PeerEntry>& peers) {
  std::vector<SchedulerPeer> listed;
  std::lock_guard<std::mutex> lock(mu_);
  addrs_.clear();
  for (const auto& p : peers) {
    if (p.name == options_.my_name || p.addr.empty()) continue;
    addrs_[p.name] = p.addr;
    zones_[p.name] = p.zone;  // kept after a peer leaves the list: its requests may finish later
    listed.push_back(SchedulerPeer{p.name, p.zone});
  }
  scheduler_.setPeers(listed);
  scheduleLocked();
}

void SwarmFetcher::setZoneRole(uint32_t rank, uint32_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  scheduler_.setZoneRole(rank, size);
  scheduleLocked();
}

void SwarmFetcher::setAcceptedHashes(const std::vector<api::PieceHash>& hashes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& h : hashes) {
    if (h.piece >= accepted_.size() || !accepted_[h.piece].empty()) continue;
    accepted_[h.piece] = h.sha256;
    scheduler_.onHashKnown(h.piece);
  }
  scheduleLocked();
}

void SwarmFetcher::setStripe(const std::vector<uint32_t>& stripe) {
  std::lock_guard<std::mutex> lock(mu_);
  scheduler_.setStripe(stripe);
  scheduleLocked();
}

void SwarmFetcher::markHave(uint32_t piece) {
  std::lock_guard<std::mutex> lock(mu_);
  scheduler_.onPieceVerified(piece);
}

bool SwarmFetcher::have(uint32_t piece) const {
  std::lock_guard<std::mutex> lock(mu_);
  return scheduler_.have(piece);
}

void SwarmFetcher::scheduleLocked() {
  if (stopping_) return;
  auto reqs = scheduler_.nextRequests(options_.max_inflight, options_.per_peer);
  if (reqs.empty()) return;
  for (auto& r : reqs) jobs_.push_back(std::move(r));
  jobs_cv_.notify_all();
}

void SwarmFetcher::fetchLoop() {
  while (true) {
    PieceRequest req;
    std::string addr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      jobs_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      req = std::move(jobs_.front());
      jobs_.pop_front();
      auto it = addrs_.find(req.peer);
      if (it == addrs_.end()) {
        scheduler_.onRequestDone(req.piece, req.peer, false);
        scheduleLocked();
        continue;
      }
      addr = it->second;
    }
    const uint64_t length = manifest_->piece(req.piece).length;
    handlePiece(req, client_->fetchPiece(addr, manifest_->model(), req.piece, length));
  }
}

void SwarmFetcher::handlePiece(const PieceRequest& req, Result<FetchedPiece> result) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!result.isOk()) {
    const Status& s = result.status();
    LOG_DEBUG("piece " << req.piece << " from peer " << req.peer << ": " << s.toString());
    scheduler_.onRequestDone(req.piece, req.peer, false);
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
      scheduler_.onPeerUnreachable(req.peer);
    }
    scheduleLocked();
    return;
  }
  auto zone = zones_.find(req.peer);
  if (zone != zones_.end() && zone->second != options_.my_zone) {
    bytes_other_zones_ += result->data.size();
    if (options_.other_zones_counter) *options_.other_zones_counter += result->data.size();
  }
  if (result->sha256 != accepted_[req.piece]) {
    std::string detail = "sha256 " + result->sha256 + " != accepted " + accepted_[req.piece];
    scheduler_.putAside(req.peer);
    scheduler_.onRequestDone(req.piece, req.peer, false);
    scheduleLocked();
    lock.unlock();
    LOG_WARN("piece " << req.piece << " from peer " << req.peer
                      << " failed verification; putting the peer aside (" << detail << ")");
    on_bad_peer_(req.peer, req.piece, detail);
    return;
  }
  if (scheduler_.have(req.piece)) {
    // An end-game duplicate (or a piece that also arrived from the origin).
    scheduler_.onRequestDone(req.piece, req.peer, true);
    scheduleLocked();
    return;
  }
  scheduler_.onPieceVerified(req.piece);  // claim it so duplicates are dropped
  lock.unlock();
  Status s = on_verified_(req.piece, result->data);
  lock.lock();
  scheduler_.onRequestDone(req.piece, req.peer, s.isOk());
  if (s.isOk()) {
    bytes_from_peers_ += result->data.size();
    scheduleLocked();
    return;
  }
  lock.unlock();
  on_fatal_(s);
}

void SwarmFetcher::bitfieldLoop() {
  while (true) {
    std::map<std::string, std::string> addrs;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
      for (const auto& [name, addr] : addrs_) {
        if (!scheduler_.isPutAside(name)) addrs[name] = addr;
      }
    }
    bool hash_wanted = false;
    for (const auto& [name, addr] : addrs) {
      auto bits = client_->fetchBitfield(addr, manifest_->model(), manifest_->pieceCount());
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (bits.isOk()) {
        // Peers only advertise pieces whose hash the controller accepted.
        for (uint32_t p = 0; !hash_wanted && p < bits->size(); ++p) {
          hash_wanted = bits->get(p) && accepted_[p].empty() && !scheduler_.have(p);
        }
        scheduler_.onPeerBitfield(name, *bits);
      } else {
        LOG_DEBUG("bitfield of peer " << name << ": " << bits.status().toString());
        scheduler_.onPeerUnreachable(name);
      }
    }
    if (hash_wanted && on_hash_wanted_) on_hash_wanted_();
    std::unique_lock<std::mutex> lock(mu_);
    scheduleLocked();
    if (scheduler_.onBitfieldRound()) {
      LOG_WARN("no piece arrived in zone " << options_.my_zone << " for "
                                           << ZoneImportPolicy::kStallRounds
                                           << " bitfield rounds: fetching across zones until one is in flight");
      scheduleLocked();
    }
    poll_cv_.wait_for(lock, std::chrono::milliseconds(options_.bitfield_poll_ms),
                      [&] { return stopping_; });
  }
}

}  // namespace shardcast::agent
