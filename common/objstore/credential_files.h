// What every origin's credential lookup (AWS, Azure, GCS) shares: the injected
// environment, credential names (SHARDCAST_CRED_<NAME>_* variables and
// <credentials dir>/<name>/ files of a mounted Secret), and reading credential
// material from files.
//
// Stateless functions; thread-safe. Errors name the file, never its content.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace shardcast {

// Returns the value of an environment variable, nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// Reads the process environment (getenv).
EnvLookup processEnvironment();

// Where mounted credential Secrets live unless configured otherwise.
inline constexpr char kDefaultCredentialsDir[] = "/var/run/secrets/shardcast";

// The directory of mounted credential Secrets: `configured` when not empty, else
// $SHARDCAST_CREDENTIALS_DIR, else kDefaultCredentialsDir.
std::string credentialsDir(const std::string& configured, const EnvLookup& env);

// A credentials name: 1-64 of [A-Za-z0-9._-], starting with a letter or digit.
Status validateCredentialsName(const std::string& name);
// "SHARDCAST_CRED_PROD_S3_" for "prod-s3" (upper-cased, '-' and '.' become '_').
std::string credentialsEnvPrefix(const std::string& name);

// The content of a credential file (at most 1 MiB), nullopt when it does not
// exist (ENOENT/ENOTDIR). IOError for other read failures, InvalidArgument when
// it is larger than 1 MiB.
Result<std::optional<std::string>> readCredentialFile(const std::string& path);

// `s` without leading and trailing spaces, tabs, CR and LF.
std::string trimWhitespace(const std::string& s);

}  // namespace shardcast
