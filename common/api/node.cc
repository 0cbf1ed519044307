#include "common/api/node.h"

#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"

namespace shardcast::api {

using nlohmann::json;

namespace {

json hashesToJson(const std::vector<PieceHash>& hashes) {
  // Compact form [[piece, "hex"], ...]: a 700 GB model has ~42k of them.
  json a = json::array();
  for (const auto& h : hashes) a.push_back(json::array({h.piece, h.sha256}));
  return a;
}

Status hashesFromJson(const json& j, const char* key, std::vector<PieceHash>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_array()) return invalidArgument(std::string("field '") + key + "' must be an array");
  for (const auto& e : *it) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() || !e[1].is_string() ||
        e[0].get<uint64_t>() > UINT32_MAX) {
      return invalidArgument(std::string("entries of '") + key + "' must be [piece, \"sha256\"]");
    }
    out.push_back(PieceHash{e[0].get<uint32_t>(), e[1].get<std::string>()});
  }
  return Status::ok();
}

}  // namespace

json toJson(const NodeInfo& n) {
  return {{"name", n.name},           {"incarnation", n.incarnation},
          {"region", n.region},       {"zone", n.zone},
          {"labels", n.labels},       {"peer_addr", n.peer_addr},
          {"capacity_bytes", n.capacity_bytes}, {"models", n.models}};
}

Result<NodeInfo> nodeInfoFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "node", {}, false));
  NodeInfo n;
  RETURN_IF_ERROR(readString(j, "name", n.name, true));
  RETURN_IF_ERROR(readString(j, "incarnation", n.incarnation, false));
  RETURN_IF_ERROR(readString(j, "region", n.region, false));
  RETURN_IF_ERROR(readString(j, "zone", n.zone, false));
  RETURN_IF_ERROR(readStringMap(j, "labels", n.labels, false));
  RETURN_IF_ERROR(readString(j, "peer_addr", n.peer_addr, false));
  RETURN_IF_ERROR(readU64(j, "capacity_bytes", n.capacity_bytes, false));
  RETURN_IF_ERROR(readStringList(j, "models", n.models, false));
  return n;
}

json toJson(const HeartbeatReply& r) { return {{"heartbeat_interval_ms", r.heartbeat_interval_ms}}; }

Result<HeartbeatReply> heartbeatReplyFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "heartbeat reply", {}, false));
  HeartbeatReply r;
  RETURN_IF_ERROR(readU32(j, "heartbeat_interval_ms", r.heartbeat_interval_ms, false));
  return r;
}

json toJson(const Assignments& a) {
  json list = json::array();
  for (const auto& e : a.rollouts) {
    list.push_back({{"rollout_id", e.rollout_id}, {"model", e.model.toString()}, {"state", e.state}});
  }
  return {{"cursor", a.cursor}, {"rollouts", std::move(list)}};
}

Result<Assignments> assignmentsFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "assignments", {}, false));
  Assignments a;
  RETURN_IF_ERROR(readU64(j, "cursor", a.cursor, true));
  if (j.contains("rollouts")) {
    if (!j["rollouts"].is_array()) return invalidArgument("field 'rollouts' must be an array");
    for (const auto& e : j["rollouts"]) {
      AssignmentEntry entry;
      std::string ref;
      RETURN_IF_ERROR(readString(e, "rollout_id", entry.rollout_id, true));
      RETURN_IF_ERROR(readString(e, "model", ref, true));
      ASSIGN_OR_RETURN(entry.model, parseModelRef(ref));
      RETURN_IF_ERROR(readString(e, "state", entry.state, false));
      a.rollouts.push_back(std::move(entry));
    }
  }
  return a;
}

json toJson(const PeersReply& r) {
  json peers = json::array();
  for (const auto& p : r.peers) peers.push_back({{"name", p.name}, {"addr", p.addr}, {"zone", p.zone}});
  return {{"rollout_state", r.rollout_state}, {"peers", std::move(peers)},
          {"stripe", r.stripe},               {"source_index", r.source_index},
          {"hashes", hashesToJson(r.hashes)}, {"hash_cursor", r.hash_cursor},
          {"origin_concurrency", r.origin_concurrency},
          {"zone_rank", r.zone_rank},         {"zone_size", r.zone_size},
          {"poll_interval_ms", r.poll_interval_ms}};
}

