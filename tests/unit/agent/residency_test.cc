#include "agent/residency.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "agent/safe_fs.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast::agent {
namespace {

TEST_CASE("files just written and read are fully resident; empty models count as 100%") {
  testing::TempDir dir;
  dir.write("a.bin", testing::patternBytes(3 * 4096 + 100));
  dir.write("sub/b.bin", testing::patternBytes(5000, 2));
  dir.write("empty", "");
  int root = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);
  UniqueFd guard(root);
  // Read everything so the pages are in the cache whatever the file system.
  for (const char* p : {"a.bin", "sub/b.bin"}) {
    auto fd = openFileBeneath(root, p, O_RDONLY);
    REQUIRE(fd.isOk());
    char buf[65536];
    while (::read(fd->get(), buf, sizeof buf) > 0) {
    }
  }
  auto tree = treeResidency(root);
  REQUIRE(tree.isOk());
  CHECK(tree->total_bytes == 3 * 4096 + 100 + 5000);
  CHECK(tree->resident_bytes == tree->total_bytes);  // capped at the file sizes
  CHECK(tree->percent() == doctest::Approx(100.0));

  auto some = filesResidency(root, {"a.bin"});
  REQUIRE(some.isOk());
  CHECK(some->total_bytes == 3 * 4096 + 100);

  auto empty = filesResidency(root, {"empty"});
  REQUIRE(empty.isOk());
  CHECK(empty->total_bytes == 0);
  CHECK(empty->percent() == doctest::Approx(100.0));
  CHECK_FALSE(filesResidency(root, {"missing"}).isOk());
}

TEST_CASE("a symlink is not followed") {
  testing::TempDir dir;
  dir.write("real.bin", testing::patternBytes(8192));
  REQUIRE(::symlink((dir.path() + "/real.bin").c_str(), (dir.path() + "/link.bin").c_str()) == 0);
  int root = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);
  UniqueFd guard(root);
  CHECK_FALSE(filesResidency(root, {"link.bin"}).isOk());
  auto tree = treeResidency(root);
  REQUIRE(tree.isOk());
  CHECK(tree->total_bytes == 8192);  // the link is skipped
}

}  // namespace
}  // namespace shardcast::agent
