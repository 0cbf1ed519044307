// Helpers shared by the ObjectStores that talk HTTP to their origin (plain HTTP,
// S3, GCS and Azure Blob): client options for origin traffic, the
// mapping of transport failures and HTTP statuses to Status, a bounded GET for
// listings, and the pinned ranged GET.
//
// The ranged GET checks the status line, the ETag against the pin and the
// Content-Range before any byte reaches the sink, and delivers exactly the
// requested bytes or an error. Backends add their own headers (signatures) to the
// request and may map error answers themselves (S3 reads the error body's <Code>).
//
// Stateless functions; thread-safe as long as each call has its own request.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/http_client.h"
#include "common/objstore/object_store.h"

namespace shardcast {

// Origin traffic honours the *_proxy variables and carries the store's user agent
// and CA bundle (DESIGN §5).
HttpClientOptions originClientOptions(const ObjectStoreOptions& options);

// The URL as shown in errors and logs: without its query (it may hold a signature).
std::string withoutQuery(const std::string& url);

// A size from a header or listing: decimal digits, at most 19 of them; else
// Unavailable "origin_error" naming `what`.
Result<uint64_t> parseOriginSize(const std::string& s, const std::string& what);

// ETags are listed without quotes by some stores (Azure List Blobs, some S3
// compatibles) but sent quoted in the ETag header; pins are kept in the header's
// form so responses compare equal. Weak and already quoted tags are unchanged.
std::string headerFormEtag(const std::string& etag);

// A transport failure (connect, DNS, reset, timeout) keeps its code and gets the
// reason "source_unreachable"; other statuses pass through unchanged.
Status originTransportError(const Status& st);

// Maps an HTTP status that is not the one wanted to a Status naming `url`:
// 401/403 PermissionDenied, 404 NotFound, 412 FailedPrecondition
// "object_changed", 408/429/5xx Unavailable "origin_error", else
// FailedPrecondition "origin_error".
Status originHttpError(long code, const std::string& url);

// Attaches the answer's Retry-After (seconds or HTTP-date, read against the wall
// clock) to a non-OK `st` as Status::retryAfterMs; `st` unchanged without one.
Status withRetryAfter(const Status& st, const HttpResponse& resp);

// Sends `request` and collects a 2xx body of at most `max_bytes` into the
// response (listings, index files). Transport failures come back as
// originTransportError; HTTP statuses are left to the caller.
Result<HttpResponse> fetchBoundedBody(HttpClientPool& pool, HttpRequest request,
                                      size_t max_bytes);

// Maps a non-2xx answer of a ranged GET (other than 416) to a Status. The
// response holds up to 64 KiB of the error body (empty if the transfer failed).
using HttpErrorMapper = std::function<Status(const HttpResponse&)>;

struct RangeRead {
  // URL, timeouts and any backend headers (e.g. a signature). The range header
  // and, for a strong pin, If-Match are added here.
  HttpRequest request;
  std::string pin;  // expected ETag (or pin_header value); "" reads whatever is there
  uint64_t offset = 0;
  uint64_t length = 0;  // > 0
  HttpErrorMapper on_error;  // empty: originHttpError(status, url)
  // The request header that carries "bytes=first-last" (Azure: "x-ms-range").
  std::string range_header = "Range";
  // The response header that must equal the pin (GCS: "x-goog-generation").
  std::string pin_header = "etag";
  // True when the caller already conditioned the request on the pin (GCS
  // ifGenerationMatch=): no If-Match is added, and an answer without pin_header
  // is trusted to have honoured the condition.
  bool pin_in_request = false;
  // Called with the complete request (range and If-Match added) just before it is
  // sent, for signatures that cover those headers (Azure Shared Key). A non-OK
  // Status is returned unchanged.
  std::function<Status(HttpRequest&)> finalize;
};

// Streams bytes [offset, offset + length) to `sink`. A 412, a 416 or a response
// ETag that differs from the pin is FailedPrecondition "object_changed" naming the
// URL; a wrong Content-Range, an ignored Range or a short body is Unavailable
// "origin_error". An error answer's Retry-After travels in the Status
// (retryAfterMs). Statuses returned by `sink` are returned unchanged.
Status readRangeOverHttp(HttpClientPool& pool, RangeRead read, const ByteSink& sink);

}  // namespace shardcast
