// S3ObjectStore against a real s3rver (npm s3rver 3.7.1, installed into
// <repo>/.tools/npm by scripts/install-deps) on loopback. s3rver requires
// x-amz-content-sha256, refuses unknown access key ids, does not verify SigV4
// signatures (the SigV4 suite and the botocore cross-check cover those) and
// ignores If-Match, so pinning relies on the response ETag check.
// Labelled "integration": it starts a server process.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "common/objstore/registry.h"
#include "common/objstore/s3_object_store.h"
#include "common/objstore/sigv4.h"
#include "common/sha256.h"
#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::patternBytes;
using testing::TempDir;

constexpr char kBucket[] = "models";
constexpr char kAccessKey[] = "S3RVER";  // s3rver's built-in account
constexpr char kSecretKey[] = "S3RVER";
constexpr int kSmallObjects = 1005;

std::string s3rverScript() {
  if (const char* env = std::getenv("SHARDCAST_S3RVER_JS"); env && *env) return env;
  return std::string(SHARDCAST_SOURCE_DIR) + "/.tools/npm/node_modules/s3rver/bin/s3rver.js";
}

// Runs `node --openssl-legacy-provider s3rver.js` on 127.0.0.1, port 0, with its data in `dir`; the port is
// read back from its "S3rver listening on 127.0.0.1:PORT" line. Its log (one line
// per bucket listing, written synchronously to a file) lets tests count pages.
class S3rverProcess {
 public:
  explicit S3rverProcess(const std::string& dir) {
    std::string script = s3rverScript();
    REQUIRE_MESSAGE(::access(script.c_str(), R_OK) == 0,
                    "s3rver not found at " << script << ": run scripts/install-deps");
    std::filesystem::create_directories(dir + "/data");
    // s3rver encrypts continuation tokens with DES, which Node's OpenSSL 3 only
    // offers from its legacy provider: without it every truncated listing is a 500.
    process_ = std::make_unique<testing::ServerProcess>(
        std::vector<std::string>{"node", "--openssl-legacy-provider", script, "-d", dir + "/data",
                                 "-a", "127.0.0.1", "-p", "0", "--service-endpoint", "localhost",
                                 "--configure-bucket", kBucket},
        dir + "/s3rver.log", "S3rver listening on 127.0.0.1:");
  }

  int port() const { return process_->port(); }
  std::string hostPort() const { return process_->hostPort(); }
  std::string endpoint() const { return "http://" + hostPort(); }
  std::string log() const { return process_->log(); }

 private:
  std::unique_ptr<testing::ServerProcess> process_;
};

// Real wall time (s3rver refuses requests more than 15 minutes off) with a
// monotonic clock that tests move by hand.
class SteppedClock final : public Clock {
 public:
  int64_t nowMs() const override { return 1'000'000 + offset_.load(); }
  int64_t wallMs() const override { return SystemClock().wallMs(); }
  void advanceMs(int64_t ms) { offset_ += ms; }

 private:
  std::atomic<int64_t> offset_{0};
};

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// PUTs an object with a SigV4 signature from shardcast's own signer.
void putObject(HttpClient& client, const S3rverProcess& s3, const std::string& key,
               const std::string& body) {
  SigV4Request r;
  r.method = "PUT";
  r.host = s3.hostPort();
  r.path = std::string("/") + kBucket + "/" + key;
  r.payload_hash = sha256Hex(body);
  SigV4Signature sig =
      signSigV4(r, AwsCredentials{kAccessKey, kSecretKey, "", "test"}, SigV4Options{}, nowSeconds());
  HttpRequest req;
  req.method = "PUT";
  req.url = "http://" + r.host + awsUriEncode(r.path, false);
  req.body = body;
  req.headers.emplace_back("Host", r.host);
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  for (const auto& h : sig.headers_to_add) req.headers.push_back(h);
  auto resp = client.send(req);
  REQUIRE_MESSAGE(resp.isOk(), resp.status().toString());
  REQUIRE_MESSAGE(resp->status == 200, "PUT " << key << ": HTTP " << resp->status << " "
                                               << resp->body.substr(0, 300));
}

