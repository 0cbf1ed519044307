#include "controller/controller_metrics.h"

#include <sstream>

namespace shardcast::controller {
namespace {

// Route patterns and states are ours, but escape as the format asks anyway.
std::string labelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string knownMethod(const std::string& m) {
  for (const char* k : {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"}) {
    if (m == k) return m;
  }
  return "other";
}

}  // namespace

void ControllerMetrics::onResponse(const std::string& method, const std::string& route, int status) {
  std::lock_guard<std::mutex> l(mu_);
  ++requests_[{knownMethod(method), route, status}];
}

std::string ControllerMetrics::render(const ServiceStats& stats, bool leader) const {
  std::ostringstream os;
  os << "# HELP shardcast_controller_requests_total API requests answered, by method, route pattern and status.\n"
     << "# TYPE shardcast_controller_requests_total counter\n";
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, code] = key;
      os << "shardcast_controller_requests_total{method=\"" << method << "\",route=\"" << labelValue(route)
         << "\",code=\"" << code << "\"} " << n << "\n";
    }
  }
  os << "# HELP shardcast_controller_rollouts Rollouts this controller holds, by state.\n"
     << "# TYPE shardcast_controller_rollouts gauge\n";
  for (const char* state : {"in_progress", "ready", "degraded", "failed", "cancelled"}) {
    auto it = stats.rollouts_by_state.find(state);
    os << "shardcast_controller_rollouts{state=\"" << state << "\"} "
       << (it == stats.rollouts_by_state.end() ? 0 : it->second) << "\n";
  }
  os << "# HELP shardcast_controller_nodes Nodes registered, and of those heard from within the node timeout.\n"
     << "# TYPE shardcast_controller_nodes gauge\n"
     << "shardcast_controller_nodes{state=\"registered\"} " << stats.nodes << "\n"
     << "shardcast_controller_nodes{state=\"live\"} " << stats.live_nodes << "\n"
     << "# HELP shardcast_controller_long_polls Agents waiting on an assignments long-poll.\n"
     << "# TYPE shardcast_controller_long_polls gauge\n"
     << "shardcast_controller_long_polls " << stats.long_polls << "\n"
     << "# HELP shardcast_controller_leader 1 when this replica serves as the leader (always 1 alone).\n"
     << "# TYPE shardcast_controller_leader gauge\n"
     << "shardcast_controller_leader " << (leader ? 1 : 0) << "\n";
  return os.str();
}

}  // namespace shardcast::controller
