// Renders rollout status for people: a header line and one progress bar per
// region. Pure functions of an api::RolloutStatus; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/api/rollout.h"

namespace shardcast::cli {

// "512.0 MiB", "1.5 GiB", "900 B".
std::string formatBytes(uint64_t bytes);
// "[#########-----------]" of `width` cells for done/total.
std::string progressBar(uint64_t done, uint64_t total, int width);
// The multi-line view shown by `shardcast status`.
std::string renderStatus(const api::RolloutStatus& s, bool with_nodes);
// One line per rollout, for `shardcast list`.
std::string renderList(const std::vector<api::RolloutStatus>& rollouts);

}  // namespace shardcast::cli
