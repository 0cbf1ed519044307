// SwarmSim: the event loop and the agent's side (what agent/rollout_worker.cc and
// agent/swarm_fetcher.cc do, re-enacted on simulated time). The controller's side
// and the set-up are in swarm_sim_control.cc.
#include "bench/sim/swarm_sim.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace shardcast::bench {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

SwarmSim::SwarmSim(SimConfig config)
    : c_(std::move(config)),
      layout_(makeLayout(c_)),
      rng_(c_.seed),
      planner_(c_.max_seeders),
      selector_(c_.peers_per_node) {
  pieces_ = static_cast<uint32_t>(layout_.sizes.size());
  // A bundled piece stands for `bundle` rollout pieces: every per-piece delay
  // (request latencies, polls, flush) is scaled with it, so each simulated piece
  // keeps the real ratio of delays to transfer time (see README.md).
  scale_ = static_cast<double>(layout_.bundle);
  paced_ms_ = controller::PollPacing::intervalMs(c_.nodes, c_.agent_requests_per_s);
  // SHARDCAST_SIM_TRACE=SECONDS prints the swarm's state to stderr (debugging aid).
  if (const char* t = std::getenv("SHARDCAST_SIM_TRACE")) trace_s_ = std::atof(t);
  no_gate_ = std::getenv("SHARDCAST_SIM_NO_GATE") != nullptr;
  if (c_.step_s >= 0) {
    step_s_ = c_.step_s;
  } else if (static_cast<uint64_t>(c_.nodes) * c_.max_inflight <= 2048) {
    step_s_ = 0;  // small fleets: exact max-min at every event
  } else {
    // 3% of one piece's transfer at a fair share of the down link (checked against
    // exact mode: README.md, "Approximations").
    step_s_ = 0.03 * static_cast<double>(layout_.sim_piece_size) / (c_.rate / c_.max_inflight);
  }
}

SimResult SwarmSim::run() {
  auto wall0 = std::chrono::steady_clock::now();
  build();
  loop();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return summarize(wall);
}

void SwarmSim::push(double t, Ev type, uint32_t a, uint32_t b) {
  events_.push(Event{t, seq_++, type, a, b});
}

uint32_t SwarmSim::indexOf(const std::string& name) {
  return static_cast<uint32_t>(std::stoul(name.substr(1)));
}

double SwarmSim::nextGrid(double phase, double period) const {
  if (now_ <= phase) return phase;
  return phase + std::ceil((now_ - phase) / period - 1e-12) * period;
}

double SwarmSim::bitfieldPeriod(const Node& n) const {
  // The agent reads its peers' bitfields one after the other, then waits.
  return scale_ * (c_.bitfield_poll_s + static_cast<double>(n.peers.size()) * c_.rtt_s);
}

double SwarmSim::peersPeriod() const {
  return scale_ * (std::max(c_.peers_poll_s, pacedS()) + c_.rtt_s);
}

void SwarmSim::schedulePoll(uint32_t node, bool bitfields) {
  Node& n = nodes_[node];
  bool& pending = bitfields ? n.bitfield_pending : n.peers_pending;
  if (pending) return;
  pending = true;
  double t = bitfields ? nextGrid(n.phase, bitfieldPeriod(n)) : nextGrid(n.phase, peersPeriod());
  push(t, bitfields ? Ev::kBitfieldPoll : Ev::kPeersPoll, node);
}

void SwarmSim::loop() {
  // A stalled simulation (pieces nobody can serve) stops at this horizon.
  const double horizon = 200 * (static_cast<double>(c_.size) / c_.rate) + 600;
  while (unfinished_ > 0 || !events_.empty()) {
    maybeRecompute();
    double te = events_.empty() ? kInf : events_.top().t;
    auto due = net_.nextCompletion();
    double tf = due ? due->first : kInf;
    if (std::isinf(te) && std::isinf(tf)) break;
    ++events_count_;
    if (tf <= te) {
      now_ = tf;
      net_.advanceTo(now_);
      onFlowDone(due->second);
    } else {
      Event e = events_.top();
      events_.pop();
      now_ = e.t;
      net_.advanceTo(now_);
      handle(e);
    }
    if (now_ > horizon) break;
    if (trace_s_ > 0 && now_ >= next_trace_) {
      next_trace_ = now_ + trace_s_;
      traceLine();
    }
  }
}

