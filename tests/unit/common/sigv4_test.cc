// The SigV4 signer's S3 behaviour and building blocks, with values published by
// AWS (S3 "Signature Calculations for the Authorization Header" examples, the
// signing-key derivation example) and RFC 4231.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "common/objstore/sigv4.h"

namespace shardcast {
namespace {

std::string hex(const std::string& raw) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

// 2013-05-24T00:00:00Z, the date of the S3 documentation examples.
constexpr int64_t kS3DocTime = 1369353600;

AwsCredentials s3DocCredentials() {
  return AwsCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "",
                        "test"};
}

TEST_CASE("S3 documentation example: GET Object with a Range header") {
  SigV4Request r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  SigV4Signature s = signSigV4(r, s3DocCredentials(), SigV4Options{}, kS3DocTime);
  CHECK(s.canonical_request ==
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(s.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("S3 documentation example: GET Bucket (list) with a query") {
  SigV4Request r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  SigV4Signature s = signSigV4(r, s3DocCredentials(), SigV4Options{}, kS3DocTime);
  CHECK(s.query_string == "max-keys=2&prefix=J");
  CHECK(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("signing key derivation and HMAC-SHA256 match published values") {
  CHECK(hex(sigV4SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                            "iam")) ==
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  // RFC 4231 test case 2.
  CHECK(hex(hmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(sigV4AmzDate(kS3DocTime) == "20130524T000000Z");
}

TEST_CASE("awsUriEncode keeps only unreserved characters (and '/' for paths)") {
  CHECK(awsUriEncode("AZaz09-._~", true) == "AZaz09-._~");
  CHECK(awsUriEncode("a b+c", true) == "a%20b%2Bc");
  CHECK(awsUriEncode("a/b", true) == "a%2Fb");
  CHECK(awsUriEncode("a/b", false) == "a/b");
  CHECK(awsUriEncode("=&?#%*", true) == "%3D%26%3F%23%25%2A");
  CHECK(awsUriEncode("\xe1\x88\xb4", true) == "%E1%88%B4");
}

TEST_CASE("S3 paths are signed as sent; normalisation is only for other services") {
  CHECK(sigV4CanonicalPath("/b/a//x/./y/../z ", false) == "/b/a//x/./y/../z%20");
  CHECK(sigV4CanonicalPath("", false) == "/");
  CHECK(sigV4CanonicalPath("/a//x/./y/../z", true) == "/a/x/z");
  CHECK(sigV4CanonicalPath("/a/b/..", true) == "/a/");
  CHECK(sigV4CanonicalPath("/..", true) == "/");
  CHECK(sigV4CanonicalPath("/a/b/", true) == "/a/b/");
}

TEST_CASE("canonical query: sorted by encoded name, then value; repeated names kept") {
  std::multimap<std::string, std::string> q = {
      {"b", "2"}, {"a", "z"}, {"a", "y"}, {"\xe1\x88\xb4", "1"}, {"P", ""}, {"c d", "e+f"}};
  CHECK(sigV4CanonicalQuery(q) == "%E1%88%B4=1&P=&a=y&a=z&b=2&c%20d=e%2Bf");
  CHECK(sigV4CanonicalQuery({}) == "");
}

TEST_CASE("headers: trimmed, runs of spaces collapsed, repeats joined; signer owns its own") {
  SigV4Request r;
  r.host = "h:9000";
  r.headers = {{"X-Amz-Meta-A", "  one   two  "}, {"x-amz-meta-a", "three"},
               {"Host", "evil"},                {"X-Amz-Date", "19700101T000000Z"},
               {"Authorization", "x"}};
  AwsCredentials c{"AK", "SK", "TOKEN", "test"};
  SigV4Signature s = signSigV4(r, c, SigV4Options{}, kS3DocTime);
  CHECK(s.canonical_request.find("host:h:9000\n") != std::string::npos);
  CHECK(s.canonical_request.find("x-amz-meta-a:one two,three\n") != std::string::npos);
  CHECK(s.canonical_request.find("x-amz-date:20130524T000000Z\n") != std::string::npos);
  CHECK(s.canonical_request.find("evil") == std::string::npos);
  CHECK(s.signed_headers ==
        "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-security-token");
  std::map<std::string, std::string> added(s.headers_to_add.begin(), s.headers_to_add.end());
  CHECK(added.at("X-Amz-Date") == "20130524T000000Z");
  CHECK(added.at("X-Amz-Content-Sha256") == kEmptyPayloadSha256);
  CHECK(added.at("X-Amz-Security-Token") == "TOKEN");
  CHECK(added.at("Authorization") == s.authorization);
  CHECK(s.authorization.find("SK") == std::string::npos);
}

TEST_CASE("an unsigned session token is sent but not signed") {
  SigV4Request r;
  r.host = "h";
  AwsCredentials c{"AK", "SK", "TOKEN", "test"};
  SigV4Options o;
  o.sign_session_token = false;
  SigV4Signature s = signSigV4(r, c, o, kS3DocTime);
  CHECK(s.signed_headers == "host;x-amz-content-sha256;x-amz-date");
  bool sent = false;
  for (const auto& [name, value] : s.headers_to_add) sent = sent || name == "X-Amz-Security-Token";
  CHECK(sent);
  SigV4Options signed_opts;
  CHECK(signSigV4(r, c, signed_opts, kS3DocTime).signature != s.signature);
}

}  // namespace
}  // namespace shardcast
