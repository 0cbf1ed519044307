#include "controller/assignment_watch.h"

namespace shardcast::controller {

bool AssignmentWatch::changedSince(const std::string& node, uint64_t cursor) const {
  if (cursor > counter_) return true;  // a cursor from before a restart
  auto it = last_change_.find(node);
  return it != last_change_.end() && it->second > cursor;
}

std::vector<AssignmentWaiter> AssignmentWatch::markChanged(const std::vector<std::string>& nodes) {
  std::vector<AssignmentWaiter> woken;
  if (nodes.empty()) return woken;
  ++counter_;
  for (const auto& n : nodes) {
    last_change_[n] = counter_;
    auto it = waiters_.find(n);
    if (it == waiters_.end()) continue;
    for (auto& w : it->second) woken.push_back(std::move(w));
    waiters_.erase(it);
  }
  return woken;
}

std::vector<AssignmentWaiter> AssignmentWatch::addWaiter(AssignmentWaiter waiter) {
  std::vector<AssignmentWaiter> evicted;
  auto& list = waiters_[waiter.node];
  if (list.size() >= kMaxWaitersPerNode) {
    evicted.push_back(std::move(list.front()));
    list.pop_front();
  }
  list.push_back(std::move(waiter));
  return evicted;
}

std::vector<AssignmentWaiter> AssignmentWatch::takeExpired(int64_t now_ms) {
  std::vector<AssignmentWaiter> out;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto& list = it->second;
    for (auto w = list.begin(); w != list.end();) {
      if (w->deadline_ms <= now_ms) {
        out.push_back(std::move(*w));
        w = list.erase(w);
      } else {
        ++w;
      }
    }
    it = list.empty() ? waiters_.erase(it) : std::next(it);
  }
  return out;
}

std::vector<AssignmentWaiter> AssignmentWatch::takeAll() {
  std::vector<AssignmentWaiter> out;
  for (auto& [node, list] : waiters_) {
    for (auto& w : list) out.push_back(std::move(w));
  }
  waiters_.clear();
  return out;
}

size_t AssignmentWatch::waiterCount() const {
  size_t n = 0;
  for (const auto& [node, list] : waiters_) n += list.size();
  return n;
}

}  // namespace shardcast::controller
