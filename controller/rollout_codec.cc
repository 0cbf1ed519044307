#include "controller/rollout_codec.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "common/api/rollout.h"
#include "common/hex_digit.h"
#include "common/sha256.h"

namespace shardcast::controller {

using nlohmann::json;

namespace {

std::string chunkSegment(size_t chunk) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%06zu", chunk);
  return buf;
}

}  // namespace

std::string keySegment(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string rolloutKey(const std::string& id) { return "rollouts/" + keySegment(id); }

std::string manifestKey(const ModelRef& model) {
  return "manifests/" + keySegment(model.name) + "/" + keySegment(model.version);
}

std::string stripeKey(const std::string& id, const std::string& region) {
  return "stripes/" + keySegment(id) + "/" + keySegment(region);
}

std::string hashChunkKey(const std::string& id, size_t chunk) {
  return "hashes/" + keySegment(id) + "/" + chunkSegment(chunk);
}

std::string confirmChunkKey(const std::string& id, const std::string& region, size_t chunk) {
  return "confirmed/" + keySegment(id) + "/" + keySegment(region) + "/" + chunkSegment(chunk);
}

Result<std::vector<std::string>> splitKey(const std::string& key) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '/') {
      out.emplace_back();
    } else if (c == '%') {
      int hi = i + 2 < key.size() ? hexDigitValue(key[i + 1]) : -1;
      int lo = i + 2 < key.size() ? hexDigitValue(key[i + 2]) : -1;
      if (hi < 0 || lo < 0) return corruption("state key '" + key.substr(0, 200) + "' has a bad escape");
      out.back().push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

StateOp rolloutOp(const RolloutRecord& r) {
  json j = {{"id", r.id},
            {"request", api::toJson(r.request)},
            {"state", r.state},
            {"message", r.message},
            {"created_at_ms", r.created_at_ms},
            {"finished_at_ms", r.finished_at_ms},
            {"pulled_nodes", r.pulled_nodes},
            {"manifest", manifestKey(r.request.model)}};
  return StateOp::put(rolloutKey(r.id), std::move(j));
}

std::string nodeKey(const std::string& name) { return "nodes/" + keySegment(name); }

StateOp nodeOp(const api::NodeInfo& info) {
  api::NodeInfo stored = info;
  stored.models.clear();
  stored.capacity_bytes = 0;
  return StateOp::put(nodeKey(info.name), api::toJson(stored));
}

Result<api::NodeInfo> decodeNode(const nlohmann::json& value) { return api::nodeInfoFromJson(value); }

StateOp manifestOp(const Manifest& manifest) {
  return StateOp::put(manifestKey(manifest.model()), manifest.toJson());
}

StateOp stripeOp(const std::string& id, const std::string& region, const StripePlan& plan,
                 uint32_t source_index) {
  json j = {{"region", region},
            {"seeders", plan.seeders},
            {"owner", plan.owner},
            {"source_index", source_index}};
  return StateOp::put(stripeKey(id, region), std::move(j));
}

std::vector<StateOp> hashChunkOps(const std::string& id, const std::vector<api::PieceHash>& log,
                                  const std::vector<api::PieceHash>& appended) {
  std::vector<StateOp> ops;
  if (appended.empty()) return ops;
  size_t total = log.size() + appended.size();
  auto at = [&](size_t i) -> const api::PieceHash& {
    return i < log.size() ? log[i] : appended[i - log.size()];
  };
  for (size_t chunk = log.size() / kHashChunkSize; chunk * kHashChunkSize < total; ++chunk) {
    json entries = json::array();
    size_t end = std::min(total, (chunk + 1) * kHashChunkSize);
    for (size_t i = chunk * kHashChunkSize; i < end; ++i) {
      entries.push_back(json::array({at(i).piece, at(i).sha256}));
    }
    ops.push_back(StateOp::put(hashChunkKey(id, chunk), std::move(entries)));
  }
  return ops;
}

std::vector<StateOp> confirmChunkOps(const std::string& id, const std::string& region,
                                     const std::vector<bool>& confirmed,
                                     const std::vector<uint32_t>& changed) {
  std::set<size_t> chunks;
  for (uint32_t p : changed) chunks.insert(p / kHashChunkSize);
  std::vector<StateOp> ops;
  static const char* kHex = "0123456789abcdef";
  for (size_t chunk : chunks) {
    std::string bits((kHashChunkSize + 3) / 4, '0');
    for (size_t i = 0; i < kHashChunkSize; ++i) {
      size_t p = chunk * kHashChunkSize + i;
      if (p >= confirmed.size() || !confirmed[p]) continue;
      int v = hexDigitValue(bits[i / 4]) | (8 >> (i % 4));
      bits[i / 4] = kHex[v];
    }
    ops.push_back(StateOp::put(confirmChunkKey(id, region, chunk), bits));
  }
  return ops;
}

// ---- decoding ----

namespace {

// Runs `body`, turning a nlohmann exception (a wrong type) into Corruption.
template <typename F>
auto guarded(const char* what, F body) -> decltype(body()) {
  try {
    return body();
  } catch (const json::exception& e) {
    return corruption(std::string(what) + ": " + e.what());
  }
}

}  // namespace

Result<RolloutRecord> decodeRollout(const json& v, std::string* manifest_key) {
  return guarded("stored rollout", [&]() -> Result<RolloutRecord> {
    RolloutRecord r;
    r.id = v.at("id").get<std::string>();
    auto request = api::rolloutRequestFromJson(v.at("request"));
    if (!request.isOk()) {
      return corruption("stored rollout " + r.id + ": " + request.status().message());
    }
    r.request = std::move(request).value();
    r.state = v.at("state").get<std::string>();
    r.message = v.value("message", "");
    r.created_at_ms = v.value("created_at_ms", int64_t{0});
    r.finished_at_ms = v.value("finished_at_ms", int64_t{0});
    r.pulled_nodes = v.value("pulled_nodes", std::vector<std::string>{});
    std::sort(r.pulled_nodes.begin(), r.pulled_nodes.end());
    r.pulled_nodes.erase(std::unique(r.pulled_nodes.begin(), r.pulled_nodes.end()),
                         r.pulled_nodes.end());
    if (r.state != api::kRolloutInProgress && !api::isTerminalRolloutState(r.state)) {
      return corruption("stored rollout " + r.id + " has unknown state '" + r.state.substr(0, 32) + "'");
    }
    *manifest_key = v.value("manifest", manifestKey(r.request.model));
    return r;
  });
}

Result<Manifest> decodeManifest(const json& v) {
  auto m = Manifest::fromJson(v);
  if (!m.isOk()) return corruption("stored manifest: " + m.status().message());
  return m;
}

Result<DecodedStripe> decodeStripe(const json& v, uint32_t piece_count) {
  return guarded("stored stripe plan", [&]() -> Result<DecodedStripe> {
    DecodedStripe d;
    d.region = v.at("region").get<std::string>();
    d.plan.seeders = v.at("seeders").get<std::vector<std::string>>();
    d.plan.owner = v.at("owner").get<std::vector<uint32_t>>();
    d.source_index = v.value("source_index", 0u);
    // An empty plan (no live node when it was made) has no owners.
    if (!d.plan.seeders.empty() && d.plan.owner.size() != piece_count) {
      return corruption("stored stripe plan of region '" + d.region + "' covers " +
                        std::to_string(d.plan.owner.size()) + " pieces, the manifest has " +
                        std::to_string(piece_count));
    }
    for (uint32_t o : d.plan.owner) {
      if (o >= d.plan.seeders.size()) {
        return corruption("stored stripe plan of region '" + d.region + "' names seeder " +
                          std::to_string(o) + " of " + std::to_string(d.plan.seeders.size()));
      }
    }
    return d;
  });
}

Result<std::vector<api::PieceHash>> decodeHashChunk(const json& v) {
  return guarded("stored hash chunk", [&]() -> Result<std::vector<api::PieceHash>> {
    std::vector<api::PieceHash> out;
    for (const auto& e : v) {
      api::PieceHash h{e.at(0).get<uint32_t>(), e.at(1).get<std::string>()};
      if (!isSha256Hex(h.sha256)) return corruption("stored hash chunk holds a malformed hash");
      out.push_back(std::move(h));
    }
    return out;
  });
}

Result<std::vector<uint32_t>> decodeConfirmChunk(const json& v, size_t chunk, uint32_t piece_count) {
  if (!v.is_string() || v.get_ref<const std::string&>().size() != (kHashChunkSize + 3) / 4) {
    return corruption("stored confirmation chunk is not a hex bitfield of " +
                      std::to_string(kHashChunkSize) + " bits");
  }
  const std::string& bits = v.get_ref<const std::string&>();
  std::vector<uint32_t> out;
  for (size_t i = 0; i < kHashChunkSize; ++i) {
    int nibble = hexDigitValue(bits[i / 4]);
    if (nibble < 0) return corruption("stored confirmation chunk is not hex");
    if (!(nibble & (8 >> (i % 4)))) continue;
    size_t p = chunk * kHashChunkSize + i;
    if (p >= piece_count) return corruption("stored confirmation names piece " + std::to_string(p) +
                                            " of " + std::to_string(piece_count));
    out.push_back(static_cast<uint32_t>(p));
  }
  return out;
}

}  // namespace shardcast::controller
