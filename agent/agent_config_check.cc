// checkDeployment (declared in agent_config.h): the part of --check-config that
// looks at the file system. It only stats, opens for reading and asks access(2);
// it never creates, writes or connects, so a chart test can run it anywhere.
#include <grp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/agent_config.h"

namespace shardcast::agent {
namespace {

namespace fs = std::filesystem;

std::string uidText() { return "uid " + std::to_string(::geteuid()); }

bool isDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool writableDir(const std::string& p) { return isDir(p) && ::access(p.c_str(), W_OK | X_OK) == 0; }

// The closest ancestor of `p` that exists ("/" at worst).
std::string nearestExisting(const fs::path& p) {
  fs::path cur = p.parent_path();
  while (!cur.empty() && cur != cur.root_path()) {
    struct stat st;
    if (::stat(cur.c_str(), &st) == 0) return cur.string();
    cur = cur.parent_path();
  }
  return cur.empty() ? "/" : cur.string();
}

// A directory the agent writes in: present and writable, or creatable.
Status checkWritableDir(const std::string& flag, const std::string& path, const std::string& hint) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return invalidArgument(flag + " " + path + " exists and is not a directory; " + hint);
    }
    if (::access(path.c_str(), W_OK | X_OK) != 0) {
      return invalidArgument(flag + " " + path + " is not writable by " + uidText() +
                             "; mount it read-write or run the agent as its owner");
    }
    return Status::ok();
  }
  std::string base = nearestExisting(fs::path(path));
  if (!writableDir(base)) {
    return invalidArgument(flag + " " + path + " does not exist and cannot be created in " + base +
                           " (not a directory writable by " + uidText() + "); " + hint);
  }
  return Status::ok();
}

Status checkDataDir(const std::string& dir) {
  if (!fs::path(dir).is_absolute()) {
    return invalidArgument("--data-dir '" + dir + "' is not an absolute path; give the full path, "
                           "e.g. /var/lib/shardcast (pods mount models by that path)");
  }
  return checkWritableDir("--data-dir", dir, "create it or mount a hostPath there");
}

Status checkSocket(const AgentConfig& c) {
  const std::string& path = c.local_socket;
  if (!fs::path(path).is_absolute()) {
    return invalidArgument("--local-socket '" + path + "' is not an absolute path; give the full "
                           "path, e.g. /run/shardcast/agent.sock");
  }
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return invalidArgument("--local-socket path is " + std::to_string(path.size()) +
                           " characters, longer than a unix socket allows (" +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                           "); use a shorter path such as /run/shardcast/agent.sock");
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return invalidArgument("--local-socket " + path + " exists and is not a socket; remove it or "
                           "choose another path");
  }
  std::string parent = fs::path(path).parent_path().string();
  RETURN_IF_ERROR(checkWritableDir("--local-socket's directory", parent,
                                   "mount the socket directory (e.g. a hostPath) there"));
  if (!c.socket_group.empty() && ::getgrnam(c.socket_group.c_str()) == nullptr) {
    return invalidArgument("--socket-group: no group '" + c.socket_group +
                           "' on this system; create it or leave --socket-group out");
  }
  return Status::ok();
}

Status checkReadyFile(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  if (parent.empty()) parent = ".";
  if (!writableDir(parent)) {
    return invalidArgument("--ready-file " + path + ": directory " + parent +
                           " does not exist or is not writable by " + uidText() +
                           "; create it or choose another path");
  }
  return Status::ok();
}

// The whole file, or an error naming the flag.
Result<std::string> readSmallFile(const std::string& flag, const std::string& path) {
  if (isDir(path)) return invalidArgument(flag + " " + path + " is a directory; name a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return invalidArgument(flag + " " + path + " cannot be read by " + uidText() +
                           "; check the mount and its permissions");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status checkPemFile(const std::string& flag, const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, readSmallFile(flag, path));
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return invalidArgument(flag + " " + path + " holds no PEM certificate; point it at the CA "
                           "bundle (PEM)");
  }
  return Status::ok();
}

Status checkKubernetes(const AgentConfig& c) {
  ASSIGN_OR_RETURN(std::string token, readSmallFile("--kube-token-file", c.kube_token_file));
  if (token.find_first_not_of(" \t\r\n") == std::string::npos) {
    return invalidArgument("--kube-token-file " + c.kube_token_file + " is empty; mount the "
                           "service account token (automountServiceAccountToken: true)");
  }
  if (c.kube_api.rfind("https://", 0) == 0) {
    RETURN_IF_ERROR(checkPemFile("--kube-ca-file", c.kube_ca_file));
  }
  return Status::ok();
}

}  // namespace

Status checkDeployment(const AgentConfig& c) {
  RETURN_IF_ERROR(checkDataDir(c.data_dir));
  if (!c.local_socket.empty()) RETURN_IF_ERROR(checkSocket(c));
  if (!c.ready_file.empty()) RETURN_IF_ERROR(checkReadyFile(c.ready_file));
  if (!c.origin_ca_bundle.empty()) {
    RETURN_IF_ERROR(checkPemFile("--origin-ca-bundle", c.origin_ca_bundle));
  }
  if (c.kubernetes) RETURN_IF_ERROR(checkKubernetes(c));
  return Status::ok();
}

}  // namespace shardcast::agent
