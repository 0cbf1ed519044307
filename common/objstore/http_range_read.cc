#include "common/objstore/http_range_read.h"

#include "common/objstore/retry_policy.h"

#include <chrono>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>

namespace shardcast {
namespace {

// A ranged read is abandoned when less than 1 KiB/s arrives for 30 s.
constexpr long kLowSpeedBytes = 1024;
constexpr long kLowSpeedSeconds = 30;

// "bytes 0-99/1000" -> first and last byte.
bool parseContentRange(const std::string& v, uint64_t& first, uint64_t& last) {
  unsigned long long a = 0, b = 0;
  if (std::sscanf(v.c_str(), "bytes %llu-%llu", &a, &b) != 2) return false;
  first = a;
  last = b;
  return true;
}

// Decides, from the status line and headers of a ranged GET, whether its body is
// the requested bytes of the pinned object. Error statuses other than 412 and 416
// pass here and are mapped once their body (the error document) has arrived.
struct RangeCheck {
  std::string url;
  std::string pin;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool if_match_sent = false;  // or the caller conditioned the request on the pin
  std::string pin_header = "etag";

  std::string shown() const { return withoutQuery(url); }
  std::string range() const {
    return std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  }

  Status onHeaders(const HttpResponse& head) const {
    if (head.status == 416) {
      return failedPrecondition("object changed: " + shown() + " no longer holds bytes " + range(),
                                "object_changed");
    }
    if (head.status == 412) return originHttpError(412, url);
    if (head.status != 200 && head.status != 206) return Status::ok();
    std::string etag = head.header(pin_header);
    // Without a pin in the answer we rely on the origin having honoured If-Match.
    if (!pin.empty() && (etag.empty() ? !if_match_sent : etag != pin)) {
      std::string what = pin_header == "etag" ? "ETag" : pin_header;
      return failedPrecondition("object changed: " + shown() + " (pinned " + what + " " + pin +
                                    ", now " + (etag.empty() ? "none" : etag) + ")",
                                "object_changed");
    }
    if (head.status == 206) return checkContentRange(head.header("content-range"));
    // 200: acceptable only when the range is the whole object.
    std::string cl = head.header("content-length");
    if (offset != 0 || cl != std::to_string(length)) {
      return failedPrecondition(shown() + " ignored the Range header (HTTP 200, " +
                                    (cl.empty() ? "no length" : cl + " bytes") + ")",
                                "origin_error");
    }
    return Status::ok();
  }

