// How rollouts are written to the StateStore (DESIGN §7) and read back on
// restore: one key per rollout record, manifest, region stripe plan, chunk of
// accepted hashes and chunk of a region's seeder confirmations, each value a
// small JSON document. Chunking keeps every value well under etcd's 1.5 MiB
// request limit even for a 700 GB model (~42k hashes), and keeps what one batch
// of hash reports rewrites small (a journal record holds whole values).
//
// Pure functions; thread-safe. Decoders return Corruption naming what is wrong;
// putting the pieces together is restoreRollouts() (rollout_restore.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/node.h"
#include "common/manifest.h"
#include "common/status.h"
#include "controller/rollout.h"
#include "controller/state_store.h"

namespace shardcast::controller {

inline constexpr size_t kHashChunkSize = 512;  // hashes (and confirmation bits) per chunk

// Percent-encodes every byte outside [A-Za-z0-9._-] so any name is one key segment.
std::string keySegment(const std::string& name);

std::string rolloutKey(const std::string& id);
std::string manifestKey(const ModelRef& model);
std::string stripeKey(const std::string& id, const std::string& region);
std::string hashChunkKey(const std::string& id, size_t chunk);
std::string confirmChunkKey(const std::string& id, const std::string& region, size_t chunk);
// Splits a key at '/' and undoes keySegment's percent-encoding. Corruption on a
// malformed escape.
Result<std::vector<std::string>> splitKey(const std::string& key);

StateOp rolloutOp(const RolloutRecord& record);
StateOp manifestOp(const Manifest& manifest);
// A node's registration (name, incarnation, region, zone, labels, peer address),
// stored when it first registers, moves or restarts; not its heartbeats or the
// models it holds, which it reports again.
std::string nodeKey(const std::string& name);
StateOp nodeOp(const api::NodeInfo& info);
Result<api::NodeInfo> decodeNode(const nlohmann::json& value);
StateOp stripeOp(const std::string& id, const std::string& region, const StripePlan& plan,
                 uint32_t source_index);
// The chunks that change when `appended` is added to a log that holds `log`.
std::vector<StateOp> hashChunkOps(const std::string& id, const std::vector<api::PieceHash>& log,
                                  const std::vector<api::PieceHash>& appended);
// The confirmation chunks holding `changed` pieces, from the region's whole
// per-piece vector (after the change): a hex bitfield per chunk, most
// significant bit first.
std::vector<StateOp> confirmChunkOps(const std::string& id, const std::string& region,
                                     const std::vector<bool>& confirmed,
                                     const std::vector<uint32_t>& changed);

// --- decoding ---
// The record and the key of its manifest.
Result<RolloutRecord> decodeRollout(const nlohmann::json& value, std::string* manifest_key);
Result<Manifest> decodeManifest(const nlohmann::json& value);
struct DecodedStripe {
  std::string region;
  StripePlan plan;
  uint32_t source_index = 0;
};
// Checks the plan against the manifest's piece count.
Result<DecodedStripe> decodeStripe(const nlohmann::json& value, uint32_t piece_count);
Result<std::vector<api::PieceHash>> decodeHashChunk(const nlohmann::json& value);
// The confirmed pieces of chunk `chunk` (absolute piece numbers below piece_count).
Result<std::vector<uint32_t>> decodeConfirmChunk(const nlohmann::json& value, size_t chunk,
                                                 uint32_t piece_count);

}  // namespace shardcast::controller
