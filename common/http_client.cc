#include "common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "common/hex_digit.h"

namespace shardcast {
namespace {

// When streaming, a non-2xx body is kept for error messages up to this many bytes.
constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

// libcurl wants curl_global_init once per process before any other thread uses it.
// The once_flag is the one piece of process-wide state in this file; it never
// changes after the first client is built.
void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string toLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// URLs may carry signed query strings; errors and logs show only the part before '?'.
std::string redactUrl(const std::string& url) { return url.substr(0, url.find('?')); }

// State shared with the libcurl callbacks for one transfer.
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse response;
  bool headers_done = false;
  Status callback_status;  // set when a callback aborted the transfer
};

// Parses "HTTP/1.1 206 Partial Content" (or "HTTP/2 200"); returns 0 when not a status line.
long parseStatusLine(const std::string& line) {
  if (line.rfind("HTTP/", 0) != 0) return 0;
  size_t sp = line.find(' ');
  if (sp == std::string::npos) return 0;
  return std::strtol(line.c_str() + sp + 1, nullptr, 10);
}

size_t onHeaderLine(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nitems;
  std::string line(data, n);
  if (long code = parseStatusLine(line); code != 0) {
    // A new header block (after 100 Continue or a redirect) replaces the previous one.
    t->response.status = code;
    t->response.headers.clear();
    t->headers_done = false;
    return n;
  }
  if (trim(line).empty()) {
    // End of a header block. 1xx blocks are followed by the real response.
    if (t->response.status >= 200 && !t->headers_done) {
      t->headers_done = true;
      if (t->request->on_headers) {
        Status st = t->request->on_headers(t->response);
        if (!st.isOk()) {
          t->callback_status = st;
          return 0;  // aborts with CURLE_WRITE_ERROR
        }
      }
    }
    return n;
  }
  if (t->headers_done) return n;  // trailers are not merged into the header map
  size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  t->response.headers[toLower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return n;
}

size_t onBodyBytes(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  const HttpRequest& req = *t->request;
  bool success = t->response.status >= 200 && t->response.status < 300;
  if (req.on_body && success) {
    Status st = req.on_body(data, n);
    if (!st.isOk()) {
      t->callback_status = st;
      return 0;
    }
    return n;
  }
  if (req.on_body) {
    size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, t->response.body.size());
    t->response.body.append(data, std::min(room, n));
    return n;
  }
  t->response.body.append(data, n);
  return n;
}

// Sets the method and, for methods that carry one, the request body.
void setMethod(CURL* c, const HttpRequest& req) {
  const std::string& m = req.method;
  if (m == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (m == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
    if (m == "POST" || m == "PUT" || m == "PATCH" || !req.body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    }
  }
}

void setTimeouts(CURL* c, const HttpRequest& req) {
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req.connect_timeout_ms);
  if (req.low_speed_bytes > 0 && req.low_speed_seconds > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, req.low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req.low_speed_seconds);
  }
}

void setConnectionOptions(CURL* c, const HttpClientOptions& o) {
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
  if (!o.use_proxy_env) {
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  }
  if (!o.ca_bundle.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_bundle.c_str());
  if (!o.client_cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, o.client_cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, o.client_key.c_str());
  }
  if (o.receive_buffer_bytes > 0) curl_easy_setopt(c, CURLOPT_BUFFERSIZE, o.receive_buffer_bytes);
  if (!o.unix_socket_path.empty()) {
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o.unix_socket_path.c_str());
  }
}

curl_slist* buildHeaders(const HttpRequest& req, const HttpClientOptions& o) {
  curl_slist* list = nullptr;
  // libcurl would otherwise send "Expect: 100-continue" for larger bodies and wait.
  list = curl_slist_append(list, "Expect:");
  if (!o.bearer_token.empty()) {
    list = curl_slist_append(list, ("Authorization: Bearer " + o.bearer_token).c_str());
  }
  for (const auto& [name, value] : req.headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  return list;
}

Status curlError(CURLcode rc, const char* errbuf, const HttpRequest& req) {
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  std::string msg = req.method + " " + redactUrl(req.url) + ": " + detail;
  if (rc == CURLE_OPERATION_TIMEDOUT) return deadlineExceeded(msg);
  return unavailable(msg);
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(toLower(name));
  return it == headers.end() ? "" : it->second;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  initCurlOnce();
  curl_ = curl_easy_init();
  assert(curl_ != nullptr && "curl_easy_init failed");
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  CURL* c = static_cast<CURL*>(curl_);
  // reset() drops the options of the previous request but keeps the connection cache,
  // so keep-alive connections are reused.
  curl_easy_reset(c);
  Transfer t;
  t.request = &request;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  setConnectionOptions(c, options_);
  setTimeouts(c, request);
  setMethod(c, request);
  curl_slist* headers = buildHeaders(request, options_);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &onHeaderLine);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &onBodyBytes);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  // Drop pointers into this stack frame so the handle holds nothing dangling.
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (!t.callback_status.isOk()) return t.callback_status;
  if (rc != CURLE_OK) return curlError(rc, errbuf, request);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  t.response.status = code;
  return std::move(t.response);
}

Result<HttpResponse> HttpClient::get(const std::string& url, long timeout_ms) {
  HttpRequest req;
  req.url = url;
  req.timeout_ms = timeout_ms;
  return send(req);
}

Result<HttpResponse> HttpClient::sendJson(const std::string& method, const std::string& url,
                                          const std::string& json_body, long timeout_ms) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = json_body;
  req.timeout_ms = timeout_ms;
  req.headers.emplace_back("Accept", "application/json");
  if (!json_body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  return send(req);
}

HttpClientPool::Handle HttpClientPool::acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      return Handle(this, std::move(c));
    }
  }
  return Handle(this, std::make_unique<HttpClient>(options_));
}

void HttpClientPool::release(std::unique_ptr<HttpClient> c) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(c));
}

std::string urlEncode(const std::string& s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    bool unreserved = alnum || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::string> urlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += (plus_is_space && s[i] == '+') ? ' ' : s[i];
      continue;
    }
    int hi = i + 2 < s.size() ? hexDigitValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hexDigitValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return invalidArgument("malformed percent-escape at offset " + std::to_string(i));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace shardcast
