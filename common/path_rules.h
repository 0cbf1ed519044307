// Validation of relative paths that come from the network or an object listing
// before they become paths under the data directory (DESIGN §3, §8).
//
// A valid path is relative, uses '/' separators, and has no empty, "." or ".."
// segment, no NUL, no backslash and no control characters. Pure; thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace shardcast {

inline constexpr size_t kMaxRelativePathBytes = 4096;
inline constexpr size_t kMaxPathSegmentBytes = 255;

Status validateRelativePath(std::string_view path);

}  // namespace shardcast
