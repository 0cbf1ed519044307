// gs:// sources against a STAND-IN server (gcs_standin_server.py): no GCS
// emulator or metadata server installs here, so a small python3 server replays
// responses in the shapes Google documents for the JSON API (objects.list with
// nextPageToken, objects.get, media downloads with Range, 412 on
// ifGenerationMatch, 401 authError), the metadata server's token endpoint, and an
// XML API listing that records the SigV4 Authorization header. Passing here shows
// the client speaks the documented protocol, not that real GCS agrees.
// Labelled "integration": it starts a server process.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/objstore/gcs_json_object_store.h"
#include "common/objstore/gcs_origin.h"
#include "common/objstore/registry.h"
#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::patternBytes;
using testing::ServerProcess;
using testing::TempDir;

constexpr char kToken[] = "ya29.stand-in-token-value";
constexpr int kSmallObjects = 250;  // with large/: 252 objects, 3 pages of 100

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct StandIn {
  TempDir tmp;
  std::unique_ptr<ServerProcess> server;
  std::map<std::string, std::string> objects;  // name under m/ -> content

  StandIn() {
    for (int i = 0; i < kSmallObjects; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "obj-%04d.bin", i);
      objects[name] = patternBytes(1 + i % 53, i);
    }
    objects["large/big.bin"] = patternBytes((2 << 20) + 77, 8001);
    objects["large/small.bin"] = patternBytes(5000, 8002);
    for (const auto& [name, content] : objects) write("m/" + name, content);
    write("other/outside.bin", "not under the prefix");
    tmp.write("token-file", std::string(kToken) + "\n");
    tmp.write("bad-token-file", "ya29.not-the-right-one\n");
    server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"python3",
                                 std::string(SHARDCAST_SOURCE_DIR) +
                                     "/tests/unit/common/gcs_standin_server.py",
                                 "--data", tmp.path() + "/data", "--token", kToken},
        tmp.path() + "/standin.log", "GCS stand-in listening on 127.0.0.1:");
    MESSAGE("GCS JSON API and metadata server: a STAND-IN (gcs_standin_server.py on "
            << server->hostPort() << ") replaying documented responses, not real GCS");
  }
  void write(const std::string& name, const std::string& content) {
    tmp.write("data/models/" + name, content);
  }
  std::string endpoint() const { return "http://" + server->hostPort(); }
  nlohmann::json stats() const {
    HttpClient c;
    auto r = c.get(endpoint() + "/standin/stats");
    REQUIRE(r.isOk());
    return nlohmann::json::parse(r->body);
  }
};

Result<std::unique_ptr<ObjectStore>> openGcs(const StandIn& s, const std::string& uri,
                                             const std::string& credentials, EnvLookup env,
                                             std::shared_ptr<const Clock> clock = nullptr,
                                             size_t page_size = 100) {
  SourceSpec spec;
  spec.uri = uri;
  spec.endpoint = s.endpoint();
  spec.credentials = credentials;
  ObjectStoreOptions options;
  options.list_page_size = page_size;
  options.request_timeout_ms = 20000;
  GcsDeps deps;
  deps.env = std::move(env);
  deps.secret_dir = s.tmp.path() + "/secrets";
  deps.clock = std::move(clock);
  return GcsOrigin::openWith(spec, options, std::move(deps));
}

Result<std::string> readAll(ObjectStore& store, const std::string& path, const std::string& pin,
                            uint64_t offset, uint64_t length) {
  std::string got;
  Status st = store.readRange(path, pin, offset, length, [&](const char* d, size_t n) {
    got.append(d, n);
    return Status::ok();
  });
  if (!st.isOk()) return st;
  return got;
}

