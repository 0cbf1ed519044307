// GcsTarget: where a gs:// source lives for the JSON API: bucket, object name or
// prefix, and the base URL (https://storage.googleapis.com or the source's
// endpoint, whose path is kept). Parsed with S3Target's gs:// rules, so both APIs
// accept the same URIs. Pure data; no I/O.
#pragma once

#include <string>

#include "common/objstore/object_store.h"

namespace shardcast {

struct GcsTarget {
  std::string bucket;
  std::string key;  // the prefix ("" or ending in '/') or the single object's name
  bool is_prefix = true;
  std::string base_url;  // "https://storage.googleapis.com" (+ endpoint path)

  static Result<GcsTarget> fromSource(const SourceSpec& source);
};

}  // namespace shardcast
