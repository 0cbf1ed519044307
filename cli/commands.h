// The `shardcast` subcommands that talk to the controller. Each takes its own
// arguments (after the subcommand name) and returns the process exit code:
//   0 success (deploy --wait: ready), 1 error (deploy --wait: failed),
//   2 deploy --wait ended degraded, 64 bad usage.
// Errors are printed as one line on stderr; results on stdout.
#pragma once

#include <string>
#include <vector>

namespace shardcast::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitDegraded = 2;
inline constexpr int kExitUsage = 64;

int runDeploy(const std::vector<std::string>& args);
int runStatus(const std::vector<std::string>& args);
int runList(const std::vector<std::string>& args);
int runCancel(const std::vector<std::string>& args);

}  // namespace shardcast::cli
