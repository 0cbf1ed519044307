// `shardcast index DIR`: writes DIR/shardcast-index.json, the listing an HTTP
// origin serves so agents and the controller can list a prefix without directory
// listings, with each file's SHA-256 as the publisher checksum (DESIGN §3).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace shardcast::cli {

// Walks `dir` (regular files only; symlinks are refused, not followed) and returns
// the index entries [{"path", "size", "sha256"}] sorted by path. The index file
// itself is skipped.
Result<nlohmann::json> buildIndex(const std::string& dir);

int runIndex(const std::vector<std::string>& args);

}  // namespace shardcast::cli
