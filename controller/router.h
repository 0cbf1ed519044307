// Router: maps an ApiRequest to its handler by method and path pattern, free of
// any HTTP library. It is where every request passes the same gates, in order:
//   1. body size (413 above the limit),
//   2. route lookup (404 unknown path, 405 known path with another method),
//   3. authentication through the Authenticator (401), unless the route is public,
//   4. the gate, if one is set, unless the route is public (an HA follower answers
//      503 not_leader there instead of the handler),
// and it turns a handler's exception into a 500 so nothing escapes.
//
// Patterns are '/'-separated; a segment may hold one {param} with a literal
// prefix and suffix, e.g. "/v1/rollouts/{id}:cancel". Segments are percent-decoded
// before matching; a parameter matches a non-empty decoded segment without ':'
// (no model name, version, node name or rollout id contains one).
//
// Routes are added at start-up; afterwards handle() is const and thread-safe.
// Not responsible for parsing bodies or business rules: handlers do that.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/api_types.h"
#include "controller/authenticator.h"

namespace shardcast::controller {

struct RequestContext {
  const ApiRequest& request;
  std::map<std::string, std::string> params;  // decoded {param} values
  Principal principal;

  const std::string& param(const std::string& name) const { return params.at(name); }
};

// Answers through `respond` exactly once, possibly later and from another thread.
using Handler = std::function<void(const RequestContext& ctx, Responder respond)>;

// Answers a request in place of its handler, or nullopt to let it through.
using Gate = std::function<std::optional<ApiResponse>(const ApiRequest& request)>;

// Told of every answer: the request's method, the matched route pattern
// ("unmatched" when none matched) and the status. Must be thread-safe.
using Observer = std::function<void(const std::string& method, const std::string& route, int status)>;

class Router {
 public:
  explicit Router(const Authenticator& auth, size_t max_body_bytes = kMaxRequestBodyBytes);

  // `is_public` routes (health checks) skip authentication.
  void add(const std::string& method, const std::string& pattern, Handler handler,
           bool is_public = false);

  // Set at start-up, before requests arrive; must be thread-safe itself.
  void setGate(Gate gate) { gate_ = std::move(gate); }
  // Set at start-up, before requests arrive.
  void setObserver(Observer observer) { observer_ = std::move(observer); }

  void handle(const ApiRequest& request, const Responder& respond) const;

  size_t maxBodyBytes() const { return max_body_bytes_; }

 private:
  struct Segment {
    std::string prefix;  // the whole literal when !is_param
    std::string suffix;
    std::string param;
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    bool is_public = false;
  };

  static bool match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>& params);

  const Authenticator& auth_;
  size_t max_body_bytes_;
  std::vector<Route> routes_;
  Gate gate_;
  Observer observer_;
};

}  // namespace shardcast::controller
