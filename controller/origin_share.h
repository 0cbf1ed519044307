// originConcurrencyShare: divides a region's origin request budget
// (--max-origin-requests-per-region) among the region's seeders, so that the
// region's concurrent origin requests stay within the budget no matter how many
// seeders the stripe plan has. Each agent uses min(its --origin-concurrency, its
// share). Without a budget, a region's origin concurrency is
// S x --origin-concurrency (S = seeders of the region).
//
// The budget M is split as evenly as possible in seeder order: seeder i (0-based)
// gets M / S, plus one when i < M % S; the shares add up to M. Every seeder gets at
// least 1 (a seeder with 0 would never finish its stripe), so with M < S the
// region runs S requests at once: operators who want fewer set --max-seeders.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shardcast::controller {

// 0 when max_per_region is 0 (no budget) or `node` is not in `seeders`.
uint32_t originConcurrencyShare(uint32_t max_per_region, const std::vector<std::string>& seeders,
                                const std::string& node);

}  // namespace shardcast::controller
