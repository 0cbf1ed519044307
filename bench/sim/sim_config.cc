#include "bench/sim/sim_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "common/flag_parser.h"
#include "common/manifest.h"

namespace shardcast::bench {
namespace {

// Splits "12.5unit" into the number and the lower-cased unit.
bool splitNumber(const std::string& text, double& value, std::string& unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0 || i > 24) return false;
  try {
    value = std::stod(text.substr(0, i));
  } catch (...) {
    return false;
  }
  unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::isfinite(value) && value >= 0;
}

Result<double> parseFraction(const std::string& flag, const std::string& v) {
  double x;
  std::string unit;
  if (!splitNumber(v, x, unit) || !unit.empty() || x > 1) {
    return invalidArgument("--" + flag + " must be a fraction between 0 and 1, got '" + v + "'");
  }
  return x;
}

Result<uint32_t> parseCount(const FlagParser& p, const std::string& flag, uint32_t lo, uint32_t hi) {
  auto v = p.u64(flag);
  if (!v.isOk() || *v < lo || *v > hi) {
    return invalidArgument("--" + flag + " must be an integer from " + std::to_string(lo) + " to " +
                           std::to_string(hi) + ", got '" + p.value(flag) + "'");
  }
  return static_cast<uint32_t>(*v);
}

void declareFlags(FlagParser& p) {
  p.addBool("help", "print this help");
  p.addBool("json", "print one JSON object as the last line");
  p.addValue("nodes", "N nodes in one region", "16");
  p.addValue("size", "model bytes F, e.g. 140GB, 1GiB", "1GiB");
  p.addValue("files", "model files (F split evenly; pieces never span files)", "1");
  p.addValue("piece-size", "rollout piece size (shardcast deploy --piece-size); auto: as the "
             "controller picks it from F (autoPieceSize)", "auto");
  p.addValue("rate", "B: every node's up and down link, tc units (250mbit, 10gbit)", "250mbit");
  p.addValue("origin-rate", "the origin's link (default: --rate)");
  p.addValue("origin-flow-rate", "cap of one origin request, e.g. 600mbit (default: none)");
  p.addValue("aggregate-rate", "one cap shared by every transfer, e.g. a rig host's CPU (default: none)");
  p.addValue("zones", "Z zones; node i is in zone i mod Z", "1");
  p.addValue("zone-rate", "capacity of each zone-to-zone link (default: unlimited)");
  p.addValue("cross-zone-price", "$ per GB sent across zones", "0.01");
  p.addValue("stragglers", "fraction of nodes with --straggler-factor x B", "0");
  p.addValue("straggler-factor", "straggler link rate / B", "0.5");
  p.addValue("churn", "fraction of nodes that leave mid-run (and as many join, see --churn-join)", "0");
  p.addValue("churn-join", "fraction of N that join mid-run with nothing (default: --churn)");
  p.addBool("churn-spare-seeders", "leavers are never origin seeders");
  p.addValue("churn-window", "when nodes leave/join, as fractions of F/B: FROM,TO", "0.2,0.8");
  p.addValue("peer-requests", "agent --peer-requests: requests in flight per peer", "1");
  p.addValue("max-inflight", "agent --max-inflight: piece requests in flight", "16");
  p.addValue("origin-concurrency", "agent --origin-concurrency: origin requests per seeder", "4");
  p.addValue("max-seeders", "controller --max-seeders (S)", "16");
  p.addValue("peers-per-node", "controller --peers-per-node (K)", "16");
  p.addValue("max-origin-requests-per-region", "controller budget of origin requests (0: none)", "0");
  p.addValue("agent-requests-per-s", "controller budget of agent polls + reports per second (0: none)",
             "4000");
  p.addValue("node-timeout", "controller --node-timeout (T)", "30s");
  p.addValue("bitfield-poll", "agent's bitfield poll interval", "300ms");
  p.addValue("peers-poll", "agent's peers/hashes poll interval", "300ms");
  p.addValue("report-interval", "agent's progress report interval", "500ms");
  p.addValue("heartbeat-interval", "agent's heartbeat interval", "2s");
  p.addValue("flush-delay", "verified piece -> servable (batched fdatasync)", "20ms");
  p.addValue("verify-rate", "whole-file checksum at publish, bytes/s (0: no publisher checksums)",
             "1800MB/s");
  p.addBool("cancel-duplicates",
            "model an agent that cancels the other end-game request once a piece is verified");
  p.addValue("rtt", "round trip between agents and to the controller", "1ms");
  p.addValue("request-overhead", "extra latency of each peer piece request", "0ms");
  p.addValue("origin-latency", "origin request to first byte", "20ms");
  p.addValue("start-delay", "deploy -> agents start fetching", "0ms");
  p.addValue("max-sim-pieces", "bundle rollout pieces above this many simulated pieces (0: auto)", "0");
  p.addValue("step", "rate recomputation: auto, exact, or an interval like 50ms", "auto");
  p.addValue("seed", "random seed", "1");
}

Status applyRates(const FlagParser& p, SimConfig& c) {
  auto rate = [&](const std::string& flag, double& out, bool zero_ok) -> Status {
    if (!p.isSet(flag)) return Status::ok();
    auto r = parseRateBytesPerSecond(p.value(flag));
    if (!r.isOk() || (!zero_ok && *r <= 0)) {
      return invalidArgument("--" + flag + " wants a rate like 250mbit or 10gbit, got '" +
                             p.value(flag) + "'");
    }
    out = *r;
    return Status::ok();
  };
  c.rate = 0;
  auto base = parseRateBytesPerSecond(p.value("rate"));
  if (!base.isOk() || *base <= 0) {
    return invalidArgument("--rate wants a rate like 250mbit or 10gbit, got '" + p.value("rate") + "'");
  }
  c.rate = *base;
  RETURN_IF_ERROR(rate("origin-rate", c.origin_rate, false));
  RETURN_IF_ERROR(rate("origin-flow-rate", c.origin_flow_rate, true));
  RETURN_IF_ERROR(rate("aggregate-rate", c.aggregate_rate, true));
  RETURN_IF_ERROR(rate("zone-rate", c.zone_rate, true));
  auto vr = parseByteRate(p.value("verify-rate"));
  if (!vr.isOk()) return invalidArgument("--verify-rate wants bytes/s like 1800MB/s or 0, got '" +
                                         p.value("verify-rate") + "'");
  c.verify_rate = *vr;
  return Status::ok();
}

Status applyDurations(const FlagParser& p, SimConfig& c) {
  struct D {
    const char* flag;
    double* out;
  };
  for (const D& d : {D{"node-timeout", &c.node_timeout_s}, D{"bitfield-poll", &c.bitfield_poll_s},
                     D{"peers-poll", &c.peers_poll_s}, D{"report-interval", &c.report_s},
                     D{"heartbeat-interval", &c.heartbeat_s}, D{"flush-delay", &c.flush_s},
                     D{"rtt", &c.rtt_s}, D{"request-overhead", &c.request_overhead_s},
                     D{"origin-latency", &c.origin_latency_s}, D{"start-delay", &c.start_delay_s}}) {
    auto s = parseSeconds(p.value(d.flag));
    if (!s.isOk()) {
      return invalidArgument(std::string("--") + d.flag + " wants a duration like 300ms or 2s, got '" +
                             p.value(d.flag) + "'");
    }
    *d.out = *s;
  }
  for (double v : {c.bitfield_poll_s, c.peers_poll_s, c.report_s, c.heartbeat_s}) {
    if (v <= 0) return invalidArgument("poll, report and heartbeat intervals must be positive");
  }
  std::string step = p.value("step");
  if (step == "auto") {
    c.step_s = -1;
  } else if (step == "exact") {
    c.step_s = 0;
  } else {
    auto s = parseSeconds(step);
    if (!s.isOk()) return invalidArgument("--step wants auto, exact or a duration like 50ms, got '" + step + "'");
    c.step_s = *s;
  }
  return Status::ok();
}

Status applyMix(const FlagParser& p, SimConfig& c) {
  ASSIGN_OR_RETURN(c.stragglers, parseFraction("stragglers", p.value("stragglers")));
  ASSIGN_OR_RETURN(c.straggler_factor, parseFraction("straggler-factor", p.value("straggler-factor")));
  if (c.straggler_factor <= 0) return invalidArgument("--straggler-factor must be above 0");
  ASSIGN_OR_RETURN(c.churn_leave, parseFraction("churn", p.value("churn")));
  c.churn_join = c.churn_leave;
  if (p.isSet("churn-join")) {
    ASSIGN_OR_RETURN(c.churn_join, parseFraction("churn-join", p.value("churn-join")));
  }
  std::string w = p.value("churn-window");
  auto comma = w.find(',');
  if (comma == std::string::npos) return invalidArgument("--churn-window wants FROM,TO like 0.2,0.8");
  ASSIGN_OR_RETURN(c.churn_from, parseFraction("churn-window", w.substr(0, comma)));
  ASSIGN_OR_RETURN(c.churn_to, parseFraction("churn-window", w.substr(comma + 1)));
  if (c.churn_to < c.churn_from) return invalidArgument("--churn-window wants FROM <= TO");
  double price;
  std::string unit;
  if (!splitNumber(p.value("cross-zone-price"), price, unit) || !unit.empty()) {
    return invalidArgument("--cross-zone-price wants a number of $ per GB, got '" +
                           p.value("cross-zone-price") + "'");
  }
  c.cross_zone_price_per_gb = price;
  return Status::ok();
}

}  // namespace

