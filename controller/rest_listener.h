// RestListener: the controller's HTTP front end on cpprestsdk (DESIGN §5). Every
// request, whatever its method, becomes an ApiRequest for the Router; the reply
// goes back through a Responder that may be called later from any thread
// (long-poll). Bodies whose Content-Length exceeds the router's limit are refused
// with 413 before they are read.
//
// This is the only translation unit that includes cpprestsdk headers (they are
// slow to compile); the header stays free of them. cpprestsdk cannot report the
// port it bound for port 0, so for port 0 a free port is picked first (bind a
// socket to port 0, read the port, close it) and the listener opened on it,
// retrying a few times if another process takes it in between.
//
// open() and close() are called by the Server from one thread; request handling
// runs on cpprestsdk's thread pool. No exception escapes. The Router must
// outlive the listener.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "controller/router.h"

namespace shardcast::controller {

class RestListener {
 public:
  explicit RestListener(const Router& router);
  ~RestListener();
  RestListener(const RestListener&) = delete;
  RestListener& operator=(const RestListener&) = delete;

  // Starts listening on host:port (port 0 = pick a free one). Returns the
  // "host:port" it listens on.
  Result<std::string> open(const std::string& host, uint16_t port);
  // Stops accepting requests; waits for the listener to close.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shardcast::controller
