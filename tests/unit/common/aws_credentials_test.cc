// AwsCredentialChain: named credentials (environment, mounted files), the AWS
// environment variables, the shared credentials file, the web identity seam, and
// errors that name places but never secrets. The environment is a fake map.
#include <doctest/doctest.h>

#include <map>

#include "common/objstore/aws_credentials.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::TempDir;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [vars = vars](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

AwsCredentialChain chain(const FakeEnv& env, const std::string& secret_dir = "/nonexistent",
                         WebIdentityExchange web = {}) {
  return AwsCredentialChain(AwsCredentialsConfig{env.lookup(), secret_dir, std::move(web)});
}

void checkNoSecret(const Status& st) {
  CHECK(st.message().find(kSecret) == std::string::npos);
  CHECK(st.message().find("SESSIONTOKEN") == std::string::npos);
}

TEST_CASE("named credentials come from SHARDCAST_CRED_<NAME>_* first") {
  FakeEnv env;
  env.vars = {{"SHARDCAST_CRED_PROD_S3_ACCESS_KEY_ID", "AKIDNAMED"},
              {"SHARDCAST_CRED_PROD_S3_SECRET_ACCESS_KEY", kSecret},
              {"SHARDCAST_CRED_PROD_S3_SESSION_TOKEN", "SESSIONTOKEN"},
              {"AWS_ACCESS_KEY_ID", "AKIDDEFAULT"},
              {"AWS_SECRET_ACCESS_KEY", "other"}};
  auto c = chain(env).resolve("prod-s3");
  REQUIRE_MESSAGE(c.isOk(), c.status().toString());
  CHECK(c->access_key_id == "AKIDNAMED");
  CHECK(c->secret_access_key == kSecret);
  CHECK(c->session_token == "SESSIONTOKEN");
  CHECK(c->source.find("prod-s3") != std::string::npos);
  CHECK(c->source.find(kSecret) == std::string::npos);
  CHECK(AwsCredentialChain::envPrefix("a.b-c_D") == "SHARDCAST_CRED_A_B_C_D_");
}

TEST_CASE("named credentials fall back to files in the secret directory, trimmed") {
  TempDir dir;
  dir.write("prod-s3/access_key_id", "AKIDFILE\n");
  dir.write("prod-s3/secret_access_key", std::string(kSecret) + "\n");
  auto c = chain(FakeEnv{}, dir.path()).resolve("prod-s3");
  REQUIRE_MESSAGE(c.isOk(), c.status().toString());
  CHECK(c->access_key_id == "AKIDFILE");
  CHECK(c->secret_access_key == kSecret);
  CHECK(c->session_token.empty());
  CHECK(c->source.find(dir.path() + "/prod-s3") != std::string::npos);

  // The directory may come from SHARDCAST_CREDENTIALS_DIR.
  FakeEnv env;
  env.vars = {{"SHARDCAST_CREDENTIALS_DIR", dir.path()}};
  auto via_env = AwsCredentialChain(AwsCredentialsConfig{env.lookup(), "", {}}).resolve("prod-s3");
  REQUIRE(via_env.isOk());
  CHECK(via_env->access_key_id == "AKIDFILE");
}

TEST_CASE("a named credential never falls back to other credentials") {
  FakeEnv env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKIDDEFAULT"}, {"AWS_SECRET_ACCESS_KEY", kSecret}};
  TempDir dir;
  auto c = chain(env, dir.path()).resolve("missing");
  REQUIRE_FALSE(c.isOk());
  CHECK(c.status().code() == StatusCode::kNotFound);
  CHECK(c.status().reason() == "credentials_not_found");
  CHECK(c.status().message().find("SHARDCAST_CRED_MISSING_ACCESS_KEY_ID") != std::string::npos);
  CHECK(c.status().message().find(dir.path() + "/missing") != std::string::npos);
  checkNoSecret(c.status());
}

