// SourceLister: turns a rollout request's sources into a Manifest (DESIGN §3, §4
// step 1). It lists every replica through the ObjectStoreRegistry under a
// timeout, in parallel, requires the same paths and sizes in all of them,
// validates every path, and builds the piece layout with a pin per replica and
// the publisher's checksum where one is known. A listing the origin answered with
// 5xx/429 is retried up to 3 times (RetryPolicy, at most ~2 s in all).
//
// Errors carry the reasons the API answers with (422): source_unreachable,
// source_not_found, source_forbidden, source_invalid, source_error,
// sources_differ, empty_source; an unknown scheme is InvalidArgument (400).
// Messages name replicas without credentials, userinfo or query strings.
//
// Thread-safe (const; the registry is read-only after start-up). Does network
// I/O: never call it under a lock.
#pragma once

#include <string>

#include "common/api/rollout.h"
#include "common/manifest.h"
#include "common/objstore/registry.h"

namespace shardcast::controller {

class SourceLister {
 public:
  SourceLister(const ObjectStoreRegistry& registry, long list_timeout_ms);

  Result<Manifest> buildManifest(const api::RolloutRequest& request) const;

 private:
  Result<std::vector<ObjectInfo>> listReplica(const SourceSpec& spec) const;

  const ObjectStoreRegistry& registry_;
  long list_timeout_ms_;
};

// The URI without userinfo and query string, for messages and logs.
std::string redactUri(const std::string& uri);

}  // namespace shardcast::controller
