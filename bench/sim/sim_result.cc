#include "bench/sim/sim_result.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

namespace shardcast::bench {
namespace {

double round4(double v) { return std::round(v * 10000) / 10000; }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string bytesText(double b) {
  if (b >= 1e12) return fmt("%.2f TB", b / 1e12);
  if (b >= 1e9) return fmt("%.2f GB", b / 1e9);
  if (b >= 1e6) return fmt("%.2f MB", b / 1e6);
  return fmt("%.0f B", b);
}

}  // namespace

std::string resultTable(const SimResult& r) {
  const SimConfig& c = r.config;
  const double F = static_cast<double>(c.size);
  std::ostringstream os;
  os << "F = " << bytesText(F) << ", B = " << fmt("%.1f", c.rate * 8 / 1e6) << " Mbit/s, N = "
     << c.nodes << ", zones = " << c.zones << ", floor F/B = " << fmt("%.2f", r.floor_s) << " s\n";
  os << "pieces: " << r.layout.rollout_pieces << " x " << bytesText(static_cast<double>(c.piece_size));
  if (r.layout.bundle > 1) {
    os << ", simulated as " << r.layout.sizes.size() << " x " << bytesText(static_cast<double>(r.layout.sim_piece_size))
       << " (bundles of " << r.layout.bundle << ")";
  }
  os << "; seeders " << r.seeders << ", K " << c.peers_per_node << ", peer-requests " << c.peer_requests
     << ", max-inflight " << c.max_inflight << ", origin-concurrency " << c.origin_concurrency << "\n";
  os << "  last/(F/B)          " << fmt("%.3f", r.time_to_last_ready_s / r.floor_s) << "   ("
     << fmt("%.1f", r.time_to_last_ready_s) << " s; " << r.ready_nodes << " ready, " << r.not_ready_nodes
     << " not ready)\n";
  os << "  p50/(F/B)           " << fmt("%.3f", r.p50_s / r.floor_s) << "\n";
  os << "  origin/F            " << fmt("%.3f", r.origin_bytes / F) << "\n";
  os << "  xzone/F             " << fmt("%.3f", r.cross_zone_bytes / F) << "   ($"
     << fmt("%.2f", r.cross_zone_cost) << ")\n";
  os << "  duplicates/(N F)    " << fmt("%.4f", r.duplicate_bytes / (F * c.nodes)) << "\n";
  if (c.stragglers > 0) {
    os << "  stragglers last/(F/B) " << fmt("%.3f", r.straggler_last_s / r.floor_s)
       << ", others " << fmt("%.3f", r.non_straggler_last_s / r.floor_s) << "\n";
  }
  if (r.nodes_left || r.nodes_joined) {
    os << "  churn: " << r.nodes_left << " left, " << r.nodes_joined << " joined (slowest joiner "
       << fmt("%.3f", r.joiner_last_over_floor) << " x F/B after joining), " << r.pieces_moved
       << " stripe pieces moved\n";
  }
  os << "  controller msgs/s   " << fmt("%.0f", r.controller.msgs_per_s) << " mean, "
     << fmt("%.0f", r.controller.peak_msgs_per_s) << " while all fetch (agents paced to "
     << (r.controller.paced_interval_s > 0 ? fmt("%.2f", r.controller.paced_interval_s) + " s"
                                           : std::string("their own intervals"))
     << "); peer lists rank " << fmt("%.3g", r.controller.peer_candidates_ranked_per_s)
     << " candidates/s\n";
  os << "  sim: " << r.events << " events in " << fmt("%.1f", r.wall_s) << " s ("
     << fmt("%.3g", r.events / std::max(r.wall_s, 1e-9)) << " events/s), " << r.rate_computations
     << " rate computations, " << (r.step_s > 0 ? "step " + fmt("%.3g", r.step_s) + " s" : std::string("exact"));
  return os.str();
}

std::string resultJson(const SimResult& r) {
  const SimConfig& c = r.config;
  const double F = static_cast<double>(c.size);
  nlohmann::ordered_json j;
  j["mode"] = "sim";
  j["F"] = c.size;
  j["B_bps"] = static_cast<uint64_t>(std::llround(c.rate * 8));
  j["N"] = c.nodes;
  j["zones"] = c.zones;
  j["floor_s"] = round4(r.floor_s);
  j["time_to_last_ready_over_floor"] = round4(r.time_to_last_ready_s / r.floor_s);
  j["p50_over_floor"] = round4(r.p50_s / r.floor_s);
  j["origin_bytes_over_F"] = round4(r.origin_bytes / F);
  j["cross_zone_bytes_over_F"] = round4(r.cross_zone_bytes / F);
  j["cross_zone_cost_usd"] = round4(r.cross_zone_cost);
  j["time_to_last_ready_s"] = round4(r.time_to_last_ready_s);
  j["p50_s"] = round4(r.p50_s);
  j["ready_nodes"] = r.ready_nodes;
  j["not_ready_nodes"] = r.not_ready_nodes;
  j["peer_bytes_over_F"] = round4(r.peer_bytes / F);
  j["duplicate_bytes_over_NF"] = round4(r.duplicate_bytes / (F * c.nodes));
  j["publish_verify_over_floor"] = round4(r.publish_verify_s / r.floor_s);
  j["non_straggler_last_over_floor"] = round4(r.non_straggler_last_s / r.floor_s);
  j["straggler_last_over_floor"] = round4(r.straggler_last_s / r.floor_s);
  j["nodes_left"] = r.nodes_left;
  j["nodes_joined"] = r.nodes_joined;
  j["joiner_last_over_floor"] = round4(r.joiner_last_over_floor);
  j["stripe_pieces_moved"] = r.pieces_moved;
  j["controller_msgs_per_s"] = std::round(r.controller.msgs_per_s);
  j["controller_peak_msgs_per_s"] = std::round(r.controller.peak_msgs_per_s);
  j["controller"] = {{"peers_calls", std::round(r.controller.peers_calls)},
                     {"reports", std::round(r.controller.reports)},
                     {"heartbeats", std::round(r.controller.heartbeats)},
                     {"assignment_polls", std::round(r.controller.assignment_polls)},
                     {"early_polls", std::round(r.controller.early_polls)},
                     {"paced_interval_s", r.controller.paced_interval_s},
                     {"peer_candidates_ranked_per_s", std::round(r.controller.peer_candidates_ranked_per_s)}};
  j["bitfield_requests_per_s"] = std::round(r.bitfield_requests_per_s);
  j["piece_size"] = c.piece_size;
  j["rollout_pieces"] = r.layout.rollout_pieces;
  j["sim_piece_size"] = r.layout.sim_piece_size;
  j["sim_pieces"] = r.layout.sizes.size();
  j["bundle"] = r.layout.bundle;
  j["seeders"] = r.seeders;
  j["knobs"] = {{"peer_requests", c.peer_requests},
                {"max_inflight", c.max_inflight},
                {"origin_concurrency", c.origin_concurrency},
                {"max_seeders", c.max_seeders},
                {"peers_per_node", c.peers_per_node},
                {"max_origin_requests_per_region", c.max_origin_requests_per_region},
                {"bitfield_poll_s", c.bitfield_poll_s},
                {"rtt_s", c.rtt_s},
                {"request_overhead_s", c.request_overhead_s},
                {"origin_latency_s", c.origin_latency_s},
                {"origin_rate_bps", static_cast<uint64_t>(std::llround(c.origin_rate * 8))},
                {"aggregate_rate_bps", static_cast<uint64_t>(std::llround(c.aggregate_rate * 8))},
                {"stragglers", c.stragglers},
                {"churn", c.churn_leave},
                {"churn_spares_seeders", c.churn_spares_seeders},
                {"cancel_duplicates", c.cancel_duplicates}};
  j["step_s"] = r.step_s;
  j["events"] = r.events;
  j["events_per_s"] = std::round(r.events / std::max(r.wall_s, 1e-9));
  j["rate_computations"] = r.rate_computations;
  j["wall_s"] = round4(r.wall_s);
  return j.dump();
}

}  // namespace shardcast::bench
