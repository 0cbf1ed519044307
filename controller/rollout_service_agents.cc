// RolloutService: the agent side (registration, assignments long-poll, peers,
// piece reports). See rollout_service.h.
#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/sha256.h"
#include "controller/origin_share.h"
#include "controller/rollout_codec.h"
#include "controller/rollout_service.h"

namespace shardcast::controller {
namespace {

Status unknownNode(const std::string& node) {
  return notFound("node '" + node.substr(0, 64) + "' is not registered (PUT /v1/nodes/{node} first)",
                  "unknown_node");
}

bool isReportState(const std::string& s) {
  return s.empty() || s == api::kNodePending || s == api::kNodeFetching || s == api::kNodeReady ||
         s == api::kNodeFailed;
}

}  // namespace

Result<api::HeartbeatReply> RolloutService::heartbeat(const api::NodeInfo& info) {
  RETURN_IF_ERROR(validateNodeInfo(info));
  Later later;
  {
    std::lock_guard<std::mutex> l(mu_);
    bool was_live = nodes_.isLive(info.name);
    NodeUpsert change = nodes_.upsert(info);
    if (change.is_new) {
      LOG_INFO("node " << info.name << " registered: region=" << info.region
                       << " zone=" << info.zone << " peer=" << info.peer_addr);
    } else if (change.restarted || !was_live) {
      LOG_INFO("node " << info.name << (change.restarted ? " restarted" : " is back")
                       << (was_live ? " within the node timeout; it keeps its stripes" : ""));
    }
    if (change.is_new || change.placement_changed) {
      answerWoken(watch_.markChanged({info.name}), later);
    }
    // Stored in a batch by the next tick(): a fleet registering at once costs a few
    // commits, not one per node. A node lost with a crash before then registers again.
    if (change.is_new || change.placement_changed || change.restarted) unsaved_nodes_.insert(info.name);
    addPublishedRows(info);
  }
  runAll(later);
  api::HeartbeatReply reply;
  // A few heartbeats fit in T, so one lost heartbeat does not make a node dead.
  reply.heartbeat_interval_ms = PollPacing::heartbeatMs(
      options_.node_timeout_ms, PollPacing::intervalMs(nodes_.size(), options_.agent_requests_per_s));
  return reply;
}

void RolloutService::watchAssignments(const std::string& node, uint64_t cursor, int64_t wait_ms,
                                      AssignmentsCallback reply) {
  Later later;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!nodes_.find(node)) {
      later.push_back([reply, node] { reply(unknownNode(node)); });
    } else {
      nodes_.touch(node);
      bool changed = watch_.changedSince(node, cursor);
      if (changed || wait_ms <= 0 || shutting_down_) {
        auto answer = assignmentsOf(node, changed ? watch_.counter() : cursor);
        later.push_back([reply, answer] { reply(answer); });
      } else {
        int64_t wait = std::min(wait_ms, options_.max_wait_ms);
        answerWithCursor(
            watch_.addWaiter(AssignmentWaiter{node, cursor, clock_.nowMs() + wait, std::move(reply)}),
            later);
      }
    }
  }
  runAll(later);
}