// A fake environment for the credential chain (the process environment is not touched).
EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup goodEnv() {
  return envOf({{"AWS_ACCESS_KEY_ID", kAccessKey}, {"AWS_SECRET_ACCESS_KEY", kSecretKey}});
}

Result<std::unique_ptr<ObjectStore>> openStore(const SourceSpec& spec, EnvLookup env,
                                               size_t page_size = 100) {
  ObjectStoreOptions options;
  options.list_page_size = page_size;
  options.request_timeout_ms = 20000;
  S3StoreDeps deps;
  deps.credentials.env = std::move(env);
  deps.credentials.secret_dir = "/nonexistent";
  return S3ObjectStore::openWith(spec, options, std::move(deps));
}

SourceSpec specFor(const S3rverProcess& s3, const std::string& uri) {
  SourceSpec spec;
  spec.uri = uri;
  spec.endpoint = s3.endpoint();
  return spec;
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

size_t countOccurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The bucket: kSmallObjects small objects, a few larger ones and an odd key under
// m/, a folder marker, and one object outside the prefix.
struct Origin {
  TempDir tmp;
  std::unique_ptr<S3rverProcess> s3;
  std::map<std::string, std::string> objects;  // path under m/ -> content

  Origin() {
    s3 = std::make_unique<S3rverProcess>(tmp.path());
    HttpClient client;
    for (int i = 0; i < kSmallObjects; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "obj-%04d.bin", i);
      objects[name] = patternBytes(1 + i % 97, i);
    }
    objects["large/big.bin"] = patternBytes((3 << 20) + 123, 7001);
    objects["large/medium.bin"] = patternBytes(300000, 7002);
    objects["odd keys/a+b~c (1) \xc3\xa9\xe1\x88\xb4.bin"] = patternBytes(1234, 7003);
    for (const auto& [path, content] : objects) putObject(client, *s3, "m/" + path, content);
    putObject(client, *s3, "m/folder/", "");
    putObject(client, *s3, "other/outside.bin", "not under the prefix");
  }
};

