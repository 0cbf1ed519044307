#include "controller/router.h"

#include <doctest/doctest.h>

#include <stdexcept>

#include "tests/unit/common/temp_dir.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

ApiRequest request(const std::string& method, const std::string& path, std::string body = "") {
  ApiRequest r;
  r.method = method;
  r.path = path;
  r.body = std::move(body);
  return r;
}

// Routes one request and returns the single answer.
ApiResponse route(const Router& router, const ApiRequest& req) {
  int calls = 0;
  ApiResponse out;
  router.handle(req, [&](ApiResponse r) {
    ++calls;
    out = std::move(r);
  });
  REQUIRE(calls == 1);
  return out;
}

json errorOf(const ApiResponse& r) {
  json j = json::parse(r.body);
  REQUIRE(j.contains("error"));
  REQUIRE(j["error"]["code"].is_string());
  REQUIRE(j["error"]["message"].is_string());
  return j["error"];
}

struct Fixture {
  explicit Fixture(const Authenticator& auth) : router(auth) {
    router.add("GET", "/healthz", [](const RequestContext&, Responder r) {
      r(jsonResponse(200, json{{"ok", true}}));
    }, true);
    router.add("GET", "/v1/rollouts/{id}", [](const RequestContext& ctx, Responder r) {
      r(jsonResponse(200, json{{"id", ctx.param("id")}, {"role", ctx.principal.role}}));
    });
    router.add("POST", "/v1/rollouts/{id}:cancel", [](const RequestContext& ctx, Responder r) {
      r(jsonResponse(200, json{{"cancelled", ctx.param("id")}}));
    });
    router.add("GET", "/v1/manifests/{model}/{version}", [](const RequestContext& ctx, Responder r) {
      r(jsonResponse(200, json{{"model", ctx.param("model")}, {"version", ctx.param("version")}}));
    });
    router.add("POST", "/v1/boom", [](const RequestContext&, Responder) {
      throw std::runtime_error("kaboom");
    });
  }
  Router router;
};

}  // namespace

TEST_CASE("routes by method and pattern, with decoded parameters") {
  AllowAllAuthenticator auth;
  Fixture f(auth);
  auto r = route(f.router, request("GET", "/v1/rollouts/ro-abc"));
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["id"] == "ro-abc");
  CHECK(json::parse(r.body)["role"] == "admin");

  r = route(f.router, request("POST", "/v1/rollouts/ro-abc:cancel"));
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["cancelled"] == "ro-abc");

  r = route(f.router, request("GET", "/v1/manifests/llama%2D3/2024-07-01"));
  CHECK(json::parse(r.body)["model"] == "llama-3");
  CHECK(json::parse(r.body)["version"] == "2024-07-01");
}

TEST_CASE("unknown path is a 404 JSON error; known path with another method a 405") {
  AllowAllAuthenticator auth;
  Fixture f(auth);
  auto r = route(f.router, request("GET", "/v1/nothing"));
  CHECK(r.status == 404);
  CHECK(r.content_type == "application/json");
  CHECK(errorOf(r)["code"] == "not_found");

  r = route(f.router, request("DELETE", "/v1/rollouts/ro-abc"));
  CHECK(r.status == 405);
  CHECK(errorOf(r)["code"] == "method_not_allowed");

  // "x:cancel" is not an id: GET on it is the cancel route with the wrong method.
  r = route(f.router, request("GET", "/v1/rollouts/ro-abc:cancel"));
  CHECK(r.status == 405);
  r = route(f.router, request("POST", "/v1/rollouts/ro-abc:explode"));
  CHECK(r.status == 404);
  r = route(f.router, request("GET", "/v1/rollouts/"));
  CHECK(r.status == 404);
  r = route(f.router, request("GET", "/v1/rollouts/a/b"));
  CHECK(r.status == 404);
}

TEST_CASE("a malformed escape is a 400 JSON error") {
  AllowAllAuthenticator auth;
  Fixture f(auth);
  auto r = route(f.router, request("GET", "/v1/rollouts/ro%zz"));
  CHECK(r.status == 400);
  CHECK(errorOf(r)["code"] == "invalid_argument");
}

