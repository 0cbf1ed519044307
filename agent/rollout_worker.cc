#include "agent/rollout_worker.h"

#include <algorithm>
#include <chrono>

#include "agent/accepted_hashes.h"
#include "agent/backoff.h"
#include "common/log.h"
#include "common/sha256.h"

namespace shardcast::agent {
namespace {

using Clock = std::chrono::steady_clock;

bool stopsWorker(const std::string& rollout_state) {
  return rollout_state == api::kRolloutFailed || rollout_state == api::kRolloutCancelled;
}

Status withReason(const Status& s, const std::string& reason) {
  return Status(s.code(), s.message(), reason);
}

}  // namespace

const char* phaseName(RolloutWorker::Phase phase) {
  switch (phase) {
    case RolloutWorker::Phase::kStarting: return "starting";
    case RolloutWorker::Phase::kFetching: return "fetching";
    case RolloutWorker::Phase::kReady: return "ready";
    case RolloutWorker::Phase::kFailed: return "failed";
    case RolloutWorker::Phase::kStopped: return "stopped";
  }
  return "unknown";
}

RolloutWorker::RolloutWorker(std::string rollout_id, WorkerOptions options, WorkerDeps deps)
    : rollout_id_(std::move(rollout_id)), options_(std::move(options)), deps_(deps) {}

RolloutWorker::~RolloutWorker() { stop(); }

void RolloutWorker::start() {
  control_ = std::thread([this] { run(); });
}

void RolloutWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> join_lock(join_mu_);  // stop() may race with itself
  if (control_.joinable()) control_.join();
}

ModelRef RolloutWorker::model() const {
  std::lock_guard<std::mutex> lock(mu_);
  return model_;
}

std::string RolloutWorker::manifestDigest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return manifest_digest_;
}

Status RolloutWorker::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

uint64_t RolloutWorker::bytesDone() const {
  std::shared_ptr<VersionStore> vs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    vs = store_view_;
  }
  return vs ? vs->bytesDone() : 0;
}

uint64_t RolloutWorker::totalBytes() const {
  std::shared_ptr<VersionStore> vs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    vs = store_view_;
  }
  return vs ? vs->manifest().totalBytes() : 0;
}

bool RolloutWorker::waitMs(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

void RolloutWorker::fatal(const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fatal_.isOk()) fatal_ = status;
  cv_.notify_all();
}

void RolloutWorker::run() {
  if (!loadRollout()) {
    if (phase_ == Phase::kStarting) phase_ = Phase::kStopped;
    finished_ = true;
    return;
  }
  auto vs = openStore();
  if (!vs.isOk()) {
    if (vs.status().code() == StatusCode::kAborted) {  // stopping
      phase_ = Phase::kStopped;
      finished_ = true;
      return;
    }
    failNode(vs.status().withContext("cannot open local copy of " + manifest_.model().toString()));
    finished_ = true;
    return;
  }
  store_ = std::move(vs).value();
  {
    std::lock_guard<std::mutex> lock(mu_);
    store_view_ = store_;
  }
  if (store_->published()) {
    LOG_INFO("rollout " << rollout_id_ << ": " << manifest_.model().toString()
                        << " is already published here");
    phase_ = Phase::kReady;
    reportUntilAccepted(api::kNodeReady);
  } else {
    fetchLoop();
  }
  finished_ = true;
}

Result<std::shared_ptr<VersionStore>> RolloutWorker::openStore() {
  // Another rollout of the same version with another manifest (other pins) may be
  // filling it right now: wait for it rather than fail.
  Backoff backoff(200, 5000, options_.seed + 2);
  while (true) {
    auto vs = deps_.content->openVersion(manifest_);
    if (vs.isOk() || vs.status().code() != StatusCode::kFailedPrecondition) return vs;
    LOG_INFO("rollout " << rollout_id_ << ": " << vs.status().message());
    if (!waitMs(backoff.nextDelayMs())) return aborted("stopping");
  }
}

