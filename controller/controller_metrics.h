// ControllerMetrics: the controller's Prometheus metrics (GET /metrics, public like
// /healthz, so a ServiceMonitor scrapes it without the API token). Only counts and
// route patterns are exported, never model, node or rollout names, so the series
// stay few and nothing about the fleet's contents leaks.
//
//   shardcast_controller_requests_total{method,route,code}  counter (Router observer)
//   shardcast_controller_rollouts{state}                    gauge
//   shardcast_controller_nodes{state="registered"|"live"}   gauge
//   shardcast_controller_long_polls                         gauge (assignment waiters)
//   shardcast_controller_leader                             gauge (1 serving, 0 follower)
//
// Thread-safe. Owns its counters; the gauges are read from the ServiceStats given
// to render().
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace shardcast::controller {

struct ServiceStats {
  std::map<std::string, size_t> rollouts_by_state;
  size_t nodes = 0;
  size_t live_nodes = 0;
  size_t long_polls = 0;
};

class ControllerMetrics {
 public:
  // One answered request; `route` is the matched pattern ("unmatched" if none).
  void onResponse(const std::string& method, const std::string& route, int status);
  // The Prometheus text exposition format (version 0.0.4).
  std::string render(const ServiceStats& stats, bool leader) const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // guarded by mu_
};

}  // namespace shardcast::controller
