// A small blocking HTTP client over libcurl.
//
// One HttpClient owns one curl easy handle and therefore one keep-alive connection
// pool; it is NOT thread-safe: give each thread its own client (HttpClientPool
// hands them out). A transport failure (DNS, connect, timeout, reset) is a non-OK
// Status with code Unavailable (DeadlineExceeded for timeouts); any HTTP status,
// including 4xx/5xx, is a successful Result holding the response.
//
// Proxies: libcurl honours http_proxy/https_proxy by default. Origin traffic may
// use them (options.use_proxy_env = true); peer and controller traffic never does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace shardcast {

struct HttpClientOptions {
  std::string user_agent = "shardcast/" SHARDCAST_VERSION;
  bool use_proxy_env = false;    // honour *_proxy variables (origins only)
  std::string ca_bundle;         // extra CA bundle file for TLS origins
  // A client certificate and its key (PEM files) for servers that require one
  // (etcd with --client-cert-auth). Both or neither.
  std::string client_cert;
  std::string client_key;
  std::string unix_socket_path;  // talk HTTP over this unix socket instead of TCP
  std::string bearer_token;      // sent as "Authorization: Bearer <token>" when set
  // libcurl's receive buffer; 0 = libcurl's default (16 KiB). Bulk transfers
  // (pieces) use a large one: fewer poll/recv rounds per byte.
  long receive_buffer_bytes = 0;
};

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, response body bytes are passed here as they arrive instead of being
  // collected in HttpResponse::body; returning a non-OK Status aborts the transfer
  // and becomes the result.
  // Only 2xx response bodies go to on_body; other bodies are collected in
  // HttpResponse::body (capped at 64 KiB) so callers can quote them in errors.
  std::function<Status(const char* data, size_t len)> on_body;
  // When set, called once the final status line and headers are known, before any
  // body byte; a non-OK Status aborts the transfer and becomes the result. Lets a
  // caller check the status and ETag before bytes reach a sink.
  std::function<Status(const HttpResponse& head)> on_headers;
  long timeout_ms = 30000;         // whole request; 0 = none
  long connect_timeout_ms = 5000;
  // Abort when fewer than low_speed_bytes/s arrive for low_speed_seconds (0 = off).
  long low_speed_bytes = 0;
  long low_speed_seconds = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // keys lowercased; last value wins
  std::string body;

  // Header value by case-insensitive name, "" when absent.
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> send(const HttpRequest& request);

  // Convenience wrappers.
  Result<HttpResponse> get(const std::string& url, long timeout_ms = 30000);
  Result<HttpResponse> sendJson(const std::string& method, const std::string& url,
                                const std::string& json_body, long timeout_ms = 30000);

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
  void* curl_;  // CURL*, owned
};

// A thread-safe pool of HttpClients sharing one set of options. acquire() returns a
// client that goes back to the pool when the handle is destroyed, so connections
// are reused across requests without sharing a client between threads.
class HttpClientPool {
 public:
  explicit HttpClientPool(HttpClientOptions options) : options_(std::move(options)) {}

  class Handle {
   public:
    Handle(HttpClientPool* pool, std::unique_ptr<HttpClient> c)
        : pool_(pool), client_(std::move(c)) {}
    Handle(Handle&&) = default;
    ~Handle() {
      if (client_) pool_->release(std::move(client_));
    }
    HttpClient* operator->() { return client_.get(); }
    HttpClient& operator*() { return *client_; }

   private:
    HttpClientPool* pool_;
    std::unique_ptr<HttpClient> client_;
  };

  Handle acquire();

 private:
  void release(std::unique_ptr<HttpClient> c);

  HttpClientOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> free_;  // guarded by mu_
};

// Percent-encodes everything but RFC 3986 unreserved characters; '/' is kept when
// keep_slash is true (for object keys in URL paths).
std::string urlEncode(const std::string& s, bool keep_slash = false);
// Decodes %XX escapes (and '+' as a space when plus_is_space, for query strings);
// returns InvalidArgument on a malformed escape.
Result<std::string> urlDecode(std::string_view s, bool plus_is_space = false);

}  // namespace shardcast
