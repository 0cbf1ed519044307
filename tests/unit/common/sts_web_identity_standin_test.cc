// IRSA (web identity) against a STAND-IN STS (sts_standin_server.py): no STS
// emulator installs here, so a small python3 server replays the
// AssumeRoleWithWebIdentity answers the STS API reference documents (success and
// AccessDenied / InvalidIdentityToken errors) and records the request it got.
// Passing here shows the client speaks the documented protocol, not that real
// STS agrees. The stand-in also answers S3 ListObjectsV2 only when it is signed
// with the temporary credentials it issued, so an s3:// source with nothing but
// the IRSA environment is shown to use them (X-Amz-Security-Token).
// Labelled "integration": it starts a server process.
#include <doctest/doctest.h>

#include <atomic>
#include <map>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/objstore/s3_object_store.h"
#include "common/objstore/sts_web_identity.h"
#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::ServerProcess;
using testing::TempDir;

constexpr char kRole[] = "arn:aws:iam::123456789012:role/shardcast-agent";
constexpr char kOtherRole[] = "arn:aws:iam::123456789012:role/not-trusted";
constexpr char kToken[] = "eyJhbGciOiJSUzI1NiJ9.stand-in-projected-sa-token.c2lnbmF0dXJl";
// What the stand-in issues (sts_standin_server.py).
constexpr char kAccessKeyId[] = "ASIASTANDINEXAMPLE01";
constexpr char kSessionToken[] = "FwoGZXIvYXdzEStandInSessionToken//example+token=";

// The system clock moved forward by advanceMs(), for both readings: the stand-in
// stamps Expiration with the real time.
class ShiftedClock final : public Clock {
 public:
  int64_t nowMs() const override { return system_.nowMs() + shift_.load(); }
  int64_t wallMs() const override { return system_.wallMs() + shift_.load(); }
  void advanceMs(int64_t ms) { shift_ += ms; }

 private:
  SystemClock system_;
  std::atomic<int64_t> shift_{0};
};

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

  StandIn() {
    tmp.write("token", std::string(kToken) + "\n");
    server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"python3",
                                 std::string(SHARDCAST_SOURCE_DIR) +
                                     "/tests/unit/common/sts_standin_server.py",
                                 "--role", kRole, "--token", kToken, "--duration", "3600"},
        tmp.path() + "/standin.log", "STS stand-in listening on 127.0.0.1:");
    MESSAGE("STS AssumeRoleWithWebIdentity: a STAND-IN (sts_standin_server.py on "
            << server->hostPort() << ") replaying documented responses, not real STS");
  }
  std::string endpoint() const { return "http://" + server->hostPort(); }
  std::string tokenFile() const { return tmp.path() + "/token"; }
  nlohmann::json stats() const {
    HttpClient c;
    auto r = c.get(endpoint() + "/standin/stats");
    REQUIRE(r.isOk());
    return nlohmann::json::parse(r->body);
  }
};

