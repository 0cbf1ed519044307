#include "agent/origin_fetcher.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/sha256.h"

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

std::vector<uint64_t> OriginFetcher::partBounds(uint64_t length) const {
  const uint64_t parts =
      std::max<uint64_t>(1, std::min<uint64_t>(concurrency_, length / min_part_bytes_));
  std::vector<uint64_t> bounds(parts + 1);
  for (uint64_t k = 0; k <= parts; ++k) bounds[k] = length * k / parts;
  return bounds;
}

Status OriginFetcher::fetchPart(Active& a, size_t part, uint64_t seed) {
  const PieceRef& piece = manifest_->piece(a.piece);
  const ManifestFile& file = manifest_->files()[piece.file];
  const std::string pin = source_index_ < file.pins.size() ? file.pins[source_index_] : "";
  const uint64_t begin = a.bounds[part];
  const uint64_t length = a.bounds[part + 1] - begin;
  char* const out = a.data.data() + begin;
  uint64_t got = 0;
  RetryPolicy policy(retry_, seed);
  while (true) {
    if (pin.empty() && got > 0) {
      // Nothing proves the rest is the same content: read the part again.
      restarted_bytes_ += got;
      got = 0;
    }
    const uint64_t before = got;
    Status s = store_->readRange(file.path, pin, piece.offset + begin + got, length - got,
                                 [&](const char* bytes, size_t len) -> Status {
                                   if (got + len > length) {
                                     return corruption("origin sent more than the " +
                                                       std::to_string(length) + " bytes asked for");
                                   }
                                   std::memcpy(out + got, bytes, len);
                                   got += len;
                                   return Status::ok();
                                 });
    if (s.isOk() && got != length) {
      s = unavailable("origin returned " + std::to_string(got) + " of " + std::to_string(length) +
                          " bytes of " + file.path,
                      "origin_error");
    }
    if (s.isOk()) return s;
    s = s.withContext("origin pull of piece " + std::to_string(a.piece) + " (" + file.path +
                      (before ? ", resumed at byte " + std::to_string(begin + before) : "") + ")");
    auto delay = policy.nextDelayMs(s, got > before);
    if (!delay) {
      if (RetryPolicy::isRetryable(s)) {
        return s.withContext("gave up after " + std::to_string(policy.attempts()) + " attempts");
      }
      return s;
    }
    ++retries_;
    LOG_WARN("origin pull of piece " << a.piece << " failed (attempt " << policy.attempts() << ", "
                                     << got << " of " << length << " bytes received, part at byte "
                                     << begin << "; retrying in " << *delay
                                     << " ms): " << s.message());
    if (!waitMs(*delay)) return aborted("stopping");
  }
}

Result<FetchedPiece> OriginFetcher::fetchWithRetry(uint32_t index, uint64_t seed) {
  Active a;
  a.piece = index;
  a.data.resize(manifest_->piece(index).length);
  a.bounds = {0, a.data.size()};
  RETURN_IF_ERROR(fetchPart(a, 0, seed));
  FetchedPiece out;
  out.sha256 = sha256Hex(a.data);
  out.data = std::move(a.data);
  return out;
}

bool OriginFetcher::waitMs(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

std::optional<OriginFetcher::Claim> OriginFetcher::claim() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const uint64_t seen = wakeups_;
    const unsigned limit = request_limit_ ? std::min(request_limit_, concurrency_) : concurrency_;
    if (requests_ < limit) {
      for (auto& a : active_) {
        if (a->next_part + 1 < a->bounds.size()) {
          ++requests_;
          return Claim{a, a->next_part++};
        }
      }
      // Every part is taken: start the next piece.
      lock.unlock();
      std::optional<uint32_t> piece = next_();
      std::shared_ptr<Active> a;
      if (piece) {
        a = std::make_shared<Active>();
        a->piece = *piece;
        a->data.resize(manifest_->piece(*piece).length);
        a->bounds = partBounds(a->data.size());
        a->parts_left = a->bounds.size() - 1;
      }
      lock.lock();
      if (a) {
        // Listed even when stopping: stop() hands unfinished pieces back.
        active_.push_back(std::move(a));
        ++wakeups_;
        cv_.notify_all();  // its other parts are free for the other threads
        continue;
      }
    }
    // Re-check after any change, and at least every second as a safety net.
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || wakeups_ != seen; });
  }
  return std::nullopt;
}

void OriginFetcher::partDone(const Claim& c, Status s) {
  std::shared_ptr<Active> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --requests_;
    ++wakeups_;
    cv_.notify_all();
    Active& a = *c.active;
    if (!s.isOk() && a.error.isOk()) {
      a.error = std::move(s);
      // The parts nobody took will not be fetched.
      const size_t untaken = a.bounds.size() - 1 - a.next_part;
      a.next_part = a.bounds.size() - 1;
      a.parts_left -= untaken;
    }
    if (--a.parts_left > 0) return;
    finished = c.active;
    active_.erase(std::find(active_.begin(), active_.end(), finished));
  }
  if (!finished->error.isOk()) return done_(finished->piece, finished->error);
  FetchedPiece out;
  out.sha256 = sha256Hex(finished->data);
  out.data = std::move(finished->data);
  done_(finished->piece, std::move(out));
}

void OriginFetcher::runThread(uint64_t seed) {
  while (std::optional<Claim> c = claim()) {
    Status s = fetchPart(*c->active, c->part, seed++);
    partDone(*c, std::move(s));
  }
}

void OriginFetcher::start(unsigned concurrency, NextPiece next, PieceDone done) {
  next_ = std::move(next);
  done_ = std::move(done);
  concurrency_ = std::max(1u, concurrency);
  for (unsigned i = 0; i < concurrency_; ++i) {
    threads_.emplace_back([this, i] { runThread(0x9e3779b97f4a7c15ull * (i + 1)); });
  }
}

void OriginFetcher::setRequestLimit(unsigned n) {
  std::lock_guard<std::mutex> lock(mu_);
  request_limit_ = n;
  ++wakeups_;
  cv_.notify_all();
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
  // Pieces whose parts were never all taken go back, so the owner's bookkeeping
  // stays true.
  std::vector<std::shared_ptr<Active>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(active_);
  }
  for (auto& a : left) done_(a->piece, aborted("stopping"));
}

}  // namespace shardcast::agent
