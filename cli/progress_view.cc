#include "cli/progress_view.h"

#include <cstdio>
#include <sstream>

namespace shardcast::cli {

std::string formatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string progressBar(uint64_t done, uint64_t total, int width) {
  int filled = total == 0 ? 0 : static_cast<int>(static_cast<double>(done) * width / total);
  if (filled > width) filled = width;
  return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
}

std::string renderStatus(const api::RolloutStatus& s, bool with_nodes) {
  std::ostringstream os;
  os << "rollout " << s.id << "  " << s.model.toString() << "  " << s.state << "  "
     << formatBytes(s.total_bytes) << " in " << s.file_count << " files, " << s.piece_count
     << " pieces\n";
  if (!s.message.empty()) os << "  " << s.message << "\n";
  if (s.regions.empty()) os << "  (no node has been targeted yet)\n";
  for (const auto& r : s.regions) {
    uint64_t want = s.total_bytes * r.nodes_total;
    int pct = want == 0 ? 0 : static_cast<int>(100.0 * static_cast<double>(r.bytes_done) / want);
    char line[256];
    std::snprintf(line, sizeof line, "  %-12s %s %3d%%  %u/%u ready", r.name.c_str(),
                  progressBar(r.bytes_done, want, 30).c_str(), pct, r.nodes_ready, r.nodes_total);
    os << line;
    if (r.nodes_failed) os << "  " << r.nodes_failed << " failed";
    os << "  (" << r.seeders << " seeders)\n";
  }
  if (s.corrupt_reports) {
    os << "  " << s.corrupt_reports << " corrupt piece(s) from peers detected and refetched\n";
  }
  if (with_nodes) {
    for (const auto& n : s.nodes) {
      os << "    " << n.node << " (" << n.region << (n.zone.empty() ? "" : "/" + n.zone)
         << ") " << n.state << " " << formatBytes(n.bytes_done) << " origin "
         << formatBytes(n.bytes_from_origin) << " peers " << formatBytes(n.bytes_from_peers);
      if (!n.reason.empty()) os << "  " << n.reason << ": " << n.message;
      os << "\n";
    }
  }
  return os.str();
}

std::string renderList(const std::vector<api::RolloutStatus>& rollouts) {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-18s %-40s %-12s %s\n", "ID", "MODEL", "STATE", "SIZE");
  os << line;
  for (const auto& s : rollouts) {
    std::snprintf(line, sizeof line, "%-18s %-40s %-12s %s\n", s.id.c_str(),
                  s.model.toString().c_str(), s.state.c_str(), formatBytes(s.total_bytes).c_str());
    os << line;
  }
  return os.str();
}

}  // namespace shardcast::cli