TEST_CASE("the web identity exchange against the stand-in STS: request, answer, cache") {
  StandIn s;
  auto clock = std::make_shared<ShiftedClock>();
  auto sts = std::make_shared<StsWebIdentity>(
      StsWebIdentityConfig{envOf({{"AWS_ENDPOINT_URL_STS", s.endpoint()}}), clock, 10000});
  WebIdentity who{s.tokenFile(), kRole, ""};

  auto c = sts->credentials(who);
  REQUIRE_MESSAGE(c.isOk(), c.status().toString());
  CHECK(c->access_key_id == kAccessKeyId);
  CHECK(c->secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSTANDINKEY");
  CHECK(c->session_token == kSessionToken);
  CHECK(c->source == std::string("web identity ") + kRole);

  auto st = s.stats();
  const auto& req = st["last_sts"];
  CHECK(req["action"] == "AssumeRoleWithWebIdentity");
  CHECK(req["version"] == "2011-06-15");
  CHECK(req["role_arn"] == kRole);
  CHECK(req["token"] == kToken);  // read from the file, trimmed
  CHECK(req["session_name"] == sts->defaultSessionName());
  CHECK(sts->defaultSessionName().rfind("shardcast-", 0) == 0);
  CHECK(sts->defaultSessionName().size() == 26);
  CHECK(req["authorization"] == "");  // unsigned
  CHECK(req["content_type"].get<std::string>().rfind("application/x-www-form-urlencoded", 0) == 0);
  CHECK(st["assume"] == 1);

  SUBCASE("cached until five minutes before Expiration, then renewed") {
    CHECK(sts->credentials(who).isOk());
    clock->advanceMs(54 * 60 * 1000);
    CHECK(sts->credentials(who).isOk());
    CHECK(s.stats()["assume"] == 1);
    clock->advanceMs(2 * 60 * 1000);  // 56 minutes in: renew
    auto renewed = sts->credentials(who);
    REQUIRE_MESSAGE(renewed.isOk(), renewed.status().toString());
    CHECK(s.stats()["assume"] == 2);
  }

  SUBCASE("a failed renewal keeps the credentials until they expire, then fails") {
    s.tmp.write("token", "eyJ.rotated-to-something-sts-rejects.sig\n");
    clock->advanceMs(56 * 60 * 1000);
    auto kept = sts->credentials(who);
    REQUIRE_MESSAGE(kept.isOk(), kept.status().toString());
    CHECK(kept->session_token == kSessionToken);
    CHECK(s.stats()["denied"] == 1);
    clock->advanceMs(5 * 60 * 1000);  // past Expiration
    auto expired = sts->credentials(who);
    REQUIRE_FALSE(expired.isOk());
    CHECK(expired.status().code() == StatusCode::kUnavailable);
    CHECK(expired.status().message().find(kRole) != std::string::npos);
    CHECK(s.stats()["denied"] == 2);
  }
}

TEST_CASE("STS errors name the role and the STS code, never the token") {
  StandIn s;
  auto sts = std::make_shared<StsWebIdentity>(
      StsWebIdentityConfig{envOf({{"AWS_ENDPOINT_URL_STS", s.endpoint()}}), nullptr, 10000});

  auto denied = sts->credentials(WebIdentity{s.tokenFile(), kOtherRole, "node-a"});
  REQUIRE_FALSE(denied.isOk());
  MESSAGE("AccessDenied: " << denied.status().message());
  CHECK(denied.status().code() == StatusCode::kPermissionDenied);
  CHECK(denied.status().reason() == "sts_denied");
  CHECK(denied.status().message().find(kOtherRole) != std::string::npos);
  CHECK(denied.status().message().find("HTTP 403: AccessDenied") != std::string::npos);
  CHECK(denied.status().message().find(kToken) == std::string::npos);
  CHECK(s.stats()["last_sts"]["session_name"] == "node-a");
  CHECK(s.stats()["last_sts"]["token"] == kToken);

  s.tmp.write("wrong-token", "eyJ.not-the-token-sts-knows.sig");
  auto invalid = sts->credentials(WebIdentity{s.tmp.path() + "/wrong-token", kRole, ""});
  REQUIRE_FALSE(invalid.isOk());
  CHECK(invalid.status().code() == StatusCode::kPermissionDenied);
  CHECK(invalid.status().message().find("InvalidIdentityToken") != std::string::npos);
  CHECK(invalid.status().message().find("not-the-token-sts-knows") == std::string::npos);

  auto missing = sts->credentials(WebIdentity{s.tmp.path() + "/no-such-token", kRole, ""});
  REQUIRE_FALSE(missing.isOk());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find(s.tmp.path() + "/no-such-token") != std::string::npos);

  auto bad_name = sts->credentials(WebIdentity{s.tokenFile(), kRole, "has space"});
  REQUIRE_FALSE(bad_name.isOk());
  CHECK(bad_name.status().code() == StatusCode::kInvalidArgument);

  auto nowhere = std::make_shared<StsWebIdentity>(StsWebIdentityConfig{
      envOf({{"AWS_ENDPOINT_URL_STS",
              "http://127.0.0.1:" + std::to_string(testing::unusedLoopbackPort())}}),
      nullptr, 5000});
  auto unreachable = nowhere->credentials(WebIdentity{s.tokenFile(), kRole, ""});
  REQUIRE_FALSE(unreachable.isOk());
  CHECK(unreachable.status().reason() == "source_unreachable");
}

TEST_CASE("an s3:// source with only the IRSA environment signs with the STS credentials") {
  StandIn s;
  std::map<std::string, std::string> vars = {{"AWS_WEB_IDENTITY_TOKEN_FILE", s.tokenFile()},
                                             {"AWS_ROLE_ARN", kRole},
                                             {"AWS_ROLE_SESSION_NAME", "agent-node-a"},
                                             {"AWS_ENDPOINT_URL_STS", s.endpoint()},
                                             {"HOME", s.tmp.path()}};
  SourceSpec spec;
  spec.uri = "s3://models/m/";
  spec.endpoint = s.endpoint();
  ObjectStoreOptions options;
  options.request_timeout_ms = 10000;
  S3StoreDeps deps;
  deps.credentials.env = envOf(vars);
  auto store = S3ObjectStore::openWith(spec, options, deps);
  REQUIRE_MESSAGE(store.isOk(), store.status().toString());
  CHECK(s.stats()["last_sts"]["session_name"] == "agent-node-a");

  auto list = (*store)->list();
  REQUIRE_MESSAGE(list.isOk(), list.status().toString());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].path == "weights.bin");
  CHECK((*list)[0].size == 42);
  auto st = s.stats();
  CHECK(st["last_s3_token"] == kSessionToken);
  CHECK(st["last_s3_authorization"].get<std::string>().find(std::string("Credential=") + kAccessKeyId +
                                                             "/") != std::string::npos);
  CHECK(st["assume"] == 1);

  vars["AWS_ROLE_ARN"] = kOtherRole;
  deps.credentials.env = envOf(vars);
  auto denied = S3ObjectStore::openWith(spec, options, deps);
  REQUIRE_FALSE(denied.isOk());
  MESSAGE("s3:// with an untrusted role: " << denied.status().message());
  CHECK(denied.status().code() == StatusCode::kPermissionDenied);
  CHECK(denied.status().message().find("s3://models/m/") != std::string::npos);
  CHECK(denied.status().message().find(kOtherRole) != std::string::npos);
  CHECK(denied.status().message().find(kToken) == std::string::npos);
}

}  // namespace
}  // namespace shardcast
