// Server: the controller's composition root. It owns every object of the process
// and their lifetimes: clock, object-store registry, state store, authenticator,
// rollout service, router, REST listener and the sweeper thread that answers
// expired long-polls and settles rollouts whose nodes died.
//
// start() opens the listener and then writes the address it serves on to the
// ready file (DESIGN §2). stop() drains: pending long-polls are answered, the
// listener closes, the sweeper ends. Not thread-safe: start/stop from one thread
// (main); everything else runs on the listener's and the sweeper's threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/objstore/registry.h"
#include "controller/authenticator.h"
#include "controller/in_memory_state_store.h"
#include "controller/rest_listener.h"
#include "controller/rollout_service.h"
#include "controller/router.h"

namespace shardcast::controller {

struct ServerConfig {
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 7400;
  std::string ready_file;  // written with "host:port" once serving; "" = none
  std::string data_dir;    // for the journal (a later issue); unused for now
  std::string token;       // bearer token required by the API; "" = none
  ControllerOptions controller;
  int64_t sweep_interval_ms = 100;
};

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status start();
  // Idempotent.
  void stop();
  // "host:port" the listener serves on, once started.
  const std::string& address() const { return address_; }
  RolloutService& serviceForTest() { return service_; }

 private:
  void sweepLoop();
  Status writeReadyFile() const;

  ServerConfig config_;
  SystemClock clock_;
  ObjectStoreRegistry registry_;
  InMemoryStateStore store_;
  std::unique_ptr<Authenticator> auth_;
  RolloutService service_;
  Router router_;
  RestListener listener_;

  std::thread sweeper_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool started_ = false;
  std::string address_;
};

}  // namespace shardcast::controller
