#include "common/objstore/origin_endpoint.h"

#include <cctype>

namespace shardcast {
namespace {

bool hostChar(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
}

}  // namespace

Result<OriginEndpoint> parseOriginEndpoint(const std::string& endpoint, const std::string& kind) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("invalid " + kind + " endpoint '" + endpoint.substr(0, 200) + "': " +
                           why);
  };
  OriginEndpoint e;
  size_t sep = endpoint.find("://");
  if (sep == std::string::npos) return bad("expected http://host[:port] or https://host[:port]");
  e.scheme = endpoint.substr(0, sep);
  if (e.scheme != "http" && e.scheme != "https") return bad("the scheme must be http or https");
  std::string rest = endpoint.substr(sep + 3);
  size_t slash = rest.find('/');
  e.host = rest.substr(0, slash);
  if (e.host.empty()) return bad("missing or malformed host");
  for (unsigned char c : e.host) {
    if (!hostChar(c)) return bad("missing or malformed host");
  }
  if (slash != std::string::npos) e.path = rest.substr(slash);
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  for (char c : e.path) {
    if (c == '?' || c == '#' || c == '%' || static_cast<unsigned char>(c) <= 0x20) {
      return bad("the path must be plain (no query, fragment, escapes or spaces)");
    }
  }
  return e;
}

}  // namespace shardcast
