// `shardcast prewarm`, `release` and `verify`: the pre-warm hook's side of the
// agent's local API (DESIGN §4.6, §5), over the agent's unix socket.
//
//   prewarm MODEL:VERSION [--wait] [--timeout D] [--warm none|pagecache]
//           [--lease-ttl D] [--lease-id ID] [--models-root DIR] [--socket PATH]
//     Asks the agent for the model (it joins the model's rollout on demand), takes
//     or renews a lease (id: --lease-id, else $POD_UID, else a generated one printed
//     on stderr), and with --wait polls until it is published; then warms the page
//     cache (default pagecache) and prints <models-root>/<name>/<version> on stdout.
//     Progress goes to stderr. Exit 0 ready; 1 with one line on stderr for a
//     timeout, no space, an unknown model or an unreachable agent; 3 without --wait
//     when not ready yet; 64 bad usage.
//   release LEASE [--socket PATH]    for a preStop hook.
//   verify MODEL:VERSION [--timeout D] [--socket PATH] [-o json]
//     Asks the agent to re-hash every piece of the published version against the
//     accepted hashes (and the publisher's file checksums). Prints a one-line
//     verdict. Exit 0 ok; 1 corrupt (the files are named; nothing is deleted);
//     2 with one line on stderr when it cannot verify (agent unreachable, model not
//     published here, no accepted hashes); 64 bad usage.
//
// The socket defaults to $SHARDCAST_AGENT_SOCKET, else /run/shardcast/agent.sock.
#pragma once

#include <string>
#include <vector>

namespace shardcast::cli {

inline constexpr int kExitNotReady = 3;
inline constexpr int kExitCorrupt = 1;
inline constexpr int kExitCannotVerify = 2;

int runPrewarm(const std::vector<std::string>& args);
int runRelease(const std::vector<std::string>& args);
int runVerify(const std::vector<std::string>& args);

}  // namespace shardcast::cli
