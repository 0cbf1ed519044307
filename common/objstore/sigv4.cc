#include "common/objstore/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cassert>
#include <ctime>

#include "common/http_client.h"
#include "common/sha256.h"

namespace shardcast {
namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

std::string toLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string hexOf(std::string_view raw) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Trimall: leading and trailing whitespace removed, inner runs become one space.
std::string trimAll(const std::string& v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (isSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

bool ownedBySigner(const std::string& lower_name) {
  return lower_name == "host" || lower_name == "authorization" || lower_name == "x-amz-date" ||
         lower_name == "x-amz-content-sha256" || lower_name == "x-amz-security-token";
}

// Lower-case name -> values in the order given; std::map keeps names sorted.
using HeaderMap = std::map<std::string, std::vector<std::string>>;

HeaderMap headersToSign(const SigV4Request& request, const SigV4Options& options,
                        const AwsCredentials& credentials, const std::string& amz_date) {
  HeaderMap h;
  for (const auto& [name, value] : request.headers) {
    std::string lower = toLower(name);
    if (!ownedBySigner(lower)) h[lower].push_back(value);
  }
  h["host"] = {request.host};
  if (options.placement == SigV4Placement::kHeader) {
    h["x-amz-date"] = {amz_date};
    if (options.content_sha256_header) h["x-amz-content-sha256"] = {request.payload_hash};
    if (!credentials.session_token.empty() && options.sign_session_token) {
      h["x-amz-security-token"] = {credentials.session_token};
    }
  }
  return h;
}

std::string canonicalHeaders(const HeaderMap& h) {
  std::string out;
  for (const auto& [name, values] : h) {
    out += name + ':';
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + trimAll(values[i]);
    out += '\n';
  }
  return out;
}

std::string signedHeaderList(const HeaderMap& h) {
  std::string out;
  for (const auto& [name, values] : h) out += (out.empty() ? "" : ";") + name;
  return out;
}

// RFC 3986 §5.2.4 dot-segment removal plus collapsing of empty segments, as the
// generic (non-S3) SigV4 services do. A trailing '/' survives.
std::string normalizePath(const std::string& path) {
  std::vector<std::string> kept;
  bool trailing_slash = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(start, end - start);
    start = end + 1;
    if (seg.empty()) continue;
    trailing_slash = seg == "." || seg == "..";
    if (seg == ".." && !kept.empty()) kept.pop_back();
    if (!trailing_slash) kept.push_back(seg);
  }
  if (!path.empty() && path.back() == '/') trailing_slash = true;
  std::string out;
  for (const auto& seg : kept) out += "/" + seg;
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

std::string credentialScope(const std::string& amz_date, const SigV4Options& options) {
  return amz_date.substr(0, 8) + "/" + options.region + "/" + options.service + "/aws4_request";
}

// The X-Amz-* parameters of a presigned URL, before the signature.
void addPresignParams(std::multimap<std::string, std::string>& query,
                      const AwsCredentials& credentials, const SigV4Options& options,
                      const std::string& amz_date, const std::string& signed_headers) {
  query.emplace("X-Amz-Algorithm", kAlgorithm);
  query.emplace("X-Amz-Credential",
                credentials.access_key_id + "/" + credentialScope(amz_date, options));
  query.emplace("X-Amz-Date", amz_date);
  query.emplace("X-Amz-Expires", std::to_string(options.expires_seconds));
  query.emplace("X-Amz-SignedHeaders", signed_headers);
  if (!credentials.session_token.empty() && options.sign_session_token) {
    query.emplace("X-Amz-Security-Token", credentials.session_token);
  }
}

}  // namespace

std::string awsUriEncode(std::string_view s, bool encode_slash) {
  // AWS's UriEncode is RFC 3986 with uppercase hex, which urlEncode already is.
  return urlEncode(std::string(s), /*keep_slash=*/!encode_slash);
}

std::string sigV4CanonicalPath(const std::string& path, bool normalize) {
  std::string p = path.empty() ? "/" : path;
  if (normalize) p = normalizePath(p);
  return awsUriEncode(p, false);
}

std::string sigV4CanonicalQuery(const std::multimap<std::string, std::string>& query) {
  std::vector<std::pair<std::string, std::string>> sorted;
  for (const auto& [k, v] : query) sorted.emplace_back(awsUriEncode(k, true), awsUriEncode(v, true));
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [k, v] : sorted) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

std::string sigV4AmzDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  unsigned char* r = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
                          &len);
  assert(r != nullptr && len == 32 && "HMAC-SHA256 failed");
  (void)r;
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sigV4SigningKey(const std::string& secret, const std::string& date8,
                            const std::string& region, const std::string& service) {
  std::string k_date = hmacSha256("AWS4" + secret, date8);
  std::string k_region = hmacSha256(k_date, region);
  std::string k_service = hmacSha256(k_region, service);
  return hmacSha256(k_service, "aws4_request");
}

SigV4Signature signSigV4(const SigV4Request& request, const AwsCredentials& credentials,
                         const SigV4Options& options, int64_t unix_seconds) {
  const bool in_query = options.placement == SigV4Placement::kQuery;
  const std::string amz_date = sigV4AmzDate(unix_seconds);
  SigV4Signature sig;
  HeaderMap headers = headersToSign(request, options, credentials, amz_date);
  sig.signed_headers = signedHeaderList(headers);

  std::multimap<std::string, std::string> query = request.query;
  if (in_query) addPresignParams(query, credentials, options, amz_date, sig.signed_headers);
  std::string canonical_query = sigV4CanonicalQuery(query);

  sig.canonical_request = request.method + "\n" +
                          sigV4CanonicalPath(request.path, options.normalize_path) + "\n" +
                          canonical_query + "\n" + canonicalHeaders(headers) + "\n" +
                          sig.signed_headers + "\n" + request.payload_hash;
  std::string scope = credentialScope(amz_date, options);
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                       sha256Hex(sig.canonical_request);
  std::string key = sigV4SigningKey(credentials.secret_access_key, amz_date.substr(0, 8),
                                    options.region, options.service);
  sig.signature = hexOf(hmacSha256(key, sig.string_to_sign));

  const bool unsigned_token = !credentials.session_token.empty() && !options.sign_session_token;
  if (in_query) {
    sig.query_string = canonical_query + (canonical_query.empty() ? "" : "&") +
                       "X-Amz-Signature=" + sig.signature;
    if (unsigned_token) {
      sig.query_string += "&X-Amz-Security-Token=" + awsUriEncode(credentials.session_token, true);
    }
    return sig;
  }
  sig.query_string = canonical_query;
  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      scope + ", SignedHeaders=" + sig.signed_headers +
                      ", Signature=" + sig.signature;
  sig.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  if (options.content_sha256_header) {
    sig.headers_to_add.emplace_back("X-Amz-Content-Sha256", request.payload_hash);
  }
  if (!credentials.session_token.empty()) {
    sig.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  sig.headers_to_add.emplace_back("Authorization", sig.authorization);
  return sig;
}

}  // namespace shardcast
