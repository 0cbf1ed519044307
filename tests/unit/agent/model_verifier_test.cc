#include "agent/model_verifier.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/unit/agent/agent_fixtures.h"
#include "tests/unit/agent/fake_controller.h"

namespace shardcast::agent {
namespace {

using testing::DataDir;
using testing::FakeController;
using testing::makeModelFixture;
using testing::ModelFixture;

ModelFixture fixture() {
  return makeModelFixture({{"weights.bin", 3 * kMinPieceSize + 100}, {"config.json", 1000}},
                          "llama", "v1", "etag-1");
}

// A content store holding the fixture published, and a verifier whose only
// known rollout is the fake controller's.
struct Node {
  explicit Node(const ModelFixture& f, const FakeController& ctl)
      : controller(ControllerClientOptions{ctl.url(), "", "test", 5000}) {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    content = std::move(cs).value();
    auto vs = content->openVersion(f.manifest);
    REQUIRE(vs.isOk());
    for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) {
      std::string bytes = f.piece(i);
      REQUIRE((*vs)->writePiece(i, bytes.data(), bytes.size()).isOk());
      (*vs)->markVerified(i);
    }
    REQUIRE((*vs)->flush().isOk());
    REQUIRE((*vs)->publish().isOk());
    workers = {WorkerView{ctl.rolloutId(), f.manifest.model(), "ready", Status::ok(), 0, 0,
                          f.manifest.digest()}};
    verifier = std::make_unique<ModelVerifier>(content.get(), &controller, "n1",
                                               [this] { return workers; });
  }

  void flipByte(const std::string& rel, uint64_t offset) {
    std::string path = dir / ("models/llama/v1/" + rel);
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(offset));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }

  DataDir dir;
  ControllerClient controller;
  std::unique_ptr<ContentStore> content;
  std::vector<WorkerView> workers;
  std::unique_ptr<ModelVerifier> verifier;
};

void acceptAll(FakeController& ctl, const ModelFixture& f) {
  for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) ctl.accept(i, f.pieceHash(i));
}

}  // namespace

TEST_CASE("an intact published version verifies ok against the accepted hashes") {
  auto f = fixture();
  FakeController ctl(f.manifest, "file:///nowhere/");
  acceptAll(ctl, f);
  Node n(f, ctl);
  auto r = n.verifier->verify(f.manifest.model());
  REQUIRE(r.isOk());
  CHECK(r->ok());
  CHECK(r->pieces == 5);
  CHECK(r->bad_pieces.empty());
  CHECK(r->files_bad.empty());
  CHECK(r->rollout_id == ctl.rolloutId());
  CHECK(r->bytes_hashed == f.manifest.totalBytes());
}

TEST_CASE("a flipped byte names its piece and file, and the file stays") {
  auto f = fixture();
  FakeController ctl(f.manifest, "file:///nowhere/");
  acceptAll(ctl, f);
  Node n(f, ctl);
  n.flipByte("weights.bin", 2 * kMinPieceSize + 7);
  auto r = n.verifier->verify(f.manifest.model());
  REQUIRE(r.isOk());
  CHECK_FALSE(r->ok());
  // Files are ordered by path: config.json is piece 0, weights.bin pieces 1..4.
  CHECK(r->bad_pieces == std::vector<uint32_t>{3});
  CHECK(r->files_bad == std::vector<std::string>{"weights.bin"});
  CHECK(std::filesystem::exists(n.dir / "models/llama/v1/weights.bin"));
}

TEST_CASE("a piece with no accepted hash is unverified, not ok") {
  auto f = fixture();
  FakeController ctl(f.manifest, "file:///nowhere/");
  for (uint32_t i = 1; i < f.manifest.pieceCount(); ++i) ctl.accept(i, f.pieceHash(i));
  Node n(f, ctl);
  auto r = n.verifier->verify(f.manifest.model());
  REQUIRE(r.isOk());
  CHECK_FALSE(r->ok());
  CHECK(r->unverified_pieces == 1);
  CHECK(r->bad_pieces.empty());
}

TEST_CASE("verify answers clear errors: not published, no rollout, controller down") {
  auto f = fixture();
  FakeController ctl(f.manifest, "file:///nowhere/");
  acceptAll(ctl, f);
  Node n(f, ctl);
  auto r = n.verifier->verify(ModelRef{"other", "v1"});
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().reason() == "not_published");

  n.workers.clear();
  r = n.verifier->verify(f.manifest.model());
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().reason() == "no_rollout");

  n.workers = {WorkerView{"ro-other", f.manifest.model(), "ready", Status::ok(), 0, 0,
                          "another-digest"}};
  r = n.verifier->verify(f.manifest.model());
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().reason() == "no_rollout");

  ControllerClient down(ControllerClientOptions{"http://127.0.0.1:1", "", "test", 2000});
  std::vector<WorkerView> ws = {WorkerView{ctl.rolloutId(), f.manifest.model(), "ready",
                                           Status::ok(), 0, 0, f.manifest.digest()}};
  ModelVerifier v(n.content.get(), &down, "n1", [&] { return ws; });
  r = v.verify(f.manifest.model());
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().reason() == "controller_unreachable");
}

}  // namespace shardcast::agent
