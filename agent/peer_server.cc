#include "agent/peer_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/api/error.h"
#include "common/log.h"
#include "common/sha256.h"

namespace shardcast::agent {
namespace {

constexpr const char* kPeerPrefix = "/v1/peer/";

MHD_Result queueBuffer(MHD_Connection* c, unsigned status, const std::string& body,
                       const char* content_type) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", content_type);
  MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

bool queueError(MHD_Connection* c, const Status& s, int status = 0) {
  if (status == 0) status = api::httpStatusFor(s);
  return queueBuffer(c, static_cast<unsigned>(status), api::errorBody(s).dump(),
                     "application/json");
}

MHD_Result accessHandler(void* cls, MHD_Connection* c, const char* url, const char* method,
                         const char* /*version*/, const char* /*upload_data*/,
                         size_t* upload_data_size, void** /*con_cls*/) {
  if (*upload_data_size != 0) {
    *upload_data_size = 0;  // bodies are not expected; drop them
    return MHD_YES;
  }
  return static_cast<PeerServer*>(cls)->handle(c, url, method) ? MHD_YES : MHD_NO;
}

void mhdLogger(void* /*cls*/, const char* fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  LOG_DEBUG("peer server: " << line);
}

bool constantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// "{model}/{version}/bitfield" or "{model}/{version}/pieces/{n}" -> segments.
std::vector<std::string> splitSegments(const std::string& rest) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = rest.find('/', start);
    out.push_back(rest.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Result<uint32_t> parsePieceIndex(const std::string& s) {
  if (s.empty() || s.size() > 10) return invalidArgument("piece index must be a decimal number");
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return invalidArgument("piece index must be a decimal number");
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (v > UINT32_MAX) return invalidArgument("piece index out of range");
  return static_cast<uint32_t>(v);
}

}  // namespace

PeerServer::PeerServer(ContentStore* store, PeerServerOptions options)
    : store_(store), options_(std::move(options)) {}

PeerServer::~PeerServer() { stop(); }

Status PeerServer::start() {
  if (daemon_ != nullptr) return Status::ok();
  // sendfile() to a closed socket raises SIGPIPE; MHD only suppresses it itself on
  // some platforms, and the agent never wants to die of it.
  if (MHD_is_feature_supported(MHD_FEATURE_AUTOSUPPRESS_SIGPIPE) != MHD_YES) {
    ::signal(SIGPIPE, SIG_IGN);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* ai = nullptr;
  std::string port = std::to_string(options_.listen_port);
  int rc = ::getaddrinfo(options_.listen_host.c_str(), port.c_str(), &hints, &ai);
  if (rc != 0 || ai == nullptr) {
    return invalidArgument("cannot resolve listen host '" + options_.listen_host +
                           "': " + gai_strerror(rc));
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (options_.corrupt_serving_for_test) {
    LOG_WARN("corrupt-serving-for-test is ON: this agent serves altered piece bytes with "
             "matching lying hashes");
  }
  daemon_ = MHD_start_daemon(
      flags, options_.listen_port, nullptr, nullptr, &accessHandler, this,
      MHD_OPTION_EXTERNAL_LOGGER, &mhdLogger, nullptr,
      MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_THREAD_POOL_SIZE, options_.threads,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
      MHD_OPTION_CONNECTION_TIMEOUT, 120u,
      MHD_OPTION_CONNECTION_LIMIT, 1000u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(64 * 1024),
      MHD_OPTION_END);
  ::freeaddrinfo(ai);
  if (daemon_ == nullptr) {
    return unavailable("cannot listen on " + options_.listen_host + ":" + port +
                       " (address in use or not available)");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr ? info->port : options_.listen_port;
  LOG_INFO("peer server listening on " << options_.listen_host << ":" << port_);
  return Status::ok();
}

void PeerServer::stop() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
  }
}

bool PeerServer::authorized(MHD_Connection* c) const {
  if (options_.cluster_token.empty()) return true;
  const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  if (auth == nullptr) return false;
  return constantTimeEquals(auth, "Bearer " + options_.cluster_token);
}

bool PeerServer::handle(MHD_Connection* c, const char* url, const char* method) {
  std::string path = url ? url : "";
  if (path == "/healthz" && std::strcmp(method, "GET") == 0) {
    return queueBuffer(c, MHD_HTTP_OK, R"({"ok":true})", "application/json") == MHD_YES;
  }
  if (path.rfind(kPeerPrefix, 0) != 0) return queueError(c, notFound("no route " + path));
  if (std::strcmp(method, "GET") != 0) {
    return queueError(c, Status(StatusCode::kInvalidArgument, "only GET is supported",
                                "method_not_allowed"), MHD_HTTP_METHOD_NOT_ALLOWED);
  }
  if (!authorized(c)) {
    return queueError(c, unauthenticated("missing or wrong cluster token"));
  }
  auto segs = splitSegments(path.substr(std::strlen(kPeerPrefix)));
  bool bitfield = segs.size() == 3 && segs[2] == "bitfield";
  bool piece = segs.size() == 4 && segs[2] == "pieces";
  if (!bitfield && !piece) return queueError(c, notFound("no route " + path));
  Status s = validateModelName(segs[0]);
  if (s.isOk()) s = validateModelVersion(segs[1]);
  if (!s.isOk()) return queueError(c, s);
  ModelRef ref{segs[0], segs[1]};
  std::shared_ptr<VersionStore> vs = store_->find(ref);
  if (vs == nullptr) return queueError(c, notFound(ref.toString() + " is not held here"));
  if (bitfield) return serveBitfield(c, *vs);
  auto index = parsePieceIndex(segs[3]);
  if (!index.isOk()) return queueError(c, index.status());
  if (*index >= vs->manifest().pieceCount()) {
    return queueError(c, invalidArgument("piece " + segs[3] + " out of range: " +
                                         ref.toString() + " has " +
                                         std::to_string(vs->manifest().pieceCount()) +
                                         " pieces"));
  }
  if (options_.corrupt_serving_for_test) return serveCorruptPiece(c, *vs, *index);
  return servePiece(c, *vs, *index);
}

bool PeerServer::serveBitfield(MHD_Connection* c, const VersionStore& vs) {
  std::string bytes = vs.bits().toBytes();
  MHD_Response* r = MHD_create_response_from_buffer(bytes.size(), bytes.data(),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return false;
  MHD_add_response_header(r, "Content-Type", "application/octet-stream");
  MHD_add_response_header(r, "X-Shardcast-Pieces",
                          std::to_string(vs.manifest().pieceCount()).c_str());
  MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret == MHD_YES;
}

bool PeerServer::servePiece(MHD_Connection* c, const VersionStore& vs, uint32_t index) {
  auto pfd = vs.openPieceFd(index);
  if (!pfd.isOk()) return queueError(c, pfd.status());
  uint64_t length = pfd->length;
  // MHD owns the descriptor from here on and closes it when the response is gone.
  MHD_Response* r = MHD_create_response_from_fd_at_offset64(length, pfd->fd.get(), pfd->offset);
  if (r == nullptr) return false;
  pfd->fd.release();
  MHD_add_response_header(r, "Content-Type", "application/octet-stream");
  std::string hint = vs.hashHint(index);
  if (!hint.empty()) MHD_add_response_header(r, "X-Shardcast-Sha256", hint.c_str());
  MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  if (ret == MHD_YES) bytes_served_ += length;
  return ret == MHD_YES;
}

bool PeerServer::serveCorruptPiece(MHD_Connection* c, const VersionStore& vs, uint32_t index) {
  auto pfd = vs.openPieceFd(index);
  if (!pfd.isOk()) return queueError(c, pfd.status());
  std::string bytes(pfd->length, '\0');
  Status s = preadAll(pfd->fd.get(), bytes.data(), bytes.size(), pfd->offset, "piece");
  if (!s.isOk()) return queueError(c, s);
  if (!bytes.empty()) bytes[bytes.size() / 2] ^= 0x5a;
  std::string lie = sha256Hex(bytes);
  MHD_Response* r = MHD_create_response_from_buffer(bytes.size(), bytes.data(),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return false;
  MHD_add_response_header(r, "Content-Type", "application/octet-stream");
  MHD_add_response_header(r, "X-Shardcast-Sha256", lie.c_str());
  MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret == MHD_YES;
}

}  // namespace shardcast::agent
