#include "common/api/rollout.h"

#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"

namespace shardcast::api {

using nlohmann::json;

bool isTerminalRolloutState(const std::string& state) {
  return state == kRolloutReady || state == kRolloutDegraded || state == kRolloutFailed ||
         state == kRolloutCancelled;
}

namespace {

Result<RolloutTarget> targetFromJson(const json& j, bool strict) {
  RETURN_IF_ERROR(checkObject(j, "target", {"regions", "selector"}, strict));
  RolloutTarget t;
  RETURN_IF_ERROR(readStringList(j, "regions", t.regions, false));
  RETURN_IF_ERROR(readStringMap(j, "selector", t.selector, false));
  for (const auto& r : t.regions) {
    if (r.empty() || r.size() > 128) return invalidArgument("region names must be 1-128 characters");
  }
  return t;
}

json targetToJson(const RolloutTarget& t) {
  return {{"regions", t.regions}, {"selector", t.selector}};
}

Result<std::vector<SourceSpec>> sourcesFromJson(const json& j, bool strict) {
  auto it = j.find("sources");
  if (it == j.end() || !it->is_array()) {
    return invalidArgument("field 'sources' must be an array of URIs or source objects");
  }
  std::vector<SourceSpec> out;
  for (const auto& e : *it) {
    ASSIGN_OR_RETURN(SourceSpec s, sourceSpecFromJson(e, strict));
    out.push_back(std::move(s));
  }
  return out;
}

json sourcesToJson(const std::vector<SourceSpec>& sources) {
  json a = json::array();
  for (const auto& s : sources) a.push_back(sourceSpecToJson(s));
  return a;
}

}  // namespace

Result<RolloutRequest> rolloutRequestFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "rollout request", {"model", "sources", "target", "piece_size"},
                              /*strict=*/true));
  RolloutRequest r;
  std::string ref;
  RETURN_IF_ERROR(readString(j, "model", ref, true));
  ASSIGN_OR_RETURN(r.model, parseModelRef(ref));
  ASSIGN_OR_RETURN(r.sources, sourcesFromJson(j, true));
  if (r.sources.empty()) return invalidArgument("field 'sources' needs at least one source");
  if (r.sources.size() > 16) return invalidArgument("at most 16 sources per rollout");
  if (j.contains("target")) {
    ASSIGN_OR_RETURN(r.target, targetFromJson(j["target"], true));
  }
  RETURN_IF_ERROR(readU64(j, "piece_size", r.piece_size, false));
  if (j.contains("piece_size") && (r.piece_size < kMinPieceSize || r.piece_size > kMaxPieceSize)) {
    return invalidArgument("field 'piece_size' must be between " + std::to_string(kMinPieceSize) +
                           " and " + std::to_string(kMaxPieceSize));
  }
  return r;
}

json toJson(const RolloutRequest& r) {
  json j = {{"model", r.model.toString()},
            {"sources", sourcesToJson(r.sources)},
            {"target", targetToJson(r.target)}};
  if (r.piece_size != 0) j["piece_size"] = r.piece_size;
  return j;
}

json toJson(const RolloutStatus& s) {
  json regions = json::array();
  for (const auto& r : s.regions) {
    regions.push_back({{"name", r.name},
                       {"state", r.state},
                       {"nodes_total", r.nodes_total},
                       {"nodes_ready", r.nodes_ready},
                       {"nodes_failed", r.nodes_failed},
                       {"bytes_done", r.bytes_done},
                       {"seeders", r.seeders},
                       {"pieces_accepted", r.pieces_accepted}});
  }
  json nodes = json::array();
  for (const auto& n : s.nodes) {
    json e = {{"node", n.node},
              {"region", n.region},
              {"zone", n.zone},
              {"state", n.state},
              {"pieces_done", n.pieces_done},
              {"bytes_done", n.bytes_done},
              {"bytes_from_origin", n.bytes_from_origin},
              {"bytes_from_peers", n.bytes_from_peers}};
    if (!n.reason.empty()) e["reason"] = n.reason;
    if (!n.message.empty()) e["message"] = n.message;
    nodes.push_back(std::move(e));
  }
  json j = {{"id", s.id},
            {"model", s.model.toString()},
            {"state", s.state},
            {"created_at_ms", s.created_at_ms},
            {"finished_at_ms", s.finished_at_ms},
            {"total_bytes", s.total_bytes},
            {"piece_count", s.piece_count},
            {"piece_size", s.piece_size},
            {"file_count", s.file_count},
            {"sources", sourcesToJson(s.sources)},
            {"target", targetToJson(s.target)},
            {"regions", std::move(regions)},
            {"nodes", std::move(nodes)},
            {"corrupt_reports", s.corrupt_reports}};
  if (!s.message.empty()) j["message"] = s.message;
  return j;
}

