// The `endpoint` of a source (SourceSpec.endpoint): "http(s)://host[:port][/base]",
// parsed once for the object stores that accept one (S3, GCS, Azure Blob).
// Pure; thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace shardcast {

struct OriginEndpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // host[:port]
  std::string path;    // "" or "/base" without a trailing '/'
};

// InvalidArgument "invalid <kind> endpoint '...': why" for anything else (no
// query, fragment, escapes or spaces in the path).
Result<OriginEndpoint> parseOriginEndpoint(const std::string& endpoint, const std::string& kind);

}  // namespace shardcast