bool RolloutWorker::loadRollout() {
  Backoff backoff(200, 5000, options_.seed);
  while (true) {
    auto r = deps_.controller->rollout(rollout_id_);
    if (r.isOk() && stopsWorker(r->state)) {
      LOG_INFO("rollout " << rollout_id_ << " is " << r->state << "; nothing to do");
      return false;
    }
    if (r.isOk()) {
      auto m = deps_.controller->manifest(r->model);
      if (m.isOk()) {
        rollout_ = std::move(r).value();
        manifest_ = std::move(m).value();
        std::lock_guard<std::mutex> lock(mu_);
        model_ = manifest_.model();
        manifest_digest_ = manifest_.digest();
        return true;
      }
      LOG_WARN("rollout " << rollout_id_ << ": manifest: " << m.status().toString());
    } else if (r.status().code() == StatusCode::kNotFound) {
      LOG_WARN("rollout " << rollout_id_ << " not found on the controller");
      return false;
    } else {
      LOG_WARN("rollout " << rollout_id_ << ": " << r.status().toString());
    }
    if (!waitMs(backoff.nextDelayMs())) return false;
  }
}

void RolloutWorker::startFetchers() {
  const uint32_t n = manifest_.pieceCount();
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepted_.assign(n, "");
    origin_state_.assign(n, OriginState::kIdle);
  }
  SwarmOptions so{options_.node, options_.zone, options_.max_inflight, options_.peer_requests,
                  options_.bitfield_poll_ms, options_.seed,
                  deps_.counters ? &deps_.counters->peer_bytes_other_zones : nullptr};
  swarm_ = std::make_unique<SwarmFetcher>(
      &manifest_, deps_.peer_client, so,
      [this](uint32_t p, const std::string& data) {
        Status s = commitPiece(p, data);
        if (s.isOk() && deps_.counters) deps_.counters->peer_bytes += data.size();
        return s;
      },
      [this](const std::string& peer, uint32_t p, const std::string& detail) {
        std::lock_guard<std::mutex> lock(mu_);
        pending_bad_.push_back(api::BadPeerReport{peer, p, detail});
        report_now_ = true;
        cv_.notify_all();
      },
      [this](const Status& s) { fatal(s); });
  Bitfield bits = store_->bits();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint32_t i = 0; i < n; ++i) {
      if (!bits.get(i)) continue;
      swarm_->markHave(i);
      origin_state_[i] = OriginState::kDone;
    }
  }
  swarm_->setOnHashWanted([this] {
    std::lock_guard<std::mutex> lock(mu_);
    poll_now_ = true;
    cv_.notify_all();
  });
  swarm_->start();
  digester_ = std::make_unique<FileDigester>(manifest_);
  flusher_ = std::thread([this] { flushLoop(); });
  phase_ = Phase::kFetching;
  LOG_INFO("rollout " << rollout_id_ << ": fetching " << manifest_.model().toString() << " ("
                      << n << " pieces, " << manifest_.totalBytes() << " bytes; "
                      << bits.count() << " pieces resumed)");
}

RolloutWorker::LoopState RolloutWorker::loopState(Status& failure) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return LoopState::kStop;
    if (terminal_) {
      LOG_INFO("rollout " << rollout_id_ << " ended on the controller; stopping");
      return LoopState::kStop;
    }
    failure = fatal_;
  }
  if (!failure.isOk()) return LoopState::kFail;
  return store_->complete() ? LoopState::kComplete : LoopState::kRun;
}

