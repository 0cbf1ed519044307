#include "common/objstore/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace shardcast {

bool RetryPolicy::isRetryable(const Status& s) {
  if (s.isOk() || s.reason() == "object_changed") return false;
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

std::optional<int64_t> RetryPolicy::nextDelayMs(const Status& failure, bool progress) {
  ++attempts_;
  no_progress_ = progress ? 0 : no_progress_ + 1;
  if (!isRetryable(failure)) return std::nullopt;
  if (attempts_ >= options_.max_total_attempts) return std::nullopt;
  if (no_progress_ >= options_.max_attempts) return std::nullopt;
  // Exponent: 0 after progress, else failures in a row - 1; ceiling before shifting.
  int exponent = std::max(0, no_progress_ - 1);
  int64_t ceiling = std::max<int64_t>(0, options_.initial_backoff_ms);
  for (int i = 0; i < exponent && ceiling < options_.max_backoff_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, options_.max_backoff_ms);
  int64_t delay = ceiling > 0 ? std::uniform_int_distribution<int64_t>(0, ceiling)(rng_) : 0;
  if (auto floor = failure.retryAfterMs()) {
    delay = std::max(delay, std::min(*floor, options_.max_retry_after_ms));
  }
  return delay;
}

namespace {

std::string trim(const std::string& v) {
  size_t a = v.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  size_t b = v.find_last_not_of(" \t\r\n");
  return v.substr(a, b - a + 1);
}

// strptime with the C locale's names; true when the whole input was consumed.
bool parseDate(const std::string& v, const char* format, std::tm& tm) {
  tm = std::tm{};
  const char* end = ::strptime(v.c_str(), format, &tm);
  return end != nullptr && *end == '\0';
}

}  // namespace

std::optional<int64_t> parseRetryAfterMs(const std::string& raw, int64_t now_wall_ms) {
  std::string v = trim(raw);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (v.size() > 9) return int64_t{999999999} * 1000;  // absurd; the policy clamps it
    return std::stoll(v) * 1000;
  }
  std::tm tm{};
  // IMF-fixdate, RFC 850, asctime (RFC 9110 §5.6.7).
  if (!parseDate(v, "%a, %d %b %Y %H:%M:%S GMT", tm) &&
      !parseDate(v, "%A, %d-%b-%y %H:%M:%S GMT", tm) && !parseDate(v, "%a %b %e %H:%M:%S %Y", tm)) {
    return std::nullopt;
  }
  int64_t at_ms = static_cast<int64_t>(::timegm(&tm)) * 1000;
  return std::max<int64_t>(0, at_ms - now_wall_ms);
}

}  // namespace shardcast
