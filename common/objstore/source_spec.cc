// SourceSpec parsing and printing (DESIGN §3): a replica is a URI string or an
// object {uri, endpoint?, region?, addressing?, credentials?, location?}.
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"
#include "common/objstore/object_store.h"

namespace shardcast {
namespace {

using nlohmann::json;

constexpr size_t kMaxUriBytes = 8192;

Status checkUri(const std::string& uri) {
  if (uri.empty()) return invalidArgument("field 'uri' must not be empty");
  if (uri.size() > kMaxUriBytes) return invalidArgument("field 'uri' is longer than 8192 bytes");
  for (char c : uri) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return invalidArgument("field 'uri' contains a control character");
    }
  }
  return Status::ok();
}

Status checkAddressing(const std::string& addressing) {
  if (addressing.empty() || addressing == "path" || addressing == "virtual") return Status::ok();
  return invalidArgument("field 'addressing' must be \"path\" or \"virtual\"");
}

}  // namespace

std::string SourceSpec::scheme() const {
  size_t sep = uri.find("://");
  if (sep == std::string::npos || sep == 0) return "";
  std::string s;
  for (size_t i = 0; i < sep; ++i) {
    unsigned char c = static_cast<unsigned char>(uri[i]);
    bool ok = std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.'));
    if (!ok) return "";
    s += static_cast<char>(std::tolower(c));
  }
  return s;
}

Result<SourceSpec> sourceSpecFromJson(const json& j, bool strict) {
  SourceSpec s;
  if (j.is_string()) {
    s.uri = j.get<std::string>();
    RETURN_IF_ERROR(checkUri(s.uri));
    return s;
  }
  if (!j.is_object()) return invalidArgument("a source must be a URI string or an object");
  RETURN_IF_ERROR(api::checkObject(
      j, "source", {"uri", "endpoint", "region", "addressing", "credentials", "location"},
      strict));
  RETURN_IF_ERROR(api::readString(j, "uri", s.uri, true));
  RETURN_IF_ERROR(api::readString(j, "endpoint", s.endpoint, false));
  RETURN_IF_ERROR(api::readString(j, "region", s.region, false));
  RETURN_IF_ERROR(api::readString(j, "addressing", s.addressing, false));
  RETURN_IF_ERROR(api::readString(j, "credentials", s.credentials, false));
  RETURN_IF_ERROR(api::readString(j, "location", s.location, false));
  RETURN_IF_ERROR(checkUri(s.uri));
  RETURN_IF_ERROR(checkAddressing(s.addressing));
  return s;
}

json sourceSpecToJson(const SourceSpec& s) {
  if (s.endpoint.empty() && s.region.empty() && s.addressing.empty() && s.credentials.empty() &&
      s.location.empty()) {
    return s.uri;
  }
  json j = {{"uri", s.uri}};
  if (!s.endpoint.empty()) j["endpoint"] = s.endpoint;
  if (!s.region.empty()) j["region"] = s.region;
  if (!s.addressing.empty()) j["addressing"] = s.addressing;
  if (!s.credentials.empty()) j["credentials"] = s.credentials;
  if (!s.location.empty()) j["location"] = s.location;
  return j;
}

}  // namespace shardcast
