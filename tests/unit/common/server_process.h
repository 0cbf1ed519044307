// ServerProcess: a test server (Azurite, a python stand-in, ...) started as a
// child process on loopback, its output in a log file. The constructor waits
// until the log shows `marker` followed by the port the server bound (servers are
// started on port 0), and fails the test with the log when the server exits or
// does not start within 30 s. The destructor stops it (SIGTERM, then SIGKILL);
// the child also dies with the test process (PDEATHSIG).
//
// ServerProcess::tryStart is for servers that must be given their ports (etcd):
// a port read back from a closed socket can be taken by another test before the
// server binds it, so the caller retries with new ports when tryStart returns
// null (the server exited before listening; `output` holds its log).
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace shardcast::testing {

inline std::string readWholeFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A loopback port nobody listens on (bound, read back, closed): for tests of
// unreachable origins.
inline int unusedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, std::string log_path, std::string marker)
      : ServerProcess(std::move(args), std::move(log_path)) {
    if (!waitForPort(marker)) FAIL(args_[0] << " exited before listening; its output:\n" << log());
  }

  static std::unique_ptr<ServerProcess> tryStart(std::vector<std::string> args,
                                                 std::string log_path, const std::string& marker,
                                                 std::string* output) {
    std::unique_ptr<ServerProcess> p(new ServerProcess(std::move(args), std::move(log_path)));
    if (p->waitForPort(marker)) return p;
    *output = p->log();
    return nullptr;
  }

 private:
  ServerProcess(std::vector<std::string> args, std::string log_path)
      : args_(std::move(args)), log_(std::move(log_path)) {
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
  }

 public:
  ~ServerProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string hostPort() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return readWholeFile(log_); }

 private:
  // True once the log shows the marker; false when the server exited first.
  // A server that neither listens nor exits within 30 s fails the test.
  bool waitForPort(const std::string& marker) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string out = readWholeFile(log_);
      size_t at = out.find(marker);
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        port_ = std::stoi(out.substr(at + marker.size()));
        return true;
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    FAIL(args_[0] << " did not start within 30 s; its output:\n" << readWholeFile(log_));
    return false;
  }

  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace shardcast::testing
