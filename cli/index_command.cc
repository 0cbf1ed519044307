#include "cli/index_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/flag_parser.h"
#include "common/path_rules.h"
#include "common/sha256.h"

namespace shardcast::cli {

namespace fs = std::filesystem;

inline constexpr const char* kIndexName = "shardcast-index.json";

Result<nlohmann::json> buildIndex(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return notFound(dir + " is not a directory");
  std::vector<std::pair<std::string, uint64_t>> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto& entry = *it;
    if (entry.is_symlink()) {
      return invalidArgument(entry.path().string() + " is a symlink; index only regular files");
    }
    if (!entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), dir).generic_string();
    if (rel == kIndexName) continue;
    RETURN_IF_ERROR(validateRelativePath(rel));
    files.emplace_back(rel, entry.file_size());
  }
  if (ec) return ioError("walking " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  nlohmann::json index = nlohmann::json::array();
  for (const auto& [rel, size] : files) {
    ASSIGN_OR_RETURN(std::string digest, sha256Path((fs::path(dir) / rel).string()));
    index.push_back({{"path", rel}, {"size", size}, {"sha256", digest}});
    std::fprintf(stderr, "  %s  %s\n", digest.substr(0, 12).c_str(), rel.c_str());
  }
  return index;
}

int runIndex(const std::vector<std::string>& args) {
  FlagParser p;
  p.addBool("help", "show this help");
  Status s = p.parse(args);
  const char* usage = "shardcast index DIR   (writes DIR/shardcast-index.json)";
  if (p.isSet("help")) return std::printf("usage: %s\n", usage), kExitOk;
  if (!s.isOk() || p.positional().size() != 1) {
    std::fprintf(stderr, "shardcast: error: usage: %s\n", usage);
    return kExitUsage;
  }
  std::string dir = p.positional()[0];
  auto index = buildIndex(dir);
  if (!index.isOk()) {
    std::fprintf(stderr, "shardcast: error: %s\n", index.status().message().c_str());
    return kExitError;
  }
  fs::path out = fs::path(dir) / kIndexName;
  fs::path tmp = fs::path(dir) / (std::string(".") + kIndexName + ".tmp");
  {
    std::ofstream f(tmp);
    f << index->dump(1) << "\n";
    if (!f.good()) {
      std::fprintf(stderr, "shardcast: error: cannot write %s\n", tmp.c_str());
      return kExitError;
    }
  }
  std::error_code ec;
  fs::rename(tmp, out, ec);
  if (ec) {
    std::fprintf(stderr, "shardcast: error: cannot write %s: %s\n", out.c_str(),
                 ec.message().c_str());
    return kExitError;
  }
  std::printf("%s (%zu files)\n", out.c_str(), index->size());
  return kExitOk;
}

}  // namespace shardcast::cli
