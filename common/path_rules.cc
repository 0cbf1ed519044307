#include "common/path_rules.h"

#include <string>

namespace shardcast {

Status validateRelativePath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    std::string shown;
    for (char c : path.substr(0, 200)) {
      shown += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
    }
    return invalidArgument("invalid file path '" + shown + "': " + why);
  };
  if (path.empty()) return bad("empty path");
  if (path.size() > kMaxRelativePathBytes) return bad("longer than 4096 bytes");
  if (path.front() == '/') return bad("absolute paths are not allowed");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' and '..' segments are not allowed");
    if (seg.size() > kMaxPathSegmentBytes) return bad("a segment is longer than 255 bytes");
    start = end + 1;
  }
  for (char c : path) {
    if (c == '\0') return bad("NUL byte");
    if (c == '\\') return bad("backslash");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return bad("control character");
  }
  return Status::ok();
}

}  // namespace shardcast