void SwarmSim::traceLine() {
  double sum = 0, lo = pieces_, hi = 0, rate = 0;
  uint32_t fetching = 0, inflight = 0, seeders_busy = 0;
  for (const Node& n : nodes_) {
    if (!n.sched || n.state == State::kGone) continue;
    double h = n.sched->haveCount();
    sum += h;
    lo = std::min(lo, h);
    hi = std::max(hi, h);
    fetching += n.state == State::kFetching;
    inflight += n.sched->inFlight();
    seeders_busy += n.pulling > 0;
    rate += net_.used(n.down);
  }
  std::fprintf(stderr, "t=%.1f accepted=%zu have mean=%.1f min=%.0f max=%.0f fetching=%u inflight=%u "
               "origin_used=%.2fB down_used=%.2fNB seeders_pulling=%u flows=%zu\n",
               now_, accepted_order_.size(), sum / nodes_.size(), lo, hi, fetching, inflight,
               net_.used(origin_res_) / c_.rate, rate / (c_.rate * nodes_.size()), seeders_busy,
               net_.activeFlows());
}

void SwarmSim::maybeRecompute() {
  if (!net_.dirty()) return;
  if (step_s_ <= 0) {
    // Exact: once all events of this instant are handled.
    if (events_.empty() || events_.top().t > now_) {
      net_.computeRates();
      last_recompute_ = now_;
    }
    return;
  }
  if (now_ >= last_recompute_ + step_s_) {
    net_.computeRates();
    last_recompute_ = now_;
  } else if (!recompute_pending_) {
    recompute_pending_ = true;
    push(last_recompute_ + step_s_, Ev::kRecompute);
  }
}

void SwarmSim::handle(const Event& e) {
  switch (e.type) {
    case Ev::kStart: return startNode(e.a);
    case Ev::kRequestStart: return startFlow(e.a, e.b);
    case Ev::kBitfieldPoll: return bitfieldPoll(e.a);
    case Ev::kPeersPoll: return peersPoll(e.a);
    case Ev::kHashAccepted: return onHashAccepted(e.a);
    case Ev::kOriginCommit: {
      Node& n = nodes_[e.a];
      if (n.state == State::kGone) return;
      --n.held;
      n.origin[e.b] = Origin::kDone;
      if (!n.sched->have(e.b)) pieceVerified(e.a, e.b);
      startOrigin(e.a);
      return maybeFinish(e.a);
    }
    case Ev::kServable: {
      Node& n = nodes_[e.a];
      if (n.state == State::kGone || n.have.get(e.b)) return;
      n.have.set(e.b);
      n.acquired.push_back(e.b);
      return notifyWatchers(e.a);
    }
    case Ev::kReady: {
      Node& n = nodes_[e.a];
      if (n.state != State::kPublishing) return;
      n.state = State::kReady;
      n.ready_s = now_;
      --unfinished_;
      return;
    }
    case Ev::kLeave: return onLeave(e.a);
    case Ev::kJoin: return onJoin(e.a);
    case Ev::kDead: return onDead(e.a);
    case Ev::kRecompute:
      recompute_pending_ = false;
      return;
  }
}

void SwarmSim::startNode(uint32_t node) {
  Node& n = nodes_[node];
  if (n.state != State::kAbsent) return;
  n.state = State::kFetching;
  n.sched = std::make_unique<agent::PieceScheduler>(pieces_, c_.seed * 1000003 + node, n.zone_name);
  // The worker's first peers poll brings the peer list, the stripe and the hashes.
  n.peers_changed = true;
  n.stripe_changed = true;
  peersPoll(node);
  schedulePoll(node, true);
}

bool SwarmSim::wantsNews(const Node& n, uint32_t piece) const {
  const agent::PieceScheduler& s = *n.sched;
  return !s.have(piece) && !s.inStripe(piece) && s.hashKnown(piece) &&
         s.requestsFor(piece) < agent::PieceScheduler::kMaxRequestsPerPiece;
}

