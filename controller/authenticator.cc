#include "controller/authenticator.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace shardcast::controller {
namespace {

// Compares in time that depends only on the lengths, not on where bytes differ.
bool constantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& other = a.size() == b.size() ? b : a;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ other[i]);
  return diff == 0;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Result<Principal> AllowAllAuthenticator::authenticate(const ApiRequest&) const {
  return Principal{"anonymous", "admin"};
}

Result<Principal> StaticTokenAuthenticator::authenticate(const ApiRequest& request) const {
  std::string auth = request.header("authorization");
  static const std::string kBearer = "Bearer ";
  if (auth.empty()) return unauthenticated("missing 'Authorization: Bearer <token>' header");
  if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
    return unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  if (!constantTimeEquals(auth.substr(kBearer.size()), token_)) {
    return unauthenticated("invalid bearer token");
  }
  return Principal{"token", "admin"};
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errnoStatus("cannot read token file " + path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  size_t begin = 0, end = text.size();
  while (begin < end && isSpace(text[begin])) ++begin;
  while (end > begin && isSpace(text[end - 1])) --end;
  std::string token = text.substr(begin, end - begin);
  if (token.empty()) return invalidArgument("token file " + path + " is empty");
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return invalidArgument("token file " + path + " holds whitespace or control characters");
    }
  }
  return token;
}

}  // namespace shardcast::controller
