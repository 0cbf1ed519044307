// The peer server and the peer client against each other on 127.0.0.1, port 0.
#include "agent/peer_server.h"

#include <doctest/doctest.h>

#include "agent/peer_client.h"
#include "common/http_client.h"
#include "tests/unit/agent/agent_fixtures.h"

namespace shardcast::agent {
namespace {

using testing::DataDir;
using testing::ModelFixture;

struct Node {
  explicit Node(PeerServerOptions opts = {}) : f(testing::makeModelFixture(
                                                   {{"a.bin", 2 * kMinPieceSize + 100},
                                                    {"nested/b.bin", 5000}})) {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    store = std::move(cs).value();
    auto v = store->openVersion(f.manifest);
    REQUIRE(v.isOk());
    vs = *v;
    for (uint32_t i : {0u, 2u, 3u}) {
      std::string bytes = f.piece(i);
      REQUIRE(vs->writePiece(i, bytes.data(), bytes.size()).isOk());
      vs->markVerified(i);
      vs->setHashHint(i, f.pieceHash(i));
    }
    REQUIRE(vs->flush().isOk());
    opts.listen_host = "127.0.0.1";
    opts.listen_port = 0;
    server = std::make_unique<PeerServer>(store.get(), opts);
    REQUIRE(server->start().isOk());
    REQUIRE(server->port() != 0);
    addr = "127.0.0.1:" + std::to_string(server->port());
  }