void SwarmSim::peersPoll(uint32_t node) {
  Node& n = nodes_[node];
  n.peers_pending = false;
  n.early_poll_pending = false;
  n.last_peers_poll = now_;
  if (n.state != State::kFetching) return;
  bool news = false;
  if (n.role_changed) {
    n.role_changed = false;
    n.sched->setZoneRole(n.zone_rank, n.zone_size);
    news = true;
  }
  if (n.peers_changed) {
    n.peers_changed = false;
    setPeerList(node, n.next_peers);
    std::vector<agent::SchedulerPeer> list;
    for (uint32_t j : n.peers) list.push_back(agent::SchedulerPeer{nodes_[j].name, nodes_[j].zone_name});
    n.sched->setPeers(list);
    schedulePoll(node, true);  // the new peers' bitfields
  }
  if (n.stripe_changed) {
    n.stripe_changed = false;
    n.sched->setStripe(n.stripe);
    if (!n.stripe.empty() && n.origin.empty()) n.origin.assign(pieces_, Origin::kNone);
    for (uint32_t p : n.stripe) {
      if (n.origin[p] == Origin::kNone) n.origin[p] = Origin::kIdle;
    }
    n.origin_cursor = 0;
    news = true;
  }
  for (; n.hash_cursor < accepted_order_.size(); ++n.hash_cursor) {
    uint32_t p = accepted_order_[n.hash_cursor];
    n.sched->onHashKnown(p);
    if (n.sched->availability(p) > 0 && wantsNews(n, p)) news = true;
  }
  if (news || no_gate_) trySchedule(node);
  startOrigin(node);
}

void SwarmSim::bitfieldPoll(uint32_t node) {
  Node& n = nodes_[node];
  n.bitfield_pending = false;
  if (n.state != State::kFetching) return;
  bool news = false, hash_wanted = false;
  for (size_t k = 0; k < n.peers.size(); ++k) {
    Node& p = nodes_[n.peers[k]];
    if (p.state == State::kGone) {
      if (n.seen[k] != kNever) n.sched->onPeerUnreachable(p.name);
      n.seen[k] = kNever;
      continue;
    }
    const uint32_t count = static_cast<uint32_t>(p.acquired.size());
    if (n.seen[k] == count) continue;
    for (uint32_t i = n.seen[k] == kNever ? 0 : n.seen[k]; i < count && !(news && hash_wanted); ++i) {
      const uint32_t piece = p.acquired[i];
      if (!news) news = wantsNews(n, piece);
      if (!hash_wanted) hash_wanted = !n.sched->hashKnown(piece) && !n.sched->have(piece);
    }
    n.sched->onPeerBitfield(p.name, p.have);
    n.seen[k] = count;
    if (no_gate_) news = true;
  }
  // A peer holds a piece whose accepted hash this node lacks: the worker polls
  // the controller now (SwarmFetcher's on_hash_wanted) instead of at its next poll.
  if (hash_wanted && !n.early_poll_pending) {
    // Paced: at most one early poll per PollPacing::earlyPollGapMs.
    const double gap = scale_ * controller::PollPacing::earlyPollGapMs(paced_ms_) / 1000.0;
    n.early_poll_pending = true;
    ++early_polls_;
    push(std::max(now_ + scale_ * c_.rtt_s, n.last_peers_poll + gap), Ev::kPeersPoll, node);
  }
  if (news) trySchedule(node);
}

void SwarmSim::notifyWatchers(uint32_t node) {
  for (uint32_t w : nodes_[node].watchers) {
    if (nodes_[w].state == State::kFetching) schedulePoll(w, true);
  }
}

void SwarmSim::trySchedule(uint32_t node) {
  Node& n = nodes_[node];
  // A second pass right away lets the scheduler enter end-game as soon as the
  // last pieces are requested (the agent does so at its next bitfield round).
  for (int pass = 0; pass < 2; ++pass) {
    if (n.state != State::kFetching || n.sched->inFlight() >= c_.max_inflight) return;
    auto reqs = n.sched->nextRequests(c_.max_inflight, c_.peer_requests);
    if (reqs.empty()) return;
    for (const auto& r : reqs) {
      issue(indexOf(r.peer), node, r.piece, layout_.sizes[r.piece], scale_ * (c_.rtt_s + c_.request_overhead_s));
    }
  }
}

