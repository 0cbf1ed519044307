#include "controller/router.h"

#include <exception>
#include <memory>

#include "common/api/error.h"
#include "common/log.h"

namespace shardcast::controller {
namespace {

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  if (!path.empty() && path[0] == '/') pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

}  // namespace

Router::Router(const Authenticator& auth, size_t max_body_bytes)
    : auth_(auth), max_body_bytes_(max_body_bytes) {}

void Router::add(const std::string& method, const std::string& pattern, Handler handler,
                 bool is_public) {
  Route route{method, pattern, {}, std::move(handler), is_public};
  for (const auto& s : splitPath(pattern)) {
    Segment seg;
    size_t open = s.find('{');
    size_t close = s.find('}');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      seg.is_param = true;
      seg.prefix = s.substr(0, open);
      seg.param = s.substr(open + 1, close - open - 1);
      seg.suffix = s.substr(close + 1);
    } else {
      seg.prefix = s;
    }
    route.segments.push_back(std::move(seg));
  }
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != segments.size()) return false;
  params.clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& pat = route.segments[i];
    const std::string& s = segments[i];
    if (!pat.is_param) {
      if (s != pat.prefix) return false;
      continue;
    }
    size_t fixed = pat.prefix.size() + pat.suffix.size();
    if (s.size() <= fixed || s.compare(0, pat.prefix.size(), pat.prefix) != 0 ||
        s.compare(s.size() - pat.suffix.size(), pat.suffix.size(), pat.suffix) != 0) {
      return false;
    }
    std::string value = s.substr(pat.prefix.size(), s.size() - fixed);
    if (value.find(':') != std::string::npos) return false;
    params[pat.param] = std::move(value);
  }
  return true;
}

void Router::handle(const ApiRequest& request, const Responder& raw_respond) const {
  // Every answer passes the observer, with the route it matched once known.
  auto matched = std::make_shared<std::string>("unmatched");
  Responder respond = raw_respond;
  if (observer_) {
    respond = [observer = observer_, raw_respond, matched, method = request.method](ApiResponse r) {
      observer(method, *matched, r.status);
      raw_respond(std::move(r));
    };
  }
  if (request.body.size() > max_body_bytes_) {
    respond(jsonResponse(413, api::errorBody("body_too_large",
                                              "request body exceeds " +
                                                  std::to_string(max_body_bytes_) + " bytes")));
    return;
  }
  std::vector<std::string> segments;
  for (const auto& raw : splitPath(request.path)) {
    auto decoded = percentDecode(raw);
    if (!decoded.isOk()) {
      respond(errorResponse(decoded.status()));
      return;
    }
    segments.push_back(std::move(decoded).value());
  }
  const Route* found = nullptr;
  bool path_known = false;
  std::map<std::string, std::string> params;
  for (const auto& route : routes_) {
    if (!match(route, segments, params)) continue;
    path_known = true;
    if (route.method == request.method) {
      found = &route;
      break;
    }
  }
  if (found) *matched = found->pattern;
  if (!found) {
    if (path_known) {
      respond(jsonResponse(405, api::errorBody("method_not_allowed", "method " + request.method +
                                                                       " is not allowed on this path")));
    } else {
      respond(errorResponse(notFound("no such endpoint: " + request.path.substr(0, 200))));
    }
    return;
  }
  Principal principal{"anonymous", ""};
  if (!found->is_public) {
    auto who = auth_.authenticate(request);
    if (!who.isOk()) {
      respond(errorResponse(who.status()));
      return;
    }
    principal = std::move(who).value();
    if (gate_) {
      if (auto answer = gate_(request)) {
        respond(std::move(*answer));
        return;
      }
    }
  }
  RequestContext ctx{request, std::move(params), std::move(principal)};
  try {
    found->handler(ctx, respond);
  } catch (const std::exception& e) {
    LOG_ERROR("handler for " << request.method << " " << request.path.substr(0, 200)
                             << " threw: " << e.what());
    respond(errorResponse(internalError("internal error")));
  }
}

}  // namespace shardcast::controller
