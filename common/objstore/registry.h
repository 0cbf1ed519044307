// ObjectStoreRegistry: the one place that maps a URI scheme to an ObjectStore
// backend. New origins (s3, gs, az, hf, oci) register here; nothing else in
// shardcast switches on schemes.
//
// Built once at start-up by the composition root, then read-only: open() is
// thread-safe; add() must not race with open().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/objstore/object_store.h"

namespace shardcast {

class ObjectStoreRegistry {
 public:
  using Factory = std::function<Result<std::unique_ptr<ObjectStore>>(
      const SourceSpec&, const ObjectStoreOptions&)>;

  void add(const std::string& scheme, Factory factory);
  // InvalidArgument naming the supported schemes when the scheme is unknown.
  Result<std::unique_ptr<ObjectStore>> open(const SourceSpec& source,
                                            const ObjectStoreOptions& options) const;
  bool supports(const std::string& scheme) const;
  std::vector<std::string> schemes() const;

  // A registry with every backend compiled into this build (http, https, file, s3, gs, az).
  static ObjectStoreRegistry withBuiltins();

 private:
  std::map<std::string, Factory> factories_;
};

}  // namespace shardcast
