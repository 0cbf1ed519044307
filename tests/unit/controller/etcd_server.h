// EtcdServer: a real etcd (Debian etcd-server, installed by scripts/install-deps)
// started by a test on loopback, with its data dir in a TempDir and free ports
// for its client and peer URLs. The destructor stops it and removes the data.
//
// etcdAvailable() tells a test whether it can run; tests without etcd print
// "SKIPPED: etcd not found" and return, and CMake marks them skipped.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast::testing {

inline std::string etcdBinary() {
  const char* env = std::getenv("SHARDCAST_ETCD");
  if (env && *env) return env;
  return "/usr/bin/etcd";
}

inline bool etcdAvailable() { return ::access(etcdBinary().c_str(), X_OK) == 0; }

#define SKIP_WITHOUT_ETCD()                                                        \
  do {                                                                             \
    if (!::shardcast::testing::etcdAvailable()) {                                  \
      std::cout << "SKIPPED: etcd not found at " << ::shardcast::testing::etcdBinary() \
                << " (scripts/install-deps installs etcd-server)" << std::endl;    \
      return;                                                                      \
    }                                                                              \
  } while (0)

class EtcdServer {
 public:
  // etcd must be told its ports; one picked free may be taken by a parallel
  // test before etcd binds it, so a start that fails is retried with new ports.
  EtcdServer() {
    std::string output;
    for (int attempt = 0; attempt < 5 && !process_; ++attempt) {
      std::string client_url = "http://127.0.0.1:" + std::to_string(unusedLoopbackPort());
      std::string peer_url = "http://127.0.0.1:" + std::to_string(unusedLoopbackPort());
      std::string data = dir_.path() + "/data" + std::to_string(attempt);
      process_ = ServerProcess::tryStart(
          {etcdBinary(), "--name", "test", "--data-dir", data, "--listen-client-urls", client_url,
           "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url,
           "--initial-advertise-peer-urls", peer_url, "--initial-cluster", "test=" + peer_url},
          dir_.path() + "/etcd.log", "serving insecure client requests on 127.0.0.1:", &output);
      url_ = client_url;
    }
    if (!process_) FAIL("etcd exited before listening, 5 times; its last output:\n" << output);
  }

  // "http://127.0.0.1:PORT"
  const std::string& url() const { return url_; }
  std::string log() const { return process_->log(); }

 private:
  TempDir dir_;
  std::unique_ptr<ServerProcess> process_;
  std::string url_;
};

}  // namespace shardcast::testing
