#include "controller/api_types.h"

#include "common/api/error.h"

namespace shardcast::controller {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

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
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return invalidArgument("malformed percent-escape in URL");
      int hi = hexValue(text[i + 1]);
      int lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return invalidArgument("malformed percent-escape in URL");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
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
