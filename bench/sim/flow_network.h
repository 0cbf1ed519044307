// FlowNetwork: bandwidth sharing for the flow-level simulator (bench/sim).
//
// A resource is a capacity in bytes/s: a node's up link, its down link, the
// origin's link, a zone-to-zone link, or a shared cap such as the rig host's CPU.
// A flow is one transfer (a piece from a peer or from the origin): it crosses up to
// kMaxHops resources, may carry its own rate cap, and has a number of bytes left.
//
// computeRates() gives every flow its max-min fair rate by progressive filling:
// all rates rise together; when a resource (or a flow's own cap) is exhausted,
// the flows through it freeze at that level; the others keep rising. This is the
// textbook model of TCP flows sharing bottleneck links.
//
// Between two computeRates() calls, a flow added with addFlow() gets a provisional
// rate: the capacity its resources still have free (possibly 0). That keeps every
// link within its capacity when the caller recomputes only every few events (the
// simulator's stepped mode) and wastes less capacity than leaving new flows idle.
//
// Time is the caller's: advanceTo(t) drains every flow at its current rate, and
// nextCompletion() returns the flow that ends first at the current rates.
//
// Flow ids are reused after removeFlow(). Owns all its state; not thread-safe.
// Not responsible for what a flow means (the simulator keeps that by flow id).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

namespace shardcast::bench {

class FlowNetwork {
 public:
  static constexpr uint32_t kMaxHops = 4;
  static constexpr double kUnlimited = std::numeric_limits<double>::infinity();

  // A resource with `capacity` bytes/s (kUnlimited: never a bottleneck).
  uint32_t addResource(double capacity);
  double capacity(uint32_t resource) const { return res_[resource].capacity; }
  // Bytes/s currently given to the flows through the resource.
  double used(uint32_t resource) const { return res_[resource].used; }
  uint32_t flowsThrough(uint32_t resource) const {
    return static_cast<uint32_t>(res_[resource].flows.size());
  }

  // A flow of `bytes` through `hops` (at most kMaxHops; unlimited resources may be
  // listed and are ignored), capped at `cap` bytes/s. Returns its id.
  uint32_t addFlow(const std::vector<uint32_t>& hops, double bytes, double cap = kUnlimited);
  // Removes a flow (finished or aborted); returns the bytes it had left.
  double removeFlow(uint32_t flow);

  bool active(uint32_t flow) const { return flow < flows_.size() && flows_[flow].active; }
  double rate(uint32_t flow) const { return flows_[flow].rate; }
  double remaining(uint32_t flow) const;
  size_t activeFlows() const { return active_count_; }

  // Exact max-min fair rates for every active flow.
  void computeRates();
  // True when flows were added or removed since the last computeRates().
  bool dirty() const { return dirty_; }

  // Moves the clock forward (t >= now()); bytes drain at the current rates.
  void advanceTo(double t);
  double now() const { return now_; }
  // The active flow that finishes first at the current rates and when, if any
  // flow has a positive rate.
  std::optional<std::pair<double, uint32_t>> nextCompletion();

  uint64_t rateComputations() const { return computations_; }

 private:
  struct Resource {
    double capacity = kUnlimited;
    double used = 0;
    std::vector<uint32_t> flows;  // ids of active flows through it
  };
  struct Flow {
    std::array<uint32_t, kMaxHops> hops{};
    std::array<uint32_t, kMaxHops> slot{};  // position of this flow in hops[i]'s list
    uint32_t hop_count = 0;
    double cap = kUnlimited;
    double bytes_at_ref = 0;  // bytes left at t_ref
    double t_ref = 0;
    double rate = 0;
    uint32_t generation = 0;  // invalidates completion-heap entries
    bool active = false;
  };
  struct Due {
    double t;
    uint32_t flow;
    uint32_t generation;
    bool operator>(const Due& o) const { return t > o.t || (t == o.t && flow > o.flow); }
  };

  void setRate(uint32_t flow, double rate);
  void pushDue(uint32_t flow);

  std::vector<Resource> res_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_ids_;
  size_t active_count_ = 0;
  double now_ = 0;
  bool dirty_ = false;
  uint64_t computations_ = 0;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  struct Entry {
    uint32_t id;       // < resources: a resource; else resources + flow id (its own cap)
    uint32_t version;  // resources only: stale entries are skipped
  };
  // Scratch space of computeRates(), kept to avoid reallocating.
  std::vector<std::vector<Entry>> buckets_;
  std::vector<double> rem_;
  std::vector<uint32_t> count_;
  std::vector<uint32_t> version_;
  std::vector<uint8_t> frozen_;
};

}  // namespace shardcast::bench
