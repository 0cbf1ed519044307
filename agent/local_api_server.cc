#include "agent/local_api_server.h"

#include <grp.h>
#include <microhttpd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/api/error.h"
#include "common/api/json_fields.h"
#include "common/log.h"

namespace shardcast::agent {
namespace {

constexpr size_t kMaxBody = 64 * 1024;

struct RequestState {
  std::string body;
  bool too_large = false;
};

bool queueText(MHD_Connection* c, unsigned status, const std::string& body, const char* type) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return false;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret == MHD_YES;
}

bool queueJson(MHD_Connection* c, unsigned status, const nlohmann::json& j) {
  return queueText(c, status, j.dump(), "application/json");
}

bool queueError(MHD_Connection* c, const Status& s, int status = 0) {
  if (status == 0) status = s.reason() == "no_space" ? 507 : api::httpStatusFor(s);
  return queueJson(c, static_cast<unsigned>(status), api::errorBody(s));
}

MHD_Result accessHandler(void* cls, MHD_Connection* c, const char* url, const char* method,
                         const char*, const char* upload_data, size_t* upload_data_size,
                         void** con_cls) {
  if (*con_cls == nullptr) {
    *con_cls = new RequestState();
    return MHD_YES;
  }
  auto* st = static_cast<RequestState*>(*con_cls);
  if (*upload_data_size != 0) {
    if (st->body.size() + *upload_data_size > kMaxBody) {
      st->too_large = true;
    } else {
      st->body.append(upload_data, *upload_data_size);
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (st->too_large) {
    return queueError(c, invalidArgument("request body is larger than 64 KiB"), 413) ? MHD_YES
                                                                                      : MHD_NO;
  }
  auto* self = static_cast<LocalApiServer*>(cls);
  return self->handle(c, url ? url : "", method ? method : "", st->body) ? MHD_YES : MHD_NO;
}

void completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  delete static_cast<RequestState*>(*con_cls);
  *con_cls = nullptr;
}

void mhdLogger(void*, const char* fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  LOG_DEBUG("local api: " << buf);
}

}  // namespace

LocalApiServer::LocalApiServer(ModelLifecycle* lifecycle, ModelVerifier* verifier,
                               LocalApiOptions options, std::function<uint64_t()> bytes_served)
    : lifecycle_(lifecycle),
      verifier_(verifier),
      options_(std::move(options)),
      bytes_served_(std::move(bytes_served)) {}

LocalApiServer::~LocalApiServer() { stop(); }

Result<int> LocalApiServer::bindSocket() {
  const std::string& path = options_.socket_path;
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return invalidArgument("--local-socket path must be 1-" +
                           std::to_string(sizeof(addr.sun_path) - 1) + " characters");
  }
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // A socket left by an earlier run is replaced; anything else at the path is not.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return failedPrecondition(path + " exists and is not a socket");
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoStatus("socket", errno);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return errnoStatus("bind " + path, err);
  }
  Status s;
  if (::chmod(path.c_str(), options_.mode) != 0) s = errnoStatus("chmod " + path, errno);
  if (s.isOk() && !options_.group.empty()) {
    struct group* g = ::getgrnam(options_.group.c_str());
    if (g == nullptr) {
      s = invalidArgument("--socket-group: no group '" + options_.group + "'");
    } else if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      s = errnoStatus("chown " + path, errno);
    }
  }
  if (s.isOk() && ::listen(fd, 64) != 0) s = errnoStatus("listen " + path, errno);
  if (!s.isOk()) {
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  return fd;
}

Status LocalApiServer::start() {
  if (daemon_ != nullptr) return Status::ok();
  ASSIGN_OR_RETURN(int fd, bindSocket());
  daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr, &accessHandler,
      this, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_EXTERNAL_LOGGER, &mhdLogger, nullptr,
      MHD_OPTION_NOTIFY_COMPLETED, &completed, nullptr, MHD_OPTION_THREAD_POOL_SIZE,
      options_.threads, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT, 256u,
      MHD_OPTION_END);
  if (daemon_ == nullptr) {
    ::close(fd);
    ::unlink(options_.socket_path.c_str());
    return unavailable("cannot serve the local API on " + options_.socket_path);
  }
  LOG_INFO("local API listening on unix:" << options_.socket_path);
  return Status::ok();
}

