#include "controller/rollout_service.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/log.h"
#include "controller/rollout_codec.h"
#include "controller/rollout_restore.h"

namespace shardcast::controller {

RolloutService::RolloutService(const ObjectStoreRegistry& registry, const Clock& clock,
                               StateStore& store, ControllerOptions options, uint64_t seed)
    : clock_(clock),
      store_(store),
      options_(options),
      lister_(registry, options.list_timeout_ms),
      planner_(options.max_seeders),
      selector_(options.peers_per_node),
      nodes_(clock, options.node_timeout_ms),
      // Cursors start at the wall clock so they keep growing across restarts.
      watch_(static_cast<uint64_t>(std::max<int64_t>(0, clock.wallMs()))),
      rng_(seed) {}

void RolloutService::runAll(Later& later) {
  for (auto& f : later) f();
  later.clear();
}

Status RolloutService::restore(const StateSnapshot& snapshot) {
  ASSIGN_OR_RETURN(RestoredState restored, restoreRollouts(snapshot));
  Later later;
  {
    std::lock_guard<std::mutex> l(mu_);
    rollouts_.clear();
    size_t in_progress = 0, hashes = 0;
    for (auto& r : restored.rollouts) {
      in_progress += !r->terminal();
      hashes += r->hashLog().size();
      std::string id = r->id();
      rollouts_[id] = std::move(r);
    }
    manifests_ = std::move(restored.manifests);
    for (const auto& n : restored.nodes) nodes_.restore(n);
    if (in_progress > 0) reconnect_until_ms_ = clock_.nowMs() + options_.node_timeout_ms;
    std::vector<std::string> known;
    for (const NodeRecord* n : nodes_.all()) known.push_back(n->info.name);
    answerWoken(watch_.markChanged(known), later);
    LOG_INFO("restored " << rollouts_.size() << " rollouts (" << in_progress << " in progress), "
                       << restored.nodes.size() << " nodes, " << manifests_.size() << " manifests and " << hashes
                       << " accepted hashes from state revision " << snapshot.revision
                       << (restored.skipped_keys ? ", skipped " + std::to_string(restored.skipped_keys) +
                                                       " unknown keys"
                                                 : std::string()));
  }
  runAll(later);
  return Status::ok();
}

Result<api::RolloutStatus> RolloutService::createRollout(const api::RolloutRequest& request) {
  // Listing may take up to the list timeout: no lock held.
  ASSIGN_OR_RETURN(Manifest built, lister_.buildManifest(request));
  auto manifest = std::make_shared<const Manifest>(std::move(built));

  Later later;
  api::RolloutStatus status;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto existing = manifests_.find(request.model);
    if (existing != manifests_.end() && !existing->second->sameContent(*manifest)) {
      return failedPrecondition("model " + request.model.toString() +
                                    " was already deployed with different content; versions are "
                                    "immutable, deploy a new version",
                                "version_immutable");
    }
    RolloutRecord record;
    record.id = newRolloutId();
    record.request = request;
    record.created_at_ms = clock_.wallMs();
    auto rollout = std::make_unique<Rollout>(record, manifest);

    // Targeted now: every live matching node. Each region with such nodes gets
    // its stripe plan over them; later regions get theirs on first contact.
    std::map<std::string, std::vector<std::string>> by_region;
    for (const NodeRecord* n : nodes_.all()) {
      if (!rollout->matches(n->info) || !nodes_.isLive(n->info.name)) continue;
      rollout->addNode(n->info);
      by_region[n->info.region].push_back(n->info.name);
    }
    std::vector<StateOp> ops{manifestOp(*manifest), rolloutOp(record)};
    std::vector<uint64_t> sizes = rollout->pieceSizes();
    for (const auto& [region, names] : by_region) {
      StripePlan plan = planner_.plan(sizes, names);  // names are sorted (registry order)
      uint32_t source = pickSourceForRegion(*rollout, region);
      ops.push_back(stripeOp(record.id, region, plan, source));
      rollout->setPlan(region, std::move(plan), source);
    }
    Status committed = store_.commit(ops);
    if (!committed.isOk()) {
      LOG_ERROR("cannot store rollout " << record.id << ": " << committed.message());
      return unavailable("cannot store the rollout: " + committed.message());
    }
    // Same content deployed again: the newest manifest (its pins) is what
    // GET /v1/manifests serves; each rollout keeps the one it was created with.
    manifests_[request.model] = manifest;
    Rollout& r = *rollout;
    rollouts_[record.id] = std::move(rollout);
    status = r.status(nodes_);
    LOG_INFO("rollout " << record.id << " of " << request.model.toString() << " created: "
                        << manifest->files().size() << " files, " << manifest->totalBytes()
                        << " bytes, " << manifest->pieceCount() << " pieces, "
                        << status.nodes.size() << " nodes targeted, " << by_region.size()
                        << " regions planned");
    answerWoken(watch_.markChanged(matchingNodes(r)), later);
  }
  runAll(later);
  return status;
}