Result<api::PeersReply> RolloutService::peers(const std::string& id, const std::string& node,
                                              uint64_t hash_cursor) {
  std::lock_guard<std::mutex> l(mu_);
  Rollout* r = findRollout(id);
  if (!r) return notFound("rollout '" + id.substr(0, 64) + "' not found");
  const NodeRecord* me = nodes_.find(node);
  if (!me) return unknownNode(node);
  nodes_.touch(node);
  if (!r->matches(me->info)) {
    return failedPrecondition("node " + node + " is not targeted by rollout " + id, "not_targeted");
  }
  api::PeersReply reply;
  reply.rollout_state = r->state();
  if (r->addNode(me->info)) LOG_INFO("node " << node << " joined rollout " << id);
  if (r->stopped()) return reply;  // the agent stops; nothing more to hand out

  const std::string& region = me->info.region;
  RETURN_IF_ERROR(ensurePlan(*r, region));
  RETURN_IF_ERROR(reassignDeadSeeders(*r, region));
  const RegionState* rs = r->region(region);
  reply.stripe = rs->plan.piecesOf(node);
  reply.source_index = rs->source_index;
  if (options_.max_origin_requests_per_region > 0 && !reply.stripe.empty()) {
    std::vector<bool> owns(rs->plan.seeders.size(), false);
    for (uint32_t o : rs->plan.owner) {
      if (o < owns.size()) owns[o] = true;
    }
    std::vector<std::string> seeders;  // seeders that own pieces, in plan order
    for (size_t i = 0; i < owns.size(); ++i) {
      if (owns[i]) seeders.push_back(rs->plan.seeders[i]);
    }
    reply.origin_concurrency =
        originConcurrencyShare(options_.max_origin_requests_per_region, seeders, node);
  }

  reply.poll_interval_ms = PollPacing::intervalMs(nodes_.size(), options_.agent_requests_per_s);
  const int64_t now = clock_.nowMs();
  PeerListCache& cache = peer_caches_[id];
  const CachedPeers* cached = cache.find(node, nodes_.version(), now);
  if (!cached) {
    std::vector<PeerCandidate> candidates;
    for (const NodeRecord* n : nodes_.all()) {
      if (n->info.region != region || !r->matches(n->info)) continue;
      candidates.push_back(PeerCandidate{n->info.name, n->info.zone, n->info.peer_addr,
                                         nodes_.isLive(n->info.name), !r->nodeFailed(n->info.name)});
    }
    CachedPeers fresh;
    for (auto& p : selector_.select(node, me->info.zone, candidates)) {
      fresh.peers.push_back(api::PeerEntry{p.name, p.addr, p.zone});
    }
    fresh.role = PeerSelector::zoneRole(node, me->info.zone, candidates);
    fresh.registry_version = nodes_.version();
    fresh.expires_ms = now + PollPacing::peerListTtlMs(reply.poll_interval_ms);
    cached = &cache.put(node, std::move(fresh));
  }
  reply.peers = cached->peers;
  reply.zone_rank = cached->role.rank;
  reply.zone_size = cached->role.size;
  reply.hashes = r->hashesAfter(hash_cursor, options_.max_hashes_per_reply, &reply.hash_cursor);
  return reply;
}

