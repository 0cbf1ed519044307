// Page-cache warming for the pre-warm hook (DESIGN §4.6): reads every regular file
// below a model directory after posix_fadvise(WILLNEED), so the pages land in the
// page cache of (and are charged to) the process that runs it — the inference
// pod's initContainer. Symlinks are not followed.
//
// A free function; thread-safe. Progress goes to `progress` (may be null).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace shardcast::cli {

struct WarmResult {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

Result<WarmResult> warmPageCache(const std::string& dir,
                                 const std::function<void(uint64_t done)>& progress = nullptr);

}  // namespace shardcast::cli