void RolloutWorker::talkToController(Deadlines& d) {
  auto now = Clock::now();
  bool poll_now, report_now, had_hashes;
  int64_t paced;
  {
    std::lock_guard<std::mutex> lock(mu_);
    paced = paced_ms_;
    // While backing off after a failure, news waits for the scheduled retry.
    bool backing_off = now < d.retry;
    bool early_poll = poll_now_ && !backing_off;
    if (early_poll && now < d.last_poll + std::chrono::milliseconds(paced / 4)) {
      // Paced by the controller: the early poll waits for its gap.
      d.poll = std::min(d.poll, d.last_poll + std::chrono::milliseconds(paced / 4));
      early_poll = false;
    }
    poll_now = early_poll || now >= d.poll;
    report_now = (report_now_ && !backing_off) || now >= d.report;
    poll_now_ = report_now_ = false;
    had_hashes = !pending_hashes_.empty();
  }
  bool ok = true;
  if (report_now) {
    // Ask for accepted hashes right after reporting ours: held pieces wait on them.
    ok = sendReport(api::kNodeFetching);
    if (ok && had_hashes) poll_now = true;
    d.report = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(options_.report_ms, paced));
  }
  if (poll_now && ok) {
    ok = pollPeers();
    d.last_poll = Clock::now();
    d.poll = d.last_poll + std::chrono::milliseconds(std::max<int64_t>(options_.peers_poll_ms, paced));
  }
  if (!ok) {
    d.retry = Clock::now() + std::chrono::milliseconds(controller_backoff_.nextDelayMs());
    d.report = std::max(d.report, d.retry);
    d.poll = std::max(d.poll, d.retry);
  } else if (report_now || poll_now) {
    controller_backoff_.reset();
  }
  if (Clock::now() >= d.log) {
    LOG_INFO("rollout " << rollout_id_ << ": " << store_->bitCount() << "/"
                        << manifest_.pieceCount() << " pieces");
    d.log = Clock::now() + std::chrono::seconds(10);
  }
}

Status RolloutWorker::verifyResumed() {
  const uint32_t n = manifest_.pieceCount();
  AcceptedHashes accepted;
  Backoff backoff(200, 5000, options_.seed + 3);
  while (true) {
    auto r = fetchAcceptedHashes(*deps_.controller, rollout_id_, options_.node, n);
    if (r.isOk()) {
      accepted = std::move(r).value();
      break;
    }
    LOG_WARN("rollout " << rollout_id_ << ": resume check: " << r.status().toString());
    if (!waitMs(backoff.nextDelayMs())) return aborted("stopping");
  }
  if (stopsWorker(accepted.rollout_state)) return aborted("rollout ended");
  Bitfield bits = store_->bits();
  std::vector<uint32_t> held;
  for (uint32_t i = 0; i < n; ++i) {
    if (bits.get(i)) held.push_back(i);
  }
  PieceCheck check = checkPieces(*store_, accepted.sha256, held);
  std::vector<uint32_t> drop = check.bad;  // and those with no accepted hash yet
  drop.insert(drop.end(), check.unknown.begin(), check.unknown.end());
  RETURN_IF_ERROR(store_->dropPieces(drop));
  const size_t kept = check.good.size();
  if (deps_.counters) {
    deps_.counters->pieces_resumed += kept;
    deps_.counters->pieces_dropped_on_resume += drop.size();
  }
  LOG_INFO("rollout " << rollout_id_ << ": resume check: " << kept
                      << " pieces kept (re-hashed against the accepted hashes), " << drop.size()
                      << " dropped");
  return Status::ok();
}

void RolloutWorker::fetchLoop() {
  if (store_->resumed() && store_->bitCount() > 0) {
    Status s = verifyResumed();
    if (s.code() == StatusCode::kAborted) {
      phase_ = Phase::kStopped;
      return;
    }
    if (!s.isOk()) return failNode(s);
  }
  startFetchers();
  sendReport(api::kNodeFetching);
  Deadlines d{Clock::now(), Clock::now() + std::chrono::milliseconds(options_.report_ms),
              Clock::now() + std::chrono::seconds(10), Clock::now()};
  while (true) {
    Status failure;
    switch (loopState(failure)) {
      case LoopState::kStop:
        phase_ = Phase::kStopped;
        return teardown();
      case LoopState::kFail:
        teardown();
        return failNode(failure);
      case LoopState::kComplete:
        return finish();
      case LoopState::kRun:
        break;
    }
    talkToController(d);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, std::min(d.poll, d.report), [&] {
      return stopping_ || terminal_ || !fatal_.isOk() || report_now_ || poll_now_ ||
             store_->complete();
    });
  }
}

