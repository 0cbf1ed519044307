#include "controller/in_memory_state_store.h"

namespace shardcast::controller {

Status InMemoryStateStore::commit(const std::vector<StateOp>& ops,
                                  std::optional<uint64_t> if_revision) {
  std::lock_guard<std::mutex> l(mu_);
  if (if_revision && *if_revision != state_.revision) {
    return aborted("state store revision is " + std::to_string(state_.revision) + ", expected " +
                       std::to_string(*if_revision),
                   "precondition_failed");
  }
  if (fail_next_ > 0) {
    --fail_next_;
    return ioError("state store commit failed (injected for test)");
  }
  if (ops.empty()) return Status::ok();
  applyStateOps(state_, ops);
  ++commits_;
  return Status::ok();
}

Result<StateSnapshot> InMemoryStateStore::load() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

void InMemoryStateStore::failNextCommitsForTest(int n) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_ = n;
}

uint64_t InMemoryStateStore::commitCountForTest() const {
  std::lock_guard<std::mutex> l(mu_);
  return commits_;
}

}  // namespace shardcast::controller
