// AWS Signature Version 4: a pure signer (no I/O, no clock; the time is an input).
//
// It builds the canonical request, the string to sign, the signing key
// (HMAC-SHA256 via OpenSSL) and either the Authorization header (header
// placement) or the X-Amz-* query parameters of a presigned URL (query
// placement). S3 and S3-compatible stores (MinIO, R2, the GCS XML API) sign the
// path exactly as sent: no dot-segment removal and a single URI encoding. Other
// AWS services normalise the path first; `SigV4Options::normalize_path` selects it.
//
// The caller sends the request with the same encoding the signer used: the URL's
// path is `sigV4CanonicalPath(path, normalize)` and its query string is
// `SigV4Signature::query_string`; the Host header is exactly `SigV4Request::host`.
//
// Thread-safe (pure functions). Secrets never appear in any returned string except
// the session token, which is a header/query value the request must carry.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardcast {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-lived keys
  // Where these came from, for error messages ("environment AWS_ACCESS_KEY_ID",
  // "credentials 'prod-s3'"). Never a secret.
  std::string source;
};

// The hex SHA-256 of an empty payload (GET, HEAD) and the marker for an unsigned body.
inline constexpr char kEmptyPayloadSha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";

enum class SigV4Placement { kHeader, kQuery };

struct SigV4Request {
  std::string method = "GET";
  std::string host;       // the Host header exactly as sent: "h" or "h:port"
  std::string path = "/"; // decoded (raw bytes, e.g. "/bucket/my key"); encoded by the signer
  std::multimap<std::string, std::string> query;  // decoded names and values
  // Further headers to sign, any case, repeated names allowed (their values are
  // joined with ',' in order). Host, Authorization and the X-Amz-Date,
  // X-Amz-Content-Sha256 and X-Amz-Security-Token headers belong to the signer:
  // entries with those names are ignored.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash = kEmptyPayloadSha256;  // hex SHA-256 of the body or UNSIGNED-PAYLOAD
};

struct SigV4Options {
  std::string region = "us-east-1";
  std::string service = "s3";
  SigV4Placement placement = SigV4Placement::kHeader;
  bool normalize_path = false;  // remove "." and ".." segments and repeated '/' (not S3)
  // Header placement: add and sign x-amz-content-sha256 (S3 requires it).
  bool content_sha256_header = true;
  // False: the session token is added after signing, unsigned (some services want that).
  bool sign_session_token = true;
  int64_t expires_seconds = 3600;  // query placement: X-Amz-Expires
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // 64 lowercase hex digits
  std::string signed_headers;  // "host;x-amz-date"
  std::string authorization;   // header placement: the Authorization header value
  // Header placement: headers to send besides SigV4Request::headers and Host
  // (X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token, Authorization).
  std::vector<std::pair<std::string, std::string>> headers_to_add;
  // The URL's query string (without '?'): the canonical query, plus for query
  // placement the X-Amz-* parameters and X-Amz-Signature.
  std::string query_string;
};

// Signs `request` at `unix_seconds` (UTC).
SigV4Signature signSigV4(const SigV4Request& request, const AwsCredentials& credentials,
                         const SigV4Options& options, int64_t unix_seconds);

// Building blocks, exposed for tests and for building URLs that match a signature.

// RFC 3986 percent-encoding of every byte but A-Z a-z 0-9 - . _ ~ (and '/' when
// !encode_slash), upper-case hex.
std::string awsUriEncode(std::string_view s, bool encode_slash);
// The canonical URI of a decoded path: optionally normalised, then encoded once.
std::string sigV4CanonicalPath(const std::string& path, bool normalize);
// Names and values encoded, sorted by encoded name then encoded value, "k=v&k2=v2".
std::string sigV4CanonicalQuery(const std::multimap<std::string, std::string>& query);
// "20150830T123600Z".
std::string sigV4AmzDate(int64_t unix_seconds);
// kSecret = "AWS4" + secret; HMAC chain over date (yyyymmdd), region, service,
// "aws4_request". Returns the 32 raw bytes.
std::string sigV4SigningKey(const std::string& secret, const std::string& date8,
                            const std::string& region, const std::string& service);
// Raw 32-byte HMAC-SHA256.
std::string hmacSha256(std::string_view key, std::string_view data);

}  // namespace shardcast
