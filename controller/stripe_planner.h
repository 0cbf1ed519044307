// StripePlanner: the pure policy that splits a model's pieces over a region's
// origin seeders (DESIGN §4 "Striped seeding"). Each piece gets exactly one seeder,
// the only node of the region that pulls it from the origin.
//
// plan(): S = min(max_seeders, candidates) seeders, the first S candidates in the
// order given (callers pass node names sorted). Pieces are handed out in order,
// each to the seeder with the fewest bytes so far (ties: lowest index), which
// interleaves the seeders over the files and balances their bytes within one piece.
//
// reassign(): the only way a plan changes. Unfinished pieces of dead seeders move
// to live nodes, balanced by the bytes of unfinished pieces each already holds;
// finished pieces and the pieces of live seeders never move, and the plan is never
// recomputed wholesale. Moved pieces go to live seeders and, while fewer than
// max_seeders live seeders remain, to new nodes (appended to `seeders`).
//
// Pure: no I/O, no clock, no randomness; thread-safe (const methods only).
// Not responsible for deciding who is dead or which pieces are finished.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace shardcast::controller {

struct StripePlan {
  std::vector<std::string> seeders;  // node names; an index into this is a seeder id
  std::vector<uint32_t> owner;       // per piece: index into `seeders`

  // Pieces whose seeder is `name`, ascending.
  std::vector<uint32_t> piecesOf(const std::string& name) const;
  // Number of distinct seeders that own at least one piece.
  uint32_t activeSeeders() const;
  bool empty() const { return seeders.empty(); }
  bool operator==(const StripePlan&) const = default;
};

class StripePlanner {
 public:
  static constexpr uint32_t kDefaultMaxSeeders = 16;

  explicit StripePlanner(uint32_t max_seeders = kDefaultMaxSeeders);

  // An empty plan when there are no candidates.
  StripePlan plan(const std::vector<uint64_t>& piece_sizes,
                  const std::vector<std::string>& candidates) const;

  // Returns `plan` with the unfinished pieces (done[p] == false) of the seeders in
  // `dead` moved to nodes of `live_candidates` (in preference order; names in `dead`
  // are skipped). Unchanged when nothing needs to move or no live node is left.
  // `moved`, when not null, receives the number of pieces that moved.
  StripePlan reassign(const StripePlan& plan, const std::vector<uint64_t>& piece_sizes,
                      const std::set<std::string>& dead,
                      const std::vector<std::string>& live_candidates,
                      const std::vector<bool>& done, uint32_t* moved = nullptr) const;

  uint32_t maxSeeders() const { return max_seeders_; }

 private:
  uint32_t max_seeders_;
};

}  // namespace shardcast::controller