TEST_CASE("bodies above the limit are refused with 413 before routing") {
  AllowAllAuthenticator auth;
  Fixture f(auth);
  auto r = route(f.router, request("POST", "/v1/rollouts/x:cancel", std::string(kMaxRequestBodyBytes + 1, 'x')));
  CHECK(r.status == 413);
  CHECK(errorOf(r)["code"] == "body_too_large");
  r = route(f.router, request("POST", "/v1/rollouts/x:cancel", std::string(kMaxRequestBodyBytes, 'x')));
  CHECK(r.status == 200);
}

TEST_CASE("a throwing handler becomes a 500 JSON error") {
  AllowAllAuthenticator auth;
  Fixture f(auth);
  auto r = route(f.router, request("POST", "/v1/boom"));
  CHECK(r.status == 500);
  CHECK(errorOf(r)["code"] == "internal");
}

TEST_CASE("bearer token: every route but the public one needs it") {
  StaticTokenAuthenticator auth("s3cret-token");
  Fixture f(auth);
  CHECK(route(f.router, request("GET", "/healthz")).status == 200);

  auto r = route(f.router, request("GET", "/v1/rollouts/x"));
  CHECK(r.status == 401);
  CHECK(errorOf(r)["code"] == "unauthenticated");
  CHECK(r.body.find("s3cret") == std::string::npos);

  auto req = request("GET", "/v1/rollouts/x");
  req.headers["authorization"] = "Bearer wrong-token!";
  CHECK(route(f.router, req).status == 401);
  req.headers["authorization"] = "Basic s3cret-token";
  CHECK(route(f.router, req).status == 401);
  req.headers["authorization"] = "Bearer s3cret-token";
  r = route(f.router, req);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["role"] == "admin");
}

TEST_CASE("readTokenFile trims whitespace and rejects empty or spaced tokens") {
  shardcast::testing::TempDir dir;
  auto good = readTokenFile(dir.write("t1", "  abc.DEF-123\n"));
  REQUIRE(good.isOk());
  CHECK(*good == "abc.DEF-123");
  CHECK(!readTokenFile(dir.write("t2", "\n\n")).isOk());
  CHECK(!readTokenFile(dir.write("t3", "two words")).isOk());
  CHECK(readTokenFile(dir.path() + "/missing").status().code() == StatusCode::kNotFound);
}

TEST_CASE("query parsing and percent-decoding") {
  auto q = parseQuery("node=e%2D1&hash_cursor=12&flag&x=a+b&node=last");
  REQUIRE(q.isOk());
  CHECK(q->at("node") == "last");
  CHECK(q->at("hash_cursor") == "12");
  CHECK(q->at("flag") == "");
  CHECK(q->at("x") == "a b");
  CHECK(parseQuery("").isOk());
  CHECK(!parseQuery("a=%4").isOk());
  CHECK(!parseQuery("a=%g0").isOk());
  CHECK(*percentDecode("a%20b+c") == "a b+c");
}

TEST_CASE("source problems are 422, other statuses follow the API mapping") {
  CHECK(httpStatusOf(unavailable("x", "source_unreachable")) == 422);
  CHECK(httpStatusOf(invalidArgument("x", "sources_differ")) == 422);
  CHECK(httpStatusOf(invalidArgument("x", "empty_source")) == 422);
  CHECK(httpStatusOf(invalidArgument("x")) == 400);
  CHECK(httpStatusOf(failedPrecondition("x", "version_immutable")) == 409);
  CHECK(httpStatusOf(unavailable("x")) == 503);
  auto r = errorResponse(unavailable("cannot reach it", "source_unreachable"));
  CHECK(r.status == 422);
  CHECK(json::parse(r.body)["error"]["code"] == "source_unreachable");
  CHECK(json::parse(r.body)["error"]["message"] == "cannot reach it");
}

}  // namespace shardcast::controller
