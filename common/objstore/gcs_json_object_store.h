// GcsJsonObjectStore: an ObjectStore over Google Cloud Storage's JSON API with an
// OAuth2 bearer token (GcsTokenSource: a token file or the metadata server).
//
// Sources: gs://bucket/prefix/ (every object under the prefix) or gs://bucket/object
// (one object, named by its last segment); the part after the bucket is the raw
// object name. SourceSpec.endpoint overrides https://storage.googleapis.com (a
// path is kept as a prefix of every request). GcsOrigin decides between this
// store and the XML API (S3ObjectStore with HMAC keys).
//
// list() is GET /storage/v1/b/<bucket>/o?prefix=&maxResults=&pageToken= following
// nextPageToken (a single object: GET .../o/<name>); each object's pin is its
// generation. md5Hash/crc32c are not recorded (no MD5/CRC32C check exists yet), so
// ObjectInfo::sha256 stays empty. readRange is a media download (alt=media) with
// Range and ifGenerationMatch=<pin>; the response's x-goog-generation is compared
// with the pin too. 401/403 PermissionDenied naming the token's origin (a 401
// also drops the cached token), 404 NotFound, 412 and a changed generation
// FailedPrecondition "object_changed" naming gs://bucket/object, unreachable
// Unavailable "source_unreachable", 408/429/5xx Unavailable "origin_error".
//
// Thread-safe: connections come from an HttpClientPool, the token from a
// thread-safe GcsTokenSource; everything else is immutable after open().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/objstore/gcs_target.h"
#include "common/objstore/gcs_token_source.h"
#include "common/objstore/object_store.h"

namespace shardcast {

class GcsJsonObjectStore : public ObjectStore {
 public:
  static Result<std::unique_ptr<ObjectStore>> openWith(const SourceSpec& source,
                                                       const ObjectStoreOptions& options,
                                                       GcsTokenConfig token_config);

  Result<std::vector<ObjectInfo>> list() override;
  Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                   uint64_t length, const ByteSink& sink) override;
  std::string describe() const override;

 private:
  GcsJsonObjectStore(GcsTarget target, std::string uri, std::string single_name,
                     const ObjectStoreOptions& options, std::unique_ptr<GcsTokenSource> tokens);

  Result<HttpRequest> newRequest(const std::string& url);
  Status gcsError(const HttpResponse& resp, const std::string& what);
  std::string objectUrl(const std::string& object) const;
  std::string objectName(const std::string& path) const;
  std::string objectOf(const std::string& path) const;
  Status addListPage(const std::string& body, std::vector<ObjectInfo>& out, std::string& token);
  Result<ObjectInfo> getSingle();

  const GcsTarget target_;
  const std::string uri_;
  const std::string single_name_;
  const ObjectStoreOptions options_;
  const std::unique_ptr<GcsTokenSource> tokens_;
  HttpClientPool pool_;
};

}  // namespace shardcast
