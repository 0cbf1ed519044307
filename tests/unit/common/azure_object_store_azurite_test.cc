// AzureObjectStore against a real Azurite (npm azurite, `azurite-blob`, installed
// into <repo>/.tools/npm by scripts/install-deps) on loopback. Azurite checks
// Shared Key signatures (a wrong key gets 403) and account SAS signatures, so the
// signer is verified end to end here. Blobs are uploaded with Put Blob signed by
// shardcast's own signer. Labelled "integration": it starts a server process.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "common/http_client.h"
#include "common/objstore/azure_object_store.h"
#include "common/objstore/azure_shared_key.h"
#include "common/objstore/registry.h"
#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::patternBytes;
using testing::ServerProcess;
using testing::TempDir;

constexpr char kAccount[] = "devstoreaccount1";
constexpr char kDevKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
// A well-formed key that is not the account's.
constexpr char kWrongKey[] =
    "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleQ==";
constexpr char kContainer[] = "models";
constexpr int kSmallObjects = 1005;

std::string azuriteBin() {
  if (const char* env = std::getenv("SHARDCAST_AZURITE_BLOB"); env && *env) return env;
  return std::string(SHARDCAST_SOURCE_DIR) + "/.tools/npm/node_modules/.bin/azurite-blob";
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Azurite {
 public:
  explicit Azurite(const std::string& dir) {
    std::string bin = azuriteBin();
    REQUIRE_MESSAGE(::access(bin.c_str(), X_OK) == 0,
                    "azurite-blob not found at " << bin << ": run scripts/install-deps");
    std::filesystem::create_directories(dir + "/data");
    process_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location",
                                 dir + "/data", "--silent", "--skipApiVersionCheck", "--debug",
                                 dir + "/debug.log"},
        dir + "/azurite.log", "successfully listens on http://127.0.0.1:");
    debug_log_ = dir + "/debug.log";
  }
  std::string hostPort() const { return process_->hostPort(); }
  int port() const { return process_->port(); }
  std::string endpoint() const { return "http://" + hostPort() + "/" + kAccount; }
  std::string debugLog() const { return testing::readWholeFile(debug_log_); }

  // A request signed with Shared Key by shardcast's signer; returns the status.
  long send(HttpClient& client, const std::string& method, const std::string& path_after_account,
            const std::multimap<std::string, std::string>& query, const std::string& body,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string path = std::string("/") + kAccount + path_after_account;
    std::string q;
    for (const auto& [k, v] : query) q += (q.empty() ? "?" : "&") + urlEncode(k) + "=" + urlEncode(v);
    headers.emplace_back("x-ms-version", kAzureApiVersion);
    headers.emplace_back("x-ms-date", azureHttpDate(nowSeconds()));
    // libcurl sends a PUT's body (even an empty one) with a Content-Type, which
    // must then be signed: name it explicitly.
    if (method == "PUT") {
      headers.emplace_back("Content-Length", std::to_string(body.size()));
      headers.emplace_back("Content-Type", "application/octet-stream");
    }
    AzureSharedKeyRequest sr{method, kAccount, path, query, headers};
    auto sig = signAzureSharedKey(sr, kDevKey);
    REQUIRE(sig.isOk());
    HttpRequest req;
    req.method = method;
    req.url = "http://" + hostPort() + path + q;
    req.body = body;
    req.headers = headers;
    req.headers.emplace_back("Authorization", sig->authorization);
    auto resp = client.send(req);
    REQUIRE_MESSAGE(resp.isOk(), resp.status().toString());
    if (resp->status >= 300 && resp->status != 409) {
      MESSAGE(method << " " << path << ": HTTP " << resp->status << " " << resp->body.substr(0, 600)
                     << "\nsigned: " << sig->string_to_sign << "\nAzurite: " << lastStringToSign());
    }
    return resp->status;
  }

  // List Blobs requests with maxresults=`page` that Azurite's debug log shows.
  size_t listRequests(int page) const {
    std::string log = debugLog();
    size_t n = 0;
    const std::string want = "maxresults=" + std::to_string(page);
    for (size_t at = log.find("RequestURL="); at != std::string::npos;
         at = log.find("RequestURL=", at + 1)) {
      std::string line = log.substr(at, log.find('\n', at) - at);
      if (line.find("comp=list") != std::string::npos && line.find(want) != std::string::npos) ++n;
    }
    return n;
  }
  // Azurite writes its debug log asynchronously: waits (at most 10 s) until it
  // shows at least `at_least` such requests, and returns the count then.
  size_t waitForListRequests(int page, size_t at_least) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    size_t n = listRequests(page);
    while (n < at_least && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      n = listRequests(page);
    }
    return n;
  }

  // What Azurite signed last (from its debug log), to explain a 403.
  std::string lastStringToSign() const {
    std::string log = debugLog();
    size_t at = log.rfind("[STRING TO SIGN]:");
    return at == std::string::npos ? "?" : log.substr(at, log.find('\n', at) - at);
  }

  void createContainer(HttpClient& client, const std::string& name) {
    long st = send(client, "PUT", "/" + name, {{"restype", "container"}}, "");
    REQUIRE((st == 201 || st == 409));
  }
  void putBlob(HttpClient& client, const std::string& blob, const std::string& body) {
    long st = send(client, "PUT", "/" + std::string(kContainer) + "/" + urlEncode(blob, true), {},
                   body, {{"x-ms-blob-type", "BlockBlob"}});
    REQUIRE_MESSAGE(st == 201, "Put Blob " << blob << ": HTTP " << st);
  }

 private:
  std::unique_ptr<ServerProcess> process_;
  std::string debug_log_;
};

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<std::unique_ptr<ObjectStore>> openStore(const SourceSpec& spec, EnvLookup env,
                                               size_t page_size = 100) {
  ObjectStoreOptions options;
  options.list_page_size = page_size;
  options.request_timeout_ms = 20000;
  AzureStoreDeps deps;
  deps.credentials.env = std::move(env);
  deps.credentials.secret_dir = "/nonexistent";
  return AzureObjectStore::openWith(spec, options, std::move(deps));
}

