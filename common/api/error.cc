#include "common/api/error.h"

#include "common/api/json_fields.h"

namespace shardcast::api {

nlohmann::json errorBody(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

nlohmann::json errorBody(const Status& status) {
  return errorBody(status.reason(), status.message());
}

int httpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Status statusFromErrorBody(int http_status, const std::string& body) {
  StatusCode code = StatusCode::kInternal;
  if (http_status == 400 || http_status == 413 || http_status == 422) code = StatusCode::kInvalidArgument;
  else if (http_status == 401) code = StatusCode::kUnauthenticated;
  else if (http_status == 403) code = StatusCode::kPermissionDenied;
  else if (http_status == 404) code = StatusCode::kNotFound;
  else if (http_status == 409) code = StatusCode::kFailedPrecondition;
  else if (http_status == 429) code = StatusCode::kResourceExhausted;
  else if (http_status == 503) code = StatusCode::kUnavailable;
  else if (http_status == 504) code = StatusCode::kDeadlineExceeded;
  auto parsed = parseJson(body);
  if (parsed.isOk() && parsed->is_object() && parsed->contains("error") &&
      (*parsed)["error"].is_object()) {
    std::string reason, message;
    (void)readString((*parsed)["error"], "code", reason, false);
    (void)readString((*parsed)["error"], "message", message, false);
    return Status(code, message.empty() ? "HTTP " + std::to_string(http_status) : message, reason);
  }
  std::string text = body.substr(0, 200);
  return Status(code, "HTTP " + std::to_string(http_status) + (text.empty() ? "" : ": " + text));
}

}  // namespace shardcast::api