void LocalApiServer::stop() {
  if (daemon_ == nullptr) return;
  MHD_stop_daemon(daemon_);  // closes the listening socket
  daemon_ = nullptr;
  ::unlink(options_.socket_path.c_str());
}

bool LocalApiServer::handle(MHD_Connection* c, const std::string& url, const std::string& method,
                            const std::string& body) {
  if (url == "/v1/prewarm") {
    if (method != "POST") return queueError(c, invalidArgument("use POST"), 405);
    return prewarm(c, body);
  }
  if (url == "/v1/models") {
    if (method != "GET") return queueError(c, invalidArgument("use GET"), 405);
    return models(c);
  }
  if (url == "/v1/verify") {
    if (method != "POST") return queueError(c, invalidArgument("use POST"), 405);
    return verify(c, body);
  }
  if (url == "/metrics") {
    if (method != "GET") return queueError(c, invalidArgument("use GET"), 405);
    return queueText(c, 200, lifecycle_->metricsText(bytes_served_ ? bytes_served_() : 0),
                     "text/plain; version=0.0.4");
  }
  const std::string lease_prefix = "/v1/leases/";
  if (url.rfind(lease_prefix, 0) == 0) {
    if (method != "DELETE") return queueError(c, invalidArgument("use DELETE"), 405);
    std::string id = url.substr(lease_prefix.size());
    Status s = lifecycle_->releaseLease(id);
    if (!s.isOk()) return queueError(c, s);
    return queueJson(c, 200, {{"released", id}});
  }
  return queueError(c, notFound("no route " + url.substr(0, 200)));
}

bool LocalApiServer::prewarm(MHD_Connection* c, const std::string& body) {
  auto j = api::parseJson(body);
  if (!j.isOk()) return queueError(c, j.status());
  if (!j->is_object()) return queueError(c, invalidArgument("request body must be a JSON object"));
  PrewarmRequest req;
  std::string model;
  Status s = api::readString(*j, "model", model, true);
  if (s.isOk()) s = api::readString(*j, "lease_id", req.lease_id, false);
  if (s.isOk()) s = api::readString(*j, "warm", req.warm, false);
  if (s.isOk() && j->contains("lease_ttl_ms")) {
    const auto& t = (*j)["lease_ttl_ms"];
    if (!t.is_number_integer() || t.get<int64_t>() < 0) {
      s = invalidArgument("field 'lease_ttl_ms' must be a non-negative integer");
    } else {
      req.lease_ttl_ms = t.get<int64_t>();
    }
  }
  if (!s.isOk()) return queueError(c, s);
  auto ref = parseModelRef(model);
  if (!ref.isOk()) return queueError(c, ref.status());
  req.model = *ref;
  auto view = lifecycle_->prewarm(req);
  if (!view.isOk()) return queueError(c, view.status());
  return queueJson(c, view->state == "ready" ? 200 : 202, toJson(*view));
}

bool LocalApiServer::verify(MHD_Connection* c, const std::string& body) {
  auto j = api::parseJson(body);
  if (!j.isOk()) return queueError(c, j.status());
  if (!j->is_object()) return queueError(c, invalidArgument("request body must be a JSON object"));
  std::string model;
  Status s = api::readString(*j, "model", model, true);
  if (!s.isOk()) return queueError(c, s);
  auto ref = parseModelRef(model);
  if (!ref.isOk()) return queueError(c, ref.status());
  auto report = verifier_->verify(*ref);
  if (!report.isOk()) return queueError(c, report.status());
  return queueJson(c, 200, toJson(*report));
}

bool LocalApiServer::models(MHD_Connection* c) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : lifecycle_->models()) list.push_back(toJson(m));
  return queueJson(c, 200, {{"models_root", lifecycle_->modelsRoot()}, {"models", list}});
}

}  // namespace shardcast::agent
