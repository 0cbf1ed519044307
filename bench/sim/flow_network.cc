#include "bench/sim/flow_network.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

namespace shardcast::bench {

uint32_t FlowNetwork::addResource(double capacity) {
  Resource r;
  r.capacity = capacity > 0 ? capacity : 0;
  res_.push_back(std::move(r));
  return static_cast<uint32_t>(res_.size() - 1);
}

uint32_t FlowNetwork::addFlow(const std::vector<uint32_t>& hops, double bytes, double cap) {
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[id];
  f.hop_count = 0;
  for (uint32_t r : hops) {
    if (std::isinf(res_[r].capacity)) continue;
    assert(f.hop_count < kMaxHops);
    f.hops[f.hop_count] = r;
    f.slot[f.hop_count] = static_cast<uint32_t>(res_[r].flows.size());
    res_[r].flows.push_back(id);
    ++f.hop_count;
  }
  assert(f.hop_count > 0 || !std::isinf(cap));
  f.cap = cap;
  f.bytes_at_ref = bytes;
  f.t_ref = now_;
  f.rate = 0;
  f.active = true;
  ++active_count_;
  dirty_ = true;
  // Provisional rate: what its resources have free right now.
  double free_rate = cap;
  for (uint32_t h = 0; h < f.hop_count; ++h) {
    const Resource& r = res_[f.hops[h]];
    free_rate = std::min(free_rate, std::max(0.0, r.capacity - r.used));
  }
  setRate(id, free_rate);
  return id;
}

double FlowNetwork::remaining(uint32_t flow) const {
  const Flow& f = flows_[flow];
  return std::max(0.0, f.bytes_at_ref - f.rate * (now_ - f.t_ref));
}

double FlowNetwork::removeFlow(uint32_t flow) {
  Flow& f = flows_[flow];
  assert(f.active);
  double left = remaining(flow);
  for (uint32_t h = 0; h < f.hop_count; ++h) {
    Resource& r = res_[f.hops[h]];
    r.used = std::max(0.0, r.used - f.rate);
    // Swap-remove this flow from the resource's list, fixing the moved flow's slot.
    uint32_t pos = f.slot[h];
    uint32_t last = r.flows.back();
    r.flows[pos] = last;
    r.flows.pop_back();
    if (last != flow) {
      Flow& m = flows_[last];
      for (uint32_t k = 0; k < m.hop_count; ++k) {
        if (m.hops[k] == f.hops[h]) m.slot[k] = pos;
      }
    }
  }
  f.active = false;
  f.rate = 0;
  ++f.generation;
  --active_count_;
  free_ids_.push_back(flow);
  dirty_ = true;
  return left;
}

void FlowNetwork::setRate(uint32_t flow, double rate) {
  Flow& f = flows_[flow];
  f.bytes_at_ref = remaining(flow);
  f.t_ref = now_;
  for (uint32_t h = 0; h < f.hop_count; ++h) res_[f.hops[h]].used += rate - f.rate;
  f.rate = rate;
  ++f.generation;
  pushDue(flow);
}

void FlowNetwork::pushDue(uint32_t flow) {
  const Flow& f = flows_[flow];
  if (f.rate <= 0) return;
  due_.push(Due{f.t_ref + f.bytes_at_ref / f.rate, flow, f.generation});
}

namespace {

// Positive doubles order like their bit patterns. Keeping the exponent and the top
// kMantissaBits of the mantissa gives monotone buckets 2^-13 (1.2e-4) wide in
// relative terms: a bucket queue that replaces a heap in progressive filling.
constexpr int kMantissaBits = 13;
constexpr int kDropBits = 52 - kMantissaBits;

uint64_t keyBits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b >> kDropBits;
}

double bucketFloor(uint64_t bits) {
  uint64_t b = bits << kDropBits;
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

}  // namespace

void FlowNetwork::computeRates() {
  ++computations_;
  dirty_ = false;
  const uint32_t nres = static_cast<uint32_t>(res_.size());
  rem_.assign(nres, 0);
  count_.assign(nres, 0);
  version_.assign(nres, 0);
  frozen_.assign(flows_.size(), 1);
  // Every key that will ever be queued lies between the smallest initial fair
  // share (shares only rise) and the largest capacity or flow cap.
  double lo = kUnlimited, hi = 0;
  for (uint32_t r = 0; r < nres; ++r) {
    res_[r].used = 0;
    rem_[r] = res_[r].capacity;
    count_[r] = static_cast<uint32_t>(res_[r].flows.size());
    if (count_[r] == 0) continue;
    lo = std::min(lo, rem_[r] / count_[r]);
    hi = std::max(hi, rem_[r]);
  }
  for (uint32_t id = 0; id < flows_.size(); ++id) {
    if (!flows_[id].active) continue;
    frozen_[id] = 0;
    if (!std::isinf(flows_[id].cap)) {
      lo = std::min(lo, flows_[id].cap);
      hi = std::max(hi, flows_[id].cap);
    }
  }
  if (hi > 0) {
    lo = std::max(lo, hi * 1e-12);  // a zero capacity: its flows get rate 0
    const uint64_t base = keyBits(lo);
    const size_t nb = static_cast<size_t>(keyBits(hi) - base + 1);
    if (buckets_.size() < nb) buckets_.resize(nb);
    size_t cursor = 0;  // buckets below it are done; rounding never queues there
    auto bucketOf = [&](double key) -> size_t {
      uint64_t k = key <= lo ? base : keyBits(key);
      return std::max(cursor, static_cast<size_t>(std::min<uint64_t>(k - base, nb - 1)));
    };
    for (uint32_t r = 0; r < nres; ++r) {
      if (count_[r] > 0) buckets_[bucketOf(rem_[r] / count_[r])].push_back(Entry{r, 0});
    }
    for (uint32_t id = 0; id < flows_.size(); ++id) {
      if (flows_[id].active && !std::isinf(flows_[id].cap)) {
        buckets_[bucketOf(flows_[id].cap)].push_back(Entry{nres + id, 0});
      }
    }
    // Freezes a flow at `level`: its resources lose that much capacity and one
    // unfrozen flow each; their fair shares (which can only rise) are re-queued.
    auto freeze = [&](uint32_t id, double level, uint32_t skip_resource) {
      Flow& f = flows_[id];
      frozen_[id] = 1;
      f.bytes_at_ref = std::max(0.0, f.bytes_at_ref - f.rate * (now_ - f.t_ref));
      f.t_ref = now_;
      f.rate = level;
      ++f.generation;
      for (uint32_t h = 0; h < f.hop_count; ++h) {
        uint32_t r = f.hops[h];
        res_[r].used += level;
        rem_[r] = std::max(0.0, rem_[r] - level);
        --count_[r];
        ++version_[r];
        if (r != skip_resource && count_[r] > 0) {
          buckets_[bucketOf(rem_[r] / count_[r])].push_back(Entry{r, version_[r]});
        }
      }
    };
    for (size_t b = 0; b < nb; cursor = ++b) {
      // Freezing at the bucket's floor (<= every share still queued) keeps every
      // resource within capacity; it leaves at most 1.2e-4 of a share unused.
      const double floor_level = b == 0 ? 0 : bucketFloor(base + b);
      auto& bucket = buckets_[b];
      while (!bucket.empty()) {
        Entry e = bucket.back();
        bucket.pop_back();
        if (e.id >= nres) {
          uint32_t id = e.id - nres;
          if (!frozen_[id]) freeze(id, std::min(flows_[id].cap, std::max(floor_level, lo)), nres);
          continue;
        }
        uint32_t r = e.id;
        if (e.version != version_[r] || count_[r] == 0) continue;
        double level = std::min(rem_[r] / count_[r], std::max(floor_level, b == 0 ? lo : 0.0));
        for (uint32_t id : res_[r].flows) {
          if (!frozen_[id]) freeze(id, level, r);
        }
      }
    }
  }
  // Rebuild the completion heap from the new rates.
  std::vector<Due> dues;
  dues.reserve(active_count_);
  for (uint32_t id = 0; id < flows_.size(); ++id) {
    const Flow& f = flows_[id];
    if (f.active && f.rate > 0) dues.push_back(Due{f.t_ref + f.bytes_at_ref / f.rate, id, f.generation});
  }
  due_ = std::priority_queue<Due, std::vector<Due>, std::greater<Due>>(std::greater<Due>(),
                                                                       std::move(dues));
}

void FlowNetwork::advanceTo(double t) {
  assert(t >= now_ - 1e-9);
  if (t > now_) now_ = t;
}

std::optional<std::pair<double, uint32_t>> FlowNetwork::nextCompletion() {
  while (!due_.empty()) {
    const Due& d = due_.top();
    const Flow& f = flows_[d.flow];
    if (!f.active || f.generation != d.generation) {
      due_.pop();
      continue;
    }
    return std::make_pair(std::max(d.t, now_), d.flow);
  }
  return std::nullopt;
}

}  // namespace shardcast::bench
