#include "agent/eviction_policy.h"

#include <algorithm>

namespace shardcast::agent {

std::string AdmissionDecision::explain(uint64_t need, uint64_t budget) const {
  return "need " + std::to_string(need) + " bytes; disk budget " + std::to_string(budget) +
         " bytes, used " + std::to_string(used_bytes) + " (leased " +
         std::to_string(leased_bytes) + "), evictable " + std::to_string(evictable_bytes);
}

AdmissionDecision EvictionPolicy::admit(const AdmissionInput& in) const {
  AdmissionDecision d;
  std::vector<const StoredVersion*> candidates;
  for (const auto& v : in.stored) {
    d.used_bytes += v.bytes;
    if (v.leased) d.leased_bytes += v.bytes;
    if (v.published && !v.leased && !v.in_use) {
      d.evictable_bytes += v.bytes;
      candidates.push_back(&v);
    }
  }
  // Least recently used first; the name breaks ties so the order is stable.
  std::sort(candidates.begin(), candidates.end(), [](const StoredVersion* a, const StoredVersion* b) {
    return a->last_use_ms != b->last_use_ms ? a->last_use_ms < b->last_use_ms : a->model < b->model;
  });
  auto fitsAfter = [&](uint64_t freed) {
    uint64_t used = d.used_bytes - freed;
    bool in_budget = used <= in.budget_bytes && in.need_bytes <= in.budget_bytes - used;
    // Evicted bytes come back to the file system too.
    uint64_t free = in.fs_free_bytes == UINT64_MAX ? UINT64_MAX : in.fs_free_bytes + freed;
    return in_budget && in.need_bytes <= free;
  };
  if (fitsAfter(0)) {
    d.fits = true;
    return d;
  }
  for (const StoredVersion* v : candidates) {
    d.evict.push_back(v->model);
    d.freed_bytes += v->bytes;
    if (fitsAfter(d.freed_bytes)) {
      d.fits = true;
      return d;
    }
  }
  // Evicting everything evictable is not enough: evict nothing.
  d.evict.clear();
  d.freed_bytes = 0;
  return d;
}

}  // namespace shardcast::agent
