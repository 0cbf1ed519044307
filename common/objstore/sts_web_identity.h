// StsWebIdentity: the web identity exchange for AWS on Kubernetes (IRSA). Reads
// the projected service-account token from AWS_WEB_IDENTITY_TOKEN_FILE and calls
// STS AssumeRoleWithWebIdentity (an unsigned POST of the form body to
// stsEndpoint(): AWS_ENDPOINT_URL_STS, else https://sts.<AWS_REGION>.amazonaws.com,
// else https://sts.amazonaws.com) for AWS_ROLE_ARN with RoleSessionName
// AWS_ROLE_SESSION_NAME or "shardcast-<random>". Plugs into
// AwsCredentialsConfig.web_identity through exchange().
//
// The temporary credentials are cached (a CredentialCache per identity) until five
// minutes before their Expiration; the token file is read again at each exchange,
// so the kubelet's rotation is picked up. A failed renewal keeps the current
// credentials until they expire, retrying every minute.
//
// Thread-safe: the caches are guarded by mu_, HTTP goes through a client pool.
// Neither the web identity token nor the returned secrets reach a log line or a
// Status: errors name the token file, the role ARN and the STS error code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/objstore/aws_credentials.h"
#include "common/objstore/credential_cache.h"
#include "common/objstore/sts_response.h"

namespace shardcast {

struct StsWebIdentityConfig {
  EnvLookup env;                       // for the endpoint and region; required
  std::shared_ptr<const Clock> clock;  // null: SystemClock
  long timeout_ms = 10000;
};

class StsWebIdentity {
 public:
  explicit StsWebIdentity(StsWebIdentityConfig config);

  // A WebIdentityExchange that calls `self` (kept alive by the function).
  static WebIdentityExchange exchange(std::shared_ptr<StsWebIdentity> self);

  // Temporary credentials for `identity`, from the cache while they are fresh.
  // Errors: NotFound "credentials_not_found" (no token file), InvalidArgument (empty
  // token, bad session name, malformed answer), PermissionDenied "sts_denied",
  // Unavailable "source_unreachable"/"origin_error".
  Result<AwsCredentials> credentials(const WebIdentity& identity);

  // The RoleSessionName used when AWS_ROLE_SESSION_NAME is unset.
  const std::string& defaultSessionName() const { return default_session_name_; }

 private:
  struct Session {
    StsCredentials sts;
    std::string source;  // for CredentialCache: "web identity <role>"
  };
  // One AssumeRoleWithWebIdentity call.
  Result<Session> assumeRole(const WebIdentity& identity);

  const StsWebIdentityConfig config_;
  const std::string endpoint_;
  const std::string default_session_name_;
  HttpClientPool pool_;

  std::mutex mu_;
  // keyed by token file, role and session name; guarded by mu_
  std::map<std::string, std::shared_ptr<CredentialCache<Session>>> caches_;
};

}  // namespace shardcast