void SwarmSim::startOrigin(uint32_t node) {
  // OriginFetcher::claim(): each free thread takes the next part of the oldest
  // piece in flight, else opens the next stripe piece (nextOriginPiece), within
  // min(--origin-concurrency, the region budget share) requests.
  Node& n = nodes_[node];
  if (n.state != State::kFetching || n.stripe.empty()) return;
  const uint32_t conc = std::max(1u, c_.origin_concurrency);
  const uint32_t limit = n.origin_share ? std::min(n.origin_share, conc) : conc;
  while (n.origin_requests < limit) {
    Node::Pull* open = nullptr;
    for (auto& pull : n.pulls) {
      if (pull.next_part < pull.parts) {
        open = &pull;
        break;
      }
    }
    if (!open) {
      if (n.pulling + n.held >= 2 * conc) return;
      while (n.origin_cursor < n.stripe.size()) {
        uint32_t p = n.stripe[n.origin_cursor];
        if (n.origin[p] == Origin::kIdle && !n.sched->have(p)) break;
        ++n.origin_cursor;
      }
      if (n.origin_cursor >= n.stripe.size()) return;
      uint32_t p = n.stripe[n.origin_cursor++];
      n.origin[p] = Origin::kPulling;
      ++n.pulling;
      uint32_t parts = static_cast<uint32_t>(std::max<uint64_t>(
          1, std::min<uint64_t>(conc, layout_.sizes[p] / std::max<uint64_t>(1, c_.min_part_bytes))));
      n.pulls.push_back(Node::Pull{p, parts, 0, parts});
      open = &n.pulls.back();
    }
    const uint64_t len = layout_.sizes[open->piece];
    const uint32_t k = open->next_part++;
    ++n.origin_requests;
    issue(kOrigin, node, open->piece, len * (k + 1) / open->parts - len * k / open->parts,
          scale_ * c_.origin_latency_s);
  }
}

void SwarmSim::issue(uint32_t src, uint32_t dst, uint32_t piece, uint64_t bytes, double delay) {
  uint32_t id;
  if (!free_requests_.empty()) {
    id = free_requests_.back();
    free_requests_.pop_back();
  } else {
    id = static_cast<uint32_t>(requests_.size());
    requests_.emplace_back();
  }
  const uint32_t generation = requests_[id].generation + 1;
  requests_[id] = Request{true, src, dst, piece, bytes, -1, generation};
  if (src != kOrigin) nodes_[dst].inbox.push_back(id);
  push(now_ + delay, Ev::kRequestStart, id, generation);
}

void SwarmSim::startFlow(uint32_t request, uint32_t generation) {
  Request& q = requests_[request];
  if (!q.live || q.generation != generation || q.flow >= 0) return;
  const Node& d = nodes_[q.dst];
  std::vector<uint32_t> hops;
  hops.push_back(q.src == kOrigin ? origin_res_ : nodes_[q.src].up);
  hops.push_back(d.down);
  if (q.src != kOrigin && !zone_links_.empty() && nodes_[q.src].zone != d.zone) {
    hops.push_back(zone_links_[nodes_[q.src].zone * c_.zones + d.zone]);
  }
  if (c_.aggregate_rate > 0) hops.push_back(aggregate_res_);
  double cap = (q.src == kOrigin && c_.origin_flow_rate > 0) ? c_.origin_flow_rate : FlowNetwork::kUnlimited;
  uint32_t f = net_.addFlow(hops, static_cast<double>(q.bytes), cap);
  if (flow_request_.size() <= f) flow_request_.resize(f + 1);
  flow_request_[f] = request;
  q.flow = f;
}

void SwarmSim::onFlowDone(uint32_t flow) {
  uint32_t id = flow_request_[flow];
  net_.removeFlow(flow);
  requests_[id].flow = -1;
  if (requests_[id].src == kOrigin) {
    onOriginPiece(id);
  } else {
    onPeerPiece(id);
  }
  requests_[id].live = false;
  free_requests_.push_back(id);
}