void RolloutWorker::teardown() {
  if (origin_) origin_->stop();
  if (swarm_) swarm_->stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    flush_stop_ = true;
    flush_cv_.notify_all();
  }
  if (flusher_.joinable()) flusher_.join();
  // Keep every verified piece across a restart.
  if (store_ && !store_->published()) {
    auto r = store_->flush();
    if (!r.isOk()) LOG_WARN("rollout " << rollout_id_ << ": final flush: " << r.status().toString());
  }
}

void RolloutWorker::finish() {
  teardown();
  const auto& files = manifest_.files();
  for (uint32_t fi = 0; fi < files.size(); ++fi) {
    if (files[fi].sha256.empty()) continue;
    auto h = digester_ ? digester_->digest(*store_, fi) : store_->fileSha256(fi);
    // A piece hashed early could have been dropped and written again since: the
    // file on disk is what counts.
    if (h.isOk() && *h != files[fi].sha256 && digester_) h = store_->fileSha256(fi);
    if (!h.isOk()) return failNode(h.status());
    if (*h != files[fi].sha256) {
      return failNode(corruption("file '" + files[fi].path + "' has sha256 " + *h +
                                     " but the publisher says " + files[fi].sha256,
                                 "corrupt_source"));
    }
  }
  Status s = store_->publish();
  if (!s.isOk()) return failNode(s.withContext("publish " + manifest_.model().toString()));
  phase_ = Phase::kReady;
  LOG_INFO("rollout " << rollout_id_ << ": published " << manifest_.model().toString() << " ("
                      << bytes_from_origin_.load() << " bytes from the origin, "
                      << (swarm_ ? swarm_->bytesFromPeers() : 0) << " from peers, "
                      << (swarm_ ? swarm_->bytesFromOtherZones() : 0)
                      << " received from other zones)");
  reportUntilAccepted(api::kNodeReady);
}

void RolloutWorker::failNode(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = status;
  }
  if (deps_.counters && status.reason() == "no_space") ++deps_.counters->no_space_failures;
  phase_ = Phase::kFailed;
  LOG_ERROR("rollout " << rollout_id_ << " failed on this node (" << status.reason()
                       << "): " << status.message());
  reportUntilAccepted(api::kNodeFailed, status);
}

bool RolloutWorker::sendReport(const std::string& state, const Status& failure) {
  api::PieceReport rep;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rep.hashes.swap(pending_hashes_);
    rep.bad_peers.swap(pending_bad_);
  }
  rep.node = options_.node;
  rep.incarnation = options_.incarnation;
  rep.state = state;
  if (store_) {
    rep.pieces_done = store_->bitCount();
    rep.bytes_done = store_->bytesDone();
  }
  rep.bytes_from_origin = bytes_from_origin_.load();
  rep.bytes_from_peers = swarm_ ? swarm_->bytesFromPeers() : 0;
  if (!failure.isOk()) {
    rep.reason = failure.reason();
    rep.message = failure.message();
  }
  auto r = deps_.controller->reportPieces(rollout_id_, rep);
  if (!r.isOk()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!controller_lost_) {
      LOG_WARN("rollout " << rollout_id_ << ": cannot report to the controller ("
                          << r.status().toString()
                          << "); transfers go on and reports are retried");
    }
    controller_lost_ = true;
    pending_hashes_.insert(pending_hashes_.begin(), rep.hashes.begin(), rep.hashes.end());
    pending_bad_.insert(pending_bad_.begin(), rep.bad_peers.begin(), rep.bad_peers.end());
    return false;
  }
  reReportAfterOutage();
  if (!r->conflicting.empty()) {
    LOG_ERROR("rollout " << rollout_id_ << ": the controller holds different hashes for "
                         << r->conflicting.size() << " pieces this node pulled from the origin "
                         << "(first: piece " << r->conflicting.front() << "); the origin changed");
  }
  if (stopsWorker(r->rollout_state)) {
    std::lock_guard<std::mutex> lock(mu_);
    terminal_ = true;
    cv_.notify_all();
  }
  return true;
}

