// STS AssumeRoleWithWebIdentity, the pure half: endpoint choice, the form body,
// the documented success answer, error answers (role and code named, token never),
// Expiration parsing; and the signer adding the session token it returns.
#include <doctest/doctest.h>

#include <map>

#include "common/objstore/sigv4.h"
#include "common/objstore/sts_response.h"

namespace shardcast {
namespace {

constexpr char kRole[] = "arn:aws:iam::123456789012:role/FederatedWebIdentityRole";

// The example answer of the STS API reference (AssumeRoleWithWebIdentity).
constexpr char kDocumented[] = R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>
    <Audience>client.5498841531868486423.1548@apps.example.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2014-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <SourceIdentity>SourceIdentityValue</SourceIdentity>
    <Provider>www.amazon.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_CASE("the documented AssumeRoleWithWebIdentity answer gives temporary credentials") {
  auto c = parseAssumeRoleWithWebIdentityResponse(kDocumented, kRole);
  REQUIRE_MESSAGE(c.isOk(), c.status().toString());
  CHECK(c->credentials.access_key_id == "ASgeIAIOSFODNN7EXAMPLE");
  CHECK(c->credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  CHECK(c->credentials.session_token == "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
  CHECK(c->expiration_wall_ms == int64_t{1414191623} * 1000);  // 2014-10-24T23:00:23Z
  CHECK(c->credentials.source == std::string("web identity ") + kRole);
}

TEST_CASE("answers without credentials are errors naming the element, not a value") {
  std::string doc = kDocumented;
  auto without = [&](const std::string& elem) {
    std::string d = doc;
    size_t b = d.find("<" + elem + ">"), e = d.find("</" + elem + ">");
    REQUIRE(b != std::string::npos);
    d.erase(b, e + elem.size() + 3 - b);
    return parseAssumeRoleWithWebIdentityResponse(d, kRole);
  };
  for (const char* elem : {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}) {
    auto r = without(elem);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find(elem) != std::string::npos);
    CHECK(r.status().message().find("wJalrXUtnFEMI") == std::string::npos);
    CHECK(r.status().message().find("AQoDYXdzEE0a8") == std::string::npos);
  }
  CHECK_FALSE(parseAssumeRoleWithWebIdentityResponse("<html>nope</html>", kRole).isOk());
  std::string bad_time = doc;
  bad_time.replace(bad_time.find("2014-10-24T23:00:23Z"), 20, "yesterday at noon   ");
  CHECK_FALSE(parseAssumeRoleWithWebIdentityResponse(bad_time, kRole).isOk());
}

TEST_CASE("Expiration times: whole and fractional seconds, Z required") {
  CHECK(*parseIso8601UtcMs("1970-01-01T00:00:00Z") == 0);
  CHECK(*parseIso8601UtcMs("2014-10-24T23:00:23Z") == int64_t{1414191623000});
  CHECK(*parseIso8601UtcMs("2014-10-24T23:00:23.5Z") == int64_t{1414191623500});
  CHECK(*parseIso8601UtcMs("2014-10-24T23:00:23.123456Z") == int64_t{1414191623123});
  CHECK_FALSE(parseIso8601UtcMs("2014-10-24T23:00:23").isOk());
  CHECK_FALSE(parseIso8601UtcMs("2014-10-24T23:00:23+01:00").isOk());
  CHECK_FALSE(parseIso8601UtcMs("2014-13-24T23:00:23Z").isOk());
  CHECK_FALSE(parseIso8601UtcMs("2014-10-24T23:00:23.Z").isOk());
  CHECK_FALSE(parseIso8601UtcMs("").isOk());
}

TEST_CASE("STS errors: PermissionDenied naming the role and the STS code; 5xx retryable") {
  const std::string denied = R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
    <Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>)";
  Status st = stsErrorStatus(403, denied, kRole);
  CHECK(st.code() == StatusCode::kPermissionDenied);
  CHECK(st.reason() == "sts_denied");
  CHECK(st.message().find(kRole) != std::string::npos);
  CHECK(st.message().find("HTTP 403: AccessDenied: Not authorized") != std::string::npos);

  Status invalid = stsErrorStatus(
      400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code></Error></ErrorResponse>", kRole);
  CHECK(invalid.code() == StatusCode::kPermissionDenied);
  CHECK(invalid.message().find("InvalidIdentityToken") != std::string::npos);

  Status idp = stsErrorStatus(
      400, "<ErrorResponse><Error><Code>IDPCommunicationError</Code></Error></ErrorResponse>", kRole);
  CHECK(idp.code() == StatusCode::kUnavailable);
  Status server = stsErrorStatus(503, "Service Unavailable", kRole);
  CHECK(server.code() == StatusCode::kUnavailable);
  CHECK(server.reason() == "origin_error");
  CHECK(server.message().find("HTTP 503") != std::string::npos);
}

TEST_CASE("the endpoint: AWS_ENDPOINT_URL_STS, else regional, else global") {
  CHECK(stsEndpoint(envOf({{"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/"},
                           {"AWS_REGION", "eu-west-1"}})) == "http://127.0.0.1:9");
  CHECK(stsEndpoint(envOf({{"AWS_REGION", "eu-west-1"}})) == "https://sts.eu-west-1.amazonaws.com");
  CHECK(stsEndpoint(envOf({{"AWS_DEFAULT_REGION", "us-west-2"}})) ==
        "https://sts.us-west-2.amazonaws.com");
  CHECK(stsEndpoint(envOf({{"AWS_REGION", ""}})) == "https://sts.amazonaws.com");
  CHECK(stsEndpoint(envOf({})) == "https://sts.amazonaws.com");
}

TEST_CASE("the request body is form-encoded with every parameter") {
  std::string body = assumeRoleWithWebIdentityBody(kRole, "shardcast-ab12", "eyJ.a+b/c=");
  CHECK(body ==
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FFederatedWebIdentityRole"
        "&RoleSessionName=shardcast-ab12&WebIdentityToken=eyJ.a%2Bb%2Fc%3D");
  CHECK(validateRoleSessionName("shardcast-0123abcd").isOk());
  CHECK(validateRoleSessionName("a@b.c,d=e+f_g").isOk());
  CHECK_FALSE(validateRoleSessionName("x").isOk());
  CHECK_FALSE(validateRoleSessionName("has space").isOk());
  CHECK_FALSE(validateRoleSessionName(std::string(65, 'a')).isOk());
}

TEST_CASE("the signer sends and signs the session token STS returned") {
  auto c = parseAssumeRoleWithWebIdentityResponse(kDocumented, kRole);
  REQUIRE(c.isOk());
  SigV4Request req;
  req.host = "models.s3.us-west-2.amazonaws.com";
  req.path = "/";
  req.query = {{"list-type", "2"}};
  auto sig = signSigV4(req, c->credentials, SigV4Options{}, 1414188000);
  std::string token_header;
  for (const auto& [name, value] : sig.headers_to_add) {
    if (name == "X-Amz-Security-Token" || name == "x-amz-security-token") token_header = value;
  }
  CHECK(token_header == "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
  CHECK(sig.signed_headers.find("x-amz-security-token") != std::string::npos);
  CHECK(sig.authorization.find("Credential=ASgeIAIOSFODNN7EXAMPLE/") != std::string::npos);
  // The same request without the token signs differently.
  AwsCredentials long_lived = c->credentials;
  long_lived.session_token.clear();
  CHECK(signSigV4(req, long_lived, SigV4Options{}, 1414188000).signature != sig.signature);
}

}  // namespace
}  // namespace shardcast