SourceSpec specFor(const Azurite& az, const std::string& uri) {
  SourceSpec spec;
  spec.uri = uri;
  spec.endpoint = az.endpoint();
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

// The container: kSmallObjects small blobs, larger ones and an odd name under m/,
// a folder marker, and one blob outside the prefix.
struct Origin {
  TempDir tmp;
  std::unique_ptr<Azurite> az;
  std::map<std::string, std::string> objects;  // path under m/ -> content

  Origin() {
    az = std::make_unique<Azurite>(tmp.path());
    HttpClient client;
    az->createContainer(client, kContainer);
    for (int i = 0; i < kSmallObjects; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "obj-%04d.bin", i);
      objects[name] = patternBytes(1 + i % 97, i);
    }
    objects["large/big.bin"] = patternBytes((3 << 20) + 123, 7001);
    objects["large/medium.bin"] = patternBytes(300000, 7002);
    objects["odd keys/a+b~c (1) \xc3\xa9.bin"] = patternBytes(1234, 7003);
    for (const auto& [path, content] : objects) az->putBlob(client, "m/" + path, content);
    az->putBlob(client, "m/folder/", "x");
    az->putBlob(client, "other/outside.bin", "not under the prefix");
  }
};

// One Azurite with its 1,008 uploaded blobs serves every subcase (doctest runs the
// test case once per subcase); it stops when the test binary exits. Subcases that
// change a blob update `objects`.
Origin& sharedOrigin() {
  static Origin origin;
  return origin;
}

