// Time as an interface, so pure policies and their tests can run on a fake clock.
//
// Clock implementations are thread-safe. SystemClock reads CLOCK_MONOTONIC for
// durations and the wall clock for timestamps shown to people.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shardcast {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds on a monotonic clock (for timeouts and intervals).
  virtual int64_t nowMs() const = 0;
  // Milliseconds since the Unix epoch (for timestamps in APIs).
  virtual int64_t wallMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t nowMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  int64_t wallMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'000'000) : now_(start_ms) {}
  int64_t nowMs() const override { return now_.load(); }
  int64_t wallMs() const override { return 1'700'000'000'000 + now_.load(); }
  void advanceMs(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace shardcast