void SwarmSim::onOriginPiece(uint32_t request) {
  const Request q = requests_[request];
  Node& n = nodes_[q.dst];
  origin_bytes_ += q.bytes;
  --n.origin_requests;
  auto pull = std::find_if(n.pulls.begin(), n.pulls.end(),
                           [&](const Node::Pull& x) { return x.piece == q.piece; });
  if (pull == n.pulls.end() || --pull->parts_left > 0) return startOrigin(q.dst);
  n.pulls.erase(pull);
  --n.pulling;
  ++n.held;
  ++n.origin_pieces;
  n.origin[q.piece] = Origin::kHeld;
  // Held until the accepted hash is back: report (one RTT), then the poll it
  // triggers (another RTT). Every other node learns the hash at its next poll.
  push(now_ + scale_ * c_.rtt_s, Ev::kHashAccepted, q.piece);
  push(now_ + 2 * scale_ * c_.rtt_s, Ev::kOriginCommit, q.dst, q.piece);
  startOrigin(q.dst);
}

void SwarmSim::onPeerPiece(uint32_t request) {
  const Request q = requests_[request];
  Node& n = nodes_[q.dst];
  const Node& s = nodes_[q.src];
  const uint64_t bytes = layout_.sizes[q.piece];
  peer_bytes_ += bytes;
  if (s.zone != n.zone) xzone_bytes_ += bytes;
  dropFromInbox(q.dst, request);
  if (n.sched->have(q.piece)) {
    dup_bytes_ += bytes;  // an end-game copy that lost the race
  } else {
    pieceVerified(q.dst, q.piece);
    if (c_.cancel_duplicates) {
      for (size_t k = 0; k < n.inbox.size();) {
        uint32_t other = n.inbox[k];
        if (requests_[other].piece != q.piece) {
          ++k;
          continue;
        }
        n.sched->onRequestDone(q.piece, nodes_[requests_[other].src].name, true);
        abortRequest(other, false);
        n.inbox.erase(n.inbox.begin() + static_cast<long>(k));
      }
    }
  }
  n.sched->onRequestDone(q.piece, s.name, true);
  trySchedule(q.dst);
  maybeFinish(q.dst);
}

void SwarmSim::pieceVerified(uint32_t node, uint32_t piece) {
  Node& n = nodes_[node];
  n.sched->onPieceVerified(piece);
  push(now_ + scale_ * c_.flush_s, Ev::kServable, node, piece);
  if (n.state == State::kFetching && n.sched->haveCount() == pieces_) {
    n.state = State::kFinishing;
    n.complete_s = now_;
    if (c_.verify_rate > 0) n.publish_hash_s = unhashedBytes(n) / c_.verify_rate;
  }
}

void SwarmSim::maybeFinish(uint32_t node) {
  Node& n = nodes_[node];
  // finish() stops the fetchers first, which waits for the requests in flight.
  if (n.state != State::kFinishing || !n.inbox.empty() || n.pulling > 0 || n.held > 0) return;
  n.state = State::kPublishing;
  push(now_ + n.publish_hash_s + c_.rtt_s, Ev::kReady, node);
}

void SwarmSim::abortRequest(uint32_t request, bool count_partial) {
  Request& q = requests_[request];
  if (q.flow >= 0) {
    double left = net_.removeFlow(static_cast<uint32_t>(q.flow));
    if (count_partial) {
      origin_bytes_ += static_cast<uint64_t>(std::max(0.0, static_cast<double>(q.bytes) - left));
    }
  }
  q.flow = -1;
  q.live = false;
  free_requests_.push_back(request);
}

double SwarmSim::unhashedBytes(const Node& n) const {
  // FileDigester hashes each file's flushed prefix; finish() hashes the rest.
  double left = 0;
  std::vector<bool> gap(c_.files == 0 ? 1 : c_.files, false);
  for (uint32_t p = 0; p < pieces_; ++p) {
    uint32_t f = layout_.file_of[p];
    if (!gap[f] && !n.have.get(p)) gap[f] = true;
    if (gap[f]) left += static_cast<double>(layout_.sizes[p]);
  }
  return left;
}

void SwarmSim::dropFromInbox(uint32_t node, uint32_t request) {
  auto& in = nodes_[node].inbox;
  auto it = std::find(in.begin(), in.end(), request);
  if (it != in.end()) in.erase(it);
}

void SwarmSim::onHashAccepted(uint32_t piece) {
  if (accepted_[piece]) return;
  accepted_[piece] = true;
  accepted_order_.push_back(piece);
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].state == State::kFetching) schedulePoll(i, false);
  }
}

}  // namespace shardcast::bench
