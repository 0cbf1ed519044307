// Model references ("name:version") and the validation rules of DESIGN §3.
//
// Names match [a-z0-9][a-z0-9._-]{0,127}; versions match
// [A-Za-z0-9][A-Za-z0-9._-]{0,127}. Both become path segments under the data
// directory, so nothing else is accepted. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardcast {

struct ModelRef {
  std::string name;
  std::string version;

  std::string toString() const { return name + ":" + version; }
  bool operator==(const ModelRef&) const = default;
  bool operator<(const ModelRef& o) const {
    return name != o.name ? name < o.name : version < o.version;
  }
};

Status validateModelName(std::string_view name);
Status validateModelVersion(std::string_view version);
// Splits at the first ':' and validates both halves.
Result<ModelRef> parseModelRef(std::string_view ref);

}  // namespace shardcast
