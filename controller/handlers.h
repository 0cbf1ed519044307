// The controller's REST routes (DESIGN §5): each handler parses its request,
// calls one RolloutService method and maps the Status to HTTP. Thin by design;
// rules live in the service.
//
// registerRoutes() is called once at start-up by the Server. The service must
// outlive the router.
#pragma once

#include <functional>
#include <string>

#include "controller/rollout_service.h"
#include "controller/router.h"

namespace shardcast::controller {

// `role` names this replica's role on /healthz ("leader" or "follower"); without
// it the controller is alone and always the leader.
void registerRoutes(Router& router, RolloutService& service,
                    std::function<std::string()> role = nullptr);

}  // namespace shardcast::controller
