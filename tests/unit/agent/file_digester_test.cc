// FileDigester: the running whole-file hashes equal the files' SHA-256 whatever
// order the pieces arrive in, and advance() only hashes verified prefixes.
#include "agent/file_digester.h"

#include <doctest/doctest.h>

#include "agent/content_store.h"
#include "tests/unit/agent/agent_fixtures.h"

namespace shardcast::agent {
namespace {

using testing::DataDir;

// Two checked files (4 and 2 pieces) and one without a publisher checksum.
testing::ModelFixture checkedFixture() {
  auto f = testing::makeModelFixture({{"a.bin", 3 * kMinPieceSize + 100},
                                      {"b.bin", 2 * kMinPieceSize},
                                      {"c.txt", 500}});
  std::vector<ManifestFile> files = f.manifest.files();
  for (auto& file : files) {
    if (file.path != "c.txt") file.sha256 = sha256Hex(f.content.at(file.path));
  }
  f.manifest = Manifest::create(f.manifest.model(), kMinPieceSize, files).value();
  return f;
}

// An empty version of the fixture's model in a fresh data dir.
struct OpenVersion {
  explicit OpenVersion(const testing::ModelFixture& f) {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    contents = std::move(cs).value();
    auto vs = contents->openVersion(f.manifest);
    REQUIRE(vs.isOk());
    store = std::move(vs).value();
  }
  DataDir dir;
  std::unique_ptr<ContentStore> contents;
  std::shared_ptr<VersionStore> store;
};

void land(VersionStore& vs, const testing::ModelFixture& f, uint32_t piece) {
  std::string bytes = f.piece(piece);
  REQUIRE(vs.writePiece(piece, bytes.data(), bytes.size()).isOk());
  vs.markVerified(piece);
  REQUIRE(vs.flush().isOk());
}

TEST_CASE("advance hashes verified prefixes only; digest equals each file's SHA-256") {
  auto f = checkedFixture();
  OpenVersion version(f);
  VersionStore& store = *version.store;
  FileDigester digester(f.manifest);

  // a.bin is pieces 0-3, b.bin 4-5, c.txt 6. Out of order: 1 first, then 0.
  land(store, f, 1);
  CHECK(*digester.advance(store) == 0);  // piece 0 is missing: nothing to hash
  land(store, f, 0);
  CHECK(*digester.advance(store) == 2 * kMinPieceSize);
  land(store, f, 5);
  land(store, f, 6);
  CHECK(*digester.advance(store) == 0);  // c.txt is not checked; b.bin lacks piece 4
  for (uint32_t p : {2u, 3u, 4u}) land(store, f, p);
  CHECK(*digester.advance(store) == (kMinPieceSize + 100) + 2 * kMinPieceSize);

  CHECK(*digester.digest(store, 0) == f.manifest.files()[0].sha256);
  CHECK(*digester.digest(store, 1) == f.manifest.files()[1].sha256);
  CHECK(digester.bytesHashed() == 5 * kMinPieceSize + 100);
}

TEST_CASE("digest hashes what advance did not reach") {
  auto f = checkedFixture();
  OpenVersion full(f);
  FileDigester digester(f.manifest);
  for (uint32_t p = f.manifest.pieceCount(); p-- > 0;) land(*full.store, f, p);
  CHECK(*digester.digest(*full.store, 0) == f.manifest.files()[0].sha256);
  CHECK(*digester.digest(*full.store, 1) == f.manifest.files()[1].sha256);
  // A piece that is not verified cannot be hashed.
  OpenVersion empty(f);
  FileDigester early(f.manifest);
  CHECK_FALSE(early.digest(*empty.store, 0).isOk());
}

}  // namespace
}  // namespace shardcast::agent
