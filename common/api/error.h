// The JSON error body every shardcast API answers with, and the mapping from a
// Status to an HTTP status code. Pure; thread-safe.
//
//   {"error": {"code": "invalid_argument", "message": "..."}}
//
// `code` is the Status reason (e.g. "version_immutable", "source_unreachable"),
// which defaults to the StatusCode's name.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace shardcast::api {

nlohmann::json errorBody(const std::string& code, const std::string& message);
nlohmann::json errorBody(const Status& status);
int httpStatusFor(const Status& status);
// Reads an error body back into a Status (for clients); falls back to the raw text.
Status statusFromErrorBody(int http_status, const std::string& body);

}  // namespace shardcast::api