Result<api::RolloutStatus> RolloutService::getRollout(const std::string& id) const {
  std::lock_guard<std::mutex> l(mu_);
  Rollout* r = findRollout(id);
  if (!r) return notFound("rollout '" + id.substr(0, 64) + "' not found");
  return r->status(nodes_);
}

std::vector<api::RolloutStatus> RolloutService::listRollouts() const {
  std::lock_guard<std::mutex> l(mu_);
  return statusesOldestFirst(rollouts_, nodes_);
}

Result<api::RolloutStatus> RolloutService::cancelRollout(const std::string& id) {
  Later later;
  api::RolloutStatus status;
  {
    std::lock_guard<std::mutex> l(mu_);
    Rollout* r = findRollout(id);
    if (!r) return notFound("rollout '" + id.substr(0, 64) + "' not found");
    if (r->state() != api::kRolloutCancelled) {
      if (r->terminal()) {
        return failedPrecondition("rollout " + id + " already ended (" + r->state() + ")",
                                  "rollout_ended");
      }
      RolloutRecord next = r->record();
      next.state = api::kRolloutCancelled;
      next.message = "cancelled";
      next.finished_at_ms = clock_.wallMs();
      RETURN_IF_ERROR(changeRecord(*r, std::move(next), later));
    }
    status = r->status(nodes_);
  }
  runAll(later);
  return status;
}

Result<Manifest> RolloutService::manifest(const ModelRef& model) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = manifests_.find(model);
  if (it == manifests_.end()) return notFound("no manifest for " + model.toString());
  return *it->second;
}

void RolloutService::tick() {
  Later later;
  {
    std::lock_guard<std::mutex> l(mu_);
    answerWithCursor(watch_.takeExpired(clock_.nowMs()), later);
    for (auto& [id, r] : rollouts_) settle(*r, later);
    storeNodes();
  }
  runAll(later);
}

void RolloutService::storeNodes() {
  // In commits of at most kNodesPerCommit: each fits one etcd txn (128 ops), so a
  // fleet registering at once is not written as one oversized, non-atomic batch.
  constexpr size_t kNodesPerCommit = 100;
  std::vector<StateOp> ops;
  for (auto it = unsaved_nodes_.begin(); it != unsaved_nodes_.end();) {
    ops.clear();
    auto end = it;
    for (size_t k = 0; k < kNodesPerCommit && end != unsaved_nodes_.end(); ++k, ++end) {
      if (const NodeRecord* n = nodes_.find(*end)) ops.push_back(nodeOp(n->info));
    }
    Status committed = store_.commit(ops);
    if (!committed.isOk()) {
      LOG_WARN("cannot store " << std::distance(it, unsaved_nodes_.end())
                               << " node registrations (retried at the next tick): " << committed.message());
      return;
    }
    it = unsaved_nodes_.erase(it, end);
  }
}

void RolloutService::shutdown() {
  Later later;
  {
    std::lock_guard<std::mutex> l(mu_);
    shutting_down_ = true;
    answerWithCursor(watch_.takeAll(), later);
  }
  runAll(later);
}

ServiceStats RolloutService::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  ServiceStats s;
  for (const auto& [id, r] : rollouts_) ++s.rollouts_by_state[r->record().state];
  for (const NodeRecord* n : nodes_.all()) {
    ++s.nodes;
    s.live_nodes += nodes_.isLive(n->info.name);
  }
  s.long_polls = watch_.waiterCount();
  return s;
}

size_t RolloutService::waiterCount() const {
  std::lock_guard<std::mutex> l(mu_);
  return watch_.waiterCount();
}

// ---- helpers; mu_ held ----

Rollout* RolloutService::findRollout(const std::string& id) const {
  auto it = rollouts_.find(id);
  return it == rollouts_.end() ? nullptr : it->second.get();
}

std::vector<std::string> RolloutService::matchingNodes(const Rollout& rollout) const {
  std::vector<std::string> out;
  for (const NodeRecord* n : nodes_.all()) {
    if (rollout.matches(n->info)) out.push_back(n->info.name);
  }
  return out;
}