Result<double> parseRateBytesPerSecond(const std::string& text) {
  double v;
  std::string unit;
  if (!splitNumber(text, v, unit)) return invalidArgument("bad rate '" + text + "'");
  double bits_per_unit;
  if (unit == "bit") bits_per_unit = 1;
  else if (unit == "kbit") bits_per_unit = 1e3;
  else if (unit == "mbit") bits_per_unit = 1e6;
  else if (unit == "gbit") bits_per_unit = 1e9;
  else if (unit == "bps") bits_per_unit = 8;
  else if (unit == "kbps") bits_per_unit = 8e3;
  else if (unit == "mbps") bits_per_unit = 8e6;
  else if (unit == "gbps") bits_per_unit = 8e9;
  else if (unit.empty() && v == 0) bits_per_unit = 1;
  else return invalidArgument("bad rate '" + text + "': use tc units like 250mbit, 10gbit");
  return v * bits_per_unit / 8;
}

Result<double> parseByteRate(const std::string& text) {
  std::string t = text;
  if (t.size() > 2 && t.compare(t.size() - 2, 2, "/s") == 0) t = t.substr(0, t.size() - 2);
  double v;
  std::string unit;
  if (!splitNumber(t, v, unit)) return invalidArgument("bad byte rate '" + text + "'");
  double mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "kb") mult = 1e3;
  else if (unit == "mb") mult = 1e6;
  else if (unit == "gb") mult = 1e9;
  else if (unit == "kib") mult = 1024.0;
  else if (unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "gib") mult = 1024.0 * 1024 * 1024;
  else return invalidArgument("bad byte rate '" + text + "'");
  return v * mult;
}

