// The pure half of STS AssumeRoleWithWebIdentity (IRSA): where the request goes,
// its form body, and what the XML answer means. No I/O; StsWebIdentity does the
// HTTP and the caching.
//
// Documented shapes (STS API reference, version 2011-06-15):
//   success  <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>
//            <Credentials><AccessKeyId/><SecretAccessKey/><SessionToken/>
//            <Expiration>2014-10-24T23:00:23Z</Expiration></Credentials>...
//   error    <ErrorResponse><Error><Type/><Code>AccessDenied</Code><Message/></Error>...
//
// Pure functions; thread-safe. Messages name the role ARN and the STS error code,
// never the web identity token or a returned secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/objstore/credential_files.h"  // EnvLookup
#include "common/objstore/sigv4.h"             // AwsCredentials
#include "common/status.h"

namespace shardcast {

// Temporary credentials and when they stop working.
struct StsCredentials {
  AwsCredentials credentials;
  int64_t expiration_wall_ms = 0;  // Unix epoch milliseconds
};

// AWS_ENDPOINT_URL_STS (without a trailing '/') when set, else
// https://sts.<AWS_REGION or AWS_DEFAULT_REGION>.amazonaws.com, else
// https://sts.amazonaws.com.
std::string stsEndpoint(const EnvLookup& env);

// The application/x-www-form-urlencoded body of an AssumeRoleWithWebIdentity call.
std::string assumeRoleWithWebIdentityBody(const std::string& role_arn,
                                          const std::string& session_name,
                                          const std::string& token);

// A RoleSessionName: 2-64 of [A-Za-z0-9+=,.@_-].
Status validateRoleSessionName(const std::string& name);

// "2014-10-24T23:00:23Z" or "...23.123Z" -> Unix epoch milliseconds.
Result<int64_t> parseIso8601UtcMs(std::string_view text);

// A 200 answer's credentials. InvalidArgument naming the missing element (never a
// value) when the answer is not one; `source` is set to "web identity <role_arn>".
Result<StsCredentials> parseAssumeRoleWithWebIdentityResponse(std::string_view xml,
                                                              const std::string& role_arn);

// The Status for a non-200 answer: PermissionDenied "sts_denied" naming the role
// ARN, the HTTP status and the STS <Code> (and <Message>); Unavailable
// "origin_error" for 5xx, Throttling and IDPCommunicationError (worth retrying).
Status stsErrorStatus(long http_status, std::string_view body, const std::string& role_arn);

}  // namespace shardcast
