// S3Target: where an s3:// source lives and how requests to it are addressed
// (endpoint, path-style or virtual-hosted, region). Pure data computed once from a
// SourceSpec; no I/O. See s3_object_store.h for the accepted source forms.
//
// A gs:// source is accepted too, for the GCS XML API with HMAC keys (which is
// S3-compatible): its defaults are endpoint https://storage.googleapis.com, region
// "auto" and path-style addressing.
#pragma once

#include <string>

#include "common/objstore/object_store.h"

namespace shardcast {

struct S3Target {
  std::string uri_scheme = "s3";  // "s3" or "gs", for object names in messages
  std::string bucket;
  std::string key;          // the prefix ("" or ending in '/') or the single object's key
  bool is_prefix = true;
  std::string scheme;       // "https" or "http"
  std::string host;         // the Host header: host[:port], led by the bucket when virtual
  std::string base_path;    // decoded path before a key: "/bucket/" (path style) or "/"
  std::string region;
  bool virtual_hosted = false;

  // InvalidArgument naming the URI for a malformed source, bucket, endpoint,
  // region or addressing.
  static Result<S3Target> fromSource(const SourceSpec& source);

  // Decoded request path of an object key: "/bucket/models/a.bin".
  std::string objectPath(const std::string& object_key) const { return base_path + object_key; }
  // Decoded request path of the bucket itself (ListObjectsV2): "/bucket" or "/".
  std::string bucketPath() const;
  // scheme://host + the encoded path (+ '?' + query when not empty).
  std::string url(const std::string& decoded_path, const std::string& query) const;
};

}  // namespace shardcast
