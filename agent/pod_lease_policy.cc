#include "agent/pod_lease_policy.h"

#include <cctype>

namespace shardcast::agent {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool PodLeasePolicy::looksLikePodUid(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

std::vector<std::string> PodLeasePolicy::leasesToDrop(const std::vector<Lease>& leases,
                                                      const PodListing& listing) const {
  std::vector<std::string> out;
  if (!listing.complete) return out;
  for (const auto& l : leases) {
    if (!looksLikePodUid(l.id)) continue;
    if (listing.live_uids.count(lower(l.id))) continue;
    if (l.renewed_at_ms > listing.requested_at_ms - options_.grace_ms) continue;
    out.push_back(l.id);
  }
  return out;
}

}  // namespace shardcast::agent
