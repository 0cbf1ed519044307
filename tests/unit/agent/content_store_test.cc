#include "agent/content_store.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/unit/agent/agent_fixtures.h"

namespace shardcast::agent {
namespace {

using testing::DataDir;
using testing::makeModelFixture;
using testing::ModelFixture;
using testing::readFile;

namespace fs = std::filesystem;

// 3.5 pieces, 1 piece in a nested directory, and an empty file.
ModelFixture fixture(const std::string& pin = "etag-1") {
  return makeModelFixture({{"weights.bin", 3 * kMinPieceSize + kMinPieceSize / 2},
                           {"sub/dir/config.json", 1000},
                           {"empty.txt", 0}},
                          "llama", "v1", pin);
}

void writeAndVerify(VersionStore& vs, const ModelFixture& f, uint32_t piece) {
  std::string bytes = f.piece(piece);
  REQUIRE(vs.writePiece(piece, bytes.data(), bytes.size()).isOk());
  vs.markVerified(piece);
}

mode_t modeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string readPiece(const PieceFd& p) {
  std::string out(p.length, '\0');
  REQUIRE(::pread(p.fd.get(), out.data(), out.size(), static_cast<off_t>(p.offset)) ==
          static_cast<ssize_t>(p.length));
  return out;
}

}  // namespace

TEST_CASE("a new version is created empty at full size under partial/") {
  DataDir dir;
  auto f = fixture();
  auto cs = ContentStore::open(dir.path());
  REQUIRE(cs.isOk());
  auto vs = (*cs)->openVersion(f.manifest);
  REQUIRE(vs.isOk());
  CHECK_FALSE((*vs)->published());
  CHECK((*vs)->bitCount() == 0);
  CHECK(fs::file_size(dir / "partial/llama/v1/weights.bin") == f.content["weights.bin"].size());
  CHECK(fs::file_size(dir / "partial/llama/v1/sub/dir/config.json") == 1000);
  CHECK(fs::exists(dir / "partial/llama/v1/empty.txt"));
  CHECK(fs::is_directory(dir / "models"));
  CHECK(fs::is_directory(dir / "leases"));
  CHECK((*cs)->find(f.manifest.model()) == *vs);
  CHECK((*cs)->find(ModelRef{"other", "v1"}) == nullptr);
}

TEST_CASE("pieces become servable only after flush, and bits persist") {
  DataDir dir;
  auto f = fixture();
  REQUIRE(f.manifest.pieceCount() == 5);
  {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    auto vs = (*cs)->openVersion(f.manifest);
    REQUIRE(vs.isOk());
    VersionStore& v = **vs;
    writeAndVerify(v, f, 1);
    writeAndVerify(v, f, 4);  // the nested file's piece
    CHECK(v.pendingCount() == 2);
    CHECK_FALSE(v.hasPiece(1));
    CHECK(v.openPieceFd(1).status().code() == StatusCode::kNotFound);
    auto flushed = v.flush();
    REQUIRE(flushed.isOk());
    CHECK(*flushed == 2);
    CHECK(v.hasPiece(1));
    CHECK(v.hasPiece(4));
    CHECK(v.bytesDone() == f.manifest.piece(1).length + f.manifest.piece(4).length);

    auto pfd = v.openPieceFd(1);
    REQUIRE(pfd.isOk());
    CHECK(readPiece(*pfd) == f.piece(1));
    auto nested = v.openPieceFd(4);
    REQUIRE(nested.isOk());
    CHECK(readPiece(*nested) == f.piece(4));
    CHECK(v.openPieceFd(0).status().code() == StatusCode::kNotFound);
    CHECK(v.openPieceFd(99).status().code() == StatusCode::kNotFound);

    // A written but unverified piece is not set by a flush.
    std::string bytes = f.piece(2);
    REQUIRE(v.writePiece(2, bytes.data(), bytes.size()).isOk());
    REQUIRE(v.flush().isOk());
    CHECK_FALSE(v.hasPiece(2));
  }
  // The bitfield file: one JSON line, then the raw bits.
  std::string raw = readFile(dir / "partial/llama/.v1.pieces");
  size_t nl = raw.find('\n');
  REQUIRE(nl != std::string::npos);
  CHECK(raw.substr(0, nl).find(f.manifest.digest()) != std::string::npos);
  CHECK(raw.substr(0, nl).find("\"pieces\":5") != std::string::npos);
  CHECK(raw.substr(nl + 1) == std::string(1, static_cast<char>(0x48)));  // bits 1 and 4

  SUBCASE("resume with the same manifest keeps the bits") {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    auto vs = (*cs)->openVersion(f.manifest);
    REQUIRE(vs.isOk());
    CHECK((*vs)->resumed());
    CHECK((*vs)->bitCount() == 2);
    CHECK((*vs)->hasPiece(1));
    CHECK((*vs)->hasPiece(4));
    auto pfd = (*vs)->openPieceFd(1);
    REQUIRE(pfd.isOk());
    CHECK(readPiece(*pfd) == f.piece(1));
  }
  SUBCASE("a bitfield of another manifest is discarded") {
    auto other = fixture("etag-2");  // same files, other pins: another digest
    REQUIRE(other.manifest.digest() != f.manifest.digest());
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    auto vs = (*cs)->openVersion(other.manifest);
    REQUIRE(vs.isOk());
    CHECK_FALSE((*vs)->resumed());
    CHECK((*vs)->bitCount() == 0);
    CHECK_FALSE(fs::exists(dir / "partial/llama/.v1.pieces"));
    // The stale bytes are gone: the file was created afresh (all zeros).
    std::string weights = readFile(dir / "partial/llama/v1/weights.bin");
    CHECK(weights == std::string(weights.size(), '\0'));
  }
}

TEST_CASE("publish renames into models/ read-only and files are complete") {
  DataDir dir;
  auto f = fixture();
  auto cs = ContentStore::open(dir.path());
  REQUIRE(cs.isOk());
  auto vs = (*cs)->openVersion(f.manifest);
  REQUIRE(vs.isOk());
  VersionStore& v = **vs;
  for (uint32_t i = 0; i + 1 < f.manifest.pieceCount(); ++i) writeAndVerify(v, f, i);
  REQUIRE(v.flush().isOk());
  Status early = v.publish();
  CHECK(early.code() == StatusCode::kFailedPrecondition);
  CHECK_FALSE(fs::exists(dir / "models/llama/v1"));

  writeAndVerify(v, f, f.manifest.pieceCount() - 1);
  REQUIRE(v.flush().isOk());
  CHECK(v.complete());
  REQUIRE(v.publish().isOk());
  CHECK(v.published());

  CHECK_FALSE(fs::exists(dir / "partial/llama/v1"));
  CHECK_FALSE(fs::exists(dir / "partial/llama/.v1.pieces"));
  for (const auto& [path, bytes] : f.content) {
    CHECK(readFile(dir / ("models/llama/v1/" + path)) == bytes);
    CHECK(modeOf(dir / ("models/llama/v1/" + path)) == 0444);
  }
  CHECK(modeOf(dir / "models/llama/v1") == 0555);
  CHECK(modeOf(dir / "models/llama/v1/sub") == 0555);
  CHECK(modeOf(dir / "models/llama/v1/sub/dir") == 0555);

  // The store keeps serving through its directory descriptor after the rename.
  auto pfd = v.openPieceFd(4);
  REQUIRE(pfd.isOk());
  CHECK(readPiece(*pfd) == f.piece(4));
  CHECK(v.writePiece(0, f.piece(0).data(), f.piece(0).size()).code() ==
        StatusCode::kFailedPrecondition);
  CHECK(v.publish().isOk());  // idempotent
  CHECK((*cs)->publishedModels() == std::vector<std::string>{"llama:v1"});

  // A restarted agent finds it published and complete.
  auto cs2 = ContentStore::open(dir.path());
  REQUIRE(cs2.isOk());
  auto again = (*cs2)->openVersion(f.manifest);
  REQUIRE(again.isOk());
  CHECK((*again)->published());
  CHECK((*again)->complete());
  CHECK((*again)->bytesDone() == f.manifest.totalBytes());
}

TEST_CASE("writes must match the piece length") {
  DataDir dir;
  auto f = fixture();
  auto cs = ContentStore::open(dir.path());
  REQUIRE(cs.isOk());
  auto vs = (*cs)->openVersion(f.manifest);
  REQUIRE(vs.isOk());
  std::string shorter = f.piece(0).substr(1);
  CHECK((*vs)->writePiece(0, shorter.data(), shorter.size()).code() == StatusCode::kInvalidArgument);
  CHECK((*vs)->writePiece(77, shorter.data(), shorter.size()).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("symlinks under the data directory are never followed") {
  DataDir dir;
  testing::TempDir outside;
  auto f = fixture();
  {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    auto vs = (*cs)->openVersion(f.manifest);
    REQUIRE(vs.isOk());
    writeAndVerify(**vs, f, 0);
    REQUIRE((*vs)->flush().isOk());
  }
  // Someone replaces a directory of the partial tree with a symlink out of it.
  fs::remove_all(dir / "partial/llama/v1/sub");
  fs::create_directory_symlink(outside.path(), dir / "partial/llama/v1/sub");

  SUBCASE("resume refuses the symlinked path") {
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    auto vs = (*cs)->openVersion(f.manifest);
    CHECK_FALSE(vs.isOk());
    CHECK(vs.status().code() == StatusCode::kPermissionDenied);
  }
  SUBCASE("discarding a stale partial removes the link, not its target") {
    outside.write("keep.txt", "precious");
    auto other = fixture("etag-2");
    auto cs = ContentStore::open(dir.path());
    REQUIRE(cs.isOk());
    auto vs = (*cs)->openVersion(other.manifest);
    REQUIRE(vs.isOk());
    CHECK(readFile(outside.path() + "/keep.txt") == "precious");
    CHECK_FALSE(fs::is_symlink(dir / "partial/llama/v1/sub"));
    CHECK(fs::is_directory(dir / "partial/llama/v1/sub/dir"));
  }
  CHECK_FALSE(fs::exists(outside.path() + "/dir/config.json"));
}

TEST_CASE("an open version is shared; another manifest in use is refused") {
  DataDir dir;
  auto f = fixture();
  auto cs = ContentStore::open(dir.path());
  REQUIRE(cs.isOk());
  auto a = (*cs)->openVersion(f.manifest);
  auto b = (*cs)->openVersion(f.manifest);
  REQUIRE(a.isOk());
  REQUIRE(b.isOk());
  CHECK(*a == *b);
  auto other = fixture("etag-2");
  auto c = (*cs)->openVersion(other.manifest);
  CHECK(c.status().code() == StatusCode::kFailedPrecondition);
}

}  // namespace shardcast::agent

namespace shardcast::agent {

TEST_CASE("models with more files than cached write descriptors are written and synced") {
  DataDir dir;
  std::map<std::string, size_t> sizes;
  for (int i = 0; i < 700; ++i) sizes["shard-" + std::to_string(i) + ".bin"] = 10 + i;
  auto f = testing::makeModelFixture(sizes, "many", "v1");
  auto cs = ContentStore::open(dir.path());
  REQUIRE(cs.isOk());
  auto vs = (*cs)->openVersion(f.manifest);
  REQUIRE(vs.isOk());
  for (uint32_t i = 0; i < f.manifest.pieceCount(); ++i) {
    std::string b = f.piece(i);
    REQUIRE((*vs)->writePiece(i, b.data(), b.size()).isOk());
    (*vs)->markVerified(i);
  }
  auto flushed = (*vs)->flush();
  REQUIRE(flushed.isOk());
  CHECK(*flushed == 700);
  REQUIRE((*vs)->publish().isOk());
  for (const auto& [path, bytes] : f.content) {
    REQUIRE(testing::readFile(dir / ("models/many/v1/" + path)) == bytes);
  }
}

}  // namespace shardcast::agent
