// A RolloutService on a fake clock, a fake origin ("mem://") and an in-memory
// state store, with helpers to register nodes and create rollouts. Shared by the
// controller's service and handler tests.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/sha256.h"
#include "controller/in_memory_state_store.h"
#include "controller/rollout_service.h"
#include "tests/unit/controller/fake_origin.h"

namespace shardcast::controller::testing {

inline constexpr uint64_t kPiece = 64 << 10;  // the smallest piece size allowed
inline constexpr const char* kSource = "mem://bucket/m/";

inline ControllerOptions testOptions() {
  ControllerOptions o;
  o.node_timeout_ms = 30000;
  o.max_seeders = 16;
  o.peers_per_node = 16;
  o.list_timeout_ms = 1234;
  return o;
}

// The hash a node reports for piece p of the fake model.
inline std::string hashOf(uint32_t p, const std::string& salt = "") {
  return sha256Hex("piece-" + std::to_string(p) + salt);
}

struct ServiceFixture {
  FakeClock clock;
  shardcast::testing::FakeOrigin origin;
  ObjectStoreRegistry registry = origin.registry();
  InMemoryStateStore store;
  RolloutService service{registry, clock, store, testOptions(), /*seed=*/42};

  // Two files, sorted by path: config.json is piece 0, weights/a.bin pieces 1-4.
  ServiceFixture() {
    origin.set(kSource, {{"weights/a.bin", 3 * kPiece + 100, "etag-a", ""},
                         {"config.json", 500, "etag-c", ""}});
  }

  api::NodeInfo info(const std::string& name, const std::string& region, const std::string& zone = "",
                     std::map<std::string, std::string> labels = {}) {
    api::NodeInfo n;
    n.name = name;
    n.incarnation = "inc-1";
    n.region = region;
    n.zone = zone;
    n.labels = std::move(labels);
    n.peer_addr = "127.0.0.1:" + std::to_string(9000 + name.size() * 7 + name.back());
    return n;
  }

  void node(const std::string& name, const std::string& region, const std::string& zone = "",
            std::map<std::string, std::string> labels = {}) {
    REQUIRE(service.heartbeat(info(name, region, zone, std::move(labels))).isOk());
  }

  // Re-sends the stored registration of each node (a heartbeat).
  void heartbeat(const std::vector<std::string>& names, const std::string& region,
                 const std::string& zone = "") {
    for (const auto& n : names) node(n, region, zone);
  }

  static api::RolloutRequest request(const std::string& model = "m:v1",
                                     std::vector<std::string> uris = {kSource},
                                     std::vector<std::string> regions = {}) {
    api::RolloutRequest r;
    r.model = *parseModelRef(model);
    for (auto& u : uris) r.sources.push_back(SourceSpec{u, "", "", "", "", ""});
    r.target.regions = std::move(regions);
    r.piece_size = kPiece;
    return r;
  }

  std::string create(std::vector<std::string> regions = {}, const std::string& model = "m:v1") {
    auto s = service.createRollout(request(model, {kSource}, std::move(regions)));
    REQUIRE_MESSAGE(s.isOk(), s.status().toString());
    return s->id;
  }

  api::PeersReply peers(const std::string& id, const std::string& node, uint64_t cursor = 0) {
    auto r = service.peers(id, node, cursor);
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    return *r;
  }

  api::PieceReportReply report(const std::string& id, const std::string& node,
                               const std::vector<uint32_t>& pieces, const std::string& state = "fetching",
                               const std::string& salt = "") {
    api::PieceReport rep;
    rep.node = node;
    rep.state = state;
    for (uint32_t p : pieces) rep.hashes.push_back(api::PieceHash{p, hashOf(p, salt)});
    auto r = service.reportPieces(id, rep);
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    return *r;
  }

  // Seeders e1 and e2 in region east, a rollout over them, and e1's report of the
  // first piece of its stripe (of at least two): the start of the stripe-move cases.
  struct TwoSeeders {
    std::string id;
    std::vector<uint32_t> s1, s2;  // e1's and e2's stripes
  };
  TwoSeeders twoSeedersOneDone() {
    node("e1", "east");
    node("e2", "east");
    TwoSeeders t{create(), {}, {}};
    t.s1 = peers(t.id, "e1").stripe;
    t.s2 = peers(t.id, "e2").stripe;
    REQUIRE(t.s1.size() >= 2);
    report(t.id, "e1", {t.s1[0]});
    return t;
  }

  api::PieceReportReply progress(const std::string& id, const std::string& node, const std::string& state,
                                 const std::string& reason = "") {
    api::PieceReport rep;
    rep.node = node;
    rep.state = state;
    rep.reason = reason;
    auto r = service.reportPieces(id, rep);
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    return *r;
  }

  api::RolloutStatus status(const std::string& id) {
    auto s = service.getRollout(id);
    REQUIRE(s.isOk());
    return *s;
  }

  const api::NodeProgress* row(const api::RolloutStatus& s, const std::string& node) {
    for (const auto& n : s.nodes) {
      if (n.node == node) return &n;
    }
    return nullptr;
  }

  const api::RegionStatus* region(const api::RolloutStatus& s, const std::string& name) {
    for (const auto& r : s.regions) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
};

}  // namespace shardcast::controller::testing
