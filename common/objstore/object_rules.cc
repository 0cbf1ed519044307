#include "common/objstore/object_rules.h"

#include <algorithm>

#include "common/path_rules.h"

namespace shardcast {

Status checkRangeRequest(const std::string& where, const std::string& single_name,
                         const std::string& path, uint64_t offset, uint64_t length) {
  if (!single_name.empty() && path != single_name) {
    return notFound("no object '" + path.substr(0, 200) + "' in " + where);
  }
  RETURN_IF_ERROR(validateRelativePath(path));
  if (length > 0 && length - 1 > UINT64_MAX - offset) {
    return invalidArgument("range overflows 64 bits");
  }
  return Status::ok();
}

Result<std::vector<ObjectInfo>> finishListing(const std::string& where,
                                              std::vector<ObjectInfo> objects) {
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.path < b.path; });
  for (size_t i = 1; i < objects.size(); ++i) {
    if (objects[i].path == objects[i - 1].path) {
      return unavailable(where + ": listing names '" + objects[i].path + "' twice",
                         "origin_error");
    }
  }
  return objects;
}

}  // namespace shardcast
