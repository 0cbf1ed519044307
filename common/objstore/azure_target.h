// AzureTarget: where an az:// source lives and the request paths to it. See
// azure_object_store.h for the accepted source forms. Pure data; no I/O.
#pragma once

#include <string>

#include "common/objstore/object_store.h"

namespace shardcast {

struct AzureTarget {
  std::string account;
  std::string container;
  std::string key;        // the prefix ("" or ending in '/') or the single blob's name
  bool is_prefix = true;
  std::string scheme;     // "https" or "http"
  std::string host;       // host[:port]
  std::string base_path;  // "" or the endpoint's path, e.g. "/devstoreaccount1"

  // InvalidArgument naming the URI for a malformed source or endpoint.
  static Result<AzureTarget> fromSource(const SourceSpec& source);
  // Encoded request path of a blob ("/devstoreaccount1/models/m/a%20b.bin") or,
  // for "", of the container.
  std::string path(const std::string& blob) const;
};

}  // namespace shardcast