TEST_CASE("gs:// over the JSON API with a token file, against the stand-in") {
  StandIn s;
  auto env = envOf({{"SHARDCAST_CRED_GCS_FILE_GCS_TOKEN_FILE", s.tmp.path() + "/token-file"}});
  auto opened = openGcs(s, "gs://models/m/", "gcs-file", env);
  REQUIRE_MESSAGE(opened.isOk(), opened.status().toString());
  ObjectStore& store = **opened;

  SUBCASE("list() follows nextPageToken across 3 pages; pins are generations") {
    int before = s.stats()["list"];
    auto list = store.list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == s.objects.size());
    CHECK(s.objects.size() == 252);
    size_t i = 0;
    for (const auto& [name, content] : s.objects) {
      const ObjectInfo& o = (*list)[i++];
      CHECK(o.path == name);
      CHECK(o.size == content.size());
      struct stat st {};
      REQUIRE(::stat((s.tmp.path() + "/data/models/m/" + name).c_str(), &st) == 0);
      CHECK(o.pin == std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                                    st.st_mtim.tv_nsec));
      CHECK(o.sha256.empty());
    }
    CHECK(s.stats()["list"].get<int>() - before == 3);
  }

  SUBCASE("ranged media downloads, several threads; beyond the end; missing object") {
    auto list = store.list();
    REQUIRE(list.isOk());
    std::map<std::string, std::string> pins;
    for (const auto& o : *list) pins[o.path] = o.pin;
    const std::string& big = s.objects["large/big.bin"];
    for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 1}, {1, 1}, {1 << 20, 65536}, {big.size() - 1, 1}, {0, big.size()}}) {
      auto got = readAll(store, "large/big.bin", pins["large/big.bin"], off, len);
      REQUIRE_MESSAGE(got.isOk(), got.status().toString());
      CHECK(*got == big.substr(off, len));
    }
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        uint64_t off = static_cast<uint64_t>(t) * 500000;
        auto got = readAll(store, "large/big.bin", pins["large/big.bin"], off, 500000);
        ok[t] = got.isOk() && *got == big.substr(off, 500000);
      });
    }
    for (auto& th : threads) th.join();
    CHECK(std::count(ok.begin(), ok.end(), 1) == 4);
    auto beyond = readAll(store, "large/small.bin", pins["large/small.bin"], 5000, 1);
    REQUIRE_FALSE(beyond.isOk());
    CHECK(beyond.status().reason() == "object_changed");
    auto missing = readAll(store, "nope.bin", "", 0, 1);
    REQUIRE_FALSE(missing.isOk());
    CHECK(missing.status().code() == StatusCode::kNotFound);
  }

  SUBCASE("a replaced object fails with 412: object_changed naming it") {
    auto list = store.list();
    REQUIRE(list.isOk());
    std::string old_pin;
    for (const auto& o : *list) {
      if (o.path == "obj-0007.bin") old_pin = o.pin;
    }
    REQUIRE(!old_pin.empty());
    s.write("m/obj-0007.bin", patternBytes(500, 99));
    auto r = readAll(store, "obj-0007.bin", old_pin, 0, 8);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK(r.status().reason() == "object_changed");
    CHECK(r.status().message().find("gs://models/m/obj-0007.bin") != std::string::npos);
    MESSAGE("object_changed: " << r.status().message());
  }

  SUBCASE("a wrong token is PermissionDenied naming the origin and the token file") {
    auto bad = openGcs(s, "gs://models/m/", "gcs-bad",
                       envOf({{"SHARDCAST_CRED_GCS_BAD_GCS_TOKEN_FILE", s.tmp.path() + "/bad-token-file"}}));
    REQUIRE(bad.isOk());
    auto list = (*bad)->list();
    REQUIRE_FALSE(list.isOk());
    CHECK(list.status().code() == StatusCode::kPermissionDenied);
    const std::string& msg = list.status().message();
    MESSAGE("wrong token: " << msg);
    CHECK(msg.find("gs://models/m/: access denied (HTTP 401: Invalid Credentials) listing") !=
          std::string::npos);
    CHECK(msg.find("credentials 'gcs-bad' (token file ") != std::string::npos);
    CHECK(msg.find("not-the-right-one") == std::string::npos);
    auto read = readAll(**bad, "obj-0001.bin", "", 0, 1);
    REQUIRE_FALSE(read.isOk());
    CHECK(read.status().code() == StatusCode::kPermissionDenied);

    auto unnamed_missing = openGcs(s, "gs://models/m/", "gcs-none", envOf({}));
    REQUIRE_FALSE(unnamed_missing.isOk());
    CHECK(unnamed_missing.status().reason() == "credentials_not_found");
    CHECK(unnamed_missing.status().message().find("SHARDCAST_CRED_GCS_NONE_GCS_TOKEN_FILE") !=
          std::string::npos);
  }

  SUBCASE("a token file mounted as <credentials dir>/<name>/gcs_token, a single object") {
    s.tmp.write("secrets/mounted/gcs_token", kToken);
    auto single = openGcs(s, "gs://models/m/large/small.bin", "mounted", envOf({}));
    REQUIRE_MESSAGE(single.isOk(), single.status().toString());
    auto one = (*single)->list();
    REQUIRE_MESSAGE(one.isOk(), one.status().toString());
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].path == "small.bin");
    CHECK((*one)[0].size == 5000);
    auto bytes = readAll(**single, "small.bin", (*one)[0].pin, 4990, 10);
    REQUIRE_MESSAGE(bytes.isOk(), bytes.status().toString());
    CHECK(*bytes == s.objects["large/small.bin"].substr(4990, 10));
  }
}

