// Rollout: the controller's state of one rollout and the rules over it (DESIGN §3,
// §4): which nodes it targets, each node's progress row, each region's stripe plan
// and source replica, the append-only log of accepted piece hashes, and how the
// rollout's state follows from its nodes.
//
// Changes come in two steps so that the owner can make them durable first:
// judge*() computes what a change would be without touching anything, the owner
// commits that to the StateStore, then apply*()/set*() makes it visible. Node
// progress rows and corrupt-report counts are soft state (agents report them
// again) and change directly.
//
// After a controller restart, restore*() and setPlan() rebuild the durable part
// from the StateStore (rollout_restore.h); node rows start empty and fill up as
// agents report again.
//
// Not thread-safe: RolloutService guards every Rollout with its mutex. Does no
// I/O and reads no clock (times are passed in).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/manifest.h"
#include "controller/node_registry.h"
#include "controller/stripe_planner.h"

namespace shardcast::controller {

// The durable part of a rollout.
struct RolloutRecord {
  std::string id;
  api::RolloutRequest request;
  std::string state = api::kRolloutInProgress;
  std::string message;         // why it failed or degraded
  int64_t created_at_ms = 0;   // wall clock
  int64_t finished_at_ms = 0;  // wall clock; 0 while in progress
  // Nodes outside the target that asked for the model (POST /v1/nodes/{node}/pulls):
  // they participate like targeted nodes. Sorted, no duplicates.
  std::vector<std::string> pulled_nodes;
};

struct RegionState {
  StripePlan plan;
  std::vector<bool> confirmed;  // per piece: this region's seeder reported the accepted hash
  uint32_t source_index = 0;    // which replica of the sources this region pulls from
};

// What a batch of hash reports from one node means.
struct HashJudgement {
  std::vector<api::PieceHash> accept;     // first reports: appended to the log, in order
  std::vector<uint32_t> confirm;          // pieces this region's seeder now has done
  std::vector<api::PieceHash> conflicts;  // contradict an accepted hash
  uint32_t ignored = 0;                   // unaccepted pieces from a node that is not their seeder
};

class Rollout {
 public:
  Rollout(RolloutRecord record, std::shared_ptr<const Manifest> manifest);

  const RolloutRecord& record() const { return record_; }
  const std::string& id() const { return record_.id; }
  const std::string& state() const { return record_.state; }
  bool terminal() const { return api::isTerminalRolloutState(record_.state); }
  // True for failed and cancelled rollouts: agents stop, nothing more is accepted.
  bool stopped() const;
  const Manifest& manifest() const { return *manifest_; }
  const std::shared_ptr<const Manifest>& manifestPtr() const { return manifest_; }
  std::vector<uint64_t> pieceSizes() const;
  // Region in target.regions (or regions empty) and every selector label equal,
  // or the node pulled the model on demand.
  bool matches(const api::NodeInfo& node) const;

  // --- node rows (soft state) ---
  bool hasNode(const std::string& name) const { return rows_.count(name) > 0; }
  // The node reported that it failed this rollout (no space, corrupt source...).
  bool nodeFailed(const std::string& name) const {
    auto it = rows_.find(name);
    return it != rows_.end() && it->second.state == api::kNodeFailed;
  }
  // Adds a pending row for a targeted node; returns true when it is new.
  bool addNode(const api::NodeInfo& node);
  // Updates the node's row from a report (adding the row if needed). Empty report
  // fields leave the state as it was.
  void applyProgress(const api::NodeInfo& node, const api::PieceReport& report);
  void addCorruptReports(uint32_t n) { corrupt_reports_ += n; }

  // --- regions ---
  const RegionState* region(const std::string& name) const;
  const std::map<std::string, RegionState>& regions() const { return regions_; }
  // Installs a region's plan (new, or reassigned from the current one).
  void setPlan(const std::string& region, StripePlan plan, uint32_t source_index);

  // --- accepted hashes ---
  HashJudgement judgeHashes(const std::string& region, const std::string& node,
                            const std::vector<api::PieceHash>& hashes) const;
  void applyHashes(const std::string& region, const HashJudgement& judgement);
  const std::vector<api::PieceHash>& hashLog() const { return hash_log_; }
  // The accepted hash of a piece, "" when none yet.
  const std::string& acceptedHash(uint32_t piece) const { return accepted_.at(piece); }
  // Log entries after `cursor` (a cursor past the end, from an earlier controller,
  // starts over at 0), at most `max`; *next receives the cursor to pass back.
  std::vector<api::PieceHash> hashesAfter(uint64_t cursor, size_t max, uint64_t* next) const;
  // The failure message for a conflicting report (DESIGN §3 "origin changed").
  std::string conflictMessage(const api::PieceHash& conflict, const std::string& node) const;

  // --- restore (from the StateStore after a restart) ---
  // Installs the accepted-hash log as stored, in its order (agents' hash cursors
  // index into it). Corruption on a piece out of range or accepted twice.
  Status restoreHashes(std::vector<api::PieceHash> log);
  // Marks pieces of a planned region as confirmed by its seeders. Pieces without
  // an accepted hash are skipped (their seeder reports them again).
  Status restoreConfirmed(const std::string& region, const std::vector<uint32_t>& pieces);

  // --- state ---
  // The record after judging the node rows (ready / degraded / failed), or nullopt
  // when the state does not change. Terminal states never change.
  std::optional<RolloutRecord> judgeState(const NodeRegistry& nodes, int64_t wall_ms) const;
  void setRecord(RolloutRecord record) { record_ = std::move(record); }

  api::RolloutStatus status(const NodeRegistry& nodes) const;

 private:
  // The row as callers see it: a node silent for longer than T that is not ready
  // counts as failed with reason "node_lost".
  api::NodeProgress effectiveRow(const api::NodeProgress& row, const NodeRegistry& nodes) const;

  RolloutRecord record_;
  std::shared_ptr<const Manifest> manifest_;
  std::map<std::string, api::NodeProgress> rows_;  // by node name
  std::map<std::string, RegionState> regions_;     // by region name
  std::vector<std::string> accepted_;              // per piece; "" = not yet
  std::vector<api::PieceHash> hash_log_;           // append-only
  uint32_t corrupt_reports_ = 0;
};

// The statuses of `rollouts` (by id), oldest first (then by id): what
// GET /v1/rollouts lists, from the leader's service or a follower's view.
std::vector<api::RolloutStatus> statusesOldestFirst(
    const std::map<std::string, std::unique_ptr<Rollout>>& rollouts, const NodeRegistry& nodes);

}  // namespace shardcast::controller