Result<api::PieceReportReply> RolloutService::reportPieces(const std::string& id,
                                                           const api::PieceReport& report) {
  if (!isReportState(report.state)) {
    return invalidArgument("field 'state' must be pending, fetching, ready or failed");
  }
  for (const auto& h : report.hashes) {
    if (!isSha256Hex(h.sha256)) return invalidArgument("hashes must be 64 lowercase hex characters");
  }
  Later later;
  api::PieceReportReply reply;
  {
    std::lock_guard<std::mutex> l(mu_);
    Rollout* r = findRollout(id);
    if (!r) return notFound("rollout '" + id.substr(0, 64) + "' not found");
    const NodeRecord* me = nodes_.find(report.node);
    if (!me) return unknownNode(report.node);
    nodes_.touch(report.node);
    for (const auto& h : report.hashes) {
      if (h.piece >= r->manifest().pieceCount()) {
        return invalidArgument("piece " + std::to_string(h.piece) + " is out of range (the model has " +
                               std::to_string(r->manifest().pieceCount()) + " pieces)");
      }
    }
    if (r->addNode(me->info)) LOG_INFO("node " << report.node << " joined rollout " << id);
    r->applyProgress(me->info, report);
    if (!report.bad_peers.empty()) {
      r->addCorruptReports(static_cast<uint32_t>(report.bad_peers.size()));
      for (const auto& b : report.bad_peers) {
        LOG_WARN("rollout " << id << ": node " << report.node << " reports that peer "
                            << b.peer.substr(0, 64) << " served piece " << b.piece
                            << " failing its accepted hash: " << b.detail.substr(0, 200));
      }
    }
    const std::string& region = me->info.region;
    if (!r->stopped()) {
      RETURN_IF_ERROR(ensurePlan(*r, region));
      RETURN_IF_ERROR(reassignDeadSeeders(*r, region));
    }
    if (!report.hashes.empty() && !r->stopped()) {
      HashJudgement j = r->judgeHashes(region, report.node, report.hashes);
      if (!j.accept.empty() || !j.confirm.empty()) {
        std::vector<StateOp> ops = hashChunkOps(id, r->hashLog(), j.accept);
        if (const RegionState* rs = r->region(region); rs && !j.confirm.empty()) {
          std::vector<bool> confirmed = rs->confirmed;
          for (uint32_t p : j.confirm) confirmed[p] = true;
          for (auto& op : confirmChunkOps(id, region, confirmed, j.confirm)) {
            ops.push_back(std::move(op));
          }
        }
        Status committed = store_.commit(ops);
        if (!committed.isOk()) {
          LOG_ERROR("cannot store accepted hashes of " << id << ": " << committed.message());
          return unavailable("cannot store accepted hashes: " + committed.message());
        }
        r->applyHashes(region, j);
      }
      if (j.ignored) {
        LOG_DEBUG("rollout " << id << ": ignored " << j.ignored << " hashes from " << report.node
                             << ", which is not their seeder");
      }
      for (const auto& c : j.conflicts) reply.conflicting.push_back(c.piece);
      if (!j.conflicts.empty()) {
        std::string message = r->conflictMessage(j.conflicts.front(), report.node);
        LOG_ERROR("rollout " << id << ": " << message << " (accepted "
                             << r->acceptedHash(j.conflicts.front().piece) << ", reported "
                             << j.conflicts.front().sha256 << ")");
        if (!r->terminal()) {
          RolloutRecord next = r->record();
          next.state = api::kRolloutFailed;
          next.message = message;
          next.finished_at_ms = clock_.wallMs();
          RETURN_IF_ERROR(changeRecord(*r, std::move(next), later));
        }
      }
    }
    // A pinned object that changed at the origin cannot be completed by anyone:
    // fail the rollout at once, naming the object (the agent's message does).
    if (report.state == api::kNodeFailed && report.reason == "origin_changed" && !r->terminal()) {
      std::string message = "origin changed (seen by " + report.node.substr(0, 64) +
                            "): " + report.message.substr(0, 512);
      LOG_ERROR("rollout " << id << ": " << message);
      RolloutRecord next = r->record();
      next.state = api::kRolloutFailed;
      next.message = std::move(message);
      next.finished_at_ms = clock_.wallMs();
      RETURN_IF_ERROR(changeRecord(*r, std::move(next), later));
    }
    settle(*r, later);
    reply.rollout_state = r->state();
  }
  runAll(later);
  return reply;
}

Result<api::RolloutStatus> RolloutService::requestPull(const std::string& node,
                                                      const ModelRef& model) {
  Later later;
  api::RolloutStatus status;
  {
    std::lock_guard<std::mutex> l(mu_);
    const NodeRecord* me = nodes_.find(node);
    if (!me) return unknownNode(node);
    nodes_.touch(node);
    Rollout* chosen = nullptr;
    for (const auto& [id, r] : rollouts_) {
      if (r->record().request.model != model || r->stopped()) continue;
      if (!chosen || r->record().created_at_ms > chosen->record().created_at_ms) chosen = r.get();
    }
    if (!chosen) {
      if (manifests_.count(model)) {
        return failedPrecondition("every rollout of " + model.toString() +
                                      " was cancelled or failed; deploy it again to pull it",
                                  "no_active_rollout");
      }
      return notFound("model " + model.toString() +
                          " is unknown to the controller: deploy it first (shardcast deploy " +
                          model.toString() + " --source URI); an on-demand pull needs a source",
                      "unknown_model");
    }
    if (!chosen->matches(me->info)) {
      RolloutRecord next = chosen->record();
      auto& pulled = next.pulled_nodes;
      pulled.insert(std::lower_bound(pulled.begin(), pulled.end(), node), node);
      Status committed = store_.commit({rolloutOp(next)});
      if (!committed.isOk()) {
        LOG_ERROR("cannot store rollout " << chosen->id() << ": " << committed.message());
        return unavailable("cannot store the rollout: " + committed.message());
      }
      chosen->setRecord(std::move(next));
      chosen->addNode(me->info);
      LOG_INFO("node " << node << " (region " << me->info.region << ") pulls "
                       << model.toString() << " on demand: joined rollout " << chosen->id());
      answerWoken(watch_.markChanged({node}), later);
    }
    status = chosen->status(nodes_);
  }
  runAll(later);
  return status;
}

