#include "controller/rest_listener.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <cpprest/http_listener.h>

#include "common/api/error.h"
#include "common/log.h"

namespace shardcast::controller {
namespace {

using web::http::http_request;
using web::http::http_response;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

constexpr int kOpenAttempts = 5;

// Binds a socket to host:0 and returns the port the kernel chose.
Result<uint16_t> pickFreePort(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), "0", &hints, &res);
  if (rc != 0) return invalidArgument("cannot resolve listen host '" + host + "': " + gai_strerror(rc));
  Status last = unavailable("no address for '" + host + "'");
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errnoStatus("socket", errno);
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ::close(fd);
      ::freeaddrinfo(res);
      uint16_t port = addr.ss_family == AF_INET6
                          ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                          : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
      return port;
    }
    last = errnoStatus("bind " + host + ":0", errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return last;
}

std::string uriHost(const std::string& host) {
  return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

struct RestListener::Impl {
  explicit Impl(const Router& r) : router(r) {}

  void handle(http_request request);
  void dispatch(const http_request& request, std::vector<unsigned char> body,
                const Responder& respond);
  void enter() {
    std::lock_guard<std::mutex> l(mu);
    ++in_flight;
  }
  void leave() {
    std::lock_guard<std::mutex> l(mu);
    if (--in_flight == 0) idle.notify_all();
  }
  void sendReply(http_request request, ApiResponse response);

  const Router& router;
  std::unique_ptr<http_listener> listener;
  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;        // guarded by mu: requests being routed right now
  int replies_pending = 0;  // guarded by mu: answers handed to cpprest, not yet sent
};

void RestListener::Impl::sendReply(http_request request, ApiResponse response) {
  http_response reply(static_cast<web::http::status_code>(response.status));
  reply.set_body(std::move(response.body), response.content_type);
  for (const auto& [name, value] : response.headers) reply.headers().add(name, value);
  {
    std::lock_guard<std::mutex> l(mu);
    ++replies_pending;
  }
  // Observe the task's exception (a client that went away), or pplx terminates.
  // close() waits for replies_pending to drain, so `this` outlives the task.
  request.reply(reply).then([this](pplx::task<void> t) {
    try {
      t.get();
    } catch (const std::exception& e) {
      LOG_DEBUG("reply not delivered: " << e.what());
    }
    std::lock_guard<std::mutex> l(mu);
    if (--replies_pending == 0) idle.notify_all();
  });
}

void RestListener::Impl::handle(http_request request) {
  auto replied = std::make_shared<std::atomic<bool>>(false);
  Responder respond = [this, request, replied](ApiResponse response) {
    if (replied->exchange(true)) return;  // a Responder answers once
    try {
      sendReply(request, std::move(response));
    } catch (const std::exception& e) {
      LOG_WARN("cannot reply: " << e.what());
    }
  };
  try {
    if (request.headers().content_length() > router.maxBodyBytes()) {
      respond(jsonResponse(413, api::errorBody("body_too_large",
                                               "request body exceeds " +
                                                   std::to_string(router.maxBodyBytes()) + " bytes")));
      return;
    }
    enter();
    try {
      request.extract_vector().then([this, request, respond](pplx::task<std::vector<unsigned char>> t) {
        try {
          dispatch(request, t.get(), respond);
        } catch (const std::exception& e) {
          respond(errorResponse(invalidArgument(std::string("cannot read the request: ") + e.what())));
        }
        leave();
      });
    } catch (...) {
      leave();
      throw;
    }
  } catch (const std::exception& e) {
    LOG_WARN("bad request: " << e.what());
    respond(errorResponse(invalidArgument(std::string("bad request: ") + e.what())));
  }
}

void RestListener::Impl::dispatch(const http_request& request, std::vector<unsigned char> body,
                                  const Responder& respond) {
  ApiRequest r;
  r.method = request.method();
  const web::uri& uri = request.request_uri();
  r.path = uri.path();
  auto query = parseQuery(uri.query());
  if (!query.isOk()) return respond(errorResponse(query.status()));
  r.query = std::move(query).value();
  for (const auto& [name, value] : request.headers()) r.headers[lower(name)] = value;
  r.body.assign(body.begin(), body.end());
  r.remote = request.remote_address();
  router.handle(r, respond);
}

RestListener::RestListener(const Router& router) : impl_(std::make_unique<Impl>(router)) {}

RestListener::~RestListener() { close(); }

Result<std::string> RestListener::open(const std::string& host, uint16_t port) {
  std::string last_error;
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    uint16_t p = port;
    if (p == 0) {
      ASSIGN_OR_RETURN(p, pickFreePort(host));
    }
    std::string address = uriHost(host) + ":" + std::to_string(p);
    try {
      http_listener_config config;
      config.set_timeout(std::chrono::seconds(120));  // > the 30 s long-poll cap
      auto listener = std::make_unique<http_listener>("http://" + address + "/", config);
      Impl* impl = impl_.get();
      listener->support([impl](http_request request) { impl->handle(std::move(request)); });
      listener->open().wait();
      impl_->listener = std::move(listener);
      return address;
    } catch (const std::exception& e) {
      last_error = e.what();
      LOG_WARN("cannot listen on " << address << ": " << last_error);
      if (port != 0) break;  // a fixed port will not become free by retrying
    }
  }
  return unavailable("cannot listen on " + uriHost(host) + ":" + std::to_string(port) + ": " + last_error);
}

void RestListener::close() {
  if (!impl_ || !impl_->listener) return;
  {
    // Answers already given (e.g. long-polls released by a shutdown) reach their
    // clients before the listener closes their connections.
    std::unique_lock<std::mutex> l(impl_->mu);
    impl_->idle.wait_for(l, std::chrono::seconds(5), [this] { return impl_->replies_pending == 0; });
  }
  try {
    impl_->listener->close().wait();
  } catch (const std::exception& e) {
    LOG_WARN("closing the listener: " << e.what());
  }
  // Requests already being routed finish before the router may go away.
  std::unique_lock<std::mutex> l(impl_->mu);
  impl_->idle.wait_for(l, std::chrono::seconds(10), [this] {
    return impl_->in_flight == 0 && impl_->replies_pending == 0;
  });
  l.unlock();
  impl_->listener.reset();
}

}  // namespace shardcast::controller
