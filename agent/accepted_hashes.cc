#include "agent/accepted_hashes.h"

#include "common/sha256.h"

namespace shardcast::agent {

Result<AcceptedHashes> fetchAcceptedHashes(ControllerClient& controller,
                                           const std::string& rollout_id,
                                           const std::string& node, uint32_t piece_count) {
  AcceptedHashes out;
  out.sha256.assign(piece_count, "");
  uint64_t cursor = 0;
  while (true) {
    ASSIGN_OR_RETURN(api::PeersReply r, controller.peers(rollout_id, node, cursor));
    out.rollout_state = r.rollout_state;
    for (const auto& h : r.hashes) {
      if (h.piece < piece_count && isSha256Hex(h.sha256)) out.sha256[h.piece] = h.sha256;
    }
    if (r.hashes.empty() || r.hash_cursor == cursor) break;
    cursor = r.hash_cursor;
  }
  return out;
}

PieceCheck checkPieces(const VersionStore& store, const std::vector<std::string>& accepted,
                       const std::vector<uint32_t>& pieces) {
  PieceCheck out;
  const Manifest& m = store.manifest();
  for (uint32_t i : pieces) {
    if (i >= accepted.size() || i >= m.pieceCount() || accepted[i].empty()) {
      out.unknown.push_back(i);
      continue;
    }
    auto h = store.pieceSha256(i);
    out.bytes_hashed += m.piece(i).length;
    if (h.isOk() && *h == accepted[i]) {
      out.good.push_back(i);
    } else {
      out.bad.push_back(i);
    }
  }
  return out;
}

}  // namespace shardcast::agent