Result<PeersReply> peersReplyFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "peers reply", {}, false));
  PeersReply r;
  RETURN_IF_ERROR(readString(j, "rollout_state", r.rollout_state, false));
  if (j.contains("peers")) {
    if (!j["peers"].is_array()) return invalidArgument("field 'peers' must be an array");
    for (const auto& e : j["peers"]) {
      PeerEntry p;
      RETURN_IF_ERROR(readString(e, "name", p.name, true));
      RETURN_IF_ERROR(readString(e, "addr", p.addr, true));
      RETURN_IF_ERROR(readString(e, "zone", p.zone, false));
      r.peers.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(readU32List(j, "stripe", r.stripe, false));
  RETURN_IF_ERROR(readU32(j, "source_index", r.source_index, false));
  RETURN_IF_ERROR(hashesFromJson(j, "hashes", r.hashes));
  RETURN_IF_ERROR(readU64(j, "hash_cursor", r.hash_cursor, false));
  RETURN_IF_ERROR(readU32(j, "origin_concurrency", r.origin_concurrency, false));
  RETURN_IF_ERROR(readU32(j, "zone_rank", r.zone_rank, false));
  RETURN_IF_ERROR(readU32(j, "zone_size", r.zone_size, false));
  RETURN_IF_ERROR(readU32(j, "poll_interval_ms", r.poll_interval_ms, false));
  return r;
}

json toJson(const PieceReport& r) {
  json bad = json::array();
  for (const auto& b : r.bad_peers) {
    bad.push_back({{"peer", b.peer}, {"piece", b.piece}, {"detail", b.detail}});
  }
  json j = {{"node", r.node},
            {"incarnation", r.incarnation},
            {"hashes", hashesToJson(r.hashes)},
            {"bad_peers", std::move(bad)},
            {"state", r.state},
            {"pieces_done", r.pieces_done},
            {"bytes_done", r.bytes_done},
            {"bytes_from_origin", r.bytes_from_origin},
            {"bytes_from_peers", r.bytes_from_peers}};
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

Result<PieceReport> pieceReportFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "piece report", {}, false));
  PieceReport r;
  RETURN_IF_ERROR(readString(j, "node", r.node, true));
  RETURN_IF_ERROR(readString(j, "incarnation", r.incarnation, false));
  RETURN_IF_ERROR(hashesFromJson(j, "hashes", r.hashes));
  if (j.contains("bad_peers")) {
    if (!j["bad_peers"].is_array()) return invalidArgument("field 'bad_peers' must be an array");
    for (const auto& e : j["bad_peers"]) {
      BadPeerReport b;
      RETURN_IF_ERROR(readString(e, "peer", b.peer, true));
      RETURN_IF_ERROR(readU32(e, "piece", b.piece, false));
      RETURN_IF_ERROR(readString(e, "detail", b.detail, false));
      r.bad_peers.push_back(std::move(b));
    }
  }
  RETURN_IF_ERROR(readString(j, "state", r.state, false));
  RETURN_IF_ERROR(readU32(j, "pieces_done", r.pieces_done, false));
  RETURN_IF_ERROR(readU64(j, "bytes_done", r.bytes_done, false));
  RETURN_IF_ERROR(readU64(j, "bytes_from_origin", r.bytes_from_origin, false));
  RETURN_IF_ERROR(readU64(j, "bytes_from_peers", r.bytes_from_peers, false));
  RETURN_IF_ERROR(readString(j, "reason", r.reason, false));
  RETURN_IF_ERROR(readString(j, "message", r.message, false));
  return r;
}

json toJson(const PieceReportReply& r) {
  return {{"rollout_state", r.rollout_state}, {"conflicting", r.conflicting}};
}

Result<PieceReportReply> pieceReportReplyFromJson(const json& j) {
  RETURN_IF_ERROR(checkObject(j, "piece report reply", {}, false));
  PieceReportReply r;
  RETURN_IF_ERROR(readString(j, "rollout_state", r.rollout_state, false));
  RETURN_IF_ERROR(readU32List(j, "conflicting", r.conflicting, false));
  return r;
}

}  // namespace shardcast::api