Result<double> parseSeconds(const std::string& text) {
  double v;
  std::string unit;
  if (!splitNumber(text, v, unit)) return invalidArgument("bad duration '" + text + "'");
  if (unit == "ms") return v / 1000;
  if (unit == "us") return v / 1e6;
  if (unit.empty() || unit == "s") return v;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  return invalidArgument("bad duration '" + text + "'");
}

PieceLayout makeLayout(const SimConfig& c) {
  PieceLayout out;
  const uint64_t files = std::max<uint32_t>(1, c.files);
  std::vector<uint64_t> file_sizes(files, c.size / files);
  file_sizes.back() += c.size % files;
  for (uint64_t s : file_sizes) out.rollout_pieces += (s + c.piece_size - 1) / c.piece_size;
  uint64_t max_pieces = c.max_sim_pieces;
  if (max_pieces == 0) {
    // The piece scheduler scans every piece per decision, so the work grows as
    // N x pieces^2: keep it near 1e10 (a few minutes), and never below 256 pieces.
    max_pieces = static_cast<uint64_t>(std::sqrt(1e10 / std::max<uint32_t>(1, c.nodes)));
    max_pieces = std::max<uint64_t>(256, max_pieces);
  }
  out.bundle = std::max<uint64_t>(1, (out.rollout_pieces + max_pieces - 1) / max_pieces);
  out.sim_piece_size = c.piece_size * out.bundle;
  for (uint32_t f = 0; f < file_sizes.size(); ++f) {
    const uint64_t s = file_sizes[f];
    for (uint64_t off = 0; off < s; off += out.sim_piece_size) {
      out.sizes.push_back(std::min(out.sim_piece_size, s - off));
      out.file_of.push_back(f);
    }
  }
  return out;
}

