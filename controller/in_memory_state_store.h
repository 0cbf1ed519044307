// InMemoryStateStore: a StateStore that keeps everything in memory (lost on
// restart). The default until the journal file lands, and the fake in tests,
// where failNextCommitsForTest() makes commits fail to exercise error paths.
//
// Thread-safe (one mutex).
#pragma once

#include <mutex>

#include "controller/state_store.h"

namespace shardcast::controller {

class InMemoryStateStore final : public StateStore {
 public:
  Status commit(const std::vector<StateOp>& ops,
                std::optional<uint64_t> if_revision = std::nullopt) override;
  Result<StateSnapshot> load() const override;

  // The next `n` commits fail with IOError and change nothing.
  void failNextCommitsForTest(int n);
  uint64_t commitCountForTest() const;

 private:
  mutable std::mutex mu_;
  StateSnapshot state_;      // guarded by mu_
  int fail_next_ = 0;        // guarded by mu_
  uint64_t commits_ = 0;     // guarded by mu_
};

}  // namespace shardcast::controller