TEST_CASE("S3ObjectStore against s3rver") {
  Origin origin;
  const S3rverProcess& s3 = *origin.s3;
  auto opened = openStore(specFor(s3, "s3://models/m/"), goodEnv());
  REQUIRE_MESSAGE(opened.isOk(), opened.status().toString());
  ObjectStore& store = **opened;

  SUBCASE("list() pages through more than 1,000 objects with small pages") {
    size_t log_before = s3.log().size();
    auto list = store.list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == origin.objects.size());  // folder marker and outsider left out
    size_t i = 0;
    for (const auto& [path, content] : origin.objects) {  // std::map: sorted like list()
      const ObjectInfo& o = (*list)[i++];
      CHECK(o.path == path);
      CHECK(o.size == content.size());
      CHECK(o.pin.size() > 2);
      CHECK(o.pin.front() == '"');
      CHECK(o.sha256.empty());
    }
    // 1,009 keys under m/ (with the folder marker) at 100 per page: 11 listings.
    // s3rver writes a request's access line after the response has gone out, so
    // the last line may trail list()'s return: wait (bounded) for it to appear.
    std::string log;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      log = s3.log().substr(log_before);
      if (countOccurrences(log, "continuation-token=") >= 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    INFO("s3rver log: " << log.substr(0, 3000));
    CHECK(countOccurrences(log, "Fetched bucket \"models\" with options") == 11);
    CHECK(countOccurrences(log, "\"maxKeys\":100,") == 11);
    CHECK(countOccurrences(log, "continuation-token=") == 10);
    CHECK(origin.objects.size() == 1008);
  }

  SUBCASE("readRange returns exactly the requested bytes, also from several threads") {
    auto list = store.list();
    REQUIRE(list.isOk());
    std::map<std::string, std::string> pins;
    for (const auto& o : *list) pins[o.path] = o.pin;
    const std::string& big = origin.objects["large/big.bin"];
    for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{
             {1, 1}, {0, 100}, {1 << 20, 65536}, {big.size() - 1, 1}, {0, big.size()},
             {12345, big.size() - 12345}}) {
      auto got = readAll(store, "large/big.bin", pins["large/big.bin"], off, len);
      REQUIRE_MESSAGE(got.isOk(), got.status().toString());
      CHECK(*got == big.substr(off, len));
    }
    // s3rver answers "bytes=0-0" with the whole object (it reads end 0 as "no end");
    // the client must refuse that answer rather than pass on wrong bytes.
    auto first_byte = readAll(store, "large/big.bin", pins["large/big.bin"], 0, 1);
    REQUIRE_FALSE(first_byte.isOk());
    CHECK(first_byte.status().reason() == "origin_error");
    CHECK(first_byte.status().message().find("wrong Content-Range") != std::string::npos);

    const std::string odd = "odd keys/a+b~c (1) \xc3\xa9\xe1\x88\xb4.bin";
    auto odd_read = readAll(store, odd, pins[odd], 10, 1000);
    REQUIRE_MESSAGE(odd_read.isOk(), odd_read.status().toString());
    CHECK(*odd_read == origin.objects[odd].substr(10, 1000));

    std::vector<std::thread> threads;
    std::vector<int> ok(8, 0);
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        uint64_t off = static_cast<uint64_t>(t) * 393216;
        auto got = readAll(store, "large/big.bin", pins["large/big.bin"], off, 393216);
        ok[t] = got.isOk() && *got == big.substr(off, 393216);
      });
    }
    for (auto& th : threads) th.join();
    CHECK(std::count(ok.begin(), ok.end(), 1) == 8);

    auto beyond = readAll(store, "large/medium.bin", pins["large/medium.bin"], 300000, 1);
    REQUIRE_FALSE(beyond.isOk());
    CHECK(beyond.status().reason() == "object_changed");
    auto missing = readAll(store, "nope.bin", "", 0, 1);
    REQUIRE_FALSE(missing.isOk());
    CHECK(missing.status().code() == StatusCode::kNotFound);
  }

  SUBCASE("an overwritten object fails a read with the old pin: object_changed naming it") {
    auto list = store.list();
    REQUIRE(list.isOk());
    std::string old_pin;
    for (const auto& o : *list) {
      if (o.path == "obj-0007.bin") old_pin = o.pin;
    }
    REQUIRE(!old_pin.empty());
    HttpClient client;
    putObject(client, s3, "m/obj-0007.bin", patternBytes(500, 99));
    auto r = readAll(store, "obj-0007.bin", old_pin, 0, 8);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK(r.status().reason() == "object_changed");
    CHECK(r.status().message().find("s3://models/m/obj-0007.bin") != std::string::npos);
    CHECK(r.status().message().find(old_pin) != std::string::npos);

    auto relisted = store.list();
    REQUIRE(relisted.isOk());
    for (const auto& o : *relisted) {
      if (o.path != "obj-0007.bin") continue;
      CHECK(o.pin != old_pin);
      CHECK(o.size == 500);
      auto fresh = readAll(store, o.path, o.pin, 0, 500);
      REQUIRE(fresh.isOk());
      CHECK(*fresh == patternBytes(500, 99));
    }
  }

  SUBCASE("a wrong access key id is PermissionDenied naming the origin and the credentials") {
    auto wrong = openStore(specFor(s3, "s3://models/m/"),
                           envOf({{"AWS_ACCESS_KEY_ID", "WRONGKEY"},
                                  {"AWS_SECRET_ACCESS_KEY", "wrong-secret-value"}}));
    REQUIRE(wrong.isOk());
    auto list = (*wrong)->list();
    REQUIRE_FALSE(list.isOk());
    CHECK(list.status().code() == StatusCode::kPermissionDenied);
    const std::string& msg = list.status().message();
    CHECK(msg.find("s3://models/m/: access denied (InvalidAccessKeyId") != std::string::npos);
    CHECK(msg.find("check the credentials from environment AWS_ACCESS_KEY_ID") !=
          std::string::npos);
    CHECK(msg.find("wrong-secret-value") == std::string::npos);
    auto read = readAll(**wrong, "obj-0001.bin", "", 0, 1);
    REQUIRE_FALSE(read.isOk());
    CHECK(read.status().code() == StatusCode::kPermissionDenied);
    CHECK(read.status().message().find("reading 'obj-0001.bin'") != std::string::npos);

    SourceSpec named = specFor(s3, "s3://models/m/");
    named.credentials = "local-s3";
    auto named_wrong = openStore(named, envOf({{"SHARDCAST_CRED_LOCAL_S3_ACCESS_KEY_ID", "NOPE"},
                                               {"SHARDCAST_CRED_LOCAL_S3_SECRET_ACCESS_KEY", "x"}}));
    REQUIRE(named_wrong.isOk());
    auto denied = (*named_wrong)->list();
    REQUIRE_FALSE(denied.isOk());
    CHECK(denied.status().message().find(
              "check credentials 'local-s3' (environment SHARDCAST_CRED_LOCAL_S3_*)") !=
          std::string::npos);

    auto named_ok = openStore(named, envOf({{"SHARDCAST_CRED_LOCAL_S3_ACCESS_KEY_ID", kAccessKey},
                                            {"SHARDCAST_CRED_LOCAL_S3_SECRET_ACCESS_KEY",
                                             kSecretKey}}));
    REQUIRE(named_ok.isOk());
    auto listed = (*named_ok)->list();
    REQUIRE_MESSAGE(listed.isOk(), listed.status().toString());
    CHECK(listed->size() == origin.objects.size());

    // Credentials are cached and resolved again after five minutes; when they can
    // no longer be resolved the last good ones stay in use.
    auto vars = std::make_shared<std::map<std::string, std::string>>(
        std::map<std::string, std::string>{{"AWS_ACCESS_KEY_ID", kAccessKey},
                                           {"AWS_SECRET_ACCESS_KEY", kSecretKey}});
    auto clock = std::make_shared<SteppedClock>();
    S3StoreDeps deps;
    deps.credentials.env = [vars](const std::string& name) -> std::optional<std::string> {
      auto it = vars->find(name);
      if (it == vars->end()) return std::nullopt;
      return it->second;
    };
    deps.clock = clock;
    ObjectStoreOptions options;
    options.list_page_size = 1000;
    auto rotating = S3ObjectStore::openWith(specFor(s3, "s3://models/m/large/"), options, deps);
    REQUIRE(rotating.isOk());
    (*vars)["AWS_ACCESS_KEY_ID"] = "ROTATEDAWAY";
    CHECK((*rotating)->list().isOk());  // still the cached key
    clock->advanceMs(6 * 60 * 1000);
    auto after = (*rotating)->list();
    REQUIRE_FALSE(after.isOk());
    CHECK(after.status().code() == StatusCode::kPermissionDenied);
    (*vars)["AWS_ACCESS_KEY_ID"] = kAccessKey;
    clock->advanceMs(6 * 60 * 1000);
    CHECK((*rotating)->list().isOk());
    vars->clear();  // unresolvable now: keep signing with the last good key
    clock->advanceMs(6 * 60 * 1000);
    CHECK((*rotating)->list().isOk());

    auto no_creds = openStore(named, envOf({}));
    REQUIRE_FALSE(no_creds.isOk());
    CHECK(no_creds.status().reason() == "credentials_not_found");
    CHECK(no_creds.status().message().find("s3://models/m/") != std::string::npos);
  }

  SUBCASE("a single-object source, virtual-hosted addressing, a missing bucket") {
    auto single = openStore(specFor(s3, "s3://models/m/large/medium.bin"), goodEnv());
    REQUIRE(single.isOk());
    auto one = (*single)->list();
    REQUIRE_MESSAGE(one.isOk(), one.status().toString());
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].path == "medium.bin");
    CHECK((*one)[0].size == 300000);
    auto bytes = readAll(**single, "medium.bin", (*one)[0].pin, 299990, 10);
    REQUIRE(bytes.isOk());
    CHECK(*bytes == origin.objects["large/medium.bin"].substr(299990, 10));

    // curl resolves *.localhost to loopback; s3rver maps models.s3.localhost to the bucket.
    SourceSpec vhost;
    vhost.uri = "s3://models/m/large/";
    vhost.endpoint = "http://s3.localhost:" + std::to_string(s3.port());
    vhost.addressing = "virtual";
    auto v = openStore(vhost, goodEnv());
    REQUIRE(v.isOk());
    auto vlist = (*v)->list();
    REQUIRE_MESSAGE(vlist.isOk(), vlist.status().toString());
    REQUIRE(vlist->size() == 2);
    CHECK((*vlist)[0].path == "big.bin");
    auto vread = readAll(**v, "big.bin", (*vlist)[0].pin, 5, 5);
    REQUIRE(vread.isOk());
    CHECK(*vread == origin.objects["large/big.bin"].substr(5, 5));

    auto nobucket = openStore(specFor(s3, "s3://nosuchbucket/m/"), goodEnv());
    REQUIRE(nobucket.isOk());
    auto nb = (*nobucket)->list();
    REQUIRE_FALSE(nb.isOk());
    CHECK(nb.status().code() == StatusCode::kNotFound);
    CHECK(nb.status().message().find("bucket 'nosuchbucket' does not exist") != std::string::npos);
  }

  SUBCASE("the builtin registry opens s3:// sources") {
    auto registry = ObjectStoreRegistry::withBuiltins();
    SourceSpec spec = specFor(s3, "s3://models/m/large/");
    spec.credentials = "registry-test";
    ::setenv("SHARDCAST_CRED_REGISTRY_TEST_ACCESS_KEY_ID", kAccessKey, 1);
    ::setenv("SHARDCAST_CRED_REGISTRY_TEST_SECRET_ACCESS_KEY", kSecretKey, 1);
    auto opened_by_registry = registry.open(spec, ObjectStoreOptions{});
    ::unsetenv("SHARDCAST_CRED_REGISTRY_TEST_ACCESS_KEY_ID");
    ::unsetenv("SHARDCAST_CRED_REGISTRY_TEST_SECRET_ACCESS_KEY");
    REQUIRE_MESSAGE(opened_by_registry.isOk(), opened_by_registry.status().toString());
    auto list = (*opened_by_registry)->list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    CHECK(list->size() == 2);
  }
}

TEST_CASE("an unreachable S3 endpoint is Unavailable with reason source_unreachable") {
  int port = testing::unusedLoopbackPort();  // nothing listens there
  SourceSpec spec;
  spec.uri = "s3://models/m/";
  spec.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto store = openStore(spec, goodEnv());
  REQUIRE(store.isOk());
  auto list = (*store)->list();
  REQUIRE_FALSE(list.isOk());
  CHECK(list.status().code() == StatusCode::kUnavailable);
  CHECK(list.status().reason() == "source_unreachable");
  CHECK(list.status().message().find("s3://models/m/") != std::string::npos);
  CHECK(list.status().message().find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  auto read = readAll(**store, "w.bin", "", 0, 10);
  REQUIRE_FALSE(read.isOk());
  CHECK(read.status().reason() == "source_unreachable");
  CHECK(read.status().message().find("s3://models/m/w.bin") != std::string::npos);
}

}  // namespace
}  // namespace shardcast