TEST_CASE("gs:// with the metadata server's token (stand-in), cached until it expires") {
  StandIn s;
  auto clock = std::make_shared<FakeClock>();
  auto env = envOf({{"GCE_METADATA_HOST", s.server->hostPort()}});
  auto opened = openGcs(s, "gs://models/m/large/", "", env, clock);
  REQUIRE_MESSAGE(opened.isOk(), opened.status().toString());
  CHECK(s.stats()["metadata_token"] == 0);  // fetched on first use
  auto list = (*opened)->list();
  REQUIRE_MESSAGE(list.isOk(), list.status().toString());
  CHECK(list->size() == 2);
  CHECK((*opened)->list().isOk());
  CHECK(s.stats()["metadata_token"] == 1);
  clock->advanceMs(3599 * 1000);  // past expiry minus the 60 s margin
  CHECK((*opened)->list().isOk());
  CHECK(s.stats()["metadata_token"] == 2);

  auto nowhere = openGcs(s, "gs://models/m/", "", envOf({{"GCE_METADATA_HOST", "127.0.0.1:1"}}));
  REQUIRE(nowhere.isOk());
  auto failed = (*nowhere)->list();
  REQUIRE_FALSE(failed.isOk());
  CHECK(failed.status().reason() == "source_unreachable");
  CHECK(failed.status().message().find("metadata server") != std::string::npos);
}

TEST_CASE("gs:// with HMAC keys goes through the XML API (SigV4, region auto, path-style)") {
  StandIn s;
  auto opened = openGcs(s, "gs://models/m/large/", "gcs-hmac",
                        envOf({{"SHARDCAST_CRED_GCS_HMAC_ACCESS_KEY_ID", "GOOGTESTHMACID"},
                               {"SHARDCAST_CRED_GCS_HMAC_SECRET_ACCESS_KEY", "hmac-secret-value"}}));
  REQUIRE_MESSAGE(opened.isOk(), opened.status().toString());
  CHECK((*opened)->describe() == "gs://models/m/large/");
  auto list = (*opened)->list();
  REQUIRE_MESSAGE(list.isOk(), list.status().toString());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].path == "big.bin");
  auto st = s.stats();
  CHECK(st["xml_list"] == 1);
  CHECK(st["list"] == 0);
  std::string auth = st["xml_authorization"];
  CHECK(auth.rfind("AWS4-HMAC-SHA256 Credential=GOOGTESTHMACID/", 0) == 0);
  CHECK(auth.find("/auto/s3/aws4_request") != std::string::npos);
  CHECK(auth.find("hmac-secret-value") == std::string::npos);

  auto registry = ObjectStoreRegistry::withBuiltins();
  CHECK(registry.supports("gs"));
}

TEST_CASE("gs:// source forms") {
  SourceSpec spec;
  spec.uri = "gs://my-bucket/llama/v1/";
  auto t = GcsTarget::fromSource(spec);
  REQUIRE(t.isOk());
  CHECK(t->bucket == "my-bucket");
  CHECK(t->key == "llama/v1/");
  CHECK(t->base_url == "https://storage.googleapis.com");
  spec.endpoint = "http://127.0.0.1:4443/base/";
  t = GcsTarget::fromSource(spec);
  REQUIRE(t.isOk());
  CHECK(t->base_url == "http://127.0.0.1:4443/base");
  spec.addressing = "virtual";
  CHECK_FALSE(GcsTarget::fromSource(spec).isOk());
  SourceSpec bad;
  bad.uri = "gs://my-bucket";
  CHECK_FALSE(GcsTarget::fromSource(bad).isOk());

  CHECK(parseGcsAccessToken(R"({"access_token":"abc","expires_in":3599,"token_type":"Bearer"})")
            ->expires_in_seconds == 3599);
  auto no_token = parseGcsAccessToken(R"({"expires_in":3599})");
  REQUIRE_FALSE(no_token.isOk());
  CHECK_FALSE(parseGcsAccessToken("not json").isOk());
}

}  // namespace
}  // namespace shardcast
