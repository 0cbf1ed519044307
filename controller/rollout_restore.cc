#include "controller/rollout_restore.h"

#include <tuple>

#include "controller/rollout_codec.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

// The store's keys sorted by kind (see state_store.h), values borrowed.
struct Grouped {
  std::map<std::string, const json*> rollouts;   // id
  std::map<std::string, const json*> manifests;  // whole key
  std::map<std::string, std::vector<std::pair<std::string, const json*>>> stripes;  // id -> region
  std::map<std::string, std::map<size_t, const json*>> hashes;                      // id -> chunk
  std::map<std::string, std::vector<std::tuple<std::string, size_t, const json*>>> confirms;
  std::map<std::string, const json*> nodes;  // name
  size_t skipped = 0;
};

bool parseChunk(const std::string& s, size_t* out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoul(s);
  return true;
}

Result<Grouped> group(const StateSnapshot& snapshot) {
  Grouped g;
  for (const auto& [key, value] : snapshot.entries) {
    ASSIGN_OR_RETURN(std::vector<std::string> seg, splitKey(key));
    const std::string& kind = seg[0];
    size_t chunk = 0;
    if (kind == "rollouts" && seg.size() == 2) {
      g.rollouts[seg[1]] = &value;
    } else if (kind == "nodes" && seg.size() == 2) {
      g.nodes[seg[1]] = &value;
    } else if (kind == "manifests" && seg.size() == 3) {
      g.manifests[key] = &value;
    } else if (kind == "stripes" && seg.size() == 3) {
      g.stripes[seg[1]].emplace_back(seg[2], &value);
    } else if (kind == "hashes" && seg.size() == 3 && parseChunk(seg[2], &chunk)) {
      g.hashes[seg[1]][chunk] = &value;
    } else if (kind == "confirmed" && seg.size() == 4 && parseChunk(seg[3], &chunk)) {
      g.confirms[seg[1]].emplace_back(seg[2], chunk, &value);
    } else {
      ++g.skipped;
    }
  }
  return g;
}

// The hash log of one rollout: chunks 0..n-1, every one but the last full.
Result<std::vector<api::PieceHash>> hashLog(const std::string& id,
                                             const std::map<size_t, const json*>& chunks) {
  std::vector<api::PieceHash> log;
  size_t expected = 0;
  for (const auto& [chunk, value] : chunks) {
    if (chunk != expected++ || log.size() != chunk * kHashChunkSize) {
      return corruption("stored hashes of rollout " + id + ": chunk " + std::to_string(chunk) +
                        " does not follow " + std::to_string(log.size()) + " hashes");
    }
    ASSIGN_OR_RETURN(std::vector<api::PieceHash> part, decodeHashChunk(*value));
    if (part.size() > kHashChunkSize) {
      return corruption("stored hashes of rollout " + id + ": chunk " + std::to_string(chunk) +
                        " is over-full");
    }
    log.insert(log.end(), part.begin(), part.end());
  }
  return log;
}

Status restoreRegions(Rollout& r, const Grouped& g) {
  const uint32_t pieces = r.manifest().pieceCount();
  auto stripes = g.stripes.find(r.id());
  if (stripes != g.stripes.end()) {
    for (const auto& [region, value] : stripes->second) {
      auto d = decodeStripe(*value, pieces);
      if (!d.isOk()) return d.status().withContext("rollout " + r.id());
      if (d->region != region) {
        return corruption("stored stripe plan of rollout " + r.id() + " under region '" + region +
                          "' says region '" + d->region + "'");
      }
      if (d->source_index >= r.record().request.sources.size()) {
        return corruption("stored stripe plan of rollout " + r.id() + "/" + region +
                          " names source " + std::to_string(d->source_index));
      }
      r.setPlan(region, std::move(d->plan), d->source_index);
    }
  }
  auto hashes = g.hashes.find(r.id());
  if (hashes != g.hashes.end()) {
    ASSIGN_OR_RETURN(std::vector<api::PieceHash> log, hashLog(r.id(), hashes->second));
    RETURN_IF_ERROR(r.restoreHashes(std::move(log)));
  }
  auto confirms = g.confirms.find(r.id());
  if (confirms != g.confirms.end()) {
    for (const auto& [region, chunk, value] : confirms->second) {
      auto done = decodeConfirmChunk(*value, chunk, pieces);
      if (!done.isOk()) return done.status().withContext("rollout " + r.id() + "/" + region);
      RETURN_IF_ERROR(r.restoreConfirmed(region, *done));
    }
  }
  return Status::ok();
}

}  // namespace

Result<RestoredState> restoreRollouts(const StateSnapshot& snapshot) {
  ASSIGN_OR_RETURN(Grouped g, group(snapshot));
  RestoredState out;
  out.skipped_keys = g.skipped;
  std::map<std::string, std::shared_ptr<const Manifest>> by_key;
  for (const auto& [key, value] : g.manifests) {
    auto m = decodeManifest(*value);
    if (!m.isOk()) return m.status().withContext(key);
    auto manifest = std::make_shared<const Manifest>(std::move(m).value());
    if (manifestKey(manifest->model()) != key) {
      return corruption("stored manifest under " + key + " is of " + manifest->model().toString());
    }
    out.manifests[manifest->model()] = manifest;
    by_key[key] = std::move(manifest);
  }
  for (const auto& [id, value] : g.rollouts) {
    std::string manifest_key;
    ASSIGN_OR_RETURN(RolloutRecord record, decodeRollout(*value, &manifest_key));
    if (record.id != id) {
      return corruption("stored rollout under id " + id + " says id " + record.id);
    }
    auto m = by_key.find(manifest_key);
    if (m == by_key.end()) {
      return corruption("stored rollout " + id + " refers to manifest " + manifest_key +
                        ", which the store does not hold");
    }
    auto rollout = std::make_unique<Rollout>(std::move(record), m->second);
    RETURN_IF_ERROR(restoreRegions(*rollout, g));
    out.rollouts.push_back(std::move(rollout));
  }
  for (const auto& [name, value] : g.nodes) {
    auto node = decodeNode(*value);
    if (!node.isOk()) return node.status().withContext("stored node " + name);
    if (node->name != name) return corruption("stored node " + name + " says name " + node->name);
    out.nodes.push_back(std::move(node).value());
  }
  // Plans, hashes and confirmations of no rollout (never written so): skipped.
  auto orphans = [&](const auto& by_id) {
    for (const auto& entry : by_id) out.skipped_keys += g.rollouts.count(entry.first) == 0;
  };
  orphans(g.stripes);
  orphans(g.hashes);
  orphans(g.confirms);
  return out;
}

}  // namespace shardcast::controller
