// shardcast-agent: parses flags, builds the Server, and waits for SIGTERM/SIGINT.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/server.h"
#include "common/log.h"

namespace {

// Each open partial file keeps a descriptor while it is being written.
void raiseFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// Piece buffers (default 16 MiB) are short-lived and all of a size. Freed ones are
// kept and reused: mapping fresh memory for every piece costs a page fault per
// 4 KiB (on a VM, a host fault too), about 1 s of CPU per GB received. Buffers up
// to 32 MiB (glibc's largest mmap threshold) come from the heap, which is never
// trimmed below 512 MiB, and few arenas keep one thread's free list usable by the
// others; so the resident size stays at the peak of pieces in flight. Larger
// pieces are mapped and unmapped as before.
void tuneMalloc() {
  (void)::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  (void)::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  (void)::mallopt(M_ARENA_MAX, 2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shardcast;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = agent::parseAgentFlags(args);
  if (!parsed.isOk()) {
    std::cerr << "shardcast-agent: " << parsed.status().message() << "\n";
    return 2;
  }
  switch (parsed->action) {
    case agent::AgentAction::kHelp: std::cout << agent::agentUsage(); return 0;
    case agent::AgentAction::kVersion: std::cout << "shardcast-agent " << SHARDCAST_VERSION << "\n"; return 0;
    case agent::AgentAction::kCheckConfig: std::cout << "config ok\n"; return 0;
    case agent::AgentAction::kRun: break;
  }
  agent::AgentConfig config = parsed->config;
  setLogLevel(config.log_level);
  setLogComponent("agent " + config.name);
  raiseFileLimit();
  tuneMalloc();

  // Block the stop signals in every thread; this one waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  agent::Server server(config);
  Status s = server.start();
  if (!s.isOk()) {
    LOG_ERROR("cannot start: " << s.message());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  LOG_INFO("received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << "; draining");
  server.stop();
  return 0;
}
