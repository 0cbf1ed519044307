// PeerClient: fetches bitfields and pieces from other agents' peer servers
// (DESIGN §5 "Agent peer API") over libcurl, never through a proxy, with the
// cluster token when one is configured.
//
// A piece is received into a buffer of exactly the piece's length and hashed while
// it arrives; a peer that sends more bytes than the piece has is cut off. The hash
// computed here is what the caller compares with the ACCEPTED hash; the peer's
// X-Shardcast-Sha256 header is returned only as a hint and must not be trusted.
//
// Thread-safe: each call borrows its own HttpClient from a pool.
// Not responsible for choosing peers or verifying against accepted hashes.
#pragma once

#include <cstdint>
#include <string>

#include "common/bitfield.h"
#include "common/http_client.h"
#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::agent {

struct FetchedPiece {
  std::string data;    // exactly the piece's length
  std::string sha256;  // computed over `data` while receiving
  std::string hint;    // the peer's X-Shardcast-Sha256 ("" if none); untrusted
};

struct PeerClientOptions {
  std::string cluster_token;
  std::string user_agent = "shardcast-agent/" SHARDCAST_VERSION;
  long bitfield_timeout_ms = 2000;
  long connect_timeout_ms = 2000;
  long piece_timeout_ms = 300000;
  // A piece transfer slower than this for `stall_seconds` is abandoned.
  long stall_bytes_per_second = 16 * 1024;
  long stall_seconds = 10;
};

class PeerClient {
 public:
  explicit PeerClient(PeerClientOptions options);

  // `addr` is "host:port" (IPv6 as "[::1]:port").
  Result<Bitfield> fetchBitfield(const std::string& addr, const ModelRef& ref,
                                 uint32_t piece_count);
  Result<FetchedPiece> fetchPiece(const std::string& addr, const ModelRef& ref, uint32_t index,
                                  uint64_t length);

 private:
  std::string url(const std::string& addr, const ModelRef& ref, const std::string& rest) const;

  const PeerClientOptions options_;
  HttpClientPool pool_;
};

}  // namespace shardcast::agent
