#include "common/objstore/s3_target.h"

#include <cctype>

#include "common/objstore/sigv4.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

constexpr char kScheme[] = "s3://";

bool allOf(const std::string& s, bool (*ok)(unsigned char)) {
  for (unsigned char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool bucketChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; }
bool regionChar(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; }
bool hostChar(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
}
bool dnsLabelChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || std::isdigit(c) || c == '-';
}

// A bucket that can lead a host name: one lower-case DNS label, so that TLS
// wildcard certificates (*.s3.<region>.amazonaws.com) still match.
bool virtualHostable(const std::string& bucket) {
  return bucket.size() >= 3 && bucket.size() <= 63 && allOf(bucket, dnsLabelChar) &&
         bucket.front() != '-' && bucket.back() != '-';
}

struct Endpoint {
  std::string scheme;
  std::string host;  // host[:port]
  std::string path;  // "" or "/base" without a trailing '/'
};

Result<Endpoint> parseEndpoint(const std::string& endpoint) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("invalid S3 endpoint '" + endpoint.substr(0, 200) + "': " + why);
  };
  Endpoint e;
  size_t sep = endpoint.find("://");
  if (sep == std::string::npos) return bad("expected http://host[:port] or https://host[:port]");
  e.scheme = endpoint.substr(0, sep);
  if (e.scheme != "http" && e.scheme != "https") return bad("the scheme must be http or https");
  std::string rest = endpoint.substr(sep + 3);
  size_t slash = rest.find('/');
  e.host = rest.substr(0, slash);
  if (e.host.empty() || !allOf(e.host, hostChar)) return bad("missing or malformed host");
  if (slash != std::string::npos) e.path = rest.substr(slash);
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  for (char c : e.path) {
    if (c == '?' || c == '#' || c == '%' || static_cast<unsigned char>(c) <= 0x20) {
      return bad("the path must be plain (no query, fragment, escapes or spaces)");
    }
  }
  return e;
}

// Splits "bucket/key" and checks both parts.
Status splitBucketAndKey(const std::string& uri, S3Target& t) {
  std::string rest = uri.substr(sizeof(kScheme) - 1);
  size_t slash = rest.find('/');
  if (slash == std::string::npos) {
    return invalidArgument("S3 source '" + uri + "' names no object; a prefix ends with '/' (s3://" +
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
  if (source.scheme() != "s3") {
    return invalidArgument("not an s3:// URI: '" + uri.substr(0, 200) + "'");
  }
  S3Target t;
  RETURN_IF_ERROR(splitBucketAndKey(uri, t));
  t.region = source.region.empty() ? "us-east-1" : source.region;
  if (t.region.size() > 64 || !allOf(t.region, regionChar)) {
    return invalidArgument("S3 source '" + uri + "': invalid region '" + t.region.substr(0, 64) +
                           "'");
  }
  Endpoint ep;
  if (source.endpoint.empty()) {
    ep = Endpoint{"https", "s3." + t.region + ".amazonaws.com", ""};
  } else {
    ASSIGN_OR_RETURN(ep, parseEndpoint(source.endpoint));
  }
  if (source.addressing == "virtual") {
    if (!virtualHostable(t.bucket)) {
      return invalidArgument("S3 source '" + uri + "': bucket '" + t.bucket +
                             "' cannot be addressed virtual-hosted (not a lower-case DNS "
                             "label); use addressing \"path\"");
    }
    t.virtual_hosted = true;
  } else if (source.addressing.empty()) {
    t.virtual_hosted = source.endpoint.empty() && virtualHostable(t.bucket);
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
