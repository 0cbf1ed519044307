// CredentialCache<T>: the credentials an origin signs with, resolved at most once
// per refresh period (rotated Secrets and expiring tokens are picked up). When a
// refresh fails after an earlier success, the last good value stays in use (a
// Secret may be mid-rotation) and the failure is logged without secrets; the
// next refresh tries again. An optional Lifetime lets a value say how long it may
// be used (temporary credentials: until shortly before they expire); refresh_ms is
// then the retry period after a failed refresh.
//
// T needs a `source` string member (where it came from, never a secret).
// Thread-safe: all state is guarded by mu_. The clock is the monotonic one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"

namespace shardcast {

template <typename T>
class CredentialCache {
 public:
  using Resolver = std::function<Result<T>()>;
  // How long (ms from now) a freshly resolved value may be used before it is
  // resolved again; called right after each successful resolve.
  using Lifetime = std::function<int64_t(const T&)>;

  // `owner` names the source in log lines. Without `lifetime` every value is used
  // for refresh_ms.
  CredentialCache(std::shared_ptr<const Clock> clock, int64_t refresh_ms, std::string owner,
                  Resolver resolve, Lifetime lifetime = nullptr)
      : clock_(std::move(clock)),
        refresh_ms_(refresh_ms),
        owner_(std::move(owner)),
        resolve_(std::move(resolve)),
        lifetime_(std::move(lifetime)) {}

  Result<T> get() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = clock_->nowMs();
    if (resolved_ && now < refresh_at_ms_) return cached_;
    auto fresh = resolve_();
    if (!fresh.isOk()) {
      if (!resolved_) return fresh.status();
      LOG_WARN(owner_ << ": cannot refresh credentials, keeping " << cached_.source << ": "
                      << fresh.status().message());
      refresh_at_ms_ = now + refresh_ms_;
      return cached_;
    }
    cached_ = std::move(fresh).value();
    refresh_at_ms_ = now + (lifetime_ ? lifetime_(cached_) : refresh_ms_);
    resolved_ = true;
    return cached_;
  }

  // Where the value in use came from ("" before the first success).
  std::string source() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_.source;
  }

 private:
  const std::shared_ptr<const Clock> clock_;
  const int64_t refresh_ms_;
  const std::string owner_;
  const Resolver resolve_;
  const Lifetime lifetime_;  // may be empty

  mutable std::mutex mu_;
  bool resolved_ = false;     // guarded by mu_
  T cached_;                  // guarded by mu_
  int64_t refresh_at_ms_ = 0;  // guarded by mu_; monotonic
};

}  // namespace shardcast
