// shardcast: the command-line client. Dispatches a subcommand; each command
// parses its own flags (cli/commands.h).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/index_command.h"
#include "cli/prewarm_command.h"

namespace {

const char* kUsage =
    "usage: shardcast COMMAND [ARGS]\n"
    "\n"
    "commands (controller):\n"
    "  deploy NAME:VERSION --source URI|JSON [--regions a,b] [--wait]   start a rollout\n"
    "  status ROLLOUT_ID [--watch] [--nodes]                       show progress per region\n"
    "  list                                                        list rollouts\n"
    "  cancel ROLLOUT_ID                                           cancel a rollout\n"
    "\n"
    "commands (node agent, over its unix socket):\n"
    "  prewarm NAME:VERSION [--wait] [--timeout D] [--warm none|pagecache] [--lease-ttl D]\n"
    "                                  make a model ready here; prints its local path\n"
    "  release LEASE                   release a prewarm lease (preStop hook)\n"
    "  verify NAME:VERSION             re-hash a published model against the accepted hashes;\n"
    "                                  exit 0 ok, 1 corrupt (files named, not deleted)\n"
    "\n"
    "commands (origin):\n"
    "  index DIR                       write DIR/shardcast-index.json for an HTTP origin\n"
    "\n"
    "Every command takes --controller URL (or $SHARDCAST_CONTROLLER), -o json, --help.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace shardcast::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("shardcast %s\n", SHARDCAST_VERSION);
    return kExitOk;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "deploy") return runDeploy(args);
  if (cmd == "status") return runStatus(args);
  if (cmd == "list") return runList(args);
  if (cmd == "cancel") return runCancel(args);
  if (cmd == "index") return runIndex(args);
  if (cmd == "prewarm") return runPrewarm(args);
  if (cmd == "release") return runRelease(args);
  if (cmd == "verify") return runVerify(args);
  std::fprintf(stderr, "shardcast: error: unknown command '%s'; run 'shardcast --help'\n",
               cmd.c_str());
  return kExitUsage;
}
