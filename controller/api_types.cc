#include "controller/api_types.h"

#include "common/api/error.h"
#include "common/http_client.h"

namespace shardcast::controller {
std::string ApiRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

ApiResponse jsonResponse(int status, const nlohmann::json& body) {
  // `replace` keeps a response valid JSON even if a string holds invalid UTF-8
  // (names and messages may echo what a client sent).
  return ApiResponse{status, "application/json",
                     body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

ApiResponse errorResponse(const Status& status) {
  return jsonResponse(httpStatusOf(status), api::errorBody(status));
}

int httpStatusOf(const Status& status) {
  std::string reason = status.reason();
  if (reason == "sources_differ" || reason == "empty_source" || reason.rfind("source_", 0) == 0) {
    return 422;
  }
  return api::httpStatusFor(status);
}

Result<std::string> percentDecode(std::string_view text, bool plus_is_space) {
  auto r = urlDecode(text, plus_is_space);
  if (!r.isOk()) return invalidArgument("malformed percent-escape in URL");
  return r;
}

Result<std::map<std::string, std::string>> parseQuery(std::string_view raw) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= raw.size() && !raw.empty()) {
    size_t amp = raw.find('&', pos);
    std::string_view item = raw.substr(pos, amp == std::string_view::npos ? raw.size() - pos : amp - pos);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string_view key = item.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      ASSIGN_OR_RETURN(std::string k, percentDecode(key, true));
      ASSIGN_OR_RETURN(std::string v, percentDecode(value, true));
      out[std::move(k)] = std::move(v);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return out;
}

}  // namespace shardcast::controller
