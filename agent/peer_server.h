// PeerServer: the agent's data-plane listener (DESIGN §5 "Agent peer API"),
// served by libmicrohttpd with a small thread pool; piece bytes go out with
// sendfile (MHD_create_response_from_fd_at_offset64).
//
//   GET /v1/peer/{model}/{version}/bitfield   raw bitfield, X-Shardcast-Pieces: N
//   GET /v1/peer/{model}/{version}/pieces/{n} piece bytes, X-Shardcast-Sha256: hint
//   GET /healthz                              {"ok": true}, without the cluster token:
//                                             the kubelet's probe that MHD's threads answer
//
// Only pieces whose bit is set in the VersionStore (verified against accepted
// hashes and durable) are served. Errors are JSON bodies (api::errorBody): 400 for
// malformed input, 401 without the cluster token (when one is configured), 404
// for a version or piece this node does not hold, 405 for other methods.
//
// Test hook: with corrupt_serving_for_test every piece is read into memory, one
// byte in its middle is flipped, and X-Shardcast-Sha256 carries the hash of the
// altered bytes (a peer lying about bytes and hash, DESIGN §9).
//
// Owns the MHD daemon; borrows the ContentStore, which must outlive it. Requests
// run on MHD's threads; start()/stop() are called by the owner's thread.
// Not responsible for deciding what this node holds.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "agent/content_store.h"
#include "common/status.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace shardcast::agent {

struct PeerServerOptions {
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 7401;  // 0 = any free port
  std::string cluster_token;    // "" = no authentication
  unsigned threads = 4;
  bool corrupt_serving_for_test = false;
};

class PeerServer {
 public:
  PeerServer(ContentStore* store, PeerServerOptions options);
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  Status start();
  void stop();
  // The port actually bound (valid after start()).
  uint16_t port() const { return port_; }
  uint64_t bytesServed() const { return bytes_served_.load(); }

  // The MHD access handler (public only so the C callback can reach it).
  bool handle(MHD_Connection* connection, const char* url, const char* method);

 private:
  bool serveBitfield(MHD_Connection* c, const VersionStore& vs);
  bool servePiece(MHD_Connection* c, const VersionStore& vs, uint32_t index);
  bool serveCorruptPiece(MHD_Connection* c, const VersionStore& vs, uint32_t index);
  bool authorized(MHD_Connection* c) const;

  ContentStore* store_;
  const PeerServerOptions options_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<uint64_t> bytes_served_{0};
};

}  // namespace shardcast::agent
