// LeaderLease: the pure timing policy of a leader's etcd lease (DESIGN §7). It
// decides, from monotonic times the caller passes in, when to send the next
// keepalive and until when this replica may still act as the leader.
//
// Safety rests on one inequality: etcd expires a lease no earlier than TTL after
// it processed the grant or keepalive, which is after the request was sent. So
// "sent_at + TTL" measured on our own clock is a bound etcd cannot beat; a
// margin (TTL / 20, at least 100 ms) covers clock rate differences. Until that
// bound the leader may serve; past it, it must stop even if etcd is unreachable
// (a stalled leader never outlives its lease). A new leader can only be elected
// after etcd expired the lease, i.e. after this bound: leadership intervals
// never overlap.
//
// Keepalives go out every TTL / 3, so two may fail before the lease is at risk.
//
// A value type; no I/O, no clock of its own, not thread-safe (LeaderElector
// guards it).
#pragma once

#include <algorithm>
#include <cstdint>

namespace shardcast::controller {

class LeaderLease {
 public:
  LeaderLease() = default;

  // A grant or keepalive sent at `sent_ms` was answered with `ttl_s` seconds left.
  void renewed(int64_t sent_ms, int64_t ttl_s) {
    int64_t ttl_ms = ttl_s * 1000;
    last_sent_ms_ = sent_ms;
    ttl_ms_ = ttl_ms;
    valid_until_ms_ = std::max(valid_until_ms_, sent_ms + ttl_ms - marginMs(ttl_ms));
    held_ = true;
  }
  // The lease is gone (expired, revoked, or the leader key was lost).
  void lost() {
    held_ = false;
    valid_until_ms_ = 0;
  }

  bool held() const { return held_; }
  // True while this replica may act as the leader.
  bool valid(int64_t now_ms) const { return held_ && now_ms < valid_until_ms_; }
  int64_t validUntilMs() const { return valid_until_ms_; }
  // When the next keepalive is due.
  int64_t nextKeepAliveMs() const { return last_sent_ms_ + std::max<int64_t>(ttl_ms_ / 3, 100); }
  // How long one keepalive request may take (so a slow one cannot eat the lease).
  int64_t keepAliveTimeoutMs() const { return std::max<int64_t>(ttl_ms_ / 3, 200); }

  static int64_t marginMs(int64_t ttl_ms) { return std::max<int64_t>(ttl_ms / 20, 100); }

 private:
  bool held_ = false;
  int64_t last_sent_ms_ = 0;
  int64_t ttl_ms_ = 0;
  int64_t valid_until_ms_ = 0;
};

}  // namespace shardcast::controller
