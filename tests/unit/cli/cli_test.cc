#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/index_command.h"
#include "cli/progress_view.h"
#include "common/sha256.h"

using namespace shardcast;
namespace fs = std::filesystem;

TEST_CASE("progress bars and byte formatting") {
  CHECK(cli::progressBar(0, 100, 10) == "[----------]");
  CHECK(cli::progressBar(50, 100, 10) == "[#####-----]");
  CHECK(cli::progressBar(100, 100, 10) == "[##########]");
  CHECK(cli::progressBar(5, 0, 4) == "[----]");
  CHECK(cli::formatBytes(900) == "900 B");
  CHECK(cli::formatBytes(512ull << 20) == "512.0 MiB");
  CHECK(cli::formatBytes(3ull << 29) == "1.5 GiB");
}

TEST_CASE("status view shows one bar per region with ready counts") {
  api::RolloutStatus s;
  s.id = "ro-1";
  s.model = {"m", "v"};
  s.total_bytes = 100;
  s.regions = {{"east", "in_progress", 2, 1, 0, 150, 2, 3}, {"west", "ready", 1, 1, 0, 100, 1, 3}};
  std::string v = cli::renderStatus(s, false);
  CHECK(v.find("east") != std::string::npos);
  CHECK(v.find(" 75%  1/2 ready") != std::string::npos);
  CHECK(v.find("100%  1/1 ready") != std::string::npos);
}

TEST_CASE("shardcast index lists regular files with checksums and refuses symlinks") {
  fs::path dir = fs::temp_directory_path() / ("sc-index-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "b.bin") << "hello";
  std::ofstream(dir / "sub" / "a.json") << "{}";
  std::ofstream(dir / "shardcast-index.json") << "[]";
  auto idx = cli::buildIndex(dir.string());
  REQUIRE(idx.isOk());
  REQUIRE(idx->size() == 2);
  CHECK((*idx)[0]["path"] == "b.bin");
  CHECK((*idx)[0]["size"] == 5);
  CHECK((*idx)[0]["sha256"] == sha256Hex("hello"));
  CHECK((*idx)[1]["path"] == "sub/a.json");
  fs::create_symlink("/etc/passwd", dir / "link");
  CHECK_FALSE(cli::buildIndex(dir.string()).isOk());
  fs::remove_all(dir);
  CHECK_FALSE(cli::buildIndex(dir.string()).isOk());
}