TEST_CASE("half-set credentials and bad names are errors that name no secret") {
  FakeEnv env;
  env.vars = {{"SHARDCAST_CRED_X_SECRET_ACCESS_KEY", kSecret}};
  auto half = chain(env).resolve("x");
  REQUIRE_FALSE(half.isOk());
  CHECK(half.status().code() == StatusCode::kInvalidArgument);
  CHECK(half.status().message().find("SHARDCAST_CRED_X_ACCESS_KEY_ID") != std::string::npos);
  checkNoSecret(half.status());

  TempDir dir;
  dir.write("y/access_key_id", "AKID");
  auto half_files = chain(FakeEnv{}, dir.path()).resolve("y");
  REQUIRE_FALSE(half_files.isOk());
  CHECK(half_files.status().message().find("secret_access_key") != std::string::npos);

  for (const char* bad : {"../etc", "a/b", ".hidden", "with space", "x\n"}) {
    auto r = chain(FakeEnv{}).resolve(bad);
    REQUIRE_FALSE(r.isOk());
    CHECK_MESSAGE(r.status().code() == StatusCode::kInvalidArgument, bad);
  }
  CHECK_FALSE(AwsCredentialChain::validateName(std::string(65, 'a')).isOk());
  CHECK(AwsCredentialChain::validateName("prod.s3-creds_1").isOk());

  FakeEnv aws_half;
  aws_half.vars = {{"AWS_ACCESS_KEY_ID", "AKID"}};
  auto r = chain(aws_half).resolve("");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("the default chain: AWS_* environment variables first") {
  FakeEnv env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
              {"AWS_SECRET_ACCESS_KEY", kSecret},
              {"AWS_SESSION_TOKEN", "SESSIONTOKEN"},
              {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"}};
  auto c = chain(env).resolve("");
  REQUIRE(c.isOk());
  CHECK(c->access_key_id == "AKIDENV");
  CHECK(c->session_token == "SESSIONTOKEN");
  CHECK(c->source == "environment AWS_ACCESS_KEY_ID");
}

constexpr char kSharedFile[] = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULTPROFILE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

; another comment
[ prod ]
aws_access_key_id=AKIDPROD
aws_secret_access_key=prodsecret
aws_session_token = SESSIONTOKEN
[broken]
aws_access_key_id = AKIDBROKEN
)";

TEST_CASE("the default chain: the shared credentials file and AWS_PROFILE") {
  TempDir dir;
  dir.write("home/.aws/credentials", kSharedFile);
  FakeEnv env;
  env.vars = {{"HOME", dir.path() + "/home"}};
  auto def = chain(env).resolve("");
  REQUIRE_MESSAGE(def.isOk(), def.status().toString());
  CHECK(def->access_key_id == "AKIDDEFAULTPROFILE");
  CHECK(def->secret_access_key == kSecret);
  CHECK(def->source.find("profile 'default'") != std::string::npos);

  env.vars["AWS_PROFILE"] = "prod";
  auto prod = chain(env).resolve("");
  REQUIRE(prod.isOk());
  CHECK(prod->access_key_id == "AKIDPROD");
  CHECK(prod->session_token == "SESSIONTOKEN");

  env.vars["AWS_PROFILE"] = "nope";
  auto nope = chain(env).resolve("");
  REQUIRE_FALSE(nope.isOk());
  CHECK(nope.status().code() == StatusCode::kNotFound);
  CHECK(nope.status().message().find("'nope'") != std::string::npos);

  env.vars["AWS_PROFILE"] = "broken";
  auto broken = chain(env).resolve("");
  REQUIRE_FALSE(broken.isOk());
  CHECK(broken.status().message().find("aws_secret_access_key") != std::string::npos);
  checkNoSecret(broken.status());

  FakeEnv explicit_file;
  dir.write("elsewhere", "[default]\naws_access_key_id=AKIDX\naws_secret_access_key=s\n");
  explicit_file.vars = {{"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/elsewhere"},
                        {"HOME", dir.path() + "/home"}};
  auto other = chain(explicit_file).resolve("");
  REQUIRE(other.isOk());
  CHECK(other->access_key_id == "AKIDX");
}

TEST_CASE("nothing found: NotFound saying where it looked, and the IRSA seam") {
  TempDir dir;
  FakeEnv env;
  env.vars = {{"HOME", dir.path()},
              {"AWS_WEB_IDENTITY_TOKEN_FILE", dir.path() + "/token"},
              {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/shardcast"}};
  auto none = chain(env).resolve("");
  REQUIRE_FALSE(none.isOk());
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK(none.status().reason() == "credentials_not_found");
  CHECK(none.status().message().find(dir.path() + "/.aws/credentials") != std::string::npos);
  CHECK(none.status().message().find("no web identity (STS) exchange is configured") !=
        std::string::npos);

  int calls = 0;
  auto with_web = chain(env, "/nonexistent", [&](const WebIdentity& w) -> Result<AwsCredentials> {
    ++calls;
    CHECK(w.role_arn == "arn:aws:iam::123456789012:role/shardcast");
    CHECK(w.token_file == dir.path() + "/token");
    return AwsCredentials{"ASIAWEB", "websecret", "webtoken", ""};
  });
  auto web = with_web.resolve("");
  REQUIRE(web.isOk());
  CHECK(calls == 1);
  CHECK(web->access_key_id == "ASIAWEB");
  CHECK(web->source.find("web identity") != std::string::npos);
}

}  // namespace
}  // namespace shardcast
