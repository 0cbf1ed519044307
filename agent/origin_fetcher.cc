#include "agent/origin_fetcher.h"

#include "common/log.h"

namespace shardcast::agent {

std::string OriginFetcher::userAgent(const OriginIdentity& id) {
  return std::string("shardcast-agent/") + SHARDCAST_VERSION + " (node=" + id.node +
         "; region=" + id.region + "; rollout=" + id.rollout_id + ")";
}

Result<std::unique_ptr<OriginFetcher>> OriginFetcher::open(const ObjectStoreRegistry& registry,
                                                           const SourceSpec& source,
                                                           ObjectStoreOptions options,
                                                           const OriginIdentity& id,
                                                           const Manifest* manifest,
                                                           uint32_t source_index) {
  options.user_agent = userAgent(id);
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, registry.open(source, options));
  return std::unique_ptr<OriginFetcher>(new OriginFetcher(std::move(store), manifest, source_index));
}

OriginFetcher::~OriginFetcher() { stop(); }

Status OriginFetcher::readRest(uint32_t index, Partial& partial) {
  const PieceRef& piece = manifest_->piece(index);
  const ManifestFile& file = manifest_->files()[piece.file];
  std::string pin = source_index_ < file.pins.size() ? file.pins[source_index_] : "";
  std::string& data = partial.piece.data;
  if (pin.empty() && !data.empty()) {
    // Nothing proves the rest is the same content: start the piece over.
    restarted_bytes_ += data.size();
    data.clear();
    partial.hasher = Sha256();
  }
  if (data.capacity() < piece.length) data.reserve(piece.length);
  const uint64_t have = data.size();
  Status s = store_->readRange(file.path, pin, piece.offset + have, piece.length - have,
                               [&](const char* bytes, size_t len) -> Status {
                                 if (data.size() + len > piece.length) {
                                   return corruption("origin sent more than the " +
                                                     std::to_string(piece.length) + " bytes asked for");
                                 }
                                 data.append(bytes, len);
                                 partial.hasher.update(bytes, len);
                                 return Status::ok();
                               });
  if (!s.isOk()) {
    return s.withContext("origin pull of piece " + std::to_string(index) + " (" + file.path +
                         (have ? ", resumed at byte " + std::to_string(have) : "") + ")");
  }
  if (data.size() != piece.length) {
    return unavailable("origin returned " + std::to_string(data.size()) + " of " +
                           std::to_string(piece.length) + " bytes of " + file.path,
                       "origin_error");
  }
  return Status::ok();
}

Result<FetchedPiece> OriginFetcher::fetchPiece(uint32_t index) {
  Partial partial;
  RETURN_IF_ERROR(readRest(index, partial));
  partial.piece.sha256 = partial.hasher.finishHex();
  return std::move(partial.piece);
}

bool OriginFetcher::waitMs(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

Result<FetchedPiece> OriginFetcher::fetchWithRetry(uint32_t index, uint64_t seed) {
  RetryPolicy policy(retry_, seed);
  Partial partial;
  while (true) {
    const size_t before = partial.piece.data.size();
    Status s = readRest(index, partial);
    if (s.isOk()) {
      partial.piece.sha256 = partial.hasher.finishHex();
      return std::move(partial.piece);
    }
    const bool progress = partial.piece.data.size() > before;
    auto delay = policy.nextDelayMs(s, progress);
    if (!delay) {
      if (RetryPolicy::isRetryable(s)) {
        return s.withContext("gave up after " + std::to_string(policy.attempts()) + " attempts");
      }
      return s;
    }
    ++retries_;
    LOG_WARN("origin pull of piece " << index << " failed (attempt " << policy.attempts()
                                     << ", " << partial.piece.data.size() << " of "
                                     << manifest_->piece(index).length
                                     << " bytes received; retrying in " << *delay
                                     << " ms): " << s.message());
    if (!waitMs(*delay)) return aborted("stopping");
  }
}

void OriginFetcher::runThread(uint64_t seed) {
  while (true) {
    std::optional<uint32_t> piece;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stopping_) {
        uint64_t seen = wakeups_;
        lock.unlock();
        piece = next_();
        lock.lock();
        if (piece || stopping_) break;
        // Re-ask after a wake-up, and at least every second as a safety net.
        cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || wakeups_ != seen; });
      }
      if (stopping_) {
        lock.unlock();
        // A claimed piece must be handed back so the owner's bookkeeping stays true.
        if (piece) done_(*piece, aborted("stopping"));
        return;
      }
    }
    done_(*piece, fetchWithRetry(*piece, seed++));
  }
}

void OriginFetcher::start(unsigned concurrency, NextPiece next, PieceDone done) {
  next_ = std::move(next);
  done_ = std::move(done);
  for (unsigned i = 0; i < std::max(1u, concurrency); ++i) {
    threads_.emplace_back([this, i] { runThread(0x9e3779b97f4a7c15ull * (i + 1)); });
  }
}

void OriginFetcher::wake() {
  std::lock_guard<std::mutex> lock(mu_);
  ++wakeups_;
  cv_.notify_all();
}

void OriginFetcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace shardcast::agent
