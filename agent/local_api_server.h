// LocalApiServer: the agent's local API on a unix socket (DESIGN §5), for the
// pre-warm hook and operators, served by libmicrohttpd on a pre-bound AF_UNIX
// socket (MHD_OPTION_LISTEN_SOCKET). The socket's mode and group are configurable
// so that pods mounting it through a hostPath can reach it.
//
//   POST   /v1/prewarm       {"model": "n:v", "lease_id"?, "lease_ttl_ms"?, "warm"?}
//                            -> 200 model view when ready, 202 while pending/fetching,
//                               an error body otherwise (404 unknown_model,
//                               507 no_space, 503 controller_unreachable)
//   GET    /v1/models        {"models_root", "disk": {...}, "models": [view...]}
//   POST   /v1/verify        {"model": "n:v"} -> 200 {"model", "pieces", "bad_pieces",
//                               "unverified_pieces", "files_bad", "ok", "bytes_hashed",
//                               "seconds", "rollout_id"} (200 also when corrupt);
//                               404 not_published, 409 no_rollout, 429 verify_busy,
//                               503 controller_unreachable. Runs to completion on
//                               one MHD thread (re-hashes the whole version).
//   DELETE /v1/leases/{id}   200 {"released": id}; 404 unknown_lease
//   GET    /metrics          Prometheus text (shardcast_agent_*)
//
// Bodies are capped at 64 KiB. Owns the MHD daemon and the socket file (removed on
// stop); borrows the ModelLifecycle and ModelVerifier. Requests run on MHD's threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/model_lifecycle.h"
#include "agent/model_verifier.h"
#include "common/status.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace shardcast::agent {

struct LocalApiOptions {
  std::string socket_path;
  unsigned mode = 0660;
  std::string group;  // "" = the agent's group
  unsigned threads = 2;
};

class LocalApiServer {
 public:
  LocalApiServer(ModelLifecycle* lifecycle, ModelVerifier* verifier, LocalApiOptions options,
                 std::function<uint64_t()> bytes_served);
  ~LocalApiServer();
  LocalApiServer(const LocalApiServer&) = delete;
  LocalApiServer& operator=(const LocalApiServer&) = delete;

  Status start();
  void stop();

  // The MHD access handler (public only so the C callback can reach it).
  bool handle(MHD_Connection* c, const std::string& url, const std::string& method,
              const std::string& body);

 private:
  Result<int> bindSocket();
  bool prewarm(MHD_Connection* c, const std::string& body);
  bool models(MHD_Connection* c);
  bool verify(MHD_Connection* c, const std::string& body);

  ModelLifecycle* lifecycle_;
  ModelVerifier* verifier_;
  const LocalApiOptions options_;
  const std::function<uint64_t()> bytes_served_;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace shardcast::agent
