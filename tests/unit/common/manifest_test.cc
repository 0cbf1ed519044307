#include "common/manifest.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/model_ref.h"
#include "common/path_rules.h"

using namespace shardcast;

namespace {

ManifestFile file(std::string path, uint64_t size) { return ManifestFile{std::move(path), size, {"\"e1\""}, ""}; }
const ModelRef kModel{"llama-3-8b", "2024-07-01"};
constexpr uint64_t kPiece = 1 << 20;

}  // namespace

TEST_CASE("piece layout: pieces never span files, the last piece of a file is short") {
  auto m = Manifest::create(kModel, kPiece,
                            {file("b.bin", 2 * kPiece + 10), file("a.json", 100), file("empty", 0)});
  REQUIRE(m.isOk());
  // Files are sorted by path: a.json, b.bin, empty.
  CHECK(m->files()[0].path == "a.json");
  CHECK(m->files()[1].path == "b.bin");
  CHECK(m->files()[2].path == "empty");
  CHECK(m->pieceCount() == 4);  // a.json: 1, b.bin: 3, empty: 0
  CHECK(m->totalBytes() == 2 * kPiece + 110);
  CHECK(m->piece(0).file == 0);
  CHECK(m->piece(0).length == 100);
  CHECK(m->piece(1).file == 1);
  CHECK(m->piece(1).offset == 0);
  CHECK(m->piece(2).offset == kPiece);
  CHECK(m->piece(3).offset == 2 * kPiece);
  CHECK(m->piece(3).length == 10);
  CHECK(m->firstPiece(1) == 1);
  CHECK(m->pieceCountOfFile(1) == 3);
  CHECK(m->pieceCountOfFile(2) == 0);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < m->pieceCount(); ++i) sum += m->piece(i).length;
  CHECK(sum == m->totalBytes());
}

TEST_CASE("piece layout: an exact multiple has no short piece") {
  auto m = Manifest::create(kModel, kPiece, {file("x", 3 * kPiece)});
  REQUIRE(m.isOk());
  CHECK(m->pieceCount() == 3);
  CHECK(m->piece(2).length == kPiece);
}

TEST_CASE("manifest JSON round-trip keeps files, pins, checksums and layout") {
  ManifestFile f = file("dir/w.safetensors", 5 * kPiece + 1);
  f.sha256 = std::string(64, 'a');
  f.pins = {"\"etag-1\"", ""};
  auto m = Manifest::create(kModel, kPiece, {f, file("config.json", 10)});
  REQUIRE(m.isOk());
  auto back = Manifest::fromJson(nlohmann::json::parse(m->toJson().dump()));
  REQUIRE(back.isOk());
  CHECK(back->model() == kModel);
  CHECK(back->files() == m->files());
  CHECK(back->pieceCount() == m->pieceCount());
  CHECK(back->digest() == m->digest());
}

TEST_CASE("manifest digest changes with content, size, pins and piece size") {
  auto base = Manifest::create(kModel, kPiece, {file("a", 10)});
  auto bigger = Manifest::create(kModel, kPiece, {file("a", 11)});
  auto other_piece = Manifest::create(kModel, 2 * kPiece, {file("a", 10)});
  ManifestFile repinned = file("a", 10);
  repinned.pins = {"\"e2\""};
  auto other_pin = Manifest::create(kModel, kPiece, {repinned});
  REQUIRE(base.isOk());
  CHECK(base->digest() != bigger->digest());
  CHECK(base->digest() != other_piece->digest());
  CHECK(base->digest() != other_pin->digest());
  CHECK(base->sameContent(*other_pin));
  CHECK_FALSE(base->sameContent(*bigger));
}

TEST_CASE("manifest rejects hostile and malformed paths") {
  for (const char* bad : {"../etc/passwd", "a/../../b", "/abs/path", "a//b", "a/", "", ".",
                          "a/./b", "back\\slash", "tab\there"}) {
    CAPTURE(bad);
    CHECK_FALSE(Manifest::create(kModel, kPiece, {file(bad, 1)}).isOk());
  }
  std::string with_nul("a\0b", 3);
  CHECK_FALSE(Manifest::create(kModel, kPiece, {file(with_nul, 1)}).isOk());
  CHECK_FALSE(Manifest::create(kModel, kPiece, {file("a", 1), file("a", 2)}).isOk());
  CHECK_FALSE(Manifest::create(kModel, kPiece, {file("a", 1), file("a/b", 2)}).isOk());
  CHECK(Manifest::create(kModel, kPiece, {file("a/b/c.json", 1), file("a/d", 2)}).isOk());
}

TEST_CASE("manifest rejects bad piece sizes, no files and bad checksums") {
  CHECK_FALSE(Manifest::create(kModel, 1000, {file("a", 1)}).isOk());
  CHECK_FALSE(Manifest::create(kModel, kMaxPieceSize + 1, {file("a", 1)}).isOk());
  CHECK_FALSE(Manifest::create(kModel, kPiece, {}).isOk());
  ManifestFile f = file("a", 1);
  f.sha256 = "not-hex";
  CHECK_FALSE(Manifest::create(kModel, kPiece, {f}).isOk());
}

TEST_CASE("manifest fromJson rejects wrong types with a message naming the field") {
  auto r = Manifest::fromJson(nlohmann::json::parse(
      R"({"model": "m:v", "piece_size": 1048576, "files": [{"path": "a", "size": "big"}]})"));
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().find("size") != std::string::npos);
  CHECK_FALSE(Manifest::fromJson(nlohmann::json::parse(R"({"model": "m:v"})")).isOk());
  CHECK_FALSE(Manifest::fromJson(nlohmann::json::parse("[]")).isOk());
}

TEST_CASE("model refs follow DESIGN §3") {
  CHECK(parseModelRef("llama-3-70b:2024-07-01").isOk());
  CHECK(parseModelRef("a:B.1_x-y").isOk());
  auto r = parseModelRef("m:v:w");  // split at the first ':', ':' is not allowed in versions
  CHECK_FALSE(r.isOk());
  for (const char* bad : {"", "m", ":v", "m:", "M:v", "-m:v", "m:.", "m:..", "m:.hidden",
                          "m/x:v", "m:v/x", "m:v w"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseModelRef(bad).isOk());
  }
  CHECK_FALSE(parseModelRef(std::string(129, 'a') + ":v").isOk());
  CHECK(parseModelRef(std::string(128, 'a') + ":v").isOk());
}

namespace shardcast {
TEST_CASE("auto piece size: F / 2048, a power of two from 4 to 16 MiB") {
  constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
  CHECK(autoPieceSize(0) == 4 * MiB);
  CHECK(autoPieceSize(100 * MiB) == 4 * MiB);
  CHECK(autoPieceSize(10 * GiB) == 4 * MiB);
  CHECK(autoPieceSize(16 * GiB - 1) == 4 * MiB);
  CHECK(autoPieceSize(16 * GiB) == 8 * MiB);
  CHECK(autoPieceSize(31 * GiB) == 8 * MiB);
  CHECK(autoPieceSize(32 * GiB) == 16 * MiB);
  CHECK(autoPieceSize(140 * GiB) == kDefaultPieceSize);
  CHECK(autoPieceSize(700 * GiB) == kDefaultPieceSize);
}
}  // namespace shardcast
