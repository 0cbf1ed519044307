#include "controller/rollout_codec.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/api/rollout.h"

namespace shardcast::controller {

using nlohmann::json;

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
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06zu", chunk);
  return "hashes/" + keySegment(id) + "/" + buf;
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

}  // namespace shardcast::controller
