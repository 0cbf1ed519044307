#include <doctest/doctest.h>

#include "common/objstore/registry.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

SourceSpec uriSpec(const std::string& uri) {
  SourceSpec s;
  s.uri = uri;
  return s;
}

// A store that only records which source it was built for.
class RecordingStore : public ObjectStore {
 public:
  explicit RecordingStore(std::string uri) : uri_(std::move(uri)) {}
  Result<std::vector<ObjectInfo>> list() override { return std::vector<ObjectInfo>{}; }
  Status readRange(const std::string&, const std::string&, uint64_t, uint64_t,
                   const ByteSink&) override {
    return Status::ok();
  }
  std::string describe() const override { return "recording:" + uri_; }

 private:
  std::string uri_;
};

TEST_CASE("the builtin registry knows http, https, file, s3, gs and az") {
  auto r = ObjectStoreRegistry::withBuiltins();
  CHECK(r.supports("http"));
  CHECK(r.supports("https"));
  CHECK(r.supports("file"));
  CHECK(r.supports("s3"));
  CHECK(r.supports("gs"));
  CHECK(r.supports("az"));
  CHECK_FALSE(r.supports("hf"));
  CHECK(r.schemes() == std::vector<std::string>{"az", "file", "gs", "http", "https", "s3"});
}

TEST_CASE("an unknown scheme is InvalidArgument listing the supported schemes") {
  auto r = ObjectStoreRegistry::withBuiltins();
  auto s = r.open(uriSpec("hf://owner/repo@main"), ObjectStoreOptions{});
  REQUIRE_FALSE(s.isOk());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
  CHECK(s.status().message().find("'hf'") != std::string::npos);
  CHECK(s.status().message().find("az, file, gs, http, https, s3") != std::string::npos);
  auto none = r.open(uriSpec("/just/a/path/"), ObjectStoreOptions{});
  REQUIRE_FALSE(none.isOk());
  CHECK(none.status().message().find("no scheme") != std::string::npos);
  CHECK(none.status().message().find("az, file, gs, http, https, s3") != std::string::npos);
}

TEST_CASE("open dispatches on the scheme, case-insensitively") {
  ObjectStoreRegistry r;
  r.add("mem", [](const SourceSpec& s, const ObjectStoreOptions&) {
    return Result<std::unique_ptr<ObjectStore>>(std::make_unique<RecordingStore>(s.uri));
  });
  auto s = r.open(uriSpec("MEM://x/"), ObjectStoreOptions{});
  REQUIRE(s.isOk());
  CHECK((*s)->describe() == "recording:MEM://x/");
  CHECK(r.schemes() == std::vector<std::string>{"mem"});
}

TEST_CASE("builtin backends are built from their URIs") {
  testing::TempDir dir;
  auto r = ObjectStoreRegistry::withBuiltins();
  auto file = r.open(uriSpec("file://" + dir.path() + "/"), ObjectStoreOptions{});
  REQUIRE(file.isOk());
  CHECK((*file)->describe() == "file://" + dir.path() + "/");
  auto http = r.open(uriSpec("http://127.0.0.1:1/models/m/"), ObjectStoreOptions{});
  REQUIRE(http.isOk());
  CHECK((*http)->describe() == "http://127.0.0.1:1/models/m/");
  auto signed_url = r.open(uriSpec("https://h/m/w.bin?X-Sig=secret"), ObjectStoreOptions{});
  REQUIRE(signed_url.isOk());
  CHECK((*signed_url)->describe() == "https://h/m/w.bin");  // no query: it may be a secret
}

TEST_CASE("malformed http URIs are rejected when the store is opened") {
  auto r = ObjectStoreRegistry::withBuiltins();
  for (const char* bad : {"http:///no-host/", "http://host", "http://host/d/?q=1/",
                          "http://host/d/a%2Fb", "http://host/d/..", "http://host/f#frag",
                          "http://host/d/%zz"}) {
    auto s = r.open(uriSpec(bad), ObjectStoreOptions{});
    CHECK_MESSAGE(!s.isOk(), bad);
    if (!s.isOk()) CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace shardcast
