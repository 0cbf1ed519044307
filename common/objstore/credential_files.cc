#include "common/objstore/credential_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace shardcast {
namespace {

constexpr size_t kMaxCredentialFileBytes = 1 << 20;
constexpr size_t kMaxNameBytes = 64;

}  // namespace

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string credentialsDir(const std::string& configured, const EnvLookup& env) {
  if (!configured.empty()) return configured;
  auto v = env ? env("SHARDCAST_CREDENTIALS_DIR") : std::nullopt;
  return v && !v->empty() ? *v : kDefaultCredentialsDir;
}

Status validateCredentialsName(const std::string& name) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("invalid credentials name '" + name.substr(0, kMaxNameBytes) +
                           "': " + why);
  };
  if (name.empty() || name.size() > kMaxNameBytes) return bad("must be 1 to 64 characters");
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    bool alnum = std::isalnum(c) != 0;
    if (!alnum && (i == 0 || (c != '.' && c != '-' && c != '_'))) {
      return bad("use letters, digits, '.', '-' and '_', starting with a letter or digit");
    }
  }
  return Status::ok();
}

std::string credentialsEnvPrefix(const std::string& name) {
  std::string out = "SHARDCAST_CRED_";
  for (char c : name) {
    out += (c == '-' || c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out + "_";
}

std::string trimWhitespace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<std::optional<std::string>> readCredentialFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return errnoStatus("cannot read " + path, errno);
  }
  std::string content;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = errnoStatus("cannot read " + path, errno);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxCredentialFileBytes) {
      ::close(fd);
      return invalidArgument(path + " is larger than 1 MiB");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(content));
}

}  // namespace shardcast
