// The controller's HTTP request and response as plain values, free of any HTTP
// library, so routing, authentication and handlers are testable without a socket.
// The REST listener fills an ApiRequest and sends an ApiResponse back.
//
// A Responder answers one request, now or later (long-poll), from any thread; it
// must be called exactly once. Helpers here are pure and thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace shardcast::controller {

// Requests bodies above this are refused with 413 (DESIGN §8).
inline constexpr size_t kMaxRequestBodyBytes = 1 << 20;

struct ApiRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // as sent, still percent-encoded, no query
  std::map<std::string, std::string> query;    // decoded; the last value of a key wins
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string remote;                          // peer address, for logs

  // Header value by lowercase name, "" when absent.
  std::string header(const std::string& lower_name) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (e.g. X-Shardcast-Leader on a follower's 503).
  std::vector<std::pair<std::string, std::string>> headers;
};

using Responder = std::function<void(ApiResponse)>;

ApiResponse jsonResponse(int status, const nlohmann::json& body);
// {"error": {"code": <reason>, "message": ...}} with httpStatusOf(status).
ApiResponse errorResponse(const Status& status);
// api::httpStatusFor, except that problems with a rollout's sources (reasons
// source_unreachable, sources_differ, empty_source, source_*) are 422: the request
// was well-formed but its sources cannot be used.
int httpStatusOf(const Status& status);

// Percent-decodes one path segment or query component ('+' stays '+' unless
// plus_is_space). InvalidArgument on a malformed escape.
Result<std::string> percentDecode(std::string_view text, bool plus_is_space = false);
// Parses "a=1&b=x%20y" (form encoding: '+' is a space).
Result<std::map<std::string, std::string>> parseQuery(std::string_view raw);

}  // namespace shardcast::controller
