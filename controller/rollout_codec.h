// How rollouts are written to the StateStore (DESIGN §7): one key per rollout
// record, manifest, region stripe plan and chunk of accepted hashes, each value a
// small JSON document. Chunking keeps every value well under etcd's 1.5 MiB
// request limit even for a 700 GB model (~42k hashes).
//
// Pure functions; thread-safe. Decoding (for restore) comes with the journal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/api/node.h"
#include "common/manifest.h"
#include "controller/rollout.h"
#include "controller/state_store.h"

namespace shardcast::controller {

inline constexpr size_t kHashChunkSize = 4096;

// Percent-encodes every byte outside [A-Za-z0-9._-] so any name is one key segment.
std::string keySegment(const std::string& name);

std::string rolloutKey(const std::string& id);
std::string manifestKey(const ModelRef& model);
std::string stripeKey(const std::string& id, const std::string& region);
std::string hashChunkKey(const std::string& id, size_t chunk);

StateOp rolloutOp(const RolloutRecord& record);
StateOp manifestOp(const Manifest& manifest);
StateOp stripeOp(const std::string& id, const std::string& region, const StripePlan& plan,
                 uint32_t source_index);
// The chunks that change when `appended` is added to a log that holds `log`.
std::vector<StateOp> hashChunkOps(const std::string& id, const std::vector<api::PieceHash>& log,
                                  const std::vector<api::PieceHash>& appended);

}  // namespace shardcast::controller
