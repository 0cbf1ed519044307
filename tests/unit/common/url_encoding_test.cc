#include <doctest/doctest.h>

#include "common/http_client.h"

namespace shardcast {
namespace {

TEST_CASE("urlEncode keeps unreserved characters and escapes the rest") {
  CHECK(urlEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(urlEncode("a b/c") == "a%20b%2Fc");
  CHECK(urlEncode("a b/c", true) == "a%20b/c");
  CHECK(urlEncode("100%+?#&=") == "100%25%2B%3F%23%26%3D");
  CHECK(urlEncode("\xc3\xa9") == "%C3%A9");  // UTF-8 bytes, upper-case hex
  CHECK(urlEncode("") == "");
}

TEST_CASE("urlDecode reverses urlEncode for every byte value") {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  auto round = urlDecode(urlEncode(all));
  REQUIRE(round.isOk());
  CHECK(*round == all);
  auto kept = urlDecode(urlEncode(all, true));
  REQUIRE(kept.isOk());
  CHECK(*kept == all);
}

TEST_CASE("urlDecode accepts both hex cases and leaves '+' alone") {
  auto r = urlDecode("%4a%4B+x");
  REQUIRE(r.isOk());
  CHECK(*r == "JK+x");
}

TEST_CASE("urlDecode rejects malformed escapes") {
  for (const char* bad : {"%", "%4", "abc%", "%zz", "%g0", "a%2"}) {
    auto r = urlDecode(bad);
    CHECK_MESSAGE(!r.isOk(), bad);
    if (!r.isOk()) CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("HttpResponse::header is case-insensitive") {
  HttpResponse r;
  r.headers["etag"] = "\"abc\"";
  CHECK(r.header("ETag") == "\"abc\"");
  CHECK(r.header("etag") == "\"abc\"");
  CHECK(r.header("Content-Length") == "");
}

}  // namespace
}  // namespace shardcast
