// Accepted hashes (DESIGN §3) and re-hashing pieces on disk against them: the one
// code path behind the resume check (RolloutWorker::verifyResumed) and
// `shardcast verify` (ModelVerifier).
//
// fetchAcceptedHashes() pages through GET /v1/rollouts/{id}/peers with a hash
// cursor until the cursor stops moving; one pass, no retries (the caller owns its
// retry policy). checkPieces() hashes each piece's bytes as they are on disk;
// a piece whose accepted hash is unknown is not read. Both are stateless and
// thread-safe as far as their arguments are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/controller_client.h"
#include "agent/version_store.h"
#include "common/status.h"

namespace shardcast::agent {

struct AcceptedHashes {
  std::string rollout_state;
  std::vector<std::string> sha256;  // per piece; "" = not accepted (yet)
};

Result<AcceptedHashes> fetchAcceptedHashes(ControllerClient& controller,
                                           const std::string& rollout_id,
                                           const std::string& node, uint32_t piece_count);

struct PieceCheck {
  std::vector<uint32_t> good;     // bytes equal the accepted hash
  std::vector<uint32_t> bad;      // bytes differ, or cannot be read
  std::vector<uint32_t> unknown;  // no accepted hash: not read
  uint64_t bytes_hashed = 0;
};

PieceCheck checkPieces(const VersionStore& store, const std::vector<std::string>& accepted,
                       const std::vector<uint32_t>& pieces);

}  // namespace shardcast::agent
