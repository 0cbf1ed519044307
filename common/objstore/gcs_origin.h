// GcsOrigin: opens a gs:// source through the API its credentials fit.
//
//  - JSON API with an OAuth2 bearer token (GcsJsonObjectStore) by default: a
//    source without credentials takes its token from the metadata server; a
//    source naming credentials ("prod-gcs") takes it from that name's token file.
//  - XML API with HMAC keys (S3ObjectStore, SigV4, region "auto", path-style,
//    endpoint https://storage.googleapis.com) when the named credentials hold HMAC
//    keys: SHARDCAST_CRED_PROD_GCS_ACCESS_KEY_ID and _SECRET_ACCESS_KEY, or the
//    files access_key_id and secret_access_key in <credentials dir>/prod-gcs/.
// The choice is made once, at open(). Stateless; thread-safe.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/objstore/credential_files.h"
#include "common/objstore/object_store.h"
#include "common/objstore/registry.h"

namespace shardcast {

struct GcsDeps {
  EnvLookup env;           // null: the process environment
  std::string secret_dir;  // "" = $SHARDCAST_CREDENTIALS_DIR or kDefaultCredentialsDir
  std::shared_ptr<const Clock> clock;  // null: SystemClock
};

class GcsOrigin {
 public:
  static Result<std::unique_ptr<ObjectStore>> open(const SourceSpec& source,
                                                   const ObjectStoreOptions& options);
  static Result<std::unique_ptr<ObjectStore>> openWith(const SourceSpec& source,
                                                       const ObjectStoreOptions& options,
                                                       GcsDeps deps);
  static ObjectStoreRegistry::Factory factory(GcsDeps deps);
};

}  // namespace shardcast
