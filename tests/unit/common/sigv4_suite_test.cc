// The SigV4 signer against the published AWS Signature V4 test suite (aws-c-auth's
// tests/aws-signing-test-suite/v4, read in place from
// ../shared/testdata/aws-sigv4-test-suite beside the checkout, or from
// $SHARDCAST_SIGV4_SUITE_DIR). For every vector the canonical request, the string
// to sign, the signature and the Authorization header are checked separately, for
// header signing and for query (presigned URL) signing. Without the suite the test
// prints "SKIPPED: ..." and ctest reports it as skipped.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/objstore/sigv4.h"
#include "common/sha256.h"

namespace shardcast {
namespace {

namespace fs = std::filesystem;

std::string suiteDir() {
  if (const char* env = std::getenv("SHARDCAST_SIGV4_SUITE_DIR"); env && *env) return env;
  return std::string(SHARDCAST_SOURCE_DIR) + "/../shared/testdata/aws-sigv4-test-suite";
}

std::string readFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string withoutTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// One vector: the parsed request.txt and context.json.
struct Vector {
  SigV4Request request;
  AwsCredentials credentials;
  SigV4Options options;
  bool sign_body = false;
  int64_t time = 0;
};

int64_t parseTimestamp(const std::string& iso) {  // "2015-08-30T12:36:00Z"
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  REQUIRE_MESSAGE(!in.fail(), "bad timestamp " << iso);
  return static_cast<int64_t>(timegm(&tm));
}

// request.txt: "METHOD target HTTP/1.1", headers (continuation lines folded into
// one space), a blank line, the body. The target may hold spaces and raw UTF-8.
void parseRequest(const std::string& text, Vector& v) {
  size_t head_end = text.find("\n\n");
  std::string head = text.substr(0, head_end);
  std::string body = head_end == std::string::npos ? "" : text.substr(head_end + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  size_t sp = line.find(' ');
  size_t proto = line.rfind(" HTTP/");
  REQUIRE(sp != std::string::npos);
  REQUIRE(proto != std::string::npos);
  v.request.method = line.substr(0, sp);
  std::string target = line.substr(sp + 1, proto - sp - 1);
  size_t q = target.find('?');
  v.request.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::istringstream params(target.substr(q + 1));
    std::string pair;
    while (std::getline(params, pair, '&')) {
      size_t eq = pair.find('=');
      auto k = urlDecode(pair.substr(0, eq));
      auto val = urlDecode(eq == std::string::npos ? "" : pair.substr(eq + 1));
      REQUIRE(k.isOk());
      REQUIRE(val.isOk());
      v.request.query.emplace(*k, *val);
    }
  }
  std::vector<std::pair<std::string, std::string>> headers;
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      REQUIRE(!headers.empty());
      headers.back().second += " " + line;
      continue;
    }
    size_t colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  for (auto& [name, value] : headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "host") {
      v.request.host = value;
    } else {
      v.request.headers.emplace_back(name, value);
    }
  }
  v.request.payload_hash = sha256Hex(body);
}

Vector loadVector(const fs::path& dir) {
  Vector v;
  parseRequest(readFile(dir / "request.txt"), v);
  auto ctx = nlohmann::json::parse(readFile(dir / "context.json"));
  v.credentials.access_key_id = ctx["credentials"]["access_key_id"];
  v.credentials.secret_access_key = ctx["credentials"]["secret_access_key"];
  v.credentials.session_token = ctx["credentials"].value("token", "");
  v.options.region = ctx["region"];
  v.options.service = ctx["service"];
  v.options.normalize_path = ctx.value("normalize", true);
  v.sign_body = ctx.value("sign_body", false);
  v.options.sign_session_token = !ctx.value("omit_session_token", false);
  v.options.expires_seconds = ctx.value("expiration_in_seconds", 3600);
  v.time = parseTimestamp(ctx["timestamp"]);
  return v;
}

// The "Authorization:" line of header-signed-request.txt.
std::string expectedAuthorization(const fs::path& dir) {
  std::istringstream in(readFile(dir / "header-signed-request.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Authorization:", 0) == 0) return line.substr(strlen("Authorization:"));
  }
  return "";
}

// Query parameters as a set of "k=v", each name and value decoded and encoded again
// the RFC 3986 way (the suite's signed requests keep the caller's raw UTF-8).
std::set<std::string> splitQuery(const std::string& query) {
  std::set<std::string> out;
  std::istringstream params(query);
  std::string pair;
  while (std::getline(params, pair, '&')) {
    size_t eq = pair.find('=');
    auto k = urlDecode(pair.substr(0, eq));
    auto v = urlDecode(eq == std::string::npos ? "" : pair.substr(eq + 1));
    REQUIRE(k.isOk());
    REQUIRE(v.isOk());
    out.insert(awsUriEncode(*k, true) + "=" + awsUriEncode(*v, true));
  }
  return out;
}

