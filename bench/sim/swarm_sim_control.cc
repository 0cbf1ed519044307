// SwarmSim: set-up and the controller's side (peer hand-out, stripe plan, nodes
// leaving and joining), and the summary of a run.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "bench/sim/swarm_sim.h"
#include "controller/origin_share.h"

namespace shardcast::bench {
namespace {

std::string nodeName(uint32_t i, int width) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "n%0*u", width, i);
  return buf;
}

}  // namespace

void SwarmSim::build() {
  const uint32_t n0 = c_.nodes;
  const uint32_t joins = static_cast<uint32_t>(std::lround(c_.churn_join * n0));
  const uint32_t total = n0 + joins;
  const int width = static_cast<int>(std::to_string(total).size());
  nodes_.resize(total);
  std::vector<uint32_t> order(n0);
  for (uint32_t i = 0; i < n0; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng_);
  const uint32_t stragglers = static_cast<uint32_t>(std::lround(c_.stragglers * n0));
  for (uint32_t k = 0; k < stragglers; ++k) nodes_[order[k]].straggler = true;
  std::uniform_real_distribution<double> phase(0, 1);
  for (uint32_t i = 0; i < total; ++i) {
    Node& n = nodes_[i];
    n.name = nodeName(i, width);
    n.zone = i % c_.zones;
    n.zone_name = "z" + std::to_string(n.zone);
    double link = n.straggler ? c_.rate * c_.straggler_factor : c_.rate;
    n.up = net_.addResource(link);
    n.down = net_.addResource(link);
    n.original = i < n0;
    n.registered = n.original;
    n.have = Bitfield(pieces_);
    n.phase = phase(rng_) * c_.bitfield_poll_s * scale_;
  }
  origin_res_ = net_.addResource(c_.origin_rate);
  if (c_.aggregate_rate > 0) aggregate_res_ = net_.addResource(c_.aggregate_rate);
  if (c_.zones > 1 && c_.zone_rate > 0) {
    zone_links_.assign(c_.zones * c_.zones, 0);
    for (uint32_t a = 0; a < c_.zones; ++a) {
      for (uint32_t b = 0; b < c_.zones; ++b) {
        zone_links_[a * c_.zones + b] = net_.addResource(a == b ? FlowNetwork::kUnlimited : c_.zone_rate);
      }
    }
  }
  accepted_.assign(pieces_, false);
  // The controller hands out peers (every node ranks the whole region) and plans
  // the stripes over the nodes registered when the rollout reaches the region.
  auto all = candidates();
  for (uint32_t i = 0; i < n0; ++i) nodes_[i].next_peers = selectPeers(i, all);
  assignZoneRoles();
  std::vector<std::string> names;
  for (uint32_t i = 0; i < n0; ++i) names.push_back(nodes_[i].name);
  plan_ = planner_.plan(layout_.sizes, names);
  applyPlan();
  unfinished_ = n0;
  for (uint32_t i = 0; i < n0; ++i) push(c_.start_delay_s, Ev::kStart, i);
  planChurn();
}

void SwarmSim::planChurn() {
  const double floor_s = static_cast<double>(c_.size) / c_.rate;
  std::uniform_real_distribution<double> when(c_.churn_from * floor_s, c_.churn_to * floor_s);
  const uint32_t n0 = c_.nodes;
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < n0; ++i) {
    if (!c_.churn_spares_seeders || nodes_[i].stripe.empty()) order.push_back(i);
  }
  std::shuffle(order.begin(), order.end(), rng_);
  const uint32_t leaves = static_cast<uint32_t>(std::lround(c_.churn_leave * n0));
  for (uint32_t k = 0; k < leaves && k < order.size(); ++k) push(when(rng_), Ev::kLeave, order[k]);
  for (uint32_t i = n0; i < nodes_.size(); ++i) push(when(rng_), Ev::kJoin, i);
}

std::vector<controller::PeerCandidate> SwarmSim::candidates() const {
  std::vector<controller::PeerCandidate> out;
  out.reserve(nodes_.size());
  for (const Node& n : nodes_) {
    if (n.registered && !n.ctl_dead) out.push_back(controller::PeerCandidate{n.name, n.zone_name, n.name, true});
  }
  return out;
}

void SwarmSim::assignZoneRoles() {
  // PeerSelector::zoneRole ranks by name within the zone; sorting each zone once
  // gives the same ranks in O(N log N) instead of O(N^2) calls.
  std::vector<std::vector<uint32_t>> members(c_.zones);
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].registered && !nodes_[i].ctl_dead) members[nodes_[i].zone].push_back(i);
  }
  uint32_t zones_present = 0;
  for (const auto& m : members) zones_present += m.empty() ? 0 : 1;
  for (auto& m : members) {
    std::sort(m.begin(), m.end(), [&](uint32_t a, uint32_t b) { return nodes_[a].name < nodes_[b].name; });
    for (uint32_t r = 0; r < m.size(); ++r) {
      Node& n = nodes_[m[r]];
      const uint32_t rank = zones_present > 1 ? r : 0;
      const uint32_t size = zones_present > 1 ? static_cast<uint32_t>(m.size()) : 0;
      if (n.zone_rank == rank && n.zone_size == size) continue;
      n.zone_rank = rank;
      n.zone_size = size;
      n.role_changed = true;
      if (n.state == State::kFetching) schedulePoll(m[r], false);
    }
  }
}

std::vector<uint32_t> SwarmSim::selectPeers(uint32_t node,
                                            const std::vector<controller::PeerCandidate>& from) const {
  std::vector<uint32_t> out;
  for (const auto& p : selector_.select(nodes_[node].name, nodes_[node].zone_name, from)) {
    out.push_back(indexOf(p.name));
  }
  return out;
}