Result<RolloutStatus> rolloutStatusFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "rollout", {}, false));
  RolloutStatus s;
  std::string ref;
  RETURN_IF_ERROR(readString(j, "id", s.id, true));
  RETURN_IF_ERROR(readString(j, "model", ref, true));
  ASSIGN_OR_RETURN(s.model, parseModelRef(ref));
  RETURN_IF_ERROR(readString(j, "state", s.state, true));
  RETURN_IF_ERROR(readString(j, "message", s.message, false));
  RETURN_IF_ERROR(readI64(j, "created_at_ms", s.created_at_ms, false));
  RETURN_IF_ERROR(readI64(j, "finished_at_ms", s.finished_at_ms, false));
  RETURN_IF_ERROR(readU64(j, "total_bytes", s.total_bytes, false));
  RETURN_IF_ERROR(readU32(j, "piece_count", s.piece_count, false));
  RETURN_IF_ERROR(readU64(j, "piece_size", s.piece_size, false));
  RETURN_IF_ERROR(readU32(j, "file_count", s.file_count, false));
  RETURN_IF_ERROR(readU32(j, "corrupt_reports", s.corrupt_reports, false));
  if (j.contains("sources")) {
    ASSIGN_OR_RETURN(s.sources, sourcesFromJson(j, false));
  }
  if (j.contains("target") && j["target"].is_object()) {
    ASSIGN_OR_RETURN(s.target, targetFromJson(j["target"], false));
  }
  if (j.contains("regions") && j["regions"].is_array()) {
    for (const auto& e : j["regions"]) {
      RegionStatus r;
      RETURN_IF_ERROR(readString(e, "name", r.name, true));
      RETURN_IF_ERROR(readString(e, "state", r.state, false));
      RETURN_IF_ERROR(readU32(e, "nodes_total", r.nodes_total, false));
      RETURN_IF_ERROR(readU32(e, "nodes_ready", r.nodes_ready, false));
      RETURN_IF_ERROR(readU32(e, "nodes_failed", r.nodes_failed, false));
      RETURN_IF_ERROR(readU64(e, "bytes_done", r.bytes_done, false));
      RETURN_IF_ERROR(readU32(e, "seeders", r.seeders, false));
      RETURN_IF_ERROR(readU32(e, "pieces_accepted", r.pieces_accepted, false));
      s.regions.push_back(std::move(r));
    }
  }
  if (j.contains("nodes") && j["nodes"].is_array()) {
    for (const auto& e : j["nodes"]) {
      NodeProgress n;
      RETURN_IF_ERROR(readString(e, "node", n.node, true));
      RETURN_IF_ERROR(readString(e, "region", n.region, false));
      RETURN_IF_ERROR(readString(e, "zone", n.zone, false));
      RETURN_IF_ERROR(readString(e, "state", n.state, false));
      RETURN_IF_ERROR(readU32(e, "pieces_done", n.pieces_done, false));
      RETURN_IF_ERROR(readU64(e, "bytes_done", n.bytes_done, false));
      RETURN_IF_ERROR(readU64(e, "bytes_from_origin", n.bytes_from_origin, false));
      RETURN_IF_ERROR(readU64(e, "bytes_from_peers", n.bytes_from_peers, false));
      RETURN_IF_ERROR(readString(e, "reason", n.reason, false));
      RETURN_IF_ERROR(readString(e, "message", n.message, false));
      s.nodes.push_back(std::move(n));
    }
  }
  return s;
}

}  // namespace shardcast::api
