// AssignmentWatch: the bookkeeping behind the assignments long-poll
// (GET /v1/nodes/{node}/assignments?cursor=C&wait_ms=W).
//
// A cursor is a value of one controller-wide change counter that only grows; it
// starts at a value given by the owner (the wall clock at start-up, so cursors
// keep growing across controller restarts). Each node remembers the counter of
// the last change to its assignment list. A poll is answered at once when the
// node's list changed after its cursor (or the cursor is from the future, i.e.
// from before a restart); otherwise it waits here until the list changes or its
// deadline passes.
//
// Not thread-safe: RolloutService owns it under its mutex. It never calls the
// waiters' callbacks: it hands them back (take*) so the owner can answer them
// after releasing its lock.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "common/api/node.h"
#include "common/status.h"

namespace shardcast::controller {

using AssignmentsCallback = std::function<void(Result<api::Assignments>)>;

struct AssignmentWaiter {
  std::string node;
  uint64_t cursor = 0;       // the cursor the node sent
  int64_t deadline_ms = 0;   // monotonic
  AssignmentsCallback reply;
};

class AssignmentWatch {
 public:
  // At most this many waiters per node; a newer poll answers the oldest one.
  static constexpr size_t kMaxWaitersPerNode = 4;

  explicit AssignmentWatch(uint64_t start_counter = 0) : counter_(start_counter) {}

  uint64_t counter() const { return counter_; }
  // True when a poll with `cursor` should be answered now.
  bool changedSince(const std::string& node, uint64_t cursor) const;

  // Advances the counter once and marks every node in `nodes` changed. Returns the
  // waiters of those nodes, removed, to be answered with their new list.
  std::vector<AssignmentWaiter> markChanged(const std::vector<std::string>& nodes);

  // Parks a waiter. Returns a waiter that must be answered now (the node's oldest
  // one, when it already had kMaxWaitersPerNode), or nothing.
  std::vector<AssignmentWaiter> addWaiter(AssignmentWaiter waiter);
  // Removes and returns waiters whose deadline is at or before now_ms.
  std::vector<AssignmentWaiter> takeExpired(int64_t now_ms);
  // Removes and returns every waiter (shutdown).
  std::vector<AssignmentWaiter> takeAll();
  size_t waiterCount() const;

 private:
  uint64_t counter_;
  std::map<std::string, uint64_t> last_change_;                // node -> counter
  std::map<std::string, std::list<AssignmentWaiter>> waiters_;  // node -> oldest first
};

}  // namespace shardcast::controller
