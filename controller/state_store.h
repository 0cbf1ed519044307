// StateStore: where the controller's durable state goes (DESIGN §7). State is a
// flat key space with JSON values, written in batches that apply atomically and
// may be conditioned on the store's revision (compare-and-set), so a later
// journal file and an etcd backend (whose leader writes are conditioned on the
// leader key's revision) fit the same interface.
//
// Keys used by the controller:
//   rollouts/<id>                       the rollout record (request, state, times)
//   manifests/<name>/<version>          the manifest of a model version
//   stripes/<id>/<region>               a region's stripe plan
//   hashes/<id>/<chunk>                 accepted hashes, kHashChunkSize per chunk
//   confirmed/<id>/<region>/<chunk>     pieces the region's seeders finished (bitfield)
// Values stay small (etcd takes requests <= 1.5 MiB): large lists are chunked.
//
// Implementations are thread-safe. Not responsible for encoding rollouts: see
// rollout_codec.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace shardcast::controller {

struct StateOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  nlohmann::json value;  // for kPut

  static StateOp put(std::string key, nlohmann::json value) {
    return StateOp{Kind::kPut, std::move(key), std::move(value)};
  }
  static StateOp del(std::string key) { return StateOp{Kind::kDelete, std::move(key), nullptr}; }
};

struct StateSnapshot {
  uint64_t revision = 0;  // increases with every successful commit
  std::map<std::string, nlohmann::json> entries;
};

// Applies a batch to `state` and advances its revision: what every store does to
// its copy of the state once a commit is durable.
inline void applyStateOps(StateSnapshot& state, const std::vector<StateOp>& ops) {
  for (const auto& op : ops) {
    if (op.kind == StateOp::Kind::kPut) {
      state.entries[op.key] = op.value;
    } else {
      state.entries.erase(op.key);
    }
  }
  ++state.revision;
}

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Applies every op or none. When `if_revision` is set and differs from the
  // store's revision, nothing is applied and the answer is Aborted with reason
  // "precondition_failed". An empty batch is a no-op.
  virtual Status commit(const std::vector<StateOp>& ops,
                        std::optional<uint64_t> if_revision = std::nullopt) = 0;

  // Everything stored, with the current revision.
  virtual Result<StateSnapshot> load() const = 0;
};

}  // namespace shardcast::controller
