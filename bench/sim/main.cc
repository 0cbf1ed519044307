// shardcast-sim: parses flags, runs one simulated rollout, prints the table and
// (with --json) one JSON object as the last line. Exit 0 when every node that
// stayed became ready, 1 when the simulation stalled, 2 on bad flags.
#include <iostream>
#include <string>
#include <vector>

#include "bench/sim/sim_config.h"
#include "bench/sim/swarm_sim.h"

int main(int argc, char** argv) {
  using namespace shardcast::bench;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parseSimFlags(args);
  if (!parsed.isOk()) {
    std::cerr << "shardcast-sim: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << simUsage();
    return 0;
  }
  SwarmSim sim(parsed->config);
  SimResult result = sim.run();
  std::cout << resultTable(result) << "\n";
  if (parsed->config.json) std::cout << resultJson(result) << "\n";
  std::cout.flush();
  return result.not_ready_nodes == 0 ? 0 : 1;
}
