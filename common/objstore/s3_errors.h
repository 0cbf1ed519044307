// How an S3 error answer becomes a Status (pure; thread-safe). Every message
// starts with the source's name and says what was being done; none holds a
// secret (S3 error documents name the access key id at most, and only the code and
// message are quoted).
//
//   wrong region (301/400 naming another region)  FailedPrecondition "origin_error"
//   401/403, InvalidAccessKeyId, SignatureDoesNotMatch, expired tokens
//                                                  PermissionDenied, naming the credentials
//   404 NoSuchBucket / NoSuchKey                   NotFound
//   412                                            FailedPrecondition "object_changed"
//   408, 429, 5xx, SlowDown                        Unavailable "origin_error"
//   anything else                                  FailedPrecondition "origin_error"
#pragma once

#include <string>

#include "common/http_client.h"
#include "common/status.h"

namespace shardcast {

struct S3ErrorContext {
  std::string source;       // "s3://bucket/prefix/"
  std::string bucket;
  std::string region;       // the region requests were signed for
  std::string credentials;  // where the credentials came from ("environment AWS_ACCESS_KEY_ID")
  bool named_credentials = false;  // the source named its credentials
};

// `what` says what was being done: "listing", "reading 'a.bin'".
Status mapS3Error(const HttpResponse& resp, const S3ErrorContext& ctx, const std::string& what);

}  // namespace shardcast