Result<ParsedSimFlags> parseSimFlags(const std::vector<std::string>& args) {
  FlagParser p;
  declareFlags(p);
  RETURN_IF_ERROR(p.parse(args));
  ParsedSimFlags out;
  if (!p.positional().empty()) {
    return invalidArgument("unexpected argument '" + p.positional().front() + "' (see --help)");
  }
  if (p.flag("help")) {
    out.help = true;
    return out;
  }
  SimConfig& c = out.config;
  c.json = p.flag("json");
  ASSIGN_OR_RETURN(c.nodes, parseCount(p, "nodes", 2, 1000000));
  auto size = p.bytes("size");
  if (!size.isOk() || *size == 0) return invalidArgument("--size wants bytes like 140GB or 1GiB");
  c.size = *size;
  if (p.value("piece-size") == "auto") {
    c.piece_size = autoPieceSize(c.size);
  } else {
    auto piece = p.bytes("piece-size");
    if (!piece.isOk() || *piece < 1024) return invalidArgument("--piece-size wants a size like 16MiB or auto");
    c.piece_size = *piece;
  }
  ASSIGN_OR_RETURN(c.files, parseCount(p, "files", 1, 100000));
  ASSIGN_OR_RETURN(c.zones, parseCount(p, "zones", 1, 1000));
  ASSIGN_OR_RETURN(c.peer_requests, parseCount(p, "peer-requests", 1, 64));
  ASSIGN_OR_RETURN(c.max_inflight, parseCount(p, "max-inflight", 1, 256));
  ASSIGN_OR_RETURN(c.origin_concurrency, parseCount(p, "origin-concurrency", 1, 64));
  ASSIGN_OR_RETURN(c.max_seeders, parseCount(p, "max-seeders", 1, 100000));
  ASSIGN_OR_RETURN(c.peers_per_node, parseCount(p, "peers-per-node", 1, 10000));
  ASSIGN_OR_RETURN(c.max_origin_requests_per_region,
                   parseCount(p, "max-origin-requests-per-region", 0, 1000000));
  ASSIGN_OR_RETURN(c.agent_requests_per_s, parseCount(p, "agent-requests-per-s", 0, 100000000));
  ASSIGN_OR_RETURN(c.max_sim_pieces, parseCount(p, "max-sim-pieces", 0, 10000000));
  auto seed = p.u64("seed");
  if (!seed.isOk()) return seed.status();
  c.seed = *seed;
  c.cancel_duplicates = p.flag("cancel-duplicates");
  c.churn_spares_seeders = p.flag("churn-spare-seeders");
  RETURN_IF_ERROR(applyRates(p, c));
  RETURN_IF_ERROR(applyDurations(p, c));
  RETURN_IF_ERROR(applyMix(p, c));
  if (c.origin_rate <= 0) c.origin_rate = c.rate;
  return out;
}

std::string simUsage() {
  FlagParser p;
  declareFlags(p);
  std::ostringstream os;
  os << "usage: shardcast-sim --nodes N --size 140GB --rate 250mbit --piece-size 16MiB "
        "[--zones Z] [--stragglers F] [--churn F] [--json]\n\n"
        "Flow-level simulation of one shardcast rollout in one region: max-min fair sharing\n"
        "of every node's up and down link and the origin's link, driven by the agent's\n"
        "PieceScheduler and the controller's StripePlanner and PeerSelector.\n\nflags:\n"
     << p.usage();
  return os.str();
}

}  // namespace shardcast::bench