// The query parameters of query-signed-request.txt.
std::set<std::string> expectedPresignedQuery(const fs::path& dir) {
  std::string first = readFile(dir / "query-signed-request.txt");
  first = first.substr(0, first.find('\n'));
  size_t q = first.find('?');
  size_t proto = first.rfind(" HTTP/");
  if (q == std::string::npos || proto < q) return {};
  return splitQuery(first.substr(q + 1, proto - q - 1));
}

struct Tally {
  int vectors = 0, header_pass = 0, query_pass = 0;
};

// Header signing: four separate checks. Returns true when all pass.
bool checkHeaderSigning(const std::string& name, const fs::path& dir, Vector v) {
  v.options.placement = SigV4Placement::kHeader;
  v.options.content_sha256_header = v.sign_body;
  SigV4Signature s = signSigV4(v.request, v.credentials, v.options, v.time);
  std::string creq = withoutTrailingNewlines(readFile(dir / "header-canonical-request.txt"));
  std::string sts = withoutTrailingNewlines(readFile(dir / "header-string-to-sign.txt"));
  std::string sig = withoutTrailingNewlines(readFile(dir / "header-signature.txt"));
  std::string authz = expectedAuthorization(dir);
  CHECK_MESSAGE(s.canonical_request == creq, name << ": header canonical request");
  CHECK_MESSAGE(s.string_to_sign == sts, name << ": header string to sign");
  CHECK_MESSAGE(s.signature == sig, name << ": header signature");
  CHECK_MESSAGE(s.authorization == authz, name << ": Authorization header");
  return s.canonical_request == creq && s.string_to_sign == sts && s.signature == sig &&
         s.authorization == authz;
}

// Query signing (presigned URL): the same checks plus the full query string.
bool checkQuerySigning(const std::string& name, const fs::path& dir, Vector v) {
  v.options.placement = SigV4Placement::kQuery;
  SigV4Signature s = signSigV4(v.request, v.credentials, v.options, v.time);
  std::string creq = withoutTrailingNewlines(readFile(dir / "query-canonical-request.txt"));
  std::string sts = withoutTrailingNewlines(readFile(dir / "query-string-to-sign.txt"));
  std::string sig = withoutTrailingNewlines(readFile(dir / "query-signature.txt"));
  std::set<std::string> query = expectedPresignedQuery(dir);
  CHECK_MESSAGE(s.canonical_request == creq, name << ": query canonical request");
  CHECK_MESSAGE(s.string_to_sign == sts, name << ": query string to sign");
  CHECK_MESSAGE(s.signature == sig, name << ": query signature");
  CHECK_MESSAGE(splitQuery(s.query_string) == query, name << ": presigned query string");
  return s.canonical_request == creq && s.string_to_sign == sts && s.signature == sig &&
         splitQuery(s.query_string) == query;
}

TEST_CASE("SigV4 signer matches every vector of the AWS SigV4 test suite") {
  const fs::path dir = suiteDir();
  if (!fs::is_directory(dir)) {
    std::cout << "SKIPPED: AWS SigV4 test suite not found at " << dir.string()
              << " (set SHARDCAST_SIGV4_SUITE_DIR)" << std::endl;
    return;
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && fs::exists(e.path() / "request.txt")) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE_MESSAGE(cases.size() >= 30, "expected the full suite in " << dir.string());

  Tally t;
  for (const fs::path& c : cases) {
    std::string name = c.filename().string();
    Vector v = loadVector(c);
    ++t.vectors;
    if (checkHeaderSigning(name, c, v)) ++t.header_pass;
    if (checkQuerySigning(name, c, v)) ++t.query_pass;
  }
  std::cout << "SigV4 suite: " << t.vectors << " vectors; header signing " << t.header_pass
            << " pass; query signing " << t.query_pass << " pass; 0 skipped" << std::endl;
  CHECK(t.header_pass == t.vectors);
  CHECK(t.query_pass == t.vectors);
}

TEST_CASE("the suite's named must-pass vectors are present") {
  const fs::path dir = suiteDir();
  if (!fs::is_directory(dir)) return;  // reported by the test case above
  for (const char* name :
       {"get-vanilla", "get-vanilla-query", "get-vanilla-with-session-token", "get-space-normalized",
        "get-space-unnormalized", "get-slash-normalized", "get-slash-unnormalized", "get-utf8",
        "get-unreserved", "post-vanilla", "post-x-www-form-urlencoded", "get-header-value-trim",
        "get-header-key-duplicate"}) {
    CHECK_MESSAGE(fs::exists(dir / name / "request.txt"), name);
  }
}

}  // namespace
}  // namespace shardcast