void RolloutWorker::reReportAfterOutage() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!controller_lost_) return;
  controller_lost_ = false;
  // The controller may have restarted: its node rows are gone and it may not
  // have seen hashes we reported just before. Tell it everything again.
  std::set<uint32_t> queued;
  for (const auto& h : pending_hashes_) queued.insert(h.piece);
  size_t added = 0;
  for (const auto& [piece, sha] : origin_hashes_) {
    if (queued.count(piece)) continue;
    pending_hashes_.push_back(api::PieceHash{piece, sha});
    ++added;
  }
  LOG_INFO("rollout " << rollout_id_ << ": the controller is reachable again; re-reporting "
                      << "progress and " << added << " hashes of pieces pulled from the origin");
  report_now_ = poll_now_ = true;
  cv_.notify_all();
}

void RolloutWorker::reportUntilAccepted(const std::string& state, const Status& failure) {
  Backoff backoff(200, 5000, options_.seed + 1);
  while (!sendReport(state, failure)) {
    if (!waitMs(backoff.nextDelayMs())) return;
  }
}

bool RolloutWorker::pollPeers() {
  uint64_t cursor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cursor = hash_cursor_;
  }
  auto r = deps_.controller->peers(rollout_id_, options_.node, cursor);
  if (!r.isOk()) {
    LOG_DEBUG("rollout " << rollout_id_ << ": peers: " << r.status().toString());
    return false;
  }
  if (stopsWorker(r->rollout_state)) {
    std::lock_guard<std::mutex> lock(mu_);
    terminal_ = true;
    return true;
  }
  const uint32_t n = manifest_.pieceCount();
  std::vector<api::PieceHash> fresh;
  std::vector<std::pair<uint32_t, FetchedPiece>> commits;
  uint32_t share = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hash_cursor_ = r->hash_cursor;
    for (const auto& h : r->hashes) {
      if (h.piece >= n || !isSha256Hex(h.sha256) || !accepted_[h.piece].empty()) continue;
      accepted_[h.piece] = h.sha256;
      fresh.push_back(h);
      auto held = held_.find(h.piece);
      if (held == held_.end()) continue;
      if (held->second.sha256 == h.sha256) {
        commits.emplace_back(h.piece, std::move(held->second));
      } else {
        LOG_ERROR("piece " << h.piece << " pulled from the origin has sha256 "
                           << held->second.sha256 << " but the accepted hash is " << h.sha256);
        origin_state_[h.piece] = OriginState::kDone;  // never pulled again; the rollout fails
      }
      held_.erase(held);
    }
    stripe_.clear();
    for (uint32_t p : r->stripe) {
      if (p < n) stripe_.push_back(p);
    }
    std::sort(stripe_.begin(), stripe_.end());
    source_index_ = r->source_index;
    origin_share_ = r->origin_concurrency;
    share = origin_share_;
    // A controller's pacing, bounded so a bad value cannot silence this agent.
    paced_ms_ = std::min<int64_t>(r->poll_interval_ms, 60000);
  }
  for (const auto& h : fresh) store_->setHashHint(h.piece, h.sha256);
  swarm_->setAcceptedHashes(fresh);
  swarm_->setStripe(r->stripe);
  swarm_->setZoneRole(r->zone_rank, r->zone_size);
  swarm_->setPeers(r->peers);
  for (auto& [piece, fp] : commits) {
    Status s = commitPiece(piece, fp.data);
    if (!s.isOk()) fatal(s);
  }
  ensureOrigin();
  if (origin_) {
    // The region's origin budget: at most min(own flag, controller's share) requests.
    origin_->setRequestLimit(share);
    origin_->wake();
  }
  return true;
}

