// NodeTopology: the region, zone and labels an agent registers with, merged from
// its Kubernetes Node's labels (defaults) and the --region/--zone/--labels flags
// (which win). Pure: no I/O; KubeClient fetches the labels, Server applies the
// result before the first registration. Thread-safe (free functions on values).
//
//   region: --region, else topology.kubernetes.io/region, else the deprecated
//           failure-domain.beta.kubernetes.io/region, else "default";
//   zone:   --zone, else topology.kubernetes.io/zone, else
//           failure-domain.beta.kubernetes.io/zone, else "".
//   labels: every --labels entry, then the Node's labels in key order, minus
//           what the controller would refuse or what only adds noise:
//             - the deprecated beta.kubernetes.io/* and
//               failure-domain.beta.kubernetes.io/* (duplicates of kubernetes.io/*
//               and topology.kubernetes.io/*);
//             - keys over 253 or values over 253 characters, or with characters
//               outside printable ASCII (the controller's validateNodeInfo);
//           node-feature-discovery labels (feature.node.kubernetes.io/*, often
//           hundreds on GPU nodes) come last, and the total stops at kMaxLabels
//           (the controller accepts 64). `dropped` counts what was left out so
//           the agent can say so.
//
// A region or zone taken from the Node must pass validIdentifier (as the flags
// must); otherwise the result is an InvalidArgument naming the label and the
// flag that overrides it. Not responsible for fetching or for registration.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace shardcast::agent {

inline constexpr size_t kMaxLabels = 64;

struct TopologyFlags {
  std::optional<std::string> region;  // set when --region was given
  std::optional<std::string> zone;    // set when --zone was given
  std::map<std::string, std::string> labels;  // --labels
};

struct NodeTopology {
  std::string region;
  std::string zone;
  std::map<std::string, std::string> labels;
  std::string region_source;  // "--region", the label key, or "default"
  std::string zone_source;    // "--zone", the label key, or "none"
  size_t dropped = 0;         // Node labels left out
};

Result<NodeTopology> resolveNodeTopology(const std::string& node,
                                         const std::map<std::string, std::string>& node_labels,
                                         const TopologyFlags& flags);

}  // namespace shardcast::agent
