// mapS3Error: every kind of S3 error answer becomes the documented Status, names
// the source and never quotes more than the error code and message.
#include <doctest/doctest.h>

#include "common/objstore/s3_errors.h"

namespace shardcast {
namespace {

HttpResponse answer(long status, const std::string& code, const std::string& extra = "") {
  HttpResponse r;
  r.status = status;
  if (!code.empty()) {
    r.body = "<?xml version=\"1.0\"?><Error><Code>" + code +
             "</Code><Message>msg for " + code + "</Message>" + extra +
             "<StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign></Error>";
  }
  return r;
}

const S3ErrorContext kCtx{"s3://models/m/", "models", "us-east-1",
                          "environment AWS_ACCESS_KEY_ID", false};

TEST_CASE("credentials errors are PermissionDenied naming the source and the credentials") {
  for (auto [status, code] : std::vector<std::pair<long, std::string>>{
           {403, "InvalidAccessKeyId"}, {403, "SignatureDoesNotMatch"}, {400, "ExpiredToken"},
           {403, "AccessDenied"}, {401, ""}}) {
    Status st = mapS3Error(answer(status, code), kCtx, "listing");
    CHECK(st.code() == StatusCode::kPermissionDenied);
    std::string shown = code.empty() ? "HTTP 401" : code;
    CHECK_MESSAGE(st.message().find("s3://models/m/: access denied (" + shown) == 0,
                  st.message());
    CHECK(st.message().find(") listing: check the credentials from environment "
                            "AWS_ACCESS_KEY_ID") != std::string::npos);
    CHECK(st.message().find("StringToSign") == std::string::npos);
    CHECK(st.message().find("secret-ish") == std::string::npos);
  }
  S3ErrorContext named = kCtx;
  named.credentials = "credentials 'prod' (environment SHARDCAST_CRED_PROD_*)";
  named.named_credentials = true;
  Status st = mapS3Error(answer(403, "InvalidAccessKeyId"), named, "reading 'a.bin'");
  CHECK(st.message().find("reading 'a.bin': check credentials 'prod' (environment "
                          "SHARDCAST_CRED_PROD_*)") != std::string::npos);
  Status skew = mapS3Error(answer(403, "RequestTimeTooSkewed"), kCtx, "listing");
  CHECK(skew.code() == StatusCode::kPermissionDenied);
  CHECK(skew.message().find("clock") != std::string::npos);
}

TEST_CASE("a bucket in another region says which region to set") {
  Status body = mapS3Error(
      answer(400, "AuthorizationHeaderMalformed", "<Region>eu-west-1</Region>"), kCtx, "listing");
  CHECK(body.code() == StatusCode::kFailedPrecondition);
  CHECK(body.message().find("is in region eu-west-1, not us-east-1") != std::string::npos);
  HttpResponse redirect;  // HEAD: no body, only the header
  redirect.status = 301;
  redirect.headers["x-amz-bucket-region"] = "ap-south-1";
  CHECK(mapS3Error(redirect, kCtx, "reading 'a'").message().find("ap-south-1") !=
        std::string::npos);
}

TEST_CASE("missing buckets and keys, 412, throttling and server errors") {
  Status bucket = mapS3Error(answer(404, "NoSuchBucket"), kCtx, "listing");
  CHECK(bucket.code() == StatusCode::kNotFound);
  CHECK(bucket.message() == "s3://models/m/: bucket 'models' does not exist");
  Status key = mapS3Error(answer(404, "NoSuchKey"), kCtx, "reading 'a.bin'");
  CHECK(key.code() == StatusCode::kNotFound);
  CHECK(key.message().find("reading 'a.bin'") != std::string::npos);
  CHECK(mapS3Error(answer(412, "PreconditionFailed"), kCtx, "reading 'a'").reason() ==
        "object_changed");
  for (auto [status, code] : std::vector<std::pair<long, std::string>>{
           {503, "SlowDown"}, {500, "InternalError"}, {429, ""}, {408, "RequestTimeout"},
           {502, ""}}) {
    Status st = mapS3Error(answer(status, code), kCtx, "listing");
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK(st.reason() == "origin_error");
    CHECK(st.message().find("HTTP " + std::to_string(status)) != std::string::npos);
  }
  Status odd = mapS3Error(answer(400, "InvalidArgument"), kCtx, "listing");
  CHECK(odd.code() == StatusCode::kFailedPrecondition);
  CHECK(odd.reason() == "origin_error");
  CHECK(odd.message().find("InvalidArgument: msg for InvalidArgument") != std::string::npos);
}

}  // namespace
}  // namespace shardcast
