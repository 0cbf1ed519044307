// Authenticator: the one authentication point of the controller API (DESIGN §5).
// The router asks it about every request to a route that is not public; it
// answers who is calling (a Principal with a role) or Unauthenticated.
//
// Roles (admin, deployer, viewer, agent) and per-route authorization come later;
// for now every authenticated caller is "admin". Implementations are immutable
// after construction and thread-safe. They never log tokens.
#pragma once

#include <string>

#include "common/status.h"
#include "controller/api_types.h"

namespace shardcast::controller {

struct Principal {
  std::string name;  // who, for logs ("anonymous", "token")
  std::string role;  // "admin" | "deployer" | "viewer" | "agent"
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Principal> authenticate(const ApiRequest& request) const = 0;
};

// No authentication configured: everyone is an anonymous admin.
class AllowAllAuthenticator final : public Authenticator {
 public:
  Result<Principal> authenticate(const ApiRequest& request) const override;
};

// One shared bearer token: requests need "Authorization: Bearer <token>".
class StaticTokenAuthenticator final : public Authenticator {
 public:
  explicit StaticTokenAuthenticator(std::string token) : token_(std::move(token)) {}
  Result<Principal> authenticate(const ApiRequest& request) const override;

 private:
  std::string token_;
};

// Reads a token file (surrounding whitespace ignored). InvalidArgument when it is
// empty or holds whitespace or control characters inside the token.
Result<std::string> readTokenFile(const std::string& path);

}  // namespace shardcast::controller