void RolloutWorker::ensureOrigin() {
  uint32_t source_index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (origin_ || stripe_.empty()) return;
    source_index = source_index_;
  }
  if (source_index >= rollout_.sources.size()) {
    return fatal(Status(StatusCode::kInvalidArgument,
                        "source_index " + std::to_string(source_index) + " out of range",
                        "origin_error"));
  }
  OriginIdentity id{options_.node, options_.region, rollout_id_};
  auto f = OriginFetcher::open(*deps_.registry, rollout_.sources[source_index],
                               options_.origin_options, id, &manifest_, source_index);
  if (!f.isOk()) return fatal(withReason(f.status(), "origin_error"));
  origin_ = std::move(f).value();
  origin_->start(
      options_.origin_concurrency, [this] { return nextOriginPiece(); },
      [this](uint32_t p, Result<FetchedPiece> r) { originDone(p, std::move(r)); });
}

std::optional<uint32_t> RolloutWorker::nextOriginPiece() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || terminal_ || !fatal_.isOk()) return std::nullopt;
  // Origin piece buffers (being pulled or held) stay within 2 x concurrency.
  if (held_.size() + pulling_ >= 2 * std::max(1u, options_.origin_concurrency)) return std::nullopt;
  for (uint32_t p : stripe_) {
    if (origin_state_[p] != OriginState::kIdle || swarm_->have(p)) continue;
    origin_state_[p] = OriginState::kPulling;
    ++pulling_;
    return p;
  }
  return std::nullopt;
}

void RolloutWorker::originDone(uint32_t piece, Result<FetchedPiece> result) {
  if (!result.isOk()) {
    const Status& s = result.status();
    {
      std::lock_guard<std::mutex> lock(mu_);
      origin_state_[piece] = OriginState::kIdle;
      --pulling_;
      if (s.code() == StatusCode::kAborted) return;  // stopping
    }
    fatal(withReason(s, s.reason() == "object_changed" ? "origin_changed" : "origin_error"));
    return;
  }
  bytes_from_origin_ += result->data.size();
  if (deps_.counters) deps_.counters->origin_bytes += result->data.size();
  std::unique_lock<std::mutex> lock(mu_);
  --pulling_;
  pending_hashes_.push_back(api::PieceHash{piece, result->sha256});
  origin_hashes_[piece] = result->sha256;
  report_now_ = true;
  cv_.notify_all();
  const std::string accepted = accepted_[piece];
  if (accepted.empty()) {
    // Held: neither written nor served until the controller accepts a hash for it.
    origin_state_[piece] = OriginState::kHeld;
    held_[piece] = std::move(result).value();
    return;
  }
  if (accepted != result->sha256) {
    LOG_ERROR("piece " << piece << " pulled from the origin has sha256 " << result->sha256
                       << " but the accepted hash is " << accepted);
    origin_state_[piece] = OriginState::kDone;
    return;
  }
  lock.unlock();
  Status s = commitPiece(piece, result->data);
  if (!s.isOk()) fatal(s);
}

Status RolloutWorker::commitPiece(uint32_t piece, const std::string& data) {
  // A second rollout of the same version shares the store and may have published it.
  if (store_->published()) return Status::ok();
  Status written = store_->writePiece(piece, data.data(), data.size());
  if (!written.isOk()) return store_->published() ? Status::ok() : written;
  store_->markVerified(piece);
  swarm_->markHave(piece);
  std::lock_guard<std::mutex> lock(mu_);
  origin_state_[piece] = OriginState::kDone;
  flush_wanted_ = true;
  flush_cv_.notify_all();
  return Status::ok();
}

void RolloutWorker::flushLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      flush_cv_.wait(lock, [&] { return flush_stop_ || flush_wanted_; });
      if (flush_stop_) return;
      flush_wanted_ = false;
    }
    auto r = store_->flush();
    if (!r.isOk()) {
      fatal(r.status());
      return;
    }
    // Hash the files' verified prefixes now, not all at once before publishing.
    auto hashed = digester_->advance(*store_);
    if (!hashed.isOk()) LOG_WARN("rollout " << rollout_id_ << ": " << hashed.status().toString());
    std::unique_lock<std::mutex> lock(mu_);
    cv_.notify_all();  // the control thread checks for completion
    // Let a few more pieces gather before the next round of syncs.
    flush_cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return flush_stop_; });
  }
}

}  // namespace shardcast::agent
