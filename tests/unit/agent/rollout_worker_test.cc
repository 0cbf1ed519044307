// RolloutWorker in-process against a fake controller, a file:// origin and real
// peer servers on 127.0.0.1.
#include "agent/rollout_worker.h"

#include <doctest/doctest.h>

#include "agent/peer_server.h"
#include "tests/unit/agent/agent_fixtures.h"
#include "tests/unit/agent/fake_controller.h"

namespace shardcast::agent {
namespace {

using testing::DataDir;
using testing::eventually;
using testing::FakeController;
using testing::ModelFixture;

ModelFixture fixture(const std::string& pin = "") {
  return testing::makeModelFixture({{"w/a.bin", 5 * kMinPieceSize + 321}, {"b.bin", 1000}}, "m",
                                   "v1", pin);
}

// The model's files as an origin directory: file://<dir>/
std::string writeOrigin(const testing::TempDir& dir, const ModelFixture& f) {
  for (const auto& [path, bytes] : f.content) dir.write("model/" + path, bytes);
  return "file://" + dir.path() + "/model/";
}

// A node that already holds the whole model and serves it.
struct PeerNode {
  PeerNode(const ModelFixture& f, bool lie) {
    store = std::move(ContentStore::open(dir.path())).value();
    auto vs = store->openVersion(f.manifest);
    REQUIRE(vs.isOk());
    for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) {
      std::string b = f.piece(i);
      REQUIRE((*vs)->writePiece(i, b.data(), b.size()).isOk());
      (*vs)->markVerified(i);
    }
    REQUIRE((*vs)->flush().isOk());
    PeerServerOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.corrupt_serving_for_test = lie;
    server = std::make_unique<PeerServer>(store.get(), o);
    REQUIRE(server->start().isOk());
    addr = "127.0.0.1:" + std::to_string(server->port());
  }
  DataDir dir;
  std::unique_ptr<ContentStore> store;
  std::unique_ptr<PeerServer> server;
  std::string addr;
};

ControllerClientOptions controllerOptions(const std::string& url) {
  ControllerClientOptions o;
  o.base_url = url;
  return o;
}

// The agent side: content store, clients, and a worker for the fake's rollout.
struct Agent {
  Agent(const FakeController& ctl, const std::string& name, const std::string& zone,
        uint32_t origin_concurrency = 2)
      : controller(controllerOptions(ctl.url())), peers(PeerClientOptions{}),
        registry(ObjectStoreRegistry::withBuiltins()) {
    content = std::move(ContentStore::open(data.path())).value();
    WorkerOptions o;
    o.node = name;
    o.region = "r";
    o.zone = zone;
    o.incarnation = "inc-1";
    o.origin_concurrency = origin_concurrency;
    o.peers_poll_ms = 50;
    o.bitfield_poll_ms = 50;
    o.report_ms = 100;
    worker = std::make_unique<RolloutWorker>(
        ctl.rolloutId(), o, WorkerDeps{content.get(), &controller, &peers, &registry});
  }
  ~Agent() { worker->stop(); }

  std::string published(const std::string& path) const {
    return testing::readFile(data / ("models/m/v1/" + path));
  }

  DataDir data;
  std::unique_ptr<ContentStore> content;
  ControllerClient controller;
  PeerClient peers;
  ObjectStoreRegistry registry;
  std::unique_ptr<RolloutWorker> worker;
};

}  // namespace

TEST_CASE("origin pieces are held, unserved, until their hash is accepted") {
  testing::TempDir origin;
  auto f = fixture();
  FakeController ctl(f.manifest, writeOrigin(origin, f));
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) all.push_back(i);
  ctl.setStripe("n1", all);

  Agent a(ctl, "n1", "");
  a.worker->start();
  REQUIRE(eventually([&] { return ctl.reportedHashes().size() >= 4; }));
  // Nothing accepted yet: nothing is servable, and at most 2 x origin_concurrency
  // pieces are pulled and held.
  auto vs = a.content->find(f.manifest.model());
  REQUIRE(vs != nullptr);
  CHECK(vs->bitCount() == 0);
  CHECK(vs->openPieceFd(ctl.reportedHashes()[0].piece).status().code() == StatusCode::kNotFound);
  CHECK(ctl.reportedHashes().size() == 4);
  for (const auto& h : ctl.reportedHashes()) CHECK(h.sha256 == f.pieceHash(h.piece));
  CHECK(a.worker->phase() == RolloutWorker::Phase::kFetching);

  ctl.setAutoAccept(true);
  REQUIRE(eventually([&] { return a.worker->phase() == RolloutWorker::Phase::kReady; }));
  REQUIRE(eventually([&] { return ctl.lastReport("n1").state == api::kNodeReady; }));
  for (const auto& [path, bytes] : f.content) CHECK(a.published(path) == bytes);
  auto last = ctl.lastReport("n1");
  CHECK(last.bytes_from_origin == f.manifest.totalBytes());
  CHECK(last.bytes_from_peers == 0);
  CHECK(last.pieces_done == f.manifest.pieceCount());
  CHECK(last.incarnation == "inc-1");
  // Each piece was pulled from the origin exactly once.
  CHECK(ctl.reportedHashes().size() == f.manifest.pieceCount());
}

