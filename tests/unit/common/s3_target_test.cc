// S3Target: how s3:// sources are addressed (AWS virtual-hosted by default,
// path style for custom endpoints, region and endpoint validation).
#include <doctest/doctest.h>

#include "common/objstore/s3_target.h"

namespace shardcast {
namespace {

SourceSpec spec(const std::string& uri, const std::string& endpoint = "",
                const std::string& region = "", const std::string& addressing = "") {
  SourceSpec s;
  s.uri = uri;
  s.endpoint = endpoint;
  s.region = region;
  s.addressing = addressing;
  return s;
}

TEST_CASE("AWS sources are virtual-hosted in their region by default") {
  auto t = S3Target::fromSource(spec("s3://models/llama/70b/", "", "eu-west-1"));
  REQUIRE_MESSAGE(t.isOk(), t.status().toString());
  CHECK(t->bucket == "models");
  CHECK(t->key == "llama/70b/");
  CHECK(t->is_prefix);
  CHECK(t->virtual_hosted);
  CHECK(t->host == "models.s3.eu-west-1.amazonaws.com");
  CHECK(t->region == "eu-west-1");
  CHECK(t->bucketPath() == "/");
  CHECK(t->url(t->objectPath("llama/70b/a b+c.bin"), "") ==
        "https://models.s3.eu-west-1.amazonaws.com/llama/70b/a%20b%2Bc.bin");

  auto dotted = S3Target::fromSource(spec("s3://my.models/x"));
  REQUIRE(dotted.isOk());
  CHECK_FALSE(dotted->virtual_hosted);  // TLS wildcard certificates do not cover dots
  CHECK(dotted->host == "s3.us-east-1.amazonaws.com");
  CHECK(dotted->objectPath(dotted->key) == "/my.models/x");
  CHECK_FALSE(dotted->is_prefix);
}

TEST_CASE("a custom endpoint uses path style unless told otherwise") {
  auto t = S3Target::fromSource(spec("s3://bucket/p/", "http://127.0.0.1:9000/"));
  REQUIRE(t.isOk());
  CHECK_FALSE(t->virtual_hosted);
  CHECK(t->scheme == "http");
  CHECK(t->host == "127.0.0.1:9000");
  CHECK(t->region == "us-east-1");
  CHECK(t->bucketPath() == "/bucket");
  CHECK(t->url(t->objectPath("p/k"), "a=b") == "http://127.0.0.1:9000/bucket/p/k?a=b");

  auto v = S3Target::fromSource(spec("s3://bucket/", "https://s3.example.com/base", "auto",
                                     "virtual"));
  REQUIRE(v.isOk());
  CHECK(v->virtual_hosted);
  CHECK(v->host == "bucket.s3.example.com");
  CHECK(v->bucketPath() == "/base/");
  CHECK(v->key.empty());
  CHECK(v->is_prefix);

  auto p = S3Target::fromSource(spec("S3://bucket/k", "", "", "path"));
  REQUIRE(p.isOk());
  CHECK_FALSE(p->virtual_hosted);
}

TEST_CASE("malformed S3 sources are InvalidArgument naming the problem") {
  struct Bad {
    SourceSpec s;
    const char* says;
  };
  for (const Bad& b : std::vector<Bad>{
           {spec("s3://bucket"), "prefix ends with '/'"},
           {spec("s3:///key"), "invalid bucket name"},
           {spec("s3://bu cket/k"), "invalid bucket name"},
           {spec("s3://b/a/../k"), "'..'"},
           {spec("s3://b/a//"), "empty path segment"},
           {spec("s3://b/k", "ftp://host"), "scheme must be http or https"},
           {spec("s3://b/k", "http://"), "host"},
           {spec("s3://b/k", "http://h/p?x=1"), "plain"},
           {spec("s3://b/k", "", "us east"), "invalid region"},
           {spec("s3://Bad_Bucket/k", "", "", "virtual"), "virtual-hosted"},
           {spec("http://b/k"), "not an s3:// URI"},
       }) {
    auto t = S3Target::fromSource(b.s);
    REQUIRE_FALSE(t.isOk());
    CHECK(t.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(t.status().message().find(b.says) != std::string::npos,
                  b.s.uri << " -> " << t.status().message());
  }
}

}  // namespace
}  // namespace shardcast