  DataDir dir;
  ModelFixture f;
  std::unique_ptr<ContentStore> store;
  std::shared_ptr<VersionStore> vs;
  std::unique_ptr<PeerServer> server;
  std::string addr;
};

HttpResponse rawGet(const std::string& url) {
  HttpClient c;
  auto r = c.get(url, 5000);
  REQUIRE(r.isOk());
  return *r;
}

}  // namespace

TEST_CASE("bitfield and piece bytes travel from server to client") {
  Node node;
  PeerClient client(PeerClientOptions{});
  const ModelRef& ref = node.f.manifest.model();
  REQUIRE(node.f.manifest.pieceCount() == 4);

  auto bits = client.fetchBitfield(node.addr, ref, 4);
  REQUIRE(bits.isOk());
  CHECK(*bits == node.vs->bits());
  CHECK(bits->get(0));
  CHECK_FALSE(bits->get(1));
  CHECK(bits->get(3));

  for (uint32_t i : {0u, 2u, 3u}) {
    auto p = client.fetchPiece(node.addr, ref, i, node.f.manifest.piece(i).length);
    REQUIRE(p.isOk());
    CHECK(p->data == node.f.piece(i));
    CHECK(p->sha256 == node.f.pieceHash(i));
    CHECK(p->hint == node.f.pieceHash(i));
  }
  CHECK(node.server->bytesServed() > 0);

  auto raw = rawGet("http://" + node.addr + "/v1/peer/m/v1/bitfield");
  CHECK(raw.status == 200);
  CHECK(raw.header("X-Shardcast-Pieces") == "4");
  CHECK(raw.header("Content-Type") == "application/octet-stream");
}

TEST_CASE("a piece the node does not hold is 404") {
  Node node;
  PeerClient client(PeerClientOptions{});
  auto p = client.fetchPiece(node.addr, node.f.manifest.model(), 1, node.f.manifest.piece(1).length);
  CHECK(p.status().code() == StatusCode::kNotFound);
  auto raw = rawGet("http://" + node.addr + "/v1/peer/m/v1/pieces/1");
  CHECK(raw.status == 404);
  CHECK(raw.body.find("\"error\"") != std::string::npos);
  CHECK(rawGet("http://" + node.addr + "/v1/peer/m/v2/bitfield").status == 404);
  CHECK(rawGet("http://" + node.addr + "/v1/peer/other/v1/pieces/0").status == 404);
}

TEST_CASE("malformed requests are 400 with a JSON error") {
  Node node;
  for (const char* path : {"/v1/peer/BAD%20NAME/v1/bitfield", "/v1/peer/Bad/v1/bitfield",
                           "/v1/peer/m/.hidden/bitfield", "/v1/peer/m/v1/pieces/abc",
                           "/v1/peer/m/v1/pieces/-1", "/v1/peer/m/v1/pieces/4",
                           "/v1/peer/m/v1/pieces/99999999999"}) {
    CAPTURE(path);
    auto raw = rawGet("http://" + node.addr + path);
    CHECK(raw.status == 400);
    CHECK(raw.body.find("\"code\"") != std::string::npos);
  }
  CHECK(rawGet("http://" + node.addr + "/v1/peer/m/v1/other").status == 404);
  CHECK(rawGet("http://" + node.addr + "/nothing").status == 404);
  HttpClient c;
  auto post = c.sendJson("POST", "http://" + node.addr + "/v1/peer/m/v1/bitfield", "{}", 5000);
  REQUIRE(post.isOk());
  CHECK(post->status == 405);
}

TEST_CASE("the cluster token is required when configured") {
  PeerServerOptions opts;
  opts.cluster_token = "s3cret-token";
  Node node(opts);
  const ModelRef& ref = node.f.manifest.model();

  PeerClient anonymous(PeerClientOptions{});
  CHECK(anonymous.fetchBitfield(node.addr, ref, 4).status().code() == StatusCode::kUnauthenticated);
  CHECK(rawGet("http://" + node.addr + "/v1/peer/m/v1/pieces/0").status == 401);
  // The kubelet's probe needs no token and learns nothing about the models.
  auto health = rawGet("http://" + node.addr + "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == R"({"ok":true})");

  PeerClientOptions wrong;
  wrong.cluster_token = "other";
  CHECK(PeerClient(wrong).fetchBitfield(node.addr, ref, 4).status().code() ==
        StatusCode::kUnauthenticated);

  PeerClientOptions right;
  right.cluster_token = "s3cret-token";
  PeerClient client(right);
  CHECK(client.fetchBitfield(node.addr, ref, 4).isOk());
  auto p = client.fetchPiece(node.addr, ref, 0, node.f.manifest.piece(0).length);
  REQUIRE(p.isOk());
  CHECK(p->data == node.f.piece(0));
}

TEST_CASE("corrupt-serving test hook serves altered bytes with a lying hash") {
  PeerServerOptions opts;
  opts.corrupt_serving_for_test = true;
  Node node(opts);
  PeerClient client(PeerClientOptions{});
  auto p = client.fetchPiece(node.addr, node.f.manifest.model(), 2, node.f.manifest.piece(2).length);
  REQUIRE(p.isOk());
  CHECK(p->data.size() == node.f.piece(2).size());
  CHECK(p->data != node.f.piece(2));
  CHECK(p->sha256 != node.f.pieceHash(2));  // fails the accepted hash
  CHECK(p->hint == p->sha256);               // ...while the peer's own hint matches its lie
}

TEST_CASE("the client rejects a bitfield of the wrong size") {
  Node node;
  PeerClient client(PeerClientOptions{});
  auto bits = client.fetchBitfield(node.addr, node.f.manifest.model(), 9);
  CHECK_FALSE(bits.isOk());
}

TEST_CASE("the client rejects a piece longer or shorter than expected") {
  Node node;
  PeerClient client(PeerClientOptions{});
  const auto& ref = node.f.manifest.model();
  uint64_t len = node.f.manifest.piece(0).length;
  CHECK(client.fetchPiece(node.addr, ref, 0, len - 1).status().code() == StatusCode::kCorruption);
  CHECK(client.fetchPiece(node.addr, ref, 0, len + 1).status().code() == StatusCode::kCorruption);
}

TEST_CASE("an unreachable peer is Unavailable") {
  uint16_t port;
  {
    Node node;
    port = node.server->port();
  }  // stopped
  PeerClient client(PeerClientOptions{});
  auto bits = client.fetchBitfield("127.0.0.1:" + std::to_string(port), ModelRef{"m", "v1"}, 4);
  CHECK(bits.status().code() == StatusCode::kUnavailable);
}

}  // namespace shardcast::agent
