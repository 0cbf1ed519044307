// AwsCredentialChain: finds the AWS credentials an S3 source signs with.
//
// First match wins:
//  1. A source that names credentials (SourceSpec.credentials, e.g. "prod-s3") uses
//     that name only: the environment variables SHARDCAST_CRED_PROD_S3_ACCESS_KEY_ID,
//     _SECRET_ACCESS_KEY and _SESSION_TOKEN (name upper-cased, '-' and '.' become
//     '_'), else the files <secret_dir>/prod-s3/{access_key_id,secret_access_key,
//     session_token} (a mounted Kubernetes Secret). A name that resolves nowhere is
//     an error; it never falls back to other credentials.
//  2. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
//  3. Web identity (IRSA: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), through the
//     injected `web_identity` exchange (StsWebIdentity; S3ObjectStore installs it).
//     Without one the chain goes on and says so if nothing else matches. As in the
//     AWS SDKs, this comes before the shared credentials file.
//  4. The shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
//     $HOME/.aws/credentials), profile AWS_PROFILE or "default".
//
// The environment is an injected lookup, so tests never touch the process
// environment. Thread-safe: immutable after construction; resolve() reads files on
// every call (a rotated Secret is picked up) and keeps no state. Secrets never reach
// a Status message or a log line: errors name variables, files and profiles only.
// Not responsible for caching or refreshing credentials (the S3 store does that).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/objstore/credential_files.h"  // EnvLookup, credential names
#include "common/objstore/sigv4.h"
#include "common/status.h"

namespace shardcast {

struct WebIdentity {
  std::string token_file;    // AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn;      // AWS_ROLE_ARN
  std::string session_name;  // AWS_ROLE_SESSION_NAME, "" when unset
};
// Exchanges a web identity token for temporary credentials (STS
// AssumeRoleWithWebIdentity). The seam for IRSA, see StsWebIdentity.
using WebIdentityExchange = std::function<Result<AwsCredentials>(const WebIdentity&)>;

struct AwsCredentialsConfig {
  EnvLookup env;  // required
  // Directory of mounted credential Secrets; "" means $SHARDCAST_CREDENTIALS_DIR,
  // else kDefaultCredentialsDir.
  std::string secret_dir;
  WebIdentityExchange web_identity;  // empty: web identity is skipped
};

class AwsCredentialChain {
 public:
  explicit AwsCredentialChain(AwsCredentialsConfig config);

  // Credentials named `name`, or the default chain when `name` is empty. Errors:
  // NotFound (reason "credentials_not_found") naming where it looked;
  // InvalidArgument for a bad name or half-set credentials; IOError for unreadable
  // files.
  Result<AwsCredentials> resolve(const std::string& name) const;

  // A credentials name: 1-64 of [A-Za-z0-9._-], starting with a letter or digit.
  static Status validateName(const std::string& name);
  // "SHARDCAST_CRED_PROD_S3_" for "prod-s3".
  static std::string envPrefix(const std::string& name);

 private:
  using Found = Result<std::optional<AwsCredentials>>;

  std::optional<std::string> env(const std::string& var) const;  // empty counts as unset
  std::string secretDir() const;
  Found fromNamedEnv(const std::string& name) const;
  Found fromSecretDir(const std::string& name) const;
  Found fromAwsEnv() const;
  Found fromWebIdentity() const;
  Found fromSharedFile(std::string& looked_at) const;

  AwsCredentialsConfig config_;
};

// Parses an AWS shared credentials file (INI) and returns the keys of `profile`,
// nullopt when the profile is absent. InvalidArgument (naming `file` and the
// profile, never a value) when the profile lacks a key.
Result<std::optional<AwsCredentials>> parseAwsSharedCredentials(const std::string& content,
                                                                const std::string& profile,
                                                                const std::string& file);

}  // namespace shardcast
