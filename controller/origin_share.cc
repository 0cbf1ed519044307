#include "controller/origin_share.h"

#include <algorithm>

namespace shardcast::controller {

uint32_t originConcurrencyShare(uint32_t max_per_region, const std::vector<std::string>& seeders,
                                const std::string& node) {
  if (max_per_region == 0) return 0;
  auto it = std::find(seeders.begin(), seeders.end(), node);
  if (it == seeders.end()) return 0;
  const uint32_t s = static_cast<uint32_t>(seeders.size());
  const uint32_t rank = static_cast<uint32_t>(it - seeders.begin());
  uint32_t share = max_per_region / s + (rank < max_per_region % s ? 1 : 0);
  return std::max<uint32_t>(1, share);
}

}  // namespace shardcast::controller
