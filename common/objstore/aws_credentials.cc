#include "common/objstore/aws_credentials.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "common/objstore/credential_files.h"

namespace shardcast {
namespace {

// "[ name ]" -> "name"; "" when the line is not a section header.
std::string sectionName(const std::string& line) {
  if (line.size() < 2 || line.front() != '[' || line.back() != ']') return "";
  return trimWhitespace(line.substr(1, line.size() - 2));
}

}  // namespace

Result<std::optional<AwsCredentials>> parseAwsSharedCredentials(const std::string& content,
                                                                const std::string& profile,
                                                                const std::string& file) {
  std::istringstream in(content);
  std::string line;
  bool in_profile = false, seen = false;
  AwsCredentials c;
  while (std::getline(in, line)) {
    line = trimWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      in_profile = sectionName(line) == profile;
      seen = seen || in_profile;
      continue;
    }
    size_t eq = line.find('=');
    if (!in_profile || eq == std::string::npos) continue;
    std::string key = trimWhitespace(line.substr(0, eq)), value = trimWhitespace(line.substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  if (!seen) return std::optional<AwsCredentials>();
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return invalidArgument("profile '" + profile + "' in " + file +
                           " lacks aws_access_key_id or aws_secret_access_key");
  }
  c.source = "shared credentials file " + file + ", profile '" + profile + "'";
  return std::optional<AwsCredentials>(std::move(c));
}

AwsCredentialChain::AwsCredentialChain(AwsCredentialsConfig config) : config_(std::move(config)) {
  if (!config_.env) config_.env = [](const std::string&) { return std::optional<std::string>(); };
}

Status AwsCredentialChain::validateName(const std::string& name) {
  return validateCredentialsName(name);
}

std::string AwsCredentialChain::envPrefix(const std::string& name) {
  return credentialsEnvPrefix(name);
}

std::optional<std::string> AwsCredentialChain::env(const std::string& var) const {
  auto v = config_.env(var);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string AwsCredentialChain::secretDir() const {
  return credentialsDir(config_.secret_dir, config_.env);
}

AwsCredentialChain::Found AwsCredentialChain::fromNamedEnv(const std::string& name) const {
  std::string prefix = envPrefix(name);
  auto id = env(prefix + "ACCESS_KEY_ID");
  auto secret = env(prefix + "SECRET_ACCESS_KEY");
  if (!id && !secret) return std::optional<AwsCredentials>();
  if (!id || !secret) {
    return invalidArgument("credentials '" + name + "': only one of " + prefix +
                           "ACCESS_KEY_ID and " + prefix + "SECRET_ACCESS_KEY is set");
  }
  AwsCredentials c{*id, *secret, env(prefix + "SESSION_TOKEN").value_or(""),
                   "credentials '" + name + "' (environment " + prefix + "*)"};
  return std::optional<AwsCredentials>(std::move(c));
}

AwsCredentialChain::Found AwsCredentialChain::fromSecretDir(const std::string& name) const {
  std::string dir = secretDir() + "/" + name;
  ASSIGN_OR_RETURN(auto id, readCredentialFile(dir + "/access_key_id"));
  ASSIGN_OR_RETURN(auto secret, readCredentialFile(dir + "/secret_access_key"));
  if (!id && !secret) return std::optional<AwsCredentials>();
  if (!id || !secret || trimWhitespace(*id).empty() || trimWhitespace(*secret).empty()) {
    return invalidArgument("credentials '" + name + "': " + dir +
                           " needs non-empty files access_key_id and secret_access_key");
  }
  ASSIGN_OR_RETURN(auto token, readCredentialFile(dir + "/session_token"));
  AwsCredentials c{trimWhitespace(*id), trimWhitespace(*secret), token ? trimWhitespace(*token) : "",
                   "credentials '" + name + "' (files in " + dir + ")"};
  return std::optional<AwsCredentials>(std::move(c));
}

AwsCredentialChain::Found AwsCredentialChain::fromAwsEnv() const {
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) return std::optional<AwsCredentials>();
  if (!id || !secret) {
    return invalidArgument(
        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in the environment");
  }
  AwsCredentials c{*id, *secret, env("AWS_SESSION_TOKEN").value_or(""),
                   "environment AWS_ACCESS_KEY_ID"};
  return std::optional<AwsCredentials>(std::move(c));
}

AwsCredentialChain::Found AwsCredentialChain::fromWebIdentity() const {
  auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role = env("AWS_ROLE_ARN");
  if (!token_file || !role || !config_.web_identity) return std::optional<AwsCredentials>();
  ASSIGN_OR_RETURN(AwsCredentials c, config_.web_identity(WebIdentity{
                                         *token_file, *role,
                                         env("AWS_ROLE_SESSION_NAME").value_or("")}));
  if (c.source.empty()) c.source = "web identity " + *role;
  return std::optional<AwsCredentials>(std::move(c));
}

AwsCredentialChain::Found AwsCredentialChain::fromSharedFile(std::string& looked_at) const {
  std::string file;
  if (auto f = env("AWS_SHARED_CREDENTIALS_FILE")) {
    file = *f;
  } else if (auto home = env("HOME")) {
    file = *home + "/.aws/credentials";
  } else {
    looked_at = "no shared credentials file (HOME is not set)";
    return std::optional<AwsCredentials>();
  }
  auto profile_env = env("AWS_PROFILE");
  std::string profile = profile_env.value_or("default");
  looked_at = "no profile '" + profile + "' in " + file;
  ASSIGN_OR_RETURN(auto content, readCredentialFile(file));
  if (!content) {
    looked_at = "no file " + file;
    if (profile_env) {
      return notFound("AWS_PROFILE is '" + profile + "' but " + file + " does not exist",
                      "credentials_not_found");
    }
    return std::optional<AwsCredentials>();
  }
  ASSIGN_OR_RETURN(auto found, parseAwsSharedCredentials(*content, profile, file));
  if (!found && profile_env) {
    return notFound("AWS_PROFILE is '" + profile + "' but " + file + " has no such profile",
                    "credentials_not_found");
  }
  return found;
}

Result<AwsCredentials> AwsCredentialChain::resolve(const std::string& name) const {
  if (!name.empty()) {
    RETURN_IF_ERROR(validateName(name));
    ASSIGN_OR_RETURN(auto from_env, fromNamedEnv(name));
    if (from_env) return std::move(*from_env);
    ASSIGN_OR_RETURN(auto from_dir, fromSecretDir(name));
    if (from_dir) return std::move(*from_dir);
    std::string prefix = envPrefix(name);
    return notFound("credentials '" + name + "' not found: set " + prefix + "ACCESS_KEY_ID and " +
                        prefix + "SECRET_ACCESS_KEY, or mount files access_key_id and "
                        "secret_access_key in " + secretDir() + "/" + name,
                    "credentials_not_found");
  }
  ASSIGN_OR_RETURN(auto from_env, fromAwsEnv());
  if (from_env) return std::move(*from_env);
  ASSIGN_OR_RETURN(auto from_web, fromWebIdentity());
  if (from_web) return std::move(*from_web);
  std::string looked_at;
  ASSIGN_OR_RETURN(auto from_file, fromSharedFile(looked_at));
  if (from_file) return std::move(*from_file);
  std::string msg = "no AWS credentials: AWS_ACCESS_KEY_ID is not set and " + looked_at;
  if (env("AWS_WEB_IDENTITY_TOKEN_FILE") && !config_.web_identity) {
    msg += "; AWS_WEB_IDENTITY_TOKEN_FILE is set, but no web identity (STS) exchange is configured";
  }
  return notFound(msg + "; or name credentials in the source", "credentials_not_found");
}

}  // namespace shardcast
