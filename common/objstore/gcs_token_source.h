// GcsTokenSource: the OAuth2 bearer token a gs:// source (GCS JSON API) sends.
//
// Where the token comes from:
//  - A source that names credentials ("prod-gcs"): the token file named by
//    SHARDCAST_CRED_PROD_GCS_GCS_TOKEN_FILE, else <credentials dir>/prod-gcs/gcs_token
//    (a mounted Secret, or a file a sidecar keeps fresh). The file holds the token
//    alone, or the metadata server's JSON ({"access_token": ...}). It is read again
//    after 60 s, so rotation is picked up.
//  - Otherwise the GCE/GKE metadata server:
//    http://$GCE_METADATA_HOST/computeMetadata/v1/instance/service-accounts/default/token
//    (GCE_METADATA_HOST defaults to metadata.google.internal) with
//    "Metadata-Flavor: Google"; the token is cached until 60 s before it expires.
//    The metadata server is reached directly, never through a proxy.
// A refresh that fails while the last token has not expired yet keeps that token.
//
// Thread-safe: the cached token is guarded by mu_. The token never reaches a log
// line or a Status; messages name the file or the metadata URL.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/objstore/credential_files.h"
#include "common/status.h"

namespace shardcast {

inline constexpr char kDefaultMetadataHost[] = "metadata.google.internal";

struct GcsTokenConfig {
  EnvLookup env;           // required
  std::string secret_dir;  // "" = $SHARDCAST_CREDENTIALS_DIR or kDefaultCredentialsDir
  std::shared_ptr<const Clock> clock;  // null: SystemClock
  std::string user_agent = "shardcast/" SHARDCAST_VERSION;
  long timeout_ms = 10000;
};

class GcsTokenSource {
 public:
  // `name` is SourceSpec.credentials ("" = metadata server). InvalidArgument for
  // a bad name; NotFound "credentials_not_found" when a named token file is
  // configured nowhere.
  static Result<std::unique_ptr<GcsTokenSource>> create(const std::string& name,
                                                        GcsTokenConfig config);

  // The current token, refreshed when due. Errors: Unavailable
  // "source_unreachable" (metadata server), PermissionDenied/NotFound/IOError.
  Result<std::string> token();
  // Forgets the cached token (after a 401) so the next token() fetches a new one.
  void invalidate();
  // Where the token comes from ("credentials 'x' (file /p)", "the metadata server
  // at http://.../token"); never a secret.
  std::string source() const { return source_; }

 private:
  GcsTokenSource(std::string name, std::string file, std::string metadata_url, GcsTokenConfig config);

  struct Fetched {
    std::string token;
    int64_t valid_ms = 0;  // how long it may be used from now
  };
  Result<Fetched> fromFile() const;
  Result<Fetched> fromMetadata();

  const std::string name_;
  const std::string file_;          // token file, "" for the metadata server
  const std::string metadata_url_;  // "" for a token file
  const std::string source_;
  const GcsTokenConfig config_;
  HttpClient metadata_client_;  // guarded by mu_

  std::mutex mu_;
  std::string token_;              // guarded by mu_
  int64_t refresh_at_ms_ = 0;      // guarded by mu_; monotonic
  int64_t expires_at_ms_ = 0;      // guarded by mu_; monotonic
};

// Parses a metadata server token answer {"access_token","expires_in","token_type"}.
// InvalidArgument (without the token) when it is not one.
struct GcsAccessToken {
  std::string access_token;
  int64_t expires_in_seconds = 0;
};
Result<GcsAccessToken> parseGcsAccessToken(const std::string& json);

}  // namespace shardcast
