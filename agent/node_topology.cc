#include "agent/node_topology.h"

#include <algorithm>
#include <vector>

#include "agent/agent_config.h"

namespace shardcast::agent {
namespace {

constexpr const char* kRegionLabel = "topology.kubernetes.io/region";
constexpr const char* kZoneLabel = "topology.kubernetes.io/zone";
constexpr const char* kOldRegionLabel = "failure-domain.beta.kubernetes.io/region";
constexpr const char* kOldZoneLabel = "failure-domain.beta.kubernetes.io/zone";
constexpr size_t kMaxLabelChars = 253;  // the controller's limit for keys and values

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// The first of `keys` present on the Node, as {key, value}.
std::optional<std::pair<std::string, std::string>> firstLabel(
    const std::map<std::string, std::string>& labels, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = labels.find(k);
    if (it != labels.end() && !it->second.empty()) return *it;
  }
  return std::nullopt;
}

bool keepNodeLabel(const std::string& key, const std::string& value) {
  if (startsWith(key, "beta.kubernetes.io/") ||
      startsWith(key, "failure-domain.beta.kubernetes.io/")) {
    return false;
  }
  if (key.empty() || key.size() > kMaxLabelChars || value.size() > kMaxLabelChars) return false;
  // An empty value is legal in Kubernetes (and for the controller).
  return printable(key) && (value.empty() || printable(value));
}

bool isFeatureLabel(const std::string& key) {
  return startsWith(key, "feature.node.kubernetes.io/");
}

Status fromNode(const std::string& node, const std::string& key, const std::string& value,
                const char* flag) {
  if (validIdentifier(value, 128)) return Status::ok();
  return invalidArgument("Node " + node + " has label " + key + "='" + value.substr(0, 64) +
                         "', which is not 1-128 characters of [A-Za-z0-9._-]; set " + flag +
                         " to override it");
}

void mergeLabels(const std::map<std::string, std::string>& node_labels, const TopologyFlags& flags,
                 NodeTopology& out) {
  out.labels = flags.labels;
  std::vector<const std::pair<const std::string, std::string>*> ordered;
  for (const auto& kv : node_labels) {
    if (flags.labels.count(kv.first)) continue;  // the flag's value wins
    if (!keepNodeLabel(kv.first, kv.second)) {
      ++out.dropped;
      continue;
    }
    ordered.push_back(&kv);
  }
  // Keys are already sorted (std::map); feature-discovery labels move to the end.
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const auto* kv) { return !isFeatureLabel(kv->first); });
  for (const auto* kv : ordered) {
    if (out.labels.size() >= kMaxLabels) {
      ++out.dropped;
      continue;
    }
    out.labels.insert(*kv);
  }
}

}  // namespace

Result<NodeTopology> resolveNodeTopology(const std::string& node,
                                         const std::map<std::string, std::string>& node_labels,
                                         const TopologyFlags& flags) {
  NodeTopology out;
  if (flags.region) {
    out.region = *flags.region;
    out.region_source = "--region";
  } else if (auto l = firstLabel(node_labels, {kRegionLabel, kOldRegionLabel})) {
    RETURN_IF_ERROR(fromNode(node, l->first, l->second, "--region"));
    out.region = l->second;
    out.region_source = l->first;
  } else {
    out.region = "default";
    out.region_source = "default";
  }
  if (flags.zone) {
    out.zone = *flags.zone;
    out.zone_source = "--zone";
  } else if (auto l = firstLabel(node_labels, {kZoneLabel, kOldZoneLabel})) {
    RETURN_IF_ERROR(fromNode(node, l->first, l->second, "--zone"));
    out.zone = l->second;
    out.zone_source = l->first;
  } else {
    out.zone_source = "none";
  }
  mergeLabels(node_labels, flags, out);
  return out;
}

}  // namespace shardcast::agent
