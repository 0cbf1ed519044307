// EvictionPolicy: disk-budget admission for a model version (DESIGN §6). Before
// the first byte of a version is written, the agent asks whether `need` bytes fit
// in the budget; if not, which published, unleased versions to evict, least
// recently used first, to make them fit. When even evicting every candidate is not
// enough, the answer is "no space" with the numbers for the operator.
//
// Pure: takes the disk's state, returns a decision; no I/O, no clock (last-use
// times come in). Thread-safe (stateless).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/model_ref.h"

namespace shardcast::agent {

struct StoredVersion {
  ModelRef model;
  uint64_t bytes = 0;
  int64_t last_use_ms = 0;  // wall clock
  bool leased = false;
  bool published = false;   // only published versions can be evicted
  bool in_use = false;      // being fetched or served to a rollout right now
};

struct AdmissionInput {
  uint64_t budget_bytes = 0;  // the agent's budget
  uint64_t fs_free_bytes = UINT64_MAX;  // what the file system still has
  uint64_t need_bytes = 0;    // the new version's size
  std::vector<StoredVersion> stored;  // every version on disk (published or partial)
};

struct AdmissionDecision {
  bool fits = false;
  std::vector<ModelRef> evict;  // in eviction order (empty when it fits as is)
  uint64_t used_bytes = 0;      // before eviction
  uint64_t evictable_bytes = 0; // published, unleased, not in use
  uint64_t leased_bytes = 0;
  uint64_t freed_bytes = 0;     // by `evict`

  // "need 8388608 bytes; budget 20971520, used 16777216 (leased 16777216),
  // evictable 0" — what a no_space report says.
  std::string explain(uint64_t need, uint64_t budget) const;
};

class EvictionPolicy {
 public:
  AdmissionDecision admit(const AdmissionInput& in) const;
};

}  // namespace shardcast::agent
