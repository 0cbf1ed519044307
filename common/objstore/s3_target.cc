#include "common/objstore/s3_target.h"

#include <cctype>

#include "common/objstore/origin_endpoint.h"
#include "common/objstore/sigv4.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

constexpr char kScheme[] = "s3://";  // "gs://" has the same length

bool allOf(const std::string& s, bool (*ok)(unsigned char)) {
  for (unsigned char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool bucketChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; }
bool regionChar(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; }
bool dnsLabelChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || std::isdigit(c) || c == '-';
}

// A bucket that can lead a host name: one lower-case DNS label, so that TLS
// wildcard certificates (*.s3.<region>.amazonaws.com) still match.
bool virtualHostable(const std::string& bucket) {
  return bucket.size() >= 3 && bucket.size() <= 63 && allOf(bucket, dnsLabelChar) &&
         bucket.front() != '-' && bucket.back() != '-';
}

// Splits "bucket/key" and checks both parts.
Status splitBucketAndKey(const std::string& uri, S3Target& t) {
  std::string rest = uri.substr(sizeof(kScheme) - 1);
  size_t slash = rest.find('/');
  if (slash == std::string::npos) {
    return invalidArgument("S3 source '" + uri + "' names no object; a prefix ends with '/' (" + uri.substr(0, 5) +
                           rest + "/)");
  }
  t.bucket = rest.substr(0, slash);
  t.key = rest.substr(slash + 1);
  t.is_prefix = t.key.empty() || t.key.back() == '/';
  if (t.bucket.empty() || t.bucket.size() > 255 || !allOf(t.bucket, bucketChar)) {
    return invalidArgument("S3 source '" + uri + "': invalid bucket name '" + t.bucket +
                           "' (letters, digits, '.', '-', '_')");
  }
  if (t.key.empty()) return Status::ok();
  std::string checked = t.is_prefix ? t.key.substr(0, t.key.size() - 1) : t.key;
  Status st = validateRelativePath(checked);
  if (!st.isOk()) return st.withContext("S3 source '" + uri + "'");
  return Status::ok();
}

}  // namespace

Result<S3Target> S3Target::fromSource(const SourceSpec& source) {
  const std::string& uri = source.uri;
  const bool gcs = source.scheme() == "gs";
  if (source.scheme() != "s3" && !gcs) {
    return invalidArgument("not an s3:// URI: '" + uri.substr(0, 200) + "'");
  }
  S3Target t;
  t.uri_scheme = gcs ? "gs" : "s3";
  RETURN_IF_ERROR(splitBucketAndKey(uri, t));
  t.region = !source.region.empty() ? source.region : gcs ? "auto" : "us-east-1";
  if (t.region.size() > 64 || !allOf(t.region, regionChar)) {
    return invalidArgument("S3 source '" + uri + "': invalid region '" + t.region.substr(0, 64) +
                           "'");
  }
  OriginEndpoint ep;
  if (source.endpoint.empty() && gcs) {
    ep = OriginEndpoint{"https", "storage.googleapis.com", ""};
  } else if (source.endpoint.empty()) {
    ep = OriginEndpoint{"https", "s3." + t.region + ".amazonaws.com", ""};
  } else {
    ASSIGN_OR_RETURN(ep, parseOriginEndpoint(source.endpoint, "S3"));
  }
  if (source.addressing == "virtual") {
    if (!virtualHostable(t.bucket)) {
      return invalidArgument("S3 source '" + uri + "': bucket '" + t.bucket +
                             "' cannot be addressed virtual-hosted (not a lower-case DNS "
                             "label); use addressing \"path\"");
    }
    t.virtual_hosted = true;
  } else if (source.addressing.empty()) {
    t.virtual_hosted = !gcs && source.endpoint.empty() && virtualHostable(t.bucket);
  } else if (source.addressing != "path") {
    return invalidArgument("S3 source '" + uri + "': addressing must be \"path\" or \"virtual\"");
  }
  t.scheme = ep.scheme;
  t.host = t.virtual_hosted ? t.bucket + "." + ep.host : ep.host;
  t.base_path = ep.path + (t.virtual_hosted ? "/" : "/" + t.bucket + "/");
  return t;
}

std::string S3Target::bucketPath() const {
  return virtual_hosted ? base_path : base_path.substr(0, base_path.size() - 1);
}

std::string S3Target::url(const std::string& decoded_path, const std::string& query) const {
  return scheme + "://" + host + awsUriEncode(decoded_path, false) +
         (query.empty() ? "" : "?" + query);
}

}  // namespace shardcast
