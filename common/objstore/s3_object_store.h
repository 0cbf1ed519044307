// S3ObjectStore: an ObjectStore over Amazon S3 and S3-compatible stores (MinIO,
// Cloudflare R2, the GCS XML API, s3rver), signed with AWS Signature V4.
//
// Sources: s3://bucket/prefix/ (every object under the prefix; the bucket root is
// s3://bucket/) or s3://bucket/key (one object, named by the key's last segment).
// The part after the bucket is the raw key, not percent-encoded. SourceSpec fields:
//   endpoint    "" for AWS (https://s3.<region>.amazonaws.com), else a URL such as
//               http://127.0.0.1:9000 (MinIO) or https://<account>.r2.cloudflarestorage.com
//   region      signing region, default us-east-1
//   addressing  "virtual" (bucket in the host name) or "path" (/bucket/key); default
//               virtual for AWS (path for bucket names with dots or that are no DNS
//               label) and path for a custom endpoint
//   credentials a name resolved by AwsCredentialChain; "" = the default chain
//               (with IRSA through StsWebIdentity unless deps name another exchange)
//
// list() is ListObjectsV2 (list-type=2, max-keys = ObjectStoreOptions::list_page_size,
// continuation tokens); paths are keys minus the prefix, validated with
// validateRelativePath; keys ending in '/' (folder markers) are skipped; each
// object's pin is its ETag. readRange is a GET with Range and If-Match; because
// some servers ignore If-Match (s3rver), the response ETag is compared with the pin
// as well. A 403 names the source, the S3 error code and where the credentials
// came from; unreachable origins are Unavailable "source_unreachable"; 5xx, 429 and
// SlowDown are Unavailable "origin_error".
//
// Thread-safe: connections come from an HttpClientPool and the credentials from a
// CredentialCache; everything else is immutable after open(). Credentials
// are resolved at open() (so a bad name fails early) and again every five minutes
// (rotated Secrets, expiring session tokens). Secrets are never logged or put in a
// Status. Not responsible for publisher checksums (S3 checksums are not read yet).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/objstore/aws_credentials.h"
#include "common/objstore/credential_cache.h"
#include "common/objstore/object_store.h"
#include "common/objstore/registry.h"
#include "common/objstore/s3_target.h"
#include "common/objstore/sigv4.h"

namespace shardcast {

// What an S3ObjectStore needs besides the source: where credentials come from and
// the wall clock for signatures.
struct S3StoreDeps {
  AwsCredentialsConfig credentials;
  std::shared_ptr<const Clock> clock;  // null: SystemClock
};

class S3ObjectStore : public ObjectStore {
 public:
  // With credentials from the process environment (AwsCredentialsConfig with
  // processEnvironment()); the form registered by ObjectStoreRegistry::withBuiltins().
  static Result<std::unique_ptr<ObjectStore>> open(const SourceSpec& source,
                                                   const ObjectStoreOptions& options);
  static Result<std::unique_ptr<ObjectStore>> openWith(const SourceSpec& source,
                                                       const ObjectStoreOptions& options,
                                                       S3StoreDeps deps);
  // A registry factory bound to `deps`, for a composition root that configures
  // the credentials directory or a web identity exchange.
  static ObjectStoreRegistry::Factory factory(S3StoreDeps deps);

  Result<std::vector<ObjectInfo>> list() override;
  Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                   uint64_t length, const ByteSink& sink) override;
  std::string describe() const override;

 private:
  S3ObjectStore(S3Target target, std::string uri, std::string credentials_name,
                std::string single_name, const ObjectStoreOptions& options, S3StoreDeps deps);

  // A request for `decoded_path` with `query`, signed with the current credentials.
  Result<HttpRequest> signedRequest(const std::string& method, const std::string& decoded_path,
                                    const std::multimap<std::string, std::string>& query);
  // mapS3Error with this source's context; `what` says what was being done
  // ("listing", "reading 'a.bin'").
  Status s3Error(const HttpResponse& resp, const std::string& what);
  // "s3://bucket/key" of a path, for messages.
  std::string objectName(const std::string& path) const;
  Result<std::string> fetchListPage(const std::string& continuation_token);
  // Adds one page's objects to `out`; sets `next_token` ("" on the last page).
  Status addListPage(const std::string& xml, std::vector<ObjectInfo>& out,
                     std::string& next_token);
  Result<ObjectInfo> headSingle();

  const S3Target target_;
  const std::string uri_;               // as given, for messages
  const std::string credentials_name_;  // SourceSpec.credentials
  const std::string single_name_;       // last key segment of a single-object source
  const ObjectStoreOptions options_;
  const std::shared_ptr<const Clock> clock_;
  HttpClientPool pool_;
  CredentialCache<AwsCredentials> credentials_;  // resolved again every five minutes
};

}  // namespace shardcast
