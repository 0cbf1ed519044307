#include "agent/peer_client.h"

#include "common/api/error.h"
#include "common/sha256.h"

namespace shardcast::agent {
namespace {

HttpClientOptions clientOptions(const PeerClientOptions& o) {
  HttpClientOptions h;
  h.user_agent = o.user_agent;
  h.use_proxy_env = false;  // peer traffic never goes through a proxy
  h.bearer_token = o.cluster_token;
  h.receive_buffer_bytes = 512 * 1024;  // libcurl's largest (CURL_MAX_READ_SIZE)
  return h;
}

}  // namespace

PeerClient::PeerClient(PeerClientOptions options)
    : options_(std::move(options)), pool_(clientOptions(options_)) {}

std::string PeerClient::url(const std::string& addr, const ModelRef& ref,
                            const std::string& rest) const {
  return "http://" + addr + "/v1/peer/" + ref.name + "/" + ref.version + "/" + rest;
}

Result<Bitfield> PeerClient::fetchBitfield(const std::string& addr, const ModelRef& ref,
                                           uint32_t piece_count) {
  HttpRequest req;
  req.url = url(addr, ref, "bitfield");
  req.timeout_ms = options_.bitfield_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  auto client = pool_.acquire();
  ASSIGN_OR_RETURN(HttpResponse resp, client->send(req));
  if (resp.status != 200) {
    return api::statusFromErrorBody(static_cast<int>(resp.status), resp.body)
        .withContext("bitfield from " + addr);
  }
  std::string pieces = resp.header("X-Shardcast-Pieces");
  if (!pieces.empty() && pieces != std::to_string(piece_count)) {
    return invalidArgument("peer " + addr + " has " + pieces + " pieces for " + ref.toString() +
                           ", want " + std::to_string(piece_count));
  }
  return Bitfield::fromBytes(piece_count, resp.body);
}

Result<FetchedPiece> PeerClient::fetchPiece(const std::string& addr, const ModelRef& ref,
                                            uint32_t index, uint64_t length) {
  FetchedPiece out;
  out.data.reserve(length);
  Sha256 hasher;
  HttpRequest req;
  req.url = url(addr, ref, "pieces/" + std::to_string(index));
  req.timeout_ms = options_.piece_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  req.low_speed_bytes = options_.stall_bytes_per_second;
  req.low_speed_seconds = options_.stall_seconds;
  req.on_body = [&](const char* data, size_t len) -> Status {
    if (out.data.size() + len > length) {
      return corruption("peer " + addr + " sent more than the " + std::to_string(length) +
                        " bytes of piece " + std::to_string(index));
    }
    out.data.append(data, len);
    hasher.update(data, len);
    return Status::ok();
  };
  auto client = pool_.acquire();
  ASSIGN_OR_RETURN(HttpResponse resp, client->send(req));
  if (resp.status != 200) {
    return api::statusFromErrorBody(static_cast<int>(resp.status), resp.body)
        .withContext("piece " + std::to_string(index) + " from " + addr);
  }
  if (out.data.size() != length) {
    return corruption("peer " + addr + " sent " + std::to_string(out.data.size()) +
                      " bytes of piece " + std::to_string(index) + ", want " +
                      std::to_string(length));
  }
  out.sha256 = hasher.finishHex();
  out.hint = resp.header("X-Shardcast-Sha256");
  return out;
}

}  // namespace shardcast::agent