  Status checkContentRange(const std::string& cr) const {
    uint64_t first = 0, last = 0;
    if (!parseContentRange(cr, first, last) || first != offset || last != offset + length - 1) {
      return unavailable("wrong Content-Range '" + cr.substr(0, 80) + "' from " + shown() +
                             " for bytes " + range(),
                         "origin_error");
    }
    return Status::ok();
  }
};

}  // namespace

HttpClientOptions originClientOptions(const ObjectStoreOptions& options) {
  HttpClientOptions o;
  o.user_agent = options.user_agent;
  o.use_proxy_env = true;
  o.ca_bundle = options.ca_bundle;
  return o;
}

std::string withoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

Result<uint64_t> parseOriginSize(const std::string& s, const std::string& what) {
  if (s.empty() || s.size() > 19 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return unavailable("bad " + what + " '" + s.substr(0, 40) + "'", "origin_error");
  }
  return static_cast<uint64_t>(std::stoull(s));
}

std::string headerFormEtag(const std::string& etag) {
  if (etag.empty() || etag.front() == '"' || etag.rfind("W/", 0) == 0) return etag;
  return "\"" + etag + "\"";
}

Status originTransportError(const Status& st) {
  if (st.code() != StatusCode::kUnavailable && st.code() != StatusCode::kDeadlineExceeded) {
    return st;
  }
  return Status(st.code(), "source unreachable: " + st.message(), "source_unreachable");
}

Status originHttpError(long code, const std::string& url) {
  std::string msg = "HTTP " + std::to_string(code) + " from " + withoutQuery(url);
  if (code == 401 || code == 403) return permissionDenied("access denied: " + msg);
  if (code == 404) return notFound("not found: " + msg);
  if (code == 412) return failedPrecondition("object changed: " + msg, "object_changed");
  if (code == 408 || code == 429 || code >= 500) return unavailable(msg, "origin_error");
  return failedPrecondition("unexpected " + msg, "origin_error");
}

Status withRetryAfter(const Status& st, const HttpResponse& resp) {
  std::string value = resp.header("retry-after");
  if (st.isOk() || value.empty()) return st;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto ms = parseRetryAfterMs(value, now_ms);
  return ms ? st.withRetryAfterMs(*ms) : st;
}

Result<HttpResponse> fetchBoundedBody(HttpClientPool& pool, HttpRequest request,
                                      size_t max_bytes) {
  std::string collected;
  const std::string shown = withoutQuery(request.url);
  request.on_body = [&](const char* data, size_t len) -> Status {
    if (collected.size() + len > max_bytes) {
      return invalidArgument("answer from " + shown + " is larger than " +
                             std::to_string(max_bytes >> 20) + " MiB");
    }
    collected.append(data, len);
    return Status::ok();
  };
  auto resp = pool.acquire()->send(request);
  if (!resp.isOk()) return originTransportError(resp.status());
  if (resp->status >= 200 && resp->status < 300) resp->body = std::move(collected);
  return resp;
}

Status readRangeOverHttp(HttpClientPool& pool, RangeRead read, const ByteSink& sink) {
  HttpRequest& req = read.request;
  RangeCheck check{req.url, read.pin, read.offset, read.length};
  check.pin_header = read.pin_header;
  // If-Match uses strong comparison, so a weak ETag can only be compared afterwards.
  bool send_if_match = !read.pin_in_request && !read.pin.empty() && read.pin.rfind("W/", 0) != 0;
  check.if_match_sent = send_if_match || (read.pin_in_request && !read.pin.empty());
  req.low_speed_bytes = kLowSpeedBytes;
  req.low_speed_seconds = kLowSpeedSeconds;
  req.headers.emplace_back(read.range_header, "bytes=" + check.range());
  if (send_if_match) req.headers.emplace_back("If-Match", read.pin);
  if (read.finalize) RETURN_IF_ERROR(read.finalize(req));

  // Statuses raised by the callbacks are returned as they are, not as transport errors.
  Status callback_status;
  std::optional<HttpResponse> error_head;  // set for a non-2xx answer
  uint64_t received = 0;
  req.on_headers = [&](const HttpResponse& head) {
    callback_status = check.onHeaders(head);
    if (callback_status.isOk() && (head.status < 200 || head.status > 299)) error_head = head;
    return callback_status;
  };
  req.on_body = [&](const char* data, size_t len) {
    if (len > read.length - received) {
      callback_status = unavailable(check.shown() + " sent more than the " +
                                        std::to_string(read.length) + " requested bytes",
                                    "origin_error");
    } else {
      received += len;
      callback_status = sink(data, len);
    }
    return callback_status;
  };
  auto resp = pool.acquire()->send(req);
  if (!callback_status.isOk()) return callback_status;
  if (error_head) {
    if (resp.isOk()) error_head->body = std::move(resp->body);
    Status mapped = read.on_error ? read.on_error(*error_head)
                                  : originHttpError(error_head->status, req.url);
    return withRetryAfter(mapped, *error_head);
  }
  if (!resp.isOk()) return originTransportError(resp.status());
  if (received != read.length) {
    return unavailable("short read from " + check.shown() + ": got " + std::to_string(received) +
                           " of " + std::to_string(read.length) + " bytes",
                       "origin_error");
  }
  return Status::ok();
}

}  // namespace shardcast
