#include "common/objstore/gcs_origin.h"

#include "common/objstore/aws_credentials.h"
#include "common/objstore/gcs_json_object_store.h"
#include "common/objstore/s3_object_store.h"

namespace shardcast {

Result<std::unique_ptr<ObjectStore>> GcsOrigin::open(const SourceSpec& source,
                                                     const ObjectStoreOptions& options) {
  return openWith(source, options, GcsDeps{});
}

Result<std::unique_ptr<ObjectStore>> GcsOrigin::openWith(const SourceSpec& source,
                                                         const ObjectStoreOptions& options,
                                                         GcsDeps deps) {
  if (source.scheme() != "gs") return invalidArgument("not a gs:// URI: '" + source.uri.substr(0, 200) + "'");
  if (!deps.env) deps.env = processEnvironment();
  if (!source.credentials.empty()) {
    AwsCredentialsConfig hmac_config{deps.env, deps.secret_dir, {}};
    auto hmac = AwsCredentialChain(hmac_config).resolve(source.credentials);
    if (hmac.isOk()) {  // HMAC keys: the S3-compatible XML API
      S3StoreDeps s3;
      s3.credentials = std::move(hmac_config);
      s3.clock = deps.clock;
      return S3ObjectStore::openWith(source, options, std::move(s3));
    }
    if (hmac.status().reason() != "credentials_not_found") {
      return hmac.status().withContext(source.uri.substr(0, 200));
    }
  }
  GcsTokenConfig token;
  token.env = deps.env;
  token.secret_dir = deps.secret_dir;
  token.clock = deps.clock;
  return GcsJsonObjectStore::openWith(source, options, std::move(token));
}

ObjectStoreRegistry::Factory GcsOrigin::factory(GcsDeps deps) {
  return [deps](const SourceSpec& source, const ObjectStoreOptions& options) {
    return openWith(source, options, deps);
  };
}

}  // namespace shardcast