void RolloutService::addPublishedRows(const api::NodeInfo& info) {
  for (auto& [id, r] : rollouts_) {
    if (r->terminal() || r->hasNode(info.name) || !r->matches(info)) continue;
    const std::string model = r->record().request.model.toString();
    if (std::find(info.models.begin(), info.models.end(), model) == info.models.end()) continue;
    api::PieceReport ready;
    ready.node = info.name;
    ready.state = api::kNodeReady;
    ready.pieces_done = r->manifest().pieceCount();
    ready.bytes_done = r->manifest().totalBytes();
    r->applyProgress(info, ready);
    LOG_INFO("node " << info.name << " holds " << model << ": ready in rollout " << id);
  }
}

Status RolloutService::ensurePlan(Rollout& rollout, const std::string& region) {
  if (rollout.region(region)) return Status::ok();
  StripePlan plan = planner_.plan(rollout.pieceSizes(), liveParticipants(rollout, region));
  uint32_t source = pickSourceForRegion(rollout, region);
  Status committed = store_.commit({stripeOp(rollout.id(), region, plan, source)});
  if (!committed.isOk()) {
    LOG_ERROR("cannot store the stripe plan of " << rollout.id() << "/" << region << ": "
                                                 << committed.message());
    return unavailable("cannot store the stripe plan: " + committed.message());
  }
  LOG_INFO("rollout " << rollout.id() << ": region " << region << " planned over "
                      << plan.seeders.size() << " seeders");
  rollout.setPlan(region, std::move(plan), source);
  return Status::ok();
}

Status RolloutService::reassignDeadSeeders(Rollout& rollout, const std::string& region) {
  const RegionState* rs = rollout.region(region);
  if (!rs) return Status::ok();
  // A seeder is gone when silent for longer than T, when it re-registered
  // elsewhere (another region, labels the target no longer matches), or when it
  // reported that it failed this rollout (no space, ...): its unfinished pieces
  // would otherwise wait for it forever.
  std::set<std::string> dead;
  for (const auto& s : rs->plan.seeders) {
    const NodeRecord* n = nodes_.find(s);
    if (!n && reconnecting()) continue;  // not back yet after a controller restart
    if (!n || !nodes_.isLive(s) || n->info.region != region || !rollout.matches(n->info) ||
        rollout.nodeFailed(s)) {
      dead.insert(s);
    }
  }
  if (dead.empty()) return Status::ok();
  uint32_t moved = 0;
  StripePlan next = planner_.reassign(rs->plan, rollout.pieceSizes(), dead,
                                      liveParticipants(rollout, region), rs->confirmed, &moved);
  if (moved == 0) return Status::ok();
  Status committed = store_.commit({stripeOp(rollout.id(), region, next, rs->source_index)});
  if (!committed.isOk()) {
    LOG_ERROR("cannot store the stripe plan of " << rollout.id() << "/" << region << ": "
                                                 << committed.message());
    return unavailable("cannot store the stripe plan: " + committed.message());
  }
  std::string names;
  for (const auto& d : dead) names += (names.empty() ? "" : ", ") + d;
  LOG_WARN("rollout " << rollout.id() << ": region " << region << ": moved " << moved
                      << " unfinished pieces of gone seeders (" << names << ") to live nodes");
  rollout.setPlan(region, std::move(next), rs->source_index);
  return Status::ok();
}

}  // namespace shardcast::controller
