#include "common/model_ref.h"

namespace shardcast {
namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool isPunct(char c) { return c == '.' || c == '_' || c == '-'; }

}  // namespace

Status validateModelName(std::string_view name) {
  if (name.empty() || name.size() > 128 || !isLowerAlnum(name[0])) {
    return invalidArgument("model name '" + std::string(name) +
                           "' must match [a-z0-9][a-z0-9._-]{0,127}");
  }
  for (char c : name) {
    if (!isLowerAlnum(c) && !isPunct(c)) {
      return invalidArgument("model name '" + std::string(name) +
                             "' must match [a-z0-9][a-z0-9._-]{0,127}");
    }
  }
  return Status::ok();
}

Status validateModelVersion(std::string_view version) {
  // The leading alphanumeric also rules out "." and "..".
  if (version.empty() || version.size() > 128 || !isAlnum(version[0])) {
    return invalidArgument("model version '" + std::string(version) +
                           "' must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  }
  for (char c : version) {
    if (!isAlnum(c) && !isPunct(c)) {
      return invalidArgument("model version '" + std::string(version) +
                             "' must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    }
  }
  return Status::ok();
}

Result<ModelRef> parseModelRef(std::string_view ref) {
  size_t colon = ref.find(':');
  if (colon == std::string_view::npos) {
    return invalidArgument("model reference '" + std::string(ref) +
                           "' must be NAME:VERSION, e.g. llama-3-8b:2024-07-01");
  }
  ModelRef m{std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
  RETURN_IF_ERROR(validateModelName(m.name));
  RETURN_IF_ERROR(validateModelVersion(m.version));
  return m;
}

}  // namespace shardcast
