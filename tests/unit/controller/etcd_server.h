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
#include <vector>
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

// A test PKI made with the openssl CLI in `dir`: a CA, etcd's server certificate
// for 127.0.0.1 (also for client use: etcd's JSON gateway dials etcd with it), a client certificate signed by the same CA, and a second CA that
// signed nothing here (for "wrong CA" cases). Files: ca.crt, server.crt/.key,
// client.crt/.key, other-ca.crt.
inline void makeTestPki(const std::string& dir) {
  const std::string d = "'" + dir + "'";
  const std::string cmd =
      "set -e; cd " + d + "; "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt; "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other-ca.key -out other-ca.crt; "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=etcd -keyout server.key -out server.csr; "
      "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > server.ext; "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt; "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=shardcast-controller -keyout client.key -out client.csr; "
      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext; "
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.crt";
  REQUIRE_MESSAGE(std::system(("(" + cmd + ") >" + d + "/pki.log 2>&1").c_str()) == 0,
                  "openssl could not make the test PKI; see " << dir << "/pki.log");
}

class EtcdServer {
 public:
  // etcd must be told its ports; one picked free may be taken by a parallel
  // test before etcd binds it, so a start that fails is retried with new ports.
  // With `tls_dir` (made by makeTestPki): clients on https:// with etcd's server
  // certificate, and only clients with a certificate of the test CA admitted.
  explicit EtcdServer(const std::string& tls_dir = "") {
    std::string output;
    const std::string scheme = tls_dir.empty() ? "http://" : "https://";
    for (int attempt = 0; attempt < 5 && !process_; ++attempt) {
      std::string client_url = scheme + "127.0.0.1:" + std::to_string(unusedLoopbackPort());
      std::string peer_url = "http://127.0.0.1:" + std::to_string(unusedLoopbackPort());
      std::string data = dir_.path() + "/data" + std::to_string(attempt);
      std::vector<std::string> args{etcdBinary(), "--name", "test", "--data-dir", data,
                                    "--listen-client-urls", client_url, "--advertise-client-urls",
                                    client_url, "--listen-peer-urls", peer_url,
                                    "--initial-advertise-peer-urls", peer_url, "--initial-cluster",
                                    "test=" + peer_url};
      if (!tls_dir.empty()) {
        for (const std::string& a : {std::string("--cert-file"), tls_dir + "/server.crt",
                                     std::string("--key-file"), tls_dir + "/server.key",
                                     std::string("--trusted-ca-file"), tls_dir + "/ca.crt",
                                     std::string("--client-cert-auth")}) {
          args.push_back(a);
        }
      }
      const char* marker = tls_dir.empty() ? "serving insecure client requests on 127.0.0.1:"
                                           : "serving client requests on 127.0.0.1:";
      process_ = ServerProcess::tryStart(args, dir_.path() + "/etcd.log", marker, &output);
      url_ = client_url;
    }
    if (!process_) FAIL("etcd exited before listening, 5 times; its last output:\n" << output);
  }

  // "http://127.0.0.1:PORT" (https:// with TLS)
  const std::string& url() const { return url_; }
  std::string log() const { return process_->log(); }

 private:
  TempDir dir_;
  std::unique_ptr<ServerProcess> process_;
  std::string url_;
};

}  // namespace shardcast::testing