TEST_CASE("AzureObjectStore against Azurite") {
  Origin& origin = sharedOrigin();
  Azurite& az = *origin.az;
  auto good = envOf({{"AZURE_STORAGE_KEY", kDevKey}});
  auto opened = openStore(specFor(az, "az://devstoreaccount1/models/m/"), good);
  REQUIRE_MESSAGE(opened.isOk(), opened.status().toString());
  ObjectStore& store = **opened;

  SUBCASE("list() pages through more than 1,000 blobs with pages of 100") {
    size_t before = az.listRequests(100);
    auto list = store.list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == origin.objects.size());  // folder marker and outsider left out
    CHECK(origin.objects.size() == 1008);
    size_t i = 0;
    for (const auto& [path, content] : origin.objects) {
      const ObjectInfo& o = (*list)[i++];
      CHECK(o.path == path);
      CHECK(o.size == content.size());
      CHECK(o.pin.size() > 2);
      CHECK(o.pin.front() == '"');
      CHECK(o.sha256.empty());
    }
    // 1,009 blobs under m/ (with the folder marker) at 100 per page: 11 List Blobs calls.
    CHECK(az.waitForListRequests(100, before + 11) == before + 11);
    auto big_pages = openStore(specFor(az, "az://devstoreaccount1/models/m/"), good, 5000);
    REQUIRE(big_pages.isOk());
    auto one_page = (*big_pages)->list();
    REQUIRE(one_page.isOk());
    REQUIRE(one_page->size() == list->size());
    for (size_t k = 0; k < list->size(); ++k) {
      CHECK((*one_page)[k].path == (*list)[k].path);
      CHECK((*one_page)[k].pin == (*list)[k].pin);
    }
  }

  SUBCASE("readRange returns exactly the requested bytes, also from several threads") {
    auto list = store.list();
    REQUIRE(list.isOk());
    std::map<std::string, std::string> pins;
    for (const auto& o : *list) pins[o.path] = o.pin;
    const std::string& big = origin.objects["large/big.bin"];
    for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 1}, {1, 1}, {0, 100}, {1 << 20, 65536}, {big.size() - 1, 1}, {0, big.size()},
             {12345, big.size() - 12345}}) {
      auto got = readAll(store, "large/big.bin", pins["large/big.bin"], off, len);
      REQUIRE_MESSAGE(got.isOk(), got.status().toString());
      CHECK(*got == big.substr(off, len));
    }
    const std::string odd = "odd keys/a+b~c (1) \xc3\xa9.bin";
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
    // Azure answers 416 here (object_changed); Azurite 3.37 answers 206 with an
    // impossible Content-Range "bytes 300000-299999/300000". Either way no byte
    // may reach the sink and the read must fail.
    REQUIRE_FALSE(beyond.isOk());
    CHECK((beyond.status().reason() == "object_changed" ||
           beyond.status().message().find("wrong Content-Range") != std::string::npos));
    auto missing = readAll(store, "nope.bin", "", 0, 1);
    REQUIRE_FALSE(missing.isOk());
    CHECK(missing.status().code() == StatusCode::kNotFound);
  }

  SUBCASE("an overwritten blob fails a read with the old pin: object_changed naming it") {
    auto list = store.list();
    REQUIRE(list.isOk());
    std::string old_pin;
    for (const auto& o : *list) {
      if (o.path == "obj-0007.bin") old_pin = o.pin;
    }
    REQUIRE(!old_pin.empty());
    HttpClient client;
    az.putBlob(client, "m/obj-0007.bin", patternBytes(500, 99));
    origin.objects["obj-0007.bin"] = patternBytes(500, 99);
    auto r = readAll(store, "obj-0007.bin", old_pin, 0, 8);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK(r.status().reason() == "object_changed");
    CHECK(r.status().message().find("az://devstoreaccount1/models/m/obj-0007.bin") !=
          std::string::npos);
    MESSAGE("object_changed: " << r.status().message());

    auto relisted = store.list();
    REQUIRE(relisted.isOk());
    bool seen = false;
    for (const auto& o : *relisted) {
      if (o.path != "obj-0007.bin") continue;
      seen = true;
      CHECK(o.pin != old_pin);
      CHECK(o.size == 500);
      auto fresh = readAll(store, o.path, o.pin, 0, 500);
      REQUIRE(fresh.isOk());
      CHECK(*fresh == patternBytes(500, 99));
    }
    CHECK(seen);
  }

  SUBCASE("a wrong key is PermissionDenied naming the origin and the credentials, not the key") {
    auto wrong = openStore(specFor(az, "az://devstoreaccount1/models/m/"),
                           envOf({{"AZURE_STORAGE_KEY", kWrongKey}}));
    REQUIRE(wrong.isOk());
    auto list = (*wrong)->list();
    REQUIRE_FALSE(list.isOk());
    CHECK(list.status().code() == StatusCode::kPermissionDenied);
    const std::string& msg = list.status().message();
    MESSAGE("wrong key: " << msg);
    CHECK(msg.find("az://devstoreaccount1/models/m/: access denied (") != std::string::npos);
    CHECK(msg.find("listing: check environment AZURE_STORAGE_KEY") != std::string::npos);
    CHECK(msg.find(kWrongKey) == std::string::npos);
    CHECK(msg.find(kDevKey) == std::string::npos);
    auto read = readAll(**wrong, "obj-0001.bin", "", 0, 1);
    REQUIRE_FALSE(read.isOk());
    CHECK(read.status().code() == StatusCode::kPermissionDenied);
    CHECK(read.status().message().find("reading 'obj-0001.bin'") != std::string::npos);

    SourceSpec named = specFor(az, "az://devstoreaccount1/models/m/large/");
    named.credentials = "local-az";
    auto named_ok = openStore(named, envOf({{"SHARDCAST_CRED_LOCAL_AZ_AZURE_ACCOUNT_KEY", kDevKey}}));
    REQUIRE(named_ok.isOk());
    auto listed = (*named_ok)->list();
    REQUIRE_MESSAGE(listed.isOk(), listed.status().toString());
    CHECK(listed->size() == 2);
    auto no_creds = openStore(named, envOf({{"AZURE_STORAGE_KEY", kDevKey}}));
    REQUIRE_FALSE(no_creds.isOk());
    CHECK(no_creds.status().reason() == "credentials_not_found");
    CHECK(no_creds.status().message().find("az://devstoreaccount1/models/m/large/") !=
          std::string::npos);
  }

  SUBCASE("an account SAS token made by shardcast's signer lists and reads") {
    AzureAccountSasParams p;
    p.expiry = "2099-01-01T00:00:00Z";
    auto sas = azureAccountSas(kAccount, kDevKey, p);
    REQUIRE(sas.isOk());
    SourceSpec spec = specFor(az, "az://devstoreaccount1/models/m/large/");
    spec.credentials = "sas-az";
    auto opened_sas = openStore(spec, envOf({{"SHARDCAST_CRED_SAS_AZ_AZURE_SAS_TOKEN", "?" + sas->token}}));
    REQUIRE(opened_sas.isOk());
    auto list = (*opened_sas)->list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].path == "big.bin");
    auto got = readAll(**opened_sas, "big.bin", (*list)[0].pin, 1000, 5000);
    REQUIRE_MESSAGE(got.isOk(), got.status().toString());
    CHECK(*got == origin.objects["large/big.bin"].substr(1000, 5000));

    // A SAS signed with another key is refused; the token is not in the message.
    auto forged = azureAccountSas(kAccount, kWrongKey, p);
    REQUIRE(forged.isOk());
    auto opened_forged = openStore(spec, envOf({{"SHARDCAST_CRED_SAS_AZ_AZURE_SAS_TOKEN", forged->token}}));
    REQUIRE(opened_forged.isOk());
    auto denied = (*opened_forged)->list();
    REQUIRE_FALSE(denied.isOk());
    CHECK(denied.status().code() == StatusCode::kPermissionDenied);
    const std::string sig = forged->token.substr(forged->token.find("sig=") + 4);
    CHECK(denied.status().message().find(sig) == std::string::npos);
    CHECK(denied.status().message().find("sig=") == std::string::npos);
    CHECK(denied.status().message().find("credentials 'sas-az'") != std::string::npos);
  }

  SUBCASE("a single-blob source, a missing container, the builtin registry") {
    auto single = openStore(specFor(az, "az://devstoreaccount1/models/m/large/medium.bin"), good);
    REQUIRE(single.isOk());
    auto one = (*single)->list();
    REQUIRE_MESSAGE(one.isOk(), one.status().toString());
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].path == "medium.bin");
    CHECK((*one)[0].size == 300000);
    auto bytes = readAll(**single, "medium.bin", (*one)[0].pin, 299990, 10);
    REQUIRE(bytes.isOk());
    CHECK(*bytes == origin.objects["large/medium.bin"].substr(299990, 10));

    auto nocontainer = openStore(specFor(az, "az://devstoreaccount1/nosuchcontainer/m/"), good);
    REQUIRE(nocontainer.isOk());
    auto nc = (*nocontainer)->list();
    REQUIRE_FALSE(nc.isOk());
    CHECK(nc.status().code() == StatusCode::kNotFound);
    CHECK(nc.status().message().find("container 'nosuchcontainer' does not exist") !=
          std::string::npos);

    auto registry = ObjectStoreRegistry::withBuiltins();
    CHECK(registry.supports("az"));
    SourceSpec spec = specFor(az, "az://devstoreaccount1/models/m/large/");
    spec.credentials = "registry-az";
    ::setenv("SHARDCAST_CRED_REGISTRY_AZ_AZURE_ACCOUNT_KEY", kDevKey, 1);
    auto by_registry = registry.open(spec, ObjectStoreOptions{});
    ::unsetenv("SHARDCAST_CRED_REGISTRY_AZ_AZURE_ACCOUNT_KEY");
    REQUIRE_MESSAGE(by_registry.isOk(), by_registry.status().toString());
    auto list = (*by_registry)->list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    CHECK(list->size() == 2);
  }
}

TEST_CASE("an unreachable Azure endpoint is Unavailable with reason source_unreachable") {
  TempDir tmp;
  SourceSpec spec;
  spec.uri = "az://devstoreaccount1/models/m/";
  spec.endpoint = "http://127.0.0.1:" + std::to_string(testing::unusedLoopbackPort()) + "/devstoreaccount1";
  auto store = openStore(spec, envOf({{"AZURE_STORAGE_KEY", kDevKey}}));
  REQUIRE(store.isOk());
  auto list = (*store)->list();
  REQUIRE_FALSE(list.isOk());
  CHECK(list.status().code() == StatusCode::kUnavailable);
  CHECK(list.status().reason() == "source_unreachable");
  CHECK(list.status().message().find("az://devstoreaccount1/models/m/") != std::string::npos);
  auto read = readAll(**store, "w.bin", "", 0, 10);
  REQUIRE_FALSE(read.isOk());
  CHECK(read.status().reason() == "source_unreachable");
  CHECK(read.status().message().find("az://devstoreaccount1/models/m/w.bin") != std::string::npos);
}

}  // namespace
}  // namespace shardcast