std::vector<std::string> RolloutService::liveParticipants(const Rollout& rollout,
                                                          const std::string& region) const {
  std::vector<std::string> out;
  for (const NodeRecord* n : nodes_.all()) {
    if (n->info.region == region && rollout.matches(n->info) && nodes_.isLive(n->info.name) &&
        !rollout.nodeFailed(n->info.name)) {
      out.push_back(n->info.name);
    }
  }
  return out;
}

api::Assignments RolloutService::assignmentsOf(const std::string& node, uint64_t cursor) const {
  api::Assignments a;
  a.cursor = cursor;
  const NodeRecord* n = nodes_.find(node);
  if (!n) return a;
  std::vector<const Rollout*> mine;
  for (const auto& [id, r] : rollouts_) {
    if (r->matches(n->info)) mine.push_back(r.get());
  }
  std::sort(mine.begin(), mine.end(), [](const Rollout* x, const Rollout* y) {
    return x->record().created_at_ms != y->record().created_at_ms
               ? x->record().created_at_ms < y->record().created_at_ms
               : x->id() < y->id();
  });
  for (const Rollout* r : mine) {
    a.rollouts.push_back(api::AssignmentEntry{r->id(), r->record().request.model, r->state()});
  }
  return a;
}

void RolloutService::answerWoken(std::vector<AssignmentWaiter> woken, Later& later) {
  for (auto& w : woken) {
    auto answer = assignmentsOf(w.node, watch_.counter());
    later.push_back([reply = std::move(w.reply), answer = std::move(answer)] { reply(answer); });
  }
}

void RolloutService::answerWithCursor(std::vector<AssignmentWaiter> waiters, Later& later) {
  for (auto& w : waiters) {
    auto answer = assignmentsOf(w.node, w.cursor);
    later.push_back([reply = std::move(w.reply), answer = std::move(answer)] { reply(answer); });
  }
}

uint32_t RolloutService::pickSourceForRegion(const Rollout&, const std::string&) const { return 0; }

Status RolloutService::changeRecord(Rollout& rollout, RolloutRecord next, Later& later) {
  Status committed = store_.commit({rolloutOp(next)});
  if (!committed.isOk()) {
    LOG_ERROR("cannot store rollout " << rollout.id() << ": " << committed.message());
    return unavailable("cannot store the rollout's state: " + committed.message());
  }
  LOG_INFO("rollout " << rollout.id() << " is " << next.state
                      << (next.message.empty() ? "" : ": " + next.message));
  if (api::isTerminalRolloutState(next.state)) peer_caches_.erase(rollout.id());
  rollout.setRecord(std::move(next));
  answerWoken(watch_.markChanged(matchingNodes(rollout)), later);
  return Status::ok();
}

void RolloutService::settle(Rollout& rollout, Later& later) {
  // Right after a restore the node rows are still filling up as agents report.
  if (reconnecting()) return;
  auto next = rollout.judgeState(nodes_, clock_.wallMs());
  if (next) (void)changeRecord(rollout, std::move(*next), later);  // logged; retried next tick
}

std::string RolloutService::newRolloutId() {
  for (;;) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%012llx",
                  static_cast<unsigned long long>(rng_() & 0xffffffffffffull));
    std::string id = std::string("ro-") + buf;
    if (!rollouts_.count(id)) return id;
  }
}

Status validateNodeInfo(const api::NodeInfo& info) {
  auto printable = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
  };
  const std::string& n = info.name;
  if (n.empty() || n.size() > 253 ||
      !std::all_of(n.begin(), n.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-';
      })) {
    return invalidArgument("node name must be 1-253 characters of [A-Za-z0-9._-]");
  }
  if (info.region.size() > 128 || info.zone.size() > 128 || !printable(info.region) ||
      !printable(info.zone)) {
    return invalidArgument("region and zone must be at most 128 printable characters");
  }
  if (info.peer_addr.size() > 300 || !printable(info.peer_addr)) {
    return invalidArgument("peer_addr must be a host:port of at most 300 characters");
  }
  if (info.incarnation.size() > 128) return invalidArgument("incarnation is too long");
  if (info.labels.size() > 64) return invalidArgument("at most 64 labels per node");
  for (const auto& [k, v] : info.labels) {
    if (k.empty() || k.size() > 253 || v.size() > 253) {
      return invalidArgument("label keys must be 1-253 characters and values at most 253");
    }
  }
  if (info.models.size() > 10000) return invalidArgument("too many models listed");
  return Status::ok();
}

}  // namespace shardcast::controller
