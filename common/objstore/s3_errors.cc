#include "common/objstore/s3_errors.h"

#include "common/objstore/s3_xml.h"

namespace shardcast {
namespace {

constexpr size_t kMaxQuotedMessage = 200;

bool isCredentialsError(const std::string& code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired" ||
         code == "InvalidClientTokenId";
}

std::string quoted(const S3ErrorDocument& doc) {
  std::string m = doc.message.substr(0, kMaxQuotedMessage);
  for (char& c : m) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return doc.code + (m.empty() ? "" : ": " + m);
}

}  // namespace

Status mapS3Error(const HttpResponse& resp, const S3ErrorContext& ctx, const std::string& what) {
  S3ErrorDocument doc = parseS3Error(resp.body);
  if (doc.code.empty()) doc.code = "HTTP " + std::to_string(resp.status);
  const std::string prefix = ctx.source + ": ";
  // A wrong region comes back as 301 PermanentRedirect or 400
  // AuthorizationHeaderMalformed, naming the bucket's region.
  std::string region = doc.region.empty() ? resp.header("x-amz-bucket-region") : doc.region;
  if (!region.empty() && region != ctx.region) {
    return failedPrecondition(prefix + "bucket '" + ctx.bucket + "' is in region " + region +
                                  ", not " + ctx.region + ": set the source's region",
                              "origin_error");
  }
  if (resp.status == 401 || resp.status == 403 || isCredentialsError(doc.code)) {
    if (doc.code == "RequestTimeTooSkewed") {
      return permissionDenied(prefix + "request time too skewed " + what +
                              ": check this node's clock");
    }
    std::string hint =
        ctx.named_credentials ? ctx.credentials : "the credentials from " + ctx.credentials;
    return permissionDenied(prefix + "access denied (" + quoted(doc) + ") " + what + ": check " +
                            hint);
  }
  if (resp.status == 404) {
    if (doc.code == "NoSuchBucket") {
      return notFound(prefix + "bucket '" + ctx.bucket + "' does not exist");
    }
    return notFound(prefix + "not found (" + quoted(doc) + ") " + what);
  }
  if (resp.status == 412) {
    return failedPrecondition(prefix + "object changed " + what, "object_changed");
  }
  if (resp.status == 408 || resp.status == 429 || resp.status >= 500 || doc.code == "SlowDown") {
    return unavailable(prefix + "origin error (HTTP " + std::to_string(resp.status) + ", " +
                           quoted(doc) + ") " + what,
                       "origin_error");
  }
  return failedPrecondition(prefix + "unexpected HTTP " + std::to_string(resp.status) + " (" +
                                quoted(doc) + ") " + what,
                            "origin_error");
}

}  // namespace shardcast
