#include "common/objstore/object_rules.h"

#include <doctest/doctest.h>

using namespace shardcast;

TEST_CASE("range requests: single-object stores, hostile paths, 64-bit overflow") {
  CHECK(checkRangeRequest("s3://b/p/", "", "a/b.bin", 0, 10).isOk());
  CHECK(checkRangeRequest("s3://b/p/", "", "a/b.bin", 5, 0).isOk());
  CHECK(checkRangeRequest("s3://b/f", "f", "f", 0, 1).isOk());
  Status other = checkRangeRequest("s3://b/f", "f", "g", 0, 1);
  CHECK(other.code() == StatusCode::kNotFound);
  CHECK(other.message().find("s3://b/f") != std::string::npos);
  CHECK(checkRangeRequest("x", "", "../etc/passwd", 0, 1).code() == StatusCode::kInvalidArgument);
  CHECK(checkRangeRequest("x", "", "/abs", 0, 1).code() == StatusCode::kInvalidArgument);
  CHECK(checkRangeRequest("x", "", "a", UINT64_MAX, 2).code() == StatusCode::kInvalidArgument);
  CHECK(checkRangeRequest("x", "", "a", UINT64_MAX, 1).isOk());
}

TEST_CASE("listings come back sorted and a name listed twice is an origin error") {
  auto sorted = finishListing("az://a/c/", {{"b", 1, "", ""}, {"a", 2, "", ""}});
  REQUIRE(sorted.isOk());
  CHECK((*sorted)[0].path == "a");
  CHECK((*sorted)[1].path == "b");
  auto twice = finishListing("az://a/c/", {{"a", 1, "", ""}, {"b", 1, "", ""}, {"a", 2, "", ""}});
  REQUIRE_FALSE(twice.isOk());
  CHECK(twice.status().reason() == "origin_error");
  CHECK(twice.status().message().find("'a' twice") != std::string::npos);
}
