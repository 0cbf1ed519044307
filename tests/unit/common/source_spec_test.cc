#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/objstore/object_store.h"

namespace shardcast {
namespace {

using nlohmann::json;

SourceSpec uriSpec(const std::string& uri) {
  SourceSpec s;
  s.uri = uri;
  return s;
}

TEST_CASE("SourceSpec::scheme is the lowercased part before ://") {
  CHECK(uriSpec("S3://bucket/key").scheme() == "s3");
  CHECK(uriSpec("https://h/p/").scheme() == "https");
  CHECK(uriSpec("file:///data/m/").scheme() == "file");
  CHECK(uriSpec("/abs/path").scheme() == "");
  CHECK(uriSpec("://x").scheme() == "");
  CHECK(uriSpec("1http://x").scheme() == "");
  CHECK(uriSpec("we ird://x").scheme() == "");
  CHECK(uriSpec("http://h/dir/").isPrefix());
  CHECK_FALSE(uriSpec("http://h/file").isPrefix());
}

TEST_CASE("a plain string is a URI-only source and prints back as a string") {
  auto s = sourceSpecFromJson(json("s3://bucket/models/llama/"), true);
  REQUIRE(s.isOk());
  CHECK(s->uri == "s3://bucket/models/llama/");
  CHECK(s->region.empty());
  json back = sourceSpecToJson(*s);
  CHECK(back.is_string());
  CHECK(back == json("s3://bucket/models/llama/"));
}

TEST_CASE("an object source keeps every field and round-trips") {
  json j = {{"uri", "s3://b/p/"},        {"endpoint", "http://127.0.0.1:9000"},
            {"region", "eu-west-1"},     {"addressing", "path"},
            {"credentials", "minio-ro"}, {"location", "aws:eu-west-1"}};
  auto s = sourceSpecFromJson(j, true);
  REQUIRE(s.isOk());
  CHECK(s->endpoint == "http://127.0.0.1:9000");
  CHECK(s->region == "eu-west-1");
  CHECK(s->addressing == "path");
  CHECK(s->credentials == "minio-ro");
  CHECK(s->location == "aws:eu-west-1");
  CHECK(sourceSpecToJson(*s) == j);
  auto again = sourceSpecFromJson(sourceSpecToJson(*s), true);
  REQUIRE(again.isOk());
  CHECK(*again == *s);
}

TEST_CASE("an object with only uri prints back as a plain string") {
  auto s = sourceSpecFromJson(json{{"uri", "https://h/m/"}}, true);
  REQUIRE(s.isOk());
  CHECK(sourceSpecToJson(*s) == json("https://h/m/"));
}

TEST_CASE("strict parsing rejects unknown fields, lenient parsing ignores them") {
  json j = {{"uri", "https://h/m/"}, {"mirror", true}};
  auto strict = sourceSpecFromJson(j, true);
  REQUIRE_FALSE(strict.isOk());
  CHECK(strict.status().code() == StatusCode::kInvalidArgument);
  CHECK(strict.status().message().find("mirror") != std::string::npos);
  auto lenient = sourceSpecFromJson(j, false);
  REQUIRE(lenient.isOk());
  CHECK(lenient->uri == "https://h/m/");
}

TEST_CASE("wrong types and bad values are errors naming the field") {
  struct Case {
    json j;
    const char* field;
  };
  for (const Case& c : {Case{json{{"uri", 5}}, "uri"},
                        Case{json{{"uri", "s3://b/"}, {"region", 3}}, "region"},
                        Case{json{{"uri", "s3://b/"}, {"endpoint", json::array()}}, "endpoint"},
                        Case{json{{"uri", "s3://b/"}, {"credentials", false}}, "credentials"},
                        Case{json{{"uri", "s3://b/"}, {"addressing", "sideways"}}, "addressing"},
                        Case{json{{"region", "r"}}, "uri"},
                        Case{json{{"uri", ""}}, "uri"}}) {
    for (bool strict : {true, false}) {
      auto s = sourceSpecFromJson(c.j, strict);
      REQUIRE_MESSAGE(!s.isOk(), c.j.dump());
      CHECK(s.status().code() == StatusCode::kInvalidArgument);
      CHECK_MESSAGE(s.status().message().find(c.field) != std::string::npos,
                    s.status().message());
    }
  }
}

TEST_CASE("a source that is neither a string nor an object is rejected") {
  for (const json& j : {json(42), json::array({"s3://b/"}), json(nullptr), json("")}) {
    auto s = sourceSpecFromJson(j, false);
    CHECK_MESSAGE(!s.isOk(), j.dump());
  }
}

}  // namespace
}  // namespace shardcast