TEST_CASE("a controller outage: the worker keeps going, then re-reports what it pulled") {
  testing::TempDir origin;
  auto f = fixture();
  FakeController ctl(f.manifest, writeOrigin(origin, f));
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) all.push_back(i);
  ctl.setStripe("n1", all);

  Agent a(ctl, "n1", "", /*origin_concurrency=*/1);
  a.worker->start();
  REQUIRE(eventually([&] { return ctl.reportedHashes().size() == 2; }));  // 2 x 1 held
  const auto before = ctl.reportedHashes();

  ctl.setDown(true);  // the controller dies (or restarts and forgot what it heard)
  REQUIRE(eventually([&] { return ctl.refused() >= 3; }));  // retried with backoff
  CHECK(a.worker->phase() == RolloutWorker::Phase::kFetching);
  ctl.setDown(false);

  // Back: the pieces pulled from the origin are reported again, with progress.
  auto count = [&](uint32_t piece) {
    size_t n = 0;
    for (const auto& h : ctl.reportedHashes()) n += h.piece == piece;
    return n;
  };
  REQUIRE(eventually([&] { return count(before[0].piece) == 2 && count(before[1].piece) == 2; }));
  CHECK(ctl.lastReport("n1").state == api::kNodeFetching);

  ctl.setAutoAccept(true);
  REQUIRE(eventually([&] { return ctl.lastReport("n1").state == api::kNodeReady; }));
  for (const auto& [path, bytes] : f.content) CHECK(a.published(path) == bytes);
  // Nothing was pulled from the origin twice.
  CHECK(ctl.lastReport("n1").bytes_from_origin == f.manifest.totalBytes());
}

TEST_CASE("a peer serving bad bytes is put aside and reported; the model comes out right") {
  testing::TempDir origin;
  auto f = fixture();
  FakeController ctl(f.manifest, writeOrigin(origin, f));
  for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) ctl.accept(i, f.pieceHash(i));
  PeerNode liar(f, /*lie=*/true);
  PeerNode honest(f, /*lie=*/false);
  // The liar shares the zone, so it is asked first.
  ctl.setPeers({{"liar", liar.addr, "z1"}, {"honest", honest.addr, "z2"}});

  Agent a(ctl, "late", "z1");
  a.worker->start();
  REQUIRE(eventually([&] { return ctl.lastReport("late").state == api::kNodeReady; }));
  for (const auto& [path, bytes] : f.content) CHECK(a.published(path) == bytes);
  bool reported_liar = false;
  for (const auto& rep : ctl.reports()) {
    for (const auto& b : rep.bad_peers) {
      CHECK(b.peer == "liar");
      reported_liar = true;
    }
  }
  CHECK(reported_liar);
  auto last = ctl.lastReport("late");
  CHECK(last.bytes_from_origin == 0);
  CHECK(last.bytes_from_peers == f.manifest.totalBytes());
}

TEST_CASE("an origin object that changed fails the node with origin_changed") {
  testing::TempDir origin;
  auto f = fixture("not-the-current-pin");
  FakeController ctl(f.manifest, writeOrigin(origin, f));
  ctl.setStripe("n1", {0});
  Agent a(ctl, "n1", "");
  a.worker->start();
  REQUIRE(eventually([&] { return ctl.lastReport("n1").state == api::kNodeFailed; }));
  auto last = ctl.lastReport("n1");
  CHECK(last.reason == "origin_changed");
  const std::string& file = f.manifest.files()[f.manifest.piece(0).file].path;
  CHECK(last.message.find(file) != std::string::npos);
  CHECK(a.worker->phase() == RolloutWorker::Phase::kFailed);
}

TEST_CASE("a cancelled rollout stops the worker") {
  testing::TempDir origin;
  auto f = fixture();
  FakeController ctl(f.manifest, writeOrigin(origin, f));
  ctl.setStripe("n1", {0, 1});
  Agent a(ctl, "n1", "");
  a.worker->start();
  REQUIRE(eventually([&] { return !ctl.reportedHashes().empty(); }));
  ctl.setRolloutState(api::kRolloutCancelled);
  REQUIRE(eventually([&] { return a.worker->finished(); }));
  CHECK(a.worker->phase() == RolloutWorker::Phase::kStopped);
  CHECK_FALSE(std::filesystem::exists(a.data / "models/m/v1"));
}

TEST_CASE("a version already published is reported ready without fetching") {
  testing::TempDir origin;
  auto f = fixture();
  FakeController ctl(f.manifest, writeOrigin(origin, f));
  for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) ctl.accept(i, f.pieceHash(i));
  PeerNode seed(f, false);
  ctl.setPeers({{"seed", seed.addr, ""}});
  Agent a(ctl, "n1", "");
  a.worker->start();
  REQUIRE(eventually([&] { return a.worker->finished(); }));
  REQUIRE(a.worker->phase() == RolloutWorker::Phase::kReady);
  size_t reports_before = ctl.reports().size();

  // A second worker for the same rollout (as after a restart) finds it published.
  WorkerOptions o;
  o.node = "n1";
  o.region = "r";
  o.incarnation = "inc-2";
  auto again = std::make_unique<RolloutWorker>(
      ctl.rolloutId(), o,
      WorkerDeps{a.content.get(), &a.controller, &a.peers, &a.registry});
  again->start();
  REQUIRE(eventually([&] { return again->finished(); }));
  CHECK(again->phase() == RolloutWorker::Phase::kReady);
  auto last = ctl.lastReport("n1");
  CHECK(last.state == api::kNodeReady);
  CHECK(last.incarnation == "inc-2");
  CHECK(ctl.reports().size() == reports_before + 1);
  again->stop();
}

}  // namespace shardcast::agent
