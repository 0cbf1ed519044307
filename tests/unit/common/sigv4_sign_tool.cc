// sigv4_sign_tool: signs requests with shardcast's SigV4 signer for the botocore
// cross-check (sigv4_botocore_diff.py). Reads one JSON object per stdin line:
//   {"method", "host", "path" (decoded), "query": [[k, v], ...], "headers": [[n, v], ...],
//    "payload_hash", "access_key", "secret_key", "token", "region", "service", "time"}
// and prints one JSON line per request:
//   {"canonical_request", "string_to_sign", "signature", "authorization"}.
// Test tooling only: it is fed the made-up keys the script generates, never real ones.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/objstore/sigv4.h"

namespace {

using nlohmann::json;
using namespace shardcast;

json signOne(const json& in) {
  SigV4Request req;
  req.method = in.at("method").get<std::string>();
  req.host = in.at("host").get<std::string>();
  req.path = in.at("path").get<std::string>();
  for (const auto& kv : in.at("query")) req.query.emplace(kv.at(0), kv.at(1));
  for (const auto& h : in.at("headers")) req.headers.emplace_back(h.at(0), h.at(1));
  req.payload_hash = in.at("payload_hash").get<std::string>();
  AwsCredentials creds;
  creds.access_key_id = in.at("access_key").get<std::string>();
  creds.secret_access_key = in.at("secret_key").get<std::string>();
  creds.session_token = in.value("token", "");
  SigV4Options opts;
  opts.region = in.at("region").get<std::string>();
  opts.service = in.value("service", "s3");
  SigV4Signature s = signSigV4(req, creds, opts, in.at("time").get<int64_t>());
  return {{"canonical_request", s.canonical_request},
          {"string_to_sign", s.string_to_sign},
          {"signature", s.signature},
          {"authorization", s.authorization}};
}

}  // namespace

int main() {
  std::string line;
  int n = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    ++n;
    try {
      std::cout << signOne(json::parse(line)).dump() << "\n";
    } catch (const std::exception& e) {
      std::cerr << "sigv4_sign_tool: request " << n << ": " << e.what() << "\n";
      return 2;
    }
  }
  std::cout.flush();
  return 0;
}