void SwarmSim::setPeerList(uint32_t node, std::vector<uint32_t> peers) {
  Node& n = nodes_[node];
  std::vector<uint32_t> seen(peers.size(), kNever);
  for (size_t k = 0; k < peers.size(); ++k) {
    auto it = std::find(n.peers.begin(), n.peers.end(), peers[k]);
    if (it != n.peers.end()) seen[k] = n.seen[static_cast<size_t>(it - n.peers.begin())];
  }
  for (uint32_t old : n.peers) {
    auto& w = nodes_[old].watchers;
    w.erase(std::remove(w.begin(), w.end(), node), w.end());
  }
  for (uint32_t p : peers) nodes_[p].watchers.push_back(node);
  n.peers = std::move(peers);
  n.seen = std::move(seen);
}

void SwarmSim::applyPlan() {
  std::vector<bool> owns(plan_.seeders.size(), false);
  for (uint32_t o : plan_.owner) owns[o] = true;
  std::vector<std::string> active;
  for (size_t s = 0; s < plan_.seeders.size(); ++s) {
    if (owns[s]) active.push_back(plan_.seeders[s]);
  }
  std::set<std::string> done;
  for (const std::string& name : plan_.seeders) {
    if (!done.insert(name).second) continue;
    Node& n = nodes_[indexOf(name)];
    std::vector<uint32_t> stripe = plan_.piecesOf(name);
    n.origin_share = controller::originConcurrencyShare(c_.max_origin_requests_per_region, active, name);
    if (stripe == n.stripe) continue;
    n.stripe = std::move(stripe);
    n.stripe_changed = true;
    if (n.state == State::kFetching) schedulePoll(indexOf(name), false);
  }
}

void SwarmSim::onLeave(uint32_t node) {
  Node& n = nodes_[node];
  if (n.state == State::kGone) return;
  if (n.state != State::kReady) --unfinished_;
  n.state = State::kGone;
  n.leave_s = now_;
  for (uint32_t id = 0; id < requests_.size(); ++id) {
    Request& q = requests_[id];
    if (!q.live || (q.src != node && q.dst != node)) continue;
    if (q.dst == node) {
      abortRequest(id, q.src == kOrigin);  // bytes the origin already sent count
      continue;
    }
    // The receiver's transfer fails: the agent drops the peer's bitfield.
    const uint32_t d = q.dst, piece = q.piece;
    abortRequest(id, false);
    Node& r = nodes_[d];
    dropFromInbox(d, id);
    r.sched->onRequestDone(piece, n.name, false);
    r.sched->onPeerUnreachable(n.name);
    auto it = std::find(r.peers.begin(), r.peers.end(), node);
    if (it != r.peers.end()) r.seen[static_cast<size_t>(it - r.peers.begin())] = kNever;
    trySchedule(d);
    maybeFinish(d);
  }
  n.pulling = n.held = n.origin_requests = 0;
  n.pulls.clear();
  notifyWatchers(node);
  push(now_ + c_.node_timeout_s, Ev::kDead, node);
}

void SwarmSim::onDead(uint32_t node) {
  // Silent for longer than T: no longer handed out, and its unfinished stripe moves.
  nodes_[node].ctl_dead = true;
  assignZoneRoles();
  auto all = candidates();
  std::vector<uint32_t> affected;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (std::find(n.next_peers.begin(), n.next_peers.end(), node) != n.next_peers.end()) {
      affected.push_back(i);
    }
  }
  for (uint32_t i : affected) {
    nodes_[i].next_peers = selectPeers(i, all);
    nodes_[i].peers_changed = true;
    if (nodes_[i].state == State::kFetching) schedulePoll(i, false);
  }
  reassignStripes();
}

void SwarmSim::reassignStripes() {
  std::set<std::string> dead;
  for (const std::string& s : plan_.seeders) {
    if (nodes_[indexOf(s)].ctl_dead) dead.insert(s);
  }
  if (dead.empty()) return;
  std::vector<std::string> live;
  for (const Node& n : nodes_) {
    if (n.registered && !n.ctl_dead) live.push_back(n.name);
  }
  uint32_t moved = 0;
  controller::StripePlan next = planner_.reassign(plan_, layout_.sizes, dead, live, accepted_, &moved);
  if (moved == 0) return;
  pieces_moved_ += moved;
  plan_ = std::move(next);
  applyPlan();
}

void SwarmSim::onJoin(uint32_t node) {
  Node& j = nodes_[node];
  j.registered = true;
  j.join_s = now_;
  ++unfinished_;
  // The controller ranks every node on each peers call; a newcomer enters the
  // list of a node whose top K it beats (its current list plus the newcomer holds
  // that node's new top K).
  controller::PeerCandidate me{j.name, j.zone_name, j.name, true};
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (i == node || n.state != State::kFetching) continue;
    std::vector<controller::PeerCandidate> from{me};
    for (uint32_t p : n.next_peers) {
      if (!nodes_[p].ctl_dead) {
        from.push_back(controller::PeerCandidate{nodes_[p].name, nodes_[p].zone_name, nodes_[p].name, true});
      }
    }
    auto next = selectPeers(i, from);
    if (next == n.next_peers) continue;
    n.next_peers = std::move(next);
    n.peers_changed = true;
    schedulePoll(i, false);
  }
  j.next_peers = selectPeers(node, candidates());
  assignZoneRoles();
  push(now_ + c_.start_delay_s, Ev::kStart, node);
}

}  // namespace shardcast::bench
