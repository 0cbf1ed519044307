// Rules every ObjectStore backend applies the same way: what a ranged read may
// ask for, and what a finished listing must look like. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/objstore/object_store.h"
#include "common/status.h"

namespace shardcast {

// Checks a readRange request against a store bound to `where` (describe()):
// a single-object store (single_name non-empty) serves only that name, the path
// must be a valid relative path, and offset + length must fit in 64 bits.
Status checkRangeRequest(const std::string& where, const std::string& single_name,
                         const std::string& path, uint64_t offset, uint64_t length);

// Sorts a listing by path and rejects a name listed twice (an origin bug that
// would otherwise make two manifests disagree).
Result<std::vector<ObjectInfo>> finishListing(const std::string& where,
                                              std::vector<ObjectInfo> objects);

}  // namespace shardcast
